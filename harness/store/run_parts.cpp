// Multi-part runs: `hybench eval --run nightly-DATE` and `hybench sweep --run nightly-DATE`, for several
// models, all land in one run; each (command, model[, suite]) is a part with its own configuration hash,
// so each part resumes on its own and a changed part is refused without touching the others.
#include <map>

#include "harness/base/clock.h"
#include "harness/base/environment.h"
#include "harness/base/error.h"
#include "harness/base/hash.h"
#include "harness/base/redact.h"
#include "harness/store/run_status.h"
#include "harness/store/store.h"

namespace hb::store {

RunRecord Store::open_run_parts(const std::string& name, const std::string& kind, const nlohmann::json& raw_config,
                                const std::vector<RunPart>& raw_parts) {
  // Credentials in URLs never reach the database (and a changed password resumes the same run), as in open_run.
  const nlohmann::json whole_config = nlohmann::json::parse(redact_credentials(raw_config.dump()));
  std::vector<RunPart> parts = raw_parts;
  for (auto& part : parts) part.config = nlohmann::json::parse(redact_credentials(part.config.dump()));
  RunRecord rec;
  rec.name = name;
  rec.kind = kind;
  rec.config_hash = json_hash(whole_config);
  auto q = reader_->prepare("SELECT id, kind, config_hash FROM runs WHERE name = ?");
  q.bind(1, name);
  std::map<std::string, std::string> existing;  // part key -> config hash
  std::string run_kind = kind;
  if (q.step()) {
    rec.id = q.int64(0);
    rec.resumed = true;
    run_kind = q.text(1);
    std::string old_hash = q.text(2);
    auto p = reader_->prepare("SELECT part_key, config_hash FROM run_parts WHERE run_id = ?");
    p.bind(1, rec.id);
    while (p.step()) existing[p.text(0)] = p.text(1);
    if (existing.empty() && (run_kind != kind || old_hash != rec.config_hash))
      throw Error(ErrorCode::usage, "run '" + name + "' already exists in '" + path_ + "' with another configuration (" +
                                        run_kind + " " + old_hash + ", now " + kind + " " + rec.config_hash +
                                        ") and was made as one whole (by an older hybench, or a command without "
                                        "parts); resume it with the same options or choose another --run name");
    for (const auto& part : parts) {
      auto it = existing.find(part.key);
      std::string hash = json_hash(part.config);
      if (it != existing.end() && it->second != hash)
        throw Error(ErrorCode::usage, "run '" + name + "' already has part '" + part.key + "' with another configuration (" +
                                          it->second + ", now " + hash + "); resume it with the same options, or use "
                                          "another --run name (other models and commands can share this run)");
    }
  }
  // A study already mixes evals and sweeps: it keeps its kind (and its family for `compare --base previous`).
  const bool mixed = rec.resumed && run_kind != kind && run_kind != "mixed" && run_kind != "study";
  const std::string now = utc_now_iso8601();
  const std::string whole_json = whole_config.dump(), whole_hash = rec.config_hash;
  std::string env;
  if (!rec.resumed) env = collect_environment().dump();
  int64_t id = rec.id;
  write_sync([&](Db& db) {
    if (id == 0) {
      db.prepare("INSERT INTO runs(name, kind, config_json, config_hash, git_sha, environment_json, status, started_at) "
                 "VALUES(?,?,?,?,?,?,'running',?)")
          .bind(1, name)
          .bind(2, kind)
          .bind(3, whole_json)
          .bind(4, whole_hash)
          .bind(5, build_git_sha())
          .bind(6, env)
          .bind(7, now)
          .run();
      id = db.last_insert_rowid();
    } else {
      db.prepare("UPDATE runs SET status='running', ended_at=NULL WHERE id=?").bind(1, id).run();
      if (mixed) db.prepare("UPDATE runs SET kind='mixed' WHERE id=?").bind(1, id).run();
    }
    for (const auto& part : parts) {
      db.prepare("INSERT INTO run_parts(run_id, part_key, kind, config_json, config_hash, status, started_at) "
                 "VALUES(?,?,?,?,?,'running',?) ON CONFLICT(run_id, part_key) DO UPDATE SET status='running', ended_at=NULL")
          .bind(1, id)
          .bind(2, part.key)
          .bind(3, part.kind)
          .bind(4, part.config.dump())
          .bind(5, json_hash(part.config))
          .bind(6, now)
          .run();
    }
  });
  rec.id = id;
  rec.kind = mixed ? "mixed" : run_kind;
  rec.status = "running";
  return rec;
}

void Store::end_parts(int64_t run_id, const std::vector<RunPart>& parts, const std::string& status) {
  const std::string now = utc_now_iso8601();
  write_sync([&](Db& db) {
    for (const auto& part : parts)
      db.prepare("UPDATE run_parts SET status=?, ended_at=? WHERE run_id=? AND part_key=?")
          .bind(1, status)
          .bind(2, now)
          .bind(3, run_id)
          .bind(4, part.key)
          .run();
    // The run's status summarises its parts: one failed part makes the night failed.
    auto q = db.prepare(std::string("SELECT ") + kWorstStatusSql + " FROM run_parts WHERE run_id=?");
    q.bind(1, run_id);
    std::string overall = q.step() ? q.text(0) : status;
    auto u = db.prepare("UPDATE runs SET status=?, ended_at=? WHERE id=?");
    u.bind(1, overall);
    if (overall == "running") u.bind_null(2);
    else u.bind(2, now);
    u.bind(3, run_id).run();
  });
}

}  // namespace hb::store
