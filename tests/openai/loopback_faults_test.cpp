// The in-process loopback server's seeded faults driven through the real client: every fault kind turns
// into the matching attempt kind, every transient fault is retried, and the client's attempt count is the
// server's request count.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

#include "harness/openai/openai_backend.h"
#include "tests/support/fault_plan.h"
#include "tests/support/loopback_server.h"

namespace hb::openai {
namespace {

using hb::testing::FaultKind;
using hb::testing::FaultSpec;

TEST(LoopbackFaults, SpecsParseAndBadOnesNameTheText) {
  auto s = hb::testing::parse_fault_spec("drop:0.03", 10);
  EXPECT_EQ(s.kind, FaultKind::drop);
  EXPECT_DOUBLE_EQ(s.rate, 0.03);
  EXPECT_EQ(s.seed, 12u);
  EXPECT_EQ(hb::testing::parse_fault_spec("429:1:77", 10).seed, 77u);
  for (const char* bad : {"drop", "drip:0.1", "drop:x", "drop:1.5", "drop:-0.1", "drop:0.1:z", "drop:nan"}) {
    try {
      hb::testing::parse_fault_spec(bad, 1);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(LoopbackFaults, SameSeedSameFaultsAndEachKindHasItsOwnStream) {
  auto draws = [](std::vector<FaultSpec> specs) {
    hb::testing::FaultInjector inj(std::move(specs));
    std::string out;
    for (int i = 0; i < 400; ++i) {
      auto f = inj.draw();
      out += f ? hb::testing::fault_name(*f)[0] : '.';
    }
    return out;
  };
  std::string a = draws({{FaultKind::drop, 0.1, 5}});
  EXPECT_EQ(a, draws({{FaultKind::drop, 0.1, 5}}));
  EXPECT_NE(a, draws({{FaultKind::drop, 0.1, 6}}));
  size_t drops = std::count(a.begin(), a.end(), 'd');
  EXPECT_GT(drops, 20u);
  EXPECT_LT(drops, 70u);
  // Adding a second kind (listed after) does not move the drops.
  std::string b = draws({{FaultKind::drop, 0.1, 5}, {FaultKind::stall, 0.1, 9}});
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] == 'd') EXPECT_EQ(b[i], 'd') << i;
}

TEST(LoopbackFaults, EveryFaultKindIsRetriedAndAttemptsMatchTheServer) {
  hb::testing::LoopbackServer server;
  std::vector<FaultSpec> specs;
  uint64_t seed = 40;
  for (FaultKind k : {FaultKind::rate_limit, FaultKind::close, FaultKind::drop, FaultKind::invalid_json,
                      FaultKind::stall, FaultKind::error_event})
    specs.push_back({k, 0.06, seed++});
  server.faults(specs, "0");
  OpenAiOptions o;
  o.base_urls = {server.base_url()};
  o.model_name = "m";
  o.api_key_env = "HB_TEST_UNSET_KEY_VARIABLE";
  o.idle_timeout_s = 0.3;
  o.max_attempts = 10;
  o.backoff_base_s = 0.01;
  o.backoff_max_s = 0.05;
  o.max_in_flight = 32;
  auto b = make_openai_backend(o);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<GenerationResult> results;
  const size_t n = 150;
  for (size_t i = 0; i < n; ++i) {
    GenerationRequest r;
    r.id = std::to_string(i);
    r.messages = {{"user", "q" + std::to_string(i)}};
    b->submit(std::move(r), [&](GenerationResult res) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(res));
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(90), [&] { return results.size() == n; }));
  }
  std::map<std::string, size_t> kinds;
  size_t attempts = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok()) << r.error->kind << ": " << r.error->message;
    EXPECT_EQ(r.content, "The answer is 42.\n#### 42") << "only the final, whole answer";
    attempts += static_cast<size_t>(r.attempts);
    for (const auto& a : r.attempt_log) kinds[a.kind]++;
  }
  std::map<std::string, size_t> injected;
  for (const auto& req : server.requests())
    injected[req.fault ? hb::testing::fault_name(*req.fault) : "none"]++;
  EXPECT_EQ(attempts, server.request_count());
  EXPECT_EQ(kinds["ok"], n);
  EXPECT_EQ(kinds["http_429"], injected["429"]);
  EXPECT_EQ(kinds["connect"] + kinds["resent"], injected["close"]);
  EXPECT_EQ(kinds["truncated"], injected["drop"]);
  EXPECT_EQ(kinds["protocol"], injected["invalid-json"]);
  EXPECT_EQ(kinds["timeout"], injected["stall"]);
  EXPECT_EQ(kinds["server_error"], injected["error-event"]);
  for (const char* f : {"429", "close", "drop", "invalid-json", "stall", "error-event"}) EXPECT_GT(injected[f], 0u) << f;
}

}  // namespace
}  // namespace hb::openai
