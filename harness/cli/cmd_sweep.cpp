// hybench sweep: throughput/latency points (shapes x load levels x repeats) against any backend, every
// point and request trace stored in the DB, resumable, with a JSON export. See docs/METRICS.md.
#include <sys/resource.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "datasets/catalog.h"
#include "harness/backends/backend_factory.h"
#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/cli_options.h"
#include "harness/cli/commands.h"
#include "harness/load/launched_server.h"
#include "harness/runner/model_record.h"
#include "harness/load/load_spec.h"
#include "harness/load/slo_search.h"
#include "harness/load/sweep.h"
#include "harness/runner/error_rate.h"
#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::cli {
namespace {

struct SweepArgs {
  std::string model, model_name, shapes, concurrency, rate, slo, db = "hybench.db", run, json_path, launch_url;
  double burstiness = 1;
  double max_error_rate = 0.5;
  int requests = 0;         // 0: default_requests(load)
  double duration_s = 0;
  double auto_start = 1;
  double auto_max = 0;      // not given: 1024 streams or 1000 req/s
  int warmup = 0;
  int repeats = 1;
  uint64_t seed = 0;
  int shared_prefix = 0;
  bool no_force_output = false;
  bool chat = false;
  int prompt_token_ids = 0;
  double unstable_threshold = 0.10;
  int max_in_flight = 0;
  double connect_timeout_s = 10;
  double idle_timeout_s = 300;
  double launch_timeout_s = 600;
  std::string api_key_env = "OPENAI_API_KEY";
  std::string prompts;      // SUITE[:VARIANT]: replay the suite's prompts
  std::string data_dir;
  int prompt_limit = 0;     // 0 = every item
};

// The prompts of a suite, as the eval command would send them (first user turn, the suite's sampling
// and token limit), for throughput points on realistic inputs and output lengths.
std::shared_ptr<load::PromptSet> suite_prompts(const SweepArgs& a) {
  auto colon = a.prompts.find(':');
  std::string name = a.prompts.substr(0, colon);
  suites::SuiteOptions so;
  if (colon != std::string::npos) so.variant = a.prompts.substr(colon + 1);
  auto suite = suites::make_suite(name, so);
  datasets::Catalog catalog(a.data_dir);
  auto items = suite->load(catalog);
  auto set = std::make_shared<load::PromptSet>();
  const auto& info = suite->info();
  set->name = "suite:" + info.name + (info.variant.empty() ? "" : "/" + info.variant);
  for (const auto& item : items) {
    if (a.prompt_limit > 0 && static_cast<int>(set->requests.size()) >= a.prompt_limit) break;
    suites::PromptPlan plan = suite->prompt(item);
    GenerationRequest r;
    r.id = item.id;
    r.sampling = info.default_sampling;
    if (plan.temperature) r.sampling.temperature = *plan.temperature;
    for (const auto& stop : plan.stop) r.sampling.stop.push_back(stop);
    if (plan.raw_prompt) {
      r.prompt = *plan.raw_prompt;
    } else {
      r.messages = plan.prefix;
      if (!plan.user_turns.empty()) r.messages.push_back({"user", plan.user_turns.front()});
    }
    set->requests.push_back(std::move(r));
  }
  if (set->requests.empty()) throw Error(ErrorCode::data, "--prompts " + a.prompts + ": the suite has no items");
  set->details = {{"suite", info.name}, {"variant", info.variant}, {"version", info.version},
                  {"prompt_hash", suite->prompt_hash()}, {"max_tokens", info.default_sampling.max_tokens}};
  return set;
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string dir_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : (pos == 0 ? "/" : path.substr(0, pos));
}

int run_sweep_command(const SweepArgs& a, const CLI::App& app) {
  load::SweepOptions o;
  if (a.shapes.empty() == a.prompts.empty())
    throw Error(ErrorCode::usage, "give exactly one of --shape IN:OUT[,...] (random prompts) or --prompts SUITE[:VARIANT] "
                                  "(a suite's prompts replayed)");
  if (!a.prompts.empty()) {
    if (a.prompt_limit < 0) throw Error(ErrorCode::usage, "--prompt-limit must be >= 0 (0 = every item)");
    o.replay = suite_prompts(a);
    o.shapes = {{0, o.replay->details.value("max_tokens", 0), o.replay->name}};
    log_info("sweep: replaying {} prompts of {}", o.replay->requests.size(), o.replay->name);
  } else {
    o.shapes = load::parse_shapes(a.shapes);
  }
  if (a.concurrency.empty() == a.rate.empty())
    throw Error(ErrorCode::usage, "give exactly one of --concurrency N[,N...] (closed loop) or --rate R[,R...] (open loop)");
  if (!a.slo.empty()) o.slo = load::parse_slo(a.slo);
  // --concurrency auto / --rate auto: search the highest load meeting the SLOs instead of fixed levels.
  std::optional<load::SearchOptions> search;
  if (a.concurrency == "auto" || a.rate == "auto") {
    if (o.slo.empty())
      throw Error(ErrorCode::usage, std::string(a.rate == "auto" ? "--rate" : "--concurrency") +
                                        " auto searches the highest load meeting SLOs: give them, e.g. --slo "
                                        "ttft_p99=500,tpot_p99=50,e2e_p99=20000");
    if (!o.slo.percentile) {
      o.slo.percentile = 99;
      log_info("sweep: --slo without a percentile: a load passes when 99% of its requests meet every bound");
    }
    search.emplace();
    const bool rates = a.rate == "auto";
    search->kind = rates ? load::LoadKind::rate : load::LoadKind::concurrency;
    // The search's bounds are loads like any level: finite, positive, whole streams for concurrency (a NaN or
    // infinite --auto-max doubled the probes forever; 0.3 streams probed concurrency 0 and hung).
    auto check_bound = [&](const char* name, double v) {
      if (rates && !(std::isfinite(v) && v > 0 && v <= 1e6))
        throw Error(ErrorCode::usage, fmt::format("{} {:g} must be > 0 and at most 1e+06 requests per second", name, v));
      if (!rates && !(std::isfinite(v) && v >= 1 && v <= 1e6 && v == std::floor(v)))
        throw Error(ErrorCode::usage, fmt::format("{} {:g} must be a whole number of streams from 1 to 1000000 with "
                                                  "--concurrency auto", name, v));
    };
    check_bound("--auto-start", a.auto_start);
    if (app.count("--auto-max")) check_bound("--auto-max", a.auto_max);
    search->start = a.auto_start;
    search->max_load = app.count("--auto-max") ? a.auto_max : (rates ? 1000 : 1024);
    if (search->start > search->max_load)
      throw Error(ErrorCode::usage, fmt::format("--auto-start {:g} must be at most --auto-max {:g}", search->start,
                                                search->max_load));
    if (a.rate == "auto") load::check_burstiness(a.burstiness);
    search->burstiness = a.burstiness;
    o.loads.push_back({search->kind, search->max_load, a.burstiness});  // sizes the client's connection cap
  } else if (app.count("--auto-start") || app.count("--auto-max")) {
    throw Error(ErrorCode::usage, "--auto-start and --auto-max bound the search of --concurrency auto or --rate auto; "
                                  "leave them out with fixed load levels");
  } else if (!a.concurrency.empty()) {
    for (int c : load::parse_concurrency_list(a.concurrency)) o.loads.push_back({load::LoadKind::concurrency, double(c), 1});
  } else {
    load::check_burstiness(a.burstiness);
    for (double r : load::parse_rate_list(a.rate)) o.loads.push_back({load::LoadKind::rate, r, a.burstiness});
  }
  runner::check_max_error_rate(a.max_error_rate, "--max-error-rate");
  if (a.requests < 0)
    throw Error(ErrorCode::usage, fmt::format("--requests {} must be >= 1 (leave it out for max(100, 4 x concurrency))", a.requests));
  if (a.duration_s < 0) throw Error(ErrorCode::usage, fmt::format("--duration {:g} must be >= 0 seconds", a.duration_s));
  if (a.warmup < 0) throw Error(ErrorCode::usage, fmt::format("--warmup {} must be >= 0", a.warmup));
  if (a.repeats < 1) throw Error(ErrorCode::usage, fmt::format("--repeats {} must be >= 1", a.repeats));
  if (a.shared_prefix < 0) throw Error(ErrorCode::usage, "--shared-prefix must be >= 0 tokens");
  if (o.replay && a.shared_prefix > 0) throw Error(ErrorCode::usage, "--shared-prefix applies to random prompts (--shape) only");
  for (const auto& s : o.shapes)
    if (!o.replay && a.shared_prefix >= s.input_tokens)
      throw Error(ErrorCode::usage, fmt::format("--shared-prefix {} must be shorter than the input of shape {}", a.shared_prefix, s.str()));
  o.requests = a.requests;
  o.duration_s = a.duration_s;
  o.warmup = a.warmup;
  o.repeats = a.repeats;
  o.seed = a.seed;
  o.shared_prefix_tokens = a.shared_prefix;
  o.force_output_length = !a.no_force_output;
  o.chat = a.chat;
  if (a.prompt_token_ids < 0)
    throw Error(ErrorCode::usage, "--prompt-token-ids must be a vocabulary size > 0, got " + std::to_string(a.prompt_token_ids));
  o.unstable_threshold = a.unstable_threshold;

  // The backend (and the launched server behind it).
  std::string spec = a.model;
  std::unique_ptr<load::LaunchedServer> server;
  if (starts_with(spec, "launch:")) {
    if (a.launch_url.empty())
      throw Error(ErrorCode::usage, "--model launch:CMD needs --launch-url URL (the server's base URL with /v1)");
    std::string run_label = a.run.empty() ? "sweep" : a.run;
    load::LaunchOptions lo;
    lo.command = spec.substr(7);
    lo.url = a.launch_url;
    lo.log_path = dir_of(a.db) + "/" + run_label + "-server.log";
    lo.ready_timeout_s = a.launch_timeout_s;
    server = std::make_unique<load::LaunchedServer>(lo);
    spec = "openai:" + a.launch_url;
  } else if (!a.launch_url.empty()) {
    throw Error(ErrorCode::usage, "--launch-url is only used with --model launch:CMD");
  }
  int max_conc = 1;
  for (const auto& l : o.loads) max_conc = std::max(max_conc, static_cast<int>(l.value));
  BackendOptions bo;
  bo.model_name = a.model_name;
  bo.max_in_flight = a.max_in_flight > 0 ? a.max_in_flight : (a.rate.empty() ? max_conc : 4096);
  bo.api_key_env = a.api_key_env;
  bo.connect_timeout_s = a.connect_timeout_s;
  bo.idle_timeout_s = a.idle_timeout_s;
  raise_fd_limit();

  // The run: same name + same configuration resumes.
  nlohmann::json config = {{"model", a.model},
                           {"model_name", a.model_name},
                           {"shapes", a.shapes},
                           {"concurrency", a.concurrency},
                           {"rate", a.rate},
                           {"burstiness", a.rate.empty() ? 1.0 : a.burstiness},
                           {"requests", a.requests},
                           {"auto_start", search ? a.auto_start : 0},
                           {"auto_max", search ? search->max_load : 0},
                           {"duration_s", a.duration_s},
                           {"warmup", a.warmup},
                           {"repeats", a.repeats},
                           {"seed", a.seed},
                           {"slo", a.slo},
                           {"shared_prefix", a.shared_prefix},
                           {"force_output_length", o.force_output_length},
                           {"chat", a.chat},
                           {"prompt_token_ids", a.prompt_token_ids},
                           {"prompts", a.prompts},
                           {"prompt_limit", a.prompt_limit}};
  if (!server) check_backend_spec(spec, bo);  // before the database is touched
  store::Store store(a.db);
  std::string run_name = a.run.empty() ? "sweep-" + utc_now_compact() : a.run;
  // The sweep of this model is one part of the run: evals and sweeps of other models can share the name.
  std::vector<store::RunPart> parts{{"sweep/" + (a.model_name.empty() ? a.model : a.model_name), "sweep", config}};
  auto run = store.open_run_parts(run_name, "sweep", config, parts);
  if (run.resumed) log_info("sweep: resuming run '{}' in {}", run_name, a.db);
  else log_info("sweep: run '{}' in {}", run_name, a.db);

  try {
    if (server) server->start();
    auto backend = make_backend(spec, bo);
    BackendInfo info = backend->describe();
    o.model_name = info.model_name;
    o.settings = {{"backend", info.kind}, {"spec", info.spec}, {"details", info.details}};
    o.client_shares_process = info.kind == "native";
    o.vocab_size = a.prompt_token_ids;
    if (info.kind == "native" && info.details.contains("vocab_size")) o.vocab_size = info.details["vocab_size"].get<int>();
    if (o.vocab_size > 0 && a.chat)
      throw Error(ErrorCode::usage, "--chat cannot send token-id prompts; leave out --chat or --prompt-token-ids");
    if (server) o.settings["launch_command"] = server->options().command;
    int64_t model_id = store.ensure_model(runner::model_record(server ? a.model : info.spec, info.model_name, info));
    auto between = [&] {
      if (server) server->check_alive();
    };
    load::SweepResult result;
    std::vector<load::ShapeSearch> searched;
    if (search) {
      auto outcome = load::search_max_load(*backend, o, *search, &store, run.id, model_id, between);
      result = std::move(outcome.sweep);
      searched = std::move(outcome.shapes);
    } else {
      result = load::run_sweep(*backend, o, &store, run.id, model_id, between);
    }
    if (server) server->check_alive();
    backend.reset();
    if (server) server->stop();
    store.flush();

    std::fputs(load::render_table(result).c_str(), stdout);
    std::map<std::string, std::pair<int64_t, int64_t>> per_endpoint;
    int64_t all = 0, failed = 0;
    for (const auto& p : result.points) {
      all += p.metrics.value("requests", 0);
      failed += p.metrics.value("errors", 0);
      if (p.metrics.contains("endpoints"))
        for (const auto& [url, c] : p.metrics["endpoints"].items()) {
          per_endpoint[url].first += c.value("requests", 0);
          per_endpoint[url].second += c.value("errors", 0);
        }
    }
    if (per_endpoint.size() > 1)
      for (const auto& [url, c] : per_endpoint)
        std::fprintf(stdout, "endpoint %s: %lld requests, %lld errors\n", url.c_str(), static_cast<long long>(c.first),
                     static_cast<long long>(c.second));
    std::fprintf(stdout, "run %s: %zu points, %lld requests, %lld errors (%.1f%%)\n", run_name.c_str(), result.points.size(),
                 static_cast<long long>(all), static_cast<long long>(failed), all ? 100.0 * failed / all : 0.0);
    if (search) std::fputs(load::render_search(searched, o.slo).c_str(), stdout);
    std::fflush(stdout);
    if (!a.json_path.empty()) {
      std::ofstream f(a.json_path);
      nlohmann::json doc = result.to_json(o);
      if (search) {
        doc["slo_search"] = nlohmann::json::array();
        for (const auto& s : searched) doc["slo_search"].push_back(s.to_json());
      }
      f << doc.dump(2) << "\n";
      if (!f) throw Error(ErrorCode::io, "cannot write --json " + a.json_path + "; check the directory exists and is writable");
      log_info("sweep: wrote {}", a.json_path);
    }
    runner::ErrorTally tally{failed, all};
    std::string status = tally.exceeds(a.max_error_rate) ? "failed" : "finished";
    store.end_parts(run.id, parts, status);
    std::fprintf(stdout, "%s\n", runner::final_line(run_name, status, tally, "requests", a.max_error_rate).c_str());
    std::fflush(stdout);
    if (tally.exceeds(a.max_error_rate)) {
      log_error("sweep: {}{}, more than --max-error-rate {:g}; see the error kinds above (is the server up and the "
                "model name right?)", tally.failed == tally.total ? "every request failed: " : "",
                tally.describe("requests"), a.max_error_rate);
      return kExitRunFailed;
    }
    for (const auto& s : searched)
      if (!s.best) {
        log_error("sweep: no load meets the SLOs for shape {} (even the lowest probe); exit 1", s.shape.str());
        return kExitVerdictFailed;
      }
    return kExitOk;
  } catch (...) {
    try {
      store.flush();
      store.end_parts(run.id, parts, "failed");
    } catch (...) {
    }
    throw;
  }
}

}  // namespace

void add_sweep_command(CLI::App& root, int& exit_code) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* app = root.add_subcommand(
      "sweep", "Throughput and latency sweep: shapes x load levels x repeats; points and request traces stored in the DB");
  app->add_option("--model", a->model, "Backend: openai:URL[,URL...] (replicas) | native:... | launch:CMD")
      ->transform([](std::string v) { return http_url_as_openai("--model", v); })
      ->required();
  app->add_option("--model-name", a->model_name, "Model name sent to the server and shown in results");
  app->add_option("--shape", a->shapes, "Workload shapes IN:OUT[,IN:OUT...] in tokens, e.g. 1024:128,1:16000");
  app->add_option("--prompts", a->prompts, "Instead of --shape: replay a suite's prompts with its token limit, e.g. math500");
  app->add_option("--prompt-limit", a->prompt_limit, "With --prompts: use only the first N items (0 = all)");
  app->add_option("--data-dir", a->data_dir, "With --prompts: local mirror of the suite data (also HYBENCH_DATA_DIR)");
  app->add_option("--concurrency", a->concurrency,
                  "Closed loop: requests kept in flight, e.g. 1,8,32; 'auto' searches the highest meeting --slo");
  app->add_option("--rate", a->rate, "Open loop: arrivals per second, e.g. 0.5,2,8; 'auto' searches the highest meeting --slo");
  app->add_option("--auto-start", a->auto_start, "With auto: the first load probed")->capture_default_str();
  app->add_option("--auto-max", a->auto_max, "With auto: the highest load probed (default 1024 streams, 1000 req/s)");
  app->add_option("--burstiness", a->burstiness, "Gamma shape of the arrival gaps (1 = Poisson)")->capture_default_str();
  app->add_option("--requests", a->requests, "Measured requests per point (default max(100, 4 x concurrency); rates: "
                                            "max(100, 20 s of arrivals))");
  app->add_option("--duration", a->duration_s, "Measure each point for this many seconds instead (--requests caps it)");
  app->add_option("--warmup", a->warmup, "Warm-up requests per point, excluded from the statistics")->capture_default_str();
  app->add_option("--repeats", a->repeats, "Repeats per point (median and spread reported)")->capture_default_str();
  app->add_option("--slo", a->slo, "SLOs for goodput, e.g. ttft_ms=500,tpot_ms=50,e2e_ms=20000; with percentiles "
                                  "(ttft_p99=500,tpot_p99=50) each point says whether it meets them");
  app->add_option("--seed", a->seed, "Seed of prompts and arrival schedules")->capture_default_str();
  add_db_option(*app, a->db);
  app->add_option("--run", a->run, "Run name; the same name resumes an interrupted sweep at its first unfinished point");
  app->add_option("--json", a->json_path, "Also write the points as JSON (schema_version 1) to this file");
  app->add_option("--launch-url", a->launch_url, "With --model launch:CMD: the server's base URL, e.g. http://127.0.0.1:8000/v1");
  app->add_option("--launch-timeout", a->launch_timeout_s, "Seconds to wait for a launched server to become healthy")
      ->capture_default_str();
  app->add_option("--shared-prefix", a->shared_prefix, "Tokens of prompt prefix shared by all requests of a point");
  app->add_flag("--no-force-output", a->no_force_output, "Do not send ignore_eos/min_tokens (real output lengths)");
  app->add_flag("--chat", a->chat, "Send random prompts as chat messages (default: /v1/completions, no chat template)");
  app->add_option("--prompt-token-ids", a->prompt_token_ids,
                  "Random prompts as exactly IN token ids below this vocabulary size, for servers that accept ids "
                  "(vLLM); automatic for native: models");
  app->add_option("--unstable-threshold", a->unstable_threshold, "Flag points whose repeats' output tok/s spread exceeds this")
      ->capture_default_str();
  app->add_option("--max-in-flight", a->max_in_flight, "Client cap on requests on the wire (default: the largest concurrency; 4096 for --rate)");
  app->add_option("--connect-timeout", a->connect_timeout_s, "Connect timeout, seconds")->capture_default_str();
  app->add_option("--idle-timeout", a->idle_timeout_s, "Abort a request after this many seconds without a byte")->capture_default_str();
  app->add_option("--max-error-rate", a->max_error_rate, "The run fails (exit 3) when more than this fraction of requests fail")
      ->capture_default_str();
  app->add_option("--api-key-env", a->api_key_env, "Environment variable holding the API key")->capture_default_str();
  app->callback([a, app, &exit_code] { exit_code = run_sweep_command(*a, *app); });
}

}  // namespace hb::cli
