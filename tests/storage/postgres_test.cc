#include <gtest/gtest.h>

#include <cstdlib>

#include "storage/storage.h"

namespace rapport::storage {
namespace {

TEST(PlaceholderTest, RewritesOutsideQuotesAndComments) {
  EXPECT_EQ(RewritePlaceholders("SELECT ?, '?', \"a?\" FROM t WHERE x = ? -- why?\n AND y = ?"),
            "SELECT $1, '?', \"a?\" FROM t WHERE x = $2 -- why?\n AND y = $3");
  EXPECT_EQ(RewritePlaceholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
}

// Runs against the real server that `make test` starts (scripts/with-postgres.sh).
class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* conninfo = std::getenv("RAPPORT_TEST_POSTGRES");
    if (!conninfo) GTEST_SKIP() << "RAPPORT_TEST_POSTGRES not set: run through scripts/with-postgres.sh";
    auto db = OpenPostgres(conninfo);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    schema_ = "t_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    Status s = db_->WithConnection([&](Connection& c) {
      return c.ExecuteScript("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_ +
                             "; SET search_path TO " + schema_);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::unique_ptr<Database> db_;
  std::string schema_;
};

TEST_F(PostgresTest, MigratesBindsAndTypesValues) {
  Status m = Migrate(*db_, "pgtest",
                      {{1, "people", "CREATE TABLE people (id BIGSERIAL PRIMARY KEY, name TEXT, score DOUBLE PRECISION,"
                                     " vip BOOLEAN, born BIGINT)"}});
  ASSERT_TRUE(m.ok()) << m.ToString();
  Status s = db_->WithTransaction([](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("INSERT INTO people (name, score, vip, born) VALUES (?, ?, ?, ?) "
                                               "RETURNING id",
                                               {"O'Brien'); DROP TABLE people; --", 2.5, true, int64_t{-5}}));
    EXPECT_EQ(r.rows.size(), 1u);
    EXPECT_GT(r.rows[0][0].AsInt(), 0);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = db_->WithConnection([](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT name, score, vip, born, NULL::text FROM people WHERE score > ?",
                                               {1.0}));
    EXPECT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0][0].AsText(), "O'Brien'); DROP TABLE people; --");
    EXPECT_DOUBLE_EQ(r.rows[0][1].AsDouble(), 2.5);
    EXPECT_EQ(r.rows[0][2].AsInt(), 1);
    EXPECT_EQ(r.rows[0][3].AsInt(), -5);
    EXPECT_TRUE(r.rows[0][4].is_null());
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PostgresTest, ConstraintViolationIsConflictAndRollsBack) {
  Status s = db_->WithConnection([](Connection& c) { return c.ExecuteScript("CREATE TABLE k (v TEXT PRIMARY KEY)"); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = db_->WithTransaction([](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO k VALUES (?)", {"a"}).status());
    return c.Execute("INSERT INTO k VALUES (?)", {"a"}).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.ToString();
  s = db_->WithConnection([](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT count(*) FROM k"));
    EXPECT_EQ(r.rows[0][0].AsInt(), 0);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailable) {
  auto db = OpenPostgres("host=/nonexistent-socket-dir port=1 user=nobody connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rapport::storage
