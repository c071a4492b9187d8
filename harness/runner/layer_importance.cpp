// The leave-one-out layer-importance sweep behind `hybench importance` (issue 16). Each candidate layer is
// removed alone (its mixer, or the whole block) and the cost is measured against the full model: the suites'
// score drop with a paired bootstrap interval (every variant is a model of the run, evaluated by the eval
// runner, stored and resumable), or the mean KL divergence of the next-token distribution over a fixed token
// set (models/sequence_logits.h: one forward pass per layer per batch, no generation). Rows go to the
// layer_importance table as each layer finishes, so a killed sweep resumes where it stopped.
#include "harness/runner/layer_importance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>

#include "datasets/catalog.h"
#include "harness/backends/backend_factory.h"
#include "harness/backends/native_backend.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/hash.h"
#include "harness/base/strings.h"
#include "harness/runner/eval_runner.h"
#include "harness/runner/model_record.h"
#include "harness/runner/scoring_resources.h"
#include "harness/store/store.h"
#include "models/layer_drops.h"
#include "models/model_config.h"
#include "models/presets.h"
#include "models/sequence_logits.h"
#include "reports/importance_data.h"
#include "reports/results_db.h"
#include "reports/stats/paired.h"
#include "reports/study_data.h"

namespace hb::runner {
namespace {


void on_signal(int) { interrupt_flag().store(true); }

// The drop_mixer/drop_layer options removed from a native spec (so a variant can set its own).
std::string spec_without_drops(const std::string& after_colon) {
  std::vector<std::string> kept;
  bool in_drop_list = false;
  for (const auto& raw : split(after_colon, ',')) {
    std::string part(trim(raw));
    const bool bare = !part.empty() && part.find('=') == std::string::npos &&
                      part.find_first_not_of("0123456789-") == std::string::npos;
    if (in_drop_list && bare) continue;
    in_drop_list = starts_with(part, "drop_mixer=") || starts_with(part, "drop_layer=");
    if (!in_drop_list) kept.push_back(part);
  }
  return join(kept, ",");
}

std::string with_drops(const std::string& base_spec, const models::LayerDrops& drops) {
  const std::string suffix = drops.spec_suffix();
  return "native:" + base_spec + (suffix.empty() ? "" : "," + suffix);
}

models::LayerDrops add_drop(models::LayerDrops d, int layer, bool whole_layer) {
  (whole_layer ? d.layer : d.mixer).push_back(layer);
  std::sort(d.mixer.begin(), d.mixer.end());
  std::sort(d.layer.begin(), d.layer.end());
  return d;
}

// Candidate layers for --layers attention | mamba | all | LIST (never a layer the base spec already drops).
std::vector<int> candidate_layers(const std::string& spec, const models::ModelConfig& c, const models::LayerDrops& base,
                                  const std::string& model_name) {
  auto dropped = [&](int i) {
    return std::count(base.mixer.begin(), base.mixer.end(), i) + std::count(base.layer.begin(), base.layer.end(), i) > 0;
  };
  std::vector<int> out;
  const std::string s(trim(spec));
  if (s == "attention" || s == "mamba" || s == "all") {
    for (int i = 0; i < c.num_layers(); ++i) {
      const bool attention = c.layers[size_t(i)] == models::LayerKind::attention;
      if ((s == "all" || (s == "attention") == attention) && !dropped(i)) out.push_back(i);
    }
    if (out.empty()) {
      throw Error(ErrorCode::usage, "--layers " + s + " selects no layer of " + model_name + " (layout " + c.layout_string() +
                                        "); pick attention, mamba, all or a list such as 3,7-9");
    }
    return out;
  }
  if (s.empty() || s.find_first_not_of("0123456789-, ") != std::string::npos) {
    std::string hint = did_you_mean(s, {"attention", "mamba", "all"});
    throw Error(ErrorCode::usage, "--layers '" + s + "' is not attention, mamba, all or a list of layer indices such as 3,7-9" +
                                      (hint.empty() ? "" : "; " + hint));
  }
  out = models::parse_layer_indices(s, "--layers");
  for (int i : out) {
    if (i >= c.num_layers()) {
      throw Error(ErrorCode::usage, "--layers: layer " + std::to_string(i) + " does not exist; " + model_name + " has layers 0.." +
                                        std::to_string(c.num_layers() - 1));
    }
    if (dropped(i)) {
      throw Error(ErrorCode::usage, "--layers: layer " + std::to_string(i) + " is already dropped by the model spec; leave it out");
    }
  }
  return out;
}

// Per item (suite id + item id): the mean over error-free samples of the suite's primary metric.
std::map<std::string, double> item_means(store::Store& store, int64_t run_id, int64_t model_id, int64_t suite_id) {
  std::map<std::string, std::vector<double>> values;
  std::vector<std::string> names;
  auto samples = store.scored_samples(run_id, model_id, suite_id);
  for (const auto& s : samples)
    for (const auto& [k, v] : s.scores.items())
      if (v.is_number() && std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
  if (names.empty()) return {};
  const std::string metric = reports::primary_metric(names);
  for (const auto& s : samples)
    if (s.scores.contains(metric) && s.scores[metric].is_number()) values[s.item_id].push_back(s.scores[metric].get<double>());
  std::map<std::string, double> out;
  for (const auto& [id, xs] : values) {
    double sum = 0;
    for (double x : xs) sum += x;
    out[std::to_string(suite_id) + "\t" + id] = sum / double(xs.size());
  }
  return out;
}

struct Row {
  int layer = 0;
  std::string kind;
  int64_t n = 0;
  double value = 0, stderr_ = 0, lo = 0, hi = 0;
  nlohmann::json details = nlohmann::json::object();
};

void put_row(store::Store& store, int64_t run_id, int64_t model_id, const std::string& metric, const std::string& mode,
             const Row& r) {
  store.write_sync([=](store::Db& db) {
    db.prepare("INSERT OR REPLACE INTO layer_importance (run_id, model_id, metric, mode, layer, layer_kind, n, value, stderr, "
               "ci_low, ci_high, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, run_id)
        .bind(2, model_id)
        .bind(3, metric)
        .bind(4, mode)
        .bind(5, r.layer)
        .bind(6, r.kind)
        .bind(7, r.n)
        .bind(8, r.value)
        .bind(9, r.stderr_)
        .bind(10, r.lo)
        .bind(11, r.hi)
        .bind(12, r.details.dump())
        .run();
  });
}

std::vector<int> stored_layers(store::Store& store, int64_t run_id, int64_t model_id, const std::string& metric,
                               const std::string& mode) {
  auto s = store.reader().prepare("SELECT layer FROM layer_importance WHERE run_id = ? AND model_id = ? AND metric = ? AND mode = ?");
  s.bind(1, run_id).bind(2, model_id).bind(3, metric).bind(4, mode);
  std::vector<int> out;
  while (s.step()) out.push_back(int(s.int64(0)));
  return out;
}

class Sweep {
 public:
  explicit Sweep(const ImportanceOptions& a) : a_(a) {}

  int run() {
    validate();
    auto parsed = parse_native_spec(a_.model.substr(7), NativeOptions{});
    base_spec_ = spec_without_drops(a_.model.substr(7));
    base_drops_ = parsed.options.drops;
    target_ = parsed.target;
    config_ = starts_with(target_, "preset:") ? models::preset_config(target_.substr(7)) : models::load_model_config(target_);
    name_ = a_.model_name.empty() ? default_model_name("native:" + target_) : a_.model_name;
    models::validate_layer_drops(base_drops_, config_.num_layers(), name_);
    candidates_ = candidate_layers(a_.layers, config_, base_drops_, name_);
    for (int layer : candidates_) models::validate_layer_drops(variant_drops(layer), config_.num_layers(), name_);
    layout_ = a_.from_layout.empty() ? layout_letters(config_.layout_string())
                                     : reports::layout_from_text(a_.from_layout, config_.num_layers());
    metric_ = a_.metric;
    load_suites();

    store::Store store(a_.db);
    run_name_ = a_.run;
    auto run = store.open_run(run_name_, "importance", run_config());
    run_id_ = run.id;
    log_info("run '{}' ({}) in {}: {} candidate layers of {} ({}), metric {}, mode {}", run_name_,
             run.resumed ? "resumed" : "new", a_.db, candidates_.size(), name_, config_.layout_string(), metric_, a_.mode);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    int rc = kExitOk;
    try {
      rc = metric_ == "score" ? run_score(store) : run_kl(store);
    } catch (...) {
      mark_run_failed(store, run_id_);
      throw;
    }
    if (rc != kExitOk) {
      store.set_run_status(run_id_, rc == kExitRunFailed && interrupt_flag().load() ? "interrupted" : "failed");
      log_warn("re-run the same command to continue run '{}'", run_name_);
      return rc;
    }
    store.set_run_status(run_id_, "finished");
    store.flush();
    print_ranking();
    return kExitOk;
  }

 private:
  void validate() {
    if (a_.metric != "score" && a_.metric != "kl") {
      std::string hint = did_you_mean(a_.metric, {"score", "kl"});
      throw Error(ErrorCode::usage, "--metric '" + a_.metric + "' is not score or kl" + (hint.empty() ? "" : "; " + hint));
    }
    if (a_.mode != "drop-mixer" && a_.mode != "drop-layer") {
      std::string hint = did_you_mean(a_.mode, {"drop-mixer", "drop-layer"});
      throw Error(ErrorCode::usage, "--mode '" + a_.mode + "' is not drop-mixer or drop-layer" + (hint.empty() ? "" : "; " + hint));
    }
    if (!starts_with(a_.model, "native:")) {
      if (a_.metric == "kl")
        throw Error(ErrorCode::usage, "--metric kl needs the native engine or an endpoint with top logprobs, and layers can "
                                      "only be dropped inside hybench's engine; '" + a_.model +
                                          "' is not native: use --model native:PATH or native:preset:NAME");
      throw Error(ErrorCode::usage, "importance drops layers inside hybench's own engine; --model must be native:PATH or "
                                    "native:preset:NAME, got '" + a_.model + "'");
    }
    if (a_.model.size() <= 7) throw Error(ErrorCode::usage, "--model native: names no checkpoint; use native:PATH or native:preset:NAME");
    if (a_.metric == "score" && (trim(a_.suites).empty() && a_.suite_objects.empty()))
      throw Error(ErrorCode::usage, "--metric score needs --suite (the suites whose score drop ranks the layers)");
    if (a_.metric == "kl" && (trim(a_.suites).empty() && a_.suite_objects.empty()) && a_.text.empty())
      throw Error(ErrorCode::usage, "--metric kl needs a token set: --text FILE, or --suite S (the prompts plus the full "
                                    "model's own completions)");
    if (!a_.text.empty() && a_.metric != "kl") throw Error(ErrorCode::usage, "--text is for --metric kl only");
    if (!a_.text.empty() && !file_exists(a_.text))
      throw Error(ErrorCode::usage, "--text '" + a_.text + "' does not exist; pass a text file");
    if (!a_.text.empty() && !(trim(a_.suites).empty() && a_.suite_objects.empty()))
      throw Error(ErrorCode::usage, "--metric kl takes its tokens from --text or from --suite, not both");
    if (a_.limit && *a_.limit < 1)
      throw Error(ErrorCode::usage, "--limit must be a positive number of items, got " + std::to_string(*a_.limit));
    if (a_.convert && (*a_.convert < 1 || *a_.convert > 10000))
      throw Error(ErrorCode::usage, "--convert must be a positive number of layers, got " + std::to_string(*a_.convert));
    if (a_.seq_len < 2 || a_.seq_len > 1000000)
      throw Error(ErrorCode::usage, "--seq-len must be between 2 and 1000000 tokens, got " + std::to_string(a_.seq_len));
    if (a_.sequences < 1) throw Error(ErrorCode::usage, "--sequences must be at least 1, got " + std::to_string(a_.sequences));
    if (a_.batch < 1 || a_.batch > 1024)
      throw Error(ErrorCode::usage, "--batch must be between 1 and 1024 sequences, got " + std::to_string(a_.batch));
    if (a_.concurrency < 1 || a_.concurrency > 10000)
      throw Error(ErrorCode::usage, "--concurrency must be between 1 and 10000, got " + std::to_string(a_.concurrency));
    if (a_.max_tokens && *a_.max_tokens < 1)
      throw Error(ErrorCode::usage, "--max-tokens must be at least 1, got " + std::to_string(*a_.max_tokens));
    if (a_.seed && *a_.seed < 0) throw Error(ErrorCode::usage, "--seed must be >= 0, got " + std::to_string(*a_.seed));
    if (a_.run.empty()) throw Error(ErrorCode::usage, "--run NAME is required: the sweep is stored and resumed under it");
  }

  models::LayerDrops variant_drops(int layer) const { return add_drop(base_drops_, layer, a_.mode == "drop-layer"); }

  std::string variant_name(int layer) const {
    return name_ + (a_.mode == "drop-layer" ? " -layer " : " -mixer ") + std::to_string(layer);
  }

  void load_suites() {
    if (!a_.suite_objects.empty()) {
      suites_ = a_.suite_objects;
      items_ = a_.suite_items;
    } else {
      for (const auto& s : split(a_.suites, ','))
        if (!trim(s).empty()) suites_.push_back(suites::make_suite(std::string(trim(s)), {}));  // validates names
      datasets::Catalog catalog(a_.data_dir);
      for (auto& s : suites_) items_.push_back(s->load(catalog));
    }
    for (size_t i = 0; i < suites_.size(); ++i) {
      auto& s = suites_[i];
      const auto& items = items_[i];
      if (items.empty()) {
        throw Error(ErrorCode::usage, "suite " + s->info().name + " has no items (check --data-dir / HYBENCH_DATA_DIR); "
                                      "a layer cannot be ranked on nothing");
      }
    }
  }

  nlohmann::json run_config() const {
    nlohmann::json c{{"command", "importance"}, {"model", a_.model}, {"model_name", name_}, {"metric", metric_},
                     {"mode", a_.mode}, {"suites", a_.suites}};
    if (a_.max_tokens) c["max_tokens"] = *a_.max_tokens;
    if (a_.seed) c["seed"] = *a_.seed;
    if (a_.convert) c["convert"] = *a_.convert;
    if (metric_ == "kl") {
      c["seq_len"] = a_.seq_len;
      c["sequences"] = a_.sequences;
      if (!a_.text.empty()) c["text_sha256"] = sha256_file_hex(a_.text);
      if (!a_.from_run.empty()) c["from_run"] = a_.from_run;
      if (a_.limit) c["limit"] = *a_.limit;  // the token set depends on it
    }
    return c;
  }

  BackendOptions backend_options(const std::string& name) const {
    BackendOptions bo;
    bo.model_name = name;
    bo.max_in_flight = a_.concurrency;
    return bo;
  }

  // Evaluates one model (the full one or a variant) on every suite, resuming what is stored. Returns the
  // model id, or -1 when interrupted or failed.
  int64_t eval_model(store::Store& store, const std::string& spec, const std::string& name) {
    auto backend = make_backend(spec, backend_options(name));
    const int64_t model_id = store.ensure_model(model_record(spec, name, backend->describe()));
    EvalOptions eo;
    if (a_.limit) eo.limit = *a_.limit;
    if (a_.max_tokens) eo.max_tokens = *a_.max_tokens;
    if (a_.seed) eo.seed = uint64_t(*a_.seed);
    eo.concurrency = a_.concurrency;
    eo.max_error_rate = a_.max_error_rate;
    ScoringResources scoring_resources("", backend_options(""));
    for (size_t i = 0; i < suites_.size(); ++i) {
      auto& suite = *suites_[i];
      eo.samples = suite.info().default_samples;
      const int64_t suite_id = store.ensure_suite({suite.info().name, suite.info().variant, suite.info().version, suite.prompt_hash()});
      auto scoring = scoring_resources.context_for(suite);
      auto outcome = run_eval(*backend, suite, items_[i], store, {run_id_, model_id, suite_id}, eo, scoring);
      if (outcome.interrupted) return -1;
      if (outcome.aborted || (outcome.requested > 0 && double(outcome.failed) > a_.max_error_rate * double(outcome.requested))) {
        log_error("{} on {}: {} of {} requests failed; first error: {}", name, suite.info().name, outcome.failed,
                  outcome.requested, outcome.first_error);
        return -1;
      }
      suite_ids_.push_back(suite_id);
    }
    return model_id;
  }

  std::map<std::string, double> all_item_means(store::Store& store, int64_t model_id) {
    std::map<std::string, double> out;
    for (int64_t sid : suite_ids_) {
      auto m = item_means(store, run_id_, model_id, sid);
      out.insert(m.begin(), m.end());
    }
    return out;
  }

  int run_score(store::Store& store) {
    full_id_ = eval_model(store, with_drops(base_spec_, base_drops_), name_);
    if (full_id_ < 0) return kExitRunFailed;
    store.flush();
    const auto full = all_item_means(store, full_id_);
    for (int layer : candidates_) {
      suite_ids_.clear();
      const int64_t id = eval_model(store, with_drops(base_spec_, variant_drops(layer)), variant_name(layer));
      if (id < 0) return kExitRunFailed;
      store.flush();
      const auto var = all_item_means(store, id);
      std::vector<double> a, b;  // variant, full: paired_bootstrap's delta = mean(full - variant) = the drop
      for (const auto& [key, v] : var) {
        auto it = full.find(key);
        if (it == full.end()) continue;
        a.push_back(v);
        b.push_back(it->second);
      }
      if (a.empty()) throw Error(ErrorCode::data, "no item was scored for both " + name_ + " and " + variant_name(layer));
      auto boot = reports::stats::paired_bootstrap(a, b);
      Row r;
      r.layer = layer;
      r.kind = models::layer_code(config_.layers[size_t(layer)]);
      r.n = boot.n;
      r.value = boot.delta;
      r.stderr_ = boot.se;
      r.lo = boot.ci.low;
      r.hi = boot.ci.high;
      r.details = {{"variant", variant_name(layer)}, {"p_two_sided", boot.p_two_sided}};
      put_row(store, run_id_, full_id_, metric_, a_.mode, r);
      log_info("layer {} ({}): score drop {:.4f} [{:.4f}, {:.4f}] over {} items", layer, r.kind, r.value, r.lo, r.hi, r.n);
    }
    return kExitOk;
  }

  std::vector<std::vector<int32_t>> text_sequences(const models::SequenceLogits& lm) const {
    const std::string text = read_file(a_.text);
    auto body = lm.encode_continuation(text);
    auto bos = lm.encode_text("");  // just the BOS when the tokenizer has one
    const size_t per = size_t(a_.seq_len) - bos.size();
    std::vector<std::vector<int32_t>> out;
    for (size_t i = 0; i < body.size() && int(out.size()) < a_.sequences; i += per) {
      std::vector<int32_t> s = bos;
      s.insert(s.end(), body.begin() + long(i), body.begin() + long(std::min(body.size(), i + per)));
      if (s.size() >= 2) out.push_back(std::move(s));
    }
    if (out.empty()) throw Error(ErrorCode::usage, "--text '" + a_.text + "' gives no token sequence; it needs at least one token of text");
    return out;
  }

  // The prompts plus the full model's completions stored in --from-run (default: this run; generated first
  // when missing).
  std::vector<std::vector<int32_t>> stored_sequences(store::Store& store, const models::SequenceLogits& lm) {
    std::vector<std::vector<int32_t>> out;
    const bool this_run = a_.from_run.empty() || a_.from_run == run_name_;
    int64_t src_run = run_id_;
    if (!this_run) {
      auto s = store.reader().prepare("SELECT id FROM runs WHERE name = ?");
      s.bind(1, a_.from_run);
      if (!s.step()) throw Error(ErrorCode::usage, "--from-run '" + a_.from_run + "' is not a run in " + a_.db);
      src_run = s.int64(0);
    }
    auto q = store.reader().prepare(
        "SELECT x.prompt_json, x.completion FROM samples x JOIN models m ON m.id = x.model_id JOIN suites s ON s.id = x.suite_id "
        "WHERE x.run_id = ? AND m.display_name = ? AND s.name = ? AND x.error_kind IS NULL ORDER BY x.item_id, x.sample_index");
    for (auto& suite : suites_) {
      q.reset();
      q.bind(1, src_run).bind(2, name_).bind(3, suite->info().name);
      int taken = 0;
      while (q.step() && int(out.size()) < a_.sequences && (!a_.limit || taken < *a_.limit)) {
        auto prompt = nlohmann::json::parse(q.text(0), nullptr, false);
        std::vector<int32_t> ids;
        if (prompt.is_object() && prompt.contains("messages")) {
          std::vector<models::ChatTurn> turns;
          for (const auto& m : prompt["messages"]) turns.push_back({m.value("role", ""), m.value("content", "")});
          ids = lm.encode_chat(turns);
        } else if (prompt.is_object() && prompt.contains("prompt")) {
          ids = lm.encode_text(prompt["prompt"].get<std::string>());
        } else {
          continue;
        }
        auto more = lm.encode_continuation(q.text(1));
        ids.insert(ids.end(), more.begin(), more.end());
        if (int(ids.size()) > a_.seq_len) ids.resize(size_t(a_.seq_len));
        if (ids.size() >= 2) out.push_back(std::move(ids));
        ++taken;
      }
    }
    return out;
  }

  int run_kl(store::Store& store) {
    const std::string full_spec = with_drops(base_spec_, base_drops_);
    const bool this_run = a_.from_run.empty() || a_.from_run == run_name_;
    if (!suites_.empty() && this_run) {
      // The full model's completions are part of the token set: generate (or resume) them first.
      full_id_ = eval_model(store, full_spec, name_);
      if (full_id_ < 0) return kExitRunFailed;
      store.flush();
    }
    auto parsed = parse_native_spec(a_.model.substr(7), NativeOptions{});
    models::ModelOptions mo;
    mo.device = parsed.options.device.empty() ? "auto" : parsed.options.device;
    mo.threads = parsed.options.threads;
    mo.ssm_state_dtype = parsed.options.ssm_state_dtype;
    mo.gpu_reserve_gib = parsed.options.gpu_reserve_gib;
    mo.gpu_max_sequences = a_.batch;
    mo.context = a_.seq_len;
    mo.drops = base_drops_;
    const auto t_load = std::chrono::steady_clock::now();
    auto lm = models::SequenceLogits::load(target_, mo);
    log_info("kl: model loaded on {} in {:.1f} s", lm->device(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
    auto seqs = a_.text.empty() ? stored_sequences(store, *lm) : text_sequences(*lm);
    if (seqs.empty()) {
      throw Error(ErrorCode::usage, "no stored completion of " + name_ + " on " + a_.suites + " in run '" +
                                        (this_run ? run_name_ : a_.from_run) + "'; evaluate it there first or pass --text FILE");
    }
    if (full_id_ == 0) {
      BackendInfo info;
      info.kind = "native";
      info.spec = full_spec;
      info.model_name = name_;
      info.details = {{"layout", config_.layout_string()}, {"attention_layers", config_.attention_layers()},
                      {"mamba_layers", config_.mamba_layers()}, {"params", config_.params()}};
      full_id_ = store.ensure_model(model_record(full_spec, name_, info));
    }
    int64_t tokens = 0;
    for (const auto& s : seqs) tokens += int64_t(s.size());
    auto done = stored_layers(store, run_id_, full_id_, metric_, a_.mode);
    std::vector<int> todo;
    for (int l : candidates_)
      if (std::find(done.begin(), done.end(), l) == done.end()) todo.push_back(l);
    log_info("kl: {} sequences, {} tokens; {} layers to measure ({} already stored)", seqs.size(), tokens, todo.size(),
             candidates_.size() - todo.size());
    const auto t0 = std::chrono::steady_clock::now();
    constexpr size_t kGroup = 8;  // variants per pass over the token set: the full model runs once per group
    for (size_t g = 0; g < todo.size(); g += kGroup) {
      if (interrupt_flag().load()) return kExitRunFailed;
      std::vector<int> group(todo.begin() + long(g), todo.begin() + long(std::min(todo.size(), g + kGroup)));
      std::vector<models::LayerDrops> variants;
      for (int l : group) variants.push_back(variant_drops(l));
      auto kl = lm->kl_per_sequence(seqs, variants);
      for (size_t v = 0; v < group.size(); ++v) {
        const auto& xs = kl[v];
        double mean = 0, ss = 0;
        for (double x : xs) mean += x;
        mean /= double(xs.size());
        for (double x : xs) ss += (x - mean) * (x - mean);
        const double se = xs.size() > 1 ? std::sqrt(ss / double(xs.size() - 1) / double(xs.size())) : 0.0;
        Row r;
        r.layer = group[v];
        r.kind = models::layer_code(config_.layers[size_t(group[v])]);
        r.n = int64_t(xs.size());
        r.value = mean;
        r.stderr_ = se;
        r.lo = mean - 1.96 * se;
        r.hi = mean + 1.96 * se;
        r.details = {{"tokens", tokens}, {"device", lm->device()}};
        put_row(store, run_id_, full_id_, metric_, a_.mode, r);
      }
      log_info("kl: {}/{} layers, {:.1f} s", std::min(todo.size(), g + kGroup), todo.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("kl sweep: %zu layers x %zu sequences (%lld tokens) on %s in %.1f s\n", todo.size(), seqs.size(),
                static_cast<long long>(tokens), lm->device().c_str(), secs);
    return kExitOk;
  }

  void print_ranking() {
    reports::ResultsDb rdb(a_.db);
    auto sweeps = reports::load_importance(rdb, rdb.select_runs({run_name_}));
    const reports::ImportanceSweep* sw = nullptr;
    for (const auto& s : sweeps)
      if (s.model_id == full_id_ && s.metric == metric_ && s.mode == a_.mode) sw = &s;
    if (!sw) throw Error(ErrorCode::internal, "importance rows of run '" + run_name_ + "' were not found after the sweep");
    std::printf("run %s  model %s  metric %s  mode %s  (%s)\n", run_name_.c_str(), name_.c_str(), metric_.c_str(),
                a_.mode.c_str(), metric_ == "kl" ? "mean KL(full || dropped), nats" : "score drop, full - dropped");
    std::printf("%4s %5s %4s %12s %25s %6s\n", "rank", "layer", "kind", "importance", "95% interval", "n");
    int rank = 0;
    for (int layer : reports::rank_layers(*sw)) {
      for (const auto& l : sw->layers) {
        if (l.layer != layer) continue;
        std::printf("%4d %5d %4s %12.6f   [%10.6f, %10.6f] %6lld\n", ++rank, layer, l.kind.c_str(), l.value.value_or(NAN),
                    l.ci_low.value_or(NAN), l.ci_high.value_or(NAN), static_cast<long long>(l.n));
      }
    }
    if (a_.convert) {
      auto next = reports::next_conversions(*sw, layout_, *a_.convert);
      std::vector<std::string> parts;
      for (int l : next) parts.push_back(std::to_string(l));
      std::printf("convert next (%d asked, least important attention layers of layout %s first): %s\n", *a_.convert,
                  layout_.c_str(), parts.empty() ? "none" : join(parts, ",").c_str());
      if (int(next.size()) < *a_.convert)
        log_warn("only {} measured attention layers are left to convert; asked for {}", next.size(), *a_.convert);
    }
    std::fflush(stdout);
  }

  const ImportanceOptions& a_;
  std::string base_spec_, target_, name_, layout_, metric_, run_name_;
  models::LayerDrops base_drops_;
  models::ModelConfig config_;
  std::vector<int> candidates_;
  std::vector<std::shared_ptr<suites::Suite>> suites_;
  std::vector<std::vector<suites::Item>> items_;
  std::vector<int64_t> suite_ids_;
  int64_t run_id_ = 0, full_id_ = 0;
};

}  // namespace

int run_layer_importance(const ImportanceOptions& options) {
  Sweep sweep(options);
  return sweep.run();
}

}  // namespace hb::runner
