// Durability: a server process is killed with SIGKILL in the middle of
// concurrent writes; after a restart on the same data directory, every write
// it acknowledged with 2xx is there.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/server_fixture.h"
#include "server/server_process.h"

namespace rapport::server::testing {
namespace {

TEST(CrashTest, AcknowledgedWritesSurviveKill9) {
  auto dir = FreshDir("crash");
  auto key = CreateApiKey(dir.string(), "admin");
  ASSERT_TRUE(key.ok()) << key.status().ToString();

  struct Ack {
    int64_t id;
    std::string identifier;
  };
  std::mutex mu;
  std::vector<Ack> acked;
  std::atomic<int> acked_count{0};
  {
    ServerProcess server(dir.string());
    ASSERT_NE(server.port(), 0) << "the test server did not start";
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        HttpClient client(server.port(), key->key);
        for (int i = 0;; ++i) {
          std::string identifier = "crash:t" + std::to_string(t) + "-" + std::to_string(i);
          try {
            auto r = client.Post("/v1/customers", R"({"kind":"person","attributes":{"city":"Write )" +
                                                      std::to_string(i) + R"("},"identifiers":[")" + identifier + "\"]}");
            if (r.status != 201) return;
            std::lock_guard<std::mutex> lock(mu);
            acked.push_back({r.json["id"].GetInt64(), identifier});
            ++acked_count;
          } catch (const std::exception&) {
            return;  // the server is gone
          }
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (acked_count.load() < 200 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.Kill(SIGKILL);  // mid-load: the writers are still sending
    for (auto& w : writers) w.join();
  }
  ASSERT_GE(acked.size(), 20u) << "too few writes were acknowledged before the kill";

  ServerProcess restarted(dir.string());
  ASSERT_NE(restarted.port(), 0) << "the server did not restart on the same data directory";
  HttpClient client(restarted.port(), key->key);
  for (const Ack& a : acked) {
    auto r = client.Get("/v1/customers/" + std::to_string(a.id));
    ASSERT_EQ(r.status, 200) << "acknowledged write " << a.identifier << " (customer " << a.id << ") was lost";
    ASSERT_TRUE(r.json["identifiers"].IsArray());
    EXPECT_EQ(std::string(r.json["identifiers"][0].GetString()), a.identifier);
  }
  restarted.Kill(SIGTERM);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::server::testing
