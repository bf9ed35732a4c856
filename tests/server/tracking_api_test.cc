// The Segment tracking API end to end on a real server: the payloads of
// Segment's HTTP API documentation (fixtures in tests/server/segment/, one
// request and its expected status each) land on the customer's 360 view;
// write-key authentication; problem documents; limits; GET /v1/events.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <set>
#include <thread>

#include <fstream>
#include <sstream>

#include "ingest/tracking.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

class TrackingApiTest : public TrackingServerTest {
 protected:
  int64_t CustomerOf(const std::string& user_id) {
    HttpReply r = admin().Get("/v1/customers?q=segment.user:" + user_id);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200 || r.json["items"].Empty()) return 0;
    return r.json["items"][0]["id"].GetInt64();
  }
};

// With an identity model loaded, a visitor identified through the tracking
// API is matched as they arrive: same e-mail as a known customer, one customer.
TEST_F(TrackingApiTest, IdentifiedVisitorsAreMatchedToKnownCustomers) {
  std::vector<int64_t> ids;
  const char* firsts[] = {"Anna", "Ben", "Clara", "David", "Eva"};
  for (int i = 0; i < 20; ++i) {
    auto r = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":")" +
                                               std::string(firsts[i % 5]) + R"(","lastName":"Name)" + std::to_string(i % 4) +
                                               R"(","email":"c)" + std::to_string(i) + R"(@example.com"}})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(r.json["id"].GetInt64());
  }
  auto m = admin().Post("/v1/identity/model", R"({
    "comparisons": [{"column": "firstName", "normalizer": "name", "levels": [{"type": "exact"}]},
                    {"column": "lastName", "normalizer": "name", "levels": [{"type": "exact"}]}],
    "blocking": [["lastName"]],
    "deterministic": [{"column": "email", "normalizer": "email"}],
    "training": {"uSamplePairs": 2000}})");
  ASSERT_EQ(m.status, 200) << m.body;
  HttpReply r = Track("/v1/identify", R"({"userId":"web-77","traits":{"email":"C7@example.com","firstName":"Ben"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  int64_t visitor = CustomerOf("web-77");
  ASSERT_GT(visitor, 0);
  int64_t golden = 0;
  for (int i = 0; i < 200 && golden != ids[7]; ++i) {
    auto g = admin().Get("/v1/customers/" + std::to_string(visitor) + "/golden");
    ASSERT_EQ(g.status, 200) << g.body;
    golden = g.json["id"].GetInt64();
    if (golden != ids[7]) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(golden, ids[7]);
}

TEST_F(TrackingApiTest, SegmentDocumentationPayloads) {
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(RAPPORT_SOURCE_DIR "/tests/server/segment")) {
    files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 7u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document fixture;
    fixture.Parse(text.str().c_str());
    ASSERT_FALSE(fixture.HasParseError());
    HttpReply r = Track(fixture["path"].GetString(), Compact(fixture["body"]));
    int status = fixture["status"].GetInt();
    if (status == 200) {
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(r.json["success"].GetBool()) << r.body;
    } else {
      ExpectProblem(r, status, fixture.HasMember("field") ? fixture["field"].GetString() : "");
    }
  }
  // Everything about Peter Gibbons is on his 360 view.
  int64_t id = CustomerOf("019mr8mf4r");
  ASSERT_GT(id, 0);
  HttpReply view = admin().Get("/v1/customers/" + std::to_string(id) + "/view");
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_STREQ(view.json["customer"]["attributes"]["email"].GetString(), "pgibbons@example.com");
  EXPECT_STREQ(view.json["customer"]["displayName"].GetString(), "Peter Gibbons");
  ASSERT_TRUE(view.json["links"].IsArray());
  ASSERT_EQ(view.json["links"].Size(), 1u) << view.body;
  EXPECT_STREQ(view.json["links"][0]["relationship"]["type"].GetString(), "works_for");
  EXPECT_STREQ(view.json["links"][0]["customer"]["displayName"].GetString(), "Initech");
  const auto& events = view.json["sections"]["recentEvents"];
  ASSERT_TRUE(events.IsArray()) << view.body;
  std::set<std::string> types;
  for (const auto& e : events.GetArray()) types.insert(e["type"].GetString());
  EXPECT_EQ(types, (std::set<std::string>{"identify", "track", "page", "screen", "group", "alias"})) << view.body;
  // The batch's device context reached its events, and the other user exists too.
  HttpReply listed = admin().Get("/v1/events?customerId=" + std::to_string(CustomerOf("971mj8mk7p")));
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["items"].Size(), 2u) << listed.body;
  EXPECT_STREQ(listed.json["items"][0]["event"]["context"]["device"]["name"].GetString(), "Apple iPhone 6");
}

TEST_F(TrackingApiTest, WriteKeyAuthentication) {
  HttpClient& c = As("tracking");
  std::string body = R"({"userId":"u","event":"e"})";
  HttpReply none = c.Post("/v1/track", body);
  ExpectProblem(none, 401);
  EXPECT_NE(none.header("www-authenticate").find("Basic"), std::string::npos);
  ExpectProblem(c.Send("POST", "/v1/track", body, {{"Authorization", "Basic " + Base64("wrong:")}}), 401);
  ExpectProblem(c.Send("POST", "/v1/track", body, {{"Authorization", "Bearer " + keys_["admin"]}}), 401);
  ExpectProblem(c.Send("POST", "/v1/track", body, {{"Authorization", "Basic ###"}}), 401);
  // analytics.js sends the key in the body, as text/plain.
  HttpReply in_body = c.Send("POST", "/v1/track", R"({"userId":"u","event":"e","writeKey":")" + write_key_ + "\"}",
                             {{"Content-Type", "text/plain"}});
  EXPECT_EQ(in_body.status, 200) << in_body.body;
  // Other routes still want a Bearer key, and text/plain stays refused there.
  ExpectProblem(admin().Send("POST", "/v1/customers", R"({"kind":"person"})", {{"Content-Type", "text/plain"}}), 415);
}

TEST_F(TrackingApiTest, BatchReportsBadEventsAndAcceptsTheRest) {
  HttpReply r = Track("/v1/batch", R"({"batch":[
      {"type":"track","userId":"u1","event":"Signed Up","messageId":"m1"},
      {"type":"track","userId":"u1"},
      {"type":"page","userId":"u1","name":"Home","messageId":"m2"},
      {"type":"track","userId":"u1","event":"Signed Up","messageId":"m1"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["accepted"].GetInt(), 2);
  EXPECT_EQ(r.json["duplicates"].GetInt(), 1);
  ASSERT_EQ(r.json["rejected"].Size(), 1u);
  EXPECT_EQ(r.json["rejected"][0]["index"].GetInt(), 1);
  EXPECT_STREQ(r.json["rejected"][0]["field"].GetString(), "/batch/1/event");
  EXPECT_EQ(r.json["rejected"][0]["status"].GetInt(), 400);
}

TEST_F(TrackingApiTest, MalformedAndOversizedPayloads) {
  ExpectProblem(Track("/v1/track", R"({"userId":"u","event":)"), 400);
  ExpectProblem(Track("/v1/track", ""), 400);
  ExpectProblem(Track("/v1/identify", R"({"userId":"u","traits":[]})"), 400, "/traits");
  std::string big(40 * 1024, 'x');
  ExpectProblem(Track("/v1/track", R"({"userId":"u","event":"e","properties":{"b":")" + big + "\"}}"), 413);
  std::string item = R"({"type":"track","userId":"u","event":"e","properties":{"b":")" + std::string(30 * 1024, 'x') + "\"}}";
  std::string batch = "{\"batch\":[";
  for (int i = 0; i < 20; ++i) batch += (i ? "," : "") + item;
  ExpectProblem(Track("/v1/batch", batch + "]}"), 413);
  ExpectProblem(Track("/v1/track", R"({"userId":"u","event":"e"})", "application/x-www-form-urlencoded"), 415);
}

TEST_F(TrackingApiTest, EventsReadBack) {
  ASSERT_EQ(Track("/v1/batch", R"({"batch":[
      {"type":"page","userId":"u9","name":"A","timestamp":"2026-01-01T00:00:00Z"},
      {"type":"track","userId":"u9","event":"B","timestamp":"2026-01-02T00:00:00Z"},
      {"type":"page","userId":"u9","name":"C","timestamp":"2026-01-03T00:00:00Z"}]})")
                .status,
            200);
  std::string id = std::to_string(CustomerOf("u9"));
  HttpReply all = As("analyst").Get("/v1/events?customerId=" + id + "&limit=2");
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_EQ(all.json["items"].Size(), 2u);
  EXPECT_STREQ(all.json["items"][0]["event"]["name"].GetString(), "C");
  ASSERT_TRUE(all.json["nextCursor"].IsString());
  EXPECT_TRUE(all.json["items"][0]["event"]["context"]["masked"].GetBool()) << "analysts see no PII: " << all.body;
  HttpReply rest = admin().Get("/v1/events?customerId=" + id + "&limit=2&cursor=" + all.json["nextCursor"].GetString());
  ASSERT_EQ(rest.json["items"].Size(), 1u);
  EXPECT_TRUE(rest.json["nextCursor"].IsNull());
  EXPECT_EQ(admin().Get("/v1/events?customerId=" + id + "&type=page").json["items"].Size(), 2u);
  EXPECT_EQ(admin().Get("/v1/events?customerId=" + id + "&since=2026-01-02T00:00:00Z").json["items"].Size(), 2u);
  ExpectProblem(admin().Get("/v1/events"), 400, "customerId");
  ExpectProblem(admin().Get("/v1/events?customerId=x"), 400, "customerId");
  ExpectProblem(admin().Get("/v1/events?customerId=1&type=click"), 400, "type");
  ExpectProblem(admin().Get("/v1/events?customerId=1&since=soon"), 400, "since");
  ExpectProblem(admin().Get("/v1/events?customerId=1&colour=red"), 400, "colour");
  ExpectProblem(As("tracking").Get("/v1/events?customerId=1"), 401);
}

// Tracking calls and other writes share the database's one writer queue:
// under both at once, every request succeeds (no deadlock, no busy errors).
TEST_F(TrackingApiTest, TrackingAndApiWritesTogether) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(server_->port());
      std::map<std::string, std::string> auth = {{"Authorization", "Basic " + Base64(write_key_ + ":")}};
      for (int i = 0; i < 25; ++i) {
        std::string batch = "{\"batch\":[";
        for (int j = 0; j < 20; ++j) {
          batch += std::string(j ? "," : "") + R"({"type":"track","event":"Viewed","userId":"mix-)" +
                   std::to_string(t) + "-" + std::to_string(j % 5) + R"(","messageId":")" + std::to_string(t) + "-" +
                   std::to_string(i) + "-" + std::to_string(j) + "\"}";
        }
        if (c.Send("POST", "/v1/batch", batch + "]}", auth).status != 200) ++failures;
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(server_->port(), keys_["admin"]);
      for (int i = 0; i < 40; ++i) {
        auto r = c.Post("/v1/customers", R"({"kind":"person","attributes":{"firstName":"Mix )" + std::to_string(t) +
                                             "-" + std::to_string(i) + "\"}}");
        if (r.status != 201) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  HttpReply listed = admin().Get("/v1/events?limit=1000&customerId=" + std::to_string(CustomerOf("mix-0-0")));
  EXPECT_EQ(listed.json["items"].Size(), 25u * 4);
}

}  // namespace
}  // namespace rapport::server::testing
