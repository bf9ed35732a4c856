// Where the generated company goes: into a store through its batch APIs, or
// into import files.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "demo/demo.h"

namespace rapport::demo {
namespace {

using Clock = std::chrono::steady_clock;
using customer::AttributeValue;

constexpr size_t kRowBatch = 5000;

void Note(const customer::CustomerStore::BatchResult& r, DemoStats* stats) {
  for (const Status& s : r.errors) {
    if (s.ok()) continue;
    if (stats->rejected++ == 0) stats->first_error = s.ToString();
  }
}

template <typename Row, typename Fn>
Status InSlices(const std::vector<Row>& rows, Fn write, DemoStats* stats) {
  for (size_t i = 0; i < rows.size(); i += kRowBatch) {
    std::vector<Row> slice(rows.begin() + static_cast<std::ptrdiff_t>(i),
                           rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), i + kRowBatch)));
    RP_ASSIGN_OR_RETURN(auto r, write(slice));
    Note(r, stats);
  }
  return Status::Ok();
}

void Count(const Chunk& c, DemoStats* s) {
  s->customers += static_cast<int64_t>(c.customers.size());
  for (const auto& r : c.customers) {
    if (r.kind == customer::Kind::kPerson) ++s->persons;
    if (r.kind == customer::Kind::kHousehold) ++s->households;
    if (r.kind == customer::Kind::kOrganization) ++s->organizations;
  }
  s->changes += static_cast<int64_t>(c.changes.size());
  s->relationships += static_cast<int64_t>(c.relationships.size());
  s->accounts += static_cast<int64_t>(c.accounts.size());
  s->transactions += static_cast<int64_t>(c.transactions.size());
  s->interactions += static_cast<int64_t>(c.interactions.size());
  s->consents += static_cast<int64_t>(c.consents.size());
}

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Result<DemoStats> GenerateIntoStore(customer::CustomerStore& store, const DemoOptions& options,
                                    const DemoProgress& progress) {
  const auto start = Clock::now();
  Generator gen(options);
  Chunk chunk;
  DemoStats stats;
  const std::string source(kCustomerSource);
  std::unordered_map<std::string, customer::CustomerId> ids;
  auto id_of = [&](const std::string& key) -> Result<customer::CustomerId> {
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    RP_ASSIGN_OR_RETURN(auto found, store.FindByIdentifier(customer::Identifier{source, key}));
    if (!found) return Status::NotFound("demo customer " + key + " was not written");
    ids.emplace(key, *found);
    return *found;
  };
  while (gen.Next(&chunk)) {
    ids.clear();
    RP_ASSIGN_OR_RETURN(auto written, store.UpsertCustomers(source, chunk.customers));
    Note(written, &stats);
    if (!chunk.changes.empty()) {
      RP_ASSIGN_OR_RETURN(auto changed, store.UpsertCustomers(source, chunk.changes));
      Note(changed, &stats);
    }
    for (const RelationshipRow& rel : chunk.relationships) {
      auto from = id_of(rel.from_key);
      auto to = id_of(rel.to_key);
      if (!from.ok() || !to.ok()) {
        if (stats.rejected++ == 0) stats.first_error = (!from.ok() ? from.status() : to.status()).ToString();
        continue;
      }
      customer::Relationship r;
      r.from = *from;
      r.to = *to;
      r.type = rel.type;
      r.role = rel.role;
      r.valid_from = rel.valid_from;
      r.source = source;
      auto added = store.AddRelationship(r);
      if (!added.ok() && stats.rejected++ == 0) stats.first_error = added.status().ToString();
    }
    for (const ConsentRow& row : chunk.consents) {
      auto id = id_of(row.customer_key);
      if (!id.ok()) {
        if (stats.rejected++ == 0) stats.first_error = id.status().ToString();
        continue;
      }
      customer::Consent c = row.consent;
      c.customer_id = *id;
      auto set = store.SetConsent(c);
      if (!set.ok() && stats.rejected++ == 0) stats.first_error = set.status().ToString();
    }
    RP_RETURN_IF_ERROR(InSlices(chunk.accounts, [&](const auto& s) { return store.UpsertAccounts(s); }, &stats));
    RP_RETURN_IF_ERROR(InSlices(chunk.transactions, [&](const auto& s) { return store.AddTransactions(s); }, &stats));
    RP_RETURN_IF_ERROR(InSlices(chunk.interactions, [&](const auto& s) { return store.AddInteractions(s); }, &stats));
    Count(chunk, &stats);
    stats.seconds = Since(start);
    if (progress) progress(stats, options.customers);
  }
  stats.seconds = Since(start);
  return stats;
}

namespace {

// One output file, CSV or NDJSON, written through a large buffer.
class TableFile {
 public:
  // One value of a row. (A plain struct: GCC 12 warns falsely about
  // std::variant in brace-initialized rows.)
  struct Cell {
    enum class Type { kNone, kText, kInt, kDouble, kBool, kMoney } type = Type::kNone;
    std::string text;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    Cell() = default;
    Cell(std::string s) : type(Type::kText), text(std::move(s)) {}  // NOLINT: implicit by design
    Cell(const char* s) : type(Type::kText), text(s) {}             // NOLINT
    Cell(int64_t v) : type(Type::kInt), i(v) {}                     // NOLINT
    Cell(double v) : type(Type::kDouble), d(v) {}                   // NOLINT
    Cell(bool v) : type(Type::kBool), b(v) {}                       // NOLINT
    Cell(Money m) : type(Type::kMoney), text(m.ToString()) {}        // NOLINT: its exact digits
  };

  static Result<std::unique_ptr<TableFile>> Open(const std::filesystem::path& path, FileFormat format,
                                                 std::vector<std::string> columns) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return Status::Internal("cannot write " + path.string());
    auto t = std::unique_ptr<TableFile>(new TableFile(f, format, std::move(columns)));
    if (format == FileFormat::kCsv) {
      for (size_t i = 0; i < t->columns_.size(); ++i) {
        if (i) t->out_.push_back(',');
        t->out_ += t->columns_[i];
      }
      t->out_.push_back('\n');
    }
    return t;
  }
  ~TableFile() {
    if (f_ != nullptr) std::fclose(f_);
  }

  void Row(const std::vector<Cell>& cells) {
    if (format_ == FileFormat::kCsv) {
      for (size_t i = 0; i < cells.size(); ++i) {
        if (i) out_.push_back(',');
        Csv(cells[i]);
      }
      out_.push_back('\n');
    } else {
      out_.push_back('{');
      bool first = true;
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i].type == Cell::Type::kNone) continue;
        if (!first) out_.push_back(',');
        first = false;
        JsonString(columns_[i]);
        out_.push_back(':');
        Json(cells[i]);
      }
      out_ += "}\n";
    }
    if (out_.size() > (1 << 20)) Flush();
  }

  Status Close() {
    Flush();
    int rc = std::fclose(f_);
    f_ = nullptr;
    return rc == 0 && !failed_ ? Status::Ok() : Status::Internal("write failed");
  }

 private:
  TableFile(std::FILE* f, FileFormat format, std::vector<std::string> columns)
      : f_(f), format_(format), columns_(std::move(columns)) {}

  void Flush() {
    if (!out_.empty() && std::fwrite(out_.data(), 1, out_.size(), f_) != out_.size()) failed_ = true;
    out_.clear();
  }

  void Number(double d) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out_.append(buf, p);
  }

  void Scalar(const Cell& c) {
    if (c.type == Cell::Type::kInt) out_ += std::to_string(c.i);
    if (c.type == Cell::Type::kDouble) Number(c.d);
    if (c.type == Cell::Type::kBool) out_ += c.b ? "true" : "false";
    if (c.type == Cell::Type::kMoney) out_ += c.text;
  }

  void Csv(const Cell& c) {
    if (c.type != Cell::Type::kText) return Scalar(c);
    if (c.text.find_first_of(",\"\r\n") == std::string::npos) {
      out_ += c.text;
      return;
    }
    out_.push_back('"');
    for (char ch : c.text) {
      if (ch == '"') out_.push_back('"');
      out_.push_back(ch);
    }
    out_.push_back('"');
  }

  void JsonString(const std::string& s) {
    out_.push_back('"');
    for (char ch : s) {
      unsigned char u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out_.push_back('\\');
        out_.push_back(ch);
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out_ += buf;
      } else {
        out_.push_back(ch);
      }
    }
    out_.push_back('"');
  }

  void Json(const Cell& c) {
    if (c.type == Cell::Type::kText) return JsonString(c.text);
    Scalar(c);
  }

  std::FILE* f_;
  FileFormat format_;
  std::vector<std::string> columns_;
  std::string out_;
  bool failed_ = false;
};

const std::vector<std::string> kCustomerColumns = {
    "sourceKey", "kind",    "validFrom", "firstName", "lastName", "name",     "birthDate",
    "gender",    "email",   "phone",     "street",    "city",     "postcode", "region",
    "country",   "language", "industry", "employees", "annualRevenue", "segment"};

TableFile::Cell Opt(const std::string& s) { return s.empty() ? TableFile::Cell{} : TableFile::Cell{s}; }

TableFile::Cell FromAttribute(const std::map<std::string, AttributeValue>& attrs, const std::string& name) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return {};
  return std::visit(
      [](const auto& v) -> TableFile::Cell {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else {
          return TableFile::Cell(v);
        }
      },
      it->second);
}

void CustomerRow(TableFile& f, const customer::CustomerRecord& r) {
  std::vector<TableFile::Cell> cells;
  cells.reserve(kCustomerColumns.size());
  cells.emplace_back(r.source_key);
  cells.emplace_back(std::string(customer::KindName(r.kind)));
  cells.push_back(r.valid_from ? TableFile::Cell{FormatRfc3339(*r.valid_from)} : TableFile::Cell{});
  for (size_t i = 3; i < kCustomerColumns.size(); ++i) cells.push_back(FromAttribute(r.attributes, kCustomerColumns[i]));
  f.Row(cells);
}

}  // namespace

Result<DemoStats> GenerateFiles(const std::string& dir, FileFormat format, const DemoOptions& options,
                                const DemoProgress& progress) {
  const auto start = Clock::now();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  const std::string ext = format == FileFormat::kCsv ? ".csv" : ".ndjson";
  auto open = [&](const char* name, std::vector<std::string> cols) {
    return TableFile::Open(std::filesystem::path(dir) / (std::string(name) + ext), format, std::move(cols));
  };
  RP_ASSIGN_OR_RETURN(auto customers, open("customers", kCustomerColumns));
  RP_ASSIGN_OR_RETURN(auto changes, open("customer_changes", kCustomerColumns));
  RP_ASSIGN_OR_RETURN(auto relationships, open("relationships", {"from", "to", "type", "role", "validFrom"}));
  RP_ASSIGN_OR_RETURN(auto consents, open("consents", {"customer", "channel", "purpose", "granted", "at", "source"}));
  RP_ASSIGN_OR_RETURN(auto accounts, open("accounts", {"sourceKey", "customer", "product", "status", "openedAt",
                                                       "closedAt", "balance", "currency"}));
  RP_ASSIGN_OR_RETURN(auto transactions,
                      open("transactions", {"sourceKey", "customer", "occurredAt", "channel", "location", "sku",
                                            "item", "category", "quantity", "amount", "currency"}));
  RP_ASSIGN_OR_RETURN(auto interactions,
                      open("interactions", {"sourceKey", "customer", "occurredAt", "agent", "department", "type",
                                            "purpose", "channel", "touchPoint", "direction", "reason", "campaign",
                                            "outcome"}));
  const std::string prefix = std::string(kCustomerSource) + ":";
  Generator gen(options);
  Chunk c;
  DemoStats stats;
  while (gen.Next(&c)) {
    for (const auto& r : c.customers) CustomerRow(*customers, r);
    for (const auto& r : c.changes) CustomerRow(*changes, r);
    for (const auto& r : c.relationships) {
      relationships->Row({prefix + r.from_key, prefix + r.to_key, r.type, Opt(r.role), FormatRfc3339(r.valid_from)});
    }
    for (const auto& r : c.consents) {
      consents->Row({prefix + r.customer_key, r.consent.channel, r.consent.purpose, r.consent.granted,
                     FormatRfc3339(r.consent.at), r.consent.source});
    }
    for (const auto& [who, a] : c.accounts) {
      accounts->Row({a.source_key, who.ToString(), a.product, a.status, FormatRfc3339(a.opened_at),
                     a.closed_at ? TableFile::Cell{FormatRfc3339(*a.closed_at)} : TableFile::Cell{}, a.balance,
                     a.currency});
    }
    for (const auto& [who, t] : c.transactions) {
      transactions->Row({t.source_key, who.ToString(), FormatRfc3339(t.occurred_at), t.channel, t.location, t.sku,
                         t.item, t.category, t.quantity, t.amount, t.currency});
    }
    for (const auto& [who, x] : c.interactions) {
      interactions->Row({x.source_key, who.ToString(), FormatRfc3339(x.occurred_at), x.agent, x.department, x.type,
                         x.purpose, x.channel, x.touch_point, x.direction, Opt(x.reason), Opt(x.campaign),
                         x.outcome});
    }
    Count(c, &stats);
    stats.seconds = Since(start);
    if (progress) progress(stats, options.customers);
  }
  for (auto* f : {customers.get(), changes.get(), relationships.get(), consents.get(), accounts.get(),
                  transactions.get(), interactions.get()}) {
    RP_RETURN_IF_ERROR(f->Close());
  }
  stats.seconds = Since(start);
  return stats;
}

}  // namespace rapport::demo
