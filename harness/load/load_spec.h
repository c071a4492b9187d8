#pragma once
// What one sweep point asks for: a workload shape (input and output tokens), a load (fixed concurrency
// or an open-loop rate with gamma burstiness) and SLOs. Parsers for the CLI strings; bad strings are
// hb::Error usage errors that name the value and the expected form.
#include <optional>
#include <string>
#include <vector>

namespace hb::load {

struct Shape {
  int input_tokens = 0;
  int output_tokens = 0;
  std::string label;  // replayed prompts: "suite:math500" instead of IN:OUT
  std::string str() const {
    return label.empty() ? std::to_string(input_tokens) + ":" + std::to_string(output_tokens) : label;
  }
};

enum class LoadKind { concurrency, rate };

struct LoadLevel {
  LoadKind kind = LoadKind::concurrency;
  double value = 1;        // requests in flight, or requests per second
  double burstiness = 1;   // rate only: gamma shape (1 = Poisson, < 1 burstier, > 1 smoother)
  std::string kind_name() const { return kind == LoadKind::concurrency ? "concurrency" : "rate"; }
  std::string str() const;  // "concurrency=8", "rate=2.5,burstiness=1"
};

struct Slo {
  std::optional<double> ttft_ms, tpot_ms, e2e_ms;
  // From ttft_p99=...: a load meets the SLOs when at least this percentage of its measured requests succeed
  // and meet every bound (so each metric's p99 is within its bound). Unset: goodput only, no verdict.
  std::optional<double> percentile;
  bool empty() const { return !ttft_ms && !tpot_ms && !e2e_ms; }
};

// "1024:128,8000:16000"
std::vector<Shape> parse_shapes(const std::string& text);
// "1,8,32" (positive integers)
std::vector<int> parse_concurrency_list(const std::string& text);
// "0.5,2,10" (positive reals)
std::vector<double> parse_rate_list(const std::string& text);
// "ttft_ms=500,tpot_ms=50,e2e_ms=10000" (any subset), or "ttft_p99=500,tpot_p99=50" (one percentile for all)
Slo parse_slo(const std::string& text);
void check_burstiness(double burstiness);

}  // namespace hb::load
