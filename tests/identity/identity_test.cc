// Unit tests of the identity module: similarity measures, normalizers, the
// configuration reader, clustering, survivorship, linkage and real-time
// matching on generated people with known truth.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "identity/febrl_util.h"
#include "identity/generated_people.h"
#include "identity/identity.h"

namespace rapport::identity {
namespace {

using testing::ReadFile;

TEST(SimilarityTest, JaroWinklerKnownValues) {
  struct Case {
    const char *a, *b;
    double want;
  } cases[] = {
      {"martha", "marhta", 0.9611}, {"dwayne", "duane", 0.84},   {"dixon", "dicksonx", 0.8133},
      {"same", "same", 1.0},        {"", "", 1.0},               {"abc", "", 0.0},
      {"abc", "xyz", 0.0},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(JaroWinkler(c.a, c.b), c.want, 5e-5) << c.a << " / " << c.b;
    EXPECT_NEAR(JaroWinkler(c.b, c.a), c.want, 5e-5) << "symmetric: " << c.a << " / " << c.b;
  }
  std::string long_a(200, 'a'), long_b = long_a;
  long_b[100] = 'b';
  EXPECT_GT(JaroWinkler(long_a, long_b), 0.99);  // longer than the stack buffers
}

TEST(SimilarityTest, EditDistances) {
  EXPECT_EQ(Levenshtein("kitten", "sitting"), 3);
  EXPECT_EQ(Levenshtein("kitten", "sitting", 1), 2);  // stops past the limit
  EXPECT_EQ(Levenshtein("", "abc"), 3);
  EXPECT_EQ(Levenshtein("flaw", "lawn"), 2);
  EXPECT_EQ(Levenshtein("ca", "ac"), 2);
  EXPECT_EQ(DamerauLevenshtein("ca", "ac"), 1);
  EXPECT_EQ(DamerauLevenshtein("schmidt", "schmdit"), 1);
  EXPECT_EQ(DamerauLevenshtein("", "ab"), 2);
  std::string long_a(100, 'x'), long_b(100, 'x');
  long_b[50] = 'y';
  EXPECT_EQ(Levenshtein(long_a, long_b), 1);
}

TEST(SimilarityTest, SoundexCodes) {
  std::map<std::string, std::string> cases = {
      {"Robert", "R163"}, {"Rupert", "R163"},   {"Ashcraft", "A261"}, {"Tymczak", "T522"},
      {"Pfister", "P236"}, {"Honeyman", "H555"}, {"Lee", "L000"},     {"", ""}, {"123", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Soundex(in), want) << in;
}

TEST(NormalizeTest, Forms) {
  struct Case {
    Normalizer n;
    const char *in, *want;
  } cases[] = {
      {Normalizer::kName, "  Jürgen  MÜLLER-Lüdenscheidt ", "jurgen muller ludenscheidt"},
      {Normalizer::kName, "O'Brien", "obrien"},
      {Normalizer::kName, "Zoë Ørsted", "zoe orsted"},
      {Normalizer::kName, "Αλέξης", "alexes"},
      {Normalizer::kAddress, "12 High St.", "12 high street"},
      {Normalizer::kAddress, "Hauptstr. 5", "hauptstrasse 5"},
      {Normalizer::kAddress, "Lindenstraße 5", "lindenstrasse 5"},
      {Normalizer::kEmail, " Jon.Smith+news@Example.COM ", "jon.smith@example.com"},
      {Normalizer::kEmail, "a@b@c", ""},
      {Normalizer::kEmail, "nobody", ""},
      {Normalizer::kPhone, "0171 2345678", "+491712345678"},
      {Normalizer::kPhone, "+49 171 2345678", "+491712345678"},
      {Normalizer::kPhone, "0049 171 2345678", "+491712345678"},
      {Normalizer::kPhone, "0171/234 56 78", "+491712345678"},
      {Normalizer::kPhone, "491712345678", "+491712345678"},
      {Normalizer::kPhone, "1712345678", "+491712345678"},
      {Normalizer::kPhone, "112", ""},
      {Normalizer::kDate, "1980-02-29", "19800229"},
      {Normalizer::kDate, "29.02.1981", ""},
      {Normalizer::kDate, "03.04.1990", "19900403"},
      {Normalizer::kDate, "19900403", "19900403"},
      {Normalizer::kDate, "1990/4/3", "19900403"},
      {Normalizer::kDate, "1990-13-01", ""},
      {Normalizer::kDate, "yesterday", ""},
      {Normalizer::kDigits, "69-71", "6971"},
      {Normalizer::kText, "  New   York ", "new york"},
      {Normalizer::kNone, "  As Is ", "As Is"},
  };
  for (const Case& c : cases) EXPECT_EQ(Normalize(c.n, c.in), c.want) << NormalizerName(c.n) << ": " << c.in;
  NormalizeOptions us;
  us.default_country_code = "1";
  EXPECT_EQ(Normalize(Normalizer::kPhone, "(212) 555-0100", us), "+12125550100");
}

TEST(NormalizeTest, NamesEnum) {
  for (const char* n : {"none", "text", "name", "address", "email", "phone", "digits", "date"}) {
    auto parsed = ParseNormalizer(n);
    ASSERT_TRUE(parsed.ok()) << n;
    EXPECT_EQ(NormalizerName(*parsed), n);
  }
  EXPECT_FALSE(ParseNormalizer("soundex").ok());
}

constexpr const char* kSmallConfig = R"({
  "comparisons": [
    {"column": "name", "normalizer": "name", "levels": [{"type": "exact"}, {"type": "jaroWinkler", "threshold": 0.9}]},
    {"column": "city", "levels": [{"type": "exact"}]}
  ],
  "blocking": [["city"]],
  "deterministic": [{"column": "email", "normalizer": "email"}]
})";

TEST(ConfigTest, ReadsAndCompletesLevels) {
  auto config = ParseModelConfig(kSmallConfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->comparisons.size(), 2u);
  EXPECT_EQ(config->comparisons[0].levels.size(), 3u);  // + else
  EXPECT_EQ(config->comparisons[0].levels.back().kind, LevelKind::kElse);
  EXPECT_EQ(config->comparisons[0].levels[1].label, "jw>=0.9");
  EXPECT_EQ(config->blocking[0].Describe(), "city");
  EXPECT_EQ(ConfigColumns(*config), (std::vector<std::string>{"name", "city", "email"}));
}

TEST(ConfigTest, ErrorsNameTheField) {
  struct Case {
    std::string json, field;
  } cases[] = {
      {"[]", ""},
      {R"({"comparisons": [], "blocking": [["a"]]})", "/comparisons"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}]})", "/blocking"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exakt"}]}], "blocking": [["a"]]})",
       "/comparisons/0/levels/0/type"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "jaroWinkler", "threshold": 1.5}]}], "blocking": [["a"]]})",
       "/comparisons/0/levels/0/threshold"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}, {"type": "exact", "termFrequency": true}]}], "blocking": [["a"]]})",
       "/comparisons/0/levels/1/termFrequency"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "else"}, {"type": "exact"}]}], "blocking": [["a"]]})",
       "/comparisons/0/levels/1"},
      {R"({"comparisons": [{"column": "a", "normalizer": "nope", "levels": [{"type": "exact"}]}], "blocking": [["a"]]})",
       "/comparisons/0/normalizer"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [[{"column": "a", "transform": "prefix"}]]})",
       "/blocking/0/0/length"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [["a"]], "thresholds": {"autoMerge": 0.5, "review": 0.9}})",
       "/thresholds/review"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [["a"]], "treshold": 1})",
       "/treshold"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [["a"]], "defaultCountryCode": "+49"})",
       "/defaultCountryCode"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [["a"]], "survivorship": {"rules": [{"column": "a", "rule": "newest"}]}})",
       "/survivorship/rules/0/rule"},
      {R"({"comparisons": [{"column": "a", "levels": [{"type": "exact"}]}], "blocking": [["a"]], "survivorship": {"rules": [{"column": "a", "rule": "mostTrusted"}]}})",
       "/survivorship/rules/0/trustedSources"},
  };
  for (const Case& c : cases) {
    auto config = ParseModelConfig(c.json);
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(config.status().field(), c.field) << c.json << " -> " << config.status().ToString();
  }
}

TEST(ClusterTest, ComponentsKeepTheOldestMembersId) {
  std::vector<ScoredPair> pairs = {
      {1, 2, 10, 0.99, false}, {2, 4, 10, 0.97, false}, {0, 3, -5, 0.2, false}, {3, 5, -50, 0.0, true}};
  std::vector<int64_t> c = Cluster(6, pairs, 0.9);
  EXPECT_EQ(c, (std::vector<int64_t>{0, 1, 1, 3, 1, 3}));
  // Records 4 and 5 are the oldest of their clusters and name them.
  std::vector<int64_t> order = {5, 9, 8, 7, 1, 6};
  c = Cluster(6, pairs, 0.9, order);
  EXPECT_EQ(c, (std::vector<int64_t>{0, 4, 4, 5, 4, 5}));
}

TEST(ClusterTest, PairQualityCountsPairs) {
  // Truth: {0,1,2} {3} {4,5}; predicted {0,1} {2,3} {4,5}.
  PairQuality q = ClusterQuality({0, 0, 2, 2, 4, 4}, {"a", "a", "a", "b", "c", "c"});
  EXPECT_EQ(q.true_positives, 2);
  EXPECT_EQ(q.false_positives, 1);
  EXPECT_EQ(q.false_negatives, 2);
  EXPECT_NEAR(q.f1(), 2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), 1e-12);
}

TEST(SurvivorshipTest, Rules) {
  std::vector<MemberValue> m = {
      {"a@x.de", "shop", 30}, {"b@x.de", "billing", 10}, {"", "crm", 99}, {"b@x.de", "crm", 20}};
  EXPECT_EQ(Survive({"email", Survivorship::kMostRecent, {}}, m), "a@x.de");
  EXPECT_EQ(Survive({"email", Survivorship::kMostFrequent, {}}, m), "b@x.de");
  EXPECT_EQ(Survive({"email", Survivorship::kMostTrusted, {"crm", "billing"}}, m), "b@x.de");
  EXPECT_EQ(Survive({"email", Survivorship::kMostTrusted, {"shop"}}, m), "a@x.de");
  EXPECT_EQ(Survive({"email", Survivorship::kMostTrusted, {"nobody"}}, m), "a@x.de");  // unlisted: most recent
  EXPECT_EQ(Survive({"email", Survivorship::kMostRecent, {}}, {}), "");
  EXPECT_TRUE(ParseSurvivorship("mostTrusted").ok());
  EXPECT_FALSE(ParseSurvivorship("newest").ok());
}

ModelConfig PeopleConfig() {
  auto config = ParseModelConfig(ReadFile(std::string(RAPPORT_SOURCE_DIR) + "/tests/identity/people.json"));
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

TEST(PrepareTest, MissingColumnIsAnError) {
  auto config = ParseModelConfig(kSmallConfig);
  ASSERT_TRUE(config.ok());
  RecordTable t;
  t.columns = {"name", "email"};
  t.ids = {"1"};
  t.rows = {{"a", "b"}};
  auto p = Prepare(*config, t);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().field(), "city");
}

TEST(DeterministicTest, SharedEmailAlwaysLinks) {
  auto config = ParseModelConfig(kSmallConfig);
  ASSERT_TRUE(config.ok());
  RecordTable t;
  t.columns = {"name", "city", "email"};
  for (int i = 0; i < 50; ++i) {
    t.ids.push_back(std::to_string(i));
    t.rows.push_back({"person " + std::to_string(i * 7919 % 1000), "city" + std::to_string(i % 5),
                      "p" + std::to_string(i) + "@example.com"});
  }
  t.ids.push_back("dup");
  t.rows.push_back({"Somebody Else", "elsewhere", "P7+shop@Example.com"});
  auto result = Dedupe(*config, t);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->cluster[50], 7);
  int deterministic = 0;
  for (const ScoredPair& p : result->pairs) deterministic += p.deterministic;
  EXPECT_EQ(deterministic, 1);
}

TEST(LinkTest, GeneratedPeopleWithKnownTruth) {
  testing::GeneratedPeople people = testing::GeneratePeople(6000, 0.3, 7);
  ASSERT_GT(people.duplicates.size(), 1000u);
  ModelConfig config = PeopleConfig();
  auto result = Link(config, people.originals, people.duplicates);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // One true link per duplicate; count the accepted pairs against it.
  PairQuality q;
  std::set<std::pair<int64_t, int64_t>> found;
  for (const ScoredPair& p : result->pairs) {
    if (!p.deterministic && p.probability < config.auto_merge_threshold) continue;
    bool match = people.original_truth[static_cast<size_t>(p.left)] == people.duplicate_truth[static_cast<size_t>(p.right)];
    (match ? q.true_positives : q.false_positives) += 1;
  }
  q.false_negatives = static_cast<int64_t>(people.duplicates.size()) - q.true_positives;
  std::printf("link %zu x %zu: precision %.4f recall %.4f F1 %.4f\n", people.originals.size(),
              people.duplicates.size(), q.precision(), q.recall(), q.f1());
  EXPECT_GE(q.f1(), 0.99);
}

TEST(DedupeTest, GeneratedPeopleAndExplanations) {
  testing::GeneratedPeople people = testing::GeneratePeople(4000, 0.3, 11);
  std::vector<std::string> truth;
  RecordTable all = testing::Combined(people, &truth);
  ModelConfig config = PeopleConfig();
  auto result = Dedupe(config, all);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  PairQuality q = ClusterQuality(result->cluster, truth);
  std::printf("dedupe %zu: precision %.4f recall %.4f F1 %.4f\n", all.size(), q.precision(), q.recall(), q.f1());
  EXPECT_GE(q.f1(), 0.99);

  // The evidence adds up to the pair's weight.
  auto prepared = Prepare(config, all);
  ASSERT_TRUE(prepared.ok());
  ASSERT_FALSE(result->pairs.empty());
  const ScoredPair& p = result->pairs.front();
  std::vector<Evidence> ev = Explain(config, result->params, **prepared, p.left, **prepared, p.right);
  ASSERT_EQ(ev.size(), config.comparisons.size());
  double sum = std::log2(result->params.prior / (1 - result->params.prior));
  for (const Evidence& e : ev) sum += e.weight;
  EXPECT_NEAR(sum, p.weight, 1e-9);
  std::string text = DescribeEvidence(config, ev);
  EXPECT_NE(text.find("first_name: "), std::string::npos) << text;
}

TEST(MatchIndexTest, NewRecordsFindTheirOriginal) {
  testing::GeneratedPeople people = testing::GeneratePeople(5000, 0.2, 3);
  ModelConfig config = PeopleConfig();
  // Trained on everything (as a batch run would be), then the originals are
  // indexed and the duplicates arrive one by one.
  std::vector<std::string> truth;
  auto prepared = Prepare(config, testing::Combined(people, &truth));
  ASSERT_TRUE(prepared.ok());
  auto params = Train(config, **prepared, **prepared);
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  auto index = MatchIndex::Create(config, *params, people.originals.columns);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE((*index)->AddAll(people.originals).ok());
  EXPECT_EQ((*index)->size(), people.originals.size());
  EXPECT_EQ((*index)->Add(people.originals.ids[0], people.originals.rows[0]).code(), StatusCode::kConflict);
  size_t found = 0, wrong = 0;
  for (size_t i = 0; i < people.duplicates.size(); ++i) {
    auto matches = (*index)->Find(people.duplicates.rows[i], config.auto_merge_threshold, 3);
    if (matches.empty()) continue;
    (matches[0].id == "b-" + people.duplicate_truth[i] ? found : wrong) += 1;
  }
  std::printf("real time: %zu of %zu duplicates found, %zu wrong\n", found, people.duplicates.size(), wrong);
  EXPECT_GE(found, people.duplicates.size() * 97 / 100);
  EXPECT_LE(wrong, people.duplicates.size() / 100);
}

}  // namespace
}  // namespace rapport::identity
