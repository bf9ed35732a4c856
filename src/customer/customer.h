#pragma once
// The customer data hub: customers (person, household, organization) with
// typed, historized attributes and identifiers; relationships; accounts,
// transactions, interactions and consents; and the 360-degree view. This is
// the system of record every department shares. CustomerStore is thread-safe:
// each call borrows its own connection from the storage pool.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "storage/storage.h"

namespace rapport::customer {

using CustomerId = int64_t;

enum class Kind { kPerson, kHousehold, kOrganization };
std::string_view KindName(Kind k);  // "person", "household", "organization"
Result<Kind> ParseKind(std::string_view s);

// ---- attributes -----------------------------------------------------------

enum class AttributeType { kString, kNumber, kInteger, kBoolean, kDate, kTimestamp };
std::string_view AttributeTypeName(AttributeType t);  // "string", "number", ...
Result<AttributeType> ParseAttributeType(std::string_view s);

// One entry of the attribute catalog. Attributes not in the catalog are
// rejected on write (unknown field), so the catalog is the schema analysts
// and the profile store rely on. Built-in entries: firstName, lastName, name,
// birthDate, gender, email, phone, street, city, postcode, region, country,
// timeZone, language, industry, employees, annualRevenue, segment.
struct AttributeDefinition {
  std::string name;         // camelCase, [A-Za-z][A-Za-z0-9_]*
  AttributeType type = AttributeType::kString;
  bool pii = false;         // personally identifiable: masked for roles without PII access
  std::string description;
};

// A typed attribute value. Dates are "YYYY-MM-DD" strings, timestamps RFC
// 3339 strings (both validated against the catalog type on write).
// std::monostate means "no value" (an attribute removed at some valid time).
using AttributeValue = std::variant<std::monostate, std::string, int64_t, double, bool>;

// Checks and normalizes a value against its definition (e.g. an integer
// given for a number attribute becomes a double; a date is validated).
Result<AttributeValue> CoerceAttribute(const AttributeDefinition& def, const AttributeValue& v);

// One historized assertion: from valid_from on (until a later assertion for
// the same attribute), the attribute had `value`, according to `source`,
// recorded by Rapport at `recorded_at`.
struct AttributeChange {
  std::string name;
  AttributeValue value;
  Timestamp valid_from;
  Timestamp recorded_at;
  std::string source;
};

// ---- identifiers -----------------------------------------------------------

// How a customer is known in some system: scheme "email", "phone", or an
// external system's name ("billing", "shop", "segment.user" ...). Text form is
// "scheme:value" (e.g. "billing:88231"). Emails are lower-cased and trimmed,
// phones reduced to "+" and digits. An identifier belongs to one customer.
struct Identifier {
  std::string scheme;
  std::string value;
  std::string ToString() const { return scheme + ":" + value; }
  bool operator==(const Identifier&) const = default;
};
Result<Identifier> ParseIdentifier(std::string_view text);  // "scheme:value"
Result<Identifier> NormalizeIdentifier(Identifier id);

// ---- the customer ------------------------------------------------------------

struct Customer {
  CustomerId id = 0;
  Kind kind = Kind::kPerson;
  std::string display_name;  // name, or firstName + lastName
  std::map<std::string, AttributeValue> attributes;  // as of the read time; no monostate entries
  std::vector<Identifier> identifiers;
  Timestamp created_at;
  Timestamp updated_at;
};

struct NewCustomer {
  Kind kind = Kind::kPerson;
  std::map<std::string, AttributeValue> attributes;
  std::vector<Identifier> identifiers;
  std::string source = "api";          // system the data came from
  std::optional<Timestamp> valid_from;  // default: now
};

// A partial update. An attribute mapped to std::monostate is removed (from
// valid_from on). Only attributes whose value changes create history.
struct CustomerPatch {
  std::map<std::string, AttributeValue> attributes;
  std::vector<Identifier> add_identifiers;
  std::vector<Identifier> remove_identifiers;
  std::string source = "api";
  std::optional<Timestamp> valid_from;  // default: now; may be in the past (back-dated corrections)
};

// ---- relationships -----------------------------------------------------------

// Built-in types and the kinds they join: member_of (person -> household),
// works_for (person -> organization, with role), subsidiary_of (organization
// -> organization). Any other [a-z_]+ type is user-defined and joins any kinds.
struct Relationship {
  int64_t id = 0;
  CustomerId from = 0;
  CustomerId to = 0;
  std::string type;
  std::string role;  // e.g. "buyer" for works_for; may be empty
  Timestamp valid_from;
  std::optional<Timestamp> valid_to;  // ended relationships stay in history
  std::string source;
};

// ---- accounts, transactions, interactions, consents -----------------------

// Rules every record below is held to on write (each error names its field):
// text is valid UTF-8 without NUL; source and source_key, like identifier
// values, hold no control characters; times lie within AcceptedYears();
// currencies are active ISO 4217 codes (upper-cased: "eur" is EUR); money is
// an exact Money (at most 4 decimal places, |amount| <= 10^11).

// A product or contract a customer holds. (source, source_key) is unique:
// writing the same key again updates the account (idempotent import).
struct Account {
  int64_t id = 0;
  CustomerId customer_id = 0;
  std::string source;
  std::string source_key;
  std::string product;
  std::string status = "active";  // active, closed, suspended, ...
  Timestamp opened_at;
  std::optional<Timestamp> closed_at;
  Money balance;  // balance or contract value; may be negative (an overdraft, a debt)
  std::string currency = "EUR";
};

// A purchase, refund or payment. (source, source_key) is unique when the key
// is set: re-importing the same row does not duplicate it.
struct Transaction {
  int64_t id = 0;
  CustomerId customer_id = 0;
  std::optional<int64_t> account_id;
  std::string source;
  std::string source_key;
  Timestamp occurred_at;
  std::string channel;   // web, store, phone, field, app, ...
  std::string location;  // store id, site, region
  std::string sku;
  std::string item;      // product name
  std::string category;
  double quantity = 1;   // > 0, at most 10^9; a refund has a positive quantity too
  Money amount;          // total, in currency; negative for refunds
  std::string currency = "EUR";
};

// Any contact between the company and the customer.
struct Interaction {
  int64_t id = 0;
  CustomerId customer_id = 0;
  std::string source;
  std::string source_key;  // optional; unique with source when set
  Timestamp occurred_at;
  std::string agent;        // who on our side (user or system)
  std::string department;   // marketing, sales, service, ...
  std::string type;         // call, email, visit, chat, page_view, complaint, ...
  std::string purpose;      // what it was about
  std::string channel;      // web, email, store, call_centre, field_sales, app, ...
  std::string touch_point;  // page, store, queue, campaign landing page
  std::string direction;    // inbound, outbound
  std::string reason;       // why: reason code
  std::string campaign;     // or the campaign it belongs to
  std::string outcome;      // resolved, sale, no_answer, ...
  std::string properties_json = "{}";  // extra fields, a JSON object
};

// Consent for one channel (email, sms, phone, post, push, ...) and purpose
// (marketing, service, profiling, ...). Every change is kept.
struct Consent {
  CustomerId customer_id = 0;
  std::string channel;
  std::string purpose = "marketing";
  bool granted = false;
  Timestamp at;
  std::string source;
};

// ---- reading ---------------------------------------------------------------

struct ReadOptions {
  std::optional<Timestamp> as_of;  // valid time; default now
  // The reader may see personal data. false: view sections mask free text
  // that may hold it (case titles, alert messages). Attributes are masked by
  // the caller, which knows which ones are PII.
  bool pii = true;
};

// One result of a search: enough to show a list.
struct CustomerSummary {
  CustomerId id = 0;
  Kind kind = Kind::kPerson;
  std::string display_name;
  std::string email;
  std::string phone;
};

// Cursor pagination: pass next_cursor back to get the following page; an
// empty next_cursor means this was the last page.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

struct SearchQuery {
  std::string q;  // name words (prefix), email, phone or "scheme:value"; empty lists all
  std::optional<Kind> kind;
  std::string cursor;
  int limit = 50;  // 1..1000
};
// Whether Search matches q against personal data: name words, e-mails,
// phones and email:/phone: identifiers do; the empty query and an
// identifier of another scheme ("billing:88231") do not. Roles that may not
// see personal data may not search by it, or the answer tells them whether
// someone is a customer.
bool SearchReadsPii(std::string_view q);

// Sums are exact (see MoneySum) over transactions of every currency alike.
struct TransactionSummary {
  int64_t count = 0;
  Money revenue;
  std::optional<Timestamp> first_purchase;
  std::optional<Timestamp> last_purchase;
  struct TopItem {
    std::string sku;
    std::string item;
    double quantity = 0;
    Money revenue;
  };
  std::vector<TopItem> top_items;  // by revenue, at most 5
};

// A linked customer with the relationship that links it; for households and
// organizations, their members too.
struct LinkedCustomer {
  Relationship relationship;
  CustomerSummary customer;
  std::vector<CustomerSummary> members;  // other members of that household / organization
};

// The 360-degree view as of a time. Sections added by later capabilities
// (segments, scores, next best action, open cases) come from ViewSection
// providers registered on the store.
struct CustomerView {
  Customer customer;
  std::vector<LinkedCustomer> links;       // households, employers, subsidiaries, parents
  std::vector<CustomerSummary> members;    // if this is a household / organization
  std::vector<Account> accounts;
  TransactionSummary transaction_summary;
  std::vector<Transaction> recent_transactions;  // newest first, at most 10
  std::vector<Interaction> recent_interactions;  // newest first, at most 20, all channels
  std::vector<Consent> consents;                 // current state per channel+purpose
  std::vector<std::pair<std::string, std::string>> sections;  // name -> JSON text, from providers
};

// A registration point for the 360 view: a provider returns its section as
// JSON text (an object or array), or NotFound to leave the section out.
using ViewSection = std::function<Result<std::string>(CustomerId, const ReadOptions&)>;

// ---- import ----------------------------------------------------------------

// One row of a bulk import, already mapped to fields. Customers are upserted
// by (source, source_key), which becomes the identifier "source:source_key".
struct CustomerRecord {
  std::string source_key;
  Kind kind = Kind::kPerson;
  std::map<std::string, AttributeValue> attributes;
  std::vector<Identifier> identifiers;
  std::optional<Timestamp> valid_from;
};

struct UpsertOutcome {
  enum class Action { kCreated, kUpdated, kUnchanged } action = Action::kCreated;
  CustomerId id = 0;
};

// ---- the store ---------------------------------------------------------------

class CustomerStore {
 public:
  // Applies the customer module's migrations to db and returns a store over
  // it. db and clock must outlive the store.
  static Result<std::unique_ptr<CustomerStore>> Open(storage::Database* db, const Clock* clock);
  ~CustomerStore();

  // Attribute catalog.
  Result<std::vector<AttributeDefinition>> ListAttributes();
  Status DefineAttribute(const AttributeDefinition& def);  // adds or updates the description/pii flag

  // Customers.
  Result<Customer> Create(const NewCustomer& c);
  Result<Customer> Get(CustomerId id, const ReadOptions& opt = {});
  Result<Customer> Update(CustomerId id, const CustomerPatch& patch);
  Result<Page<CustomerSummary>> Search(const SearchQuery& q);
  Result<std::optional<CustomerId>> FindByIdentifier(const Identifier& id);
  // Every attribute assertion of the customer, oldest valid time first.
  Result<std::vector<AttributeChange>> History(CustomerId id);

  Result<Relationship> AddRelationship(Relationship r);  // id, source filled in
  Result<Relationship> EndRelationship(int64_t relationship_id, Timestamp at);

  Result<Account> UpsertAccount(Account a);
  Result<Transaction> AddTransaction(Transaction t);   // idempotent on (source, source_key)
  Result<Interaction> AddInteraction(Interaction i);   // idempotent on (source, source_key)
  // One stored interaction by id (the key of its interaction.added change);
  // NotFound when there is none.
  Result<Interaction> GetInteraction(int64_t id);
  Result<Consent> SetConsent(Consent c);

  Result<CustomerView> View(CustomerId id, const ReadOptions& opt = {});
  // Every customer's current consent per (channel, purpose) at `at`, ordered
  // by customer: for a decision engine that holds consents in memory.
  Result<std::vector<Consent>> CurrentConsents(Timestamp at);
  void RegisterViewSection(std::string name, ViewSection provider);

  // Bulk import: each batch is one transaction. outcomes/errors are per
  // record, in order; a bad record gets an error and the rest are written.
  // Accounts, transactions and interactions reference their customer by
  // customer_id, or by the customer's identifier when customer_id is 0.
  struct BatchResult {
    std::vector<Status> errors;  // one per input; OK where written
    int64_t created = 0, updated = 0, unchanged = 0;
  };
  Result<BatchResult> UpsertCustomers(std::string_view source, const std::vector<CustomerRecord>& records);
  // The same in two steps: PrepareCustomers validates and normalizes, and
  // derives the rows each record writes if it creates a customer, without
  // touching the database, so an importer prepares batch k+1 on one thread
  // while batch k is written on another. A prepared batch is written once;
  // the caller may keep a copy to free it on its own thread.
  struct PreparedCustomers {
    struct Data;
    std::shared_ptr<Data> data;
  };
  Result<PreparedCustomers> PrepareCustomers(std::string_view source, const std::vector<CustomerRecord>& records);
  Result<BatchResult> UpsertCustomers(PreparedCustomers batch);
  Result<BatchResult> UpsertAccounts(const std::vector<std::pair<Identifier, Account>>& rows);
  Result<BatchResult> AddTransactions(const std::vector<std::pair<Identifier, Transaction>>& rows);
  Result<BatchResult> AddInteractions(const std::vector<std::pair<Identifier, Interaction>>& rows);
  // Attribute changes of many customers in one transaction (batch_update.cc):
  // each patch's attributes only (its identifiers must be empty); a patch
  // with an unknown customer or a bad value gets its error, the rest are written.
  Result<BatchResult> UpdateAttributes(const std::vector<std::pair<CustomerId, CustomerPatch>>& patches);
  // Transactions of customers known to exist (ids from this store), each with
  // a source_key, in one transaction without per-row lookups: the tracking
  // API's orders (batch_update.cc). A (source, source_key) already stored is
  // skipped, not compared. Returns how many were written; a bad row fails
  // the whole call.
  Result<int64_t> AppendTransactions(const std::vector<Transaction>& rows);

  storage::Database& database();
  const Clock& clock() const;

 private:
  struct Impl;
  explicit CustomerStore(std::unique_ptr<Impl> impl);
  Result<PreparedCustomers> Prepare(std::string_view source, const std::vector<CustomerRecord>& records,
                                    bool derive_created);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::customer
