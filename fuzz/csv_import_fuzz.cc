// Fuzz target for the import pipeline without a store: the first line picks
// the entity, the format and an optional mapping; the rest is the file. Any
// input must map or be rejected row by row, never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rapport;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view head = nl == std::string_view::npos ? in : in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  ingest::ImportOptions o;
  o.source = "fuzz";
  o.entity = static_cast<ingest::Entity>((head.empty() ? 0 : static_cast<unsigned char>(head[0])) % 4);
  o.format = head.size() > 1 && head[1] == 'j' ? ingest::Format::kNdjson : ingest::Format::kCsv;
  // "cj{...mapping...}": a mapping follows the two selector characters.
  if (head.size() > 2) {
    auto m = ingest::ParseMapping(head.substr(2));
    if (m.ok()) o.mapping = *m;
  }
  static const std::vector<customer::AttributeDefinition> kCatalog = {
      {"firstName", customer::AttributeType::kString, true, ""},
      {"birthDate", customer::AttributeType::kDate, true, ""},
      {"employees", customer::AttributeType::kInteger, false, ""},
      {"annualRevenue", customer::AttributeType::kNumber, false, ""},
      {"email", customer::AttributeType::kString, true, ""},
  };
  auto rows = ingest::MapText(body, o, kCatalog);
  if (rows.ok()) {
    for (const auto& e : rows->errors) {
      if (e.line < 1) __builtin_trap();  // every rejected row names its line
    }
  }
  // The CSV reader alone, with another delimiter.
  ingest::CsvReader r(body, ';');
  std::vector<std::string_view> fields;
  while (r.Next(&fields)) {
  }
  (void)ingest::ParseTime(head, "DD.MM.YYYY HH:mm:ss.SSS");
  (void)ingest::ParseNumber(head, true);
  return 0;
}
