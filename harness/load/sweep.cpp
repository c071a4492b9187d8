#include "harness/load/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/load/load_generator.h"
#include "harness/load/workload.h"
#include "harness/store/store.h"

namespace hb::load {
namespace {

using json = nlohmann::json;

// (int64 t_ns relative to the point start, int32 tokens) per chunk, little-endian (x86 and ARM Linux).
std::string pack_chunks(const std::vector<ChunkTiming>& chunks, int64_t t0) {
  std::string out;
  out.resize(chunks.size() * 12);
  char* p = out.data();
  for (const auto& c : chunks) {
    int64_t t = c.t_ns - t0;
    std::memcpy(p, &t, 8);
    std::memcpy(p + 8, &c.tokens, 4);
    p += 12;
  }
  return out;
}

std::optional<int64_t> rel(int64_t t, int64_t t0) {
  if (t == 0) return std::nullopt;
  return t - t0;
}

std::optional<int64_t> count_or_null(int64_t v) {
  if (v < 0) return std::nullopt;
  return v;
}

void store_point(store::Db& db, int64_t point_id, const PointRun& run, const json& metrics) {
  db.prepare("DELETE FROM request_traces WHERE point_id=?").bind(1, point_id).run();
  auto ins = db.prepare(
      "INSERT INTO request_traces(point_id, request_index, scheduled_ns, send_ns, first_byte_ns, first_token_ns, "
      "first_content_ns, end_ns, prompt_tokens, completion_tokens, client_completion_tokens, chunks, finish_reason, "
      "endpoint, error_kind, error_message, connect_ns) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  const int64_t t0 = run.start_ns;
  for (const auto& t : run.traces) {
    const GenerationResult& r = t.result;
    int64_t client = 0;
    for (const auto& c : r.chunks) client += c.tokens;
    std::string blob = pack_chunks(r.chunks, t0);
    ins.reset();
    ins.bind(1, point_id)
        .bind(2, static_cast<int64_t>(t.warmup ? -1 - t.index : t.index))  // warm-up requests get negative indices
        .bind(3, rel(t.scheduled_ns, t0))
        .bind(4, rel(r.send_ns, t0))
        .bind(5, rel(r.first_byte_ns, t0))
        .bind(6, rel(r.first_token_ns, t0))
        .bind(7, rel(r.first_content_ns, t0))
        .bind(8, rel(r.end_ns, t0))
        .bind(9, count_or_null(r.usage.prompt_tokens))
        .bind(10, count_or_null(r.usage.completion_tokens))
        .bind(11, client)
        .bind_blob(12, blob.data(), blob.size())
        .bind(13, r.finish_reason)
        .bind(14, r.endpoint);
    if (r.error) ins.bind(15, r.error->kind).bind(16, r.error->message);
    else ins.bind_null(15).bind_null(16);
    ins.bind(17, r.connect_ns);
    ins.run();
  }
  int requests = metrics.value("requests", 0), errors = metrics.value("errors", 0);
  db.prepare("UPDATE perf_points SET metrics_json=?, requests=?, errors=?, status='finished', ended_at=? WHERE id=?")
      .bind(1, metrics.dump())
      .bind(2, requests)
      .bind(3, errors)
      .bind(4, utc_now_iso8601())
      .bind(5, point_id)
      .run();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double metric_at(const json& m, const char* key, const char* sub = nullptr) {
  const json* v = m.contains(key) ? &m[key] : nullptr;
  if (v && sub) v = v->contains(sub) ? &(*v)[sub] : nullptr;
  return v && v->is_number() ? v->get<double>() : std::nan("");
}

}  // namespace

int default_requests(const LoadLevel& load) {
  if (load.kind == LoadKind::concurrency) return std::max(100, static_cast<int>(std::ceil(4 * load.value)));
  return std::max(100, static_cast<int>(std::ceil(20 * load.value)));
}

std::string point_key(const Shape& shape, const LoadLevel& load, int repeat) {
  return "shape=" + shape.str() + "|" + load.str() + "|repeat=" + std::to_string(repeat);
}

json summarize_repeats(const std::vector<SweepPoint>& points, double unstable_threshold) {
  std::map<std::string, std::vector<const SweepPoint*>> groups;
  std::vector<std::string> order;
  for (const auto& p : points) {
    std::string key = "shape=" + p.shape.str() + "|" + p.load.str();
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&p);
  }
  struct Field {
    const char* name;
    const char* key;
    const char* sub;
  };
  const Field fields[] = {{"output_tok_per_s", "output_tok_per_s", nullptr},
                          {"request_per_s", "request_per_s", nullptr},
                          {"ttft_ms_p50", "ttft_ms", "p50"},
                          {"ttft_ms_p99", "ttft_ms", "p99"},
                          {"tpot_ms_p50", "tpot_ms", "p50"},
                          {"itl_ms_p50", "itl_ms", "p50"},
                          {"e2e_ms_p50", "e2e_ms", "p50"}};
  json out = json::array();
  for (const auto& key : order) {
    const auto& g = groups[key];
    json row = {{"shape", g.front()->shape.str()},
                {g.front()->load.kind_name(), g.front()->load.value},
                {"repeats", g.size()}};
    if (g.front()->load.kind == LoadKind::rate) row["burstiness"] = g.front()->load.burstiness;
    bool unstable = false;
    for (const auto& f : fields) {
      std::vector<double> vals;
      for (const auto* p : g) {
        double v = metric_at(p->metrics, f.key, f.sub);
        if (!std::isnan(v)) vals.push_back(v);
      }
      if (vals.empty()) continue;
      double med = median(vals);
      double spread = med != 0 ? (*std::max_element(vals.begin(), vals.end()) - *std::min_element(vals.begin(), vals.end())) / std::fabs(med) : 0;
      row[f.name] = {{"median", med}, {"spread", spread}};
      if (std::string(f.name) == "output_tok_per_s" && vals.size() > 1 && spread > unstable_threshold) unstable = true;
    }
    row["unstable"] = unstable;
    out.push_back(row);
  }
  return out;
}

SweepResult run_sweep(Backend& backend, const SweepOptions& opt, store::Store* store, int64_t run_id, int64_t model_id,
                      const std::function<void()>& between_points) {
  SweepResult result;
  // Finished points of an earlier, interrupted run of the same sweep.
  std::map<std::string, json> finished;
  if (store) {
    auto q = store->reader().prepare(
        "SELECT point_key, metrics_json FROM perf_points WHERE run_id=? AND model_id=? AND status='finished'");
    q.bind(1, run_id).bind(2, model_id);
    while (q.step()) finished[q.text(0)] = json::parse(q.text(1), nullptr, false);
  }
  const int total_points = static_cast<int>(opt.shapes.size() * opt.loads.size()) * opt.repeats;
  int point_no = 0;
  for (const auto& shape : opt.shapes) {
    WorkloadOptions wo;
    wo.shape = shape;
    wo.replay = opt.replay;
    wo.shared_prefix_tokens = opt.shared_prefix_tokens;
    wo.force_output_length = opt.force_output_length;
    wo.chat = opt.chat;
    wo.vocab_size = opt.vocab_size;
    wo.seed = opt.seed;
    Workload workload(wo);
    for (const auto& load : opt.loads) {
      for (int rep = 0; rep < opt.repeats; ++rep) {
        ++point_no;
        SweepPoint point{shape, load, rep, false, json::object()};
        std::string key = point_key(shape, load, rep);
        if (auto it = finished.find(key); it != finished.end() && !it->second.is_discarded()) {
          point.resumed = true;
          point.metrics = it->second;
          log_info("sweep: point {}/{} {} already finished; skipped", point_no, total_points, key);
          result.points.push_back(std::move(point));
          continue;
        }
        if (between_points) between_points();
        int64_t point_id = 0;
        if (store) {
          json workload_json = workload.describe();
          std::string started = utc_now_iso8601();
          store->write_sync([&](store::Db& db) {
            db.prepare("INSERT OR IGNORE INTO perf_points(run_id, model_id, point_key, shape, load_kind, load_value, "
                       "burstiness, repeat_index, workload_json, settings_json, status, started_at) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?,'running',?)")
                .bind(1, run_id)
                .bind(2, model_id)
                .bind(3, key)
                .bind(4, shape.str())
                .bind(5, load.kind_name())
                .bind(6, load.value)
                .bind(7, load.burstiness)
                .bind(8, rep)
                .bind(9, workload_json.dump())
                .bind(10, opt.settings.dump())
                .bind(11, started)
                .run();
            auto q = db.prepare("SELECT id FROM perf_points WHERE run_id=? AND model_id=? AND point_key=?");
            q.bind(1, run_id).bind(2, model_id).bind(3, key);
            q.step();
            point_id = q.int64(0);
            db.prepare("UPDATE perf_points SET status='running', started_at=? WHERE id=?").bind(1, started).bind(2, point_id).run();
          });
        }
        PointPlan plan;
        plan.load = load;
        plan.requests = opt.requests > 0 ? opt.requests : (opt.duration_s > 0 ? 0 : default_requests(load));
        plan.duration_s = opt.duration_s;
        plan.warmup = opt.warmup;
        plan.seed = opt.seed * 7919 + static_cast<uint64_t>(rep);
        std::string label = fmt::format("sweep {}/{} {} {} rep {}", point_no, total_points, shape.str(), load.str(), rep);
        PointRun run = run_point(backend, workload, plan, [&](int done, int dispatched, int errors) {
          Console::get().progress(fmt::format("{}: {}/{} done, {} errors", label, done, dispatched, errors));
        });
        Console::get().end_progress();
        const bool forced = opt.force_output_length && !opt.replay;
        PointMetrics m = compute_metrics(run, opt.slo, forced ? shape.output_tokens : 0);
        point.metrics = m.to_json();
        if (opt.client_shares_process) {
          // An in-process engine's CPU is in the process CPU time: the client's share is not separable.
          point.metrics["client_cpu_us_per_token"] = nullptr;
          point.metrics["client_cpu_note"] = "in-process engine: process CPU time includes the engine";
        }
        if (store) {
          store->write([point_id, run = std::move(run), metrics = point.metrics](store::Db& db) {
            store_point(db, point_id, run, metrics);
          });
          store->flush();
        }
        log_info("{}: {} ok, {} errors, {:.1f} output tok/s, TTFT p50 {:.1f} ms, ITL p50 {:.2f} ms, client {}", label,
                 m.ok, m.errors, m.output_tok_per_s, m.ttft_ms.p50, m.itl_ms.p50,
                 opt.client_shares_process ? std::string("CPU n/a (in-process engine)")
                                           : fmt::format("{:.2f} us/token", m.client_cpu_us_per_token));
        // Long outputs at high concurrency: the steady window (first measured to last dispatch) can end
        // before most requests complete; the rates then come from the whole measured interval.
        if (m.window_kind == "whole_run")
          log_warn("{}: steady window too short ({}): every rate is over the whole measured interval ({:.1f} s, "
                   "ramp-up and drain included); use --requests of several times the concurrency, or --duration",
                   label, m.window_note, m.window_s);
        if (m.output_length_mismatch > 0)
          log_warn("{}: {} requests returned another output length than the {} forced tokens; the server may "
                   "ignore ignore_eos/min_tokens/max_tokens (flagged in the point)",
                   label, m.output_length_mismatch, shape.output_tokens);
        result.points.push_back(std::move(point));
      }
    }
  }
  result.summary = summarize_repeats(result.points, opt.unstable_threshold);
  return result;
}

json SweepResult::to_json(const SweepOptions& options) const {
  json points_json = json::array();
  for (const auto& p : points) {
    json j = {{"model", options.model_name},
              {"shape", p.shape.str()},
              {p.load.kind_name(), p.load.value},
              {"repeat", p.repeat},
              {"resumed", p.resumed}};
    if (p.load.kind == LoadKind::rate) j["burstiness"] = p.load.burstiness;
    for (const auto& [k, v] : p.metrics.items()) j[k] = v;
    j["output_length_flagged"] = p.metrics.value("output_length_mismatch", 0) > 0;
    points_json.push_back(std::move(j));
  }
  json slo = json::object();
  if (options.slo.ttft_ms) slo["ttft_ms"] = *options.slo.ttft_ms;
  if (options.slo.tpot_ms) slo["tpot_ms"] = *options.slo.tpot_ms;
  if (options.slo.e2e_ms) slo["e2e_ms"] = *options.slo.e2e_ms;
  return {{"schema_version", 1},
          {"model", options.model_name},
          {"slo", slo},
          {"settings", options.settings},
          {"metric_definitions", metric_definitions()},
          {"points", points_json},
          {"summary", summary}};
}

std::string render_table(const SweepResult& result) {
  std::string out = fmt::format("{:<20} {:<26} {:>3} {:>6} {:>5} {:>8} {:>10} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8}\n",
                                "shape", "load", "rep", "ok", "err", "window", "out tok/s", "req/s", "ttft p50", "ttft p99",
                                "tpot p50", "itl p50", "e2e p50", "us/tok");
  bool any_whole = false;
  auto g = [](const json& m, const char* k, const char* sub) {
    double v = metric_at(m, k, sub);
    return std::isnan(v) ? std::string("-") : fmt::format("{:.1f}", v);
  };
  for (const auto& p : result.points) {
    const json& m = p.metrics;
    const json& cpu = m.contains("client_cpu_us_per_token") ? m["client_cpu_us_per_token"] : json();
    std::string cpu_text = cpu.is_number() ? fmt::format("{:.2f}", cpu.get<double>()) : std::string("-");
    // The measurement interval of the rates; '*' marks a point measured over its whole run (see the note).
    bool whole = m.value("window_kind", std::string()) == "whole_run";
    any_whole = any_whole || whole;
    std::string window = fmt::format("{:.1f}s{}", m.value("window_s", 0.0), whole ? "*" : "");
    out += fmt::format("{:<20} {:<26} {:>3} {:>6} {:>5} {:>8} {:>10.1f} {:>8.2f} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8}\n",
                       p.shape.str(), p.load.str(), p.repeat, m.value("ok", 0), m.value("errors", 0), window,
                       m.value("output_tok_per_s", 0.0), m.value("request_per_s", 0.0), g(m, "ttft_ms", "p50"),
                       g(m, "ttft_ms", "p99"), g(m, "tpot_ms", "p50"), g(m, "itl_ms", "p50"), g(m, "e2e_ms", "p50"),
                       cpu_text);
  }
  if (any_whole)
    out += "* steady window too short (see window_note): rates over the whole measured interval, ramp-up and drain "
           "included\n";
  for (const auto& row : result.summary)
    if (row.value("unstable", false))
      out += fmt::format("unstable: {} {} (output tok/s spread {:.0f}% across repeats)\n", row["shape"].get<std::string>(),
                         row.contains("concurrency") ? "concurrency " + fmt::format("{:g}", row["concurrency"].get<double>())
                                                     : "rate " + fmt::format("{:g}", row["rate"].get<double>()),
                         row["output_tok_per_s"]["spread"].get<double>() * 100);
  return out;
}

}  // namespace hb::load
