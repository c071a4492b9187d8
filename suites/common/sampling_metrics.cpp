#include "suites/common/sampling_metrics.h"

#include <algorithm>
#include <cmath>

namespace hb::suites {

double pass_at_k(int n, int c, int k) {
  if (k <= 0 || n <= 0 || k > n) return std::nan("");
  if (n - c < k) return 1.0;
  double prod = 1.0;
  for (int i = n - c + 1; i <= n; ++i) prod *= 1.0 - static_cast<double>(k) / i;
  return 1.0 - prod;
}

MetricValue mean_over_items(const std::string& metric, const std::vector<double>& v) {
  MetricValue m;
  m.metric = metric;
  m.n = v.size();
  if (v.empty()) {
    m.value = std::nan("");
    return m;
  }
  double sum = 0, sq = 0;
  for (double x : v) {
    sum += x;
    sq += x * x;
  }
  double n = static_cast<double>(v.size());
  m.value = sum / n;
  double var = v.size() > 1 ? (sq - n * m.value * m.value) / (n - 1) : 0.0;
  m.stderr_ = v.size() > 1 ? std::sqrt(std::max(0.0, var) / n) : 0.0;
  return m;
}

namespace {
std::map<std::string, std::vector<const SampleScore*>> by_item(const std::vector<SampleScore>& samples) {
  std::map<std::string, std::vector<const SampleScore*>> items;
  for (const auto& s : samples) items[s.item_id].push_back(&s);
  for (auto& [id, v] : items)
    std::sort(v.begin(), v.end(), [](const SampleScore* a, const SampleScore* b) { return a->sample_index < b->sample_index; });
  return items;
}
}  // namespace

void add_pass_at_k(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                   std::vector<MetricValue>& out) {
  auto items = by_item(samples);
  int min_n = -1;
  for (const auto& [id, v] : items) {
    int n = 0;
    for (const auto* s : v) n += s->scores.count(correct_metric) ? 1 : 0;
    if (n > 0) min_n = min_n < 0 ? n : std::min(min_n, n);
  }
  if (min_n < 2) return;  // with one sample pass@1 is the accuracy itself
  std::vector<int> ks;
  for (int k = 1; k <= min_n; k *= 2) ks.push_back(k);
  if (ks.back() != min_n) ks.push_back(min_n);
  for (int k : ks) {
    std::vector<double> per_item;
    for (const auto& [id, v] : items) {
      int n = 0, c = 0;
      for (const auto* s : v) {
        auto it = s->scores.find(correct_metric);
        if (it == s->scores.end()) continue;
        ++n;
        c += it->second >= 0.5 ? 1 : 0;
      }
      if (n >= k) per_item.push_back(pass_at_k(n, c, k));
    }
    out.push_back(mean_over_items("pass@" + std::to_string(k), per_item));
  }
}

void add_avg_at_k(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                  std::vector<MetricValue>& out) {
  auto items = by_item(samples);
  int min_n = -1;
  std::vector<double> per_item;
  for (const auto& [id, v] : items) {
    int n = 0;
    double sum = 0;
    for (const auto* s : v) {
      auto it = s->scores.find(correct_metric);
      if (it == s->scores.end()) continue;
      ++n;
      sum += it->second;
    }
    if (n == 0) continue;
    min_n = min_n < 0 ? n : std::min(min_n, n);
    per_item.push_back(sum / n);
  }
  if (min_n < 2) return;
  out.push_back(mean_over_items("avg@" + std::to_string(min_n), per_item));
}

void add_majority(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                  const std::string& answer_metric, std::vector<MetricValue>& out) {
  auto items = by_item(samples);
  int max_n = 0;
  std::vector<double> per_item;
  for (const auto& [id, v] : items) {
    // vote key -> (count, first index, correct)
    std::map<std::string, std::tuple<int, int, bool>> votes;
    int n = 0;
    for (const auto* s : v) {
      auto c = s->scores.find(correct_metric);
      if (c == s->scores.end()) continue;
      auto a = s->scores.find(answer_metric);
      std::string key = a == s->scores.end() ? "<none>" : std::to_string(a->second);
      auto& [count, first, correct] = votes.try_emplace(key, 0, n, false).first->second;
      ++count;
      if (a != s->scores.end() && c->second >= 0.5) correct = true;
      ++n;
    }
    if (n == 0) continue;
    max_n = std::max(max_n, n);
    const std::tuple<int, int, bool>* best = nullptr;
    for (const auto& [key, t] : votes) {
      if (!best || std::get<0>(t) > std::get<0>(*best) ||
          (std::get<0>(t) == std::get<0>(*best) && std::get<1>(t) < std::get<1>(*best)))
        best = &t;
    }
    per_item.push_back(best && std::get<2>(*best) ? 1.0 : 0.0);
  }
  if (max_n < 2) return;
  out.push_back(mean_over_items("maj@" + std::to_string(max_n), per_item));
}

}  // namespace hb::suites
