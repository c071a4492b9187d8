#include "harness/load/slo_search.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "harness/base/console.h"
#include "harness/base/error.h"

namespace hb::load {
namespace {

using json = nlohmann::json;

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Mean requests in flight during a rate probe, by Little's law: the offered rate x the mean latency (the
// measured completion rate is no estimate over a window of a few requests). Below kAloneInFlight the requests
// hardly overlap, so a lower rate cannot change what each one sees.
constexpr double kAloneInFlight = 0.25;
double mean_in_flight(const Probe& p) {
  const json& m = p.metrics;
  if (!m.is_object() || !m.contains("e2e_ms") || !m["e2e_ms"].is_object() || !m["e2e_ms"].contains("mean") ||
      !m["e2e_ms"]["mean"].is_number())
    return -1;
  return p.load.value * m["e2e_ms"]["mean"].get<double>() / 1000;
}

// Rates keep 3 significant digits so that point keys stay readable and a resumed search hits the same keys.
double round_rate(double r) { return std::stod(fmt::format("{:.3g}", r)); }

json probe_json(const Probe& p) {
  json j = {{p.load.kind_name(), p.load.value}, {"pass", p.pass}, {"slo_attainment", p.attainment}};
  for (const char* k : {"goodput_req_per_s", "request_per_s", "output_tok_per_s", "window_kind"})
    if (p.metrics.contains(k)) j[k] = p.metrics[k];
  for (const char* k : {"ttft_ms", "tpot_ms", "e2e_ms"})
    if (p.metrics.contains(k) && p.metrics[k].is_object()) j[std::string(k) + "_p99"] = p.metrics[k].value("p99", json());
  return j;
}

}  // namespace

json ShapeSearch::to_json() const {
  json probes_json = json::array();
  for (const auto& p : probes) probes_json.push_back(probe_json(p));
  return {{"shape", shape.str()},
          {"best", best ? probe_json(*best) : json(nullptr)},
          {"below", below ? probe_json(*below) : json(nullptr)},
          {"above", above ? probe_json(*above) : json(nullptr)},
          {"capped", capped},
          {"alone_fails", alone_fails},
          {"probes", probes_json}};
}

SearchOutcome search_max_load(Backend& backend, const SweepOptions& options, const SearchOptions& search,
                              store::Store* store, int64_t run_id, int64_t model_id,
                              const std::function<void()>& between_points) {
  if (!options.slo.percentile)
    throw Error(ErrorCode::usage, "an automatic load search needs SLOs with a percentile, e.g. --slo ttft_p99=500,tpot_p99=50");
  const double target = *options.slo.percentile / 100;
  const bool conc = search.kind == LoadKind::concurrency;
  SearchOutcome out;
  for (const auto& shape : options.shapes) {
    ShapeSearch ss;
    ss.shape = shape;
    std::map<double, Probe> seen;
    auto probe = [&](double value) -> const Probe& {
      value = conc ? std::round(value) : round_rate(value);
      if (auto it = seen.find(value); it != seen.end()) return it->second;
      SweepOptions o = options;
      o.shapes = {shape};
      o.loads = {{search.kind, value, conc ? 1.0 : search.burstiness}};
      SweepResult r = run_sweep(backend, o, store, run_id, model_id, between_points);
      Probe p;
      p.load = o.loads.front();
      std::vector<double> att;
      for (auto& point : r.points) {
        const json& a = point.metrics.contains("slo_attainment") ? point.metrics["slo_attainment"] : json();
        att.push_back(a.is_number() ? a.get<double>() : 0.0);
        if (p.metrics.is_null()) p.metrics = point.metrics;
        out.sweep.points.push_back(std::move(point));
      }
      p.attainment = median_of(att);
      p.pass = p.attainment >= target - 1e-12;
      log_info("slo search {}: {} {} attainment {:.1f}% ({} {:g}%)", shape.str(), p.load.kind_name(), value,
               p.attainment * 100, p.pass ? "meets" : "misses", *options.slo.percentile);
      ss.probes.push_back(p);
      return seen.emplace(value, p).first->second;
    };
    std::optional<double> lo, hi;  // highest passing, lowest failing
    double v = std::min(search.start, search.max_load);
    const double floor_load = conc ? 1 : search.min_rate;
    // Exponential phase: double while the load passes, or halve while it fails.
    if (probe(v).pass) {
      lo = v;
      for (;;) {
        if (v >= search.max_load) {
          ss.capped = true;
          break;
        }
        v = std::min(v * 2, search.max_load);
        if (!probe(v).pass) {
          hi = v;
          break;
        }
        lo = v;
      }
    } else {
      hi = v;
      while (v / 2 >= floor_load) {
        // Rates: once a failing probe's requests ran (nearly) alone, halving only doubles the wait (100
        // requests at 0.01 req/s take hours): the SLO is missed by a lone request.
        const double in_flight = conc ? -1 : mean_in_flight(seen.at(round_rate(v)));
        if (in_flight >= 0 && in_flight < kAloneInFlight) {
          ss.alone_fails = true;
          log_info("slo search {}: at {:g} req/s requests ran nearly alone ({:.2f} in flight on average) and still "
                   "missed the SLO; lower rates are not probed", shape.str(), v, in_flight);
          break;
        }
        v = conc ? std::floor(v / 2) : v / 2;
        if (probe(v).pass) {
          lo = v;
          break;
        }
        hi = v;
      }
    }
    // Bisection between the last pass and the first failure.
    while (lo && hi) {
      double mid;
      if (conc) {
        if (*hi - *lo <= 1) break;
        mid = std::floor((*lo + *hi) / 2);
      } else {
        if (*hi / *lo <= 1 + search.rate_precision) break;
        mid = round_rate(std::sqrt(*lo * *hi));
        if (mid <= *lo || mid >= *hi) break;
      }
      if (probe(mid).pass) lo = mid;
      else hi = mid;
    }
    if (lo) {
      ss.best = seen.at(conc ? std::round(*lo) : round_rate(*lo));
      for (const auto& [value, p] : seen) {
        if (p.pass && value < ss.best->load.value) ss.below = p;  // map order: the last one is the closest
        if (!p.pass && value > ss.best->load.value && !ss.above) ss.above = p;
      }
    } else if (hi) {
      ss.above = seen.at(conc ? std::round(*hi) : round_rate(*hi));
    }
    out.shapes.push_back(std::move(ss));
  }
  out.sweep.summary = summarize_repeats(out.sweep.points, options.unstable_threshold);
  return out;
}

std::string render_search(const std::vector<ShapeSearch>& shapes, const Slo& slo) {
  std::string bounds;
  auto add = [&](const char* name, const std::optional<double>& v) {
    if (v) bounds += (bounds.empty() ? "" : ", ") + fmt::format("{} <= {:g} ms", name, *v);
  };
  add("TTFT", slo.ttft_ms);
  add("TPOT", slo.tpot_ms);
  add("E2E", slo.e2e_ms);
  std::string out;
  for (const auto& s : shapes) {
    const std::string pct = fmt::format("p{:g}", slo.percentile.value_or(99));
    auto desc = [](const Probe& p) {
      double good = p.metrics.contains("goodput_req_per_s") && p.metrics["goodput_req_per_s"].is_number()
                        ? p.metrics["goodput_req_per_s"].get<double>()
                        : 0;
      return fmt::format("{:g} ({:.1f}% met, goodput {:.2f} req/s)", p.load.value, p.attainment * 100, good);
    };
    if (!s.best) {
      out += fmt::format("slo search {}: no {} meets {} at {} (lowest probe {}){}\n", s.shape.str(),
                         s.above ? s.above->load.kind_name() : std::string("load"), bounds, pct,
                         s.above ? desc(*s.above) : std::string("-"),
                         s.alone_fails ? "; requests running alone already miss it: the server's single-request "
                                         "latency is above the bound"
                                       : "");
      continue;
    }
    out += fmt::format("slo search {}: highest {} meeting {} at {}: {}", s.shape.str(), s.best->load.kind_name(), bounds,
                       pct, desc(*s.best));
    out += fmt::format("; below {}; above {}", s.below ? desc(*s.below) : std::string("-"),
                       s.above ? desc(*s.above) + " fails" : std::string("-"));
    if (s.capped) out += "; the highest allowed load passed (raise --auto-max)";
    out += fmt::format("; {} probes\n", s.probes.size());
  }
  return out;
}

}  // namespace hb::load
