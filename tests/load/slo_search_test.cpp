// `--concurrency auto`: the SLO search against the in-process loopback server with a load-dependent latency
// model (inter-token delay = 10 ms x streams in flight when the request arrived), so the answer is known:
// TPOT <= 47 ms for 75% of requests holds up to 4 streams (40 ms) and fails from 5 (50 ms). p75, not p99:
// on this shared 2-core machine one request in twelve can be late by tens of ms.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>

#include "harness/base/clock.h"
#include "harness/load/slo_search.h"
#include "harness/openai/openai_backend.h"
#include "harness/store/store.h"
#include "tests/support/loopback_server.h"

namespace hb::load {
namespace {

using hb::testing::LoggedRequest;
using hb::testing::LoopbackServer;
using hb::testing::Reply;
namespace fs = std::filesystem;

constexpr int kTokens = 8;
constexpr int kItlPerStreamMs = 10;

// Every request's expected end is decided at arrival: a request counts as in flight until then. Timers only
// fire late, so a finished request's expected end is never after the next arrival on its slot.
class LoadDependentServer {
 public:
  LoadDependentServer() {
    server_.script([this](const LoggedRequest&, int) {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t now = monotonic_ns();
      while (!ends_.empty() && ends_.front() <= now) ends_.pop_front();
      int active = 1;
      for (int64_t e : ends_) active += e > now;
      auto itl = std::chrono::milliseconds(kItlPerStreamMs * active);
      std::vector<std::string> pieces(kTokens, " t");
      Reply r = Reply::chat(pieces, {}, "length");
      r.first_event_delay = itl;
      r.event_delay = itl;
      // role + 8 tokens + finish + usage = 11 events after the first delay: at least 11 gaps.
      int64_t end = now + 11 * std::chrono::duration_cast<std::chrono::nanoseconds>(itl).count();
      ends_.insert(std::upper_bound(ends_.begin(), ends_.end(), end), end);
      return r;
    });
  }
  LoopbackServer server_;
  std::mutex mu_;
  std::deque<int64_t> ends_;
};

// An OpenAI backend on the load-dependent server, one attempt per request.
std::unique_ptr<hb::Backend> loopback_backend(LoadDependentServer& lds) {
  openai::OpenAiOptions bo;
  bo.base_urls = {lds.server_.base_url()};
  bo.model_name = "loopback";
  bo.api_key_env = "HB_TEST_UNSET_KEY_VARIABLE";
  bo.max_attempts = 1;
  return openai::make_openai_backend(bo);
}

TEST(SloSearch, FindsTheHighestConcurrencyMeetingTheSloStoresEveryProbeAndResumes) {
  char tmpl[] = "/tmp/hb_slo_search_XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  LoadDependentServer lds;
  openai::OpenAiOptions bo;
  bo.base_urls = {lds.server_.base_url()};
  bo.model_name = "loopback";
  bo.api_key_env = "HB_TEST_UNSET_KEY_VARIABLE";
  bo.max_in_flight = 64;
  bo.max_attempts = 1;
  bo.idle_timeout_s = 5;
  auto backend = openai::make_openai_backend(bo);
  SweepOptions o;
  o.model_name = "loopback";
  o.shapes = {{10, kTokens}};
  o.requests = 12;
  o.slo = parse_slo("tpot_p75=47");
  SearchOptions s;
  s.kind = LoadKind::concurrency;
  s.max_load = 64;
  store::Store store((dir / "h.db").string());
  auto run = store.open_run("auto", "sweep", {{"x", 1}});
  int64_t model = store.ensure_model({"openai:test", "loopback", {}, {}, {}, {}, nlohmann::json::object()});

  SearchOutcome out = search_max_load(*backend, o, s, &store, run.id, model);
  ASSERT_EQ(out.shapes.size(), 1u);
  const ShapeSearch& ss = out.shapes[0];
  ASSERT_TRUE(ss.best) << ss.to_json().dump();
  EXPECT_EQ(ss.best->load.value, 4) << ss.to_json().dump();
  ASSERT_TRUE(ss.below && ss.above);
  EXPECT_EQ(ss.below->load.value, 2);
  EXPECT_EQ(ss.above->load.value, 5);
  EXPECT_FALSE(ss.above->pass);
  EXPECT_FALSE(ss.capped);
  // Probes: 1, 2, 4, 8 (fails), then bisection 6, 5.
  std::vector<double> probed;
  for (const auto& p : ss.probes) probed.push_back(p.load.value);
  EXPECT_EQ(probed, (std::vector<double>{1, 2, 4, 8, 6, 5}));
  store.flush();
  auto q = store.reader().prepare("SELECT COUNT(*) FROM perf_points WHERE run_id=? AND status='finished'");
  q.bind(1, run.id);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 6) << "every probe is a stored point";
  std::string text = render_search(out.shapes, o.slo);
  EXPECT_NE(text.find("highest concurrency meeting TPOT <= 47 ms at p75: 4"), std::string::npos) << text;
  EXPECT_NE(text.find("fails"), std::string::npos) << text;
  auto j = ss.to_json();
  EXPECT_EQ(j["best"]["concurrency"], 4);
  EXPECT_EQ(j["probes"].size(), 6u);

  // The same search again: every probe is already stored, nothing is requested, same answer.
  size_t requests = lds.server_.request_count();
  SearchOutcome again = search_max_load(*backend, o, s, &store, run.id, model);
  EXPECT_EQ(lds.server_.request_count(), requests);
  ASSERT_TRUE(again.shapes[0].best);
  EXPECT_EQ(again.shapes[0].best->load.value, 4);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(SloSearch, NoLoadMeetsAnImpossibleSloAndAPercentileIsRequired) {
  LoadDependentServer lds;
  auto backend = loopback_backend(lds);
  SweepOptions o;
  o.shapes = {{10, kTokens}};
  o.requests = 3;
  o.slo = parse_slo("tpot_p99=1");
  SearchOptions s;
  auto out = search_max_load(*backend, o, s, nullptr, 0, 0);
  ASSERT_EQ(out.shapes.size(), 1u);
  EXPECT_FALSE(out.shapes[0].best);
  ASSERT_TRUE(out.shapes[0].above);
  EXPECT_EQ(out.shapes[0].above->load.value, 1);
  EXPECT_NE(render_search(out.shapes, o.slo).find("no concurrency meets"), std::string::npos);
  o.slo = parse_slo("tpot_ms=1");
  EXPECT_THROW(search_max_load(*backend, o, s, nullptr, 0, 0), Error);
}

// `--rate auto` against an SLO that even a lone request misses (TPOT <= 1 ms; the server's is 10 ms): the rate
// is halved only while requests still overlap. Once a failing probe ran with well under one request in flight
// on average, lower rates are not probed (each would take twice as long: 100 requests at the 0.01 req/s floor
// take hours) and the verdict says why.
TEST(SloSearch, RateSearchStopsHalvingOnceRequestsRunAlone) {
  LoadDependentServer lds;
  auto backend = loopback_backend(lds);
  SweepOptions o;
  o.shapes = {{10, kTokens}};
  o.requests = 4;
  o.slo = parse_slo("tpot_p99=1");
  SearchOptions s;
  s.kind = LoadKind::rate;
  s.start = 8;
  s.max_load = 64;
  auto out = search_max_load(*backend, o, s, nullptr, 0, 0);
  ASSERT_EQ(out.shapes.size(), 1u);
  const ShapeSearch& ss = out.shapes[0];
  EXPECT_FALSE(ss.best);
  EXPECT_TRUE(ss.alone_fails) << ss.to_json().dump();
  for (const auto& p : ss.probes) EXPECT_GE(p.load.value, 0.5) << ss.to_json().dump();
  EXPECT_LE(ss.probes.size(), 5u);
  EXPECT_TRUE(ss.to_json()["alone_fails"].get<bool>());
  EXPECT_NE(render_search(out.shapes, o.slo).find("requests running alone already miss it"), std::string::npos);
}

}  // namespace
}  // namespace hb::load
