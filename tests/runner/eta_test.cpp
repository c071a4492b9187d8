// The eval ETA: nothing before the first completion, then within a quarter of the truth from the first
// completions on, with no wild jumps, for simulated closed-loop evals (the runner keeps `concurrency`
// samples in flight).
#include <gtest/gtest.h>

#include <cmath>
#include <queue>
#include <random>

#include "harness/runner/eta.h"

namespace hb::runner {
namespace {

constexpr int64_t kS = 1'000'000'000;

struct Sim {
  std::vector<int64_t> finish_times;  // of every sample, in completion order
  int64_t end = 0;
};

// A closed loop of `concurrency` slots over `durations`, feeding the estimator; `probe` is called every
// second with (now, eta or -1).
template <typename Probe>
Sim simulate(const std::vector<double>& durations, int concurrency, EtaEstimator& eta, Probe probe) {
  using Ev = std::pair<int64_t, int64_t>;  // (end, start)
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> running;
  size_t next = 0;
  Sim sim;
  auto start = [&](int64_t t) {
    int64_t d = static_cast<int64_t>(durations[next++] * kS);
    running.push({t + d, t});
    eta.started(t);
  };
  while (next < durations.size() && static_cast<int>(running.size()) < concurrency) start(0);
  int64_t t = 0;
  while (!running.empty()) {
    int64_t tick = t + kS;
    while (!running.empty() && running.top().first <= tick) {
      auto [end, begun] = running.top();
      running.pop();
      eta.finished(begun, end);
      sim.finish_times.push_back(end);
      if (next < durations.size()) start(end);
    }
    t = tick;
    auto e = eta.eta_s(t);
    probe(t, e ? *e : -1.0);
  }
  sim.end = sim.finish_times.back();
  return sim;
}

TEST(Eta, NothingBeforeTheFirstCompletionThenCloseToTheTruth) {
  // 480 samples (AIME 30 x 16) at concurrency 16, 55-65 s each: the first completion after ~55 s.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> d(55, 65);
  std::vector<double> durations(480);
  for (auto& x : durations) x = d(rng);
  EtaEstimator dry(480, 16);
  Sim truth = simulate(durations, 16, dry, [](int64_t, double) {});
  EtaEstimator eta(480, 16);
  double prev = -1;
  int shown = 0;
  simulate(durations, 16, eta, [&](int64_t now, double e) {
    if (now < 55 * kS) EXPECT_LT(e, 0) << "no ETA before the first completion (t=" << now / kS << " s)";
    if (e < 0) return;
    ++shown;
    double left = static_cast<double>(truth.end - now) / kS;
    if (left > 60) EXPECT_NEAR(e / left, 1.0, 0.25) << "t=" << now / kS << " s: ETA " << e << " s, truth " << left;
    if (prev > 0 && left > 60) EXPECT_LT(std::fabs(e - prev), 0.1 * prev + 5) << "a jump at t=" << now / kS;
    prev = e;
  });
  EXPECT_GT(shown, 1500);
  EXPECT_EQ(EtaEstimator(10, 4).text(0), "after the first completions");
}

// Long-tailed durations (reasoning traces: most 20 s, some 5 min): the first completions are the short ones,
// which must not make the ETA collapse; it stays within a factor of 2 once two minutes have passed, until
// the queue drains.
TEST(Eta, FastFirstAnswersDoNotCollapseTheEstimate) {
  std::mt19937 rng(11);
  std::lognormal_distribution<double> d(std::log(30.0), 0.9);
  std::vector<double> durations(400);
  for (auto& x : durations) x = std::min(600.0, d(rng));
  EtaEstimator dry(400, 16);
  Sim truth = simulate(durations, 16, dry, [](int64_t, double) {});
  EtaEstimator eta(400, 16);
  simulate(durations, 16, eta, [&](int64_t now, double e) {
    double left = static_cast<double>(truth.end - now) / kS;
    // Until the queue drains (the last stragglers then decide the end, whatever any estimate says).
    if (e < 0 || now < 120 * kS || now > truth.end * 7 / 10) return;
    EXPECT_GT(e / left, 0.5) << "t=" << now / kS;
    EXPECT_LT(e / left, 2.0) << "t=" << now / kS;
  });
}

TEST(Eta, FormatsDurations) {
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(725), "12m05s");
  EXPECT_EQ(format_duration(5940), "1h39m");
  EXPECT_EQ(format_duration(-3), "0s");
}

}  // namespace
}  // namespace hb::runner
