// The rapport binary, run as a user runs it: exit codes, what it prints.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/rapport_cli.h"

namespace {

namespace fs = std::filesystem;

using rapport::testing::Outcome;
using rapport::testing::Slurp;

using CliTest = rapport::testing::RapportCliTest;

TEST_F(CliTest, EveryCommandHasHelp) {
  Outcome top = Rapport({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* c : {"import", "demo"}) EXPECT_NE(top.out.find(c), std::string::npos) << c;
  std::vector<std::vector<std::string>> helps = {{"import", "--help"}, {"demo", "--help"}, {"demo", "generate", "--help"}};
  helps.push_back({"serve", "--help"});
  helps.push_back({"keys", "create", "--help"});
  helps.push_back({"users", "add", "--help"});
  helps.push_back({"dmn", "eval", "--help"});
  for (const auto& h : helps) {
    Outcome r = Rapport(h);
    EXPECT_EQ(r.exit_code, 0) << h[0];
    EXPECT_NE(r.out.find("Usage: "), std::string::npos) << h[0];
    EXPECT_NE(r.out.find("Example: rapport"), std::string::npos) << h[0] << " has no example";
  }
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Rapport({}).exit_code, 2);
  EXPECT_EQ(Rapport({"import", "customers"}).exit_code, 2);
  EXPECT_EQ(Rapport({"import", "orders", "x.csv", "--source", "a", "--data", "d"}).exit_code, 2);
}

TEST_F(CliTest, ImportReportsBadRowsAndIsIdempotent) {
  std::ofstream(dir_ / "people.csv") << "sourceKey,firstName,lastName,birthDate,email\n"
                                        "1,Anna,Berg,1985-03-02,anna@example.com\n"
                                        "2,Ben,Cole,not-a-date,\n"
                                        "3,\"Cleo, Jr.\",Dahl,,cleo@example.com\n";
  Outcome r = Rapport({"import", "customers", "people.csv", "--source", "billing", "--data", "data", "--errors", "errors.csv"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("created   2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected  1"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("people.csv:3: birthDate: "), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("\r"), std::string::npos) << "no progress bar when stdout is not a terminal";
  EXPECT_TRUE(fs::exists(dir_ / "data" / "rapport.db"));
  std::string errors = Slurp(dir_ / "errors.csv");
  EXPECT_NE(errors.find("3,\"birthDate\","), std::string::npos) << errors;

  Outcome again = Rapport({"import", "customers", "people.csv", "--source", "billing", "--data", "data"});
  EXPECT_NE(again.out.find("created   0"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("unchanged 2"), std::string::npos) << again.out;

  Outcome missing = Rapport({"import", "customers", "nope.csv", "--source", "billing", "--data", "data"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.csv"), std::string::npos);
}

TEST_F(CliTest, DemoGenerateWritesFilesTheImporterReads) {
  Outcome g = Rapport({"demo", "generate", "--out", "files", "--customers", "300", "--seed", "5"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("generated 300 customers"), std::string::npos) << g.out;
  Outcome i = Rapport({"import", "transactions", "files/transactions.csv", "--source", "shop", "--data", "d"});
  EXPECT_EQ(i.exit_code, 3) << "transactions before their customers are rejected: " << i.out;
  Outcome c = Rapport({"import", "customers", "files/customers.csv", "--source", "billing", "--data", "d"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("created   300"), std::string::npos) << c.out;
  Outcome t = Rapport({"import", "transactions", "files/transactions.csv", "--source", "shop", "--data", "d"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
}

TEST_F(CliTest, KeysCreatePrintsTheKeyLast) {
  Outcome r = Rapport({"keys", "create", "--data", "data", "--role", "marketing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::string last = out.substr(out.rfind('\n') + 1);
  EXPECT_TRUE(last.starts_with("rpk_")) << r.out;
  EXPECT_EQ(Rapport({"keys", "create", "--data", "data", "--role", "janitor"}).exit_code, 2);
}

TEST_F(CliTest, SourcesCreatePrintsTheWriteKeyLast) {
  Outcome r = Rapport({"sources", "create", "website", "--data", "data"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::string last = out.substr(out.rfind('\n') + 1);
  EXPECT_EQ(last.size(), 32u) << r.out;
  Outcome again = Rapport({"sources", "create", "website", "--data", "data"});
  EXPECT_EQ(again.exit_code, 1) << "a source name is unique";
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(Rapport({"sources", "create", "Web Site", "--data", "data"}).exit_code, 1);
  EXPECT_EQ(Rapport({"sources", "create", "--data", "data"}).exit_code, 2);
  Outcome list = Rapport({"sources", "list", "--data", "data"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("website"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(last), std::string::npos) << list.out;
}

TEST_F(CliTest, KeysAreListedAndRevoked) {
  ASSERT_EQ(Rapport({"keys", "create", "--data", "data", "--role", "sales", "--name", "billing sync"}).exit_code, 0);
  Outcome list = Rapport({"keys", "list", "--data", "data"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::istringstream lines(list.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_NE(row.find("sales"), std::string::npos) << list.out;
  EXPECT_NE(row.find("billing sync"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("rpk_"), std::string::npos) << "a list must not show keys";
  std::string prefix = row.substr(0, row.find(' '));
  ASSERT_EQ(prefix.size(), 12u) << row;
  Outcome revoke = Rapport({"keys", "revoke", prefix, "--data", "data"});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.err;
  list = Rapport({"keys", "list", "--data", "data"});
  EXPECT_NE(list.out.find(prefix + "  sales      20"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("-                     billing"), std::string::npos) << "still shown as active:\n" << list.out;
  Outcome missing = Rapport({"keys", "revoke", "000000000000", "--data", "data"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no API key"), std::string::npos) << missing.err;
}

TEST_F(CliTest, UsersAreAddedListedDisabledAndReset) {
  const std::string password = "a long secret passphrase";
  Outcome add = Rapport({"users", "add", "--data", "data", "--email", "Ana@Example.com", "--name", "Ana Weber", "--role",
                         "marketing", "--role", "sales", "--department", "marketing", "--password-stdin"},
                        password + "\n");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("ana@example.com"), std::string::npos) << add.out;
  EXPECT_EQ(add.out.find(password), std::string::npos) << "the password is echoed";
  EXPECT_EQ(add.err.find(password), std::string::npos) << "the password is echoed";
  ASSERT_EQ(Rapport({"users", "add", "--data", "data", "--email", "bob@example.com", "--name", "Bob", "--role", "admin",
                     "--password-stdin"},
                    "another long passphrase\r\n")
                .exit_code,
            0);

  Outcome list = Rapport({"users", "list", "--data", "data"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::istringstream lines(list.out);
  std::string header, ana, bob;
  std::getline(lines, header);
  std::getline(lines, ana);
  std::getline(lines, bob);
  EXPECT_NE(header.find("EMAIL"), std::string::npos) << list.out;
  EXPECT_NE(ana.find("ana@example.com"), std::string::npos) << list.out;
  EXPECT_NE(ana.find("marketing,sales"), std::string::npos) << list.out;
  EXPECT_NE(ana.find("active"), std::string::npos) << list.out;
  EXPECT_NE(bob.find("admin"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("argon2"), std::string::npos) << "a list must not show hashes";

  // Duplicates, short passwords and unknown roles are refused; so is a
  // password on the command line, which would show in ps and the history.
  Outcome dup = Rapport({"users", "add", "--data", "data", "--email", "ANA@example.com", "--name", "A", "--role",
                         "sales", "--password-stdin"},
                        password + "\n");
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("exists"), std::string::npos) << dup.err;
  Outcome short_pw = Rapport({"users", "add", "--data", "data", "--email", "c@example.com", "--name", "C", "--role",
                              "sales", "--password-stdin"},
                             "short\n");
  EXPECT_EQ(short_pw.exit_code, 1);
  EXPECT_NE(short_pw.err.find("10 to 256"), std::string::npos) << short_pw.err;
  EXPECT_EQ(Rapport({"users", "add", "--data", "data", "--email", "c@example.com", "--name", "C", "--role", "janitor",
                     "--password-stdin"},
                    password + "\n")
                .exit_code,
            2);
  EXPECT_EQ(Rapport({"users", "add", "--data", "data", "--email", "c@example.com", "--name", "C", "--role", "sales",
                     "--password", password})
                .exit_code,
            2);
  EXPECT_EQ(Rapport({"users", "add", "--data", "data", "--email", "c@example.com", "--name", "C", "--role", "sales"},
                    password + "\n")
                .exit_code,
            2)
      << "--password-stdin is required";

  Outcome reset = Rapport({"users", "password", "ana@example.com", "--data", "data", "--password-stdin"},
                          "the next long passphrase\n");
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(Rapport({"users", "password", "nobody@example.com", "--data", "data", "--password-stdin"},
                    "the next long passphrase\n")
                .exit_code,
            1);

  Outcome disable = Rapport({"users", "disable", "ana@example.com", "--data", "data"});
  EXPECT_EQ(disable.exit_code, 0) << disable.err;
  list = Rapport({"users", "list", "--data", "data"});
  std::istringstream after(list.out);
  std::getline(after, header);
  std::getline(after, ana);
  EXPECT_NE(ana.find("disabled"), std::string::npos) << list.out;
  Outcome last_admin = Rapport({"users", "disable", "bob@example.com", "--data", "data"});
  EXPECT_EQ(last_admin.exit_code, 1);
  EXPECT_NE(last_admin.err.find("last enabled admin"), std::string::npos) << last_admin.err;
  EXPECT_EQ(Rapport({"users", "disable", "nobody@example.com", "--data", "data"}).exit_code, 1);
}

TEST_F(CliTest, ServeStopsCleanlyOnSigterm) {
  fs::path out = dir_ / "serve.out", err = dir_ / "serve.err";
  pid_t pid = fork();
  if (pid == 0) {
    if (std::freopen(out.c_str(), "w", stdout) == nullptr || std::freopen(err.c_str(), "w", stderr) == nullptr) {
      _exit(127);
    }
    std::string bin = RAPPORT_BINARY;
    execl(bin.c_str(), bin.c_str(), "serve", "--data", (dir_ / "data").c_str(), "--listen", "127.0.0.1:0", nullptr);
    _exit(127);
  }
  std::string text;
  for (int i = 0; i < 200 && text.find("Ctrl-C") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = Slurp(out);
  }
  EXPECT_NE(text.find("http://127.0.0.1:"), std::string::npos) << text;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(Slurp(out).find("stopped"), std::string::npos);
  // Logs go to standard error, as docs/operations.md says; standard output
  // holds only what the command prints for its user.
  std::string logs = Slurp(err);
  EXPECT_NE(logs.find("server.started"), std::string::npos) << logs;
  EXPECT_NE(logs.find("server.stopping signal=SIGTERM"), std::string::npos) << logs;
  EXPECT_NE(logs.find("server.drained"), std::string::npos) << logs;
  EXPECT_EQ(Slurp(out).find("server.started"), std::string::npos) << Slurp(out);
}

TEST_F(CliTest, VersionNamesTheProjectVersionAndCommit) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--version"}, std::vector<std::string>{"version"}}) {
    Outcome r = Rapport(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << r.err;
    EXPECT_EQ(r.out.rfind("rapport " RAPPORT_VERSION, 0), 0u) << args[0] << ": " << r.out;
    // Built from a git checkout here, so the commit is named.
    EXPECT_NE(r.out.find("(commit "), std::string::npos) << args[0] << ": " << r.out;
  }
}

}  // namespace
