#include "harness/store/sqlite.h"

#include "harness/base/error.h"

namespace hb::store {

Db::Db(const std::string& path, Mode mode) : path_(path) {
  int flags = mode == Mode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(mode == Mode::read_only ? ErrorCode::not_found : ErrorCode::io,
                "cannot open database '" + path + "': " + msg + "; check the --db path and its permissions");
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(const std::string& what) const {
  int rc = sqlite3_errcode(db_);
  std::string msg = sqlite3_errmsg(db_);
  int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB)
    throw Error(ErrorCode::usage, "'" + path_ + "' is not an SQLite database (" + msg +
                                      "); pass a new or existing hybench database with --db");
  if (primary == SQLITE_READONLY)
    throw Error(ErrorCode::io, "database '" + path_ + "' is read-only (" + msg +
                                   "); make it writable or pass another --db path");
  if (primary == SQLITE_CANTOPEN)
    throw Error(ErrorCode::io, "cannot open database '" + path_ + "' (" + msg + "); check the directory exists and is writable");
  if (primary == SQLITE_FULL) throw Error(ErrorCode::io, "database '" + path_ + "': disk full while " + what);
  throw Error(ErrorCode::io, "database '" + path_ + "': " + what + " failed: " + msg);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail("executing '" + sql.substr(0, 60) + "'");
  }
}

Stmt Db::prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) fail("preparing '" + sql.substr(0, 60) + "'");
  return Stmt(*this, s);
}

Stmt& Stmt::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_->fail("binding");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) db_->fail("binding");
  return *this;
}
Stmt& Stmt::bind(int i, const std::string& v) {
  if (sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK) db_->fail("binding");
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, size_t n) {
  if (sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT) != SQLITE_OK) db_->fail("binding");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_->fail("binding");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("running '" + std::string(sqlite3_sql(stmt_)).substr(0, 60) + "'");
}

void Stmt::run() {
  while (step()) {
  }
  sqlite3_reset(stmt_);
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

std::string Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

}  // namespace hb::store
