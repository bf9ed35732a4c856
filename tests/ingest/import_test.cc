// Imports into a real store (SQLite in a temporary directory).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "ingest/import.h"
#include "testing/temp_store.h"

namespace rapport::ingest {
namespace {

using customer::CustomerStore;
using customer::Identifier;

class ImportTest : public testing::TempStoreTest {
 protected:
  ImportTest() : TempStoreTest(Timestamp::FromSeconds(1'767'225'600)) {}

  customer::Customer Get(const std::string& scheme, const std::string& key) {
    auto id = store_->FindByIdentifier(Identifier{scheme, key});
    EXPECT_TRUE(id.ok() && id->has_value()) << scheme << ":" << key;
    auto c = store_->Get(id.ok() && id->has_value() ? **id : 0);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : customer::Customer{};
  }
};

constexpr const char* kMapping = R"({
  "delimiter": ";", "decimalComma": true, "dateFormat": "DD.MM.YYYY",
  "sourceKey": "Kdnr",
  "fields": {"firstName": "Vorname", "lastName": "Name", "birthDate": "Geboren", "city": "Ort",
             "country": {"constant": "DE"}},
  "identifiers": {"email": "Mail"}
})";

constexpr const char* kCustomersCsv =
    "Kdnr;Vorname;Name;Geboren;Ort;Mail\r\n"
    "100;Anna;Schmidt;02.03.1985;Berlin;anna@example.com\r\n"
    "101;\"Ben; Jr.\";Meyer;;\"Hamburg\r\nAltona\";\r\n"
    "102;Carla;Rossi;31.02.1990;M\xC3\xBCnchen;\r\n"  // line 5: impossible date
    "103;Dan;Okafor;;K\xC3\xB6ln;ANNA@example.com\r\n"  // line 6: e-mail taken by 100
    "104;Eve;Kim;;Essen;eve@example.com\r\n";

TEST_F(ImportTest, CsvWithMappingReportsBadRowsByLineAndImportsTheRest) {
  auto m = ParseMapping(kMapping);
  ASSERT_TRUE(m.ok());
  ImportOptions o;
  o.entity = Entity::kCustomers;
  o.source = "billing";
  o.mapping = *m;
  o.batch_size = 2;  // several batches, errors in more than one
  std::vector<RowError> streamed;
  o.on_error = [&](const RowError& e) { streamed.push_back(e); };
  int progress_calls = 0;
  o.on_progress = [&](const ImportProgress& p) {
    ++progress_calls;
    EXPECT_LE(p.bytes_done, p.bytes_total);
  };
  auto s = ImportText(*store_, kCustomersCsv, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows_read, 5);
  EXPECT_EQ(s->created, 3);
  EXPECT_EQ(s->rejected, 2);
  ASSERT_EQ(s->errors.size(), 2u);
  EXPECT_EQ(s->errors[0].line, 5);
  EXPECT_EQ(s->errors[0].column, "Geboren");
  EXPECT_EQ(s->errors[1].line, 6);
  EXPECT_NE(s->errors[1].message.find("email"), std::string::npos) << s->errors[1].message;
  EXPECT_EQ(streamed.size(), 2u);
  EXPECT_GE(progress_calls, 1);

  auto ben = Get("billing", "101");
  EXPECT_EQ(std::get<std::string>(ben.attributes.at("firstName")), "Ben; Jr.");
  EXPECT_EQ(std::get<std::string>(ben.attributes.at("city")), "Hamburg\r\nAltona");
  auto anna = Get("email", "anna@example.com");
  EXPECT_EQ(std::get<std::string>(anna.attributes.at("birthDate")), "1985-03-02");
  EXPECT_EQ(std::get<std::string>(anna.attributes.at("country")), "DE");

  // The same file again changes nothing.
  auto again = ImportText(*store_, kCustomersCsv, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->created, 0);
  EXPECT_EQ(again->updated, 0);
  EXPECT_EQ(again->unchanged, 3);
  EXPECT_EQ(again->rejected, 2);
  auto all = store_->Search({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 3u);

  // A changed row updates, the others stay.
  std::string changed = kCustomersCsv;
  changed.replace(changed.find("Essen"), 5, "Bonn");
  auto third = ImportText(*store_, changed, o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->updated, 1);
  EXPECT_EQ(third->unchanged, 2);
}

TEST_F(ImportTest, NdjsonActivitiesReferenceCustomersAndReimportIsIdempotent) {
  ImportOptions c;
  c.entity = Entity::kCustomers;
  c.source = "billing";
  c.format = Format::kNdjson;
  auto cs = ImportText(*store_,
                       "{\"sourceKey\":\"1\",\"firstName\":\"Ann\",\"lastName\":\"Lee\",\"email\":\"ann@x.org\"}\n"
                       "{\"sourceKey\":\"2\",\"kind\":\"organization\",\"name\":\"Acme\",\"employees\":40}\n",
                       c);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  ASSERT_EQ(cs->created, 2) << (cs->errors.empty() ? "" : cs->errors[0].message);

  const std::string tx =
      "sourceKey,customer,occurredAt,sku,item,quantity,amount,channel\n"
      "t1,billing:1,2025-03-01T10:00:00Z,S1,Tea,2,13.00,web\n"
      "t2,email:ann@x.org,2025-03-02,S2,Pot,1,30.5,store\n"
      "t3,billing:999,2025-03-02,S2,Pot,1,30.5,store\n"   // line 4: unknown customer
      "t4,billing:2,2025-03-04,S3,Desk,1,abc,field\n"     // line 5: bad amount
      "t5,billing:2,2025-03-05,S3,Desk,3,1500,field\n";
  ImportOptions t;
  t.entity = Entity::kTransactions;
  t.source = "shop";
  auto first = ImportText(*store_, tx, t);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->created, 3);
  ASSERT_EQ(first->rejected, 2);
  EXPECT_EQ(first->errors[0].line, 4);
  EXPECT_EQ(first->errors[1].line, 5);
  EXPECT_EQ(first->errors[1].column, "amount");
  auto second = ImportText(*store_, tx, t);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->created, 0);
  EXPECT_EQ(second->rejected, 2);

  auto ann = store_->FindByIdentifier({"billing", "1"});
  ASSERT_TRUE(ann.ok() && ann->has_value());
  auto view = store_->View(**ann);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->transaction_summary.count, 2);
  EXPECT_EQ(view->transaction_summary.revenue.ToString(), "43.5");

  ImportOptions i;
  i.entity = Entity::kInteractions;
  i.source = "crm";
  i.format = Format::kNdjson;
  const std::string calls =
      "{\"sourceKey\":\"c1\",\"customer\":\"billing:1\",\"occurredAt\":\"2025-04-01T09:00:00Z\",\"channel\":\"call_centre\","
      "\"type\":\"call\",\"outcome\":\"resolved\",\"queue\":\"billing\"}\n";
  auto ic = ImportText(*store_, calls, i);
  ASSERT_TRUE(ic.ok()) << ic.status().ToString();
  EXPECT_EQ(ic->created, 1) << (ic->errors.empty() ? "" : ic->errors[0].message);
  auto ic2 = ImportText(*store_, calls, i);
  ASSERT_TRUE(ic2.ok());
  EXPECT_EQ(ic2->created, 0);
  view = store_->View(**ann);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->recent_interactions.size(), 1u);
  EXPECT_EQ(view->recent_interactions[0].properties_json, R"({"queue":"billing"})");

  ImportOptions a;
  a.entity = Entity::kAccounts;
  a.source = "billing";
  auto ac = ImportText(*store_, "sourceKey,customerKey,product,openedAt,balance\nA1,2,Credit line,2024-01-01,25000\n", a);
  ASSERT_TRUE(ac.ok()) << ac.status().ToString();
  EXPECT_EQ(ac->created + ac->updated, 1) << (ac->errors.empty() ? "" : ac->errors[0].message);
}

TEST_F(ImportTest, ImportFileReadsFromDiskAndGuessesTheFormat) {
  auto path = dir_ / "people.ndjson";
  std::ofstream(path) << "{\"sourceKey\":\"9\",\"firstName\":\"Zoe\"}\n";
  ImportOptions o;
  o.entity = Entity::kCustomers;
  o.source = "web";
  auto s = ImportFile(*store_, path.string(), o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->created, 1);
  EXPECT_FALSE(ImportFile(*store_, (dir_ / "missing.csv").string(), o).ok());
}

}  // namespace
}  // namespace rapport::ingest

namespace rapport::ingest {
namespace {

// Issue #12: the rules of the API hold for imports, one bad row per rule,
// each reported by its line while the rest are imported.
TEST_F(ImportTest, EveryDataRuleIsReportedByLineAndTheRestImported) {
  ImportOptions c;
  c.entity = Entity::kCustomers;
  c.source = "billing";
  c.format = Format::kNdjson;
  auto cs = ImportText(*store_,
                       "{\"sourceKey\":\"1\",\"firstName\":\"Ann\",\"lastName\":\"Lee\"}\n"
                       "{\"sourceKey\":\"2\",\"firstName\":\"Nul\\u0000l\",\"lastName\":\"Lee\"}\n"
                       "{\"sourceKey\":\"3\\r\\nX\",\"firstName\":\"Bo\",\"lastName\":\"Lee\"}\n"
                       "{\"sourceKey\":\"4\",\"firstName\":\"Cy\",\"birthDate\":\"0000-01-01\"}\n",
                       c);
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->created, 1);
  ASSERT_EQ(cs->rejected, 3);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(cs->errors[k].line, k + 2) << cs->errors[k].message;

  std::string tx =
      "sourceKey,customer,occurredAt,item,quantity,amount,currency\n"
      "t1,billing:1,2025-03-01,Tea,2,0.10,EUR\n"
      "t2,billing:1,2025-03-01,Tea,-1000000,10,EUR\n"      // line 3: quantity
      "t3,billing:1,2025-03-01,Tea,1,10,DOGECOIN\n"        // line 4: currency
      "t4,billing:1,2025-03-01,Tea,1,1e308,EUR\n"          // line 5: amount beyond range
      "t5,billing:1,0000-01-01,Tea,1,10,EUR\n"             // line 6: year 0000
      "t6,billing:1,2025-03-01,T\xFF" "a,1,10,EUR\n"      // line 7: not UTF-8
      "\"t7\r\nX\",billing:1,2025-03-01,Tea,1,10,EUR\n"   // line 8: CR/LF in the key
      "t8,billing:1,2025-03-01,Tea,1,0.00001,EUR\n"        // line 10: more than 4 decimals
      "t9,billing:1,2025-03-01,Tea,1,0.20,eur\n";
  tx += std::string("t10,billing:1,2025-03-01,T\0a,1,10,EUR\n", 36);  // line 12: NUL
  ImportOptions t;
  t.entity = Entity::kTransactions;
  t.source = "shop";
  auto r = ImportText(*store_, tx, t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->created, 2);
  ASSERT_EQ(r->rejected, 8);
  std::vector<int64_t> lines;
  for (const auto& e : r->errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4, 5, 6, 7, 8, 10, 12}));
  EXPECT_EQ(r->errors[2].column, "amount");
  EXPECT_EQ(r->errors[3].column, "occurredAt");
  auto ann = store_->FindByIdentifier({"billing", "1"});
  ASSERT_TRUE(ann.ok() && ann->has_value());
  EXPECT_EQ(store_->View(**ann)->transaction_summary.revenue.ToString(), "0.3");
}

}  // namespace
}  // namespace rapport::ingest
