#include "harness/runner/part_configs.h"

namespace hb::runner {

nlohmann::json EvalPartConfig::to_json() const {
  // The keys and types of `hybench eval`'s run config before parts existed: stored hashes stay valid.
  nlohmann::json c{{"command", "eval"}, {"model", model}, {"model_name", model_name}, {"suites", suites},
                   {"samples", samples}};
  if (!variant.empty()) c["variant"] = variant;
  if (temperature) c["temperature"] = *temperature;
  if (max_tokens) c["max_tokens"] = *max_tokens;
  if (seed) c["seed"] = *seed;
  if (!reasoning_markers.empty()) c["reasoning_markers"] = reasoning_markers;
  if (!judge.empty()) c["judge"] = judge;
  return c;
}

std::string eval_part_key(const std::string& model_name, const std::string& suite) {
  return "eval/" + model_name + "/" + suite;
}

std::string sweep_part_key(const std::string& model_name) { return "sweep/" + model_name; }

std::vector<store::RunPart> study_parts(const Study& study, int shard_index, int shard_count) {
  std::vector<store::RunPart> parts;
  const std::string judge =
      study.judge.empty() ? "" : study.judge + (study.judge_name.empty() ? "" : " " + study.judge_name);
  for (const auto& m : study.models) {
    for (const auto& s : study.suites) {
      EvalPartConfig c;
      c.model = m.spec;
      c.model_name = m.name;
      c.suites = {s.suite};
      c.samples = s.samples;
      c.temperature = s.temperature;
      c.max_tokens = s.max_tokens;
      if (s.seed) c.seed = static_cast<long long>(*s.seed);
      c.judge = judge;
      parts.push_back({eval_part_key(m.name, s.suite), "eval", c.to_json()});
    }
  }
  if (study.throughput.empty()) return parts;
  // The workloads as parsed (defaults filled in): writing a default out does not change the hash.
  nlohmann::json workloads = nlohmann::json::array();
  for (const auto& w : study.throughput)
    workloads.push_back({{"shape", w.shape}, {"concurrency", w.concurrency}, {"rate", w.rate}, {"requests", w.requests},
                         {"warmup", w.warmup}, {"repeats", w.repeats}});
  for (size_t mi = 0; mi < study.models.size(); ++mi) {
    if (static_cast<int>(mi % static_cast<size_t>(shard_count)) != shard_index) continue;
    const auto& m = study.models[mi];
    nlohmann::json config = {{"command", "study-throughput"}, {"model", m.spec}, {"model_name", m.name},
                             {"throughput", workloads}};
    parts.push_back({sweep_part_key(m.name), "sweep", config});
  }
  return parts;
}

}  // namespace hb::runner
