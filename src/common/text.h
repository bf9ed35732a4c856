#pragma once
// Rules for text that enters Rapport: every string is valid UTF-8 without
// NUL, and identifiers (ids, keys, names that other systems match on) hold
// no control characters. One home for the checks, so the JSON parser, the
// CSV/NDJSON importers, XML uploads and the model all apply the same rule.

#include <string>
#include <string_view>

#include "common/status.h"

namespace rapport::text {

// True when s is well-formed UTF-8 (no overlong forms, surrogates or code
// points beyond U+10FFFF).
bool IsValidUtf8(std::string_view s);

// s with every ill-formed UTF-8 sequence replaced by U+FFFD: for writers
// that must never emit invalid text, whatever is stored.
std::string ToValidUtf8(std::string_view s);

// At most max_bytes of s, cut at a character boundary, ill-formed UTF-8
// replaced: a short excerpt of text from elsewhere (a webhook receiver's
// answer) that is safe to store and serve.
std::string Excerpt(std::string_view s, size_t max_bytes);

// s without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r).
std::string_view Trim(std::string_view s);

// s with ASCII letters lowered; other bytes (UTF-8 included) kept.
std::string AsciiLower(std::string_view s);

// InvalidArgument naming `field` unless s is valid UTF-8 without NUL.
Status CheckText(std::string_view s, std::string_view field);

// CheckText, and no control character (U+0000..U+001F, U+007F..U+009F: CR,
// LF, TAB, NUL ...): for identifiers, keys and names.
Status CheckIdentifier(std::string_view s, std::string_view field);

}  // namespace rapport::text
