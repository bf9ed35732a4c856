#include "common/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/text.h"

namespace rapport::json {
namespace {

// What a scan before parsing found wrong: hostile input must never reach a
// recursive reader or writer, nor rapidjson 1.1's full-precision number
// parser with a fraction of more than ~340 leading zeros ("0.000...01"),
// which reads outside its table of powers of ten. No real number needs more
// than a few dozen characters. Three more of that parser's faults are
// stepped around by rewriting the literal in place (same length, so error
// offsets hold): zeros with large exponents, values below 1e-325, and
// significands that wrap its uint64 (ZeroRewriteLength, WrappingDigit).
struct Unsafe {
  enum class What { kNone, kTooDeep, kNumberTooLong } what = What::kNone;
  size_t offset = 0;
  // A "\u0000" or a surrogate escape ("\ud83d"): the strings are checked
  // after parsing, since rapidjson lets both through (a lone surrogate
  // becomes ill-formed UTF-8). Rare, so the common document is not walked.
  bool suspicious_escape = false;
  std::vector<size_t> wrapping_digits;  // offsets of digits to lower (see WrappingDigit)
};

bool IsSuspiciousEscape(std::string_view text, size_t backslash) {
  if (backslash + 5 >= text.size() || text[backslash + 1] != 'u') return false;
  std::string_view hex = text.substr(backslash + 2, 4);
  if (hex == "0000") return true;
  char lead = hex[1];
  return (hex[0] == 'd' || hex[0] == 'D') &&
         ((lead >= '8' && lead <= '9') || (lead >= 'a' && lead <= 'f') || (lead >= 'A' && lead <= 'F'));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the number literal that starts text when json::Parse reads
// it as a zero ("0.0" or "-0.0" padded with spaces, the same length), or 0.
// rapidjson 1.1's full-precision parser mishandles two kinds of literal:
// - a zero with a fraction or an exponent ("0.0e140", "-0.000", "0e-30"): it
//   is handed to a normalization that passes 0 to __builtin_clzll (undefined
//   behaviour) when its decimal exponent is beyond the fast path's +-22;
// - a value below 1e-325 in magnitude, which a double rounds to zero: with
//   many digits ("1.0999...9e-333") its power of ten is looked up below the
//   table (10^-348), an index that wraps and reads outside it.
// A malformed literal (no digits after '.' or 'e', a leading zero before
// more digits) is left alone: rapidjson rejects it before converting.
size_t ZeroRewriteLength(std::string_view text) {
  size_t j = 0;
  if (j < text.size() && text[j] == '-') ++j;
  size_t int_begin = j;
  while (j < text.size() && IsDigit(text[j])) ++j;
  size_t int_end = j;
  if (int_end == int_begin || (text[int_begin] == '0' && int_end - int_begin > 1)) return 0;
  int64_t first = INT64_MIN;  // the power of ten of the first nonzero digit
  for (size_t k = int_begin; k < int_end && first == INT64_MIN; ++k) {
    if (text[k] != '0') first = static_cast<int64_t>(int_end - k) - 1;
  }
  bool frac = false, exp = false;
  if (j < text.size() && text[j] == '.') {
    size_t begin = ++j;
    while (j < text.size() && IsDigit(text[j])) ++j;
    if (j == begin) return 0;
    for (size_t k = begin; k < j && first == INT64_MIN; ++k) {
      if (text[k] != '0') first = -static_cast<int64_t>(k - begin) - 1;
    }
    frac = true;
  }
  int64_t e = 0;
  if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
    size_t k = j + 1;
    bool minus = k < text.size() && text[k] == '-';
    if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
    size_t digits = k;
    for (; k < text.size() && IsDigit(text[k]); ++k) {
      if (e < 1'000'000) e = e * 10 + (text[k] - '0');
    }
    if (k == digits) return 0;
    if (minus) e = -e;
    exp = true;
    j = k;
  }
  if (first == INT64_MIN) return frac || exp ? j : 0;
  return first + e < -325 ? j : 0;
}

// The offset of the digit to lower in the number literal that starts text,
// or npos. rapidjson 1.1's full-precision parser takes up to 20 significant
// digits into a uint64 and rounds it up when the next digit is 5 or more; with
// the digits 18446744073709551615 (2^64 - 1) the increment wraps to 0, which
// reaches the same __builtin_clzll(0) (fixed upstream after 1.1). Lowering
// that 21st digit to 4 changes the value by less than 1e-20 of itself, far
// below a double's precision, and keeps every offset.
size_t WrappingDigit(std::string_view text) {
  static constexpr std::string_view kMax = "18446744073709551615";
  size_t j = 0, significant = 0;
  if (j < text.size() && text[j] == '-') ++j;
  for (; j < text.size() && (IsDigit(text[j]) || text[j] == '.'); ++j) {
    if (text[j] == '.') continue;
    if (significant == 0 && text[j] == '0') continue;  // leading zeros
    if (significant == kMax.size()) return text[j] >= '5' ? j : std::string_view::npos;
    if (text[j] != kMax[significant]) return std::string_view::npos;
    ++significant;
  }
  return std::string_view::npos;
}

// One pass over the text, outside strings: brackets nested deeper than
// max_depth, number literals longer than max_number_chars, and zero literals
// to rewrite (see ZeroRewriteLength), as (offset, length).
Unsafe FindUnsafe(std::string_view text, int max_depth, size_t max_number_chars,
                  std::vector<std::pair<size_t, size_t>>* zeros) {
  Unsafe found;
  int depth = 0;
  bool in_string = false;
  size_t run = 0;  // characters of the number literal being read
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (IsSuspiciousEscape(text, i)) found.suspicious_escape = true;
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (IsDigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
      if (run == 0 && (c == '-' || IsDigit(c))) {
        if (size_t n = ZeroRewriteLength(text.substr(i, max_number_chars + 1)); n > 3) {
          zeros->emplace_back(i, n);
        } else if (size_t d = WrappingDigit(text.substr(i, max_number_chars + 1)); d != std::string_view::npos) {
          found.wrapping_digits.push_back(i + d);
        }
      }
      if (++run > max_number_chars) return {Unsafe::What::kNumberTooLong, i + 1 - run, false, {}};
      continue;
    }
    run = 0;
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return {Unsafe::What::kTooDeep, i, false, {}};
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return found;
}

// The first string (value or member name) in v that is not valid UTF-8 or
// holds a NUL, as InvalidArgument naming it; Ok when there is none. Depth is
// bounded by the parse limit already checked.
Status CheckStrings(const rapidjson::Value& v, const std::string& pointer) {
  if (v.IsString()) return text::CheckText(std::string_view(v.GetString(), v.GetStringLength()), pointer);
  if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) RP_RETURN_IF_ERROR(CheckStrings(v[i], Child(pointer, i)));
  } else if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      std::string_view name(m->name.GetString(), m->name.GetStringLength());
      if (Status s = text::CheckText(name, pointer); !s.ok()) {
        return Status::InvalidArgument("a member name: " + s.message(), pointer);
      }
      RP_RETURN_IF_ERROR(CheckStrings(m->value, Child(pointer, name)));
    }
  }
  return Status::Ok();
}

std::string Lowercase(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

Result<std::unique_ptr<rapidjson::Document>> Parse(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::PayloadTooLarge("the JSON document is " + std::to_string(text.size()) + " bytes; the limit is " +
                                   std::to_string(limits.max_bytes));
  }
  constexpr size_t kMaxNumberChars = 128;
  std::vector<std::pair<size_t, size_t>> zeros;
  Unsafe unsafe = FindUnsafe(text, limits.max_depth, kMaxNumberChars, &zeros);
  switch (unsafe.what) {
    case Unsafe::What::kNone: break;
    case Unsafe::What::kTooDeep:
      return Status::InvalidArgument("malformed JSON at offset " + std::to_string(unsafe.offset) +
                                     ": nesting deeper than " + std::to_string(limits.max_depth) + " levels");
    case Unsafe::What::kNumberTooLong:
      return Status::InvalidArgument("malformed JSON at offset " + std::to_string(unsafe.offset) +
                                     ": a number longer than " + std::to_string(kMaxNumberChars) + " characters");
  }
  auto doc = std::make_unique<rapidjson::Document>();
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;
  std::string rewritten;
  if (!zeros.empty() || !unsafe.wrapping_digits.empty()) {
    // Each zero becomes "0.0" or "-0.0" padded with spaces: the same value,
    // still a double, and every offset in an error message unchanged.
    rewritten.assign(text);
    for (auto [at, n] : zeros) {
      std::string_view zero = rewritten[at] == '-' ? "-0.0" : "0.0";
      rewritten.replace(at, n, std::string(zero) + std::string(n - zero.size(), ' '));
    }
    for (size_t at : unsafe.wrapping_digits) rewritten[at] = '4';
    text = rewritten;
  }
  doc->Parse<kFlags>(text.data(), text.size());
  if (doc->HasParseError() && doc->GetParseError() == rapidjson::kParseErrorStringInvalidEncoding) {
    // Name the string: parsed again without the check, the first bad
    // string is found by walking the document.
    rapidjson::Document lax;
    lax.Parse<kFlags & ~rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (!lax.HasParseError()) {
      Status bad = CheckStrings(lax, "");
      if (!bad.ok()) return bad;
    }
  }
  if (doc->HasParseError()) {
    return Status::InvalidArgument("malformed JSON at offset " + std::to_string(doc->GetErrorOffset()) + ": " +
                                   Lowercase(rapidjson::GetParseError_En(doc->GetParseError())));
  }
  if (unsafe.suspicious_escape) RP_RETURN_IF_ERROR(CheckStrings(*doc, ""));
  return doc;
}

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Child(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out += '/';
  out += EscapePointerToken(token);
  return out;
}

std::string Child(std::string_view pointer, size_t index) { return std::string(pointer) + "/" + std::to_string(index); }

std::string_view TypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "a value";
}

// ---- ObjectReader -------------------------------------------------------------

ObjectReader::ObjectReader(const rapidjson::Value* object, std::string pointer)
    : object_(object), pointer_(std::move(pointer)) {}

Result<ObjectReader> ObjectReader::Of(const rapidjson::Value& v, std::string pointer) {
  if (!v.IsObject()) {
    return Status::InvalidArgument("expected an object, got " + std::string(TypeName(v)), pointer);
  }
  return ObjectReader(&v, std::move(pointer));
}

const rapidjson::Value* ObjectReader::FindRaw(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_->FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == object_->MemberEnd()) return nullptr;
  return &it->value;
}

const rapidjson::Value* ObjectReader::Find(std::string_view key) {
  const rapidjson::Value* v = FindRaw(key);
  return v == nullptr || v->IsNull() ? nullptr : v;
}

bool ObjectReader::Has(std::string_view key) const {
  return object_->FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size()))) != object_->MemberEnd();
}

namespace {
Status Missing(const ObjectReader& r, std::string_view key) {
  return Status::InvalidArgument("a value is required", r.Pointer(key));
}
Status Expected(const ObjectReader& r, std::string_view key, std::string_view what, const rapidjson::Value& got) {
  return Status::InvalidArgument("expected " + std::string(what) + ", got " + std::string(TypeName(got)),
                                 r.Pointer(key));
}
}  // namespace

Status ObjectReader::String(std::string_view key, std::string* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsString()) return Expected(*this, key, "a string", *v);
  out->assign(v->GetString(), v->GetStringLength());
  return Status::Ok();
}

Status ObjectReader::Int64(std::string_view key, int64_t* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsInt64()) return Expected(*this, key, "an integer", *v);
  *out = v->GetInt64();
  return Status::Ok();
}

Status ObjectReader::Int64(std::string_view key, std::optional<int64_t>* out) {
  if (Find(key) == nullptr) return Status::Ok();
  int64_t v = 0;
  RP_RETURN_IF_ERROR(Int64(key, &v, Need::kRequired));
  *out = v;
  return Status::Ok();
}

Status ObjectReader::Double(std::string_view key, double* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsNumber()) return Expected(*this, key, "a number", *v);
  *out = v->GetDouble();
  return Status::Ok();
}

Status ObjectReader::Money(std::string_view key, rapport::Money* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsNumber()) return Expected(*this, key, "a decimal number", *v);
  // Integers exactly as sent; other numbers through the shortest text of
  // their double, which is their own digits for every amount within range.
  Result<rapport::Money> m = v->IsInt64() ? rapport::Money::Parse(std::to_string(v->GetInt64()))
                                          : rapport::Money::FromDouble(v->GetDouble());
  if (!m.ok()) return Status::InvalidArgument(m.status().message(), Pointer(key));
  *out = *m;
  return Status::Ok();
}

Status ObjectReader::Bool(std::string_view key, bool* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsBool()) return Expected(*this, key, "a boolean", *v);
  *out = v->GetBool();
  return Status::Ok();
}

Status ObjectReader::Time(std::string_view key, Timestamp* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsString()) return Expected(*this, key, "an RFC 3339 timestamp string", *v);
  auto t = ParseRfc3339(std::string_view(v->GetString(), v->GetStringLength()));
  if (!t.ok()) return Status::InvalidArgument(t.status().message(), Pointer(key));
  *out = *t;
  return Status::Ok();
}

Status ObjectReader::Time(std::string_view key, std::optional<Timestamp>* out) {
  if (Find(key) == nullptr) return Status::Ok();
  Timestamp t;
  RP_RETURN_IF_ERROR(Time(key, &t, Need::kRequired));
  *out = t;
  return Status::Ok();
}

Status ObjectReader::Strings(std::string_view key, std::vector<std::string>* out, Need need) {
  const rapidjson::Value* v = Find(key);
  if (v == nullptr) return need == Need::kRequired ? Missing(*this, key) : Status::Ok();
  if (!v->IsArray()) return Expected(*this, key, "an array of strings", *v);
  out->clear();
  std::string base = Pointer(key);
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const rapidjson::Value& e = (*v)[i];
    if (!e.IsString()) {
      return Status::InvalidArgument("expected a string, got " + std::string(TypeName(e)), Child(base, i));
    }
    out->emplace_back(e.GetString(), e.GetStringLength());
  }
  return Status::Ok();
}

Status ObjectReader::Finish() const {
  std::vector<std::string_view> seen;
  for (auto it = object_->MemberBegin(); it != object_->MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return Status::InvalidArgument("duplicate field", Pointer(name));
    }
    seen.push_back(name);
    if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
      return Status::InvalidArgument("unknown field", Pointer(name));
    }
  }
  return Status::Ok();
}

// ---- Writer --------------------------------------------------------------------

Writer::Writer() : writer_(buffer_) {}

Writer& Writer::StartObject() {
  writer_.StartObject();
  return *this;
}
Writer& Writer::EndObject() {
  writer_.EndObject();
  return *this;
}
Writer& Writer::StartArray() {
  writer_.StartArray();
  return *this;
}
Writer& Writer::EndArray() {
  writer_.EndArray();
  return *this;
}
Writer& Writer::Key(std::string_view key) {
  if (!text::IsValidUtf8(key)) {
    std::string valid = text::ToValidUtf8(key);
    writer_.Key(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    return *this;
  }
  writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  return *this;
}
Writer& Writer::String(std::string_view s) {
  if (!text::IsValidUtf8(s)) {
    std::string valid = text::ToValidUtf8(s);
    writer_.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    return *this;
  }
  writer_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return *this;
}
Writer& Writer::Money(rapport::Money m) {
  std::string digits = m.ToString();
  writer_.RawValue(digits.data(), digits.size(), rapidjson::kNumberType);
  return *this;
}
Writer& Writer::Int(int64_t v) {
  writer_.Int64(v);
  return *this;
}
Writer& Writer::Double(double v) {
  if (std::isfinite(v)) {
    writer_.Double(v);
  } else {
    writer_.Null();
  }
  return *this;
}
Writer& Writer::DecimalDouble(double v) {
  if (!std::isfinite(v)) return Null();
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%.15g", v);
  std::string_view text(buf, static_cast<size_t>(n));
  // %g writes "1e+20" and "-0": both valid JSON numbers.
  writer_.RawValue(text.data(), text.size(), rapidjson::kNumberType);
  return *this;
}
Writer& Writer::Bool(bool b) {
  writer_.Bool(b);
  return *this;
}
Writer& Writer::Null() {
  writer_.Null();
  return *this;
}
Writer& Writer::Raw(std::string_view json) {
  writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}
Writer& Writer::Value(const rapidjson::Value& v) {
  v.Accept(writer_);
  return *this;
}
Writer& Writer::TimeField(std::string_view key, Timestamp t) { return Key(key).String(FormatRfc3339(t)); }
Writer& Writer::TimeField(std::string_view key, const std::optional<Timestamp>& t) {
  Key(key);
  return t ? String(FormatRfc3339(*t)) : Null();
}

std::string Writer::Take() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

}  // namespace rapport::json
