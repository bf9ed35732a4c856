#pragma once
// The rapport binary (RAPPORT_BINARY, defined by the test's CMakeLists) run
// as a user runs it, in a fresh temporary directory per test: no shell,
// stdout and stderr captured, the exit code.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rapport::testing {

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RapportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport-cli-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs rapport with args in dir_; standard input is empty, or input.
  Outcome Rapport(std::vector<std::string> args, const std::string& input = "") {
    std::filesystem::path out = dir_ / "stdout", err = dir_ / "stderr", in = dir_ / "stdin";
    std::ofstream(in, std::ios::binary | std::ios::trunc) << input;
    pid_t pid = fork();
    if (pid == 0) {
      if (!std::freopen(in.c_str(), "r", stdin)) _exit(127);
      if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) _exit(127);
      if (chdir(dir_.c_str()) != 0) _exit(127);
      std::string bin = RAPPORT_BINARY;
      std::vector<char*> argv{bin.data()};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
  }

  std::filesystem::path dir_;
};

}  // namespace rapport::testing
