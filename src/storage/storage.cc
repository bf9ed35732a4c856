#include "storage/storage.h"

#include <chrono>
#include <cstdlib>
#include <mutex>

namespace rapport::storage {

int64_t Value::AsInt() const {
  if (auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (auto* d = std::get_if<double>(&v_)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v_)) return std::strtoll(s->c_str(), nullptr, 10);
  return 0;
}

double Value::AsDouble() const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v_)) return std::strtod(s->c_str(), nullptr);
  return 0;
}

const std::string& Value::AsText() const {
  static const std::string kEmpty;
  if (auto* s = std::get_if<std::string>(&v_)) return *s;
  return kEmpty;
}

Status Connection::Listen(std::string_view) {
  return Status::Internal("LISTEN needs PostgreSQL");
}

Result<bool> Connection::WaitForNotification(std::chrono::milliseconds) {
  return Status::Internal("notifications need PostgreSQL");
}

Status InTransaction(Connection& conn, const std::function<Status()>& fn) {
  RP_RETURN_IF_ERROR(conn.Begin());
  Status s;
  try {
    s = fn();
  } catch (...) {
    (void)conn.Rollback();
    throw;
  }
  if (!s.ok()) {
    (void)conn.Rollback();
    return s;
  }
  return conn.Commit();
}

// A small pool: idle connections are kept for reuse, up to kMaxIdle.
struct Database::Pool {
  static constexpr size_t kMaxIdle = 16;
  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu
  // SQLite has one writer at a time; threads of this process queue here
  // instead of in SQLite's busy handler, which sleeps in steps of up to
  // 100 ms (4 writers got 490 commits/s and a 60 ms p99 that way). Other
  // processes (an import beside the server) still meet the busy timeout.
  // Shared with other handles on the same file (ShareWriterQueueWith).
  std::shared_ptr<std::mutex> write_mu = std::make_shared<std::mutex>();
};

Database::Database() : pool_(std::make_unique<Pool>()) {}
Database::~Database() = default;

Status Database::WithConnection(const std::function<Status(Connection&)>& fn) {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    if (!pool_->idle.empty()) {
      conn = std::move(pool_->idle.back());
      pool_->idle.pop_back();
    }
  }
  if (!conn) {
    RP_ASSIGN_OR_RETURN(conn, Connect());
  }
  Status s = fn(*conn);
  std::lock_guard<std::mutex> lock(pool_->mu);
  if (pool_->idle.size() < Pool::kMaxIdle) pool_->idle.push_back(std::move(conn));
  return s;
}

Status Database::WithTransaction(const std::function<Status(Connection&)>& fn) {
  std::unique_lock<std::mutex> writer;
  if (dialect() == Dialect::kSqlite) writer = std::unique_lock<std::mutex>(*pool_->write_mu);
  return WithConnection([&](Connection& c) { return InTransaction(c, [&] { return fn(c); }); });
}

void Database::ShareWriterQueueWith(Database& other) { pool_->write_mu = other.pool_->write_mu; }

Status Migrate(Database& db, std::string_view module, const std::vector<Migration>& migrations) {
  return db.WithConnection([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " module TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL,"
        " applied_at BIGINT NOT NULL, PRIMARY KEY (module, version))"));
    for (const Migration& m : migrations) {
      Status s = InTransaction(c, [&]() -> Status {
        RP_ASSIGN_OR_RETURN(QueryResult done,
                            c.Query("SELECT 1 FROM schema_migrations WHERE module = ? AND version = ?",
                                    {std::string(module), m.version}));
        if (!done.empty()) return Status::Ok();
        RP_RETURN_IF_ERROR(c.ExecuteScript(m.sql));
        auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
        RP_ASSIGN_OR_RETURN(int64_t n, c.Execute("INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                                                 {std::string(module), m.version, m.description,
                                                  static_cast<int64_t>(now)}));
        (void)n;
        return Status::Ok();
      });
      if (!s.ok()) {
        return Status::Internal("migration " + std::string(module) + "/" + std::to_string(m.version) + " (" +
                                m.description + ") failed: " + s.message());
      }
    }
    return Status::Ok();
  });
}

}  // namespace rapport::storage
