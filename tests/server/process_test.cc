// The server as a process, the way an operator runs it: SIGTERM drains
// within its deadline and keeps every acknowledged write, a fatal signal
// leaves a stack trace on standard error, and logs go to standard error.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/server_fixture.h"
#include "server/server_process.h"

namespace rapport::server::testing {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Eventually(const std::function<bool()>& ready, milliseconds timeout = milliseconds(10000)) {
  auto deadline = Steady::now() + timeout;
  while (!ready()) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("process");
    auto k = CreateApiKey(dir_.string(), "admin");
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    key_ = k->key;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Creates a customer and returns its id (the write was acknowledged).
  int64_t CreateCustomer(uint16_t port, const std::string& identifier) {
    HttpClient client(port, key_);
    auto r = client.Post("/v1/customers", R"({"kind":"person","identifiers":[")" + identifier + "\"]}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.json["id"].GetInt64() : 0;
  }
  // The helper's slow 360 view marks when it starts: the request is running.
  bool ViewIsRunning() const { return std::filesystem::exists(dir_ / "view-started"); }

  std::filesystem::path dir_;
  std::string key_;
};

TEST_F(ProcessTest, SigtermLetsARunningRequestFinishAndExitsZero) {
  auto err = dir_ / "stderr";
  ServerProcess server(dir_.string(), {"--slow-view-ms=1000", "--drain-ms=5000"}, err.string());
  ASSERT_NE(server.port(), 0) << Slurp(err);
  int64_t id = CreateCustomer(server.port(), "drain:1");
  ASSERT_GT(id, 0);
  std::atomic<int> status{0};
  std::thread viewer([&] {
    HttpClient client(server.port(), key_);
    try {
      status = client.Get("/v1/customers/" + std::to_string(id) + "/view").status;
    } catch (const std::exception&) {
      status = -1;
    }
  });
  ASSERT_TRUE(Eventually([&] { return ViewIsRunning(); }));
  auto began = Steady::now();
  server.Signal(SIGTERM);
  auto exit = server.WaitForExit(milliseconds(8000));
  viewer.join();
  ASSERT_TRUE(exit.has_value()) << "still running 8 s after SIGTERM";
  EXPECT_LT(Steady::now() - began, milliseconds(5000)) << "the drain took longer than its deadline";
  ASSERT_TRUE(WIFEXITED(*exit)) << Slurp(err);
  EXPECT_EQ(WEXITSTATUS(*exit), 0) << Slurp(err);
  EXPECT_EQ(status.load(), 200) << "the request running at SIGTERM was not answered";
  std::string logs = Slurp(err);
  EXPECT_NE(logs.find("server.stopping signal=SIGTERM"), std::string::npos) << logs;
  EXPECT_NE(logs.find("server.drained"), std::string::npos) << logs;

  ServerProcess restarted(dir_.string());
  ASSERT_NE(restarted.port(), 0);
  HttpClient client(restarted.port(), key_);
  EXPECT_EQ(client.Get("/v1/customers/" + std::to_string(id)).status, 200);
}

TEST_F(ProcessTest, SigtermDuringAStuckRequestExitsAfterTheDeadline) {
  auto err = dir_ / "stderr";
  // The view ignores cancellation and would run a minute.
  ServerProcess server(dir_.string(), {"--slow-view-ms=60000", "--drain-ms=500"}, err.string());
  ASSERT_NE(server.port(), 0) << Slurp(err);
  int64_t id = CreateCustomer(server.port(), "drain:stuck");
  ASSERT_GT(id, 0);
  std::thread viewer([&] {
    HttpClient client(server.port(), key_);
    try {
      client.Get("/v1/customers/" + std::to_string(id) + "/view");
    } catch (const std::exception&) {
      // the server went away: expected
    }
  });
  ASSERT_TRUE(Eventually([&] { return ViewIsRunning(); }));
  auto began = Steady::now();
  server.Signal(SIGTERM);
  auto exit = server.WaitForExit(milliseconds(10000));
  viewer.join();
  ASSERT_TRUE(exit.has_value()) << "a stuck request held the process past its drain deadline";
  // 500 ms of drain, one second of grace after the cancellation, and the exit.
  EXPECT_LT(Steady::now() - began, milliseconds(3000));
  ASSERT_TRUE(WIFEXITED(*exit)) << Slurp(err);
  EXPECT_EQ(WEXITSTATUS(*exit), 0);
  std::string logs = Slurp(err);
  EXPECT_NE(logs.find("server.drain_deadline requests=1"), std::string::npos) << logs;
  EXPECT_NE(logs.find("server.drain_incomplete stuck_requests=1"), std::string::npos) << logs;

  ServerProcess restarted(dir_.string());
  ASSERT_NE(restarted.port(), 0);
  HttpClient client(restarted.port(), key_);
  EXPECT_EQ(client.Get("/v1/customers/" + std::to_string(id)).status, 200) << "an acknowledged write was lost";
}

class CrashTraceTest : public ProcessTest, public ::testing::WithParamInterface<int> {};

TEST_P(CrashTraceTest, FatalSignalWritesAStackTraceAndKeepsItsExitStatus) {
  int sig = GetParam();
  auto err = dir_ / "stderr";
  ServerProcess server(dir_.string(), {std::string("--crash-view=") + (sig == SIGSEGV ? "SIGSEGV" : "SIGABRT")},
                       err.string());
  ASSERT_NE(server.port(), 0) << Slurp(err);
  int64_t id = CreateCustomer(server.port(), "crash:1");
  ASSERT_GT(id, 0);
  HttpClient client(server.port(), key_);
  EXPECT_ANY_THROW(client.Get("/v1/customers/" + std::to_string(id) + "/view"));
  auto exit = server.WaitForExit(milliseconds(10000));
  ASSERT_TRUE(exit.has_value());
  ASSERT_TRUE(WIFSIGNALED(*exit)) << "the crash must end the process by its signal; " << Slurp(err);
  EXPECT_EQ(WTERMSIG(*exit), sig);
  std::string logs = Slurp(err);
  std::string head = std::string("process.fatal_signal signal=") + (sig == SIGSEGV ? "SIGSEGV" : "SIGABRT");
  size_t at = logs.find(head);
  ASSERT_NE(at, std::string::npos) << logs;
  EXPECT_NE(logs.find("process.fatal_signal_end", at), std::string::npos) << logs;
  // Frames in the binary, as backtrace_symbols_fd writes them:
  // "/path/rapport_test_server(symbol+0x1f) [0x55d0c0a1b2c3]".
  EXPECT_NE(logs.find("rapport_test_server(", at), std::string::npos) << logs;
  EXPECT_NE(logs.find("[0x", at), std::string::npos) << logs;
}

INSTANTIATE_TEST_SUITE_P(Signals, CrashTraceTest, ::testing::Values(SIGSEGV, SIGABRT),
                         [](const auto& info) { return std::string(info.param == SIGSEGV ? "Segv" : "Abort"); });

}  // namespace
}  // namespace rapport::server::testing
