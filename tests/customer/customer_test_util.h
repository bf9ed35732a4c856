#pragma once
// A fresh SQLite store in a temporary directory per test, with a manual clock.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "customer/customer.h"
#include "testing/temp_store.h"

namespace rapport::customer {

inline Timestamp T(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp{};
}

class StoreTest : public testing::TempStoreTest {
 protected:
  StoreTest() : TempStoreTest(T("2026-01-15T10:00:00Z")) {}

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
};

}  // namespace rapport::customer
