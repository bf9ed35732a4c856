#pragma once
// Reading CSV files into identity::RecordTable for the tests (header names
// and values trimmed: the FEBRL files write ", " between fields).
#include <fstream>
#include <sstream>
#include <string>

#include "identity/identity.h"
#include "ingest/import.h"

namespace rapport::identity::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

inline RecordTable ReadCsv(const std::string& text, const std::string& id_column) {
  ingest::CsvReader reader(text);
  std::vector<std::string_view> fields;
  RecordTable t;
  int id = -1;
  if (reader.Next(&fields)) {
    for (size_t i = 0; i < fields.size(); ++i) {
      t.columns.push_back(Trimmed(fields[i]));
      if (t.columns.back() == id_column) id = static_cast<int>(i);
    }
  }
  while (reader.Next(&fields)) {
    if (fields.size() == 1 && fields[0].empty()) continue;
    std::vector<std::string> row;
    for (std::string_view f : fields) row.push_back(Trimmed(f));
    row.resize(t.columns.size());
    t.ids.push_back(id >= 0 ? row[static_cast<size_t>(id)] : std::to_string(t.ids.size()));
    t.rows.push_back(std::move(row));
  }
  return t;
}

// "rec-12-dup-0" and "rec-12-org" are entity "12".
inline std::string FebrlEntity(const std::string& id) {
  size_t a = id.find('-'), b = id.find('-', a + 1);
  return id.substr(a + 1, b - a - 1);
}

}  // namespace rapport::identity::testing
