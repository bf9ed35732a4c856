// Every statement on a budgeted read path is an index lookup or an index
// range scan, never a full scan, so the 360 view stays fast at any size.

#include <gtest/gtest.h>

#include <algorithm>

#include "customer/internal/queries.h"
#include "customer_test_util.h"

namespace rapport::customer {
namespace {

TEST_F(StoreTest, BudgetedReadsUseIndexes) {
  // No ANALYZE: statistics of a tiny test table would make a scan look
  // cheap; without them SQLite plans as for a large table.
  CustomerId a = NewPerson("Anna", "Schmidt", {{"email", "a@example.com"}});
  ASSERT_GT(a, 0);
  Status s = db_->WithConnection([](storage::Connection& c) -> Status {
    for (std::string_view stmt : sql::kIndexedReads) {
      size_t params = static_cast<size_t>(std::count(stmt.begin(), stmt.end(), '?'));
      std::vector<storage::Value> values(params, storage::Value(int64_t{1}));
      RP_ASSIGN_OR_RETURN(storage::QueryResult plan, c.QueryV("EXPLAIN QUERY PLAN " + std::string(stmt), values));
      std::string text;
      bool searched = false;
      for (const auto& row : plan.rows) {
        const std::string& detail = row.back().AsText();
        text += detail + "\n";
        EXPECT_NE(detail.rfind("SCAN", 0), 0u) << "full scan in: " << stmt << "\n" << text;
        if (detail.rfind("SEARCH", 0) == 0) searched = true;
      }
      EXPECT_TRUE(searched) << stmt << "\n" << text;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace rapport::customer
