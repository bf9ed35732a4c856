#pragma once
// A fresh SQLite store in a temporary directory per test, with a manual clock.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "customer/customer.h"

namespace rapport::customer {

inline Timestamp T(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp{};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport-customer-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage::SqliteOptions opts;
    opts.durable = false;
    auto db = storage::OpenSqlite((dir_ / "t.db").string(), opts);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = CustomerStore::Open(db_.get(), &clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  CustomerId NewPerson(const std::string& first, const std::string& last, std::vector<Identifier> ids = {}) {
    NewCustomer c;
    c.attributes = {{"firstName", first}, {"lastName", last}};
    c.identifiers = std::move(ids);
    auto r = store_->Create(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : 0;
  }
  CustomerId NewGroup(Kind kind, const std::string& name) {
    NewCustomer c;
    c.kind = kind;
    c.attributes = {{"name", name}};
    auto r = store_->Create(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : 0;
  }

  std::filesystem::path dir_;
  ManualClock clock_{T("2026-01-15T10:00:00Z")};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<CustomerStore> store_;
};

}  // namespace rapport::customer
