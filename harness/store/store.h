#pragma once
// The results database: one SQLite file in WAL mode, created and upgraded by numbered migrations
// (PRAGMA user_version). Every write goes through one writer thread that commits queued writes in small
// group transactions, so a finished sample is durable within milliseconds and a kill -9 loses at most
// the requests still in flight. Reads use the caller's own connection.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/store/sqlite.h"

namespace hb::store {

struct RunRecord {
  int64_t id = 0;
  std::string name;
  std::string kind;
  std::string config_hash;
  std::string status;
  bool resumed = false;
};

// One independently resumable piece of a run: an eval of one model on one suite, or a sweep of one model.
struct RunPart {
  std::string key;      // "eval/MODEL/SUITE", "sweep/MODEL", ...
  std::string kind;     // eval | sweep
  nlohmann::json config;
};

struct ModelRecord {
  std::string spec;
  std::string display_name;
  std::optional<std::string> layout;
  std::optional<int64_t> attention_layers;
  std::optional<int64_t> mamba_layers;
  std::optional<int64_t> params;
  nlohmann::json details = nlohmann::json::object();
};

struct SuiteRecord {
  std::string name;
  std::string variant;
  std::string version;
  std::string prompt_hash;
};

// One HTTP request of a sample (see GenerationResult::attempt_log).
struct AttemptRecord {
  int turn = 0;
  int attempt = 1;
  std::string kind;
  bool request_sent = true;
  std::optional<int64_t> http_status;
  int64_t bytes_received = 0;
  std::optional<int64_t> start_unix_ns, end_unix_ns;
  std::string endpoint;
  std::string message;
};

struct SampleRecord {
  int64_t run_id = 0, model_id = 0, suite_id = 0;
  std::string item_id;
  int sample_index = 0;
  std::string prompt_json;
  std::string completion;
  std::string reasoning;
  std::string answer;
  nlohmann::json extractions = nlohmann::json::object();
  nlohmann::json scores = nlohmann::json::object();
  std::string grade_reason;
  bool truncated = false;
  std::optional<int64_t> prompt_tokens, completion_tokens, reasoning_tokens;
  std::optional<int64_t> client_prompt_tokens, client_completion_tokens;
  std::optional<int64_t> submit_unix_ns, first_token_unix_ns, end_unix_ns;
  std::string finish_reason;
  int attempts = 0;
  std::string endpoint;
  std::optional<std::string> error_kind;
  std::string error_message;
  std::vector<AttemptRecord> attempt_log;  // appended to the attempts table in the same transaction
};

struct MetricRecord {
  std::string metric;
  int64_t n = 0;
  double value = 0;
  double stderr_ = 0;
};

class Store {
 public:
  // Opens (creating if needed) and migrates the database. Errors name the file and what to do.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  static int schema_version();  // the version this build writes

  // Creates the run, or resumes it when one of that name exists with the same config hash; a run of that
  // name with another config hash is a usage error that names both hashes.
  RunRecord open_run(const std::string& name, const std::string& kind, const nlohmann::json& config);
  void set_run_status(int64_t run_id, const std::string& status);
  // Multi-part runs (run_parts.cpp): opens the run `name` (creating it with `kind` when missing) and its
  // parts; each part resumes when it exists with the same config hash, is added when new, and is a usage
  // error when it exists with another hash. Nothing is written when any part is refused. A run made
  // before parts existed (no part rows) only accepts the same kind and whole config as before.
  RunRecord open_run_parts(const std::string& name, const std::string& kind, const nlohmann::json& whole_config,
                           const std::vector<RunPart>& parts);
  // Sets the status of the given parts, then the run's: failed > interrupted > running > finished over
  // all of its parts.
  void end_parts(int64_t run_id, const std::vector<RunPart>& parts, const std::string& status);
  bool run_exists(const std::string& name);
  int64_t ensure_model(const ModelRecord& model);
  int64_t ensure_suite(const SuiteRecord& suite);

  // (item_id, sample_index) of samples stored without error.
  std::set<std::pair<std::string, int>> finished_samples(int64_t run_id, int64_t model_id, int64_t suite_id);
  // Samples of one run/model/suite whose scores are stored (error-free), for aggregation.
  struct ScoredSample {
    std::string item_id;
    int sample_index;
    nlohmann::json scores;
  };
  std::vector<ScoredSample> scored_samples(int64_t run_id, int64_t model_id, int64_t suite_id);
  int64_t count_samples(int64_t run_id, int64_t model_id, int64_t suite_id, bool errors_only);

  // Queued writes (INSERT OR REPLACE on the primary key, so a retried sample replaces its failed row; its
  // attempt rows are appended, so the attempts table keeps every request ever sent). URL credentials in
  // what is stored (config, spec, endpoint, messages) are redacted.
  void add_sample(SampleRecord sample);
  void put_metrics(int64_t run_id, int64_t model_id, int64_t suite_id, const std::vector<MetricRecord>& metrics);
  // Any write, run on the writer thread inside a transaction.
  void write(std::function<void(Db&)> fn);
  // Runs fn on the writer thread and waits for its commit; rethrows its error.
  void write_sync(std::function<void(Db&)> fn);
  // Waits until every queued write is committed; throws the writer's error if one happened.
  void flush();
  // Throws the writer's error if one happened (cheap; call it from loops).
  void check() const;

  // The caller's read connection (not thread-safe: use from the thread that owns the Store).
  Db& reader() { return *reader_; }

 private:
  void writer_loop();
  void migrate(Db& db);
  std::string path_;
  std::unique_ptr<Db> reader_;
  std::unique_ptr<Db> writer_db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void(Db&)>> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  std::optional<std::string> writer_error_;
  std::thread writer_;
};

}  // namespace hb::store
