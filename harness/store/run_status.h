#pragma once
// How bad a run or part status is, as SQL: failed > interrupted > running > finished. A run with parts has the
// worst status of its parts (Store::end_parts after each part, merge_database across shards).
#include <string>

namespace hb::store {

// The worst status over the run_parts rows of a query's group, e.g. "SELECT " + kWorstStatusSql + " FROM
// run_parts WHERE run_id=?".
inline constexpr const char* kWorstStatusSql =
    "CASE WHEN SUM(status='failed') > 0 THEN 'failed' WHEN SUM(status='interrupted') > 0 THEN 'interrupted' "
    "WHEN SUM(status='running') > 0 THEN 'running' ELSE 'finished' END";

// The rank (0 finished .. 3 failed) of the status the SQL expression `expr` names.
inline std::string status_rank_sql(const std::string& expr) {
  return "(CASE " + expr + " WHEN 'failed' THEN 3 WHEN 'interrupted' THEN 2 WHEN 'running' THEN 1 ELSE 0 END)";
}

}  // namespace hb::store
