// The SQLite driver: WAL journal, foreign keys on, prepared statements cached
// per connection, values always bound.

#include <sqlite3.h>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/internal/commit_signal.h"
#include "storage/storage.h"

namespace rapport::storage {
namespace {

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status ExecuteScript(std::string_view sql) override {
    char* err = nullptr;
    std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::Internal("sqlite: " + msg);
    }
    return Status::Ok();
  }

  int64_t LastInsertId() override { return sqlite3_last_insert_rowid(db_); }

  Status Begin() override {
    changes_appended_ = false;
    return Simple("BEGIN IMMEDIATE");
  }
  Status Commit() override {
    bool signal = changes_appended_;
    changes_appended_ = false;
    RP_RETURN_IF_ERROR(Simple("COMMIT"));
    if (signal) internal::SignalChangesCommitted();
    return Status::Ok();
  }
  Status Rollback() override {
    changes_appended_ = false;
    return Simple("ROLLBACK");
  }

 private:
  Status Simple(const char* sql) {
    auto r = Run(sql, nullptr, 0, nullptr);
    return r.ok() ? Status::Ok() : r.status();
  }

  Status Error(int rc, std::string_view sql) {
    std::string msg = std::string("sqlite: ") + sqlite3_errmsg(db_);
    int primary = rc & 0xff;
    if (primary == SQLITE_CONSTRAINT) return Status::Conflict(msg);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Unavailable(msg);
    return Status::Internal(msg + " in: " + std::string(sql.substr(0, 200)));
  }

  Result<int64_t> Run(std::string_view sql, const Value* params, size_t n, QueryResult* out) override {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);  // heterogeneous: no string built per call
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                  nullptr);
      if (rc != SQLITE_OK) return Error(rc, sql);
      cache_.emplace(std::string(sql), stmt);
    }
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != n) {
      return Status::Internal("sqlite: statement wants " + std::to_string(sqlite3_bind_parameter_count(stmt)) +
                              " parameters, got " + std::to_string(n) + ": " + std::string(sql.substr(0, 200)));
    }
    for (size_t i = 0; i < n; ++i) {
      int idx = static_cast<int>(i + 1);
      const auto& raw = params[i].raw();
      int rc;
      if (auto* iv = std::get_if<int64_t>(&raw)) {
        rc = sqlite3_bind_int64(stmt, idx, *iv);
      } else if (auto* dv = std::get_if<double>(&raw)) {
        rc = sqlite3_bind_double(stmt, idx, *dv);
      } else if (auto* sv = std::get_if<std::string>(&raw)) {
        rc = sqlite3_bind_text(stmt, idx, sv->data(), static_cast<int>(sv->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) {
        sqlite3_reset(stmt);
        return Error(rc, sql);
      }
    }
    int cols = sqlite3_column_count(stmt);
    if (out) {
      out->columns.clear();
      for (int c = 0; c < cols; ++c) out->columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!out) continue;
      Row row;
      row.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(stmt, c)); break;
          case SQLITE_NULL: row.emplace_back(); break;
          default: {
            const char* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      out->rows.push_back(std::move(row));
    }
    int64_t changes = sqlite3_changes(db_);
    // No sqlite3_clear_bindings: every call binds every parameter anew.
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return changes;
  }

  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, SqliteOptions options) : path_(std::move(path)), options_(options) {}
  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<std::unique_ptr<Connection>> Connect() override {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return Status::Internal("cannot open database " + path_ + ": " + msg);
    }
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    auto conn = std::make_unique<SqliteConnection>(db);
    std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                          "PRAGMA cache_size=-65536;"
                          // Checkpoint every ~40 MB of WAL rather than 4 MB: a page
                          // dirtied by several commits is copied back once.
                          "PRAGMA wal_autocheckpoint=10000;";
    pragmas += options_.durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
    RP_RETURN_IF_ERROR(conn->ExecuteScript(pragmas));
    return std::unique_ptr<Connection>(std::move(conn));
  }

 private:
  std::string path_;
  SqliteOptions options_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    return Status::InvalidArgument("a SQLite database needs a file path");
  }
  // SQLite's memory statistics take a global mutex on every allocation;
  // nothing here reads them, and the tracking writer allocates per row.
  // Must precede SQLite's initialization (the first open).
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  auto db = std::make_unique<SqliteDatabase>(path, options);
  // Open once now so a bad path fails here, not on first use.
  auto conn = db->Connect();
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace rapport::storage
