// hybench score: grades recorded completions from any tool, without a model. One JSON object per input line:
//   {"id": ITEM_ID, "completion": "..."}                 the suite's own item id
//   {"id": QUESTION_ID, "turns": ["...", "..."]}         MT-Bench (needs --judge)
//   {"gold": "...", "completion": "..."}                 math suites (math500, aime24, aime25, gsm8k)
// optional: "reasoning" (the reasoning channel), "finish_reason" ("length" marks truncation), "sample_index".
// Each output line repeats its input and adds extracted, extractions, correct (accuracy suites) or score
// (MT-Bench), scores, truncated and reason; a line that cannot be graded gets "error" instead. The summary
// table goes to stdout, logs to stderr.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "datasets/catalog.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#include "harness/cli/sandbox_cli_options.h"
#include "harness/runner/scoring_resources.h"
#include "suites/suite.h"

namespace hb::cli {
namespace {

struct ScoreArgs {
  std::string suite, input, output, data_dir, judge, judge_name, reasoning_markers;
  int jobs = 0;  // 0 = number of cores
  sandbox::SandboxOptions sandbox;
};

struct Line {
  size_t number = 0;
  nlohmann::json in;
  nlohmann::json out;
  bool ok = false;
  suites::SampleScore sample;
};

std::string as_id(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A synthetic item for {"gold": ..., "completion": ...} lines of the math suites.
suites::Item gold_item(const std::string& suite, const std::string& gold, size_t line) {
  suites::Item item;
  item.id = "line" + std::to_string(line);
  if (suite == "math500" || suite == "aime24" || suite == "aime25") {
    item.fields = {{"answer", gold}, {"problem", ""}};
  } else if (suite == "gsm8k") {
    item.fields = {{"answer", "#### " + gold}, {"question", ""}};
  } else {
    throw Error(ErrorCode::usage, "\"gold\" lines are only for math suites (math500, aime24, aime25, gsm8k), not " + suite +
                                      "; give \"id\" instead");
  }
  return item;
}

suites::Completion completion_of(const nlohmann::json& j) {
  suites::Completion c;
  if (j.contains("turns")) {
    for (const auto& t : j.at("turns")) c.turns.push_back(t.get<std::string>());
  } else if (j.contains("completion")) {
    c.turns.push_back(j.at("completion").get<std::string>());
  } else {
    throw Error(ErrorCode::data, "no \"completion\" (or \"turns\") field");
  }
  std::string reasoning = j.value("reasoning", "");
  std::string finish = j.value("finish_reason", "");
  c.reasoning.assign(c.turns.size(), "");
  c.finish_reasons.assign(c.turns.size(), "");
  if (!c.turns.empty()) {
    c.reasoning.back() = reasoning;
    c.finish_reasons.back() = finish;
  }
  return c;
}

void grade_line(Line& line, const suites::Suite& suite, const std::map<std::string, const suites::Item*>& items,
                suites::ScoringContext& ctx) {
  line.out = line.in;
  try {
    if (!line.in.is_object()) throw Error(ErrorCode::data, "the line is not a JSON object");
    const std::string& name = suite.info().name;
    suites::Item synthetic;
    const suites::Item* item = nullptr;
    if (line.in.contains("gold")) {
      synthetic = gold_item(name, as_id(line.in.at("gold")), line.number);
      item = &synthetic;
    } else if (line.in.contains("id")) {
      auto it = items.find(as_id(line.in.at("id")));
      if (it == items.end()) throw Error(ErrorCode::data, "no " + name + " item with id " + as_id(line.in.at("id")));
      item = it->second;
    } else {
      throw Error(ErrorCode::data, "the line has neither \"id\" nor \"gold\"");
    }
    suites::Grade g = suite.grade(*item, completion_of(line.in), ctx);
    nlohmann::json ex = nlohmann::json::array();
    std::optional<std::string> extracted;
    for (const auto& e : g.extractions) {
      ex.push_back({{"name", e.name}, {"value", e.value ? nlohmann::json(*e.value) : nlohmann::json()}, {"reason", e.reason}});
      if (!extracted && e.value && e.name != "permutation" && !starts_with(e.name, "judgment")) extracted = e.value;
    }
    line.out["extracted"] = extracted ? nlohmann::json(*extracted) : nlohmann::json();
    line.out["extractions"] = ex;
    line.out["scores"] = g.scores;
    if (g.scores.count("accuracy")) {
      line.out["correct"] = g.scores.at("accuracy") >= 0.5;
    } else if (name == "mt_bench") {
      line.out["score"] = g.scores;
    } else {
      // Several accuracies (GSM8K strict and flexible): one verdict per extraction.
      nlohmann::json correct = nlohmann::json::object();
      for (const auto& [k, v] : g.scores)
        if (starts_with(k, "accuracy/")) correct[k.substr(9)] = v >= 0.5;
      if (!correct.empty()) line.out["correct"] = correct;
    }
    line.out["truncated"] = g.truncated;
    line.out["reason"] = g.reason;
    if (!g.reasoning_text.empty()) line.out["reasoning_chars"] = g.reasoning_text.size();
    line.sample.item_id = item->id;
    line.sample.scores = g.scores;
    line.ok = true;
  } catch (const Error& e) {
    line.out["error"] = e.message();
  } catch (const std::exception& e) {
    line.out["error"] = std::string("could not grade: ") + e.what();
  }
}

std::string fmt_value(double v) { return v != v ? "n/a" : fmt::format("{:.4f}", v); }

int run_score_command(const ScoreArgs& a) {
  if (a.jobs < 0 || a.jobs > 1024) throw Error(ErrorCode::usage, "--jobs must be between 1 and 1024, got " + std::to_string(a.jobs));
  suites::SuiteOptions options;
  if (!a.reasoning_markers.empty()) options.reasoning_markers = split(a.reasoning_markers, ',');
  auto suite = suites::make_suite(a.suite, options);
  const std::string name = suite->info().name;

  // Read every line first (a malformed line is an error line, not a failure of the command).
  std::ifstream in(a.input, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open --input " + a.input + "; check the path");
  std::vector<Line> lines;
  std::string text;
  size_t number = 0;
  bool needs_items = false;
  while (std::getline(in, text)) {
    ++number;
    if (trim(text).empty()) continue;
    Line l;
    l.number = number;
    try {
      l.in = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
      l.in = nlohmann::json::object();
      l.out = {{"line", number}, {"error", "not valid JSON (or not UTF-8): " + std::string(e.what()).substr(0, 120)}};
    }
    if (l.in.is_object() && l.in.contains("id")) needs_items = true;
    lines.push_back(std::move(l));
  }
  if (lines.empty()) throw Error(ErrorCode::data, a.input + " has no lines; expected one JSON object per line");

  // Items are loaded for id lines, and always for suites whose grading needs loaded data (prompts, judges).
  datasets::Catalog catalog(a.data_dir);
  std::vector<suites::Item> items;
  if (needs_items || name == "mt_bench" || name == "mbpp" || name == "gpqa") items = suite->load(catalog);
  std::map<std::string, const suites::Item*> by_id;
  for (const auto& it : items) by_id[it.id] = &it;

  runner::ScoringResources resources(a.judge, [&] {
    BackendOptions o;
    if (!a.judge_name.empty()) o.model_name = a.judge_name;
    return o;
  }());
  resources.set_sandbox_options(a.sandbox);
  suites::ScoringContext ctx = resources.context_for(*suite);

  size_t jobs = a.jobs > 0 ? static_cast<size_t>(a.jobs) : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0}, done{0};
  auto worker = [&] {
    while (true) {
      size_t i = next++;
      if (i >= lines.size()) return;
      if (lines[i].out.is_null()) grade_line(lines[i], *suite, by_id, ctx);
      size_t d = ++done;
      Console::get().progress(fmt::format("score {}: {}/{} lines", name, d, lines.size()));
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(jobs, lines.size()); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  Console::get().end_progress();

  // Sample indices: given, or the order of appearance per item.
  std::map<std::string, int> seen;
  std::vector<suites::SampleScore> samples;
  size_t errors = 0, no_extraction = 0, truncated = 0;
  for (auto& l : lines) {
    if (!l.ok) {
      ++errors;
      continue;
    }
    l.sample.sample_index = l.in.contains("sample_index") && l.in["sample_index"].is_number_integer()
                                ? l.in["sample_index"].get<int>()
                                : seen[l.sample.item_id]++;
    samples.push_back(l.sample);
    if (l.out["extracted"].is_null() && name != "mt_bench") ++no_extraction;
    if (l.out.value("truncated", false)) ++truncated;
  }

  std::string out_text;
  for (const auto& l : lines) out_text += l.out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (!a.output.empty()) write_file(a.output, out_text);

  auto metrics = suite->aggregate(samples);
  std::cout << "suite " << name << ":" << suite->info().variant << " v" << suite->info().version << "  lines "
            << lines.size() << "  graded " << samples.size() << "  errors " << errors << "  no extraction "
            << no_extraction << "  truncated " << truncated << "\n";
  std::cout << fmt::format("{:<24} {:>10} {:>10} {:>6}\n", "metric", "value", "stderr", "n");
  for (const auto& m : metrics)
    std::cout << fmt::format("{:<24} {:>10} {:>10} {:>6}\n", m.metric, fmt_value(m.value), fmt_value(m.stderr_), m.n);
  if (!a.output.empty()) log_info("wrote {} scored lines to {}", lines.size(), a.output);
  if (errors > 0) log_warn("{} of {} lines could not be graded; see their \"error\" field", errors, lines.size());
  return samples.empty() ? kExitRunFailed : kExitOk;
}

}  // namespace

void add_score_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* app = root.add_subcommand("score", "Grade recorded completions (JSONL) with a suite's grader, without a model");
  app->add_option("--suite", args->suite, "Suite, NAME or NAME:VARIANT (math500, gsm8k, aime24, aime25, gpqa, mbpp, mt_bench)")
      ->required();
  app->add_option("--input", args->input,
                  "JSONL: {\"id\":ID,\"completion\":\"...\"} | {\"gold\":\"...\",\"completion\":\"...\"} | "
                  "{\"id\":QID,\"turns\":[...]} (MT-Bench)")
      ->required();
  app->add_option("--output", args->output, "Write each input line with extracted, correct/score and reason added");
  app->add_option("--data-dir", args->data_dir, "Local mirror of the suite data (also HYBENCH_DATA_DIR)");
  app->add_option("--judge", args->judge, "Judge backend for MT-Bench (same forms as --model of eval)");
  app->add_option("--judge-name", args->judge_name, "Model name of the judge (sent as \"model\")");
  app->add_option("--jobs", args->jobs, "Lines graded in parallel (default: the number of cores)");
  app->add_option("--reasoning-markers", args->reasoning_markers,
                  "End-of-reasoning markers, comma-separated (OPEN|CLOSE for pairs); default </think> and Apriel's");
  add_sandbox_options(app, args->sandbox);
  app->callback([args, &exit_code] { exit_code = run_score_command(*args); });
}

}  // namespace hb::cli
