#pragma once
// A seeded, deterministic generator of a believable company: persons in
// households, businesses with contacts and subsidiaries, accounts, three years
// of seasonal, long-tailed transactions, interactions across web, email,
// store, call centre and field sales, consents, and back-dated attribute
// changes (moves, name changes at marriage). It streams in chunks, so it
// scales from a thousand to millions of customers, and writes either into a
// CustomerStore through its batch APIs or into import files (CSV/NDJSON).
// The same seed gives the same company, byte for byte.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "customer/customer.h"

namespace rapport::decision {
class DecisionEngine;
}

namespace rapport::demo {

// splitmix64: small, fast, and identical on every platform (the standard
// library's distributions are not), which determinism needs.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  uint64_t Below(uint64_t n);                // uniform in [0, n)
  int64_t Between(int64_t lo, int64_t hi);   // uniform in [lo, hi]
  double Uniform();                          // [0, 1)
  bool Chance(double p) { return Uniform() < p; }
  double Normal();                           // standard normal
  double LogNormal(double mu, double sigma) ;
  int64_t Poisson(double mean);
  template <typename T>
  const T& Pick(const T* items, size_t n) { return items[Below(n)]; }

 private:
  uint64_t state_;
};

// The noise people and systems add to contact data; the identity-resolution
// work reuses it to make realistic near-duplicates.
namespace noise {
// Swaps two adjacent letters, drops or doubles one ("Schmidt" -> "Schmdit").
std::string Typo(std::string_view s, Rng& rng);
// "Müller" -> "mueller"; lower case ASCII for e-mail local parts.
std::string Asciify(std::string_view s);
// One of the ways a German mobile number is written: "+49 171 2345678",
// "0171 2345678", "0171/234 56 78", "+491712345678".
std::string PhoneVariant(std::string_view national_digits, Rng& rng);
}  // namespace noise

struct DemoOptions {
  int64_t customers = 10000;  // persons + households + organizations
  uint64_t seed = 1;
  // The demo's "today": history spans the three years before it. Fixed
  // here, so tests and benchmarks get the same data whenever they run;
  // `rapport demo` passes today's UTC date (--end-date), so rolling windows
  // such as revenue90d find people. The same seed and end give the same data.
  Timestamp end = Timestamp{DaysFromCivil(2026, 1, 1) * kMicrosPerDay};
  double transactions_per_customer = 8;   // mean over buying customers
  double interactions_per_customer = 4;
  int chunk_customers = 1000;  // customers per chunk (and per store batch)
};

// The source systems the demo company's data comes from.
inline constexpr std::string_view kCustomerSource = "billing";     // customers, accounts
inline constexpr std::string_view kTransactionSource = "shop";     // transactions
inline constexpr std::string_view kInteractionSource = "crm";      // interactions

struct RelationshipRow {
  std::string from_key;  // customer source keys (in kCustomerSource)
  std::string to_key;
  std::string type;
  std::string role;
  Timestamp valid_from;
};

struct ConsentRow {
  std::string customer_key;
  customer::Consent consent;  // customer_id unset
};

// A slice of the company: about chunk_customers customers and everything
// that belongs to them.
struct Chunk {
  std::vector<customer::CustomerRecord> customers;  // as first known (valid_from = customer since)
  std::vector<customer::CustomerRecord> changes;    // later states (moves, marriages), back-dated
  std::vector<RelationshipRow> relationships;
  std::vector<std::pair<customer::Identifier, customer::Account>> accounts;
  std::vector<std::pair<customer::Identifier, customer::Transaction>> transactions;
  std::vector<std::pair<customer::Identifier, customer::Interaction>> interactions;
  std::vector<ConsentRow> consents;
  void Clear();
};

// Streams the company chunk by chunk. Not thread-safe.
class Generator {
 public:
  explicit Generator(DemoOptions options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Fills chunk with the next slice; false when every customer is out.
  bool Next(Chunk* chunk);
  int64_t customers_done() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct DemoStats {
  int64_t customers = 0, persons = 0, households = 0, organizations = 0;
  int64_t changes = 0, relationships = 0, accounts = 0, transactions = 0, interactions = 0, consents = 0;
  int64_t rejected = 0;  // records the store refused (should be 0)
  std::string first_error;
  double seconds = 0;
  double customers_per_second() const { return seconds > 0 ? customers / seconds : 0; }
};

using DemoProgress = std::function<void(const DemoStats&, int64_t customers_total)>;

// Generates the company into store, chunk by chunk, one transaction per
// batch (accounts, transactions and interactions in batches of 5,000).
Result<DemoStats> GenerateIntoStore(customer::CustomerStore& store, const DemoOptions& options,
                                    const DemoProgress& progress = {});

enum class FileFormat { kCsv, kNdjson };

// Writes the company as import files into dir (created if absent):
// customers, customer_changes, accounts, transactions, interactions,
// relationships and consents, each .csv or .ndjson, with columns named like
// the API fields so `rapport import` reads them without a mapping.
Result<DemoStats> GenerateFiles(const std::string& dir, FileFormat format, const DemoOptions& options,
                                const DemoProgress& progress = {});

// The demo company's rules: the DMN model "offers" (src/demo/offers.dmn,
// decision "Next Offers" over the profile columns kind, orders, revenue365d,
// topCategory and serviceContacts), the six actions it names, the decision
// points "web-home" (web, app; shown in the 360 view) and "weekly-email",
// and the contact policies "email-consent" and "email-weekly-cap".
extern const std::string_view kOffersDmn;
inline constexpr std::string_view kOffersModel = "offers";

// Publishes the demo's rules through the rules repository's own lifecycle
// (upload, submit, approve, publish) as the admin actor "demo": an admin may
// approve its own version, which the audit trail shows. Does nothing and
// answers false when a model named "offers" already exists, so a re-run
// never overwrites what a user changed.
Result<bool> InstallDecisioning(decision::DecisionEngine& engine);

}  // namespace rapport::demo
