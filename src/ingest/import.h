#pragma once
// Bulk import of back-office exports (billing, shipping, accounting) into the
// customer data hub. A file (CSV per RFC 4180 or NDJSON) is read as a stream
// of rows; a Mapping turns each row into a customer, account, transaction or
// interaction record; records are written through CustomerStore's batch APIs,
// one short transaction per batch, upserting by source key so that importing
// the same file twice changes nothing. Bad rows are reported with their line
// number and skipped. An Importer is not thread-safe; use one per import.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"

namespace rapport::ingest {

enum class Entity { kCustomers, kAccounts, kTransactions, kInteractions };
std::string_view EntityName(Entity e);  // "customers", ...
Result<Entity> ParseEntity(std::string_view s);

enum class Format { kCsv, kNdjson };
std::string_view FormatName(Format f);  // "csv", "ndjson"
Result<Format> ParseFormat(std::string_view s);
// Guesses the format from a file name: ".ndjson", ".jsonl", ".json" are NDJSON,
// everything else CSV.
Format FormatFromPath(std::string_view path);

// ---- CSV -------------------------------------------------------------------

// An RFC 4180 reader over text held in memory: fields separated by a
// delimiter, optionally enclosed in double quotes (which may contain
// delimiters, CR/LF and doubled quotes), records ended by LF or CRLF. A UTF-8
// byte-order mark is skipped. Fields are views into the input, or into the
// reader's scratch space when they had doubled quotes; they are valid until
// the next call to Next.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text, char delimiter = ',');

  // Reads the next record into fields. Returns false at the end of the input.
  // A malformed record (a stray quote inside an unquoted field, text after a
  // closing quote, an unterminated quote) still returns true and sets error().
  bool Next(std::vector<std::string_view>* fields);
  // Why the last record is malformed, empty when it is well-formed.
  const std::string& error() const { return error_; }
  // 1-based physical line where the last record started.
  int64_t line() const { return record_line_; }
  // Bytes consumed so far.
  size_t offset() const { return pos_; }

 private:
  std::string_view text_;
  char delim_;
  size_t pos_ = 0;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
  std::string error_;
  std::deque<std::string> scratch_;  // unescaped quoted fields (a deque: views stay valid as it grows)
};

// ---- mapping ---------------------------------------------------------------

// How one target field gets its value: from a source column, or a constant.
// type/format tell how to read the text ("DD.MM.YYYY" dates, decimal comma).
struct FieldRule {
  std::string field;   // target field: an attribute name or a record field
  std::string column;  // source column (CSV header name or NDJSON key); empty with a constant
  std::optional<std::string> constant;
  std::string type;    // "", "string", "number", "integer", "boolean", "date", "timestamp"
  std::string format;  // date/timestamp pattern, e.g. "DD.MM.YYYY HH:mm"; "epoch", "epochMillis"
  std::optional<bool> decimal_comma;  // default: Mapping::decimal_comma
  std::map<std::string, std::string> values;  // recodes source values ("F" -> "female")
};

// A rule that makes an identifier of the customer from a column: scheme
// "email", "phone" or an external system ("shop" -> "shop:<value>").
struct IdentifierRule {
  std::string scheme;
  std::string column;
};

// How the rows of one export become records. Parsed from a JSON mapping file
// (see docs/import.md) or derived from the header when there is none.
struct Mapping {
  std::optional<Entity> entity;  // the file's entity, when the mapping says
  std::optional<Format> format;
  char delimiter = ',';
  bool decimal_comma = false;
  std::string date_format;       // default for date fields; "" = ISO 8601
  std::string timestamp_format;  // default for timestamp fields; "" = RFC 3339
  std::string source_key_column;  // the column holding the row's key in the source system
  // Accounts, transactions, interactions: the customer the row belongs to.
  // Either a column of the customer's key in this source (identifier
  // "<source>:<key>", or "<customer_scheme>:<key>" when set) or a column
  // holding a full "scheme:value" identifier.
  std::string customer_key_column;
  std::string customer_scheme;
  std::string customer_identifier_column;
  // Customers: their kind, fixed or from a column.
  std::optional<std::string> kind;
  std::string kind_column;
  std::map<std::string, std::string> kind_values;  // source value -> person|household|organization
  std::vector<FieldRule> fields;
  std::vector<IdentifierRule> identifiers;
  // Interactions: columns that no rule uses go into properties (a JSON object).
  bool unmapped_to_properties = true;
};

Result<Mapping> ParseMapping(std::string_view json);
Result<Mapping> LoadMapping(const std::string& path);

// ---- records ----------------------------------------------------------------

// One mapped row, for one of the four entities (the one the Importer reads).
struct RowError {
  int64_t line = 0;     // 1-based line of the row in the file (the header is line 1)
  std::string column;   // the column (or field) at fault, when known
  std::string message;
};

struct ImportProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  int64_t rows_read = 0;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  double elapsed_seconds = 0;
};

struct ImportSummary {
  int64_t rows_read = 0;
  int64_t created = 0;
  int64_t updated = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  int64_t batches = 0;
  double elapsed_seconds = 0;
  double rows_per_second() const { return elapsed_seconds > 0 ? rows_read / elapsed_seconds : 0; }
  // The first max_errors_kept rejected rows, in file order.
  std::vector<RowError> errors;
};

struct ImportOptions {
  Entity entity = Entity::kCustomers;
  std::string source;  // the source system's name: "billing", "shop", ...
  std::optional<Format> format;  // default: mapping's, else from the file name
  std::optional<Mapping> mapping;  // default: columns named like the API fields
  // Rows per transaction. Random index inserts make a bulk import cost per
  // page dirtied, and a larger batch dirties each index page once for more
  // rows (10,000 rows import twice as fast as 1,000); a batch holds the write
  // lock for about 0.2 s, which a running server's writers wait out.
  int batch_size = 10000;
  size_t max_errors_kept = 1000;
  // Called after every batch and at the end; at most every progress_interval_ms.
  std::function<void(const ImportProgress&)> on_progress;
  int progress_interval_ms = 100;
  // Called for every rejected row, in file order (the CLI writes them out).
  std::function<void(const RowError&)> on_error;
};

// The records a file yields, before they are written. Exposed for tests, the
// fuzz target and dry runs.
struct MappedRows {
  std::vector<customer::CustomerRecord> customers;
  std::vector<std::pair<customer::Identifier, customer::Account>> accounts;
  std::vector<std::pair<customer::Identifier, customer::Transaction>> transactions;
  std::vector<std::pair<customer::Identifier, customer::Interaction>> interactions;
  std::vector<int64_t> lines;  // line of each record, parallel to the entity's vector
  std::vector<RowError> errors;
  size_t size() const { return lines.size(); }
};

// Reads a whole text (CSV or NDJSON) and maps every row, without a store.
// catalog types customer attributes (an empty catalog reads them as text).
Result<MappedRows> MapText(std::string_view text, const ImportOptions& options,
                           const std::vector<customer::AttributeDefinition>& catalog);

// Imports text (the contents of a file) into store.
Result<ImportSummary> ImportText(customer::CustomerStore& store, std::string_view text,
                                 const ImportOptions& options);
// Imports the file at path ("-" reads standard input) into store.
Result<ImportSummary> ImportFile(customer::CustomerStore& store, const std::string& path,
                                 const ImportOptions& options);

// Parses a date or timestamp with a pattern of YYYY, MM, DD, HH, mm, ss, SSS
// (fraction) and literal characters; "" means RFC 3339 / ISO 8601, "epoch" and
// "epochMillis" numeric Unix times. Times are UTC.
Result<Timestamp> ParseTime(std::string_view text, std::string_view pattern);
// Parses a decimal number, with ',' as decimal separator when decimal_comma
// (then '.' and ' ' are thousands separators; otherwise ',' is).
Result<double> ParseNumber(std::string_view text, bool decimal_comma);
// The same for an amount of money, read exactly from its digits (see Money).
Result<Money> ParseMoney(std::string_view text, bool decimal_comma);

}  // namespace rapport::ingest
