#pragma once
// Builds results databases with known answers for the reports tests: models with planted per-item
// correctness (deterministic, nested across models so the paired differences are exactly the planted
// ones) and perf points with planted token rates.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace hb::reports::testing {

// A deterministic uniform number in [0, 1) from a key.
double unit_hash(uint64_t a, uint64_t b = 0, uint64_t c = 0);

struct FixtureModel {
  std::string name;
  int attention_layers = 0, mamba_layers = 0;
};

struct QualityPlan {
  std::string suite, variant;
  int items = 0;
  int samples = 1;                   // >1: a multi-sample suite (per-item mean over samples)
  std::vector<std::string> metrics;  // every metric gets the same score
  double accuracy = 0;               // planted: item i is right when its difficulty < accuracy
  uint64_t seed = 1;                 // difficulty stream; the same seed for models means paired items
  std::string version = "1";
};

struct PerfPlan {
  std::string shape = "1024:256";
  std::vector<double> concurrency = {1, 8, 32};
  int repeats = 3;
  double single_user_tok_per_s = 50;  // tok/s per user at concurrency 1
  double speedup = 1;                 // multiplies every rate
  double noise = 0.01;                // relative +- spread across repeats (deterministic)
  uint64_t seed = 7;
};

class FixtureBuilder {
 public:
  explicit FixtureBuilder(const std::string& path);
  int64_t run(const std::string& name);  // creates a run with a fixed git sha and environment
  int64_t model(const FixtureModel& m);
  // Stores the samples and their aggregate metrics (mean over items, stderr over items).
  void quality(int64_t run_id, int64_t model_id, const QualityPlan& plan);
  void perf(int64_t run_id, int64_t model_id, const PerfPlan& plan);
  void finish(int64_t run_id);
  store::Store& store() { return store_; }

 private:
  store::Store store_;
};

// The study fixture used by the golden tests: run "study" with teacher (50 attention), H-25, H-30, H-40
// (25/30/40 of 50 layers Mamba) and H-30b (30/50, dominated) on gsm8k/chat0 (500 items, single sample) and aime (30
// items x 8 samples), and perf points at 1024:256 and 8192:1024 with planted speedups 1, 1.5, 1.8, 2.4, 1.6 (x3 more at
// the long shape).
void build_study_fixture(const std::string& path);

// A realistic scripted family (run "family"): teacher and H-25/H-30/H-40/H-50 with hundreds of items per suite
// (gsm8k/chat0 1319, math500 500, gpqa 198 x 4 samples, mbpp 500) and concurrency sweeps 1..128 with 3 repeats at
// 1024:256 (H-25, H-30 and H-40 within 4% of each other in throughput, so their labels crowd) and 8192:1024.
// With kFamilyGatePolicy the gate recommends H-30.
void build_family_fixture(const std::string& path);
inline constexpr const char* kFamilyGatePolicy =
    R"({"default_margin": 0.03, "throughput": {"shape": "1024:256", "load_kind": "concurrency", "load": 32,
        "min_ratio": 1.2}})";

// The quickstart's shape of data (run "quickstart"): teacher, H-25, H-30, H-40 with 3-4 items per suite, every
// score 0 (random weights), and a 2-level sweep at 16:32 with 2 repeats. No gate can decide on it.
void build_tiny_fixture(const std::string& path);

}  // namespace hb::reports::testing
