#pragma once
// A fresh database for one test, for fixtures that run on SQLite and, under
// scripts/with-postgres.sh (RAPPORT_TEST_POSTGRES set), on PostgreSQL too.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/storage.h"

namespace rapport::testing {

// True when the PostgreSQL variant of a test can run.
inline bool PostgresAvailable() { return std::getenv("RAPPORT_TEST_POSTGRES") != nullptr; }

// postgres: a new database named "<prefix>_<pid>_<n>" on the throwaway
// server of scripts/with-postgres.sh. Otherwise SQLite at dir/t.db, not
// fsynced (tests need no durability).
inline Result<std::unique_ptr<storage::Database>> OpenTestDatabase(bool postgres, const std::filesystem::path& dir,
                                                                   const std::string& prefix) {
  if (!postgres) {
    storage::SqliteOptions opts;
    opts.durable = false;
    return storage::OpenSqlite((dir / "t.db").string(), opts);
  }
  static int databases = 0;
  std::string conninfo = std::getenv("RAPPORT_TEST_POSTGRES");
  RP_ASSIGN_OR_RETURN(auto admin, storage::OpenPostgres(conninfo));
  std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++databases);
  RP_RETURN_IF_ERROR(admin->WithConnection([&](storage::Connection& c) {
    return c.ExecuteScript("CREATE DATABASE " + name);
  }));
  return storage::OpenPostgres(conninfo + " dbname=" + name);
}

}  // namespace rapport::testing
