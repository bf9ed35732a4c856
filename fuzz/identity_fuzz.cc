// Fuzz target for identity resolution: the input is read as a model
// configuration (JSON); whatever parses is trained and run on a few records
// made from the input's bytes, and every normalizer and similarity measure
// sees the raw input too. Nothing may crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>
#include <string_view>

#include "identity/identity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace rapport::identity;
  for (Normalizer n : {Normalizer::kNone, Normalizer::kText, Normalizer::kName, Normalizer::kAddress,
                       Normalizer::kEmail, Normalizer::kPhone, Normalizer::kDigits, Normalizer::kDate}) {
    std::string v = Normalize(n, text);
    (void)JaroWinkler(v, text.substr(0, 64));
    (void)Levenshtein(v.substr(0, 64), text.substr(0, 64), 3);
  }
  (void)Soundex(text);
  (void)DamerauLevenshtein(text.substr(0, 40), text.substr(size / 2, 40));

  auto config = ParseModelConfig(text);
  if (!config.ok()) return 0;
  config->u_sample_pairs = 1000;
  config->threads = 1;
  config->em_max_iterations = std::min(config->em_max_iterations, 5);
  RecordTable t;
  t.columns = ConfigColumns(*config);
  for (size_t i = 0; i < 12; ++i) {
    t.ids.push_back(std::to_string(i));
    std::vector<std::string> row;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      size_t from = (i * 7 + c * 3) % (size + 1);
      row.push_back(std::string(text.substr(from, i % 3 == 0 ? 0 : 6)));
    }
    t.rows.push_back(std::move(row));
  }
  if (auto r = Dedupe(*config, t); r.ok()) {
    auto index = MatchIndex::Create(*config, r->params, t.columns);
    if (index.ok() && (*index)->AddAll(t).ok()) (void)(*index)->Find(t.rows[1], 0.0);
  }
  return 0;
}
