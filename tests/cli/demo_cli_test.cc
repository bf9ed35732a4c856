// `rapport demo` as a newcomer runs it: history up to today, its rules, and
// one key that a second run prints again.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "testing/rapport_cli.h"

namespace {

namespace fs = std::filesystem;

using rapport::testing::Outcome;
using rapport::testing::Slurp;

class DemoCliTest : public rapport::testing::RapportCliTest {
 protected:
  // Runs `rapport demo` until it serves, stops it with SIGTERM and returns
  // what it printed.
  std::string ServeOnce(std::vector<std::string> extra = {}) {
    fs::path out = dir_ / "demo.out";
    pid_t pid = fork();
    if (pid == 0) {
      if (std::freopen(out.c_str(), "w", stdout) == nullptr) _exit(127);
      std::string bin = RAPPORT_BINARY;
      std::vector<std::string> args = {bin, "demo", "--data", (dir_ / "demo-data").string(), "--customers", "200",
                                       "--listen", "127.0.0.1:0"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    std::string text;
    for (int i = 0; i < 600 && text.find("Ctrl-C") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      text = Slurp(out);
    }
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    return text;
  }

  static std::string KeyIn(const std::string& text) {
    // The key stands alone on its line: "\nrpk_<hex and _>\n". (No std::regex:
    // GCC 12 warns inside it at -O1 with the sanitizers, and -Werror is on.)
    for (size_t at = text.find("\nrpk_"); at != std::string::npos; at = text.find("\nrpk_", at + 1)) {
      size_t end = text.find('\n', at + 1);
      if (end == std::string::npos) break;
      std::string line = text.substr(at + 1, end - at - 1);
      if (line.find_first_not_of("0123456789abcdef_", 4) == std::string::npos) return line;
    }
    return "";
  }
};

TEST_F(DemoCliTest, ASecondRunPrintsTheSameNamedKey) {
  std::string first = ServeOnce();
  std::string key = KeyIn(first);
  ASSERT_FALSE(key.empty()) << first;
  fs::path kept = dir_ / "demo-data" / "demo-key";
  EXPECT_EQ(Slurp(kept), key + "\n");
  struct stat st {};
  ASSERT_EQ(stat(kept.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "an admin key's secret is the owner's only";

  std::string second = ServeOnce();
  EXPECT_NE(second.find("serving the existing demo"), std::string::npos) << second;
  EXPECT_EQ(KeyIn(second), key) << second;
  Outcome list = Rapport({"keys", "list", "--data", "demo-data"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 2) << "a header and one key:\n" << list.out;
  EXPECT_NE(list.out.find(" demo\n"), std::string::npos) << list.out;

  // A revoked key is not reused: the next run makes a new one and keeps it.
  ASSERT_EQ(Rapport({"keys", "revoke", key.substr(4, 12), "--data", "demo-data"}).exit_code, 0);
  std::string third = ServeOnce();
  std::string renewed = KeyIn(third);
  EXPECT_FALSE(renewed.empty()) << third;
  EXPECT_NE(renewed, key);
  EXPECT_EQ(Slurp(kept), renewed + "\n");
}

TEST_F(DemoCliTest, OneUserPerRoleWithAKeptPassword) {
  std::string first = ServeOnce();
  fs::path kept = dir_ / "demo-data" / "demo-password";
  std::string password = Slurp(kept);
  ASSERT_EQ(password.size(), 21u) << "20 characters and a newline: " << password;
  password.pop_back();
  struct stat st {};
  ASSERT_EQ(stat(kept.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the demo users' password is the owner's only";
  EXPECT_NE(first.find("admin@demo.rapport.example"), std::string::npos) << first;
  EXPECT_NE(first.find("\n" + password + "\n"), std::string::npos) << first;
  Outcome list = Rapport({"users", "list", "--data", "demo-data"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* role : {"admin", "marketing", "sales", "service", "analyst"}) {
    EXPECT_NE(list.out.find(std::string(role) + "@demo.rapport.example"), std::string::npos) << role << list.out;
  }
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 6) << "a header and five users:\n" << list.out;

  std::string second = ServeOnce();
  EXPECT_NE(second.find("\n" + password + "\n"), std::string::npos) << second;
  EXPECT_EQ(Slurp(kept), password + "\n");
  list = Rapport({"users", "list", "--data", "demo-data"});
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 6) << list.out;

  // A lost password file gets a new password, set on every demo user.
  fs::remove(kept);
  std::string third = ServeOnce();
  std::string renewed = Slurp(kept);
  ASSERT_EQ(renewed.size(), 21u);
  EXPECT_NE(renewed, password + "\n");
  EXPECT_NE(third.find(renewed), std::string::npos) << third;
}

TEST_F(DemoCliTest, HistoryEndsTodaySoRollingWindowsFindPeople) {
  std::string text = ServeOnce();
  ASSERT_NE(text.find("history up to "), std::string::npos) << text;
  // The segment command's today is the real clock, as the server's is.
  Outcome count = Rapport({"segment", "count", "revenue90d > 0", "--data", "demo-data"});
  ASSERT_EQ(count.exit_code, 0) << count.err;
  EXPECT_NE(count.out.rfind("0 of ", 0), 0u) << "nobody bought in the last 90 days: " << count.out;
  EXPECT_NE(text.find("published the decision model \"offers\""), std::string::npos) << text;
}

TEST_F(DemoCliTest, EndDateIsADate) {
  Outcome bad = Rapport({"demo", "generate", "--out", "files", "--customers", "10", "--end-date", "tomorrow"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--end-date"), std::string::npos) << bad.err;
  Outcome pinned = Rapport({"demo", "generate", "--out", "files", "--customers", "300", "--end-date", "2026-06-01"});
  ASSERT_EQ(pinned.exit_code, 0) << pinned.err;
  std::string transactions = Slurp(dir_ / "files" / "transactions.csv");
  EXPECT_EQ(transactions.find(",2026-06-0"), std::string::npos) << "no history on or after the end date";
  EXPECT_NE(transactions.find(",2026-05-"), std::string::npos) << "history up to the end date";
}

}  // namespace
