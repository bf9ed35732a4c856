#pragma once
// The test-helper server (tests/server/test_server_main.cc) in a process of
// its own, for tests that kill it, stop it or crash it.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rapport::server::testing {

// The helper writes its port to a file once it listens.
class ServerProcess {
 public:
  // flags: the helper's test-only flags ("--drain-ms=500"); stderr_path:
  // where its standard error goes (empty: inherited).
  explicit ServerProcess(const std::string& data_dir, const std::vector<std::string>& flags = {},
                         const std::string& stderr_path = "") {
    std::string port_file = data_dir + "/test-server.port";
    std::filesystem::remove(port_file);
    pid_ = fork();
    if (pid_ == 0) {
      if (!stderr_path.empty()) {
        int fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) ::dup2(fd, STDERR_FILENO);
      }
      std::vector<const char*> argv = {RAPPORT_TEST_SERVER, data_dir.c_str(), port_file.c_str()};
      for (const auto& f : flags) argv.push_back(f.c_str());
      argv.push_back(nullptr);
      execv(RAPPORT_TEST_SERVER, const_cast<char* const*>(argv.data()));
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
  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // The wait status once the process has ended, or nullopt if it still runs
  // after timeout (then it is left running).
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace rapport::server::testing
