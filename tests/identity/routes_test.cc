// The identity routes over a real server on 127.0.0.1:0: merge, undo, the
// review queue, the golden record, their errors and permissions.
#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

class IdentityRoutesTest : public ServerTest {
 protected:
  int64_t NewCustomer(const std::string& first, const std::string& last, const std::string& email) {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" + first +
                                               R"(","lastName":")" + last + R"(","email":")" + email + R"("}})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json["id"].GetInt64();
  }
};

TEST_F(IdentityRoutesTest, MergeGoldenUndo) {
  int64_t a = NewCustomer("Jon", "Smith", "jon@example.com");
  int64_t b = NewCustomer("Jonathan", "Smith", "jonathan.smith@example.com");
  std::string path = "/v1/customers/" + std::to_string(a) + "/merge";

  auto m = admin().Post(path, R"({"customerId":)" + std::to_string(b) + R"(,"evidence":{"note":"same caller"}})");
  ASSERT_EQ(m.status, 201) << m.body;
  int64_t merge = m.json["id"].GetInt64();
  EXPECT_EQ(m.json["survivorId"].GetInt64(), a);
  EXPECT_EQ(m.json["mergedId"].GetInt64(), b);
  EXPECT_EQ(std::string(m.json["evidence"]["note"].GetString()), "same caller");
  EXPECT_EQ(std::string(m.json["actor"].GetString()).rfind("key:", 0), 0u);
  EXPECT_EQ(m.header("location"), "/v1/merges/" + std::to_string(merge));
  ExpectProblem(admin().Post(path, R"({"customerId":)" + std::to_string(b) + "}"), 409, "/customerId");

  auto g = admin().Get("/v1/customers/" + std::to_string(b) + "/golden");
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.json["id"].GetInt64(), a);
  EXPECT_EQ(g.json["members"].Size(), 2u);
  EXPECT_EQ(g.json["merges"].Size(), 1u);
  EXPECT_TRUE(g.json["attributes"].HasMember("firstName"));
  // Analysts read without PII access: e-mail is masked.
  auto ga = As("analyst").Get("/v1/customers/" + std::to_string(a) + "/golden");
  ASSERT_EQ(ga.status, 200) << ga.body;
  EXPECT_EQ(std::string(ga.json["attributes"]["email"].GetString()), "***");

  auto u = admin().Post("/v1/merges/" + std::to_string(merge) + "/undo", "");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_FALSE(u.json["undoneAt"].IsNull());
  ExpectProblem(admin().Post("/v1/merges/" + std::to_string(merge) + "/undo", ""), 409);
  auto after = admin().Get("/v1/customers/" + std::to_string(b) + "/golden");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json["id"].GetInt64(), b);
  EXPECT_EQ(after.json["members"].Size(), 1u);
  auto got = admin().Get("/v1/merges/" + std::to_string(merge));
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.json["undoneAt"].IsNull());
}

TEST_F(IdentityRoutesTest, ErrorsAndPermissions) {
  int64_t a = NewCustomer("Ann", "Berg", "ann@example.com");
  std::string path = "/v1/customers/" + std::to_string(a) + "/merge";
  ExpectProblem(admin().Post(path, R"({"customerId":999999})"), 404, "/customerId");
  ExpectProblem(admin().Post("/v1/customers/999999/merge", R"({"customerId":)" + std::to_string(a) + "}"), 404, "id");
  ExpectProblem(admin().Post(path, R"({"customerID":2})"), 400);
  ExpectProblem(admin().Post(path, R"({"customerId":2,"evidence":[1]})"), 400, "/evidence");
  ExpectProblem(admin().Post(path, R"({"customerId":0})"), 400, "/customerId");
  ExpectProblem(admin().Post("/v1/merges/77/undo", ""), 404);
  ExpectProblem(admin().Get("/v1/merges/abc"), 400, "id");
  ExpectProblem(As("analyst").Post(path, R"({"customerId":1})"), 403);
  ExpectProblem(admin().Get("/v1/identity/review?limit=0"), 400, "limit");
  ExpectProblem(admin().Get("/v1/identity/review?cursor=zzz"), 400, "cursor");
  ExpectProblem(admin().Post("/v1/identity/review/5/accept", ""), 404);
  ExpectProblem(admin().Post("/v1/identity/review/5/reject", ""), 404);
  auto review = As("analyst").Get("/v1/identity/review");
  ASSERT_EQ(review.status, 200) << review.body;
  EXPECT_EQ(review.json["items"].Size(), 0u);
  EXPECT_TRUE(review.json["nextCursor"].IsNull());
}

}  // namespace
}  // namespace rapport::server::testing
