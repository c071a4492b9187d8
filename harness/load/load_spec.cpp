#include "harness/load/load_spec.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::load {
namespace {

bool parse_int(std::string_view s, long long& out) {
  std::string t(trim(s));
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(t.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

bool parse_real(std::string_view s, double& out) {
  std::string t(trim(s));
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(t.c_str(), &end);
  return errno == 0 && end && *end == '\0' && std::isfinite(out);
}

}  // namespace

std::string LoadLevel::str() const {
  if (kind == LoadKind::concurrency) return fmt::format("concurrency={:g}", value);
  return fmt::format("rate={:g},burstiness={:g}", value, burstiness);
}

std::vector<Shape> parse_shapes(const std::string& text) {
  std::vector<Shape> out;
  for (const auto& part : split(text, ',')) {
    auto colon = part.find(':');
    long long in = 0, outn = 0;
    if (colon == std::string::npos || !parse_int(part.substr(0, colon), in) || !parse_int(part.substr(colon + 1), outn) ||
        in < 1 || outn < 1 || in > 10'000'000 || outn > 10'000'000)
      throw Error(ErrorCode::usage, "--shape '" + text + "': '" + std::string(trim(part)) +
                                        "' is not IN:OUT with positive token counts (e.g. --shape 1024:128,1:16000)");
    out.push_back({static_cast<int>(in), static_cast<int>(outn)});
  }
  if (out.empty()) throw Error(ErrorCode::usage, "--shape is empty; give IN:OUT pairs such as 1024:128");
  return out;
}

namespace {

// `auto` searches for the load itself (slo_search.h): it cannot be one level among others.
void refuse_auto_in_list(const std::string& option, const std::string& text) {
  for (const auto& part : split(text, ','))
    if (trim(part) == "auto")
      throw Error(ErrorCode::usage, option + " '" + text + "': 'auto' searches the highest load meeting --slo by itself; "
                                        "give " + option + " auto alone, or a list of levels without it");
}

}  // namespace

std::vector<int> parse_concurrency_list(const std::string& text) {
  refuse_auto_in_list("--concurrency", text);
  std::vector<int> out;
  for (const auto& part : split(text, ',')) {
    long long v = 0;
    if (!parse_int(part, v) || v < 1 || v > 1'000'000)
      throw Error(ErrorCode::usage, "--concurrency '" + text + "': '" + std::string(trim(part)) +
                                        "' is not a positive integer (e.g. --concurrency 1,8,32)");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw Error(ErrorCode::usage, "--concurrency is empty; e.g. --concurrency 1,8,32");
  return out;
}

std::vector<double> parse_rate_list(const std::string& text) {
  refuse_auto_in_list("--rate", text);
  std::vector<double> out;
  for (const auto& part : split(text, ',')) {
    double v = 0;
    if (!parse_real(part, v) || !(v > 0) || v > 1e6)
      throw Error(ErrorCode::usage, "--rate '" + text + "': '" + std::string(trim(part)) +
                                        "' is not a positive number of requests per second (e.g. --rate 0.5,2,8)");
    out.push_back(v);
  }
  if (out.empty()) throw Error(ErrorCode::usage, "--rate is empty; e.g. --rate 0.5,2,8");
  return out;
}

Slo parse_slo(const std::string& text) {
  Slo slo;
  const char* keys = "ttft_ms, tpot_ms, e2e_ms (per-request bounds) or ttft_p99, tpot_p99, e2e_p99 (bounds that 99% of "
                     "requests must meet; any percentile pNN)";
  for (const auto& part : split(text, ',')) {
    auto eq = part.find('=');
    std::string key = eq == std::string::npos ? std::string(trim(part)) : std::string(trim(part.substr(0, eq)));
    double v = 0;
    if (eq == std::string::npos || !parse_real(part.substr(eq + 1), v) || !(v > 0))
      throw Error(ErrorCode::usage, "--slo '" + text + "': '" + std::string(trim(part)) +
                                        "' is not KEY=MILLISECONDS with a positive value (e.g. --slo ttft_ms=500,tpot_ms=50 "
                                        "or --slo ttft_p99=500,tpot_p99=50)");
    auto us = key.find('_');
    std::string metric = key.substr(0, us), stat = us == std::string::npos ? "" : key.substr(us + 1);
    std::optional<double>* bound = metric == "ttft" ? &slo.ttft_ms : metric == "tpot" ? &slo.tpot_ms : metric == "e2e" ? &slo.e2e_ms : nullptr;
    double pct = 0;
    bool percentile_key = stat.size() > 1 && stat[0] == 'p' && parse_real(stat.substr(1), pct) && pct > 0 && pct < 100;
    if (!bound || (stat != "ms" && !percentile_key)) {
      std::string hint = did_you_mean(key, {"ttft_ms", "tpot_ms", "e2e_ms", "ttft_p99", "tpot_p99", "e2e_p99"});
      throw Error(ErrorCode::usage, "--slo '" + text + "': unknown key '" + key + "'" + (hint.empty() ? "" : "; " + hint) +
                                        "; keys: " + keys);
    }
    if (percentile_key) {
      if (slo.percentile && *slo.percentile != pct)
        throw Error(ErrorCode::usage, fmt::format("--slo '{}': percentiles p{:g} and p{:g} differ; one percentile applies to "
                                                  "every bound (the share of requests that must meet all of them)",
                                                  text, *slo.percentile, pct));
      slo.percentile = pct;
    }
    *bound = v;
  }
  return slo;
}

void check_burstiness(double burstiness) {
  if (!(burstiness > 0) || !std::isfinite(burstiness) || burstiness > 1000)
    throw Error(ErrorCode::usage, fmt::format("--burstiness {:g} must be a positive number (1 = Poisson arrivals, "
                                              "< 1 burstier, > 1 smoother)",
                                              burstiness));
}

}  // namespace hb::load
