#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "profile/internal/store_impl.h"
#include "profile/profile.h"

namespace rapport::profile {

using internal::Column;

namespace {

constexpr size_t kMaxDimensions = 4;

enum class Fn : uint8_t { kCount, kSum, kAvg, kMin, kMax };

struct Measure {
  Fn fn;
  int column = -1;
};

struct Group {
  uint32_t first_row;  // a row of the group, for the dimension values
  int64_t count = 0;
  std::vector<double> sum, min, max;
  std::vector<int64_t> n;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string NumberText(double v) {
  char buf[64];
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
    // Money: keep cents readable.
    if (std::fabs(v) >= 1e-2 && std::fabs(v) < 1e12) std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

}  // namespace

std::string QueryResult::ToCsv() const {
  std::string out;
  bool first = true;
  for (const auto& d : dimension_names) {
    out += (first ? "" : ",") + CsvField(d);
    first = false;
  }
  for (const auto& m : measure_names) {
    out += (first ? "" : ",") + CsvField(m);
    first = false;
  }
  out += "\n";
  for (const auto& r : rows) {
    first = true;
    for (const auto& d : r.dimensions) {
      out += (first ? "" : ",") + CsvField(d);
      first = false;
    }
    for (const auto& m : r.measures) {
      out += (first ? "" : ",") + (m ? NumberText(*m) : std::string());
      first = false;
    }
    out += "\n";
  }
  return out;
}

Result<QueryResult> ProfileStore::Query(const QuerySpec& spec) const {
  if (spec.measures.empty()) return Status::InvalidArgument("name at least one measure, e.g. \"count\"", "/measures");
  if (spec.dimensions.size() > kMaxDimensions) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxDimensions) + " dimensions", "/dimensions");
  }
  if (spec.limit < 1 || spec.limit > 100000) return Status::InvalidArgument("limit must be 1..100000", "/limit");
  std::shared_lock lock(impl_->mu);
  const auto& table = impl_->table;

  QueryResult result;
  std::vector<Measure> measures;
  for (size_t i = 0; i < spec.measures.size(); ++i) {
    const std::string& m = spec.measures[i];
    std::string field = "/measures/" + std::to_string(i);
    if (m == "count") {
      measures.push_back({Fn::kCount, -1});
      result.measure_names.push_back("count");
      continue;
    }
    size_t open = m.find('(');
    if (open == std::string::npos || m.back() != ')') {
      return Status::InvalidArgument("a measure is count or sum/avg/min/max(column), not '" + m + "'", field);
    }
    std::string fn = m.substr(0, open), col = m.substr(open + 1, m.size() - open - 2);
    Fn f;
    if (fn == "sum") f = Fn::kSum;
    else if (fn == "avg") f = Fn::kAvg;
    else if (fn == "min") f = Fn::kMin;
    else if (fn == "max") f = Fn::kMax;
    else return Status::InvalidArgument("unknown function '" + fn + "'; use sum, avg, min or max", field);
    int c = table.FindColumn(col);
    if (c < 0) return Status::InvalidArgument("unknown column '" + col + "'", field);
    if (table.column(c).type() != ColumnType::kNumber) {
      return Status::InvalidArgument("column '" + col + "' is a " + std::string(ColumnTypeName(table.column(c).type())) +
                                         "; " + fn + " needs a number",
                                     field);
    }
    measures.push_back({f, c});
    result.measure_names.push_back(fn + "(" + col + ")");
  }
  std::vector<int> dims;
  for (size_t i = 0; i < spec.dimensions.size(); ++i) {
    int c = table.FindColumn(spec.dimensions[i]);
    if (c < 0) {
      return Status::InvalidArgument("unknown column '" + spec.dimensions[i] + "'", "/dimensions/" + std::to_string(i));
    }
    dims.push_back(c);
    result.dimension_names.push_back(spec.dimensions[i]);
  }

  // Rows in scope: the filter's true rows, within the segment.
  size_t words = (table.rows() + 63) / 64;
  std::vector<uint64_t> rows(words, ~uint64_t{0});
  if (table.rows() % 64) rows.back() = (uint64_t{1} << (table.rows() % 64)) - 1;
  if (!spec.filter.empty()) {
    auto c = impl_->CompileLocked(spec.filter, spec.limits);
    if (!c.ok()) return Status(c.status().code(), c.status().message(), "/filter");
    auto bits = (*c)->Scan(table, spec.limits);
    if (!bits.ok()) return Status(bits.status().code(), bits.status().message(), "/filter");
    rows = std::move(*bits);
  }
  if (spec.segment_id > 0) {
    auto it = impl_->segments.find(spec.segment_id);
    if (it == impl_->segments.end()) {
      return Status::NotFound("segment " + std::to_string(spec.segment_id) + " does not exist", "/segment");
    }
    std::vector<uint64_t> seg(words, 0);
    for (uint32_t r : it->second.members) seg[r >> 6] |= uint64_t{1} << (r & 63);
    for (size_t w = 0; w < words; ++w) rows[w] &= seg[w];
  }

  // Group key per row: dictionary code (+1, 0 for null) for strings and
  // booleans, the value's bits for numbers and dates.
  const size_t nm = measures.size();
  std::vector<Group> groups;
  auto new_group = [&](uint32_t row) {
    Group g;
    g.first_row = row;
    g.sum.assign(nm, 0);
    g.min.assign(nm, INFINITY);
    g.max.assign(nm, -INFINITY);
    g.n.assign(nm, 0);
    groups.push_back(std::move(g));
    return static_cast<uint32_t>(groups.size() - 1);
  };
  auto fold = [&](Group& g, uint32_t row) {
    ++g.count;
    for (size_t k = 0; k < nm; ++k) {
      if (measures[k].fn == Fn::kCount) continue;
      const Column& c = table.column(measures[k].column);
      if (!c.valid(row)) continue;
      double v = c.number(row);
      g.sum[k] += v;
      g.min[k] = std::min(g.min[k], v);
      g.max[k] = std::max(g.max[k], v);
      ++g.n[k];
    }
  };

  // Dense path: all dimensions dictionary-coded and few combinations.
  bool dense = true;
  std::vector<uint64_t> stride(dims.size());
  uint64_t cells = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const Column& c = table.column(dims[i]);
    uint64_t card = c.type() == ColumnType::kString ? c.dictionary().size() + 1
                    : c.type() == ColumnType::kBoolean ? 3 : 0;
    if (card == 0 || cells * card > (1u << 22)) {
      dense = false;
      break;
    }
    stride[i] = cells;
    cells *= card;
  }
  auto key_part = [&](size_t i, uint32_t row) -> uint64_t {
    const Column& c = table.column(dims[i]);
    if (!c.valid(row)) return 0;
    if (c.type() == ColumnType::kNumber) {
      uint64_t bits;
      double v = c.number(row);
      std::memcpy(&bits, &v, sizeof bits);
      return bits | 1;  // never 0, the null key; the low bit is only noise in a key
    }
    return static_cast<uint64_t>(static_cast<uint32_t>(c.code(row))) + 1;
  };
  if (dense) {
    std::vector<uint32_t> slot(cells, UINT32_MAX);
    for (size_t w = 0; w < words; ++w) {
      for (uint64_t b = rows[w]; b; b &= b - 1) {
        uint32_t row = static_cast<uint32_t>(w * 64 + std::countr_zero(b));
        uint64_t key = 0;
        for (size_t i = 0; i < dims.size(); ++i) key += key_part(i, row) * stride[i];
        uint32_t& s = slot[key];
        if (s == UINT32_MAX) s = new_group(row);
        fold(groups[s], row);
      }
    }
  } else {
    struct KeyHash {
      size_t operator()(const std::array<uint64_t, kMaxDimensions>& k) const {
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (uint64_t x : k) h = (h ^ x) * 0xff51afd7ed558ccdULL;
        return static_cast<size_t>(h ^ (h >> 32));
      }
    };
    std::unordered_map<std::array<uint64_t, kMaxDimensions>, uint32_t, KeyHash> slot;
    for (size_t w = 0; w < words; ++w) {
      for (uint64_t b = rows[w]; b; b &= b - 1) {
        uint32_t row = static_cast<uint32_t>(w * 64 + std::countr_zero(b));
        std::array<uint64_t, kMaxDimensions> key{};
        for (size_t i = 0; i < dims.size(); ++i) {
          const Column& c = table.column(dims[i]);
          key[i] = (c.type() == ColumnType::kDate && c.valid(row)) ? static_cast<uint64_t>(c.code(row)) + 1
                                                                   : key_part(i, row);
        }
        auto [it, inserted] = slot.try_emplace(key, 0);
        if (inserted) it->second = new_group(row);
        fold(groups[it->second], row);
      }
    }
  }

  for (const Group& g : groups) {
    QueryRow r;
    for (int d : dims) r.dimensions.push_back(table.column(d).Text(g.first_row));
    for (size_t k = 0; k < nm; ++k) {
      switch (measures[k].fn) {
        case Fn::kCount: r.measures.push_back(static_cast<double>(g.count)); break;
        case Fn::kSum: r.measures.push_back(g.n[k] ? std::optional<double>(g.sum[k]) : std::nullopt); break;
        case Fn::kAvg: r.measures.push_back(g.n[k] ? std::optional<double>(g.sum[k] / g.n[k]) : std::nullopt); break;
        case Fn::kMin: r.measures.push_back(g.n[k] ? std::optional<double>(g.min[k]) : std::nullopt); break;
        case Fn::kMax: r.measures.push_back(g.n[k] ? std::optional<double>(g.max[k]) : std::nullopt); break;
      }
    }
    result.rows.push_back(std::move(r));
  }
  std::sort(result.rows.begin(), result.rows.end(), [](const QueryRow& a, const QueryRow& b) {
    double x = a.measures[0].value_or(-INFINITY), y = b.measures[0].value_or(-INFINITY);
    if (x != y) return x > y;
    return a.dimensions < b.dimensions;
  });
  if (result.rows.size() > static_cast<size_t>(spec.limit)) result.rows.resize(spec.limit);
  return result;
}

}  // namespace rapport::profile
