#include "models/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "harness/base/error.h"

namespace hb::models {

void validate(const SamplerConfig& c) {
  if (!(c.temperature >= 0.0) || !std::isfinite(c.temperature)) {
    throw Error(ErrorCode::usage, "temperature " + std::to_string(c.temperature) + " is invalid; use 0 (greedy) or a positive value");
  }
  if (!(c.top_p > 0.0 && c.top_p <= 1.0)) throw Error(ErrorCode::usage, "top_p " + std::to_string(c.top_p) + " must be in (0, 1]");
  if (!(c.min_p >= 0.0 && c.min_p < 1.0)) throw Error(ErrorCode::usage, "min_p " + std::to_string(c.min_p) + " must be in [0, 1)");
  if (c.top_logprobs < 0 || c.top_logprobs > 20) {
    throw Error(ErrorCode::usage, "top_logprobs " + std::to_string(c.top_logprobs) + " must be in [0, 20]");
  }
}

Sampler::Sampler(const SamplerConfig& c) : c_(c), rng_(c.seed) { validate(c); }

SampledToken Sampler::sample(const std::vector<float>& logits_in, const std::vector<int32_t>& banned) {
  const size_t V = logits_in.size();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  std::vector<float> logits = logits_in;
  for (auto b : banned) {
    if (b >= 0 && size_t(b) < V) logits[b] = neg_inf;
  }
  SampledToken out;
  if (c_.temperature == 0.0) {
    out.id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  } else {
    std::vector<int32_t> idx(V);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    size_t keep = V;
    if (c_.top_k > 0) keep = std::min(keep, size_t(c_.top_k));
    std::vector<double> p(keep);
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) {
      p[i] = std::exp((double(logits[idx[i]]) - double(logits[idx[0]])) / c_.temperature);
      sum += p[i];
    }
    for (auto& v : p) v /= sum;
    if (c_.min_p > 0) {
      size_t k = 0;
      while (k < keep && p[k] >= c_.min_p * p[0]) ++k;
      keep = std::max<size_t>(k, 1);
    }
    if (c_.top_p < 1.0) {
      double cum = 0;
      size_t k = 0;
      while (k < keep) {
        cum += p[k++];
        if (cum >= c_.top_p) break;
      }
      keep = std::max<size_t>(k, 1);
    }
    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += p[i];
    double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
    size_t pick = keep - 1;
    for (size_t i = 0; i < keep; ++i) {
      u -= p[i];
      if (u < 0) {
        pick = i;
        break;
      }
    }
    out.id = idx[pick];
  }
  // Reported logprobs are of the raw model distribution: bans (min_tokens, ignore_eos), temperature and
  // filters shape the draw only.
  out.logprob = token_logprob(logits_in, out.id);
  if (c_.top_logprobs > 0) out.top = top_logprobs(logits_in, c_.top_logprobs);
  return out;
}

namespace {
float log_sum_exp(const std::vector<float>& logits) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  if (!std::isfinite(mx)) return mx;
  double z = 0;
  for (float l : logits) z += std::exp(double(l - mx));
  return mx + float(std::log(z));
}
}  // namespace

float token_logprob(const std::vector<float>& logits, int32_t id) {
  if (logits.empty() || id < 0 || size_t(id) >= logits.size()) return -std::numeric_limits<float>::infinity();
  return logits[size_t(id)] - log_sum_exp(logits);
}

std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logits, int k_in) {
  const size_t V = logits.size();
  if (V == 0 || k_in <= 0) return {};
  const float log_z = log_sum_exp(logits);
  std::vector<int32_t> idx(V);
  std::iota(idx.begin(), idx.end(), 0);
  const size_t k = std::min<size_t>(size_t(k_in), V);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  std::vector<std::pair<int32_t, float>> top;
  for (size_t i = 0; i < k; ++i) top.emplace_back(idx[i], logits[idx[i]] - log_z);
  return top;
}

}  // namespace hb::models
