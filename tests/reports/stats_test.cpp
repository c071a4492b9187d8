#include <gtest/gtest.h>

#include <cmath>

#include "reports/stats/distributions.h"
#include "reports/stats/holm.h"
#include "reports/stats/intervals.h"
#include "reports/stats/mann_whitney.h"
#include "reports/stats/paired.h"
#include "reports/stats/rng.h"

namespace hb::reports::stats {
namespace {

TEST(Distributions, KnownValues) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 1e-6);
  EXPECT_NEAR(z_for_confidence(0.90), 1.644854, 1e-6);
  EXPECT_NEAR(normal_cdf(1.0), 0.841345, 1e-6);
  EXPECT_NEAR(binomial_cdf(2, 12, 0.5), 79.0 / 4096.0, 1e-12);
  EXPECT_NEAR(binomial_sf(10, 12, 0.5), 79.0 / 4096.0, 1e-12);
  EXPECT_NEAR(chi2_1_sf(3.841459), 0.05, 1e-6);
}

TEST(Intervals, WilsonMatchesTextbook) {
  auto w = wilson(8, 10);
  EXPECT_NEAR(w.low, 0.4902, 1e-4);
  EXPECT_NEAR(w.high, 0.9433, 1e-4);
  auto z = wilson(0, 20);
  EXPECT_EQ(z.low, 0.0);
  EXPECT_NEAR(z.high, 0.1611, 1e-4);
}

TEST(Intervals, MeanSeAndClt) {
  auto e = mean_se({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(e.mean, 0.75);
  EXPECT_NEAR(e.se, 0.25, 1e-12);  // sd = 0.5, / sqrt(4)
  auto ci = clt_interval(e);
  EXPECT_NEAR(ci.low, 0.75 - 1.959964 * 0.25, 1e-6);
}

TEST(Intervals, MultiSampleSeIsOverProblems) {
  // 30 problems, 16 samples each; each problem is either always right or always wrong. Per-sample SE would
  // count 480 units and be ~4x too narrow; the item-level SE counts 30.
  std::vector<std::vector<double>> items;
  for (int i = 0; i < 30; ++i) items.push_back(std::vector<double>(16, i < 15 ? 1.0 : 0.0));
  auto e = over_items(items);
  EXPECT_EQ(e.n, 30);
  EXPECT_DOUBLE_EQ(e.mean, 0.5);
  EXPECT_NEAR(e.se, std::sqrt(0.25 * 30 / 29 / 30), 1e-12);
  auto c = clustered(items);
  EXPECT_DOUBLE_EQ(c.mean, 0.5);
  EXPECT_NEAR(c.se, e.se, 1e-12);  // equal cluster sizes: CR1 equals the item-level SE
  std::vector<double> flat;
  for (auto& it : items) flat.insert(flat.end(), it.begin(), it.end());
  EXPECT_GT(e.se, 3.5 * mean_se(flat).se);
}

TEST(McNemar, ExactAndChiSquare) {
  auto m = mcnemar(10, 2);
  EXPECT_TRUE(m.exact);
  EXPECT_NEAR(m.p_two_sided, 158.0 / 4096.0, 1e-12);
  EXPECT_NEAR(m.p_worse, 79.0 / 4096.0, 1e-12);
  auto big = mcnemar(30, 10);
  EXPECT_FALSE(big.exact);
  EXPECT_NEAR(big.statistic, 9.025, 1e-12);
  EXPECT_NEAR(big.p_two_sided, 0.002663, 1e-6);
  EXPECT_DOUBLE_EQ(mcnemar(0, 0).p_two_sided, 1.0);
  auto v = mcnemar(std::vector<double>{1, 1, 0, 0, 1}, std::vector<double>{0, 1, 1, 0, 0});
  EXPECT_EQ(v.a_only, 2);
  EXPECT_EQ(v.b_only, 1);
}

TEST(MannWhitney, ExactSmallSamples) {
  auto r = mann_whitney({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_less, 0.05, 1e-12);
  EXPECT_NEAR(r.p_two_sided, 0.10, 1e-12);
  auto s = mann_whitney({1, 5, 3, 7}, {2, 4, 6, 8});
  EXPECT_DOUBLE_EQ(s.u, 6);                   // 1 beats 0, 5 beats 2, 3 beats 1, 7 beats 3
  EXPECT_NEAR(s.p_less, 24.0 / 70.0, 1e-12);  // P(U <= 6) for m = n = 4
}

TEST(MannWhitney, NormalApproximationWithTies) {
  std::vector<double> x(30, 1.0), y(30, 2.0);
  for (int i = 0; i < 10; ++i) x[static_cast<size_t>(i)] = 2.0;
  auto r = mann_whitney(x, y);
  EXPECT_FALSE(r.exact);
  EXPECT_LT(r.p_less, 1e-4);
  EXPECT_GT(r.p_greater, 0.99);
}

TEST(Holm, StepDown) {
  auto a = holm({0.01, 0.04, 0.03, 0.005});
  EXPECT_NEAR(a[0], 0.03, 1e-12);
  EXPECT_NEAR(a[1], 0.06, 1e-12);
  EXPECT_NEAR(a[2], 0.06, 1e-12);
  EXPECT_NEAR(a[3], 0.02, 1e-12);
  EXPECT_TRUE(holm({}).empty());
}

// Simulated paired binary data with known discordance: P(A right, B wrong) = a_only, P(A wrong, B right) =
// b_only, concordant otherwise (right with probability 0.7). The true delta is b_only - a_only.
void simulate(Rng& rng, size_t n, double a_only, double b_only, std::vector<double>& a, std::vector<double>& b) {
  a.assign(n, 0);
  b.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    double u = rng.uniform();
    if (u < a_only) {
      a[i] = 1;
    } else if (u < a_only + b_only) {
      b[i] = 1;
    } else {
      a[i] = b[i] = rng.uniform() < 0.7 ? 1 : 0;
    }
  }
}

TEST(PairedBootstrap, DeterministicGivenSeed) {
  Rng rng(1);
  std::vector<double> a, b;
  simulate(rng, 300, 0.06, 0.03, a, b);
  auto r1 = paired_bootstrap(a, b, 2000, 42);
  auto r2 = paired_bootstrap(a, b, 2000, 42);
  EXPECT_EQ(r1.ci.low, r2.ci.low);
  EXPECT_EQ(r1.p_two_sided, r2.p_two_sided);
  auto r3 = paired_bootstrap(a, b, 2000, 43);
  EXPECT_NE(r1.se, r3.se);
}

TEST(PairedBootstrap, FalseAlarmRateCoverageAndPowerOnSimulatedData) {
  Rng rng(7);
  int false_alarms = 0, detections = 0, covered = 0, small_flagged = 0;
  const int trials = 200;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> a, b;
    simulate(rng, 500, 0.03, 0.03, a, b);  // true delta 0
    auto null = paired_bootstrap(a, b, 1000, static_cast<uint64_t>(t));
    false_alarms += null.p_two_sided < 0.05 ? 1 : 0;
    simulate(rng, 500, 0.06, 0.01, a, b);  // true delta -0.05
    auto alt = paired_bootstrap(a, b, 1000, static_cast<uint64_t>(t));
    detections += alt.p_two_sided < 0.05 && alt.delta < 0 ? 1 : 0;
    covered += alt.ci.low <= -0.05 && alt.ci.high >= -0.05 ? 1 : 0;
    simulate(rng, 500, 0.035, 0.025, a, b);  // true delta -0.01
    auto small = paired_bootstrap(a, b, 1000, static_cast<uint64_t>(t));
    small_flagged += small.p_two_sided < 0.05 ? 1 : 0;
  }
  EXPECT_LE(false_alarms, 20) << "about 5% of 200 expected";
  EXPECT_GE(detections, 190) << "a 5-point drop on 500 paired items is detected almost always";
  EXPECT_GE(covered, 180) << "the 95% interval covers the true delta about 95% of the time";
  EXPECT_LE(small_flagged, 100) << "a 1-point change on 500 items is usually not significant";
}

TEST(PairedBootstrap, AgreesWithMcNemarOnBinaryData) {
  // 25 items A right/B wrong, 5 the other way, 470 concordant.
  std::vector<double> a(500, 1), b(500, 1);
  for (int i = 0; i < 25; ++i) b[static_cast<size_t>(i)] = 0;
  for (int i = 25; i < 30; ++i) a[static_cast<size_t>(i)] = 0;
  for (int i = 30; i < 150; ++i) a[static_cast<size_t>(i)] = b[static_cast<size_t>(i)] = 0;
  auto bs = paired_bootstrap(a, b, 10000, 3);
  auto mc = mcnemar(a, b);
  EXPECT_NEAR(bs.delta, -0.04, 1e-12);
  EXPECT_LT(bs.p_two_sided, 0.01);
  EXPECT_LT(mc.p_two_sided, 0.01);
  EXPECT_NEAR(bs.se, std::sqrt((30.0 / 500 - 0.04 * 0.04) / 500), 0.001);
}

TEST(NonInferiority, MarginDecides) {
  // Nested correctness: the candidate loses exactly 10 of 500 items (delta = -0.02).
  std::vector<double> a(500, 0), b(500, 0);
  for (int i = 0; i < 400; ++i) a[static_cast<size_t>(i)] = 1;
  for (int i = 0; i < 390; ++i) b[static_cast<size_t>(i)] = 1;
  auto wide = non_inferiority(a, b, 0.04);
  EXPECT_NEAR(wide.delta, -0.02, 1e-12);
  // One-sided 95% lower bound ~ -0.02 - 1.645 * sqrt(0.02 * 0.98 / 500) = -0.0303
  EXPECT_NEAR(wide.lower, -0.0303, 0.002);
  EXPECT_TRUE(wide.passed);
  EXPECT_LT(wide.p, 0.05);
  auto tight = non_inferiority(a, b, 0.02);
  EXPECT_FALSE(tight.passed);
  EXPECT_GT(tight.p, 0.05);
  auto same = non_inferiority(a, a, 0.01);
  EXPECT_TRUE(same.passed);
}

}  // namespace
}  // namespace hb::reports::stats
