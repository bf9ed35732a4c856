#include "common/text.h"

#include <algorithm>
#include <cctype>

namespace rapport::text {
namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629, Table 3-7
// of the Unicode standard), or 0 when it is ill-formed. *cp gets its code point.
size_t SequenceAt(std::string_view s, size_t i, char32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  char32_t v = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (b(k) & 0x3F);
  *cp = v;
  return n;
}

enum class Flaw { kNone, kEncoding, kNul, kControl };

Flaw FirstFlaw(std::string_view s, bool controls) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {  // the common case, one byte at a time
      ++i;
      continue;
    }
    char32_t cp = 0;
    size_t n = SequenceAt(s, i, &cp);
    if (n == 0) return Flaw::kEncoding;
    if (cp == 0) return Flaw::kNul;
    if (controls && (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))) return Flaw::kControl;
    i += n;
  }
  return Flaw::kNone;
}

Status Check(std::string_view s, std::string_view field, bool controls) {
  switch (FirstFlaw(s, controls)) {
    case Flaw::kNone: return Status::Ok();
    case Flaw::kEncoding: return Status::InvalidArgument("the text is not valid UTF-8", std::string(field));
    case Flaw::kNul: return Status::InvalidArgument("the text holds a NUL character", std::string(field));
    case Flaw::kControl:
      return Status::InvalidArgument("an identifier cannot hold control characters (CR, LF, TAB ...)",
                                     std::string(field));
  }
  return Status::Ok();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    size_t n = SequenceAt(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t n = SequenceAt(s, i, &cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, for one ill-formed byte
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status CheckText(std::string_view s, std::string_view field) { return Check(s, field, false); }

Status CheckIdentifier(std::string_view s, std::string_view field) { return Check(s, field, true); }

}  // namespace rapport::text

namespace rapport::text {

std::string Excerpt(std::string_view s, size_t max_bytes) {
  std::string valid = ToValidUtf8(s.substr(0, std::min(s.size(), max_bytes + 4)));
  if (valid.size() <= max_bytes) return valid;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;  // back to a lead byte
  valid.resize(cut);
  return valid;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace rapport::text
