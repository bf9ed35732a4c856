#include "customer/internal/codec.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace rapport::customer::internal {

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void EncodeAttributes(const AttributeMap& attributes, std::string* out, bool keep_removals) {
  out->push_back('{');
  bool first = true;
  char buf[32];
  for (const auto& [name, value] : attributes) {
    if (!keep_removals && std::holds_alternative<std::monostate>(value)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    switch (value.index()) {
      case 0: out->append("null"); break;
      case 1: AppendJsonString(out, std::get<std::string>(value)); break;
      case 2: {
        auto r = std::to_chars(buf, buf + sizeof buf, std::get<int64_t>(value));
        out->append(buf, r.ptr);
        break;
      }
      case 3: {
        // Shortest text that reads back to the same double.
        auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(value));
        out->append(buf, r.ptr);
        break;
      }
      default: out->append(std::get<bool>(value) ? "true" : "false");
    }
  }
  out->push_back('}');
}

Result<AttributeMap> DecodeAttributes(std::string_view json, const Catalog& catalog) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::Internal("stored attributes are not a JSON object");
  }
  AttributeMap out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    AttributeValue value;
    if (v.IsNull()) {
      value = std::monostate{};
    } else if (v.IsString()) {
      value = std::string(v.GetString(), v.GetStringLength());
    } else if (v.IsBool()) {
      value = v.GetBool();
    } else if (v.IsNumber()) {
      auto def = catalog.find(name);
      bool want_int = def != catalog.end() ? def->second.type == AttributeType::kInteger : v.IsInt64();
      if (want_int && v.IsInt64()) {
        value = static_cast<int64_t>(v.GetInt64());
      } else {
        value = v.GetDouble();
      }
    } else {
      return Status::Internal("stored attribute " + name + " has a nested value");
    }
    out.insert_or_assign(std::move(name), std::move(value));
  }
  return out;
}

bool IsJsonObject(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

std::string DisplayName(const AttributeMap& attributes) {
  auto text = [&](const char* key) -> std::string_view {
    auto it = attributes.find(key);
    if (it == attributes.end()) return {};
    if (auto* s = std::get_if<std::string>(&it->second)) return *s;
    return {};
  };
  std::string_view name = text("name");
  if (!name.empty()) return std::string(name);
  std::string_view first = text("firstName"), last = text("lastName");
  std::string out(first);
  if (!first.empty() && !last.empty()) out.push_back(' ');
  out.append(last);
  return out;
}

void AppendWords(std::string_view text, std::vector<std::string>* out) {
  std::string word;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else if (!word.empty()) {
      out->push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out->push_back(std::move(word));
}

std::vector<std::string> SearchTokens(std::string_view display_name, std::string_view email,
                                      std::string_view phone) {
  std::vector<std::string> tokens;
  AppendWords(display_name, &tokens);
  if (!email.empty()) tokens.emplace_back(email);
  if (!phone.empty()) tokens.emplace_back(phone);
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

std::vector<std::string> StoredSearchTokens(std::vector<std::string> tokens, const std::vector<Identifier>& ids) {
  std::erase_if(tokens, [&](const std::string& t) {
    return std::any_of(ids.begin(), ids.end(), [&](const Identifier& i) {
      return (i.scheme == "email" || i.scheme == "phone") && i.value == t;
    });
  });
  return tokens;
}

bool MayBeIdentifierValue(std::string_view token) {
  if (token.find('@') != std::string_view::npos) return true;
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c == '+' || (c >= '0' && c <= '9'); });
}

}  // namespace rapport::customer::internal
