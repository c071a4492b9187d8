#include "harness/store/merge.h"

#include <set>
#include <string>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/store/run_status.h"
#include "harness/store/sqlite.h"
#include "harness/store/store.h"

namespace hb::store {
namespace {

int64_t changes(Db& db) { return sqlite3_changes(db.handle()); }

// Columns of samples after the key, in schema order.
const char* kSampleColumns =
    "prompt_json, completion, reasoning, answer, extractions_json, scores_json, grade_reason, truncated, "
    "prompt_tokens, completion_tokens, reasoning_tokens, client_prompt_tokens, client_completion_tokens, "
    "submit_unix_ns, first_token_unix_ns, end_unix_ns, finish_reason, attempts, endpoint, error_kind, error_message";

}  // namespace

MergeStats merge_database(Store& into, const std::string& source) {
  if (!file_exists(source)) throw Error(ErrorCode::usage, "merge input '" + source + "' does not exist");
  {
    // The source is only read: it must be a hybench database of this schema version.
    Db check(source, Db::Mode::read_only);
    auto v = check.prepare("PRAGMA user_version");  // fails with a clear message on a non-SQLite file
    v.step();
    if (v.int64(0) != Store::schema_version())
      throw Error(ErrorCode::usage, "merge input '" + source + "' has schema version " + std::to_string(v.int64(0)) +
                                        ", this hybench writes " + std::to_string(Store::schema_version()) +
                                        "; open it once with this hybench (e.g. `hybench eval ... --db " + source +
                                        "`) or merge with the hybench that wrote it");
  }
  into.flush();
  MergeStats stats;
  // ATTACH cannot run inside the writer's transactions, so the merge uses its own connection; nothing
  // else writes to the target while `hybench merge` runs.
  Db db(into.path(), Db::Mode::read_write_create);
  db.exec("PRAGMA foreign_keys=ON");
  auto attach = db.prepare("ATTACH DATABASE ? AS src");
  attach.bind(1, source).run();
  try {
    db.exec("BEGIN IMMEDIATE");
    auto conflict = db.prepare(
        "SELECT s.name, s.config_hash, r.config_hash FROM src.runs s JOIN main.runs r ON r.name = s.name "
        "WHERE r.config_hash != s.config_hash");
    if (conflict.step())
      throw Error(ErrorCode::usage, "run '" + conflict.text(0) + "' has config hash " + conflict.text(1) + " in '" +
                                        source + "' but " + conflict.text(2) + " in '" + into.path() +
                                        "'; only shards of the same study can be merged");
    db.exec("INSERT OR IGNORE INTO main.runs(name, kind, config_json, config_hash, git_sha, environment_json, status, "
            "started_at, ended_at) SELECT name, kind, config_json, config_hash, git_sha, environment_json, status, "
            "started_at, ended_at FROM src.runs");
    stats.runs = changes(db);
    db.exec("INSERT OR IGNORE INTO main.models(spec, display_name, layout, attention_layers, mamba_layers, params, "
            "details_json) SELECT spec, display_name, layout, attention_layers, mamba_layers, params, details_json "
            "FROM src.models");
    stats.models = changes(db);
    db.exec("INSERT OR IGNORE INTO main.suites(name, variant, version, prompt_hash) "
            "SELECT name, variant, version, prompt_hash FROM src.suites");
    stats.suites = changes(db);
    // Id maps from the source's ids to the target's, by natural key.
    db.exec("CREATE TEMP TABLE run_map AS SELECT s.id AS src_id, m.id AS dst_id FROM src.runs s JOIN main.runs m USING(name)");
    db.exec("CREATE TEMP TABLE model_map AS SELECT s.id AS src_id, m.id AS dst_id FROM src.models s "
            "JOIN main.models m ON m.spec = s.spec AND m.display_name = s.display_name");
    db.exec("CREATE TEMP TABLE suite_map AS SELECT s.id AS src_id, m.id AS dst_id FROM src.suites s "
            "JOIN main.suites m ON m.name = s.name AND m.variant = s.variant AND m.version = s.version "
            "AND m.prompt_hash = s.prompt_hash");
    std::string cols = kSampleColumns;
    std::string update;
    for (const char* c : {"prompt_json", "completion", "reasoning", "answer", "extractions_json", "scores_json",
                          "grade_reason", "truncated", "prompt_tokens", "completion_tokens", "reasoning_tokens",
                          "client_prompt_tokens", "client_completion_tokens", "submit_unix_ns", "first_token_unix_ns",
                          "end_unix_ns", "finish_reason", "attempts", "endpoint", "error_kind", "error_message"})
      update += std::string(update.empty() ? "" : ", ") + c + "=excluded." + c;
    db.exec("CREATE TEMP TABLE touched AS SELECT DISTINCT r.dst_id AS run_id, m.dst_id AS model_id, u.dst_id AS suite_id "
            "FROM src.samples s JOIN run_map r ON r.src_id = s.run_id JOIN model_map m ON m.src_id = s.model_id "
            "JOIN suite_map u ON u.src_id = s.suite_id");
    db.exec("INSERT INTO main.samples(run_id, model_id, suite_id, item_id, sample_index, " + cols +
            ") SELECT r.dst_id, m.dst_id, u.dst_id, s.item_id, s.sample_index, " + cols +
            " FROM src.samples s JOIN run_map r ON r.src_id = s.run_id JOIN model_map m ON m.src_id = s.model_id "
            "JOIN suite_map u ON u.src_id = s.suite_id WHERE true "
            "ON CONFLICT(run_id, model_id, suite_id, item_id, sample_index) DO UPDATE SET " + update +
            " WHERE main.samples.error_kind IS NOT NULL AND excluded.error_kind IS NULL");
    stats.samples = changes(db);
    // Attempts are history: every one is copied once (merging the same shard twice adds none).
    db.exec("INSERT INTO main.attempts(run_id, model_id, suite_id, item_id, sample_index, turn, attempt, kind, "
            "request_sent, http_status, bytes_received, start_unix_ns, end_unix_ns, endpoint, message) "
            "SELECT r.dst_id, m.dst_id, u.dst_id, a.item_id, a.sample_index, a.turn, a.attempt, a.kind, a.request_sent, "
            "a.http_status, a.bytes_received, a.start_unix_ns, a.end_unix_ns, a.endpoint, a.message "
            "FROM src.attempts a JOIN run_map r ON r.src_id = a.run_id JOIN model_map m ON m.src_id = a.model_id "
            "JOIN suite_map u ON u.src_id = a.suite_id WHERE NOT EXISTS (SELECT 1 FROM main.attempts b WHERE "
            "b.run_id = r.dst_id AND b.model_id = m.dst_id AND b.suite_id = u.dst_id AND b.item_id = a.item_id AND "
            "b.sample_index = a.sample_index AND b.turn = a.turn AND b.attempt = a.attempt AND "
            "b.start_unix_ns IS a.start_unix_ns)");
    db.exec("INSERT OR IGNORE INTO main.perf_points(run_id, model_id, point_key, shape, load_kind, load_value, burstiness, "
            "repeat_index, workload_json, settings_json, metrics_json, requests, errors, status, started_at, ended_at) "
            "SELECT r.dst_id, m.dst_id, p.point_key, p.shape, p.load_kind, p.load_value, p.burstiness, p.repeat_index, "
            "p.workload_json, p.settings_json, p.metrics_json, p.requests, p.errors, p.status, p.started_at, p.ended_at "
            "FROM src.perf_points p JOIN run_map r ON r.src_id = p.run_id JOIN model_map m ON m.src_id = p.model_id");
    stats.perf_points = changes(db);
    db.exec("INSERT OR IGNORE INTO main.request_traces SELECT d.id, t.request_index, t.scheduled_ns, t.send_ns, "
            "t.first_byte_ns, t.first_token_ns, t.first_content_ns, t.end_ns, t.prompt_tokens, t.completion_tokens, "
            "t.client_completion_tokens, t.chunks, t.finish_reason, t.endpoint, t.error_kind, t.error_message, "
            "t.connect_ns FROM src.request_traces t JOIN src.perf_points p ON p.id = t.point_id "
            "JOIN run_map r ON r.src_id = p.run_id JOIN model_map m ON m.src_id = p.model_id "
            "JOIN main.perf_points d ON d.run_id = r.dst_id AND d.model_id = m.dst_id AND d.point_key = p.point_key");
    stats.traces = changes(db);
    // A part run by several shards (each one a slice of its items) has the worst status of its shards, and the
    // run the worst of its parts (as Store::end_parts sums them up): a failed shard is never merged into a
    // finished night.
    db.exec("INSERT INTO main.run_parts(run_id, part_key, kind, config_json, config_hash, status, started_at, ended_at) "
            "SELECT r.dst_id, p.part_key, p.kind, p.config_json, p.config_hash, p.status, p.started_at, p.ended_at "
            "FROM src.run_parts p JOIN run_map r ON r.src_id = p.run_id WHERE true "
            "ON CONFLICT(run_id, part_key) DO UPDATE SET "
            "status = CASE WHEN " + status_rank_sql("excluded.status") + " > " + status_rank_sql("main.run_parts.status") +
            " THEN excluded.status ELSE main.run_parts.status END, "
            "started_at = min(main.run_parts.started_at, excluded.started_at), "
            "ended_at = CASE WHEN main.run_parts.ended_at IS NULL OR excluded.ended_at IS NULL THEN NULL "
            "ELSE max(main.run_parts.ended_at, excluded.ended_at) END");
    db.exec("UPDATE main.runs SET status = (SELECT s.status FROM src.runs s WHERE s.name = main.runs.name) "
            "WHERE name IN (SELECT name FROM src.runs) AND " +
            status_rank_sql("(SELECT s.status FROM src.runs s WHERE s.name = main.runs.name)") + " > " +
            status_rank_sql("main.runs.status"));
    db.exec(std::string("UPDATE main.runs SET status = (SELECT ") + kWorstStatusSql +
            " FROM main.run_parts p WHERE p.run_id = main.runs.id) WHERE id IN (SELECT dst_id FROM temp.run_map) AND "
            "EXISTS (SELECT 1 FROM main.run_parts p WHERE p.run_id = main.runs.id)");
    // Ended when every shard ended, at the last end; a run still running has no end.
    db.exec("UPDATE main.runs SET ended_at = CASE WHEN status = 'running' OR ended_at IS NULL THEN NULL ELSE "
            "max(ended_at, (SELECT max(s.ended_at) FROM src.runs s WHERE s.name = main.runs.name)) END "
            "WHERE id IN (SELECT dst_id FROM temp.run_map)");
    auto merged_runs = db.prepare("SELECT DISTINCT dst_id FROM temp.run_map ORDER BY dst_id");
    while (merged_runs.step()) stats.run_ids.push_back(merged_runs.int64(0));
    auto q = db.prepare("SELECT run_id, model_id, suite_id FROM temp.touched");
    while (q.step()) stats.touched.emplace_back(q.int64(0), q.int64(1), q.int64(2));
    db.exec("DROP TABLE temp.run_map; DROP TABLE temp.model_map; DROP TABLE temp.suite_map; DROP TABLE temp.touched");
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(db.handle(), "DETACH DATABASE src", nullptr, nullptr, nullptr);
    throw;
  }
  db.exec("DETACH DATABASE src");
  return stats;
}

}  // namespace hb::store
