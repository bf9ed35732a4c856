// The strict JSON helpers in common/json.h, tested here with the server that
// is their first user.

#include "common/json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace rapport::json {
namespace {

std::unique_ptr<rapidjson::Document> MustParse(std::string_view text) {
  auto d = Parse(text);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(*d) : std::make_unique<rapidjson::Document>();
}

TEST(JsonParseTest, MalformedJsonNamesTheOffset) {
  struct Case {
    const char* text;
    const char* offset;
  };
  for (const Case& c : std::vector<Case>{{R"({"a":1 "b":2})", "offset 7"},
                                         {R"({"a":)", "offset 5"},
                                         {"[1,2]x", "offset 5"},
                                         {"", "offset 0"},
                                         {"NaN", "offset 0"}}) {
    auto d = Parse(c.text);
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(c.offset), std::string::npos) << c.text << ": " << d.status().message();
  }
}

// Invalid UTF-8 is named by the string that holds it, not by a byte offset.
TEST(JsonParseTest, InvalidUtf8NamesTheString) {
  auto d = Parse("{\"a\":\"\xff\"}");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().field(), "/a") << d.status().ToString();
}

TEST(JsonParseTest, LimitsSizeAndDepth) {
  ParseLimits limits;
  limits.max_bytes = 8;
  EXPECT_EQ(Parse(R"({"a":"long"})", limits).status().code(), StatusCode::kPayloadTooLarge);
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto d = Parse(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("offset 64"), std::string::npos) << d.status().message();
  // Brackets inside strings do not count.
  EXPECT_TRUE(Parse("[\"" + std::string(100, '[') + "\"]").ok());
}

TEST(ObjectReaderTest, ReadsTypedFieldsAndRejectsUnknownOnes) {
  auto d = MustParse(R"({"name":"Ada","n":42,"x":1.5,"ok":true,"at":"2026-03-01T12:00:00+02:00","tags":["a","b"]})");
  auto r = ObjectReader::Of(*d, "");
  ASSERT_TRUE(r.ok());
  std::string name;
  int64_t n = 0;
  double x = 0;
  bool ok = false;
  Timestamp at;
  std::vector<std::string> tags;
  EXPECT_TRUE(r->String("name", &name, Need::kRequired).ok());
  EXPECT_TRUE(r->Int64("n", &n).ok());
  EXPECT_TRUE(r->Double("x", &x).ok());
  EXPECT_TRUE(r->Bool("ok", &ok).ok());
  EXPECT_TRUE(r->Time("at", &at).ok());
  EXPECT_FALSE(r->Finish().ok());  // "tags" not read yet
  EXPECT_EQ(r->Finish().field(), "/tags");
  EXPECT_TRUE(r->Strings("tags", &tags).ok());
  EXPECT_TRUE(r->Finish().ok());
  EXPECT_EQ(name, "Ada");
  EXPECT_EQ(n, 42);
  EXPECT_EQ(x, 1.5);
  EXPECT_TRUE(ok);
  EXPECT_EQ(FormatRfc3339(at), "2026-03-01T10:00:00Z");
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b"}));
}

TEST(ObjectReaderTest, ErrorsNameTheFieldAsAJsonPointer) {
  auto d = MustParse(R"({"a/b":{"s":1,"i":1.5,"t":"yesterday","l":["x",2]},"dup":1,"dup":2})");
  auto outer = ObjectReader::Of(*d, "");
  ASSERT_TRUE(outer.ok());
  const rapidjson::Value* inner_value = outer->Find("a/b");
  ASSERT_NE(inner_value, nullptr);
  auto inner = ObjectReader::Of(*inner_value, outer->Pointer("a/b"));
  ASSERT_TRUE(inner.ok());
  std::string s;
  int64_t i = 0;
  Timestamp t;
  std::vector<std::string> l;
  Status st = inner->String("s", &s);
  EXPECT_EQ(st.field(), "/a~1b/s");
  EXPECT_EQ(st.message(), "expected a string, got a number");
  EXPECT_EQ(inner->Int64("i", &i).field(), "/a~1b/i");
  EXPECT_EQ(inner->Time("t", &t).field(), "/a~1b/t");
  EXPECT_EQ(inner->Strings("l", &l).field(), "/a~1b/l/1");
  EXPECT_EQ(inner->String("missing", &s, Need::kRequired).field(), "/a~1b/missing");
  EXPECT_TRUE(inner->String("absent", &s).ok());
  outer->Find("dup");
  EXPECT_EQ(outer->Finish().message(), "duplicate field");
  EXPECT_EQ(ObjectReader::Of(rapidjson::Value(rapidjson::kArrayType), "/x").status().field(), "/x");
}

TEST(ObjectReaderTest, NullReadsAsAbsent) {
  auto d = MustParse(R"({"a":null})");
  auto r = ObjectReader::Of(*d, "");
  std::optional<int64_t> a;
  EXPECT_TRUE(r->Int64("a", &a).ok());
  EXPECT_FALSE(a.has_value());
  EXPECT_TRUE(r->Finish().ok());
  std::string s;
  EXPECT_FALSE(r->String("a", &s, Need::kRequired).ok());
}

TEST(JsonWriterTest, WritesCompactJsonAndNullForNonFinite) {
  Writer w;
  w.StartObject()
      .Field("s", "a\"b")
      .Field("i", int64_t{-3})
      .Field("d", 0.5)
      .Field("nan", std::nan(""))
      .Field("b", true)
      .TimeField("t", Timestamp::FromSeconds(0))
      .TimeField("none", std::optional<Timestamp>())
      .Key("raw")
      .Raw(R"({"x":[1]})")
      .EndObject();
  EXPECT_EQ(w.Take(),
            R"({"s":"a\"b","i":-3,"d":0.5,"nan":null,"b":true,"t":"1970-01-01T00:00:00Z","none":null,"raw":{"x":[1]}})");
}

}  // namespace
}  // namespace rapport::json
