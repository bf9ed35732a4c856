#pragma once
// Transaction lists for the customer-value models: one purchase (or refund)
// per row, a customer key, a calendar day and an amount. Read from an
// analyst's own file (CSV with a header, or whitespace-separated columns like
// the CDNOW files) or built in memory from the operational store. Values;
// thread-safe once built.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"

namespace rapport::analytics {

// One transaction. `day` is days since 1970-01-01 (common/time.h
// DaysFromCivil); `amount` is exact money, negative for a refund. The
// numerical core converts it to a double at its boundary.
struct Transaction {
  int32_t customer = 0;  // index into TransactionList::customers
  int32_t day = 0;
  Money amount;
};

// Transactions with their customers' keys interned: customers[i] is the key
// (as written in the file) of the customer numbered i.
struct TransactionList {
  std::vector<std::string> customers;
  std::vector<Transaction> rows;
};

enum class TransactionFileFormat { kCsv, kWhitespace };
Result<TransactionFileFormat> ParseTransactionFileFormat(std::string_view s);  // "csv", "whitespace"

// Which columns hold what. A column is a header name, or a 1-based column
// number ("3"). A CSV file always has a header line. A whitespace-separated
// file has one when its first line's date field is not a date (CDNOW_master
// has one, CDNOW_sample none); names need a header.
struct TransactionColumns {
  std::string customer;
  std::string date;
  std::string amount;
};

// Reads a transaction file held in memory. Dates are "YYYYMMDD",
// "YYYY-MM-DD" or an RFC 3339 timestamp (its UTC date counts); amounts are
// decimal numbers with at most four decimal places ("-12.5" is a refund).
// Bad rows are not skipped: the first one is InvalidArgument naming its line
// and column (field = the column's name or number).
Result<TransactionList> ParseTransactions(std::string_view text, TransactionFileFormat format,
                                          const TransactionColumns& columns);
Result<TransactionList> ReadTransactionFile(const std::string& path, TransactionFileFormat format,
                                            const TransactionColumns& columns);

// "YYYYMMDD", "YYYY-MM-DD" or RFC 3339 -> days since the epoch.
Result<int32_t> ParseDay(std::string_view text);
// Days since the epoch -> "YYYY-MM-DD".
std::string FormatDay(int32_t day);

}  // namespace rapport::analytics
