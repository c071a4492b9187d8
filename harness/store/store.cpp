#include "harness/store/store.h"

#include <sys/stat.h>

#include "harness/base/clock.h"
#include "harness/base/environment.h"
#include "harness/base/error.h"
#include "harness/base/hash.h"
#include "harness/base/redact.h"
#include "harness/store/migrations.h"

namespace hb::store {
namespace {
std::string parent_dir(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : (pos == 0 ? "/" : path.substr(0, pos));
}
}  // namespace

int Store::schema_version() { return static_cast<int>(migrations().size()); }

Store::Store(const std::string& path) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(ErrorCode::usage, "--db '" + path + "' is a directory; pass a file path such as " + path + "/hybench.db");
  if (::stat(parent_dir(path).c_str(), &st) != 0)
    throw Error(ErrorCode::usage, "--db '" + path + "': directory '" + parent_dir(path) + "' does not exist; create it first");
  writer_db_ = std::make_unique<Db>(path, Db::Mode::read_write_create);
  // Any statement on a non-SQLite file fails with SQLITE_NOTADB, which Db::fail turns into a clear message.
  writer_db_->exec("PRAGMA journal_mode=WAL");
  writer_db_->exec("PRAGMA synchronous=NORMAL");
  writer_db_->exec("PRAGMA foreign_keys=ON");
  migrate(*writer_db_);
  reader_ = std::make_unique<Db>(path, Db::Mode::read_write_create);
  reader_->exec("PRAGMA foreign_keys=ON");
  writer_ = std::thread([this] { writer_loop(); });
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Store::migrate(Db& db) {
  auto version_stmt = db.prepare("PRAGMA user_version");
  version_stmt.step();
  int current = static_cast<int>(version_stmt.int64(0));
  const auto& list = migrations();
  if (current > static_cast<int>(list.size()))
    throw Error(ErrorCode::usage, "database '" + path_ + "' has schema version " + std::to_string(current) +
                                      ", newer than this hybench supports (" + std::to_string(list.size()) +
                                      "); upgrade hybench");
  for (int v = current; v < static_cast<int>(list.size()); ++v) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(list[static_cast<size_t>(v)]);
      db.exec("PRAGMA user_version=" + std::to_string(v + 1));
      db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

void Store::writer_loop() {
  for (;;) {
    std::deque<std::function<void(Db&)>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
      busy_ = true;
    }
    std::string error;
    if (!writer_error_) {
      try {
        writer_db_->exec("BEGIN IMMEDIATE");
        for (auto& fn : batch) fn(*writer_db_);
        writer_db_->exec("COMMIT");
      } catch (const Error& e) {
        sqlite3_exec(writer_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        error = e.message();
      } catch (const std::exception& e) {
        sqlite3_exec(writer_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        error = e.what();
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error.empty() && !writer_error_) writer_error_ = error;
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

void Store::write(std::function<void(Db&)> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writer_error_) throw Error(ErrorCode::io, *writer_error_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void Store::write_sync(std::function<void(Db&)> fn) {
  auto error = std::make_shared<std::optional<Error>>();
  write([fn = std::move(fn), error](Db& db) {
    try {
      fn(db);
    } catch (const Error& e) {
      *error = e;
      throw;
    }
  });
  try {
    flush();
  } catch (const Error&) {
    if (*error) throw **error;
    throw;
  }
}

void Store::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || writer_error_; });
  if (writer_error_) throw Error(ErrorCode::io, *writer_error_);
}

void Store::check() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_error_) throw Error(ErrorCode::io, *writer_error_);
}

RunRecord Store::open_run(const std::string& name, const std::string& kind, const nlohmann::json& config) {
  RunRecord rec;
  rec.name = name;
  rec.kind = kind;
  // Stored and hashed without URL credentials (a new password resumes the same run).
  nlohmann::json safe_config = nlohmann::json::parse(redact_credentials(config.dump()));
  rec.config_hash = json_hash(safe_config);
  auto q = reader_->prepare("SELECT id, kind, config_hash, status FROM runs WHERE name = ?");
  q.bind(1, name);
  if (q.step()) {
    rec.id = q.int64(0);
    std::string old_kind = q.text(1), old_hash = q.text(2);
    if (old_kind != kind || old_hash != rec.config_hash)
      throw Error(ErrorCode::usage, "run '" + name + "' already exists in '" + path_ + "' with another configuration (" +
                                        old_kind + " " + old_hash + ", now " + kind + " " + rec.config_hash +
                                        "); resume it with the same options or choose another --run name");
    rec.status = "running";
    rec.resumed = true;
    int64_t id = rec.id;
    write_sync([id](Db& db) {
      db.prepare("UPDATE runs SET status='running', ended_at=NULL WHERE id=?").bind(1, id).run();
    });
    return rec;
  }
  std::string config_json = safe_config.dump();
  std::string env = collect_environment().dump();
  std::string hash = rec.config_hash;
  int64_t id = 0;
  write_sync([&](Db& db) {
    db.prepare("INSERT INTO runs(name, kind, config_json, config_hash, git_sha, environment_json, status, started_at) "
               "VALUES(?,?,?,?,?,?,'running',?)")
        .bind(1, name)
        .bind(2, kind)
        .bind(3, config_json)
        .bind(4, hash)
        .bind(5, build_git_sha())
        .bind(6, env)
        .bind(7, utc_now_iso8601())
        .run();
    id = db.last_insert_rowid();
  });
  rec.id = id;
  rec.status = "running";
  return rec;
}

bool Store::run_exists(const std::string& name) {
  auto q = reader_->prepare("SELECT 1 FROM runs WHERE name = ?");
  q.bind(1, name);
  return q.step();
}

void Store::set_run_status(int64_t run_id, const std::string& status) {
  std::string ended = status == "running" ? "" : utc_now_iso8601();
  write_sync([=](Db& db) {
    auto s = db.prepare("UPDATE runs SET status=?, ended_at=? WHERE id=?");
    s.bind(1, status);
    if (ended.empty()) s.bind_null(2);
    else s.bind(2, ended);
    s.bind(3, run_id).run();
  });
}

int64_t Store::ensure_model(const ModelRecord& m) {
  int64_t id = 0;
  write_sync([&](Db& db) {
    auto ins = db.prepare(
        "INSERT INTO models(spec, display_name, layout, attention_layers, mamba_layers, params, details_json) "
        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(spec, display_name) DO UPDATE SET "
        "layout=COALESCE(excluded.layout, layout), attention_layers=COALESCE(excluded.attention_layers, attention_layers), "
        "mamba_layers=COALESCE(excluded.mamba_layers, mamba_layers), params=COALESCE(excluded.params, params), "
        "details_json=excluded.details_json");
    std::string spec = redact_credentials(m.spec);
    ins.bind(1, spec).bind(2, m.display_name).bind(3, m.layout).bind(4, m.attention_layers).bind(5, m.mamba_layers);
    ins.bind(6, m.params).bind(7, redact_credentials(m.details.dump())).run();
    auto q = db.prepare("SELECT id FROM models WHERE spec=? AND display_name=?");
    q.bind(1, spec).bind(2, m.display_name);
    q.step();
    id = q.int64(0);
  });
  return id;
}

int64_t Store::ensure_suite(const SuiteRecord& s) {
  int64_t id = 0;
  write_sync([&](Db& db) {
    db.prepare("INSERT OR IGNORE INTO suites(name, variant, version, prompt_hash) VALUES(?,?,?,?)")
        .bind(1, s.name)
        .bind(2, s.variant)
        .bind(3, s.version)
        .bind(4, s.prompt_hash)
        .run();
    auto q = db.prepare("SELECT id FROM suites WHERE name=? AND variant=? AND version=? AND prompt_hash=?");
    q.bind(1, s.name).bind(2, s.variant).bind(3, s.version).bind(4, s.prompt_hash);
    q.step();
    id = q.int64(0);
  });
  return id;
}

std::set<std::pair<std::string, int>> Store::finished_samples(int64_t run_id, int64_t model_id, int64_t suite_id) {
  std::set<std::pair<std::string, int>> out;
  auto q = reader_->prepare(
      "SELECT item_id, sample_index FROM samples WHERE run_id=? AND model_id=? AND suite_id=? AND error_kind IS NULL");
  q.bind(1, run_id).bind(2, model_id).bind(3, suite_id);
  while (q.step()) out.emplace(q.text(0), static_cast<int>(q.int64(1)));
  return out;
}

std::vector<Store::ScoredSample> Store::scored_samples(int64_t run_id, int64_t model_id, int64_t suite_id) {
  std::vector<ScoredSample> out;
  auto q = reader_->prepare(
      "SELECT item_id, sample_index, scores_json FROM samples WHERE run_id=? AND model_id=? AND suite_id=? "
      "AND error_kind IS NULL ORDER BY item_id, sample_index");
  q.bind(1, run_id).bind(2, model_id).bind(3, suite_id);
  while (q.step()) {
    std::string s = q.text(2);
    out.push_back({q.text(0), static_cast<int>(q.int64(1)),
                   s.empty() ? nlohmann::json::object() : nlohmann::json::parse(s, nullptr, false)});
  }
  return out;
}

int64_t Store::count_samples(int64_t run_id, int64_t model_id, int64_t suite_id, bool errors_only) {
  auto q = reader_->prepare(std::string("SELECT COUNT(*) FROM samples WHERE run_id=? AND model_id=? AND suite_id=?") +
                            (errors_only ? " AND error_kind IS NOT NULL" : ""));
  q.bind(1, run_id).bind(2, model_id).bind(3, suite_id);
  q.step();
  return q.int64(0);
}

void Store::add_sample(SampleRecord s) {
  write([s = std::move(s)](Db& db) {
    auto st = db.prepare(
        "INSERT OR REPLACE INTO samples(run_id, model_id, suite_id, item_id, sample_index, prompt_json, completion, "
        "reasoning, answer, extractions_json, scores_json, grade_reason, truncated, prompt_tokens, completion_tokens, "
        "reasoning_tokens, client_prompt_tokens, client_completion_tokens, submit_unix_ns, first_token_unix_ns, "
        "end_unix_ns, finish_reason, attempts, endpoint, error_kind, error_message) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, s.run_id).bind(2, s.model_id).bind(3, s.suite_id).bind(4, s.item_id).bind(5, s.sample_index);
    st.bind(6, s.prompt_json).bind(7, s.completion).bind(8, s.reasoning).bind(9, s.answer);
    st.bind(10, s.extractions.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    st.bind(11, s.scores.dump()).bind(12, s.grade_reason).bind(13, static_cast<int64_t>(s.truncated));
    st.bind(14, s.prompt_tokens).bind(15, s.completion_tokens).bind(16, s.reasoning_tokens);
    st.bind(17, s.client_prompt_tokens).bind(18, s.client_completion_tokens);
    st.bind(19, s.submit_unix_ns).bind(20, s.first_token_unix_ns).bind(21, s.end_unix_ns);
    st.bind(22, s.finish_reason).bind(23, static_cast<int64_t>(s.attempts)).bind(24, redact_credentials(s.endpoint));
    st.bind(25, s.error_kind).bind(26, redact_credentials(s.error_message));
    st.run();
    if (s.attempt_log.empty()) return;
    auto at = db.prepare(
        "INSERT INTO attempts(run_id, model_id, suite_id, item_id, sample_index, turn, attempt, kind, request_sent, "
        "http_status, bytes_received, start_unix_ns, end_unix_ns, endpoint, message) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& a : s.attempt_log) {
      at.bind(1, s.run_id).bind(2, s.model_id).bind(3, s.suite_id).bind(4, s.item_id).bind(5, s.sample_index);
      at.bind(6, static_cast<int64_t>(a.turn)).bind(7, static_cast<int64_t>(a.attempt)).bind(8, a.kind);
      at.bind(9, static_cast<int64_t>(a.request_sent)).bind(10, a.http_status).bind(11, a.bytes_received);
      at.bind(12, a.start_unix_ns).bind(13, a.end_unix_ns).bind(14, redact_credentials(a.endpoint));
      at.bind(15, redact_credentials(a.message));
      at.run();
      at.reset();
    }
  });
}

void Store::put_metrics(int64_t run_id, int64_t model_id, int64_t suite_id, const std::vector<MetricRecord>& metrics) {
  write([=](Db& db) {
    auto st = db.prepare("INSERT OR REPLACE INTO metrics(run_id, model_id, suite_id, metric, n, value, stderr) VALUES(?,?,?,?,?,?,?)");
    for (const auto& m : metrics) {
      st.bind(1, run_id).bind(2, model_id).bind(3, suite_id).bind(4, m.metric).bind(5, m.n);
      if (m.value != m.value) st.bind_null(6);  // NaN: no value
      else st.bind(6, m.value);
      st.bind(7, m.stderr_);
      st.run();
      st.reset();
    }
  });
}

}  // namespace hb::store
