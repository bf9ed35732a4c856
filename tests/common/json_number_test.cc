// Numbers that rapidjson's full-precision parser mishandles: a zero with a
// fraction or exponent beyond its fast path ("0.0e140") reached undefined
// behaviour (UBSan: zero passed to clz) before json::Parse rewrote it. The
// ASan/UBSan build runs these inputs through the parser.

#include <gtest/gtest.h>

#include <cmath>

#include "common/json.h"

namespace rapport::json {
namespace {

TEST(JsonNumberTest, ZerosWithLargeExponentsOrLongFractionsReadAsZero) {
  for (const char* text : {"0.0e140", "0.0E+400", "0.0e-30", "0e400", "0.00000000000000000000000000", "-0.0e140",
                           "-0e-99", "0.0e20"}) {
    auto d = Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    ASSERT_TRUE((*d)->IsDouble()) << text;
    EXPECT_EQ((*d)->GetDouble(), 0.0) << text;
    EXPECT_EQ(std::signbit((*d)->GetDouble()), text[0] == '-') << text;
  }
  auto d = Parse(R"({"a":[0.0e140,1.5,-0.0e-50],"b":"0.0e140","c":0.05e100,"d":2.2250738585072011e-308})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& a = (**d)["a"];
  EXPECT_EQ(a[0].GetDouble(), 0.0);
  EXPECT_EQ(a[1].GetDouble(), 1.5);
  EXPECT_TRUE(std::signbit(a[2].GetDouble()));
  EXPECT_STREQ((**d)["b"].GetString(), "0.0e140");  // strings are not numbers
  EXPECT_EQ((**d)["c"].GetDouble(), 0.05e100);
  // Full precision stays: the smallest normal double, correctly rounded.
  EXPECT_EQ((**d)["d"].GetDouble(), 2.2250738585072011e-308);
}

TEST(JsonNumberTest, ErrorsAroundARewrittenZeroKeepTheirOffsets) {
  auto d = Parse(R"({"a":0.0e140 "b":1})");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("offset 13"), std::string::npos) << d.status().message();
  // Malformed fractions and exponents are rejected, not rewritten.
  for (const char* text : {"0.e5", "0.0e", "0.0e+", "00.0e99", "-0.0e99e"}) {
    EXPECT_FALSE(Parse(text).ok()) << text;
  }
}

}  // namespace
}  // namespace rapport::json
