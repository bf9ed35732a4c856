// The PostgreSQL driver: the shared system of record when a company outgrows
// one machine. Statements are prepared once per connection by SQL text.

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "storage/change_feed.h"
#include "storage/internal/commit_signal.h"
#include "storage/storage.h"

namespace rapport::storage {

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // copy a quoted run verbatim ('' and "" escape themselves)
      size_t j = i + 1;
      while (j < sql.size() && sql[j] != c) ++j;
      out.append(sql.substr(i, j - i + 1));
      i = j;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      if (j == std::string_view::npos) j = sql.size() - 1;
      out.append(sql.substr(i, j - i + 1));
      i = j;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// OIDs from PostgreSQL's pg_type.dat; stable across versions.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);
    PgResult r(PQexec(conn_, text.c_str()));
    ExecStatusType st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error(r.get(), sql);
    return Status::Ok();
  }

  int64_t LastInsertId() override { return -1; }  // use INSERT ... RETURNING id

  Status Begin() override {
    changes_appended_ = false;
    return ExecuteScript("BEGIN");
  }
  Status Commit() override {
    bool signal = changes_appended_;
    changes_appended_ = false;
    // Delivered to every listening node when, and only if, this commits.
    if (signal) RP_RETURN_IF_ERROR(ExecuteScript("NOTIFY " + std::string(kChangeChannel)));
    RP_RETURN_IF_ERROR(ExecuteScript("COMMIT"));
    if (signal) internal::SignalChangesCommitted();
    return Status::Ok();
  }
  Status Rollback() override {
    changes_appended_ = false;
    return ExecuteScript("ROLLBACK");
  }

  Status Listen(std::string_view channel) override {
    PgResult r(PQexec(conn_, ("LISTEN \"" + std::string(channel) + "\"").c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error(r.get(), "LISTEN");
    return Status::Ok();
  }

  Result<bool> WaitForNotification(std::chrono::milliseconds timeout) override {
    if (Drain()) return true;
    int fd = PQsocket(conn_);
    if (fd < 0) return Status::Unavailable("postgres: the connection is closed");
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n < 0 && errno != EINTR) return Status::Internal("postgres: poll failed");
    if (n > 0 && PQconsumeInput(conn_) == 0) {
      return Status::Unavailable(std::string("postgres: ") + PQerrorMessage(conn_));
    }
    return Drain();
  }

 private:
  // Consumes every notification received; whether there was one.
  bool Drain() {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  }

  Status Error(const PGresult* r, std::string_view sql) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = std::string("postgres: ") + (r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::string code = state ? state : "";
    if (code.rfind("23", 0) == 0) return Status::Conflict(msg);  // integrity constraint violation
    if (code == "40001" || code == "40P01" || code == "55P03") return Status::Unavailable(msg);
    if (PQstatus(conn_) != CONNECTION_OK) return Status::Unavailable(msg);
    return Status::Internal(msg + " in: " + std::string(sql.substr(0, 200)));
  }

  Result<int64_t> Run(std::string_view sql, const Value* params, size_t n, QueryResult* out) override {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(prepared_.size() + 1);
      std::string text = RewritePlaceholders(sql);
      PgResult r(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error(r.get(), sql);
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> texts(n);
    std::vector<const char*> values(n, nullptr);
    for (size_t i = 0; i < n; ++i) {
      const auto& raw = params[i].raw();
      if (auto* iv = std::get_if<int64_t>(&raw)) {
        texts[i] = std::to_string(*iv);
      } else if (auto* dv = std::get_if<double>(&raw)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", *dv);
        texts[i] = buf;
      } else if (auto* sv = std::get_if<std::string>(&raw)) {
        texts[i] = *sv;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    PgResult r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n), values.data(), nullptr, nullptr, 0));
    ExecStatusType st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error(r.get(), sql);
    if (out && st == PGRES_TUPLES_OK) {
      int cols = PQnfields(r.get());
      int rows = PQntuples(r.get());
      out->columns.clear();
      for (int c = 0; c < cols; ++c) out->columns.emplace_back(PQfname(r.get(), c));
      out->rows.reserve(rows);
      for (int i = 0; i < rows; ++i) {
        Row row;
        row.reserve(cols);
        for (int c = 0; c < cols; ++c) {
          if (PQgetisnull(r.get(), i, c)) {
            row.emplace_back();
            continue;
          }
          const char* v = PQgetvalue(r.get(), i, c);
          switch (PQftype(r.get(), c)) {
            case kInt2Oid: case kInt4Oid: case kInt8Oid: case kOidOid:
              row.emplace_back(static_cast<int64_t>(std::strtoll(v, nullptr, 10)));
              break;
            case kFloat4Oid: case kFloat8Oid: case kNumericOid:
              row.emplace_back(std::strtod(v, nullptr));
              break;
            case kBoolOid:
              row.emplace_back(static_cast<int64_t>(v[0] == 't' ? 1 : 0));
              break;
            default:
              row.emplace_back(std::string(v, PQgetlength(r.get(), i, c)));
          }
        }
        out->rows.push_back(std::move(row));
      }
    }
    const char* tuples = PQcmdTuples(r.get());
    return static_cast<int64_t>(tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0);
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<std::unique_ptr<Connection>> Connect() override {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      // The message names host and reason; the conninfo (which may hold a
      // password) is never repeated.
      std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      PQfinish(conn);
      return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
    }
    auto c = std::make_unique<PostgresConnection>(conn);
    RP_RETURN_IF_ERROR(c->ExecuteScript("SET client_min_messages = warning"));
    return std::unique_ptr<Connection>(std::move(c));
  }

 private:
  std::string conninfo_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo) {
  auto db = std::make_unique<PostgresDatabase>(conninfo);
  auto conn = db->Connect();
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace rapport::storage
