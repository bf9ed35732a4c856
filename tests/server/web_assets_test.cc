// The web workspace's files: which requests they answer, their cache,
// encoding and security headers, revalidation; then the embedded build over
// a real server, where /v1/ stays behind authentication.
#include "server/internal/web_assets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/server_fixture.h"

namespace rapport::server::internal {
namespace {

const std::string kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

std::string Header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

Request Get(std::string path, std::string accept_encoding = "", std::string if_none_match = "") {
  Request req;
  req.method = Method::kGet;
  req.path = path;
  req.target = std::move(path);
  req.accept_encoding = std::move(accept_encoding);
  req.if_none_match = std::move(if_none_match);
  return req;
}

class WebWorkspaceTest : public ::testing::Test {
 protected:
  // The gzip member is not a real stream: serving only chooses between the two.
  const std::vector<WebAsset> assets_ = {
      {"/index.html", "text/html; charset=utf-8", "<!doctype html><title>Rapport</title>", "GZ-INDEX", "\"idx1\""},
      {"/assets/main-ABC.js", "text/javascript; charset=utf-8", "console.log(1)", "GZ-MAIN", "\"js1\""},
      {"/assets/logo-DEF.png", "image/png", "PNG", "", "\"png1\""},
  };
  WebWorkspace web_{assets_};
};

TEST_F(WebWorkspaceTest, EveryPageOutsideTheApiIsIndexHtmlUnderTheCsp) {
  for (const char* path : {"/", "/customers/42", "/sign-in", "/inbox"}) {
    auto r = web_.Serve(Get(path));
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, "<!doctype html><title>Rapport</title>") << path;
    EXPECT_EQ(r->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(Header(*r, "Cache-Control"), "no-cache") << path;
    EXPECT_EQ(Header(*r, "Content-Security-Policy"), kCsp) << path;
    EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(Header(*r, "Referrer-Policy"), "same-origin");
    EXPECT_EQ(Header(*r, "ETag"), "\"idx1\"");
  }
}

TEST_F(WebWorkspaceTest, HashedAssetsAreCachedForAYear) {
  auto r = web_.Serve(Get("/assets/main-ABC.js"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "console.log(1)");
  EXPECT_EQ(r->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(*r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(*r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(Header(*r, "Content-Encoding"), "");
  EXPECT_EQ(Header(*r, "Content-Security-Policy"), "") << "the CSP belongs to documents";
}

TEST_F(WebWorkspaceTest, GzipOnlyWhenTheClientAcceptsIt) {
  struct Case {
    const char* accept;
    bool gzip;
  };
  for (const Case& c : std::vector<Case>{{"gzip", true},
                                         {"gzip, deflate, br", true},
                                         {"br;q=1.0, GZIP;q=0.5", true},
                                         {"*", true},
                                         {"gzip;q=0", false},
                                         {"gzip; q=0.000", false},
                                         {"br, deflate", false},
                                         {"", false}}) {
    auto r = web_.Serve(Get("/assets/main-ABC.js", c.accept));
    ASSERT_TRUE(r.has_value()) << c.accept;
    EXPECT_EQ(Header(*r, "Content-Encoding"), c.gzip ? "gzip" : "") << c.accept;
    EXPECT_EQ(r->body, c.gzip ? "GZ-MAIN" : "console.log(1)") << c.accept;
    EXPECT_EQ(Header(*r, "ETag"), c.gzip ? "\"js1-gz\"" : "\"js1\"") << c.accept;
  }
  // A file that does not compress is sent as it is, without Vary.
  auto png = web_.Serve(Get("/assets/logo-DEF.png", "gzip"));
  ASSERT_TRUE(png.has_value());
  EXPECT_EQ(png->body, "PNG");
  EXPECT_EQ(Header(*png, "Content-Encoding"), "");
  EXPECT_EQ(Header(*png, "Vary"), "");
}

TEST_F(WebWorkspaceTest, RevalidationAnswers304) {
  for (const char* tag : {"\"js1\"", "\"js1-gz\"", "W/\"js1\"", "\"other\", \"js1\"", "*"}) {
    auto r = web_.Serve(Get("/assets/main-ABC.js", "gzip", tag));
    ASSERT_TRUE(r.has_value()) << tag;
    EXPECT_EQ(r->status, 304) << tag;
    EXPECT_TRUE(r->body.empty()) << tag;
    EXPECT_EQ(Header(*r, "ETag"), "\"js1-gz\"") << tag;
  }
  auto changed = web_.Serve(Get("/", "", "\"idx0\""));
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->status, 200);
  auto same = web_.Serve(Get("/customers/7", "", "\"idx1\""));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->status, 304);
  EXPECT_EQ(Header(*same, "Content-Security-Policy"), kCsp);
}

TEST_F(WebWorkspaceTest, TheApiAndOtherMethodsAreNotTheWorkspaces) {
  for (const char* path : {"/v1", "/v1/", "/v1/customers", "/v1/session", "/v1/nothing/here"}) {
    EXPECT_FALSE(web_.Serve(Get(path)).has_value()) << path;
  }
  Request post = Get("/customers/42");
  post.method = Method::kPost;
  EXPECT_FALSE(web_.Serve(post).has_value());
  Request other = Get("/");
  other.method = Method::kOther;
  EXPECT_FALSE(web_.Serve(other).has_value());
  // "/v1x" is not under the API: it is a page like any other.
  EXPECT_TRUE(web_.Serve(Get("/v1x")).has_value());
}

TEST_F(WebWorkspaceTest, AMissingAssetIs404NotHtml) {
  auto r = web_.Serve(Get("/assets/main-OLD.js"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->content_type.rfind("text/plain", 0), 0u);
  EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
}

TEST(WebWorkspaceEmptyTest, WithoutIndexNothingIsServed) {
  std::vector<WebAsset> none;
  WebWorkspace web(none);
  EXPECT_FALSE(web.Serve(Get("/")).has_value());
}

// ---- the embedded build, over HTTP ----------------------------------------------

using rapport::server::testing::HttpClient;
using rapport::server::testing::ServerTest;

class EmbeddedWorkspaceTest : public ServerTest {};

// The value of attr="..." in the first tag that holds it after from.
std::string Attribute(const std::string& html, const std::string& tag, const std::string& attr) {
  size_t at = html.find("<" + tag);
  if (at == std::string::npos) return "";
  size_t end = html.find('>', at);
  size_t a = html.find(attr + "=\"", at);
  if (a == std::string::npos || a > end) return "";
  a += attr.size() + 2;
  return html.substr(a, html.find('"', a) - a);
}

TEST_F(EmbeddedWorkspaceTest, TheBuiltWorkspaceIsServedWithoutAKey) {
  HttpClient anonymous(server_->port());
  auto index = anonymous.Get("/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("content-security-policy"), kCsp);
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.header("referrer-policy"), "same-origin");
  // No inline script or style: every script has a src, no style element or attribute.
  for (size_t at = index.body.find("<script"); at != std::string::npos; at = index.body.find("<script", at + 1)) {
    EXPECT_NE(index.body.substr(at, index.body.find('>', at) - at).find(" src=\"/assets/"), std::string::npos)
        << index.body;
  }
  EXPECT_EQ(index.body.find("<style"), std::string::npos);
  EXPECT_EQ(index.body.find(" style="), std::string::npos);

  std::string script = Attribute(index.body, "script", "src");
  ASSERT_EQ(script.rfind("/assets/main-", 0), 0u) << index.body;
  auto js = anonymous.Send("GET", script, "", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.header("content-encoding"), "gzip");
  ASSERT_GE(js.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(js.body[0]), 0x1f) << "not a gzip stream";
  EXPECT_EQ(static_cast<unsigned char>(js.body[1]), 0x8b) << "not a gzip stream";
  auto plain = anonymous.Get(script);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("content-encoding"), "");
  EXPECT_GT(plain.body.size(), js.body.size());
  EXPECT_NE(plain.body.find("import("), std::string::npos) << "the pages are loaded lazily";
  auto again = anonymous.Send("GET", script, "", {{"Accept-Encoding", "gzip"}, {"If-None-Match", js.header("etag")}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  std::string css = Attribute(index.body, "link rel=\"stylesheet\"", "href");
  ASSERT_EQ(css.rfind("/assets/main-", 0), 0u) << index.body;
  auto style = anonymous.Get(css);
  EXPECT_EQ(style.status, 200);
  EXPECT_EQ(style.header("content-type"), "text/css; charset=utf-8");

  // A client-side route is the same document; an unknown asset is not.
  auto page = anonymous.Get("/customers/42?asOf=2025-01-01");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, index.body);
  EXPECT_EQ(anonymous.Get("/assets/main-NOSUCHFILE.js").status, 404);
}

TEST_F(EmbeddedWorkspaceTest, DataStaysBehindAuthentication) {
  HttpClient anonymous(server_->port());
  EXPECT_EQ(anonymous.Get("/v1/customers").status, 401);
  EXPECT_EQ(anonymous.Get("/v1/nothing").status, 401);
  EXPECT_EQ(anonymous.Post("/customers/42", "{}").status, 401);
  EXPECT_EQ(admin().Get("/v1/customers").status, 200);
  // The health probe is still the API's.
  EXPECT_EQ(anonymous.Get("/healthz").body, R"({"status":"ok"})");
}

}  // namespace
}  // namespace rapport::server::internal
