#pragma once
// A fresh customer store per test: SQLite in its own temporary directory
// (not fsynced: tests need no durability), with a manual clock.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "customer/customer.h"

namespace rapport::testing {

class TempStoreTest : public ::testing::Test {
 protected:
  explicit TempStoreTest(Timestamp now) : clock_(now) {}

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("rapport-test-" + std::to_string(::getpid()) + "-" +
                                                     info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage::SqliteOptions opts;
    opts.durable = false;
    auto db = storage::OpenSqlite((dir_ / "t.db").string(), opts);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = customer::CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<customer::CustomerStore> store_;
};

}  // namespace rapport::testing
