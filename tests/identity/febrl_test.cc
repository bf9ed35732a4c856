// Deduplication of the FEBRL data sets without labels: the model trains on
// the records alone; the record ids ("rec-12-org", "rec-12-dup-0") only
// score the result.
#include <gtest/gtest.h>

#include <cstdio>

#include "identity/febrl_util.h"

namespace rapport::identity {
namespace {

using testing::FebrlEntity;
using testing::ReadCsv;
using testing::ReadFile;

ModelConfig FebrlConfig() {
  auto config = ParseModelConfig(ReadFile(std::string(RAPPORT_SOURCE_DIR) + "/tests/identity/febrl.json"));
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

struct FebrlCase {
  const char* file;
  double min_f1;  // the level reached, rounded down: a drop fails the test
};
void PrintTo(const FebrlCase& c, std::ostream* os) { *os << c.file; }

class FebrlDedupeTest : public ::testing::TestWithParam<FebrlCase> {};

TEST_P(FebrlDedupeTest, ReachesF1WithoutLabels) {
  const FebrlCase& c = GetParam();
  std::string text = ReadFile(std::string(RAPPORT_SHARED_DIR) + "/data/febrl/" + c.file);
  ASSERT_FALSE(text.empty()) << "missing " << c.file;
  RecordTable records = ReadCsv(text, "rec_id");
  ModelConfig config = FebrlConfig();
  auto result = Dedupe(config, records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> truth;
  for (const std::string& id : records.ids) truth.push_back(FebrlEntity(id));
  PairQuality q = ClusterQuality(result->cluster, truth);
  std::printf("%s: %zu records, %lld candidate pairs, prior %.3g, precision %.4f recall %.4f F1 %.4f\n", c.file,
              records.size(), static_cast<long long>(result->params.candidate_pairs), result->params.prior,
              q.precision(), q.recall(), q.f1());
  EXPECT_GE(q.f1(), c.min_f1);
  EXPECT_GE(q.f1(), 0.95);
}

INSTANTIATE_TEST_SUITE_P(Febrl, FebrlDedupeTest,
                         ::testing::Values(FebrlCase{"dataset1.csv", 0.999}, FebrlCase{"dataset2.csv", 0.998},
                                           FebrlCase{"dataset3.csv", 0.999}),
                         [](const ::testing::TestParamInfo<FebrlCase>& info) {
                           std::string name = info.param.file;
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace rapport::identity
