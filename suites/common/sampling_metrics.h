#pragma once
// Metrics over K samples per item: the unbiased pass@k estimator (Chen et al. 2021), majority vote and
// mean with standard error over items.
#include <map>
#include <string>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

// 1 - C(n-c, k) / C(n, k), computed as a product so that it never overflows. Requires k <= n.
double pass_at_k(int n, int c, int k);

// Mean over items and sd/sqrt(n) over items of per-item values.
MetricValue mean_over_items(const std::string& metric, const std::vector<double>& per_item);

// Adds pass@k for k = 1, 2, 4, ... up to the smallest sample count over items (and that count itself),
// computed from the binary score `correct_metric`. Items with fewer samples than k are left out of pass@k.
void add_pass_at_k(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                   std::vector<MetricValue>& out);

// avg@K: the mean accuracy over items of the per-item mean over K samples (the same value as the default
// "accuracy" metric), under its explicit name; added only when every item has at least 2 samples.
void add_avg_at_k(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                  std::vector<MetricValue>& out);

// maj@K: per item, the most frequent value of the score `answer_metric` among samples that have it (ties go
// to the answer seen first by sample_index); the item counts as correct when a sample with that answer has
// correct_metric == 1. Samples without an answer vote for "no answer", which is never correct.
void add_majority(const std::vector<SampleScore>& samples, const std::string& correct_metric,
                  const std::string& answer_metric, std::vector<MetricValue>& out);

}  // namespace hb::suites
