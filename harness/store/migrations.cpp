#include "harness/store/migrations.h"

// Numbered, forward-only schema migrations. Migration i brings PRAGMA user_version from i-1 to i.
// Never edit a released migration: add the next one. docs/SCHEMA.md documents the current schema.
namespace hb::store {

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> list = {
      // 1: runs, models, suites, samples, metrics, perf points, request traces.
      R"SQL(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                 -- eval | sweep | study
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  git_sha TEXT,
  environment_json TEXT,
  status TEXT NOT NULL DEFAULT 'running',  -- running | finished | failed | interrupted
  started_at TEXT NOT NULL,           -- ISO-8601 UTC of the first start
  ended_at TEXT
);
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  spec TEXT NOT NULL,                 -- backend spec, secrets removed
  display_name TEXT NOT NULL,
  layout TEXT,                        -- e.g. AAMAMM... (A attention, M Mamba) when known
  attention_layers INTEGER,
  mamba_layers INTEGER,
  params INTEGER,
  details_json TEXT,
  UNIQUE (spec, display_name)
);
CREATE TABLE suites (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  variant TEXT NOT NULL,
  version TEXT NOT NULL,
  prompt_hash TEXT NOT NULL,
  UNIQUE (name, variant, version, prompt_hash)
);
CREATE TABLE samples (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  suite_id INTEGER NOT NULL REFERENCES suites(id),
  item_id TEXT NOT NULL,
  sample_index INTEGER NOT NULL,
  prompt_json TEXT NOT NULL,          -- messages (or raw prompt) as sent, all turns
  completion TEXT,                    -- raw completion (JSON array of turns when several)
  reasoning TEXT,                     -- reasoning part, stored apart
  answer TEXT,                        -- completion after the reasoning trace was stripped
  extractions_json TEXT,              -- {"strict": {"value": "18", "reason": "..."}, ...}
  scores_json TEXT,                   -- {"accuracy/strict": 1, ...}
  grade_reason TEXT,
  truncated INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER,              -- as reported by the server
  completion_tokens INTEGER,
  reasoning_tokens INTEGER,
  client_prompt_tokens INTEGER,       -- as counted by the client when a tokenizer is known
  client_completion_tokens INTEGER,
  submit_unix_ns INTEGER,
  first_token_unix_ns INTEGER,
  end_unix_ns INTEGER,
  finish_reason TEXT,
  attempts INTEGER,
  endpoint TEXT,
  error_kind TEXT,                    -- NULL when the sample succeeded
  error_message TEXT,
  PRIMARY KEY (run_id, model_id, suite_id, item_id, sample_index)
);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  suite_id INTEGER NOT NULL REFERENCES suites(id),
  metric TEXT NOT NULL,
  n INTEGER NOT NULL,
  value REAL,
  stderr REAL,
  PRIMARY KEY (run_id, model_id, suite_id, metric)
);
CREATE TABLE perf_points (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  point_key TEXT NOT NULL,            -- stable key of (workload, load, repeat) within the run
  shape TEXT NOT NULL,                -- "IN:OUT"
  load_kind TEXT NOT NULL,            -- concurrency | rate
  load_value REAL NOT NULL,
  burstiness REAL,
  repeat_index INTEGER NOT NULL DEFAULT 0,
  workload_json TEXT NOT NULL,
  settings_json TEXT,                 -- engine/server settings
  metrics_json TEXT,                  -- the point's metrics (see docs/METRICS.md)
  requests INTEGER,
  errors INTEGER,
  status TEXT NOT NULL DEFAULT 'running',  -- running | finished | failed
  started_at TEXT,
  ended_at TEXT,
  UNIQUE (run_id, model_id, point_key)
);
CREATE TABLE request_traces (
  point_id INTEGER NOT NULL REFERENCES perf_points(id),
  request_index INTEGER NOT NULL,
  scheduled_ns INTEGER,               -- relative to the point's start (monotonic)
  send_ns INTEGER,
  first_byte_ns INTEGER,
  first_token_ns INTEGER,
  first_content_ns INTEGER,
  end_ns INTEGER,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  client_completion_tokens INTEGER,
  chunks BLOB,                        -- packed (int64 t_ns, int32 tokens) per chunk, little-endian
  finish_reason TEXT,
  endpoint TEXT,
  error_kind TEXT,
  error_message TEXT,
  PRIMARY KEY (point_id, request_index)
);
CREATE INDEX samples_by_suite ON samples (suite_id, model_id);
)SQL",
      // 2: leave-one-out layer importance (hybench importance): one row per run x full model x metric x mode x layer.
      R"SQL(
CREATE TABLE layer_importance (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model_id INTEGER NOT NULL REFERENCES models(id),  -- the full model
  metric TEXT NOT NULL,               -- kl | score
  mode TEXT NOT NULL,                 -- drop-mixer | drop-layer
  layer INTEGER NOT NULL,
  layer_kind TEXT NOT NULL,           -- t | m2 (the layer's mixer in the full model)
  n INTEGER NOT NULL,                 -- sequences (kl) or items (score)
  value REAL,                         -- kl: mean KL(full || dropped), nats; score: full - dropped
  stderr REAL,
  ci_low REAL,                        -- 95% interval of value
  ci_high REAL,
  details_json TEXT,                  -- per-suite drops (score), token counts (kl)
  PRIMARY KEY (run_id, model_id, metric, mode, layer)
);
)SQL",
      // 3: multi-part runs (an eval or sweep of one model is a part with its own configuration hash, so one
      // nightly run can hold evals and sweeps of several models), and the connection set-up time of
      // every request of a throughput point (0 when a kept-alive connection was reused).
      R"SQL(
CREATE TABLE run_parts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  part_key TEXT NOT NULL,             -- e.g. eval/MODEL/SUITE or sweep/MODEL
  kind TEXT NOT NULL,                 -- eval | sweep
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'running',  -- running | finished | failed | interrupted
  started_at TEXT NOT NULL,
  ended_at TEXT,
  PRIMARY KEY (run_id, part_key)
);
ALTER TABLE request_traces ADD COLUMN connect_ns INTEGER;
)SQL",
      // 4: attempts, one row per HTTP request of a sample (retries and libcurl's silent re-sends included).
      R"SQL(
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model_id INTEGER NOT NULL REFERENCES models(id),
  suite_id INTEGER NOT NULL REFERENCES suites(id),
  item_id TEXT NOT NULL,
  sample_index INTEGER NOT NULL,
  turn INTEGER NOT NULL,              -- 0-based turn of a multi-turn conversation
  attempt INTEGER NOT NULL,           -- 1-based, per turn and per session (a resumed sample starts again at 1)
  kind TEXT NOT NULL,                 -- ok | resent | connect | timeout | truncated | protocol | server_error | http_NNN | cancelled
  request_sent INTEGER NOT NULL,      -- 1 when the request reached the wire (0: connect error)
  http_status INTEGER,                -- NULL when no status line arrived
  bytes_received INTEGER NOT NULL,    -- header + body bytes
  start_unix_ns INTEGER,
  end_unix_ns INTEGER,
  endpoint TEXT,
  message TEXT
);
CREATE INDEX attempts_by_sample ON attempts (run_id, model_id, suite_id, item_id, sample_index);
)SQL",
  };
  return list;
}

}  // namespace hb::store
