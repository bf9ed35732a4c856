// Mapping files: JSON documents that rename and type the columns of an export.
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "ingest/import.h"

namespace rapport::ingest {

std::string_view EntityName(Entity e) {
  switch (e) {
    case Entity::kCustomers: return "customers";
    case Entity::kAccounts: return "accounts";
    case Entity::kTransactions: return "transactions";
    case Entity::kInteractions: return "interactions";
  }
  return "customers";
}

Result<Entity> ParseEntity(std::string_view s) {
  for (Entity e : {Entity::kCustomers, Entity::kAccounts, Entity::kTransactions, Entity::kInteractions}) {
    if (s == EntityName(e)) return e;
  }
  return Status::InvalidArgument("unknown entity '" + std::string(s) +
                                 "' (customers, accounts, transactions, interactions)");
}

std::string_view FormatName(Format f) { return f == Format::kCsv ? "csv" : "ndjson"; }

Result<Format> ParseFormat(std::string_view s) {
  if (s == "csv") return Format::kCsv;
  if (s == "ndjson" || s == "jsonl") return Format::kNdjson;
  return Status::InvalidArgument("unknown format '" + std::string(s) + "' (csv, ndjson)");
}

Format FormatFromPath(std::string_view path) {
  for (std::string_view ext : {".ndjson", ".jsonl", ".json"}) {
    if (path.ends_with(ext)) return Format::kNdjson;
  }
  return Format::kCsv;
}

namespace {

using JsonValue = rapidjson::Value;

Status ReadString(const JsonValue& v, std::string_view where, std::string* out) {
  if (!v.IsString()) return Status::InvalidArgument("must be a string", std::string(where));
  out->assign(v.GetString(), v.GetStringLength());
  return Status::Ok();
}

Status ReadStringMap(const JsonValue& v, std::string_view where, std::map<std::string, std::string>* out) {
  if (!v.IsObject()) return Status::InvalidArgument("must be an object of strings", std::string(where));
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    std::string value;
    RP_RETURN_IF_ERROR(ReadString(it->value, std::string(where) + "/" + key, &value));
    (*out)[key] = value;
  }
  return Status::Ok();
}

// A column reference: "Column" or {"column": ..., "type": ..., ...}.
Status ReadRule(const std::string& field, const JsonValue& v, FieldRule* rule) {
  const std::string where = "/fields/" + field;
  rule->field = field;
  if (v.IsString()) {
    rule->column.assign(v.GetString(), v.GetStringLength());
    // An empty name is neither a column nor a constant (the import then read
    // a constant that was never given; found by the csv_import fuzzer).
    if (rule->column.empty()) return Status::InvalidArgument("a column name cannot be empty", where);
    return Status::Ok();
  }
  if (!v.IsObject()) return Status::InvalidArgument("must be a column name or an object", where);
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    const JsonValue& m = it->value;
    if (key == "column") {
      RP_RETURN_IF_ERROR(ReadString(m, where + "/column", &rule->column));
    } else if (key == "constant") {
      if (m.IsString()) {
        rule->constant = std::string(m.GetString(), m.GetStringLength());
      } else if (m.IsBool()) {
        rule->constant = m.GetBool() ? "true" : "false";
      } else if (m.IsInt64()) {
        rule->constant = std::to_string(m.GetInt64());
      } else if (m.IsNumber()) {
        std::ostringstream os;
        os.precision(17);
        os << m.GetDouble();
        rule->constant = os.str();
      } else {
        return Status::InvalidArgument("must be a string, number or boolean", where + "/constant");
      }
    } else if (key == "type") {
      RP_RETURN_IF_ERROR(ReadString(m, where + "/type", &rule->type));
      static constexpr std::string_view kTypes[] = {"string", "number", "integer", "boolean", "date", "timestamp"};
      bool known = false;
      for (auto t : kTypes) known = known || rule->type == t;
      if (!known) {
        return Status::InvalidArgument("unknown type '" + rule->type +
                                           "' (string, number, integer, boolean, date, timestamp)",
                                       where + "/type");
      }
    } else if (key == "format") {
      RP_RETURN_IF_ERROR(ReadString(m, where + "/format", &rule->format));
    } else if (key == "decimalComma") {
      if (!m.IsBool()) return Status::InvalidArgument("must be true or false", where + "/decimalComma");
      rule->decimal_comma = m.GetBool();
    } else if (key == "values") {
      RP_RETURN_IF_ERROR(ReadStringMap(m, where + "/values", &rule->values));
    } else {
      return Status::InvalidArgument("unknown key '" + std::string(key) + "'", where);
    }
  }
  if (rule->column.empty() && !rule->constant) {
    return Status::InvalidArgument("needs a column or a constant", where);
  }
  return Status::Ok();
}

}  // namespace

Result<Mapping> ParseMapping(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument(std::string("mapping is not valid JSON: ") +
                                   rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                                   std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Status::InvalidArgument("mapping must be a JSON object");
  Mapping m;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    const JsonValue& v = it->value;
    const std::string where = "/" + key;
    std::string s;
    if (key == "entity") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &s));
      auto e = ParseEntity(s);
      if (!e.ok()) return Status::InvalidArgument(e.status().message(), where);
      m.entity = *e;
    } else if (key == "format") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &s));
      auto f = ParseFormat(s);
      if (!f.ok()) return Status::InvalidArgument(f.status().message(), where);
      m.format = *f;
    } else if (key == "delimiter") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &s));
      if (s == "\\t" || s == "tab") s = "\t";
      if (s.size() != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r') {
        return Status::InvalidArgument("must be one character other than a quote or newline", where);
      }
      m.delimiter = s[0];
    } else if (key == "decimalComma") {
      if (!v.IsBool()) return Status::InvalidArgument("must be true or false", where);
      m.decimal_comma = v.GetBool();
    } else if (key == "dateFormat") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.date_format));
    } else if (key == "timestampFormat") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.timestamp_format));
    } else if (key == "sourceKey") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.source_key_column));
    } else if (key == "customerKey") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.customer_key_column));
    } else if (key == "customerScheme") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.customer_scheme));
    } else if (key == "customerIdentifier") {
      RP_RETURN_IF_ERROR(ReadString(v, where, &m.customer_identifier_column));
    } else if (key == "kind") {
      if (v.IsString()) {
        m.kind = std::string(v.GetString(), v.GetStringLength());
        auto k = customer::ParseKind(*m.kind);
        if (!k.ok()) return Status::InvalidArgument(k.status().message(), where);
      } else if (v.IsObject()) {
        for (auto k = v.MemberBegin(); k != v.MemberEnd(); ++k) {
          std::string_view kk(k->name.GetString(), k->name.GetStringLength());
          if (kk == "column") {
            RP_RETURN_IF_ERROR(ReadString(k->value, where + "/column", &m.kind_column));
          } else if (kk == "values") {
            RP_RETURN_IF_ERROR(ReadStringMap(k->value, where + "/values", &m.kind_values));
          } else {
            return Status::InvalidArgument("unknown key '" + std::string(kk) + "'", where);
          }
        }
        if (m.kind_column.empty()) return Status::InvalidArgument("needs a column", where);
      } else {
        return Status::InvalidArgument("must be a kind or {\"column\": ...}", where);
      }
    } else if (key == "fields") {
      if (!v.IsObject()) return Status::InvalidArgument("must be an object", where);
      for (auto f = v.MemberBegin(); f != v.MemberEnd(); ++f) {
        FieldRule rule;
        RP_RETURN_IF_ERROR(ReadRule(std::string(f->name.GetString(), f->name.GetStringLength()), f->value, &rule));
        m.fields.push_back(std::move(rule));
      }
    } else if (key == "identifiers") {
      if (!v.IsObject()) return Status::InvalidArgument("must be an object of scheme: column", where);
      for (auto f = v.MemberBegin(); f != v.MemberEnd(); ++f) {
        IdentifierRule rule;
        rule.scheme.assign(f->name.GetString(), f->name.GetStringLength());
        RP_RETURN_IF_ERROR(ReadString(f->value, where + "/" + rule.scheme, &rule.column));
        m.identifiers.push_back(std::move(rule));
      }
    } else if (key == "unmappedToProperties") {
      if (!v.IsBool()) return Status::InvalidArgument("must be true or false", where);
      m.unmapped_to_properties = v.GetBool();
    } else if (key == "description" || key == "$comment") {
      // Free text for the people who maintain the mapping.
    } else {
      return Status::InvalidArgument("unknown key '" + key + "'", where);
    }
  }
  return m;
}

Result<Mapping> LoadMapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open mapping file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto m = ParseMapping(ss.str());
  if (!m.ok()) {
    return Status(m.status().code(), path + ": " + m.status().message(), m.status().field());
  }
  return m;
}

}  // namespace rapport::ingest
