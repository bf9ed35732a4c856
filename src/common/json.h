#pragma once
// Strict JSON for request bodies, on RapidJSON: parsing with a size and depth
// limit, typed field reads whose errors name the field as a JSON pointer
// ("/attributes/email"), rejection of unknown and duplicate fields, and a
// small writer. Shared by the server's decoders and the ingest module.
// Readers and writers are single-threaded values.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"

namespace rapport::json {

struct ParseLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 64;  // nesting of arrays and objects
};

// Parses text as one JSON value. Errors are InvalidArgument with the byte
// offset in the message ("malformed JSON at offset 17: missing a comma ..."),
// or PayloadTooLarge when text exceeds limits.max_bytes. Every string is
// valid UTF-8 without NUL: a string that is not (raw bytes, "\u0000", a lone
// surrogate escape) is InvalidArgument naming it as a JSON pointer.
Result<std::unique_ptr<rapidjson::Document>> Parse(std::string_view text, const ParseLimits& limits = {});

// "a/b" -> "a~1b", "m~n" -> "m~0n" (RFC 6901).
std::string EscapePointerToken(std::string_view token);
// pointer + "/" + escaped token.
std::string Child(std::string_view pointer, std::string_view token);
std::string Child(std::string_view pointer, size_t index);

// "a string", "a number", "an object" ... for error messages.
std::string_view TypeName(const rapidjson::Value& v);

enum class Need { kOptional, kRequired };

// Reads the members of one JSON object by name. Every read marks its member
// as known; Finish() then rejects any member nobody read, so a typo in a
// request ("emial") is an error instead of being silently dropped. An
// explicit null reads like an absent optional member.
class ObjectReader {
 public:
  // InvalidArgument("expected an object", pointer) unless v is an object.
  static Result<ObjectReader> Of(const rapidjson::Value& v, std::string pointer);

  // The member, or nullptr when absent (or null). Marks it as known.
  const rapidjson::Value* Find(std::string_view key);
  // Marks key known and returns it even when it is null; nullptr when absent.
  const rapidjson::Value* FindRaw(std::string_view key);
  bool Has(std::string_view key) const;

  Status String(std::string_view key, std::string* out, Need need = Need::kOptional);
  Status Int64(std::string_view key, int64_t* out, Need need = Need::kOptional);
  Status Int64(std::string_view key, std::optional<int64_t>* out);
  Status Double(std::string_view key, double* out, Need need = Need::kOptional);
  // A JSON number that is an amount of money (see Money: at most four
  // decimal places, |amount| <= 10^11), read exactly.
  Status Money(std::string_view key, rapport::Money* out, Need need = Need::kOptional);
  Status Bool(std::string_view key, bool* out, Need need = Need::kOptional);
  // An RFC 3339 timestamp string.
  Status Time(std::string_view key, Timestamp* out, Need need = Need::kOptional);
  Status Time(std::string_view key, std::optional<Timestamp>* out);
  // An array of strings.
  Status Strings(std::string_view key, std::vector<std::string>* out, Need need = Need::kOptional);

  // InvalidArgument("unknown field", "/x/typo") for the first member not read,
  // or "duplicate field" when a name occurs twice.
  Status Finish() const;

  // The JSON pointer of a member of this object.
  std::string Pointer(std::string_view key) const { return Child(pointer_, key); }
  const std::string& pointer() const { return pointer_; }

 private:
  ObjectReader(const rapidjson::Value* object, std::string pointer);
  const rapidjson::Value* object_;
  std::string pointer_;
  std::vector<std::string> known_;
};

// Builds a compact JSON document. Non-finite doubles are written as null
// (JSON has no NaN). Strings and keys that are not valid UTF-8 (data stored
// before it was checked) are written with U+FFFD for each bad byte, so the
// document is always valid JSON.
class Writer {
 public:
  Writer();
  Writer& StartObject();
  Writer& EndObject();
  Writer& StartArray();
  Writer& EndArray();
  Writer& Key(std::string_view key);
  Writer& String(std::string_view s);
  Writer& Int(int64_t v);
  Writer& Double(double v);
  // An exact decimal number: 753811.93, never 753811.9299999997.
  Writer& Money(rapport::Money m);
  // A double that stands for a decimal (a sum or mean of amounts over many
  // rows), with the 15 significant digits a double holds, so float noise
  // from adding does not show (753811.93, not 753811.9299999997); null when
  // not finite.
  Writer& DecimalDouble(double v);
  Writer& Bool(bool b);
  Writer& Null();
  // Inserts already-serialized JSON (a value provided by another module).
  Writer& Raw(std::string_view json);
  // Copies a parsed value.
  Writer& Value(const rapidjson::Value& v);

  // Key + value shorthands.
  Writer& Field(std::string_view key, std::string_view s) { return Key(key).String(s); }
  Writer& Field(std::string_view key, const char* s) { return Key(key).String(s); }
  Writer& Field(std::string_view key, const std::string& s) { return Key(key).String(s); }
  Writer& Field(std::string_view key, int64_t v) { return Key(key).Int(v); }
  Writer& Field(std::string_view key, int v) { return Key(key).Int(v); }
  Writer& Field(std::string_view key, double v) { return Key(key).Double(v); }
  Writer& Field(std::string_view key, rapport::Money m) { return Key(key).Money(m); }
  Writer& Field(std::string_view key, bool v) { return Key(key).Bool(v); }
  Writer& TimeField(std::string_view key, Timestamp t);
  Writer& TimeField(std::string_view key, const std::optional<Timestamp>& t);

  std::string Take() const;  // the document written so far

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace rapport::json
