// Fuzz target for the analysts' files of `rapport analytics`: the first byte
// picks the format (w: whitespace, else CSV); the rest is a transaction file
// (columns 1, 2, 3) and, read again, a feature CSV whose first column is the
// target. Any input must parse or be refused with a message, never crash;
// what parses must summarize into consistent statistics and RFM scores.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analytics/clv.h"
#include "analytics/model.h"
#include "analytics/rfm.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rapport::analytics;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const auto format = in[0] == 'w' ? TransactionFileFormat::kWhitespace : TransactionFileFormat::kCsv;
  std::string_view body = in.substr(1);
  auto list = ParseTransactions(body, format, {"1", "2", "3"});
  if (!list.ok()) {
    Check(!list.status().message().empty());
  } else if (!list->rows.empty()) {
    auto table = Summarize(*list, {});
    Check(table.ok());
    for (const CustomerSummary& c : table->customers) {
      Check(c.x >= 0 && c.t_x >= 0 && c.t_x <= c.T && c.holdout_x == 0);
    }
    auto rfm = ComputeRfm(*list, {});
    Check(rfm.ok());
    for (const RfmRow& r : rfm->rows) {
      Check(r.r >= 1 && r.r <= 5 && r.f >= 1 && r.f <= 5 && r.m >= 1 && r.m <= 5 && r.frequency > 0);
    }
  }
  std::string_view first = body.substr(0, body.find_first_of(",\r\n"));
  EncoderOptions o;
  o.target = std::string(first);
  auto m = EncodeCsv(body, o);
  if (!m.ok()) {
    Check(!m.status().message().empty());
  } else {
    Check(m->positives > 0 && m->negatives > 0 && m->cols() > 0);
    Check(m->values.size() == m->rows() * m->cols());
  }
  return 0;
}
