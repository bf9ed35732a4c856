#pragma once
// A real server on 127.0.0.1:0 over a fresh data directory, with one API key
// per role, for end-to-end tests.

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "ingest/tracking.h"
#include "server/http_client.h"
#include "server/server.h"

namespace rapport::server::testing {

// RFC 4648 base64, for HTTP Basic credentials.
inline std::string Base64(const std::string& in) {
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

inline std::filesystem::path FreshDir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("rapport-server-" + tag + "-" + std::to_string(::getpid()) + "-" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class ServerTest : public ::testing::Test {
 protected:
  // Hook for tests that register view sections or change options.
  virtual void Configure(ServerOptions&) {}
  virtual void BeforeStart(Server&) {}

  void SetUp() override {
    dir_ = FreshDir("e2e");
    for (const char* role : {"admin", "marketing", "sales", "service", "analyst"}) {
      auto k = CreateApiKey(dir_.string(), role);
      ASSERT_TRUE(k.ok()) << k.status().ToString();
      keys_[role] = k->key;
    }
    ServerOptions o;
    o.data_dir = dir_.string();
    o.listen = "127.0.0.1:0";
    o.durable = false;
    o.max_body_bytes = 64 * 1024;
    // The cheapest Argon2id libsodium allows: the server hashes a dummy
    // password at start, and sanitizer builds make the default cost slow.
    o.password_ops_limit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
    o.password_mem_limit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
    Configure(o);
    auto s = Server::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    BeforeStart(*server_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    clients_.clear();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpClient& As(const std::string& role) {
    auto& c = clients_[role];
    if (!c) c = std::make_unique<HttpClient>(server_->port(), keys_.count(role) ? keys_[role] : "");
    return *c;
  }
  HttpClient& admin() { return As("admin"); }

  std::filesystem::path dir_;
  std::map<std::string, std::string> keys_;
  std::unique_ptr<Server> server_;
  std::map<std::string, std::unique_ptr<HttpClient>> clients_;
};

// A server with one tracking source ("website") for Segment calls, and a
// wait for work the server does off the request thread (feed subscribers
// such as triggers).
class TrackingServerTest : public ServerTest {
 protected:
  void Configure(ServerOptions&) override {
    auto db = storage::OpenSqlite((dir_ / "rapport.db").string());
    ASSERT_TRUE(db.ok());
    auto s = ingest::CreateSource(**db, "website", SystemClock::Default()->Now());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    write_key_ = s->write_key;
  }

  // A Segment call (path "/v1/track", "/v1/batch", ...) with the source's
  // write key and no API key.
  HttpReply Track(const std::string& path, const std::string& body,
                  const std::string& content_type = "application/json") {
    return As("tracking").Send("POST", path, body,
                               {{"Authorization", "Basic " + Base64(write_key_ + ":")},
                                {"Content-Type", content_type}});
  }
  HttpReply Track(const std::string& body) { return Track("/v1/track", body); }

  // Polls until ready() or 10 s.
  static bool Eventually(const std::function<bool()>& ready) {
    for (int i = 0; i < 1000; ++i) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string write_key_;
};

// Asserts r is a problem document with the status and, when given, the field
// or parameter it names.
inline void ExpectProblem(const HttpReply& r, int status, const std::string& field = "") {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
  ASSERT_TRUE(r.json.IsObject()) << r.body;
  EXPECT_EQ(r.json["status"].GetInt(), status) << r.body;
  EXPECT_TRUE(r.json.HasMember("type") && r.json.HasMember("title") && r.json.HasMember("detail")) << r.body;
  if (!field.empty()) {
    ASSERT_TRUE(r.json.HasMember("errors")) << r.body;
    const auto& e = r.json["errors"][0];
    std::string got = e.HasMember("field") ? e["field"].GetString() : e["parameter"].GetString();
    EXPECT_EQ(got, field) << r.body;
  }
}

}  // namespace rapport::server::testing
