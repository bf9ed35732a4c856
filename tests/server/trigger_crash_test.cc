// Triggers across a crash: a server process is killed with SIGKILL while
// complaints are tracked; its trigger engine may have had some of them only
// in memory. After a restart on the same data directory, every complaint the
// server acknowledged has opened exactly one case (the engine reads what it
// missed back from the tracker after its high-water mark), and no complaint
// opened two.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/time.h"
#include "ingest/tracking.h"
#include "server/http_client.h"
#include "server/server_fixture.h"
#include "server/server_process.h"
#include "storage/storage.h"

namespace rapport::server::testing {
namespace {

// Every case title of team service, over all pages.
std::vector<std::string> ServiceCaseTitles(HttpClient& client) {
  std::vector<std::string> titles;
  std::string cursor;
  for (;;) {
    auto r = client.Get("/v1/cases?team=service&limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200 || !r.json.IsObject()) break;
    for (const auto& c : r.json["items"].GetArray()) titles.emplace_back(c["title"].GetString());
    if (!r.json.HasMember("nextCursor") || !r.json["nextCursor"].IsString()) break;
    cursor = r.json["nextCursor"].GetString();
    if (cursor.empty()) break;
  }
  return titles;
}

TEST(TriggerCrashTest, AcknowledgedComplaintsOpenOneCaseEachAfterKill9) {
  auto dir = FreshDir("trigger-crash");
  auto key = CreateApiKey(dir.string(), "admin");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string write_key;
  {
    auto db = storage::OpenSqlite((dir / "rapport.db").string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto s = ingest::CreateSource(**db, "website", SystemClock::Default()->Now());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    write_key = s->write_key;
  }

  std::mutex mu;
  std::set<std::string> acked;  // message ids of acknowledged complaints
  std::atomic<int> acked_count{0};
  {
    ServerProcess server(dir.string());
    ASSERT_NE(server.port(), 0) << "the test server did not start";
    HttpClient admin(server.port(), key->key);
    auto t = admin.Post("/v1/triggers", R"({"name": "complaint to service",
        "event": {"type": "track", "name": "Complaint Filed"},
        "action": {"type": "case", "team": "service", "title": "event.properties.subject"}})");
    ASSERT_EQ(t.status, 201) << t.body;

    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        HttpClient client(server.port());
        for (int b = 0;; ++b) {
          std::string body = "{\"batch\":[";
          std::vector<std::string> ids;
          for (int i = 0; i < 20; ++i) {
            std::string id = "w" + std::to_string(w) + "-" + std::to_string(b) + "-" + std::to_string(i);
            ids.push_back(id);
            if (i) body += ',';
            body += R"({"type":"track","event":"Complaint Filed","userId":"u-)" + id + R"(","messageId":")" + id +
                    R"(","properties":{"subject":")" + id + "\"}}";
          }
          body += "]}";
          try {
            auto r = client.Send("POST", "/v1/batch", body,
                                 {{"Authorization", "Basic " + Base64(write_key + ":")}});
            if (r.status != 200) return;
            std::lock_guard<std::mutex> lock(mu);
            acked.insert(ids.begin(), ids.end());
            acked_count += 20;
          } catch (const std::exception&) {
            return;  // the server is gone
          }
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (acked_count.load() < 2000 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server.Kill(SIGKILL);  // mid-load: complaints are being tracked and evaluated
    for (auto& w : writers) w.join();
  }
  ASSERT_GE(acked.size(), 100u) << "too few complaints were acknowledged before the kill";

  ServerProcess restarted(dir.string());
  ASSERT_NE(restarted.port(), 0) << "the server did not restart on the same data directory";
  HttpClient client(restarted.port(), key->key);
  std::vector<std::string> titles;
  for (int i = 0; i < 1000; ++i) {  // the engine catches up on its own thread
    titles = ServiceCaseTitles(client);
    std::set<std::string> have(titles.begin(), titles.end());
    if (std::includes(have.begin(), have.end(), acked.begin(), acked.end())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::map<std::string, int> per_complaint;
  for (const auto& title : titles) ++per_complaint[title];
  for (const auto& id : acked) EXPECT_EQ(per_complaint[id], 1) << "acknowledged complaint " << id;
  for (const auto& [id, n] : per_complaint) EXPECT_EQ(n, 1) << "complaint " << id << " opened " << n << " cases";
  restarted.Kill(SIGTERM);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::server::testing
