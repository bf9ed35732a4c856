#include <gtest/gtest.h>

#include <filesystem>

#include "storage/storage.h"

namespace rapport::storage {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rapport-storage-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = OpenSqlite((dir_ / "t.db").string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteTest, MigratesOnceAndBindsValues) {
  std::vector<Migration> m = {{1, "people", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL)"}};
  ASSERT_TRUE(Migrate(*db_, "test", m).ok());
  ASSERT_TRUE(Migrate(*db_, "test", m).ok());  // idempotent
  Status s = db_->WithTransaction([](Connection& c) -> Status {
    // A value that would break naive string splicing is stored verbatim.
    RP_ASSIGN_OR_RETURN(int64_t n, c.Execute("INSERT INTO people (name, score) VALUES (?, ?)",
                                             {"O'Brien'); DROP TABLE people; --", 2.5}));
    EXPECT_EQ(n, 1);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = db_->WithConnection([](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT id, name, score, NULL FROM people"));
    EXPECT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0][1].AsText(), "O'Brien'); DROP TABLE people; --");
    EXPECT_DOUBLE_EQ(r.rows[0][2].AsDouble(), 2.5);
    EXPECT_TRUE(r.rows[0][3].is_null());
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SqliteTest, FailedTransactionRollsBack) {
  ASSERT_TRUE(Migrate(*db_, "test", {{1, "t", "CREATE TABLE t (k TEXT PRIMARY KEY)"}}).ok());
  Status s = db_->WithTransaction([](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO t VALUES (?)", {"a"}).status());
    return c.Execute("INSERT INTO t VALUES (?)", {"a"}).status();  // duplicate key
  });
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  s = db_->WithConnection([](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT count(*) FROM t"));
    EXPECT_EQ(r.rows[0][0].AsInt(), 0);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
}

TEST_F(SqliteTest, WrongParameterCountIsAnError) {
  Status s = db_->WithConnection([](Connection& c) { return c.Query("SELECT ?", {}).status(); });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST(SqliteOpenTest, RejectsMemoryAndBadPaths) {
  EXPECT_FALSE(OpenSqlite(":memory:").ok());
  EXPECT_FALSE(OpenSqlite("/nonexistent-dir/x/y.db").ok());
}

}  // namespace
}  // namespace rapport::storage
