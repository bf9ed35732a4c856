// Numbers that rapidjson's full-precision parser mishandles: a zero with a
// fraction or exponent beyond its fast path ("0.0e140") reached undefined
// behaviour (UBSan: zero passed to clz) before json::Parse rewrote it. The
// ASan/UBSan build runs these inputs through the parser.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

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

namespace rapport::json {
namespace {

// 20 significant digits 18446744073709551615 (2^64 - 1) and a 21st of 5 or
// more: rapidjson 1.1 rounds its uint64 up to 0 and normalizes it (UBSan:
// zero passed to clz). Found by the tracking_payload fuzzer.
TEST(JsonNumberTest, SignificandsThatWouldWrapReadAsTheirValue) {
  for (const char* text : {"0.0000000000018446744073709551615551615", "18446744073709551615.5",
                           "-184467440737095516159e-3", "1844674407370955161.59"}) {
    auto d = Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    ASSERT_TRUE((*d)->IsNumber()) << text;
    double expected = std::strtod(text, nullptr);
    EXPECT_DOUBLE_EQ((*d)->GetDouble(), expected) << text;
  }
  // Inside a document, and a string holding the digits is left alone.
  auto d = Parse(R"({"x":0.0000000000018446744073709551615551615,"s":"18446744073709551615.9"})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_DOUBLE_EQ((**d)["x"].GetDouble(), 1.8446744073709551615551615e-12);
  EXPECT_STREQ((**d)["s"].GetString(), "18446744073709551615.9");
  // A malformed document still fails where it is malformed.
  auto bad = Parse(R"({"x":0.0000000000018446744073709551615551615uId})");
  ASSERT_FALSE(bad.ok());
}

// Below 1e-325 a double is zero; with many digits rapidjson 1.1 looked the
// power of ten up below its table (an index that wrapped; UBSan: signed
// overflow, then a read outside it). Found by the json_request fuzzer.
TEST(JsonNumberTest, ValuesBelowTheSmallestDoubleReadAsZero) {
  for (const char* text : {"-1.0999999999999999999999999999999999999999e-333", "1e-400", "0.00001e-325",
                           "123456789012345678901234567890e-360", "1.5e-326"}) {
    auto d = Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    ASSERT_TRUE((*d)->IsNumber()) << text;
    EXPECT_EQ((*d)->GetDouble(), 0.0) << text;
    EXPECT_EQ(std::signbit((*d)->GetDouble()), text[0] == '-') << text;
  }
  // Small numbers a double still holds are read as they are.
  for (const char* text : {"4.9406564584124654e-324", "2.2250738585072014e-308", "1e-300", "-3.5e-310"}) {
    auto d = Parse(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().ToString();
    EXPECT_EQ((*d)->GetDouble(), std::strtod(text, nullptr)) << text;
  }
}

}  // namespace
}  // namespace rapport::json
