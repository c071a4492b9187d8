#include "harness/load/metrics.h"

#include <algorithm>
#include <cmath>

namespace hb::load {
namespace {

using json = nlohmann::json;

double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

json num_or_null(double v, bool valid) { return valid ? json(v) : json(nullptr); }

// Output tokens of one request: the server's usage when reported, else the client's chunk count.
int64_t client_tokens(const GenerationResult& r) {
  int64_t n = 0;
  for (const auto& c : r.chunks) n += c.tokens;
  return n;
}

}  // namespace

double percentile_sorted(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

Distribution summarize(std::vector<double>& values) {
  Distribution d;
  d.n = static_cast<int64_t>(values.size());
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  double sq = 0;
  for (double v : values) sq += (v - d.mean) * (v - d.mean);
  d.stdev = values.size() > 1 ? std::sqrt(sq / static_cast<double>(values.size() - 1)) : 0;
  d.min = values.front();
  d.max = values.back();
  d.p50 = percentile_sorted(values, 50);
  d.p90 = percentile_sorted(values, 90);
  d.p95 = percentile_sorted(values, 95);
  d.p99 = percentile_sorted(values, 99);
  return d;
}

json Distribution::to_json() const {
  bool ok = n > 0;
  return {{"n", n},
          {"mean", num_or_null(mean, ok)},
          {"stdev", num_or_null(stdev, ok)},
          {"min", num_or_null(min, ok)},
          {"max", num_or_null(max, ok)},
          {"p50", num_or_null(p50, ok)},
          {"p90", num_or_null(p90, ok)},
          {"p95", num_or_null(p95, ok)},
          {"p99", num_or_null(p99, ok)}};
}

PointMetrics compute_metrics(const PointRun& run, const Slo& slo, int expected_output_tokens) {
  PointMetrics m;
  std::vector<double> ttft, ttfc, tpot, itl, e2e, queue, lag, connect;
  int64_t first_measured_dispatch = 0, last_dispatch = 0, last_measured_end = 0;
  bool any_measured = false;
  int64_t all_tokens_received = 0;
  int server_counted = 0, client_counted = 0;
  double prompt_sum = 0;
  int prompt_n = 0;
  int good = 0;
  std::vector<char> is_good(run.traces.size(), 0);

  for (size_t i = 0; i < run.traces.size(); ++i) {
    const auto& t = run.traces[i];
    last_dispatch = std::max(last_dispatch, t.dispatch_ns);
    all_tokens_received += client_tokens(t.result);
    if (t.warmup) {
      ++m.warmup;
      continue;
    }
    if (!any_measured || t.dispatch_ns < first_measured_dispatch) first_measured_dispatch = t.dispatch_ns;
    any_measured = true;
    last_measured_end = std::max(last_measured_end, t.result.end_ns);
    ++m.requests;
    const GenerationResult& r = t.result;
    auto& ep = m.endpoints[r.endpoint.empty() ? "(none)" : r.endpoint];
    ++ep.requests;
    lag.push_back(ms(t.dispatch_ns - t.scheduled_ns));
    if (!r.ok()) {
      ++m.errors;
      ++ep.errors;
      ++m.errors_by_kind[r.error->kind];
      continue;
    }
    ++m.ok;
    if (r.attempts == 1 && r.send_ns > 0) queue.push_back(ms(r.send_ns - t.scheduled_ns));
    if (r.connect_ns > 0) connect.push_back(ms(r.connect_ns));
    int64_t out = r.usage.completion_tokens;
    if (out >= 0) ++server_counted;
    else {
      out = client_tokens(r);
      ++client_counted;
    }
    m.output_tokens += out;
    if (r.usage.prompt_tokens >= 0) {
      prompt_sum += static_cast<double>(r.usage.prompt_tokens);
      ++prompt_n;
    }
    if (expected_output_tokens > 0 && out != expected_output_tokens) ++m.output_length_mismatch;
    // Latencies count from when the request was due (open loop: its arrival time; closed loop: when its slot
    // freed), before any client queueing, connection set-up or retry: what a user waiting for it sees.
    const int64_t origin = t.scheduled_ns > 0 ? t.scheduled_ns : r.send_ns;
    int64_t last_token_ns = 0;
    for (const auto& c : r.chunks)
      if (c.tokens > 0) last_token_ns = c.t_ns;
    double e2e_ms = ms((last_token_ns ? last_token_ns : r.end_ns) - origin);
    e2e.push_back(e2e_ms);
    bool meets = true;
    if (slo.e2e_ms && e2e_ms > *slo.e2e_ms) meets = false;
    if (r.first_token_ns) {
      double ttft_ms = ms(r.first_token_ns - origin);
      ttft.push_back(ttft_ms);
      if (slo.ttft_ms && ttft_ms > *slo.ttft_ms) meets = false;
      if (out > 1) {
        double tpot_ms = (e2e_ms - ttft_ms) / static_cast<double>(out - 1);
        tpot.push_back(tpot_ms);
        if (slo.tpot_ms && tpot_ms > *slo.tpot_ms) meets = false;
      }
    } else if (slo.ttft_ms) {
      meets = false;
    }
    if (r.first_content_ns) ttfc.push_back(ms(r.first_content_ns - origin));
    // ITL per token: a chunk carrying k tokens after a gap g contributes k values g/k. The first token
    // chunk's gap is TTFT, not ITL, so it is skipped.
    int64_t prev = 0;
    for (const auto& c : r.chunks) {
      if (c.tokens <= 0) continue;
      if (prev) {
        double g = ms(c.t_ns - prev) / c.tokens;
        for (int k = 0; k < c.tokens; ++k) itl.push_back(g);
      }
      prev = c.t_ns;
    }
    if (meets) {
      ++good;
      is_good[i] = 1;
    }
  }
  m.ttft_ms = summarize(ttft);
  m.ttfc_ms = summarize(ttfc);
  m.tpot_ms = summarize(tpot);
  m.itl_ms = summarize(itl);
  m.e2e_ms = summarize(e2e);
  m.queue_ms = summarize(queue);
  m.lag_ms = summarize(lag);
  m.connect_ms = summarize(connect);
  m.mean_output_tokens = m.ok ? static_cast<double>(m.output_tokens) / m.ok : 0;
  m.mean_prompt_tokens = prompt_n ? prompt_sum / prompt_n : -1;
  m.token_count_source = server_counted && client_counted ? "mixed" : (client_counted ? "client_chunks" : "server_usage");
  m.client_cpu_us_per_token = all_tokens_received > 0 ? run.cpu_s * 1e6 / static_cast<double>(all_tokens_received) : 0;

  // Every rate is over one measurement interval. The steady window runs from the first measured dispatch
  // to the last dispatch of the point (after it the load drains). It is used only when it is long enough to
  // hold the load: at least 10% of the measured interval and at least a quarter of the successful
  // completions (at least one). Otherwise (every request sent at once, or long outputs with few requests
  // per stream) the whole measured interval, first measured dispatch to last measured completion, is
  // used, and the point says so: window_kind "whole_run" with the reason.
  const int64_t ws = first_measured_dispatch;
  const int64_t whole = last_measured_end - first_measured_dispatch;
  auto completions_in = [&](int64_t a, int64_t b) {
    int n = 0;
    for (const auto& t : run.traces)
      if (!t.warmup && t.result.ok() && t.result.end_ns >= a && t.result.end_ns <= b) ++n;
    return n;
  };
  int64_t we = last_dispatch;
  m.window_kind = "steady";
  if (we - ws <= 0 || whole <= 0 || (we - ws) < whole / 10) {
    m.window_note = "the load was dispatched in less than 10% of the measured interval";
  } else {
    int inside = completions_in(ws, we);
    if (inside < std::max(1, (m.ok + 3) / 4))
      m.window_note = std::to_string(inside) + " of " + std::to_string(m.ok) +
                      " completions fell inside the steady window (fewer than a quarter)";
  }
  if (!m.window_note.empty()) {
    we = last_measured_end;
    m.window_kind = "whole_run";
  }
  m.window_start_s = static_cast<double>(ws - run.start_ns) / 1e9;
  m.window_end_s = static_cast<double>(we - run.start_ns) / 1e9;
  m.window_s = static_cast<double>(we - ws) / 1e9;
  if (m.window_s > 0) {
    double tokens_in_window = 0, prompt_tokens_in_window = 0, done_in_window = 0, good_in_window = 0, busy_s = 0;
    for (size_t i = 0; i < run.traces.size(); ++i) {
      const auto& t = run.traces[i];
      const GenerationResult& r = t.result;
      int64_t counted = client_tokens(r);
      int64_t reported = r.ok() && r.usage.completion_tokens >= 0 ? r.usage.completion_tokens : counted;
      double scale = counted > 0 ? static_cast<double>(reported) / static_cast<double>(counted) : 1.0;
      for (const auto& c : r.chunks)
        if (c.t_ns >= ws && c.t_ns <= we) tokens_in_window += c.tokens * scale;
      if (t.warmup) continue;
      if (r.ok() && r.end_ns >= ws && r.end_ns <= we) {
        done_in_window += 1;
        good_in_window += is_good[i];
        if (r.usage.prompt_tokens >= 0) prompt_tokens_in_window += static_cast<double>(r.usage.prompt_tokens);
      }
      const int64_t origin = t.scheduled_ns > 0 ? t.scheduled_ns : r.send_ns;
      if (origin > 0 && r.end_ns > 0) {
        int64_t a = std::max(ws, origin), b = std::min(we, r.end_ns);
        if (b > a) busy_s += static_cast<double>(b - a) / 1e9;
      }
    }
    m.output_tok_per_s = tokens_in_window / m.window_s;
    m.total_tok_per_s = (tokens_in_window + prompt_tokens_in_window) / m.window_s;
    m.request_per_s = done_in_window / m.window_s;
    m.window_completions = static_cast<int>(done_in_window);
    m.achieved_concurrency = busy_s / m.window_s;
    if (!slo.empty()) m.goodput_req_per_s = good_in_window / m.window_s;
  }
  if (whole > 0) m.whole_run_output_tok_per_s = static_cast<double>(m.output_tokens) / (static_cast<double>(whole) / 1e9);
  if (!slo.empty()) {
    m.slo_attainment = m.requests ? static_cast<double>(good) / m.requests : 0;
    if (m.goodput_req_per_s < 0) m.goodput_req_per_s = 0;
    if (slo.percentile) m.slo_met = m.requests > 0 && m.slo_attainment * 100 >= *slo.percentile - 1e-9 ? 1 : 0;
  }
  return m;
}

json PointMetrics::to_json() const {
  json errs = json::object();
  for (const auto& [k, v] : errors_by_kind) errs[k] = v;
  json eps = json::object();
  for (const auto& [k, v] : endpoints) eps[k] = {{"requests", v.requests}, {"errors", v.errors}};
  return {{"requests", requests},
          {"ok", ok},
          {"errors", errors},
          {"warmup_requests", warmup},
          {"errors_by_kind", errs},
          {"endpoints", eps},
          {"ttft_ms", ttft_ms.to_json()},
          {"ttfc_ms", ttfc_ms.to_json()},
          {"tpot_ms", tpot_ms.to_json()},
          {"itl_ms", itl_ms.to_json()},
          {"e2e_ms", e2e_ms.to_json()},
          {"client_queue_ms", queue_ms.to_json()},
          {"dispatch_lag_ms", lag_ms.to_json()},
          {"connect_ms", connect_ms.to_json()},
          {"output_tok_per_s", output_tok_per_s},
          {"total_tok_per_s", total_tok_per_s},
          {"request_per_s", request_per_s},
          {"window_completions", window_completions},
          {"goodput_req_per_s", goodput_req_per_s >= 0 ? json(goodput_req_per_s) : json(nullptr)},
          {"slo_attainment", slo_attainment >= 0 ? json(slo_attainment) : json(nullptr)},
          {"whole_run_output_tok_per_s", whole_run_output_tok_per_s},
          {"window_s", window_s},
          {"window_kind", window_kind},
          {"window_note", window_note.empty() ? json(nullptr) : json(window_note)},
          {"window_start_s", window_start_s},
          {"window_end_s", window_end_s},
          {"slo_met", slo_met < 0 ? json(nullptr) : json(slo_met == 1)},
          {"output_tokens", output_tokens},
          {"mean_output_tokens", mean_output_tokens},
          {"mean_prompt_tokens", mean_prompt_tokens >= 0 ? json(mean_prompt_tokens) : json(nullptr)},
          {"token_count_source", token_count_source},
          {"output_length_mismatch", output_length_mismatch},
          {"client_cpu_us_per_token", client_cpu_us_per_token},
          {"achieved_concurrency", achieved_concurrency}};
}

json metric_definitions() {
  return {
      {"latency_origin", "every latency counts from when the request was due: its arrival time in the schedule (open "
                         "loop, --rate) or when its slot freed and it was issued (closed loop, --concurrency); client "
                         "queueing, connection set-up and retries are inside it"},
      {"ttft_ms", "first generated token of any channel (reasoning included, role-only chunk excluded) minus the "
                  "time the request was due"},
      {"ttfc_ms", "first answer-content token minus the time the request was due (time to first content)"},
      {"e2e_ms", "last token-bearing chunk minus the time the request was due (end of response when no token arrived)"},
      {"tpot_ms", "(e2e - ttft) / (output_tokens - 1) per request; requests with <= 1 output token excluded"},
      {"itl_ms", "per token: a chunk carrying k tokens after a gap g contributes k values g/k; the first token "
                 "chunk (its gap is TTFT) is excluded; pooled over requests"},
      {"connect_ms", "connection set-up (TCP, and TLS for https) of the request's last attempt, for requests that "
                     "opened a connection (reused connections are not counted); part of ttft_ms"},
      {"output_tokens", "server usage.completion_tokens when reported, else the client count (1 per non-empty "
                        "delta chunk, or per-chunk usage deltas)"},
      {"window", "the measurement interval of every rate, [window_start_s, window_end_s] from the point's first "
                 "dispatch: the steady window (first measured dispatch to the last dispatch of the point) when it "
                 "lasts >= 10% of the measured interval and holds >= a quarter of the successful completions; else "
                 "the whole measured interval (first measured dispatch to last measured completion), window_kind "
                 "whole_run with window_note saying why"},
      {"output_tok_per_s", "output tokens whose chunk arrived inside the window / window length (chunk counts "
                           "scaled to the request's reported total)"},
      {"request_per_s", "measured requests completed OK inside the window / window length"},
      {"window_completions", "measured requests completed OK inside the window (request_per_s's numerator)"},
      {"goodput_req_per_s", "measured requests completed OK inside the window that met every SLO / window length"},
      {"slo_attainment", "fraction of measured requests that succeeded and met every SLO bound"},
      {"slo_met", "with --slo KEY_pNN bounds: slo_attainment >= NN% (so each bounded metric's pNN is within bound)"},
      {"client_queue_ms", "send time minus scheduled time (single-attempt requests): time held by the client"},
      {"dispatch_lag_ms", "dispatch (submit) time minus scheduled time: load-generator lag"},
      {"client_cpu_us_per_token", "process CPU time (user + system) during the point / tokens received"},
      {"achieved_concurrency", "sum over measured requests of their time from due to end inside the window / window"},
      {"percentiles", "linear interpolation between closest ranks (numpy default); stdev is the sample stdev"}};
}

}  // namespace hb::load
