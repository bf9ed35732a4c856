// Durability of the tracking API: a server process is killed with SIGKILL
// while clients post /v1/batch calls; after a restart on the same data
// directory every event whose request got 200 is there, no event is there
// twice (also when the clients resend everything), and every stored
// "Order Completed" has exactly one transaction (the derived writes of a
// crash are replayed, once).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "ingest/tracking.h"
#include "server/server_fixture.h"
#include "server/server_process.h"

namespace rapport::server::testing {
namespace {

constexpr int kClients = 4;
constexpr int kBatch = 50;

// Client t's batch i: 49 page views and one order, with fixed message ids.
std::string BatchBody(int t, int i) {
  std::string body = "{\"batch\":[";
  for (int j = 0; j < kBatch; ++j) {
    std::string id = "t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(j);
    if (j) body += ',';
    if (j == 0) {
      body += R"({"type":"track","event":"Order Completed","userId":"crash-u)" + std::to_string(t) +
              R"(","messageId":")" + id + R"(","properties":{"order_id":")" + id + R"(","revenue":10}})";
    } else {
      body += R"({"type":"page","name":"Home","userId":"crash-u)" + std::to_string(t) + R"(","messageId":")" + id +
              "\"}";
    }
  }
  return body + "]}";
}

TEST(TrackingCrashTest, AcknowledgedEventsSurviveKill9ExactlyOnce) {
  auto dir = FreshDir("tracking-crash");
  auto key = CreateApiKey(dir.string(), "admin");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string write_key;
  {
    auto db = storage::OpenSqlite((dir / "rapport.db").string());
    ASSERT_TRUE(db.ok());
    auto s = ingest::CreateSource(**db, "crash", SystemClock::Default()->Now());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    write_key = s->write_key;
  }
  std::map<std::string, std::string> basic = {{"Authorization", "Basic " + Base64(write_key + ":")}};

  std::vector<int> acked(kClients, 0);  // client t's batches 0..acked[t]-1 got 200
  std::vector<int> sent(kClients, 0);
  std::atomic<int> acked_total{0};
  {
    ServerProcess server(dir.string());
    ASSERT_NE(server.port(), 0) << "the test server did not start";
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t) {
      clients.emplace_back([&, t] {
        HttpClient client(server.port());
        for (int i = 0;; ++i) {
          sent[t] = i + 1;
          try {
            auto r = client.Send("POST", "/v1/batch", BatchBody(t, i), basic);
            if (r.status != 200) return;
            acked[t] = i + 1;
            ++acked_total;
          } catch (const std::exception&) {
            return;  // the server is gone
          }
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (acked_total.load() < 40 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server.Kill(SIGKILL);  // mid-load: the clients are still sending
    for (auto& c : clients) c.join();
  }
  ASSERT_GE(acked_total.load(), 10) << "too few batches were acknowledged before the kill";

  ServerProcess restarted(dir.string());
  ASSERT_NE(restarted.port(), 0) << "the server did not restart on the same data directory";
  HttpClient admin(restarted.port(), key->key);
  HttpClient tracking(restarted.port());
  for (int t = 0; t < kClients; ++t) {
    SCOPED_TRACE("client " + std::to_string(t));
    auto found = admin.Get("/v1/customers?q=segment.user:crash-u" + std::to_string(t));
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.json["items"].Size(), 1u) << found.body;
    std::string id = std::to_string(found.json["items"][0]["id"].GetInt64());
    auto stored = [&] {
      std::multiset<std::string> ids;
      std::string cursor;
      for (;;) {
        auto page = admin.Get("/v1/events?customerId=" + id + "&limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
        EXPECT_EQ(page.status, 200) << page.body;
        for (const auto& e : page.json["items"].GetArray()) ids.insert(e["event"]["messageId"].GetString());
        if (!page.json["nextCursor"].IsString()) break;
        cursor = page.json["nextCursor"].GetString();
      }
      return ids;
    };
    std::multiset<std::string> ids = stored();
    for (int i = 0; i < acked[t]; ++i) {
      for (int j = 0; j < kBatch; ++j) {
        std::string m = "t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(j);
        ASSERT_EQ(ids.count(m), 1u) << "acknowledged event " << m << " was lost";
      }
    }
    for (const auto& m : ids) ASSERT_EQ(ids.count(m), 1u) << m << " is stored twice";
    // The client retries everything it sent, as an SDK does after a failure: nothing doubles.
    for (int i = 0; i < sent[t]; ++i) {
      auto r = tracking.Send("POST", "/v1/batch", BatchBody(t, i), basic);
      ASSERT_EQ(r.status, 200) << r.body;
      if (i < acked[t]) {
        EXPECT_EQ(r.json["duplicates"].GetInt(), kBatch) << r.body;
      }
    }
    ids = stored();
    EXPECT_EQ(ids.size(), static_cast<size_t>(sent[t] * kBatch));
    for (const auto& m : ids) ASSERT_EQ(ids.count(m), 1u) << m << " is stored twice after the retry";
    auto view = admin.Get("/v1/customers/" + id + "/view");
    ASSERT_EQ(view.status, 200);
    EXPECT_EQ(view.json["transactionSummary"]["count"].GetInt(), sent[t]) << "one transaction per stored order";
  }
  restarted.Kill(SIGTERM);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::server::testing
