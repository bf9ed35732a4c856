#pragma once
// A fresh database for one test, for fixtures that run on SQLite and, under
// scripts/with-postgres.sh (RAPPORT_TEST_POSTGRES set), on PostgreSQL too.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/storage.h"

namespace rapport::testing {

// An empty directory for the running test, under the temporary directory:
// "rapport-<prefix>-<pid>-<test name>" ('/' of parameterised names made '_').
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  std::string tag = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(tag.begin(), tag.end(), '/', '_');
  auto dir = std::filesystem::temp_directory_path() / ("rapport-" + prefix + "-" + std::to_string(::getpid()) + "-" + tag);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

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
