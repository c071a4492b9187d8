#include "reports/run_selection.h"

#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::reports {
namespace {

bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::string study_name(const RunInfo& r) {
  if (r.kind != "study" || !r.config.is_object() || !r.config.contains("name") || !r.config["name"].is_string()) return "";
  return r.config["name"].get<std::string>();
}

bool same_family(const RunInfo& a, const RunInfo& b) {
  std::string sa = study_name(a), sb = study_name(b);
  if (!sa.empty() || !sb.empty()) return sa == sb;
  return run_family(a.name) == run_family(b.name);
}

std::string family_label(const RunInfo& head) {
  std::string study = study_name(head);
  return study.empty() ? "name prefix '" + run_family(head.name) + "'" : "study '" + study + "'";
}

}  // namespace

std::string run_family(const std::string& name) {
  size_t end = name.size();
  bool digits = false;
  while (end > 0) {
    char c = name[end - 1];
    bool date_char = (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' || c == '.' || c == 'T' || c == 'Z';
    if (!date_char) break;
    digits = digits || (c >= '0' && c <= '9');
    --end;
  }
  if (!digits || end == 0) return name;
  return name.substr(0, end);
}

BaseChoice choose_base_run(const std::vector<RunInfo>& runs, const RunInfo& head, const std::string& base) {
  const bool previous = base == "previous", by_date = is_date(base);
  if (!previous && !by_date) {
    for (const auto& r : runs)
      if (r.name == base) return {r, "run '" + base + "'"};
    std::vector<std::string> names;
    for (const auto& r : runs) names.push_back(r.name);
    std::string hint = did_you_mean(base, names);
    throw Error(ErrorCode::usage, "--base '" + base + "' is neither a run, 'previous' nor a date YYYY-MM-DD" +
                                      (hint.empty() ? "" : "; " + hint));
  }
  std::vector<const RunInfo*> family;
  for (const auto& r : runs)
    if (r.id < head.id && same_family(r, head)) family.push_back(&r);
  const RunInfo* pick = nullptr;
  std::vector<std::string> seen;
  for (const RunInfo* r : family) {
    seen.push_back(r->name + " (" + r->status + (r->started_at.size() >= 10 ? ", " + r->started_at.substr(0, 10) : "") + ")");
    if (r->status != "finished") continue;
    if (by_date && r->started_at.compare(0, 10, base) != 0) continue;
    pick = r;  // runs are in id order: the last match is the latest
  }
  if (!pick)
    throw Error(ErrorCode::usage,
                "--base " + base + ": no earlier finished run of " + family_label(head) +
                    (by_date ? " started on " + base : "") + " before '" + head.name + "'" +
                    (seen.empty() ? " (this looks like the first run: nothing to compare with yet)"
                                  : "; earlier runs: " + join(seen, ", ")));
  return {*pick, std::string(previous ? "the previous finished run" : "the last finished run on " + base) + " of " +
                     family_label(head)};
}

}  // namespace hb::reports
