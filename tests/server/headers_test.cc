// Headers and names, at the raw socket: the response writer never puts a
// header with CR, LF or NUL on the wire; names that become URLs or headers
// hold no control characters; every URL the server builds is
// percent-encoded and GETs back what it names.

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "server/internal/http.h"
#include "server/internal/problem.h"
#include "server/server_fixture.h"

namespace rapport::server::testing {
namespace {

using internal::HttpListener;
using internal::ListenerOptions;
using internal::Request;
using internal::Response;

// Sends raw bytes on a fresh connection and returns every byte the server
// sends until it closes (the request asks it to).
std::string RawExchange(uint16_t port, const std::string& request) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    size_t n = socket.read_some(boost::asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

// The head of a raw response: status line and header lines, without the body.
std::string Head(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n")); }

TEST(PathSegmentTest, EncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(internal::PathSegment("offers-2026_v1.x~"), "offers-2026_v1.x~");
  EXPECT_EQ(internal::PathSegment("Offers 2026/Q1 \xC3\xA9 100%"), "Offers%202026%2FQ1%20%C3%A9%20100%25");
  EXPECT_EQ(internal::PathSegment("a?b#c&d=e+f"), "a%3Fb%23c%26d%3De%2Bf");
  EXPECT_EQ(internal::PathSegment("x\r\nSet-Cookie: a"), "x%0D%0ASet-Cookie%3A%20a");
  EXPECT_EQ(internal::PathSegment(".."), "%2E%2E");
  EXPECT_EQ(internal::UrlPath({"v1", "decision-models", "a/b", "versions", "3"}), "/v1/decision-models/a%2Fb/versions/3");
}

TEST(RouterTest, AnEncodedSlashStaysInsideItsSegment) {
  internal::Router<int> r;
  r.Get("/v1/decision-models/{name}/versions/{version}", 1);
  auto m = r.Find(internal::Method::kGet, "/v1/decision-models/Offers%202026%2FQ1/versions/2");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params["name"], "Offers 2026/Q1");
  EXPECT_EQ(m.params["version"], "2");
  EXPECT_EQ(r.Find(internal::Method::kGet, "/v1/decision-models/Offers/Q1/versions/2").route, nullptr);
}

// A listener whose one route answers with a header a buggy handler built
// from user input.
class ResponseWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ListenerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    listener_ = std::make_unique<HttpListener>(
        o,
        [](Request& req) {
          Response r = Response::Json(201, R"({"ok":true})");
          if (req.path == "/crlf") r.headers.emplace_back("Location", "/v1/x\r\nSet-Cookie: pwn=1");
          if (req.path == "/lf") r.headers.emplace_back("Location", "/v1/x\nSet-Cookie: pwn=1");
          if (req.path == "/nul") r.headers.emplace_back("Location", std::string("/v1/x\0Set-Cookie: pwn=1", 23));
          if (req.path == "/name") r.headers.emplace_back("Set-Cookie: pwn=1\r\nX", "1");
          if (req.path == "/fine") r.headers.emplace_back("Location", "/v1/x/caf%C3%A9");
          return r;
        },
        [](const Status& s, const std::string& instance) { return internal::ProblemFromStatus(s, instance); });
    ASSERT_TRUE(listener_->Start().ok());
  }
  void TearDown() override { listener_->Stop(); }

  std::string Get(const std::string& path) {
    return RawExchange(listener_->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  std::unique_ptr<HttpListener> listener_;
};

TEST_F(ResponseWriterTest, AHeaderWithLineBreaksOrNulNeverReachesTheWire) {
  for (const char* path : {"/crlf", "/lf", "/nul", "/name"}) {
    std::string raw = Get(path);
    EXPECT_EQ(raw.rfind("HTTP/1.1 500", 0), 0u) << path << ":\n" << raw;
    EXPECT_EQ(raw.find("Set-Cookie"), std::string::npos) << path << ":\n" << raw;
    EXPECT_EQ(raw.find("pwn"), std::string::npos) << path << ":\n" << raw;
    EXPECT_EQ(Head(raw).find("Location"), std::string::npos) << path << ":\n" << raw;
    EXPECT_NE(raw.find("application/problem+json"), std::string::npos) << raw;
  }
  std::string fine = Get("/fine");
  EXPECT_EQ(fine.rfind("HTTP/1.1 201", 0), 0u) << fine;
  EXPECT_NE(Head(fine).find("\r\nLocation: /v1/x/caf%C3%A9"), std::string::npos) << fine;
}

// ---- names through the real server --------------------------------------------------------

std::string NamedModel(const std::string& name_attribute) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:e2e:names" name=")" +
         name_attribute + R"(" id="names">
  <inputData id="in_revenue" name="revenue"><variable name="revenue" typeRef="number"/></inputData>
  <decision id="rich" name="Rich">
    <informationRequirement><requiredInput href="#in_revenue"/></informationRequirement>
    <literalExpression><text>revenue >= 100</text></literalExpression>
  </decision>
</definitions>
)";
}

const std::map<std::string, std::string> kXml = {{"Content-Type", "application/xml"}};

using NamesTest = ServerTest;

TEST_F(NamesTest, AModelNameIsPercentEncodedInLocationAndGetsBack) {
  const std::string name = "Offers 2026/Q1 \xC3\xA9 100%";
  HttpReply up = As("marketing").Send("POST", "/v1/decision-models", NamedModel(name), kXml);
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string location = up.header("location");
  EXPECT_EQ(location, "/v1/decision-models/Offers%202026%2FQ1%20%C3%A9%20100%25/versions/1");
  HttpReply got = As("analyst").Get(location);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["name"].GetString(), name);
  EXPECT_EQ(got.json["version"].GetInt(), 1);
  HttpReply versions = As("analyst").Get("/v1/decision-models/Offers%202026%2FQ1%20%C3%A9%20100%25/versions");
  ASSERT_EQ(versions.status, 200) << versions.body;
  HttpReply list = As("analyst").Get("/v1/decision-models");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["items"][0]["name"].GetString(), name);
}

TEST_F(NamesTest, AModelNameWithCrLfIsRefusedAndNoHeaderIsInjected) {
  // Attribute values are normalized by XML (a raw line break becomes a
  // space), so an attacker writes them as character references.
  const std::string xml = NamedModel("offers&#13;&#10;Set-Cookie: pwn=1");
  std::string request = "POST /v1/decision-models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + keys_["marketing"] +
                        "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(xml.size()) +
                        "\r\nConnection: close\r\n\r\n" + xml;
  std::string raw = RawExchange(server_->port(), request);
  EXPECT_EQ(raw.rfind("HTTP/1.1 422", 0), 0u) << raw;
  EXPECT_EQ(Head(raw).find("Set-Cookie"), std::string::npos) << raw;
  EXPECT_NE(raw.find("/definitions/@name"), std::string::npos) << raw;
  // Nor with a bare LF or a TAB.
  for (const char* bad : {"offers&#10;x", "offers&#9;x", "offers&#127;x"}) {
    HttpReply r = As("marketing").Send("POST", "/v1/decision-models", NamedModel(bad), kXml);
    ExpectProblem(r, 422, "/definitions/@name");
  }
  EXPECT_EQ(As("analyst").Get("/v1/decision-models").json["items"].Size(), 0u);
}

TEST_F(NamesTest, NamesWithControlCharactersAreRefusedNamingTheField) {
  // Names in bodies.
  ExpectProblem(As("marketing").Post("/v1/triggers", R"({"name": "big\r\norder", "event": {"type": "track"},
      "action": {"type": "alert", "message": "\"x\""}})"),
                422, "/name");
  ExpectProblem(As("marketing").Post("/v1/segments", R"({"name": "north\nSet-Cookie: x", "condition": "true"})"),
                422, "/name");
  // Names in paths.
  ExpectProblem(As("marketing").Put("/v1/actions/gold%0D%0Acard", R"({"name": "Gold card", "kind": "offer"})"), 422,
                "id");
  ExpectProblem(As("marketing").Put("/v1/decision-points/web%0Ahome", R"({"model": "offers", "decision": "Next"})"),
                422, "name");
  ExpectProblem(As("marketing").Put("/v1/contact-policies/weekly%09cap", R"({"rules": []})"), 422, "name");
  // Source names are identifiers too (refused by the customer model as a
  // malformed parameter).
  ExpectProblem(As("admin").Put("/v1/sources/erp%0D%0Ax/customers/k-1", R"({"kind": "person"})"), 400, "source");
}

}  // namespace
}  // namespace rapport::server::testing
