// The demo company written into a real store, and its files read back by the importer.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "demo/demo.h"
#include "ingest/import.h"
#include "testing/temp_store.h"

namespace rapport::demo {
namespace {

class DemoStoreTest : public testing::TempStoreTest {
 protected:
  DemoStoreTest() : TempStoreTest(Timestamp{DaysFromCivil(2026, 1, 2) * kMicrosPerDay}) {}
};

TEST_F(DemoStoreTest, EverythingLandsAndHistoryAndHouseholdsShowInTheView) {
  DemoOptions o;
  o.customers = 400;
  o.chunk_customers = 150;
  int progress = 0;
  auto stats = GenerateIntoStore(*store_, o, [&](const DemoStats&, int64_t total) {
    ++progress;
    EXPECT_EQ(total, 400);
  });
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rejected, 0) << stats->first_error;
  EXPECT_EQ(stats->customers, 400);
  EXPECT_GE(progress, 3);

  // Find a household member and a mover through the generator's own data.
  Generator g(o);
  Chunk c;
  std::string member, household, mover;
  while (g.Next(&c)) {
    for (const auto& r : c.relationships) {
      if (r.type == "member_of" && member.empty()) {
        member = r.from_key;
        household = r.to_key;
      }
    }
    for (const auto& ch : c.changes) {
      if (mover.empty() && ch.kind == customer::Kind::kPerson) mover = ch.source_key;
    }
  }
  ASSERT_FALSE(member.empty());
  ASSERT_FALSE(mover.empty());
  auto id = store_->FindByIdentifier({"billing", member});
  ASSERT_TRUE(id.ok() && id->has_value());
  auto view = store_->View(**id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  bool linked = false;
  for (const auto& l : view->links) linked = linked || l.relationship.type == "member_of";
  EXPECT_TRUE(linked);

  auto mid = store_->FindByIdentifier({"billing", mover});
  ASSERT_TRUE(mid.ok() && mid->has_value());
  auto history = store_->History(**mid);
  ASSERT_TRUE(history.ok());
  int streets = 0, lastnames = 0;
  for (const auto& h : *history) {
    streets += h.name == "street";
    lastnames += h.name == "lastName";
  }
  EXPECT_GE(streets + lastnames, 3) << "a move or a marriage leaves two values of one attribute";
}

TEST_F(DemoStoreTest, GeneratedFilesImportWithoutMappingAndWithoutRejects) {
  DemoOptions o;
  o.customers = 300;
  auto files = GenerateFiles((dir_ / "files").string(), FileFormat::kCsv, o);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  struct Step {
    const char* file;
    ingest::Entity entity;
    const char* source;
    int64_t expect;
  } steps[] = {
      {"customers.csv", ingest::Entity::kCustomers, "billing", files->customers},
      {"accounts.csv", ingest::Entity::kAccounts, "billing", files->accounts},
      {"transactions.csv", ingest::Entity::kTransactions, "shop", files->transactions},
      {"interactions.csv", ingest::Entity::kInteractions, "crm", files->interactions},
  };
  for (const auto& s : steps) {
    ingest::ImportOptions io;
    io.entity = s.entity;
    io.source = s.source;
    auto r = ingest::ImportFile(*store_, (dir_ / "files" / s.file).string(), io);
    ASSERT_TRUE(r.ok()) << s.file << ": " << r.status().ToString();
    EXPECT_EQ(r->rejected, 0) << s.file << " line " << r->errors[0].line << ": " << r->errors[0].message;
    EXPECT_EQ(r->created, s.expect) << s.file;
  }
  ingest::ImportOptions changes;
  changes.source = "billing";
  auto r = ingest::ImportFile(*store_, (dir_ / "files" / "customer_changes.csv").string(), changes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->updated, files->changes);
}

}  // namespace
}  // namespace rapport::demo
