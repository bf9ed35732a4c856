#pragma once
// The test-helper server (tests/server/test_server_main.cc) in a process of
// its own, for tests that kill it: the crash tests.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace rapport::server::testing {

// The helper writes its port to a file once it listens.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& data_dir) {
    std::string port_file = data_dir + "/test-server.port";
    std::filesystem::remove(port_file);
    pid_ = fork();
    if (pid_ == 0) {
      execl(RAPPORT_TEST_SERVER, RAPPORT_TEST_SERVER, data_dir.c_str(), port_file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // The helper writes the port file atomically (rename) once it listens.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      unsigned port = 0;
      if (in >> port) {
        port_ = static_cast<uint16_t>(port);
        return;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~ServerProcess() { Kill(SIGTERM); }

  uint16_t port() const { return port_; }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace rapport::server::testing
