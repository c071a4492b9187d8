#include "harness/runner/study.h"

#include <set>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"

namespace hb::runner {
namespace {

class Reader {
 public:
  Reader(std::string source) : source_(std::move(source)) {}
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw Error(ErrorCode::config, source_ + ": " + path + ": " + what);
  }
  // Rejects keys not in `allowed`, with a suggestion.
  void check_keys(const nlohmann::json& obj, const std::string& path, const std::vector<std::string>& allowed) const {
    if (!obj.is_object()) fail(path, "must be an object");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == it.key();
      if (!ok) {
        std::string hint = did_you_mean(it.key(), allowed);
        fail(path, "unknown key '" + it.key() + "'" + (hint.empty() ? "" : "; " + hint) + "; allowed: " + join(allowed, ", "));
      }
    }
  }
  std::string str(const nlohmann::json& obj, const std::string& key, const std::string& path, bool required) const {
    if (!obj.contains(key)) {
      if (required) fail(path, "missing '" + key + "'");
      return "";
    }
    if (!obj[key].is_string() || obj[key].get<std::string>().empty()) fail(path + "/" + key, "must be a non-empty string");
    return obj[key].get<std::string>();
  }
  int integer(const nlohmann::json& obj, const std::string& key, const std::string& path, int def, int lo, int hi) const {
    if (!obj.contains(key)) return def;
    const auto& v = obj[key];
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      fail(path + "/" + key, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
    return v.get<int>();
  }
  double number(const nlohmann::json& v, const std::string& path, double lo, double hi) const {
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
      fail(path, "must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
    return v.get<double>();
  }

 private:
  std::string source_;
};

}  // namespace

std::pair<int, int> parse_shard(const std::string& text) {
  auto parts = split(text, '/');
  try {
    if (parts.size() == 2) {
      size_t a = 0, b = 0;
      int i = std::stoi(parts[0], &a), n = std::stoi(parts[1], &b);
      if (a == parts[0].size() && b == parts[1].size() && n >= 1 && i >= 0 && i < n) return {i, n};
    }
  } catch (const std::exception&) {
  }
  throw Error(ErrorCode::usage, "--shard '" + text + "' must be I/N with 0 <= I < N (e.g. 0/4 for the first of four machines)");
}

namespace {

Study parse_study_fields(const nlohmann::json& j, const std::string& source) {
  Reader r(source);
  r.check_keys(j, "", {"schema_version", "name", "description", "baseline", "models", "suites", "throughput", "gate",
                       "judge", "judge_name", "concurrency", "max_error_rate"});
  Study s;
  s.raw = j;
  if (j.contains("schema_version") && (!j["schema_version"].is_number_integer() || j["schema_version"] != 1))
    r.fail("/schema_version", "unsupported version " + j["schema_version"].dump() + "; this hybench reads 1 (a number)");
  if (j.contains("max_error_rate")) s.max_error_rate = r.number(j["max_error_rate"], "/max_error_rate", 0, 1);
  s.name = r.str(j, "name", "", true);
  if (j.contains("description")) s.description = r.str(j, "description", "", false);
  s.judge = r.str(j, "judge", "", false);
  s.judge_name = r.str(j, "judge_name", "", false);
  s.concurrency = r.integer(j, "concurrency", "", 16, 1, 10000);
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty()) r.fail("/models", "must be a non-empty array");
  std::set<std::string> names;
  for (size_t i = 0; i < j["models"].size(); ++i) {
    const auto& m = j["models"][i];
    std::string path = "/models/" + std::to_string(i);
    r.check_keys(m, path, {"name", "spec", "layout", "launch_url", "concurrency"});
    StudyModel sm;
    sm.name = r.str(m, "name", path, true);
    sm.spec = r.str(m, "spec", path, true);
    if (m.contains("layout")) {
      sm.layout = r.str(m, "layout", path, false);
      if (sm.layout->find_first_not_of("AM") != std::string::npos)
        r.fail(path + "/layout", "must use A (attention) and M (Mamba) only, got '" + *sm.layout + "'");
    }
    if (m.contains("launch_url")) sm.launch_url = r.str(m, "launch_url", path, false);
    sm.concurrency = r.integer(m, "concurrency", path, 0, 1, 10000);
    if (!names.insert(sm.name).second) r.fail(path + "/name", "duplicate model name '" + sm.name + "'");
    s.models.push_back(sm);
  }
  s.baseline = j.contains("baseline") ? r.str(j, "baseline", "", false) : s.models.front().name;
  if (!names.count(s.baseline)) {
    std::vector<std::string> all(names.begin(), names.end());
    std::string hint = did_you_mean(s.baseline, all);
    r.fail("/baseline", "'" + s.baseline + "' is not one of the models" + (hint.empty() ? "" : "; " + hint));
  }
  if (j.contains("suites")) {
    if (!j["suites"].is_array()) r.fail("/suites", "must be an array");
    std::set<std::string> suite_names;
    for (size_t i = 0; i < j["suites"].size(); ++i) {
      const auto& e = j["suites"][i];
      std::string path = "/suites/" + std::to_string(i);
      r.check_keys(e, path, {"suite", "limit", "samples", "temperature", "max_tokens", "seed"});
      StudySuite ss;
      ss.suite = r.str(e, "suite", path, true);
      ss.limit = r.integer(e, "limit", path, -1, 1, 1000000);
      ss.samples = r.integer(e, "samples", path, 0, 1, 10000);
      if (e.contains("temperature")) ss.temperature = r.number(e["temperature"], path + "/temperature", 0, 10);
      if (e.contains("max_tokens")) ss.max_tokens = r.integer(e, "max_tokens", path, 0, 1, 10000000);
      if (e.contains("seed")) ss.seed = static_cast<uint64_t>(r.integer(e, "seed", path, 0, 0, 2147483647));
      // A run keeps one result per model and suite (and one run part, eval/MODEL/SUITE).
      if (!suite_names.insert(ss.suite).second)
        r.fail(path + "/suite", "duplicate suite '" + ss.suite + "'; a run keeps one result per model and suite: "
                                "use another run (or another variant, NAME:VARIANT) for other settings");
      s.suites.push_back(ss);
    }
  }
  if (j.contains("throughput")) {
    if (!j["throughput"].is_array()) r.fail("/throughput", "must be an array");
    for (size_t i = 0; i < j["throughput"].size(); ++i) {
      const auto& e = j["throughput"][i];
      std::string path = "/throughput/" + std::to_string(i);
      r.check_keys(e, path, {"shape", "concurrency", "rate", "requests", "warmup", "repeats"});
      StudyWorkload w;
      w.shape = r.str(e, "shape", path, true);
      auto io = split(w.shape, ':');
      if (io.size() != 2 || io[0].empty() || io[1].empty() || io[0].find_first_not_of("0123456789") != std::string::npos ||
          io[1].find_first_not_of("0123456789") != std::string::npos)
        r.fail(path + "/shape", "must be IN:OUT token counts such as 1:16384, got '" + w.shape + "'");
      if (e.contains("concurrency")) {
        if (!e["concurrency"].is_array() || e["concurrency"].empty()) r.fail(path + "/concurrency", "must be a non-empty array");
        for (size_t k = 0; k < e["concurrency"].size(); ++k)
          w.concurrency.push_back(static_cast<int>(r.number(e["concurrency"][k], path + "/concurrency/" + std::to_string(k), 1, 100000)));
      }
      if (e.contains("rate")) {
        if (!e["rate"].is_array() || e["rate"].empty()) r.fail(path + "/rate", "must be a non-empty array");
        for (size_t k = 0; k < e["rate"].size(); ++k)
          w.rate.push_back(r.number(e["rate"][k], path + "/rate/" + std::to_string(k), 1e-6, 1e6));
      }
      if (w.concurrency.empty() == w.rate.empty()) r.fail(path, "give either 'concurrency' or 'rate' load levels");
      w.requests = r.integer(e, "requests", path, 32, 1, 10000000);
      w.warmup = r.integer(e, "warmup", path, 2, 0, 100000);
      w.repeats = r.integer(e, "repeats", path, 3, 1, 1000);
      s.throughput.push_back(w);
    }
  }
  if (s.suites.empty() && s.throughput.empty()) r.fail("", "the study has neither 'suites' nor 'throughput': nothing to run");
  if (j.contains("gate")) s.gate = j["gate"];
  return s;
}

}  // namespace

Study parse_study(const nlohmann::json& j, const std::string& source) {
  try {
    return parse_study_fields(j, source);
  } catch (const nlohmann::json::exception& e) {  // a value of an unexpected type the checks above missed
    throw Error(ErrorCode::config, source + ": a value has the wrong type (" + e.what() + "); see studies/ for examples");
  }
}

Study load_study(const std::string& path) {
  if (!file_exists(path)) throw Error(ErrorCode::usage, "study file '" + path + "' does not exist");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::config, "study file '" + path + "' is not valid JSON: " + e.what());
  }
  return parse_study(j, path);
}

}  // namespace hb::runner
