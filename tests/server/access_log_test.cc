// The access log of a real server: one line per request with the route's
// pattern and the key's public prefix, never the key, the path's ids, the
// query string or the body.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

class AccessLogServerTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override { o.access_log = (dir_ / "access.log").string(); }
  std::string Log() const {
    std::ifstream in(dir_ / "access.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(AccessLogServerTest, OneLinePerRequestWithoutSecrets) {
  auto created = admin().Post("/v1/customers", R"({"kind":"person","attributes":{"city":"Secretville"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t id = created.json["id"].GetInt64();
  ASSERT_EQ(admin().Get("/v1/customers/" + std::to_string(id) + "?asOf=2030-01-01T00:00:00Z").status, 200);
  HttpClient anonymous(server_->port());
  EXPECT_EQ(anonymous.Get("/v1/customers/" + std::to_string(id)).status, 401);
  EXPECT_EQ(anonymous.Get("/healthz").status, 200);

  const std::string& key = keys_["admin"];  // rpk_<prefix>_<secret>
  std::string prefix = key.substr(4, key.find('_', 4) - 4);
  std::string secret = key.substr(key.find('_', 4) + 1);
  std::string log = Log();
  EXPECT_NE(log.find("http.request method=POST route=/v1/customers status=201 ms="), std::string::npos) << log;
  EXPECT_NE(log.find("http.request method=GET route=/v1/customers/{id} status=200 ms="), std::string::npos) << log;
  EXPECT_NE(log.find(" key=" + prefix + "\n"), std::string::npos) << log;
  EXPECT_NE(log.find("route=/v1/customers/{id} status=401"), std::string::npos) << log;
  EXPECT_NE(log.find("http.request method=GET route=/healthz status=200"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 4) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << "the key's secret is in the access log";
  EXPECT_EQ(log.find("/v1/customers/" + std::to_string(id)), std::string::npos) << "a raw path with its id";
  EXPECT_EQ(log.find("asOf"), std::string::npos) << log;
  EXPECT_EQ(log.find("Secretville"), std::string::npos) << log;
  EXPECT_EQ(log.find("Bearer"), std::string::npos) << log;
}

}  // namespace
}  // namespace rapport::server::testing
