#pragma once
// A customer store, a profile store and a trigger engine over one fresh
// SQLite database, with a manual clock and an HTTP client whose answers the
// test scripts; the engine can be closed and opened again on the same data.

#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "decision/triggers.h"
#include "profile/profile.h"
#include "testing/temp_store.h"

namespace rapport::decision::testing {

// Answers POSTs from a script (a status, or a transport error), recording
// every request. Thread-safe.
class ScriptedHttpClient final : public HttpClient {
 public:
  void Answer(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(status);
  }
  // -1 in the script: a transport failure (connection refused, timeout).
  void FailTransport() { Answer(-1); }

  Result<HttpResponse> Post(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    int status = 200;
    if (!script_.empty()) {
      status = script_.front();
      script_.pop_front();
    }
    if (status < 0) return Status::Unavailable("POST failed: Connection refused");
    return HttpResponse{status, "ok"};
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<int> script_;
  std::vector<HttpRequest> requests_;
};

inline std::string Header(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// A tracked event as the feed delivers it.
inline ingest::StoredEvent TrackedEvent(int64_t seq, customer::CustomerId who, const std::string& name,
                                        const std::string& properties = "{}") {
  ingest::StoredEvent e;
  e.seq = seq;
  e.customer_id = who;
  e.event.type = ingest::EventType::kTrack;
  e.event.event = name;
  e.event.message_id = "m-" + std::to_string(seq);
  e.event.properties_json = properties;
  e.event.timestamp = e.event.received_at = Timestamp::FromSeconds(1'790'000'000);
  return e;
}

class TriggerTest : public rapport::testing::TempStoreTest {
 protected:
  TriggerTest() : TempStoreTest(Timestamp::FromSeconds(1'790'000'000)) {}

  void SetUp() override {
    TempStoreTest::SetUp();
    OpenProfile();
    OpenEngine();
  }

  void TearDown() override {
    engine_.reset();
    profile_.reset();
    TempStoreTest::TearDown();
  }

  void OpenProfile() {
    auto p = profile::ProfileStore::Open(db_.get(), profile::DefaultProfileOptions(clock_.Now()));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    profile_ = std::move(*p);
  }

  virtual void Configure(TriggerEngineOptions&) {}

  void OpenEngine() {
    engine_.reset();
    TriggerEngineOptions o;
    o.db = db_.get();
    o.customers = store_.get();
    o.profile = profile_.get();
    o.clock = &clock_;
    o.http = &http_;
    o.deliver_in_background = false;
    Configure(o);
    auto e = TriggerEngine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }

  customer::CustomerId NewCustomer(const std::string& region = "north") {
    customer::NewCustomer c;
    c.attributes["firstName"] = std::string("Ada");
    c.attributes["region"] = region;
    auto created = store_->Create(c);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_TRUE(profile_->Apply(created->id).ok());
    return created->id;
  }

  Trigger MustCreate(const std::string& json) {
    auto def = ParseTriggerDefinition(json);
    EXPECT_TRUE(def.ok()) << def.status().ToString();
    auto t = engine_->Create(*def);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Trigger{};
  }

  static ingest::StoredEvent Track(int64_t seq, customer::CustomerId who, const std::string& name,
                                   const std::string& properties = "{}") {
    return TrackedEvent(seq, who, name, properties);
  }

  std::vector<Case> CasesOf(customer::CustomerId who) {
    CaseQuery q;
    q.customer_id = who;
    auto page = engine_->ListCases(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<Case>{};
  }

  ScriptedHttpClient http_;
  std::unique_ptr<profile::ProfileStore> profile_;
  std::unique_ptr<TriggerEngine> engine_;
};

}  // namespace rapport::decision::testing
