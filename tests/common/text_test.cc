// Text validity (common/text.h), money (common/money.h), the accepted years
// of timestamps, and JSON parsing and writing of bad strings and money: the
// "bad data is stored and served" findings of issue #12 at their root.

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "common/money.h"
#include "common/text.h"
#include "common/time.h"

namespace rapport {
namespace {

TEST(TextTest, Utf8IsCheckedAndBadBytesAreReplaced) {
  EXPECT_TRUE(text::IsValidUtf8("Süd \xF0\x9F\x98\x80"));
  for (std::string bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xFF"}) {
    EXPECT_FALSE(text::IsValidUtf8(bad)) << bad;
    EXPECT_TRUE(text::IsValidUtf8(text::ToValidUtf8(bad))) << bad;
  }
  EXPECT_EQ(text::ToValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
}

TEST(TextTest, NulAndControlCharactersAreNamed) {
  EXPECT_TRUE(text::CheckText("tab\tand\nnewline", "/note").ok());
  Status nul = text::CheckText(std::string("Ann\0e", 5), "/attributes/firstName");
  EXPECT_EQ(nul.field(), "/attributes/firstName");
  EXPECT_NE(nul.message().find("NUL"), std::string::npos);
  for (std::string id : {"88231\r\nSet-Cookie: x=1", "a\tb", "a\x7F", "a\xC2\x85"}) {
    Status s = text::CheckIdentifier(id, "/sourceKey");
    EXPECT_FALSE(s.ok()) << id;
    EXPECT_EQ(s.field(), "/sourceKey");
  }
  EXPECT_TRUE(text::CheckIdentifier("billing 88231/ä", "/sourceKey").ok());
}

TEST(MoneyTest, ParsesAndPrintsExactly) {
  EXPECT_EQ(Money::Parse("753811.93")->ToString(), "753811.93");
  EXPECT_EQ(Money::Parse("-0.5")->ToString(), "-0.5");
  EXPECT_EQ(Money::Parse("1.5e3")->ToString(), "1500");
  EXPECT_EQ(Money::Parse("12.3400")->units(), 123400);
  EXPECT_EQ(Money::Parse("100000000000")->ToString(), "100000000000");
  EXPECT_EQ(Money::FromDouble(19.99)->ToString(), "19.99");
  for (const char* bad : {"", "-", "1e308", "100000000000.0001", "0.00001", "1,5", "abc", "1e"}) {
    EXPECT_FALSE(Money::Parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(Money::FromDouble(1e308).ok());
  EXPECT_EQ(Money::Parse("19.99")->Times(3)->ToString(), "59.97");
}

TEST(MoneyTest, CentsSumExactlyWhereADoubleDoesNot) {
  // 75,381,193 cents: a double accumulates binary error, MoneySum does not.
  double d = 0;
  MoneySum sum;
  Money cent = *Money::Parse("0.01");
  for (int i = 0; i < 75'381'193; i += 1000) {
    int n = std::min(1000, 75'381'193 - i);
    for (int k = 0; k < n; ++k) d += 0.01;
    sum.AddUnits(cent.units() * n);
  }
  EXPECT_NE(d, 753811.93);  // the landed code's revenue
  EXPECT_EQ(sum.total().ToString(), "753811.93");
}

TEST(MoneyTest, CurrenciesAreIso4217) {
  EXPECT_EQ(*NormalizeCurrency("EUR"), "EUR");
  EXPECT_EQ(*NormalizeCurrency("eur"), "EUR");
  EXPECT_EQ(CurrencyMinorUnit("JPY"), 0);
  EXPECT_EQ(CurrencyMinorUnit("KWD"), 3);
  for (const char* bad : {"DOGECOIN", "XYZ", "EU", "XAU", ""}) EXPECT_FALSE(NormalizeCurrency(bad).ok()) << bad;
}

TEST(AcceptedYearsTest, YearZeroAndFarFuturesAreRefused) {
  EXPECT_FALSE(ParseRfc3339("0000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("1899-12-31").ok());
  EXPECT_FALSE(ParseRfc3339("2201-01-01T00:00:00Z").ok());
  EXPECT_TRUE(ParseRfc3339("1900-01-01").ok());
  EXPECT_TRUE(ParseRfc3339("2200-12-31T23:59:59Z").ok());
  SetAcceptedYears(*ParseYearRange("1..9999"));
  EXPECT_TRUE(ParseRfc3339("0001-01-01").ok());
  SetAcceptedYears({});
  EXPECT_FALSE(ParseRfc3339("0001-01-01").ok());
  EXPECT_FALSE(ParseYearRange("2200..1900").ok());
  EXPECT_FALSE(ParseYearRange("1900-2200").ok());
}

TEST(JsonTextTest, InvalidUtf8AndNulAreRefusedNamingTheString) {
  auto bad = json::Parse("{\"attributes\":{\"name\":\"Bad\xC3\"}}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "/attributes/name") << bad.status().ToString();
  auto nul = json::Parse(R"({"list":["ok","Ann\u0000e"]})");
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().field(), "/list/1");
  auto lone = json::Parse(R"({"a":"\udc00"})");
  ASSERT_FALSE(lone.ok());
  auto pair = json::Parse(R"({"a":"\ud83d\ude00"})");
  EXPECT_TRUE(pair.ok());
}

TEST(JsonTextTest, TheWriterNeverEmitsInvalidUtf8) {
  json::Writer w;
  w.StartObject().Field("name", std::string("offers\xFF")).EndObject();
  std::string out = w.Take();
  EXPECT_TRUE(text::IsValidUtf8(out));
  EXPECT_TRUE(json::Parse(out).ok()) << out;
}

TEST(JsonTextTest, MoneyIsReadAndWrittenExactly) {
  auto doc = json::Parse(R"({"amount":753811.93,"big":1e308,"fine":0.00001,"n":12})");
  ASSERT_TRUE(doc.ok());
  auto r = json::ObjectReader::Of(**doc, "");
  Money m;
  ASSERT_TRUE(r->Money("amount", &m).ok());
  EXPECT_EQ(m.ToString(), "753811.93");
  EXPECT_EQ(r->Money("big", &m).field(), "/big");
  EXPECT_EQ(r->Money("fine", &m).field(), "/fine");
  ASSERT_TRUE(r->Money("n", &m).ok());
  json::Writer w;
  w.StartObject().Field("revenue", *Money::Parse("753811.93")).Key("sum").DecimalDouble(753811.9299999997).EndObject();
  EXPECT_EQ(w.Take(), R"({"revenue":753811.93,"sum":753811.93})");
}

TEST(TextTest, ExcerptCutsAtACharacterBoundaryAndStaysValid) {
  EXPECT_EQ(text::Excerpt("thanks", 256), "thanks");
  EXPECT_EQ(text::Excerpt("abcdef", 3), "abc");
  // "é" is two bytes: a cut inside it drops it whole.
  EXPECT_EQ(text::Excerpt("ab\xC3\xA9" "cd", 3), "ab");
  EXPECT_EQ(text::Excerpt("ab\xC3\xA9" "cd", 4), "ab\xC3\xA9");
  // "€" is three bytes.
  EXPECT_EQ(text::Excerpt("\xE2\x82\xAC\xE2\x82\xAC", 5), "\xE2\x82\xAC");
  // Ill-formed bytes become U+FFFD, and the result is never longer than asked.
  std::string junk = "ok\xFF\xFE" + std::string(1000, 'x');
  std::string cut = text::Excerpt(junk, 256);
  EXPECT_LE(cut.size(), 256u);
  EXPECT_TRUE(text::IsValidUtf8(cut));
  EXPECT_EQ(cut.substr(0, 8), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "\xC3\xA9";
  std::string e = text::Excerpt(long_text, 256);
  EXPECT_EQ(e.size(), 256u);
  EXPECT_TRUE(text::IsValidUtf8(e));
}

}  // namespace
}  // namespace rapport
