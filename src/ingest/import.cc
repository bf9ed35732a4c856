// The import pipeline: a row source (CSV or NDJSON) feeds a mapper that
// builds store records; batches go to the store on a second thread while the
// next batch is parsed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <deque>
#include <future>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text.h"
#include "ingest/import.h"

namespace rapport::ingest {
namespace {

using customer::AttributeType;
using customer::AttributeValue;
using customer::Identifier;

// ---- row sources ------------------------------------------------------------

// The columns seen so far; CSV knows them all from the header, NDJSON learns
// them as keys appear. Names live in a deque so views stay valid.
class ColumnTable {
 public:
  int Find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? -1 : it->second;
  }
  int Add(std::string_view name) {
    int i = Find(name);
    if (i >= 0) return i;
    names_.emplace_back(name);
    i = static_cast<int>(names_.size()) - 1;
    index_.emplace(names_.back(), i);
    return i;
  }
  size_t size() const { return names_.size(); }
  const std::string& name(int i) const { return names_[static_cast<size_t>(i)]; }

 private:
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, int> index_;
};

// One row: a value per column, and whether the row has that column at all.
struct Row {
  int64_t line = 0;
  std::vector<std::string_view> values;
  std::vector<uint8_t> present;
  std::string error;  // a malformed row: why
  void Reset(size_t columns) {
    values.assign(columns, std::string_view());
    present.assign(columns, 0);
    error.clear();
  }
};

class RowSource {
 public:
  virtual ~RowSource() = default;
  // Fills row; false at end of input. New columns may be added to table.
  virtual bool Next(ColumnTable* table, Row* row) = 0;
  virtual size_t offset() const = 0;
};

class CsvSource final : public RowSource {
 public:
  CsvSource(std::string_view text, char delimiter) : reader_(text, delimiter) {}

  Status ReadHeader(ColumnTable* table) {
    if (!reader_.Next(&fields_)) return Status::InvalidArgument("the file is empty: a CSV file needs a header row");
    if (!reader_.error().empty()) return Status::InvalidArgument("header row: " + reader_.error());
    for (size_t i = 0; i < fields_.size(); ++i) {
      std::string_view name = fields_[i];
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      if (name.empty()) return Status::InvalidArgument("header column " + std::to_string(i + 1) + " has no name");
      if (table->Find(name) >= 0) return Status::InvalidArgument("header names column '" + std::string(name) + "' twice");
      table->Add(name);
    }
    columns_ = table->size();
    return Status::Ok();
  }

  bool Next(ColumnTable* table, Row* row) override {
    while (reader_.Next(&fields_)) {
      // A blank line is no record.
      if (fields_.size() == 1 && fields_[0].empty() && reader_.error().empty()) continue;
      row->Reset(table->size());
      row->line = reader_.line();
      if (!reader_.error().empty()) {
        row->error = reader_.error();
      } else if (fields_.size() != columns_) {
        row->error = "row has " + std::to_string(fields_.size()) + " fields, the header has " + std::to_string(columns_);
      }
      for (size_t i = 0; i < fields_.size() && i < columns_; ++i) {
        row->values[i] = fields_[i];
        row->present[i] = 1;
      }
      return true;
    }
    return false;
  }
  size_t offset() const override { return reader_.offset(); }

 private:
  CsvReader reader_;
  std::vector<std::string_view> fields_;
  size_t columns_ = 0;
};

class NdjsonSource final : public RowSource {
 public:
  explicit NdjsonSource(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  bool Next(ColumnTable* table, Row* row) override {
    while (pos_ < text_.size()) {
      size_t end = text_.find('\n', pos_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      Parse(line, table, row);
      return true;
    }
    return false;
  }
  size_t offset() const override { return pos_ > text_.size() ? text_.size() : pos_; }

 private:
  static constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag;

  void Parse(std::string_view line, ColumnTable* table, Row* row) {
    row->Reset(table->size());
    row->line = line_;
    doc_.GetAllocator().Clear();
    doc_.Parse<kFlags>(line.data(), line.size());
    if (doc_.HasParseError()) {
      row->error = std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc_.GetParseError()) +
                   " at column " + std::to_string(doc_.GetErrorOffset() + 1);
      return;
    }
    if (!doc_.IsObject()) {
      row->error = "a line must hold one JSON object";
      return;
    }
    size_t used = 0;
    for (auto it = doc_.MemberBegin(); it != doc_.MemberEnd(); ++it) {
      std::string_view key(it->name.GetString(), it->name.GetStringLength());
      int col = table->Find(key);
      if (col < 0) col = table->Add(key);
      if (static_cast<size_t>(col) >= row->values.size()) {
        row->values.resize(table->size());
        row->present.resize(table->size(), 0);
      }
      const rapidjson::Value& v = it->value;
      if (v.IsNull()) continue;
      std::string_view text;
      if (v.IsString()) {
        text = std::string_view(v.GetString(), v.GetStringLength());
      } else if (v.IsBool()) {
        text = v.GetBool() ? "true" : "false";
      } else {
        if (used == scratch_.size()) scratch_.emplace_back();
        std::string& s = scratch_[used++];
        s.clear();
        bool all_strings = v.IsArray();
        if (v.IsArray()) {
          for (const auto& e : v.GetArray()) all_strings = all_strings && e.IsString();
        }
        if (all_strings) {
          // An array of strings (e.g. identifiers) reads as a ';'-separated list.
          for (const auto& e : v.GetArray()) {
            if (!s.empty()) s.push_back(';');
            s.append(e.GetString(), e.GetStringLength());
          }
        } else {
          rapidjson::StringBuffer buf;
          rapidjson::Writer<rapidjson::StringBuffer> w(buf);
          v.Accept(w);
          s.assign(buf.GetString(), buf.GetSize());
        }
        text = s;
      }
      row->values[static_cast<size_t>(col)] = text;
      row->present[static_cast<size_t>(col)] = 1;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
  rapidjson::Document doc_;
  std::deque<std::string> scratch_;
};

// ---- the mapper ---------------------------------------------------------------

enum class Target {
  kSourceKey, kCustomerKey, kCustomer, kKind, kValidFrom, kIdentifiers, kAttribute,
  kProduct, kStatus, kOpenedAt, kClosedAt, kBalance, kCurrency,
  kAccountId, kOccurredAt, kChannel, kLocation, kSku, kItem, kCategory, kQuantity, kAmount,
  kAgent, kDepartment, kType, kPurpose, kTouchPoint, kDirection, kReason, kCampaign, kOutcome, kProperties,
};

enum class ValueKind { kText, kNumber, kInteger, kBoolean, kDate, kTimestamp, kMoney };

struct FieldSpec {
  std::string_view name;
  Target target;
  ValueKind kind;
};

// The record fields of each entity, by their API names (camelCase).
constexpr FieldSpec kCustomerFields[] = {
    {"sourceKey", Target::kSourceKey, ValueKind::kText},
    {"kind", Target::kKind, ValueKind::kText},
    {"validFrom", Target::kValidFrom, ValueKind::kTimestamp},
    {"identifiers", Target::kIdentifiers, ValueKind::kText},
};
constexpr FieldSpec kAccountFields[] = {
    {"sourceKey", Target::kSourceKey, ValueKind::kText},
    {"customerKey", Target::kCustomerKey, ValueKind::kText},
    {"customer", Target::kCustomer, ValueKind::kText},
    {"product", Target::kProduct, ValueKind::kText},
    {"status", Target::kStatus, ValueKind::kText},
    {"openedAt", Target::kOpenedAt, ValueKind::kTimestamp},
    {"closedAt", Target::kClosedAt, ValueKind::kTimestamp},
    {"balance", Target::kBalance, ValueKind::kMoney},
    {"currency", Target::kCurrency, ValueKind::kText},
};
constexpr FieldSpec kTransactionFields[] = {
    {"sourceKey", Target::kSourceKey, ValueKind::kText},
    {"customerKey", Target::kCustomerKey, ValueKind::kText},
    {"customer", Target::kCustomer, ValueKind::kText},
    {"accountId", Target::kAccountId, ValueKind::kInteger},
    {"occurredAt", Target::kOccurredAt, ValueKind::kTimestamp},
    {"channel", Target::kChannel, ValueKind::kText},
    {"location", Target::kLocation, ValueKind::kText},
    {"sku", Target::kSku, ValueKind::kText},
    {"item", Target::kItem, ValueKind::kText},
    {"category", Target::kCategory, ValueKind::kText},
    {"quantity", Target::kQuantity, ValueKind::kNumber},
    {"amount", Target::kAmount, ValueKind::kMoney},
    {"currency", Target::kCurrency, ValueKind::kText},
};
constexpr FieldSpec kInteractionFields[] = {
    {"sourceKey", Target::kSourceKey, ValueKind::kText},
    {"customerKey", Target::kCustomerKey, ValueKind::kText},
    {"customer", Target::kCustomer, ValueKind::kText},
    {"occurredAt", Target::kOccurredAt, ValueKind::kTimestamp},
    {"agent", Target::kAgent, ValueKind::kText},
    {"department", Target::kDepartment, ValueKind::kText},
    {"type", Target::kType, ValueKind::kText},
    {"purpose", Target::kPurpose, ValueKind::kText},
    {"channel", Target::kChannel, ValueKind::kText},
    {"touchPoint", Target::kTouchPoint, ValueKind::kText},
    {"direction", Target::kDirection, ValueKind::kText},
    {"reason", Target::kReason, ValueKind::kText},
    {"campaign", Target::kCampaign, ValueKind::kText},
    {"outcome", Target::kOutcome, ValueKind::kText},
    {"properties", Target::kProperties, ValueKind::kText},
};

std::pair<const FieldSpec*, size_t> FieldsOf(Entity e) {
  switch (e) {
    case Entity::kCustomers: return {kCustomerFields, std::size(kCustomerFields)};
    case Entity::kAccounts: return {kAccountFields, std::size(kAccountFields)};
    case Entity::kTransactions: return {kTransactionFields, std::size(kTransactionFields)};
    case Entity::kInteractions: return {kInteractionFields, std::size(kInteractionFields)};
  }
  return {kCustomerFields, std::size(kCustomerFields)};
}

const FieldSpec* FindField(Entity e, std::string_view name) {
  auto [fields, n] = FieldsOf(e);
  for (size_t i = 0; i < n; ++i) {
    if (fields[i].name == name) return &fields[i];
  }
  return nullptr;
}

Result<ValueKind> KindOfType(std::string_view type) {
  if (type == "string") return ValueKind::kText;
  if (type == "number") return ValueKind::kNumber;
  if (type == "integer") return ValueKind::kInteger;
  if (type == "boolean") return ValueKind::kBoolean;
  if (type == "date") return ValueKind::kDate;
  if (type == "timestamp") return ValueKind::kTimestamp;
  return Status::InvalidArgument("unknown type " + std::string(type));
}

ValueKind KindOfAttribute(AttributeType t) {
  switch (t) {
    case AttributeType::kString: return ValueKind::kText;
    case AttributeType::kNumber: return ValueKind::kNumber;
    case AttributeType::kInteger: return ValueKind::kInteger;
    case AttributeType::kBoolean: return ValueKind::kBoolean;
    case AttributeType::kDate: return ValueKind::kDate;
    case AttributeType::kTimestamp: return ValueKind::kTimestamp;
  }
  return ValueKind::kText;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Rule {
  Target target;
  std::string attribute;  // for kAttribute
  int column = -1;        // -1: constant
  std::string constant;
  ValueKind kind = ValueKind::kText;
  std::string format;
  bool decimal_comma = false;
  std::map<std::string, std::string, std::less<>> values;
};

struct IdRule {
  std::string scheme;
  int column;
};

class Mapper {
 public:
  Mapper(const ImportOptions& options, const std::vector<customer::AttributeDefinition>& catalog)
      : options_(options), entity_(options.entity) {
    for (const auto& def : catalog) catalog_.emplace(def.name, def.type);
    if (options.mapping) {
      mapping_ = *options.mapping;
      explicit_ = true;
    }
  }

  // Builds the rules against the columns known now (all of them for CSV).
  // strict: a column the mapping names must exist (CSV), and without a
  // mapping every column must map somewhere.
  Status Compile(ColumnTable* table, bool strict) {
    strict_ = strict;
    table_ = table;
    if (explicit_) return CompileExplicit();
    for (size_t i = 0; i < table->size(); ++i) RP_RETURN_IF_ERROR(AddDefaultColumn(static_cast<int>(i)));
    if (strict && entity_ == Entity::kCustomers && source_key_col_ < 0) {
      return Status::InvalidArgument("no source key column: name one 'sourceKey' or 'id', or set \"sourceKey\" in a mapping");
    }
    known_columns_ = table->size();
    return Status::Ok();
  }

  // NDJSON without a mapping: columns that appeared since the last row.
  Status Refresh() {
    if (explicit_) {
      known_columns_ = table_->size();
      return Status::Ok();
    }
    while (known_columns_ < table_->size()) {
      RP_RETURN_IF_ERROR(AddDefaultColumn(static_cast<int>(known_columns_)));
      ++known_columns_;
    }
    return Status::Ok();
  }

  // Maps one row into out; a bad value is a RowError.
  std::optional<RowError> Map(const Row& row, MappedRows* out) {
    if (!row.error.empty()) return RowError{row.line, "", row.error};
    // Every value is text that may end up stored or in properties: valid
    // UTF-8 without NUL, as for the API.
    for (size_t c = 0; c < row.values.size(); ++c) {
      if (c >= row.present.size() || !row.present[c]) continue;
      if (Status s = text::CheckText(row.values[c], ""); !s.ok()) {
        return RowError{row.line, table_->name(static_cast<int>(c)), s.message()};
      }
    }
    if (!unknown_.empty()) {
      for (int c : unknown_) {
        if (static_cast<size_t>(c) < row.present.size() && row.present[static_cast<size_t>(c)]) {
          return RowError{row.line, table_->name(c), "'" + table_->name(c) + "' is not a field of " +
                                                         std::string(EntityName(entity_)) + "; map it in a mapping file"};
        }
      }
    }
    Record r;
    for (const Rule& rule : rules_) {
      std::string_view text;
      if (rule.column < 0) {
        text = rule.constant;
      } else {
        size_t c = static_cast<size_t>(rule.column);
        if (c >= row.present.size() || !row.present[c]) continue;
        text = Trim(row.values[c]);
      }
      if (!rule.values.empty()) {
        auto it = rule.values.find(text);
        if (it != rule.values.end()) text = it->second;
      }
      if (text.empty()) continue;
      if (auto err = Apply(rule, text, &r)) {
        return RowError{row.line, rule.column >= 0 ? table_->name(rule.column) : FieldName(rule), *err};
      }
    }
    if (entity_ == Entity::kInteractions && !explicit_properties_ && (mapping_.unmapped_to_properties || !explicit_)) {
      r.properties = PropertiesOf(row);
    }
    return Finish(row, std::move(r), out);
  }

 private:
  // Everything a row may set, before it becomes the entity's record.
  struct Record {
    customer::CustomerRecord customer;
    customer::Account account;
    customer::Transaction transaction;
    customer::Interaction interaction;
    std::string source_key, customer_key, customer_id_text, properties;
    std::optional<std::string> kind;
    std::optional<int64_t> account_id;
  };

  std::string FieldName(const Rule& rule) const {
    if (rule.target == Target::kAttribute) return rule.attribute;
    auto [fields, n] = FieldsOf(entity_);
    for (size_t i = 0; i < n; ++i) {
      if (fields[i].target == rule.target) return std::string(fields[i].name);
    }
    return "";
  }

  Status AddDefaultColumn(int col) {
    const std::string& name = table_->name(col);
    if (entity_ == Entity::kCustomers && name == "id") return AddRule(Target::kSourceKey, "", col, ValueKind::kText);
    if (const FieldSpec* f = FindField(entity_, name)) return AddRule(f->target, "", col, f->kind);
    if (entity_ == Entity::kCustomers) {
      auto it = catalog_.find(name);
      if (it == catalog_.end() && !catalog_.empty()) {
        if (strict_) {
          return Status::InvalidArgument("column '" + name +
                                             "' is neither a customer field nor an attribute in the catalog; "
                                             "rename it or map it in a mapping file",
                                         name);
        }
        unknown_.push_back(col);
        return Status::Ok();
      }
      RP_RETURN_IF_ERROR(AddRule(Target::kAttribute, name, col,
                                 it == catalog_.end() ? ValueKind::kText : KindOfAttribute(it->second)));
      if (name == "email" || name == "phone") ids_.push_back({name, col});
      return Status::Ok();
    }
    if (entity_ == Entity::kInteractions) return Status::Ok();  // goes to properties
    if (strict_) {
      return Status::InvalidArgument("column '" + name + "' is not a field of " + std::string(EntityName(entity_)) +
                                         "; rename it or map it in a mapping file",
                                     name);
    }
    unknown_.push_back(col);
    return Status::Ok();
  }

  Status AddRule(Target target, std::string attribute, int col, ValueKind kind) {
    Rule r;
    r.target = target;
    r.attribute = std::move(attribute);
    r.column = col;
    r.kind = kind;
    r.decimal_comma = mapping_.decimal_comma;
    r.format = kind == ValueKind::kDate ? mapping_.date_format
               : kind == ValueKind::kTimestamp ? mapping_.timestamp_format : "";
    if (target == Target::kSourceKey) source_key_col_ = col;
    used_.push_back(col);
    rules_.push_back(std::move(r));
    return Status::Ok();
  }

  Result<int> Column(const std::string& name, const std::string& where) {
    int c = table_->Find(name);
    if (c >= 0) return c;
    if (strict_) {
      return Status::InvalidArgument("the mapping names column '" + name + "', which the file's header lacks", where);
    }
    return table_->Add(name);
  }

  Status CompileExplicit() {
    if (!mapping_.source_key_column.empty()) {
      RP_ASSIGN_OR_RETURN(int c, Column(mapping_.source_key_column, "/sourceKey"));
      RP_RETURN_IF_ERROR(AddRule(Target::kSourceKey, "", c, ValueKind::kText));
    }
    if (!mapping_.customer_key_column.empty()) {
      RP_ASSIGN_OR_RETURN(int c, Column(mapping_.customer_key_column, "/customerKey"));
      RP_RETURN_IF_ERROR(AddRule(Target::kCustomerKey, "", c, ValueKind::kText));
    }
    if (!mapping_.customer_identifier_column.empty()) {
      RP_ASSIGN_OR_RETURN(int c, Column(mapping_.customer_identifier_column, "/customerIdentifier"));
      RP_RETURN_IF_ERROR(AddRule(Target::kCustomer, "", c, ValueKind::kText));
    }
    if (!mapping_.kind_column.empty()) {
      RP_ASSIGN_OR_RETURN(int c, Column(mapping_.kind_column, "/kind/column"));
      RP_RETURN_IF_ERROR(AddRule(Target::kKind, "", c, ValueKind::kText));
      for (const auto& [k, v] : mapping_.kind_values) rules_.back().values.emplace(k, v);
    }
    for (const FieldRule& fr : mapping_.fields) {
      const std::string where = "/fields/" + fr.field;
      Target target = Target::kAttribute;
      ValueKind kind = ValueKind::kText;
      if (const FieldSpec* f = FindField(entity_, fr.field)) {
        target = f->target;
        kind = f->kind;
      } else if (entity_ != Entity::kCustomers) {
        return Status::InvalidArgument("'" + fr.field + "' is not a field of " + std::string(EntityName(entity_)), where);
      } else {
        auto it = catalog_.find(fr.field);
        if (it == catalog_.end() && !catalog_.empty()) {
          return Status::InvalidArgument("'" + fr.field + "' is not an attribute in the catalog", where);
        }
        if (it != catalog_.end()) kind = KindOfAttribute(it->second);
      }
      if (!fr.type.empty()) {
        RP_ASSIGN_OR_RETURN(kind, KindOfType(fr.type));
      }
      int col = -1;
      if (!fr.column.empty()) {
        RP_ASSIGN_OR_RETURN(col, Column(fr.column, where + "/column"));
      }
      RP_RETURN_IF_ERROR(AddRule(target, target == Target::kAttribute ? fr.field : "", col, kind));
      Rule& r = rules_.back();
      if (col < 0) r.constant = *fr.constant;
      if (!fr.format.empty()) r.format = fr.format;
      if (fr.decimal_comma) r.decimal_comma = *fr.decimal_comma;
      for (const auto& [k, v] : fr.values) r.values.emplace(k, v);
      if (target == Target::kProperties) explicit_properties_ = true;
    }
    for (const IdentifierRule& ir : mapping_.identifiers) {
      RP_ASSIGN_OR_RETURN(int c, Column(ir.column, "/identifiers/" + ir.scheme));
      ids_.push_back({ir.scheme, c});
      used_.push_back(c);
    }
    if (entity_ == Entity::kCustomers && source_key_col_ < 0) {
      bool constant_key = false;
      for (const Rule& r : rules_) constant_key = constant_key || r.target == Target::kSourceKey;
      if (!constant_key) return Status::InvalidArgument("a customer mapping needs \"sourceKey\": the column of the source system's key", "/sourceKey");
    }
    if (entity_ != Entity::kCustomers) {
      bool has_customer = false;
      for (const Rule& r : rules_) {
        has_customer = has_customer || r.target == Target::kCustomerKey || r.target == Target::kCustomer;
      }
      if (!has_customer) {
        return Status::InvalidArgument("the mapping needs \"customerKey\" or \"customerIdentifier\": the column naming the customer",
                                       "/customerKey");
      }
    }
    return Status::Ok();
  }

  // Converts text per the rule and stores it; returns why it cannot.
  std::optional<std::string> Apply(const Rule& rule, std::string_view text, Record* r) {
    if (rule.target == Target::kAmount || rule.target == Target::kBalance) {
      // Exactly from the digits, whatever type a mapping gives: never through a double.
      auto m = ParseMoney(text, rule.decimal_comma);
      if (!m.ok()) return m.status().message();
      (rule.target == Target::kBalance ? r->account.balance : r->transaction.amount) = *m;
      return std::nullopt;
    }
    AttributeValue value;
    switch (rule.kind) {
      case ValueKind::kText:
        value = std::string(text);
        break;
      case ValueKind::kNumber: {
        auto v = ParseNumber(text, rule.decimal_comma);
        if (!v.ok()) return v.status().message();
        value = *v;
        break;
      }
      case ValueKind::kMoney: return "a money field is read before the switch";
      case ValueKind::kInteger: {
        auto v = ParseNumber(text, rule.decimal_comma);
        if (!v.ok()) return v.status().message();
        if (*v != static_cast<double>(static_cast<int64_t>(*v)) || *v > 9e15 || *v < -9e15) {
          return "not an integer: " + std::string(text);
        }
        value = static_cast<int64_t>(*v);
        break;
      }
      case ValueKind::kBoolean: {
        std::string lower;
        for (char c : text) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
        if (lower == "true" || lower == "yes" || lower == "y" || lower == "1" || lower == "t") {
          value = true;
        } else if (lower == "false" || lower == "no" || lower == "n" || lower == "0" || lower == "f") {
          value = false;
        } else {
          return "not a boolean: " + std::string(text);
        }
        break;
      }
      case ValueKind::kDate:
      case ValueKind::kTimestamp: {
        auto t = ParseTime(text, rule.format);
        if (!t.ok()) return t.status().message();
        if (rule.target != Target::kAttribute) {
          return SetTime(rule.target, *t, r);
        }
        value = rule.kind == ValueKind::kDate ? FormatDate(*t) : FormatRfc3339(*t);
        break;
      }
    }
    if (rule.target == Target::kAttribute) {
      r->customer.attributes[rule.attribute] = std::move(value);
      return std::nullopt;
    }
    auto text_of = [&]() -> std::string {
      if (auto* s = std::get_if<std::string>(&value)) return *s;
      return std::string(text);
    };
    auto number_of = [&]() -> double {
      if (auto* d = std::get_if<double>(&value)) return *d;
      if (auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
      return 0;
    };
    switch (rule.target) {
      case Target::kSourceKey: r->source_key = text_of(); break;
      case Target::kCustomerKey: r->customer_key = text_of(); break;
      case Target::kCustomer: r->customer_id_text = text_of(); break;
      case Target::kKind: r->kind = text_of(); break;
      case Target::kIdentifiers: {
        std::string_view list = text;
        while (!list.empty()) {
          size_t sep = list.find_first_of(";| ");
          std::string_view one = Trim(list.substr(0, sep));
          list = sep == std::string_view::npos ? std::string_view() : list.substr(sep + 1);
          if (one.empty()) continue;
          auto id = customer::ParseIdentifier(one);
          if (!id.ok()) return id.status().message();
          r->customer.identifiers.push_back(*id);
        }
        break;
      }
      case Target::kProduct: r->account.product = text_of(); break;
      case Target::kStatus: r->account.status = text_of(); break;
      case Target::kCurrency:
        r->account.currency = r->transaction.currency = text_of();
        break;
      case Target::kAccountId:
        if (auto* i = std::get_if<int64_t>(&value)) r->account_id = *i;
        break;
      case Target::kChannel: r->transaction.channel = r->interaction.channel = text_of(); break;
      case Target::kLocation: r->transaction.location = text_of(); break;
      case Target::kSku: r->transaction.sku = text_of(); break;
      case Target::kItem: r->transaction.item = text_of(); break;
      case Target::kCategory: r->transaction.category = text_of(); break;
      case Target::kQuantity: r->transaction.quantity = number_of(); break;
      case Target::kAgent: r->interaction.agent = text_of(); break;
      case Target::kDepartment: r->interaction.department = text_of(); break;
      case Target::kType: r->interaction.type = text_of(); break;
      case Target::kPurpose: r->interaction.purpose = text_of(); break;
      case Target::kTouchPoint: r->interaction.touch_point = text_of(); break;
      case Target::kDirection: r->interaction.direction = text_of(); break;
      case Target::kReason: r->interaction.reason = text_of(); break;
      case Target::kCampaign: r->interaction.campaign = text_of(); break;
      case Target::kOutcome: r->interaction.outcome = text_of(); break;
      case Target::kProperties: {
        rapidjson::Document d;
        d.Parse(text.data(), text.size());
        if (d.HasParseError() || !d.IsObject()) return "properties must be a JSON object";
        r->properties = text_of();
        break;
      }
      default:
        return "a date field was given a non-date type";
    }
    return std::nullopt;
  }

  std::optional<std::string> SetTime(Target target, Timestamp t, Record* r) {
    switch (target) {
      case Target::kValidFrom: r->customer.valid_from = t; break;
      case Target::kOpenedAt: r->account.opened_at = t; break;
      case Target::kClosedAt: r->account.closed_at = t; break;
      case Target::kOccurredAt: r->transaction.occurred_at = r->interaction.occurred_at = t; break;
      default: return "this field does not hold a date";
    }
    return std::nullopt;
  }

  std::string PropertiesOf(const Row& row) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    for (size_t c = 0; c < row.values.size(); ++c) {
      if (!row.present[c] || row.values[c].empty()) continue;
      bool used = false;
      for (int u : used_) used = used || static_cast<size_t>(u) == c;
      if (used) continue;
      const std::string& name = table_->name(static_cast<int>(c));
      if (FindField(entity_, name) && !explicit_) continue;
      w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      w.String(row.values[c].data(), static_cast<rapidjson::SizeType>(row.values[c].size()));
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }

  std::optional<RowError> Finish(const Row& row, Record r, MappedRows* out) {
    auto fail = [&](std::string column, std::string message) {
      return RowError{row.line, std::move(column), std::move(message)};
    };
    if (entity_ == Entity::kCustomers) {
      if (r.source_key.empty()) return fail(SourceKeyName(), "the source key is empty");
      customer::CustomerRecord& c = r.customer;
      c.source_key = std::move(r.source_key);
      std::optional<std::string> kind = r.kind ? r.kind : mapping_.kind;
      if (kind) {
        auto k = customer::ParseKind(*kind);
        if (!k.ok()) return fail(mapping_.kind_column.empty() ? "kind" : mapping_.kind_column, k.status().message());
        c.kind = *k;
      }
      for (const IdRule& id : ids_) {
        size_t col = static_cast<size_t>(id.column);
        if (col >= row.present.size() || !row.present[col]) continue;
        std::string_view v = Trim(row.values[col]);
        if (v.empty()) continue;
        c.identifiers.push_back(Identifier{id.scheme, std::string(v)});
      }
      out->customers.push_back(std::move(c));
      out->lines.push_back(row.line);
      return std::nullopt;
    }
    Identifier who;
    if (!r.customer_id_text.empty()) {
      auto id = customer::ParseIdentifier(r.customer_id_text);
      if (!id.ok()) return fail("customer", id.status().message());
      who = *id;
    } else if (!r.customer_key.empty()) {
      who = Identifier{mapping_.customer_scheme.empty() ? options_.source : mapping_.customer_scheme, r.customer_key};
    } else {
      return fail("customerKey", "the row names no customer (customerKey or customer is empty)");
    }
    switch (entity_) {
      case Entity::kAccounts: {
        if (r.source_key.empty()) return fail(SourceKeyName(), "the source key is empty");
        customer::Account& a = r.account;
        a.source = options_.source;
        a.source_key = std::move(r.source_key);
        out->accounts.emplace_back(std::move(who), std::move(a));
        break;
      }
      case Entity::kTransactions: {
        customer::Transaction& t = r.transaction;
        if (t.occurred_at.micros == 0) return fail("occurredAt", "the transaction has no time (occurredAt)");
        t.source = options_.source;
        t.source_key = std::move(r.source_key);
        t.account_id = r.account_id;
        out->transactions.emplace_back(std::move(who), std::move(t));
        break;
      }
      case Entity::kInteractions: {
        customer::Interaction& i = r.interaction;
        if (i.occurred_at.micros == 0) return fail("occurredAt", "the interaction has no time (occurredAt)");
        i.source = options_.source;
        i.source_key = std::move(r.source_key);
        if (!r.properties.empty()) i.properties_json = std::move(r.properties);
        out->interactions.emplace_back(std::move(who), std::move(i));
        break;
      }
      case Entity::kCustomers: break;
    }
    out->lines.push_back(row.line);
    return std::nullopt;
  }

  std::string SourceKeyName() const {
    return source_key_col_ >= 0 ? table_->name(source_key_col_) : "sourceKey";
  }

  const ImportOptions& options_;
  Entity entity_;
  Mapping mapping_;
  bool explicit_ = false;
  bool strict_ = true;
  bool explicit_properties_ = false;
  std::map<std::string, AttributeType, std::less<>> catalog_;
  ColumnTable* table_ = nullptr;
  size_t known_columns_ = 0;
  std::vector<Rule> rules_;
  std::vector<IdRule> ids_;
  std::vector<int> used_;     // columns some rule reads
  std::vector<int> unknown_;  // columns that map nowhere (NDJSON without mapping)
  int source_key_col_ = -1;
};

// ---- the pipeline -------------------------------------------------------------

class Pipeline {
 public:
  Pipeline(std::string_view text, const ImportOptions& options,
           const std::vector<customer::AttributeDefinition>& catalog)
      : text_(text), options_(options), mapper_(options, catalog) {}

  Status Start() {
    Format format = options_.format ? *options_.format
                    : (options_.mapping && options_.mapping->format) ? *options_.mapping->format
                                                                    : Format::kCsv;
    if (options_.mapping && options_.mapping->entity && *options_.mapping->entity != options_.entity) {
      return Status::InvalidArgument("the mapping is for " + std::string(EntityName(*options_.mapping->entity)) +
                                         ", the import for " + std::string(EntityName(options_.entity)),
                                     "/entity");
    }
    if (options_.source.empty()) return Status::InvalidArgument("an import needs a source system name", "source");
    if (format == Format::kCsv) {
      auto csv = std::make_unique<CsvSource>(text_, options_.mapping ? options_.mapping->delimiter : ',');
      RP_RETURN_IF_ERROR(csv->ReadHeader(&table_));
      source_ = std::move(csv);
      return mapper_.Compile(&table_, /*strict=*/true);
    }
    source_ = std::make_unique<NdjsonSource>(text_);
    return mapper_.Compile(&table_, /*strict=*/false);
  }

  // Reads up to max records into batch (rejected rows go to batch->errors).
  Status Fill(MappedRows* batch, size_t max) {
    while (batch->size() < max && source_->Next(&table_, &row_)) {
      ++rows_read_;
      RP_RETURN_IF_ERROR(mapper_.Refresh());
      if (auto err = mapper_.Map(row_, batch)) batch->errors.push_back(std::move(*err));
    }
    return Status::Ok();
  }

  int64_t rows_read() const { return rows_read_; }
  size_t offset() const { return source_->offset(); }

 private:
  std::string_view text_;
  const ImportOptions& options_;
  Mapper mapper_;
  ColumnTable table_;
  std::unique_ptr<RowSource> source_;
  Row row_;
  int64_t rows_read_ = 0;
};

// Customers are validated and normalized on the reading thread
// (prepared), so the writing thread only writes. The reading thread keeps
// its reference to the prepared batch and frees it (what it allocated)
// while the next batch is written.
Result<customer::CustomerStore::BatchResult> WriteBatch(customer::CustomerStore& store, const ImportOptions& options,
                                                        const MappedRows& batch,
                                                        const customer::CustomerStore::PreparedCustomers& prepared) {
  switch (options.entity) {
    case Entity::kCustomers: return store.UpsertCustomers(prepared);
    case Entity::kAccounts: return store.UpsertAccounts(batch.accounts);
    case Entity::kTransactions: return store.AddTransactions(batch.transactions);
    case Entity::kInteractions: return store.AddInteractions(batch.interactions);
  }
  return Status::Internal("unknown entity");
}

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Result<MappedRows> MapText(std::string_view text, const ImportOptions& options,
                           const std::vector<customer::AttributeDefinition>& catalog) {
  Pipeline p(text, options, catalog);
  RP_RETURN_IF_ERROR(p.Start());
  MappedRows all;
  RP_RETURN_IF_ERROR(p.Fill(&all, SIZE_MAX));
  return all;
}

Result<ImportSummary> ImportText(customer::CustomerStore& store, std::string_view text, const ImportOptions& options) {
  const auto start = Clock::now();
  RP_ASSIGN_OR_RETURN(auto catalog, store.ListAttributes());
  Pipeline p(text, options, catalog);
  RP_RETURN_IF_ERROR(p.Start());
  const size_t batch_size = options.batch_size > 0 ? static_cast<size_t>(options.batch_size) : 1000;

  ImportSummary summary;
  auto last_progress = Clock::now() - std::chrono::hours(1);
  auto reject = [&](RowError e) {
    ++summary.rejected;
    if (options.on_error) options.on_error(e);
    if (summary.errors.size() < options.max_errors_kept) summary.errors.push_back(std::move(e));
  };
  auto progress = [&](bool force) {
    if (!options.on_progress) return;
    auto now = Clock::now();
    if (!force && now - last_progress < std::chrono::milliseconds(options.progress_interval_ms)) return;
    last_progress = now;
    ImportProgress pr;
    pr.bytes_done = p.offset();
    pr.bytes_total = text.size();
    pr.rows_read = p.rows_read();
    pr.created = summary.created;
    pr.updated = summary.updated;
    pr.unchanged = summary.unchanged;
    pr.rejected = summary.rejected;
    pr.elapsed_seconds = SecondsSince(start);
    options.on_progress(pr);
  };
  // Merges the store's per-record errors with the mapper's, in line order.
  auto account = [&](MappedRows& batch, const customer::CustomerStore::BatchResult& result) {
    summary.created += result.created;
    summary.updated += result.updated;
    summary.unchanged += result.unchanged;
    ++summary.batches;
    std::vector<RowError> errors = std::move(batch.errors);
    for (size_t i = 0; i < result.errors.size() && i < batch.lines.size(); ++i) {
      if (result.errors[i].ok()) continue;
      errors.push_back(RowError{batch.lines[i], result.errors[i].field(), result.errors[i].message()});
    }
    std::stable_sort(errors.begin(), errors.end(), [](const RowError& a, const RowError& b) { return a.line < b.line; });
    for (auto& e : errors) reject(std::move(e));
  };

  // The store writes batch k on a second thread while batch k+1 is parsed
  // and prepared.
  using Prepared = customer::CustomerStore::PreparedCustomers;
  auto fill = [&](MappedRows* rows, Prepared* prepared) -> Status {
    RP_RETURN_IF_ERROR(p.Fill(rows, batch_size));
    if (options.entity == Entity::kCustomers && rows->size() > 0) {
      RP_ASSIGN_OR_RETURN(*prepared, store.PrepareCustomers(options.source, rows->customers));
    }
    return Status::Ok();
  };
  MappedRows current;
  Prepared current_prepared;
  RP_RETURN_IF_ERROR(fill(&current, &current_prepared));
  while (current.size() > 0 || !current.errors.empty()) {
    std::future<Result<customer::CustomerStore::BatchResult>> pending;
    if (current.size() > 0) {
      pending = std::async(std::launch::async, [&store, &options, &current, &current_prepared] {
        return WriteBatch(store, options, current, current_prepared);
      });
    }
    MappedRows next;
    Prepared next_prepared;
    Status filled = fill(&next, &next_prepared);
    if (pending.valid()) {
      auto result = pending.get();
      if (!result.ok()) {
        return Status(result.status().code(),
                      "import stopped after " + std::to_string(summary.created + summary.updated + summary.unchanged) +
                          " rows were written: " + result.status().message(),
                      result.status().field());
      }
      account(current, *result);
    } else {
      customer::CustomerStore::BatchResult none;
      account(current, none);
    }
    RP_RETURN_IF_ERROR(filled);
    summary.rows_read = p.rows_read();
    summary.elapsed_seconds = SecondsSince(start);
    progress(false);
    current = std::move(next);
    current_prepared = std::move(next_prepared);
  }
  summary.rows_read = p.rows_read();
  summary.elapsed_seconds = SecondsSince(start);
  progress(true);
  return summary;
}

namespace {

// A file's bytes: mapped when it is a regular file, read otherwise (pipes).
class FileText {
 public:
  ~FileText() {
    if (map_ != nullptr) munmap(map_, size_);
  }
  Status Open(const std::string& path) {
    if (path == "-") {
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      owned_ = ss.str();
      return Status::Ok();
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      std::string buf(1 << 16, '\0');
      ssize_t n;
      while ((n = ::read(fd, buf.data(), buf.size())) > 0) owned_.append(buf.data(), static_cast<size_t>(n));
      ::close(fd);
      return Status::Ok();
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        ::close(fd);
        return Status::Internal("cannot map " + path + ": " + std::strerror(errno));
      }
      madvise(m, size_, MADV_SEQUENTIAL);
      map_ = m;
    }
    ::close(fd);
    return Status::Ok();
  }
  std::string_view text() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), size_) : std::string_view(owned_);
  }

 private:
  void* map_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

}  // namespace

Result<ImportSummary> ImportFile(customer::CustomerStore& store, const std::string& path, const ImportOptions& options) {
  FileText file;
  RP_RETURN_IF_ERROR(file.Open(path));
  ImportOptions opts = options;
  if (!opts.format && !(opts.mapping && opts.mapping->format)) opts.format = FormatFromPath(path);
  return ImportText(store, file.text(), opts);
}

}  // namespace rapport::ingest
