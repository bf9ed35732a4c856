#pragma once
// The database interface every module stores through. A Database hands out
// Connections; SQL is written once with '?' placeholders and values are always
// bound, never spliced into the text. The SQLite driver is the embedded
// default; a PostgreSQL driver plugs in behind the same interface (the driver
// rewrites '?' to $n). Each module owns its schema as numbered migrations.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace rapport::storage {

// One SQL value. Timestamps are stored as int64 microseconds, booleans as 0/1.
class Value {
 public:
  Value() = default;  // NULL
  Value(std::nullptr_t) {}
  Value(int64_t v) : v_(v) {}
  Value(int v) : v_(static_cast<int64_t>(v)) {}
  Value(bool v) : v_(static_cast<int64_t>(v ? 1 : 0)) {}
  Value(double v) : v_(v) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_text() const { return std::holds_alternative<std::string>(v_); }

  // Lenient reads: NULL reads as 0 / "" ; numbers convert between each other.
  int64_t AsInt() const;
  double AsDouble() const;
  const std::string& AsText() const;  // "" unless text

  const std::variant<std::monostate, int64_t, double, std::string>& raw() const { return v_; }

 private:
  std::variant<std::monostate, int64_t, double, std::string> v_;
};

using Row = std::vector<Value>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
};

enum class Dialect { kSqlite, kPostgres };

// A single database session. Not thread-safe: one thread uses a connection
// at a time. Prepared statements are cached per connection by SQL text.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;

  // Runs a statement; returns the number of rows changed.
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Run(sql, params.begin(), params.size(), nullptr);
  }
  Result<int64_t> ExecuteV(std::string_view sql, const std::vector<Value>& params) {
    return Run(sql, params.data(), params.size(), nullptr);
  }
  // Runs a statement and returns its rows.
  Result<QueryResult> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Collect(sql, params.begin(), params.size());
  }
  Result<QueryResult> QueryV(std::string_view sql, const std::vector<Value>& params) {
    return Collect(sql, params.data(), params.size());
  }
  // Runs several ';'-separated statements without parameters (DDL).
  virtual Status ExecuteScript(std::string_view sql) = 0;

  // Id of the row the last INSERT created (SQLite rowid). With PostgreSQL use
  // INSERT ... RETURNING id instead; this is here for the SQLite fast path.
  virtual int64_t LastInsertId() = 0;

  virtual Status Begin() = 0;  // a write transaction (SQLite: BEGIN IMMEDIATE)
  // Commits. When the transaction appended to the change feed
  // (change_feed.h), PostgreSQL also sends NOTIFY rapport_changes with it,
  // and the feed's subscribers in this process are woken once it is durable.
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  // Called by AppendChanges: this transaction wrote change records.
  void NoteChangesAppended() { changes_appended_ = true; }

  // PostgreSQL only (Internal on SQLite): LISTEN on a channel, then
  // wait up to timeout for a notification on any channel listened to.
  // Returns whether one arrived (all pending ones are consumed).
  virtual Status Listen(std::string_view channel);
  virtual Result<bool> WaitForNotification(std::chrono::milliseconds timeout);

 protected:
  // Binds params[0..n) to the statement and runs it; fills *out when given.
  // Returns the number of rows changed.
  virtual Result<int64_t> Run(std::string_view sql, const Value* params, size_t n, QueryResult* out) = 0;

  // Whether the open transaction appended changes; drivers read and clear it
  // in Commit and clear it in Begin and Rollback.
  bool changes_appended_ = false;

 private:
  Result<QueryResult> Collect(std::string_view sql, const Value* params, size_t n) {
    QueryResult out;
    RP_RETURN_IF_ERROR(Run(sql, params, n, &out).status());
    return out;
  }
};

// Runs fn inside a transaction on conn: commits when fn returns OK, rolls
// back otherwise (and on exceptions). The transaction is durable when this
// returns OK.
Status InTransaction(Connection& conn, const std::function<Status()>& fn);

// A database: a factory of connections plus a pool for request handlers.
// Thread-safe.
class Database {
 public:
  virtual ~Database();
  virtual Dialect dialect() const = 0;
  // A new connection owned by the caller.
  virtual Result<std::unique_ptr<Connection>> Connect() = 0;

  // Borrows a pooled connection for the duration of fn (connections are
  // reused across calls; at most `pool size` are open).
  Status WithConnection(const std::function<Status(Connection&)>& fn);
  // Borrows a pooled connection and runs fn in a transaction on it. On
  // SQLite, this process's transactions run one at a time (fn must not start
  // another transaction).
  Status WithTransaction(const std::function<Status(Connection&)>& fn);
  // Makes this database's transactions queue behind the same in-process
  // writer lock as other's: for a second handle on the same SQLite file
  // (opened with other options). Call before either is used concurrently.
  void ShareWriterQueueWith(Database& other);

 protected:
  Database();

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

struct SqliteOptions {
  // fsync on every commit (synchronous=FULL): an acknowledged write survives
  // power loss, not only a process crash.
  bool durable = true;
  int busy_timeout_ms = 10000;
};

// Opens (creating if absent) the SQLite database at path, in WAL mode with
// foreign keys on. ":memory:" is not allowed: connections must share data.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, SqliteOptions options = {});

// One schema step of one module. Versions are per module, starting at 1, and
// never change once released: a new step gets a new version.
struct Migration {
  int version;
  std::string description;
  std::string sql;  // may hold several statements
};

// Applies the module's migrations that are not yet applied, in order, each in
// its own transaction, and records them in schema_migrations.
Status Migrate(Database& db, std::string_view module, const std::vector<Migration>& migrations);

}  // namespace rapport::storage

namespace rapport::storage {

// Connects to PostgreSQL with a libpq connection string or URI
// ("postgresql://user@host:5432/db", "host=/tmp/sock dbname=rapport").
// '?' placeholders are rewritten to $1..$n; values are sent as text
// parameters and typed by the server. Rows come back typed by column OID
// (integers, floating point and numeric, booleans as 0/1, the rest as text).
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo);

// Rewrites '?' placeholders to $1..$n, leaving quoted strings, quoted
// identifiers and comments untouched. Exposed for tests.
std::string RewritePlaceholders(std::string_view sql);

}  // namespace rapport::storage
