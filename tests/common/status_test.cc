#include "common/status.h"

#include <gtest/gtest.h>

namespace rapport {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd", "/x");
  return x / 2;
}

Result<int> Quarter(int x) {
  RP_ASSIGN_OR_RETURN(int h, Half(x));
  RP_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, CodesMapToHttp) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnprocessable), 422);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "/x");
  EXPECT_EQ(r.status().WithFieldPrefix("/body").field(), "/body/x");
}

}  // namespace
}  // namespace rapport
