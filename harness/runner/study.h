#pragma once
// A study: the whole decision in one file. Models (engine presets or checkpoints, endpoints, replicas,
// launched servers) x suites with their sampling settings, plus throughput workloads, the baseline and the
// gate policy. `hybench run STUDY.json` runs every step, each resumable from the database, then writes
// the report. Parsing is strict: an unknown key is an error with a suggestion.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hb::runner {

struct StudyModel {
  std::string name;          // display name, unique in the study
  std::string spec;          // --model SPEC form
  std::optional<std::string> layout;  // A/M per layer, for hybrids served by endpoints
  std::optional<std::string> launch_url;  // for launch: specs
  int concurrency = 0;       // 0: the study's
};

struct StudySuite {
  std::string suite;         // NAME or NAME:VARIANT
  int limit = -1;
  int samples = 0;                  // 0: the suite's default
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<uint64_t> seed;
};

struct StudyWorkload {
  std::string shape;               // "IN:OUT"
  std::vector<int> concurrency;    // load levels (closed loop)
  std::vector<double> rate;        // or open-loop rates (req/s)
  int requests = 32;
  int warmup = 2;
  int repeats = 3;
};

struct Study {
  std::string name;
  std::string description;
  std::string baseline;             // a model name
  std::vector<StudyModel> models;
  std::vector<StudySuite> suites;
  std::vector<StudyWorkload> throughput;
  nlohmann::json gate;              // policy for the gate step (null: no gate)
  std::string judge;                // judge spec for MT-Bench
  std::string judge_name;           // the judge's model name
  int concurrency = 16;
  double max_error_rate = 0.5;      // the run fails when more than this fraction of samples fail
  nlohmann::json raw;               // the file as parsed (stored as the run's config)
};

// Parses and validates a study; errors name the file, the JSON path and what to do.
Study parse_study(const nlohmann::json& j, const std::string& source_name);
Study load_study(const std::string& path);

// "I/N" -> (I, N) with 0 <= I < N; a usage error otherwise.
std::pair<int, int> parse_shard(const std::string& text);

}  // namespace hb::runner
