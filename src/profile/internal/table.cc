#include "profile/internal/table.h"

#include <algorithm>
#include <charconv>

namespace rapport::profile::internal {

void Column::Resize(size_t rows) {
  // Value arrays are padded to whole 64-row words so scans run over full
  // words without a tail loop; padding rows are never valid.
  size_t padded = (rows + 63) / 64 * 64;
  if (type_ == ColumnType::kNumber) {
    num_.resize(padded, 0.0);
  } else {
    code_.resize(padded, 0);
  }
  valid_.resize(padded / 64, 0);
}

void Column::SetNumber(uint32_t row, double v) {
  num_[row] = v;
  valid_[row >> 6] |= uint64_t{1} << (row & 63);
}

void Column::SetInt(uint32_t row, int32_t v) {
  code_[row] = v;
  valid_[row >> 6] |= uint64_t{1} << (row & 63);
}

void Column::SetString(uint32_t row, std::string_view v) {
  auto it = dict_index_.find(std::string(v));
  int32_t c;
  if (it == dict_index_.end()) {
    c = static_cast<int32_t>(dict_.size());
    dict_.emplace_back(v);
    dict_index_.emplace(std::string(v), c);
  } else {
    c = it->second;
  }
  SetInt(row, c);
}

int32_t Column::Find(std::string_view s) const {
  auto it = dict_index_.find(std::string(s));
  return it == dict_index_.end() ? -1 : it->second;
}

namespace {
std::string NumberText(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string DateText(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}
}  // namespace

std::string Column::Text(uint32_t row) const {
  if (!valid(row)) return "";
  switch (type_) {
    case ColumnType::kNumber: return NumberText(num_[row]);
    case ColumnType::kString: return dict_[code_[row]];
    case ColumnType::kDate: return DateText(code_[row]);
    case ColumnType::kBoolean: return code_[row] ? "true" : "false";
  }
  return "";
}

feel::Value Column::FeelValue(uint32_t row) const {
  if (!valid(row)) return feel::Value::Null();
  switch (type_) {
    case ColumnType::kNumber: return feel::Value::Number(feel::Decimal::FromDouble(num_[row]));
    case ColumnType::kString: return feel::Value::String(dict_[code_[row]]);
    case ColumnType::kDate: return feel::Value::Date(code_[row]);
    case ColumnType::kBoolean: return feel::Value::Boolean(code_[row] != 0);
  }
  return feel::Value::Null();
}

int64_t Column::memory_bytes() const {
  int64_t bytes = static_cast<int64_t>(num_.capacity() * sizeof(double) + code_.capacity() * sizeof(int32_t) +
                                       valid_.capacity() * sizeof(uint64_t));
  for (const auto& s : dict_) bytes += static_cast<int64_t>(sizeof(std::string) + (s.size() > 15 ? s.size() : 0));
  bytes += static_cast<int64_t>(dict_index_.size() * (sizeof(std::string) + 16 + 8));
  return bytes;
}

size_t Table::AddColumn(std::string name, ColumnType type) {
  by_name_[name] = columns_.size();
  columns_.emplace_back(std::move(name), type);
  columns_.back().Resize(ids_.size());
  return columns_.size() - 1;
}

int Table::FindColumn(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? -1 : static_cast<int>(it->second);
}

int64_t Table::RowOf(int64_t customer_id) const {
  auto end = ids_.begin() + static_cast<ptrdiff_t>(sorted_rows_);
  auto it = std::lower_bound(ids_.begin(), end, customer_id);
  if (it != end && *it == customer_id) return it - ids_.begin();
  auto late = late_rows_.find(customer_id);
  return late == late_rows_.end() ? int64_t{-1} : static_cast<int64_t>(late->second);
}

uint32_t Table::FirstRowAfter(int64_t customer_id) const {
  auto end = ids_.begin() + static_cast<ptrdiff_t>(sorted_rows_);
  return static_cast<uint32_t>(std::upper_bound(ids_.begin(), end, customer_id) - ids_.begin());
}

uint32_t Table::AddRow(int64_t customer_id) {
  uint32_t row = static_cast<uint32_t>(ids_.size());
  bool in_order = late_rows_.empty() && (ids_.empty() || ids_.back() < customer_id);
  ids_.push_back(customer_id);
  if (in_order) {
    sorted_rows_ = ids_.size();
  } else {
    late_rows_[customer_id] = row;
  }
  // Grow geometrically: columns are resized together.
  for (auto& c : columns_) c.Resize(ids_.size());
  return row;
}

int64_t Table::memory_bytes() const {
  int64_t bytes = static_cast<int64_t>(ids_.capacity() * sizeof(int64_t) + late_rows_.size() * 32);
  for (const auto& c : columns_) bytes += c.memory_bytes();
  return bytes;
}

}  // namespace rapport::profile::internal
