#pragma once
// The column layer of the profile store: dense arrays per column, strings
// dictionary-encoded, one validity bit per row. Not thread-safe; the store's
// lock guards it.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "feel/feel.h"
#include "profile/profile.h"

namespace rapport::profile::internal {

class Column {
 public:
  Column(std::string name, ColumnType type) : name_(std::move(name)), type_(type) {}

  const std::string& name() const { return name_; }
  ColumnType type() const { return type_; }

  void Resize(size_t rows);
  bool valid(uint32_t row) const { return (valid_[row >> 6] >> (row & 63)) & 1; }
  void SetNull(uint32_t row) { valid_[row >> 6] &= ~(uint64_t{1} << (row & 63)); }
  void SetNumber(uint32_t row, double v);
  void SetInt(uint32_t row, int32_t v);  // date (epoch days) or boolean (0/1)
  void SetString(uint32_t row, std::string_view v);

  double number(uint32_t row) const { return num_[row]; }
  int32_t code(uint32_t row) const { return code_[row]; }
  const std::vector<double>& numbers() const { return num_; }
  const std::vector<int32_t>& codes() const { return code_; }
  const std::vector<uint64_t>& valid_words() const { return valid_; }
  const std::vector<std::string>& dictionary() const { return dict_; }
  // Dictionary code of s, or -1 when no row ever held it.
  int32_t Find(std::string_view s) const;

  // The value as text: "" for null, numbers in shortest form, dates ISO.
  std::string Text(uint32_t row) const;
  feel::Value FeelValue(uint32_t row) const;
  int64_t memory_bytes() const;

 private:
  std::string name_;
  ColumnType type_;
  std::vector<double> num_;      // kNumber
  std::vector<int32_t> code_;    // kString: dictionary code; kDate: epoch days; kBoolean: 0/1
  std::vector<uint64_t> valid_;  // bit per row
  std::vector<std::string> dict_;
  std::unordered_map<std::string, int32_t> dict_index_;
};

// All columns plus the customer id of every row. Rows are in ascending id
// order as built; customers that appear later are appended.
class Table {
 public:
  size_t AddColumn(std::string name, ColumnType type);
  int FindColumn(std::string_view name) const;  // -1 when absent
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  size_t column_count() const { return columns_.size(); }

  size_t rows() const { return ids_.size(); }
  int64_t id(uint32_t row) const { return ids_[row]; }
  // Row of a customer, or -1.
  int64_t RowOf(int64_t customer_id) const;
  // Rows [0, sorted_rows()) are in ascending id order.
  size_t sorted_rows() const { return sorted_rows_; }
  // The first of those rows whose id is above customer_id.
  uint32_t FirstRowAfter(int64_t customer_id) const;
  // Appends a row (all columns null) and returns it.
  uint32_t AddRow(int64_t customer_id);
  int64_t memory_bytes() const;

 private:
  std::vector<Column> columns_;
  std::unordered_map<std::string, size_t> by_name_;
  std::vector<int64_t> ids_;
  size_t sorted_rows_ = 0;  // ids_[0, sorted_rows_) ascending
  std::unordered_map<int64_t, uint32_t> late_rows_;  // rows appended out of order
};

}  // namespace rapport::profile::internal
