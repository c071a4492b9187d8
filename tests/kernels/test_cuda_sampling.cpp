// GPU per-row sampling (kernels/cuda/sampling.cu) against the CPU sampler's rules (models/sampler.cpp).
// Label "gpu"; every test skips itself when no CUDA device is visible (CI).
//
// The exact distribution of each row is computed on the host by the rules of hb::models::Sampler (bans,
// greedy, top-k, min-p, top-p over the top-k-normalised mass, ties by lower id); the reference itself is
// checked against the CPU Sampler's own draws. A GPU call then draws many rows with distinct seeds and the
// empirical frequencies must match: no token outside the kept set may ever be drawn, and every group of
// tokens (each token with p >= 2%, the rest pooled in descending order into groups of ~2% mass) must be
// within 5 standard deviations + 0.002 of its probability (a false alarm is ~1e-5 per run; a filter that
// keeps or drops a token of >= 2% mass is caught). Each configuration runs on fp32 and bf16 logits, on the
// shared-memory candidate path and on the forced general (bisection) path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/ops_cuda.h"
#include "models/sampler.h"

namespace {

namespace kc = hb::kernels::cuda;
using torch::Tensor;

bool have_cuda() { return torch::cuda::is_available() && torch::cuda::device_count() > 0; }

#define NEED_CUDA() \
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device visible"

struct Cfg {
  float T = 1.f;
  int top_k = -1;
  float top_p = 1.f, min_p = 0.f;
  std::vector<int32_t> banned;
  std::string name() const {
    std::ostringstream s;
    s << "T=" << T << " top_k=" << top_k << " top_p=" << top_p << " min_p=" << min_p << " bans=" << banned.size();
    return s.str();
  }
};

// The CPU sampler's rules (models/sampler.cpp) as an exact distribution over ids.
std::vector<double> ref_probs(const std::vector<float>& logits_in, const Cfg& c) {
  const size_t V = logits_in.size();
  std::vector<float> l = logits_in;
  for (auto b : c.banned) {
    if (b >= 0 && size_t(b) < V) l[b] = -INFINITY;
  }
  std::vector<double> out(V, 0.0);
  if (c.T <= 0.f) {
    out[std::max_element(l.begin(), l.end()) - l.begin()] = 1.0;
    return out;
  }
  std::vector<int32_t> idx(V);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
  size_t keep = V;
  if (c.top_k > 0) keep = std::min(keep, size_t(c.top_k));
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += p[i] = std::exp((double(l[idx[i]]) - double(l[idx[0]])) / c.T);
  for (auto& v : p) v /= sum;
  if (c.min_p > 0) {
    size_t k = 0;
    while (k < keep && p[k] >= c.min_p * p[0]) ++k;
    keep = std::max<size_t>(k, 1);
  }
  if (c.top_p < 1.0) {
    double cum = 0;
    size_t k = 0;
    while (k < keep) {
      cum += p[k++];
      if (cum >= c.top_p) break;
    }
    keep = std::max<size_t>(k, 1);
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += p[i];
  for (size_t i = 0; i < keep; ++i) out[idx[i]] = p[i] / total;
  return out;
}

// log-softmax of the raw logits, bans ignored (what the sampler reports as logprob: docs/ENGINE.md).
std::vector<double> ref_logsoftmax(const std::vector<float>& logits) {
  std::vector<double> l(logits.begin(), logits.end());
  const double mx = *std::max_element(l.begin(), l.end());
  double z = 0;
  for (double v : l) z += std::exp(v - mx);
  for (auto& v : l) v = v - mx - std::log(z);
  return l;
}

// Fails when a token with p == 0 was drawn or a group's frequency is off (see the header comment).
void check_freq(const std::vector<double>& p, const std::vector<int64_t>& counts, int64_t N, const std::string& what) {
  const size_t V = p.size();
  int64_t outside = 0;
  for (size_t i = 0; i < V; ++i) {
    if (p[i] == 0.0 && counts[i] > 0) {
      if (outside < 5) ADD_FAILURE() << what << ": drew id " << i << " (" << counts[i] << " times) outside the kept set";
      ++outside;
    }
  }
  EXPECT_EQ(outside, 0) << what;
  std::vector<int32_t> idx(V);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  double gp = 0;
  int64_t gc = 0;
  size_t first = 0;
  for (size_t r = 0; r < V && p[idx[r]] > 0; ++r) {
    gp += p[idx[r]];
    gc += counts[idx[r]];
    const bool last = r + 1 == V || p[idx[r + 1]] == 0;
    if (gp >= 0.02 || last) {
      const double f = double(gc) / double(N), sd = std::sqrt(gp * (1 - gp) / double(N));
      EXPECT_LE(std::fabs(f - gp), 5 * sd + 0.002) << what << ": ids of rank " << first << ".." << r << " (first id " << idx[first]
                                                   << ") frequency " << f << " vs probability " << gp;
      gp = 0;
      gc = 0;
      first = r + 1;
    }
  }
}

struct Draws {
  std::vector<int64_t> tokens;
  std::vector<float> logprob;
};

// One sample() call over rows: row r uses configuration cfgs[cfg_of[r]] and seed seed_base + r.
Draws run(const Tensor& logits, const std::vector<Cfg>& cfgs, const std::vector<int>& cfg_of, int64_t seed_base, int64_t step = 0) {
  const int64_t B = int64_t(cfg_of.size());
  size_t nb = 0;
  for (const auto& c : cfgs) nb = std::max(nb, c.banned.size());
  std::vector<float> T(B), tp(B), mp(B);
  std::vector<int32_t> tk(B), ban(size_t(B) * nb, -1);
  std::vector<int64_t> seed(B);
  for (int64_t r = 0; r < B; ++r) {
    const Cfg& c = cfgs[cfg_of[r]];
    T[r] = c.T;
    tp[r] = c.top_p;
    mp[r] = c.min_p;
    tk[r] = c.top_k;
    seed[r] = seed_base + r;
    std::copy(c.banned.begin(), c.banned.end(), ban.begin() + r * nb);
  }
  auto dev = [](Tensor t) { return t.to(torch::kCUDA); };
  kc::SampleRows rows{dev(torch::tensor(T)), dev(torch::tensor(tk, torch::kInt32)), dev(torch::tensor(tp)),
                      dev(torch::tensor(mp)), dev(torch::tensor(seed, torch::kInt64)), Tensor()};
  if (nb > 0) rows.banned = dev(torch::tensor(ban, torch::kInt32).view({B, int64_t(nb)}));
  auto i64 = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kInt64);
  auto tokens = torch::full({B}, -7, i64);
  auto lp = torch::full({B}, 99.f, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat32));
  auto st = torch::full({1}, step, i64);
  kc::sample(logits, rows, st, tokens, &lp);
  torch::cuda::synchronize();
  auto ht = tokens.cpu(), hl = lp.cpu();
  return {std::vector<int64_t>(ht.data_ptr<int64_t>(), ht.data_ptr<int64_t>() + B),
          std::vector<float>(hl.data_ptr<float>(), hl.data_ptr<float>() + B)};
}

std::vector<float> host_row(const Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Checks every configuration's rows of `d` (logits row of configuration c: host_logits[c]).
void check_draws(const Draws& d, const std::vector<std::vector<float>>& host_logits, const std::vector<Cfg>& cfgs,
                 const std::vector<int>& cfg_of, const std::string& what) {
  const size_t V = host_logits[0].size();
  for (size_t c = 0; c < cfgs.size(); ++c) {
    const auto p = ref_probs(host_logits[c], cfgs[c]);
    const auto ls = ref_logsoftmax(host_logits[c]);
    std::vector<int64_t> counts(V, 0);
    int64_t N = 0, bad_lp = 0, bad_id = 0;
    for (size_t r = 0; r < cfg_of.size(); ++r) {
      if (cfg_of[r] != int(c)) continue;
      const int64_t t = d.tokens[r];
      if (t < 0 || t >= int64_t(V)) {
        ++bad_id;
        continue;
      }
      ++N;
      ++counts[t];
      if (!(std::fabs(double(d.logprob[r]) - ls[t]) <= 1e-3)) {
        if (bad_lp < 3) ADD_FAILURE() << what << " " << cfgs[c].name() << ": logprob " << d.logprob[r] << " vs " << ls[t] << " for id " << t;
        ++bad_lp;
      }
    }
    EXPECT_EQ(bad_id, 0) << what << " " << cfgs[c].name();
    EXPECT_EQ(bad_lp, 0) << what << " " << cfgs[c].name();
    if (cfgs[c].T <= 0.f) {
      const int64_t want = std::max_element(p.begin(), p.end()) - p.begin();
      EXPECT_EQ(counts[want], N) << what << " " << cfgs[c].name() << ": greedy must always pick id " << want;
    } else {
      check_freq(p, counts, N, what + " " + cfgs[c].name());
    }
  }
}

// The reference distribution is the CPU sampler's: its own draws follow it.
TEST(CudaSampling, ReferenceMatchesCpuSampler) {
  std::mt19937 g(3);
  std::normal_distribution<float> nd(0.f, 2.f);
  std::vector<float> l(203);
  for (auto& v : l) v = std::round(nd(g) * 4.f) / 4.f;  // many ties
  const std::vector<Cfg> cfgs = {{0.6f, 50, 0.9f, 0.05f, {3}}, {1.f, 7, 1.f, 0.f, {}}, {1.3f, -1, 0.6f, 0.f, {1, 2}}};
  for (const auto& c : cfgs) {
    hb::models::SamplerConfig sc;
    sc.temperature = c.T;
    sc.top_k = c.top_k;
    sc.top_p = c.top_p;
    sc.min_p = c.min_p;
    sc.seed = 11;
    hb::models::Sampler s(sc);
    const int64_t N = 20000;
    std::vector<int64_t> counts(l.size(), 0);
    for (int64_t i = 0; i < N; ++i) ++counts[s.sample(l, c.banned).id];
    check_freq(ref_probs(l, c), counts, N, "CPU sampler " + c.name());
  }
}

TEST(CudaSampling, GreedyIsArgmaxWithTiesAndBans) {
  NEED_CUDA();
  torch::manual_seed(2);
  for (auto dt : {torch::kFloat32, torch::kBFloat16}) {
    for (int V : {50, 1000, 4099, 131072}) {
      auto base = torch::randn({6, V});
      base[1][5] = 9.f;  // tie at the maximum: the lower id wins
      base[1][V - 2] = 9.f;
      base[2][V - 1] = 9.f;  // maximum at the last id
      base[3][7] = 9.f;      // banned maximum and banned runner-up
      base[3][8] = 8.f;
      base[4][0] = 9.f;
      auto logits = base.to(dt).to(torch::kCUDA);
      std::vector<Cfg> cfgs(6);
      for (auto& c : cfgs) c.T = 0.f;
      cfgs[3].banned = {7, 8, -1};
      cfgs[4].banned = {-1, V + 5};  // out of range and unused entries are ignored
      cfgs[5].T = -1.f;              // negative temperature: greedy too
      std::vector<int> cfg_of = {0, 1, 2, 3, 4, 5};
      auto d = run(logits, cfgs, cfg_of, 1);
      std::vector<std::vector<float>> hl;
      for (int r = 0; r < 6; ++r) hl.push_back(host_row(logits[r]));
      check_draws(d, hl, cfgs, cfg_of, "greedy V=" + std::to_string(V));
      EXPECT_EQ(d.tokens[1], 5);
      EXPECT_EQ(d.tokens[2], V - 1);
      EXPECT_NE(d.tokens[3], 7);
      EXPECT_NE(d.tokens[3], 8);
      // The CPU sampler picks the same ids with the same logprob.
      for (int r = 0; r < 6; ++r) {
        hb::models::SamplerConfig sc;
        hb::models::Sampler s(sc);
        auto ref = s.sample(hl[r], cfgs[r].banned);
        EXPECT_EQ(d.tokens[r], ref.id) << "row " << r << " V " << V;
        EXPECT_NEAR(d.logprob[r], ref.logprob, 1e-3) << "row " << r << " V " << V;
      }
    }
  }
}

// Every filter alone and combined, with per-row parameters differing inside one call, on smooth and on
// heavily tied logits (ties cut by id inside a tie group), fp32 and bf16, both kernel paths.
TEST(CudaSampling, FiltersMatchReferenceSmallVocab) {
  NEED_CUDA();
  const int V = 203;  // not a multiple of the block size or of the 16-byte vector
  const std::vector<Cfg> cfgs = {
      {1.f, -1, 1.f, 0.f, {}},           // plain temperature
      {0.7f, -1, 1.f, 0.f, {}},          // temperature != 1
      {1.f, 10, 1.f, 0.f, {}},           // top-k
      {1.f, -1, 0.8f, 0.f, {}},          // top-p
      {1.f, -1, 1.f, 0.1f, {}},          // min-p
      {0.6f, 50, 0.9f, 0.05f, {}},       // combined
      {1.3f, 20, 1.f, 0.f, {0, 1, 2}},   // top-k with bans (the ids are set to be the largest)
      {1.f, -1, 0.5f, 0.f, {0, -1, 1}},  // top-p with bans
      {0.f, -1, 1.f, 0.f, {0}},          // greedy with a ban, mixed in
      {2.f, 3, 0.3f, 0.5f, {}},          // everything, tight
  };
  const int per = 8000;
  std::vector<int> cfg_of;
  for (int r = 0; r < per; ++r)
    for (int c = 0; c < int(cfgs.size()); ++c) cfg_of.push_back(c);
  for (int tied = 0; tied < 2; ++tied) {
    torch::manual_seed(10 + tied);
    auto base = torch::randn({int64_t(cfgs.size()), V}) * 2.0;
    if (tied) base = torch::round(base * 4.0) / 4.0;
    for (int64_t c = 0; c < int64_t(cfgs.size()); ++c) {
      base[c][0] = 6.f;  // ids 0-2 large: the bans matter
      base[c][1] = 5.5f;
      base[c][2] = 5.f;
    }
    for (auto dt : {torch::kFloat32, torch::kBFloat16}) {
      // Row stride 205: the rows are not 16-byte aligned (scalar loads).
      auto rows = torch::zeros({int64_t(cfg_of.size()), V + 2});
      rows.narrow(1, 0, V).copy_(base.index_select(0, torch::tensor(std::vector<int64_t>(cfg_of.begin(), cfg_of.end()))));
      auto logits = rows.to(dt).to(torch::kCUDA).narrow(1, 0, V);
      std::vector<std::vector<float>> hl;
      for (int64_t c = 0; c < int64_t(cfgs.size()); ++c) hl.push_back(host_row(base[c].to(dt)));
      for (int force = 0; force < 2; ++force) {
        hb::cuda::set_sample_force_bisection(force != 0);
        auto d = run(logits, cfgs, cfg_of, 1000 + force);
        hb::cuda::set_sample_force_bisection(false);
        check_draws(d, hl, cfgs, cfg_of,
                    std::string(dt == torch::kFloat32 ? "fp32" : "bf16") + (tied ? " tied" : " smooth") + (force ? " bisection" : " candidates"));
      }
    }
  }
}

// V = 131072 in both regimes: peaked rows (the kept set is small: shared-memory candidates) and flat rows
// (top-p keeps ~100k ids, top-k 5000: the general path). One logits row serves every row (row stride 0).
TEST(CudaSampling, FiltersMatchReferenceLargeVocab) {
  NEED_CUDA();
  const int V = 131072;
  torch::manual_seed(4);
  auto flat = torch::randn({V});
  auto peaked = flat.clone();
  for (int i = 0; i < 40; ++i) peaked[(i * 7919) % V] = 14.f - 0.2f * float(i);  // ~97% of the mass at T = 1
  const std::vector<Cfg> peaked_cfgs = {
      {0.6f, 50, 0.95f, 0.f, {}}, {1.f, -1, 0.9f, 0.f, {}}, {1.f, -1, 1.f, 0.05f, {}}, {1.f, -1, 1.f, 0.f, {}},
      {0.f, -1, 1.f, 0.f, {0}},   {0.8f, 20, 1.f, 0.f, {7919, 2 * 7919}},
  };
  const std::vector<Cfg> flat_cfgs = {{1.f, -1, 0.9f, 0.f, {}}, {1.f, 5000, 1.f, 0.f, {}}, {0.8f, 50, 1.f, 0.f, {}}, {1.f, -1, 1.f, 0.f, {}}};
  const int per = 4000;
  for (auto dt : {torch::kFloat32, torch::kBFloat16}) {
    for (int which = 0; which < 2; ++which) {
      const auto& cfgs = which ? flat_cfgs : peaked_cfgs;
      std::vector<int> cfg_of;
      for (int r = 0; r < per; ++r)
        for (int c = 0; c < int(cfgs.size()); ++c) cfg_of.push_back(c);
      auto one = (which ? flat : peaked).to(dt).to(torch::kCUDA);
      auto logits = one.unsqueeze(0).expand({int64_t(cfg_of.size()), V});
      const auto h = host_row(one);
      std::vector<std::vector<float>> hl(cfgs.size(), h);
      for (int force = 0; force < (which ? 1 : 2); ++force) {
        hb::cuda::set_sample_force_bisection(force != 0);
        auto d = run(logits, cfgs, cfg_of, 7 + force);
        hb::cuda::set_sample_force_bisection(false);
        check_draws(d, hl, cfgs, cfg_of,
                    std::string(dt == torch::kFloat32 ? "fp32" : "bf16") + (which ? " flat" : " peaked") + (force ? " bisection" : ""));
      }
    }
  }
}

TEST(CudaSampling, AllButOneBanned) {
  NEED_CUDA();
  const int V = 203, keep = 77;
  torch::manual_seed(8);
  auto base = torch::randn({V});
  base[keep] = -30.f;  // the only allowed id is the least likely one
  std::vector<int32_t> ban;
  for (int i = 0; i < V; ++i)
    if (i != keep) ban.push_back(i);
  std::vector<Cfg> cfgs = {{0.f, -1, 1.f, 0.f, ban}, {1.f, -1, 1.f, 0.f, ban}, {0.7f, 5, 0.5f, 0.2f, ban}, {1.f, 3, 1.f, 0.f, {}}};
  std::vector<int> cfg_of;
  for (int r = 0; r < 2000; ++r)
    for (int c = 0; c < 4; ++c) cfg_of.push_back(c);
  for (auto dt : {torch::kFloat32, torch::kBFloat16}) {
    auto one = base.to(dt).to(torch::kCUDA);
    auto logits = one.unsqueeze(0).expand({int64_t(cfg_of.size()), V});
    std::vector<std::vector<float>> hl(cfgs.size(), host_row(one));
    const double raw_lp = ref_logsoftmax(hl[0])[keep];  // the raw model's, though every other id is banned
    for (int force = 0; force < 2; ++force) {
      hb::cuda::set_sample_force_bisection(force != 0);
      auto d = run(logits, cfgs, cfg_of, 3);
      hb::cuda::set_sample_force_bisection(false);
      for (size_t r = 0; r < cfg_of.size(); ++r) {
        if (cfg_of[r] == 3) continue;
        ASSERT_EQ(d.tokens[r], keep) << "row " << r;
        ASSERT_NEAR(d.logprob[r], raw_lp, 1e-3) << "row " << r;
      }
      check_draws(d, hl, cfgs, cfg_of, "all but one banned");
    }
  }
}

// Same seeds and step: the same draws; the device step counter changes them; the legacy overload (one
// temperature for all rows) still samples softmax.
TEST(CudaSampling, StepCounterAndLegacyOverload) {
  NEED_CUDA();
  const int V = 1000;
  torch::manual_seed(9);
  auto one = torch::randn({V}).to(torch::kCUDA);
  const std::vector<Cfg> cfgs = {{1.f, -1, 0.95f, 0.f, {}}};
  std::vector<int> cfg_of(4096, 0);
  auto logits = one.unsqueeze(0).expand({4096, V});
  auto a = run(logits, cfgs, cfg_of, 5, 0), b = run(logits, cfgs, cfg_of, 5, 0), c = run(logits, cfgs, cfg_of, 5, 1);
  EXPECT_EQ(a.tokens, b.tokens);
  int same = 0;
  for (size_t i = 0; i < a.tokens.size(); ++i) same += a.tokens[i] == c.tokens[i];
  EXPECT_LT(same, 400) << "advancing the step must redraw";

  auto i64 = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kInt64);
  auto tok = torch::empty({20000}, i64);
  auto lg = one.to(torch::kBFloat16).unsqueeze(0).expand({20000, V});
  kc::sample(lg, 0.8, 42, torch::zeros({1}, i64), tok);
  auto ht = tok.cpu();
  std::vector<int64_t> counts(V, 0);
  for (int i = 0; i < 20000; ++i) ++counts[ht.data_ptr<int64_t>()[i]];
  Cfg legacy;
  legacy.T = 0.8f;
  check_freq(ref_probs(host_row(one.to(torch::kBFloat16)), legacy), counts, 20000, "legacy overload T=0.8");
  kc::sample(lg, 0.0, 42, torch::Tensor(), tok);
  EXPECT_TRUE(torch::equal(tok.cpu(), lg.to(torch::kFloat32).argmax(1).cpu()));
}

}  // namespace
