#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "demo/demo.h"

namespace rapport::demo {
namespace {

using customer::AttributeValue;
using customer::Kind;

std::vector<Chunk> All(DemoOptions o) {
  Generator g(o);
  std::vector<Chunk> chunks;
  Chunk c;
  while (g.Next(&c)) chunks.push_back(c);
  return chunks;
}

std::string Text(const std::map<std::string, AttributeValue>& a, const std::string& k) {
  auto it = a.find(k);
  return it == a.end() ? "" : std::get<std::string>(it->second);
}

// A fingerprint of everything generated, to compare runs.
std::string Fingerprint(const std::vector<Chunk>& chunks) {
  std::ostringstream os, tx, ix, rel, chg;
  for (const auto& c : chunks) {
    for (const auto& r : c.customers) {
      os << r.source_key << '|' << static_cast<int>(r.kind) << '|' << r.valid_from->micros;
      for (const auto& [k, v] : r.attributes) {
        os << k << '=';
        std::visit([&](const auto& x) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, std::monostate>) os << x;
        }, v);
      }
      os << '\n';
    }
    for (const auto& [who, t] : c.transactions) tx << who.ToString() << t.source_key << t.amount.ToString() << t.occurred_at.micros;
    for (const auto& [who, x] : c.interactions) ix << x.source_key << x.channel << x.outcome << x.occurred_at.micros;
    for (const auto& r : c.relationships) rel << r.from_key << r.type << r.to_key;
    for (const auto& r : c.changes) chg << r.source_key << r.valid_from->micros;
  }
  return os.str() + tx.str() + ix.str() + rel.str() + chg.str();
}

TEST(GeneratorTest, SameSeedSameCompanyOtherSeedOtherCompany) {
  DemoOptions o;
  o.customers = 1500;
  o.seed = 7;
  std::string a = Fingerprint(All(o));
  std::string b = Fingerprint(All(o));
  EXPECT_TRUE(a == b);
  o.chunk_customers = 97;  // how the stream is cut does not change the data
  EXPECT_TRUE(Fingerprint(All(o)) == a);
  o.seed = 8;
  EXPECT_TRUE(Fingerprint(All(o)) != a);
}

TEST(GeneratorTest, ExactCountAndAllKindsAndChannels) {
  DemoOptions o;
  o.customers = 3000;
  std::map<Kind, int> kinds;
  std::set<std::string> channels, keys, emails;
  int64_t n = 0;
  for (const auto& c : All(o)) {
    for (const auto& r : c.customers) {
      ++n;
      ++kinds[r.kind];
      EXPECT_TRUE(keys.insert(r.source_key).second) << r.source_key;
      for (const auto& id : r.identifiers) {
        if (id.scheme == "email") {
          EXPECT_TRUE(emails.insert(id.value).second) << id.value;
        }
      }
    }
    for (const auto& [who, x] : c.interactions) channels.insert(x.channel);
  }
  EXPECT_EQ(n, 3000);
  EXPECT_GT(kinds[Kind::kPerson], 2000);
  EXPECT_GT(kinds[Kind::kHousehold], 200);
  EXPECT_GT(kinds[Kind::kOrganization], 100);
  EXPECT_EQ(channels, (std::set<std::string>{"web", "email", "store", "call_centre", "field_sales"}));
}

TEST(GeneratorTest, HouseholdMembersShareSurnameAndAddress) {
  DemoOptions o;
  o.customers = 2000;
  int checked = 0;
  for (const auto& c : All(o)) {
    std::map<std::string, const customer::CustomerRecord*> by_key;
    for (const auto& r : c.customers) by_key[r.source_key] = &r;
    for (const auto& rel : c.relationships) {
      if (rel.type != "member_of") continue;
      const auto* person = by_key.at(rel.from_key);
      const auto* household = by_key.at(rel.to_key);
      ASSERT_EQ(person->kind, Kind::kPerson);
      ASSERT_EQ(household->kind, Kind::kHousehold);
      EXPECT_EQ(Text(household->attributes, "name"), "Haushalt " + Text(person->attributes, "lastName"));
      for (const char* a : {"street", "postcode", "city"}) {
        EXPECT_EQ(Text(person->attributes, a), Text(household->attributes, a)) << a;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 400);
}

TEST(GeneratorTest, SpendIsLongTailedAndSeasonal) {
  DemoOptions o;
  o.customers = 5000;
  std::map<std::string, double> revenue;
  std::array<double, 12> by_month{};
  for (const auto& c : All(o)) {
    for (const auto& [who, t] : c.transactions) {
      revenue[who.value] += t.amount.ToDouble();
      int64_t y;
      unsigned m, d;
      CivilFromDays(t.occurred_at.micros / kMicrosPerDay, &y, &m, &d);
      by_month[m - 1] += 1;
      EXPECT_LT(t.occurred_at.micros, o.end.micros);
      EXPECT_GE(t.occurred_at.micros, o.end.micros - 3 * 365 * kMicrosPerDay);
    }
  }
  std::vector<double> spend;
  for (const auto& [k, v] : revenue) spend.push_back(v);
  std::sort(spend.rbegin(), spend.rend());
  double total = std::accumulate(spend.begin(), spend.end(), 0.0);
  double top = std::accumulate(spend.begin(), spend.begin() + static_cast<std::ptrdiff_t>(spend.size() / 10), 0.0);
  EXPECT_GT(top / total, 0.4) << "top 10% share " << top / total;
  EXPECT_GT(by_month[11], 1.6 * by_month[0]);  // December beats January clearly
}

TEST(GeneratorTest, ChangesAreBackDatedAfterTheCustomerWasKnown) {
  DemoOptions o;
  o.customers = 3000;
  int moves = 0, renames = 0;
  for (const auto& c : All(o)) {
    std::map<std::string, const customer::CustomerRecord*> by_key;
    for (const auto& r : c.customers) by_key[r.source_key] = &r;
    for (const auto& ch : c.changes) {
      const auto* before = by_key.at(ch.source_key);
      EXPECT_GT(ch.valid_from->micros, before->valid_from->micros);
      EXPECT_LT(ch.valid_from->micros, o.end.micros);
      if (Text(ch.attributes, "street") != Text(before->attributes, "street")) ++moves;
      if (Text(ch.attributes, "lastName") != Text(before->attributes, "lastName")) ++renames;
    }
  }
  EXPECT_GT(moves, 100);
  EXPECT_GT(renames, 5);
}

TEST(NoiseTest, TyposAndVariantsStayClose) {
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    std::string t = noise::Typo("schneider", rng);
    EXPECT_LE(std::max(t.size(), size_t{9}) - std::min(t.size(), size_t{9}), 1u);
  }
  EXPECT_EQ(noise::Asciify("Müller-Lüdenscheidt Weiß"), "mueller-luedenscheidtweiss");
  std::set<std::string> variants;
  for (int i = 0; i < 50; ++i) variants.insert(noise::PhoneVariant("1712345678", rng));
  EXPECT_EQ(variants.size(), 4u);
  for (const auto& v : variants) {
    std::string digits;
    for (char ch : v) if (ch >= '0' && ch <= '9') digits.push_back(ch);
    EXPECT_TRUE(digits.ends_with("1712345678")) << v;
  }
}

TEST(GenerateFilesTest, WritesImportableFilesThatAreIdenticalForTheSameSeed) {
  auto dir = std::filesystem::temp_directory_path() / ("rapport_demo_files_" + std::to_string(::getpid()));
  DemoOptions o;
  o.customers = 800;
  auto a = GenerateFiles((dir / "a").string(), FileFormat::kCsv, o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = GenerateFiles((dir / "b").string(), FileFormat::kCsv, o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->customers, 800);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  for (const char* f : {"customers.csv", "transactions.csv", "interactions.csv", "accounts.csv", "relationships.csv"}) {
    std::string x = slurp(dir / "a" / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, slurp(dir / "b" / f)) << f;
  }
  auto nd = GenerateFiles((dir / "n").string(), FileFormat::kNdjson, o);
  ASSERT_TRUE(nd.ok());
  EXPECT_EQ(nd->transactions, a->transactions);
  std::string first_line = slurp(dir / "n" / "customers.ndjson").substr(0, 40);
  EXPECT_TRUE(first_line.starts_with("{\"sourceKey\":\"C00000001\"")) << first_line;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rapport::demo
