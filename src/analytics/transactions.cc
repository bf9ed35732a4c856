#include "analytics/transactions.h"

#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "common/text.h"
#include "common/time.h"
#include "ingest/import.h"

namespace rapport::analytics {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Splits a line on runs of blanks (spaces, tabs, a trailing CR).
void SplitWhitespace(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) fields->push_back(line.substr(start, i - start));
  }
}

// Reads one physical line after another; keeps the 1-based line number.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }
  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    return true;
  }
  int64_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

struct ColumnIndex {
  int customer = -1, date = -1, amount = -1;
};

// Resolves each column spec against a header (may be empty: numbers only).
Result<ColumnIndex> Resolve(const TransactionColumns& c, const std::vector<std::string_view>& header) {
  ColumnIndex out;
  auto one = [&](const std::string& spec, const char* what, int* idx) -> Status {
    if (spec.empty()) return Status::InvalidArgument(std::string("no ") + what + " column given", what);
    if (AllDigits(spec)) {
      long n = std::strtol(spec.c_str(), nullptr, 10);
      if (n < 1 || n > 100000) {
        return Status::InvalidArgument(std::string(what) + " column " + spec + " is not a 1-based column number", what);
      }
      *idx = static_cast<int>(n - 1);
      return Status::Ok();
    }
    for (size_t i = 0; i < header.size(); ++i) {
      if (text::Trim(header[i]) == spec) {
        *idx = static_cast<int>(i);
        return Status::Ok();
      }
    }
    if (header.empty()) {
      return Status::InvalidArgument(std::string(what) + " column '" + spec +
                                         "' is a name but the file has no header line; give a column number",
                                     what);
    }
    return Status::InvalidArgument(std::string(what) + " column '" + spec + "' is not in the header", what);
  };
  RP_RETURN_IF_ERROR(one(c.customer, "customer", &out.customer));
  RP_RETURN_IF_ERROR(one(c.date, "date", &out.date));
  RP_RETURN_IF_ERROR(one(c.amount, "amount", &out.amount));
  return out;
}

class Builder {
 public:
  explicit Builder(const TransactionColumns& c) : columns_(c) {}

  Status Add(const std::vector<std::string_view>& fields, const ColumnIndex& idx, int64_t line) {
    auto field = [&](int i, const std::string& spec, const char* what) -> Result<std::string_view> {
      if (i >= static_cast<int>(fields.size())) {
        return Status::InvalidArgument("line " + std::to_string(line) + ": no " + what + " column (" + spec +
                                           "); the line has " + std::to_string(fields.size()) + " fields",
                                       spec);
      }
      return text::Trim(fields[static_cast<size_t>(i)]);
    };
    RP_ASSIGN_OR_RETURN(std::string_view key, field(idx.customer, columns_.customer, "customer"));
    RP_ASSIGN_OR_RETURN(std::string_view date, field(idx.date, columns_.date, "date"));
    RP_ASSIGN_OR_RETURN(std::string_view amount, field(idx.amount, columns_.amount, "amount"));
    if (key.empty()) {
      return Status::InvalidArgument("line " + std::to_string(line) + ": the customer is blank", columns_.customer);
    }
    auto day = ParseDay(date);
    if (!day.ok()) {
      return Status::InvalidArgument("line " + std::to_string(line) + ": " + day.status().message(), columns_.date);
    }
    auto money = Money::Parse(amount);
    if (!money.ok()) {
      return Status::InvalidArgument("line " + std::to_string(line) + ": amount '" + std::string(amount) +
                                         "': " + money.status().message(),
                                     columns_.amount);
    }
    auto [it, inserted] = index_.try_emplace(std::string(key), static_cast<int32_t>(list_.customers.size()));
    if (inserted) list_.customers.emplace_back(key);
    list_.rows.push_back({it->second, *day, *money});
    return Status::Ok();
  }

  TransactionList Take() { return std::move(list_); }

 private:
  const TransactionColumns& columns_;
  TransactionList list_;
  std::unordered_map<std::string, int32_t> index_;
};

Result<TransactionList> ParseCsv(std::string_view text, const TransactionColumns& columns) {
  ingest::CsvReader reader(text);
  std::vector<std::string_view> fields;
  if (!reader.Next(&fields)) return Status::InvalidArgument("the file is empty");
  if (!reader.error().empty()) return Status::InvalidArgument("line 1: " + reader.error());
  std::vector<std::string> header(fields.begin(), fields.end());
  std::vector<std::string_view> header_views(header.begin(), header.end());
  RP_ASSIGN_OR_RETURN(ColumnIndex idx, Resolve(columns, header_views));
  Builder b(columns);
  while (reader.Next(&fields)) {
    if (!reader.error().empty()) {
      return Status::InvalidArgument("line " + std::to_string(reader.line()) + ": " + reader.error());
    }
    if (fields.size() == 1 && text::Trim(fields[0]).empty()) continue;  // blank line
    RP_RETURN_IF_ERROR(b.Add(fields, idx, reader.line()));
  }
  return b.Take();
}

Result<TransactionList> ParseWhitespace(std::string_view text, const TransactionColumns& columns) {
  LineReader reader(text);
  std::string_view line;
  std::vector<std::string_view> fields;
  // The first non-blank line: a header unless its date field is a date.
  bool found = false;
  while (reader.Next(&line)) {
    SplitWhitespace(line, &fields);
    if (!fields.empty()) {
      found = true;
      break;
    }
  }
  if (!found) return Status::InvalidArgument("the file is empty");
  bool header = true;
  if (AllDigits(columns.date)) {
    size_t d = static_cast<size_t>(std::strtol(columns.date.c_str(), nullptr, 10));
    header = !(d >= 1 && d <= fields.size() && ParseDay(fields[d - 1]).ok());
  }
  std::vector<std::string> header_text;
  if (header) header_text.assign(fields.begin(), fields.end());
  std::vector<std::string_view> header_views(header_text.begin(), header_text.end());
  RP_ASSIGN_OR_RETURN(ColumnIndex idx, Resolve(columns, header_views));
  Builder b(columns);
  if (!header) RP_RETURN_IF_ERROR(b.Add(fields, idx, reader.line()));
  while (reader.Next(&line)) {
    SplitWhitespace(line, &fields);
    if (fields.empty()) continue;
    RP_RETURN_IF_ERROR(b.Add(fields, idx, reader.line()));
  }
  return b.Take();
}

}  // namespace

Result<TransactionFileFormat> ParseTransactionFileFormat(std::string_view s) {
  if (s == "csv") return TransactionFileFormat::kCsv;
  if (s == "whitespace") return TransactionFileFormat::kWhitespace;
  return Status::InvalidArgument("format '" + std::string(s) + "' is neither csv nor whitespace", "format");
}

Result<int32_t> ParseDay(std::string_view text) {
  text = text::Trim(text);
  if (text.size() == 8 && AllDigits(text)) {
    int64_t y = std::strtol(std::string(text.substr(0, 4)).c_str(), nullptr, 10);
    unsigned m = static_cast<unsigned>(std::strtoul(std::string(text.substr(4, 2)).c_str(), nullptr, 10));
    unsigned d = static_cast<unsigned>(std::strtoul(std::string(text.substr(6, 2)).c_str(), nullptr, 10));
    static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] || (m == 2 && d == 29 && !leap)) {
      return Status::InvalidArgument("'" + std::string(text) + "' is not a date");
    }
    if (Status s = CheckYear(y); !s.ok()) return Status::InvalidArgument("'" + std::string(text) + "': " + s.message());
    return static_cast<int32_t>(DaysFromCivil(y, m, d));
  }
  auto t = ParseRfc3339(text);
  if (!t.ok()) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a date (YYYYMMDD, YYYY-MM-DD or RFC 3339)");
  }
  int64_t micros = t->micros;
  int64_t days = micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay);
  return static_cast<int32_t>(days);
}

std::string FormatDay(int32_t day) { return FormatDate(Timestamp{static_cast<int64_t>(day) * kMicrosPerDay}); }

Result<TransactionList> ParseTransactions(std::string_view text, TransactionFileFormat format,
                                          const TransactionColumns& columns) {
  return format == TransactionFileFormat::kCsv ? ParseCsv(text, columns) : ParseWhitespace(text, columns);
}

Result<TransactionList> ReadTransactionFile(const std::string& path, TransactionFileFormat format,
                                            const TransactionColumns& columns) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot read " + path, "file");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  return ParseTransactions(text, format, columns);
}

}  // namespace rapport::analytics
