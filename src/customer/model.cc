// Kinds, attribute types, value coercion and identifier normalization: the
// pure parts of the customer model, shared by every write path.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "common/text.h"
#include "customer/customer.h"

namespace rapport::customer {
namespace {

constexpr size_t kMaxIdentifierLength = 256;

Result<std::string> NormalizeEmail(std::string_view raw) {
  std::string e = text::AsciiLower(text::Trim(raw));
  size_t at = e.find('@');
  if (at == std::string::npos || e.find('@', at + 1) != std::string::npos) {
    return Status::InvalidArgument("an email address needs exactly one '@'");
  }
  if (at == 0) return Status::InvalidArgument("an email address needs a local part before '@'");
  for (char c : e) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("an email address cannot contain spaces");
    }
  }
  if (!text::IsValidUtf8(e)) return Status::InvalidArgument("an email address must be valid UTF-8");
  std::string_view domain = std::string_view(e).substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("the domain of an email address needs a dot (name@example.com)");
  }
  return e;
}

// International numbers ("+49 30 1234567", "0049 30 1234567") become E.164
// ("+49301234567"). A national number ("030 1234567") keeps its digits
// without a '+': which country it belongs to is not known here, and
// prefixing '+' would make it a different, wrong international number.
Result<std::string> NormalizePhone(std::string_view raw) {
  std::string_view s = text::Trim(raw);
  bool international = !s.empty() && s.front() == '+';
  if (international) s.remove_prefix(1);
  std::string digits;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.' && c != '/') {
      return Status::InvalidArgument("a phone number may hold only digits, a leading '+' and separators");
    }
  }
  if (!international && digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
    digits.erase(0, 2);
    international = true;
  }
  if (international && !digits.empty() && digits.front() == '0') {
    return Status::InvalidArgument("an international phone number cannot start with +0");
  }
  if (digits.size() < 7 || digits.size() > 15) {
    return Status::InvalidArgument("a phone number needs 7 to 15 digits");
  }
  return international ? "+" + digits : digits;
}

bool ValidScheme(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_' || c == '-' || c == '.';
  });
}

bool ValidDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  int64_t y = std::stoll(std::string(s.substr(0, 4)));
  if (!CheckYear(y).ok()) return false;
  unsigned m = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
  unsigned d = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  int64_t yy;
  unsigned mm, dd;
  CivilFromDays(DaysFromCivil(y, m, d), &yy, &mm, &dd);
  return yy == y && mm == m && dd == d;
}

const char* TypeOfValue(const AttributeValue& v) {
  switch (v.index()) {
    case 0: return "null";
    case 1: return "a string";
    case 2: return "an integer";
    case 3: return "a number";
    default: return "a boolean";
  }
}

}  // namespace

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kPerson: return "person";
    case Kind::kHousehold: return "household";
    case Kind::kOrganization: return "organization";
  }
  return "person";
}

Result<Kind> ParseKind(std::string_view s) {
  if (s == "person") return Kind::kPerson;
  if (s == "household") return Kind::kHousehold;
  if (s == "organization") return Kind::kOrganization;
  return Status::InvalidArgument("kind must be person, household or organization, not '" + std::string(s) + "'",
                                 "/kind");
}

std::string_view AttributeTypeName(AttributeType t) {
  switch (t) {
    case AttributeType::kString: return "string";
    case AttributeType::kNumber: return "number";
    case AttributeType::kInteger: return "integer";
    case AttributeType::kBoolean: return "boolean";
    case AttributeType::kDate: return "date";
    case AttributeType::kTimestamp: return "timestamp";
  }
  return "string";
}

Result<AttributeType> ParseAttributeType(std::string_view s) {
  for (AttributeType t : {AttributeType::kString, AttributeType::kNumber, AttributeType::kInteger,
                          AttributeType::kBoolean, AttributeType::kDate, AttributeType::kTimestamp}) {
    if (AttributeTypeName(t) == s) return t;
  }
  return Status::InvalidArgument(
      "type must be string, number, integer, boolean, date or timestamp, not '" + std::string(s) + "'", "/type");
}

Result<AttributeValue> CoerceAttribute(const AttributeDefinition& def, const AttributeValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return v;
  auto wrong = [&]() -> Status {
    return Status::InvalidArgument(def.name + " is " + std::string(AttributeTypeName(def.type)) + ", got " +
                                   TypeOfValue(v));
  };
  switch (def.type) {
    case AttributeType::kString: {
      auto* s = std::get_if<std::string>(&v);
      if (!s) return wrong();
      if (s->size() > 4096) return Status::InvalidArgument(def.name + " is longer than 4096 bytes");
      if (Status t = text::CheckText(*s, ""); !t.ok()) return Status::InvalidArgument(def.name + ": " + t.message());
      if (def.name == "email") {
        auto e = NormalizeEmail(*s);
        if (!e.ok()) return Status::InvalidArgument(e.status().message());
        return AttributeValue(std::move(*e));
      }
      if (def.name == "phone") {
        auto p = NormalizePhone(*s);
        if (!p.ok()) return Status::InvalidArgument(p.status().message());
        return AttributeValue(std::move(*p));
      }
      return v;
    }
    case AttributeType::kNumber: {
      if (auto* i = std::get_if<int64_t>(&v)) return AttributeValue(static_cast<double>(*i));
      auto* d = std::get_if<double>(&v);
      if (!d) return wrong();
      if (!std::isfinite(*d)) return Status::InvalidArgument(def.name + " must be a finite number");
      return v;
    }
    case AttributeType::kInteger: {
      if (std::holds_alternative<int64_t>(v)) return v;
      auto* d = std::get_if<double>(&v);
      if (d && std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e15) {
        return AttributeValue(static_cast<int64_t>(*d));
      }
      return wrong();
    }
    case AttributeType::kBoolean:
      if (!std::holds_alternative<bool>(v)) return wrong();
      return v;
    case AttributeType::kDate: {
      auto* s = std::get_if<std::string>(&v);
      if (!s) return wrong();
      if (!ValidDate(*s)) {
        YearRange years = AcceptedYears();
        return Status::InvalidArgument(def.name + " must be a date YYYY-MM-DD in the years " +
                                       std::to_string(years.min) + ".." + std::to_string(years.max) + ", got '" +
                                       text::ToValidUtf8(s->substr(0, 64)) + "'");
      }
      return v;
    }
    case AttributeType::kTimestamp: {
      auto* s = std::get_if<std::string>(&v);
      if (!s) return wrong();
      auto t = ParseRfc3339(*s);
      if (!t.ok()) return Status::InvalidArgument(def.name + ": " + t.status().message());
      return AttributeValue(FormatRfc3339(*t));
    }
  }
  return wrong();
}

Result<Identifier> ParseIdentifier(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("an identifier is written scheme:value, e.g. billing:88231");
  }
  return NormalizeIdentifier(Identifier{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))});
}

Result<Identifier> NormalizeIdentifier(Identifier id) {
  std::string scheme = text::AsciiLower(text::Trim(id.scheme));
  if (!ValidScheme(scheme)) {
    return Status::InvalidArgument("identifier scheme '" + id.scheme +
                                   "' must start with a letter and hold only a-z, 0-9, '_', '-', '.'");
  }
  Identifier out{scheme, {}};
  if (scheme == "email") {
    RP_ASSIGN_OR_RETURN(out.value, NormalizeEmail(id.value));
  } else if (scheme == "phone") {
    RP_ASSIGN_OR_RETURN(out.value, NormalizePhone(id.value));
  } else {
    out.value = std::string(text::Trim(id.value));
    if (out.value.empty()) return Status::InvalidArgument("identifier " + scheme + " has an empty value");
    // CR/LF or NUL in an id reach logs, CSV exports and other systems' keys.
    if (Status t = text::CheckIdentifier(out.value, ""); !t.ok()) {
      return Status::InvalidArgument("identifier " + scheme + ": " + t.message());
    }
  }
  if (out.value.size() > kMaxIdentifierLength) {
    return Status::InvalidArgument("identifier values are at most 256 bytes");
  }
  return out;
}

}  // namespace rapport::customer
