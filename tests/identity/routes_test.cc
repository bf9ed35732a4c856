// The identity routes over a real server on 127.0.0.1:0: merge, undo, the
// review queue, the golden record, their errors and permissions.
#include <gtest/gtest.h>

#include <thread>

#include <chrono>

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

  // The golden record of id once the "identity" feed subscriber has merged
  // it into another customer's cluster (or after 10 s, as it then is).
  HttpReply GoldenOnceMerged(int64_t id) {
    HttpReply g;
    for (int i = 0; i < 400; ++i) {
      g = admin().Get("/v1/customers/" + std::to_string(id) + "/golden");
      if (g.status != 200 || g.json["id"].GetInt64() != id) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return g;
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
  // The absorbed customer's 360 view names its golden customer and the merge.
  auto v = admin().Get("/v1/customers/" + std::to_string(b) + "/view");
  ASSERT_EQ(v.status, 200) << v.body;
  const auto& section = v.json["sections"]["identity"];
  EXPECT_EQ(section["goldenId"].GetInt64(), a);
  EXPECT_EQ(section["members"].Size(), 2u);
  ASSERT_EQ(section["merges"].Size(), 1u);
  EXPECT_EQ(section["merges"][0]["id"].GetInt64(), merge);

  auto u = admin().Post("/v1/merges/" + std::to_string(merge) + "/undo", "");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_FALSE(u.json["undoneAt"].IsNull());
  ExpectProblem(admin().Post("/v1/merges/" + std::to_string(merge) + "/undo", ""), 409);
  auto after = admin().Get("/v1/customers/" + std::to_string(b) + "/golden");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json["id"].GetInt64(), b);
  EXPECT_EQ(after.json["members"].Size(), 1u);
  v = admin().Get("/v1/customers/" + std::to_string(b) + "/view");
  EXPECT_EQ(v.json["sections"]["identity"]["goldenId"].GetInt64(), b);
  EXPECT_EQ(v.json["sections"]["identity"]["merges"].Size(), 0u);
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

TEST_F(IdentityRoutesTest, ModelMatchesNewCustomersAsTheyArrive) {
  const char* firsts[] = {"Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hans", "Ida", "Jonas"};
  const char* lasts[] = {"Berg", "Cole", "Dahl", "Engel", "Fuchs", "Graf"};
  std::vector<int64_t> ids;
  for (int i = 0; i < 30; ++i) {
    std::string first = firsts[i % 10], last = lasts[i % 6];
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" + first +
                                               R"(","lastName":")" + last + R"(","birthDate":"19)" +
                                               std::to_string(50 + i) + R"(-0)" + std::to_string(1 + i % 9) +
                                               R"(-1)" + std::to_string(i % 10) + R"(","email":"p)" +
                                               std::to_string(i) + R"(@example.com"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(r.json["id"].GetInt64());
  }
  const std::string model = R"({
    "comparisons": [
      {"column": "firstName", "normalizer": "name", "levels": [{"type": "exact"}, {"type": "jaroWinkler", "threshold": 0.88}]},
      {"column": "lastName", "normalizer": "name", "levels": [{"type": "exact"}]},
      {"column": "birthDate", "normalizer": "date", "levels": [{"type": "exact"}]}
    ],
    "blocking": [["lastName"], ["birthDate"]],
    "deterministic": [{"column": "email", "normalizer": "email"}],
    "training": {"uSamplePairs": 5000}
  })";
  ExpectProblem(As("marketing").Post("/v1/identity/model", model), 403);
  ExpectProblem(admin().Post("/v1/identity/model", R"({"comparisons": []})"), 400, "/comparisons");
  auto m = admin().Post("/v1/identity/model", model);
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.json["comparisons"].Size(), 3u);

  // Arrives through the API with another name but person 3's e-mail: merged on arrival.
  auto r = admin().Post("/v1/customers",
                        R"({"kind":"person","attributes":{"firstName":"Dave","lastName":"Engel","email":"P3@Example.com"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  int64_t dave = r.json["id"].GetInt64();
  // Matching follows the change feed, a moment after the write.
  auto g = GoldenOnceMerged(dave);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.json["id"].GetInt64(), ids[3]);
  ASSERT_EQ(g.json["merges"].Size(), 1u);
  EXPECT_EQ(std::string(g.json["merges"][0]["reason"].GetString()), "auto");

  auto again = admin().Post("/v1/customers/" + std::to_string(dave) + "/match", "");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(std::string(again.json["action"].GetString()), "none");  // already one customer
  EXPECT_EQ(again.json["goldenId"].GetInt64(), ids[3]);
  ExpectProblem(admin().Post("/v1/customers/999999/match", ""), 404, "id");

  // After a restart the saved model is trained and indexed again in the
  // background; until then /match says no model is loaded.
  clients_.clear();
  server_->Stop();
  server_.reset();
  ServerOptions o;
  o.data_dir = dir_.string();
  o.listen = "127.0.0.1:0";
  o.durable = false;
  auto reopened = Server::Open(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  server_ = std::move(*reopened);
  ASSERT_TRUE(server_->Start().ok());
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    status = admin().Post("/v1/customers/" + std::to_string(ids[0]) + "/match", "").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status, 200) << "the saved model was not loaded after the restart";
  r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":"Evi","lastName":"Fuchs","email":"p4@example.com"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  g = GoldenOnceMerged(r.json["id"].GetInt64());
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.json["id"].GetInt64(), ids[4]);
}

TEST_F(IdentityRoutesTest, HouseholdProposals) {
  for (const char* first : {"Anna", "Ben"}) {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" + std::string(first) +
                                               R"(","lastName":"Müller","street":"Hauptstr. 5","postcode":"10115","city":"Berlin"}})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  auto h = admin().Get("/v1/identity/households");
  ASSERT_EQ(h.status, 200) << h.body;
  ASSERT_EQ(h.json["items"].Size(), 1u);
  EXPECT_EQ(std::string(h.json["items"][0]["address"].GetString()), "hauptstrasse 5 | 10115 | berlin");
  EXPECT_EQ(h.json["items"][0]["members"].Size(), 2u);
  auto masked = As("analyst").Get("/v1/identity/households");
  ASSERT_EQ(masked.status, 200);
  EXPECT_EQ(std::string(masked.json["items"][0]["address"].GetString()), "***");
  ExpectProblem(admin().Get("/v1/identity/households?surnameSimilarity=2"), 400, "surnameSimilarity");
  ExpectProblem(admin().Get("/v1/identity/households?minMembers=1"), 400, "minMembers");
}

}  // namespace
}  // namespace rapport::server::testing
