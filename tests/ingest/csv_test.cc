#include <gtest/gtest.h>

#include "ingest/import.h"

namespace rapport::ingest {
namespace {

std::vector<std::vector<std::string>> ReadAll(std::string_view text, std::vector<std::string>* errors = nullptr,
                                              std::vector<int64_t>* lines = nullptr) {
  CsvReader r(text);
  std::vector<std::string_view> f;
  std::vector<std::vector<std::string>> out;
  while (r.Next(&f)) {
    out.emplace_back(f.begin(), f.end());
    if (errors) errors->push_back(r.error());
    if (lines) lines->push_back(r.line());
  }
  return out;
}

TEST(CsvReaderTest, PlainFieldsAndLineEndings) {
  auto rows = ReadAll("a,b,c\r\n1,2,3\n4,,6");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"4", "", "6"}));
}

TEST(CsvReaderTest, QuotedFieldsHoldDelimitersNewlinesAndQuotes) {
  std::vector<int64_t> lines;
  auto rows = ReadAll("name,note\n\"Smith, Anna\",\"line one\r\nline two\"\n\"say \"\"hi\"\"\",\"\"\nx,y\n", nullptr, &lines);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][0], "Smith, Anna");
  EXPECT_EQ(rows[1][1], "line one\r\nline two");
  EXPECT_EQ(rows[2][0], "say \"hi\"");
  EXPECT_EQ(rows[2][1], "");
  // Physical lines: the quoted newline moves the following records down.
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 4, 5}));
}

TEST(CsvReaderTest, ManyEscapedFieldsInOneRecordStayValid) {
  std::string line;
  for (int i = 0; i < 40; ++i) line += (i ? "," : "") + std::string("\"a\"\"") + std::to_string(i) + "\"";
  auto rows = ReadAll(line);
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(rows[0][static_cast<size_t>(i)], "a\"" + std::to_string(i));
}

TEST(CsvReaderTest, MalformedRecordsAreFlaggedAndReadingGoesOn) {
  std::vector<std::string> errors;
  auto rows = ReadAll("a,b\nx\"y,2\n\"ok\"junk,3\n5,6\n", &errors);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(errors[0], "");
  EXPECT_NE(errors[1], "");
  EXPECT_NE(errors[2], "");
  EXPECT_EQ(errors[3], "");
  EXPECT_EQ(rows[3], (std::vector<std::string>{"5", "6"}));
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnError) {
  std::vector<std::string> errors;
  auto rows = ReadAll("a\n\"open\n", &errors);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(errors[1], "unterminated quoted field");
}

TEST(CsvReaderTest, SemicolonDelimiterAndBom) {
  CsvReader r("\xEF\xBB\xBFName;Ort\nM\xC3\xBCller;K\xC3\xB6ln\n", ';');
  std::vector<std::string_view> f;
  ASSERT_TRUE(r.Next(&f));
  EXPECT_EQ(f[0], "Name");
  ASSERT_TRUE(r.Next(&f));
  EXPECT_EQ(f[1], "K\xC3\xB6ln");
  EXPECT_FALSE(r.Next(&f));
}

TEST(ParseNumberTest, DecimalPointAndComma) {
  struct Case {
    const char* text;
    bool comma;
    double want;
  } cases[] = {
      {"12.5", false, 12.5}, {"1,234.5", false, 1234.5}, {"-3", false, -3},   {" 7 ", false, 7},
      {"12,5", true, 12.5},  {"1.234,5", true, 1234.5},  {"1 234,5", true, 1234.5}, {"+2", false, 2},
  };
  for (const auto& c : cases) {
    auto v = ParseNumber(c.text, c.comma);
    ASSERT_TRUE(v.ok()) << c.text << ": " << v.status().ToString();
    EXPECT_DOUBLE_EQ(*v, c.want) << c.text;
  }
  for (auto [bad, comma] : std::vector<std::pair<const char*, bool>>{
           {"", false}, {"abc", false}, {"1.2.3", false}, {"12,5,1", true}, {"1e999", false}, {"--", false}}) {
    EXPECT_FALSE(ParseNumber(bad, comma).ok()) << bad;
  }
}

TEST(ParseTimeTest, Patterns) {
  struct Case {
    const char* text;
    const char* pattern;
    const char* want;
  } cases[] = {
      {"2024-03-01", "", "2024-03-01T00:00:00Z"},
      {"2024-03-01T10:20:30+01:00", "", "2024-03-01T09:20:30Z"},
      {"01.03.2024", "DD.MM.YYYY", "2024-03-01T00:00:00Z"},
      {"1.3.2024", "DD.MM.YYYY", "2024-03-01T00:00:00Z"},
      {"03/01/2024 14:05", "MM/DD/YYYY HH:mm", "2024-03-01T14:05:00Z"},
      {"20240301", "YYYYMMDD", "2024-03-01T00:00:00Z"},
      {"29.02.24", "DD.MM.YY", "2024-02-29T00:00:00Z"},
      {"2024-03-01 10:00:00.250", "YYYY-MM-DD HH:mm:ss.SSS", "2024-03-01T10:00:00.250Z"},
      {"1709251200", "epoch", "2024-03-01T00:00:00Z"},
      {"1709251200000", "epochMillis", "2024-03-01T00:00:00Z"},
  };
  for (const auto& c : cases) {
    auto t = ParseTime(c.text, c.pattern);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(FormatRfc3339(*t), c.want) << c.text;
  }
  for (auto [text, pattern] : std::vector<std::pair<const char*, const char*>>{
           {"31.02.2024", "DD.MM.YYYY"}, {"29.02.2023", "DD.MM.YYYY"}, {"2024-13-01", "YYYY-MM-DD"},
           {"01.03.2024x", "DD.MM.YYYY"}, {"abc", "epoch"}, {"", ""}, {"01-03-2024", "DD.MM.YYYY"}}) {
    EXPECT_FALSE(ParseTime(text, pattern).ok()) << text << " " << pattern;
  }
}

}  // namespace
}  // namespace rapport::ingest
