#pragma once
// The state behind CustomerStore and the row-level operations its public
// calls are built from. Every function here runs on a connection the caller
// borrowed (and, for writes, inside the caller's transaction).

#include <memory>
#include <mutex>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "storage/change_feed.h"

namespace rapport::customer {

// The change records of one write, appended with storage::AppendChanges at
// the end of its transaction (the feed's counter stays locked from there to
// the commit). kind is "<entity>.<verb>".
using Changes = std::vector<storage::ChangeRecord>;
inline void AddChange(Changes& out, std::string kind, CustomerId id, std::string entity, std::string key,
                      std::string data = "{}") {
  out.push_back({std::move(kind), id, std::move(entity), std::move(key), std::move(data)});
}

// The customers row: current state plus the bounds of its history.
struct StoredCustomer {
  CustomerId id = 0;
  Kind kind = Kind::kPerson;
  std::string display_name, email, phone;
  internal::AttributeMap attributes;  // valid now; no monostate entries
  Timestamp valid_from;               // earliest valid time of any assertion
  Timestamp latest_valid_from;        // latest valid time of any assertion
  Timestamp created_at, updated_at;
};

// One row of customer_attribute_history.
struct Assertion {
  int64_t id = 0;
  Timestamp valid_from, recorded_at;
  std::string source;
  internal::AttributeMap changes;  // monostate: removed
};

// What a new customer's rows hold, derived from its attributes (removals
// ignored) and its normalized identifiers: the customers row's columns, the
// first assertion's JSON and the search tokens stored for it.
struct NewCustomerRow {
  std::string display_name, email, phone;
  std::string json;             // the attributes, as customers.attributes and the first assertion hold them
  bool has_attributes = false;  // whether there is a first assertion
  std::vector<std::string> tokens;  // StoredSearchTokens
};
NewCustomerRow DeriveNewCustomer(const internal::AttributeMap& attributes, const std::vector<Identifier>& ids);

// A record of UpsertCustomers validated and normalized, before any database
// access, with the rows it writes if it creates a customer: all of it done
// on the caller's thread (an importer's reader), so the writing thread only
// looks up and writes.
struct PreparedRecord {
  internal::AttributeMap attrs;
  Timestamp valid_from;
  std::vector<Identifier> ids;    // ids[0] is the source key
  std::vector<size_t> positions;  // index of each id in the record's identifiers, for error fields
  std::vector<size_t> slots;      // each id's slot in the batch's owner table: equal ids, equal slots
  NewCustomerRow created;  // valid when derived
  bool derived = false;
};

// An identifier as a key, viewing a PreparedRecord's.
struct IdentifierKey {
  std::string_view scheme, value;
  bool operator==(const IdentifierKey&) const = default;
};
struct IdentifierKeyHash {
  size_t operator()(const IdentifierKey& k) const {
    return std::hash<std::string_view>()(k.value) * 31 + std::hash<std::string_view>()(k.scheme);
  }
};

// The state of one UpsertCustomers batch. Statement overhead, not the
// B-tree, dominates a bulk import, so the batch looks up the owners of all
// its identifiers in a few statements at its start, keeps them current as it
// writes, and writes new customers' identifiers and search tokens with
// multi-row INSERTs at its end, sorted: sorted inserts touch each B-tree page
// once instead of jumping around the index for every customer. Owners are
// kept by slot (see PreparedRecord), so the writer neither hashes nor copies
// an identifier; buffered identifiers and tokens point into the prepared
// records, which outlive the batch.
struct BatchBuffer {
  struct Owner {
    CustomerId id = 0;      // 0: free
    bool buffered = false;  // claimed by a new customer of this batch, not yet written
  };

  Timestamp now;  // creation time of the batch's customers
  std::vector<std::pair<const Identifier*, CustomerId>> identifiers;
  std::vector<std::pair<const std::string*, CustomerId>> tokens;
  std::vector<Owner> owners;          // by slot
  std::vector<size_t> buffered_slots;  // slots with buffered == true

  // Looks up the owners of every slot's identifier.
  Status LoadOwners(storage::Connection& c, const std::vector<const Identifier*>& slot_ids,
                    const std::unordered_map<IdentifierKey, size_t, IdentifierKeyHash>& slot_of);
  const Owner& OwnerOf(size_t slot) const { return owners[slot]; }
  void Claim(size_t slot, CustomerId id, bool buffered) {
    owners[slot] = Owner{id, buffered};
    if (buffered) buffered_slots.push_back(slot);
  }
  void Clear() {
    identifiers.clear();
    tokens.clear();
    owners.clear();
    buffered_slots.clear();
  }
  // Writes everything buffered, sorted, and marks it written.
  Status Flush(storage::Connection& c);
};

struct CustomerStore::PreparedCustomers::Data {
  std::string scheme;  // the source's identifier scheme
  std::shared_ptr<const internal::Catalog> catalog;
  Timestamp now;
  std::vector<PreparedRecord> records;
  std::vector<Kind> kinds;
  std::vector<Status> errors;     // preparation errors; such records are not written
  // The distinct identifiers of the records without an error, by slot.
  std::vector<const Identifier*> slot_ids;
  std::unordered_map<IdentifierKey, size_t, IdentifierKeyHash> slot_of;
  bool written = false;
};

struct CustomerStore::Impl {
  storage::Database* db = nullptr;
  const Clock* clock = nullptr;

  std::mutex catalog_mu;
  std::shared_ptr<const internal::Catalog> catalog;  // guarded by catalog_mu; replaced, never mutated

  std::mutex sections_mu;
  std::vector<std::pair<std::string, ViewSection>> sections;  // guarded by sections_mu

  std::shared_ptr<const internal::Catalog> Catalog();
  // The catalog, reloaded first when it lacks one of `names`: another
  // process (an import beside the server) may have defined it.
  template <typename Map>
  std::shared_ptr<const internal::Catalog> CatalogFor(const Map& names) {
    auto cat = Catalog();
    for (const auto& entry : names) {
      if (cat->find(entry.first) == cat->end()) {
        if (db->WithConnection([this](storage::Connection& c) { return ReloadCatalog(c); }).ok()) cat = Catalog();
        break;
      }
    }
    return cat;
  }
  Status ReloadCatalog(storage::Connection& c);

  // Checks names against the catalog and coerces values; errors carry
  // "<prefix>/<name>" as field. monostate entries are kept when allowed.
  Status ValidateAttributes(const internal::Catalog& catalog, const std::map<std::string, AttributeValue>& in,
                            bool allow_removal, std::string_view prefix, internal::AttributeMap* out);

  Result<StoredCustomer> LoadCustomer(storage::Connection& c, CustomerId id, std::string_view field);
  Status CheckCustomerExists(storage::Connection& c, CustomerId id, std::string_view field);
  Result<std::vector<Identifier>> LoadIdentifiers(storage::Connection& c, CustomerId id);
  Result<std::vector<Assertion>> LoadHistory(storage::Connection& c, CustomerId id, const internal::Catalog& catalog,
                                             std::optional<Timestamp> up_to);
  Result<std::optional<CustomerId>> OwnerOf(storage::Connection& c, const Identifier& id);
  Result<CustomerSummary> LoadSummary(storage::Connection& c, CustomerId id);

  // Inserts a new customer with its first assertion, identifiers and tokens.
  // Identifiers must be normalized and distinct. When one belongs to another
  // customer, nothing stays written and the error is kConflict with the
  // matching entry of identifier_fields.
  Result<StoredCustomer> InsertCustomer(storage::Connection& c, Kind kind, internal::AttributeMap attributes,
                                        const std::vector<Identifier>& identifiers,
                                        const std::vector<std::string>& identifier_fields, std::string_view source,
                                        Timestamp valid_from, Timestamp now);
  // Writes the customers row and the first assertion (if any) of a new
  // customer; returns its id. Identifiers and tokens are the caller's.
  Result<CustomerId> InsertCustomerRow(storage::Connection& c, Kind kind, const NewCustomerRow& row,
                                       std::string_view source, Timestamp valid_from, Timestamp now);
  // Writes the identifiers of a customer inserted just now (see InsertCustomer).
  Status InsertIdentifiers(storage::Connection& c, CustomerId id, const std::vector<Identifier>& ids,
                           const std::vector<std::string>& fields, Timestamp now);
  // Appends the assertions among `changes` that differ from the value valid
  // at valid_from, and recomputes row->attributes. Returns whether anything
  // was appended. Does not write the customers row (see SaveCustomer).
  Result<bool> AppendAssertions(storage::Connection& c, const internal::Catalog& catalog, StoredCustomer* row,
                                const internal::AttributeMap& changes, std::string_view source,
                                Timestamp valid_from, Timestamp now);
  // Adds an identifier to a customer; kConflict (field `field`) when it
  // belongs to another. Returns whether it was new.
  Result<bool> AttachIdentifier(storage::Connection& c, CustomerId id, const Identifier& ident, Timestamp now,
                                std::string_view field);
  // Rederives display name, email and phone, rewrites the search tokens that
  // changed and stores the customers row. identifiers_changed: the caller
  // attached or removed identifiers of the customer in this transaction.
  Status SaveCustomer(storage::Connection& c, StoredCustomer* row, Timestamp now, bool identifiers_changed);

  // A batch row's customer: its customer_id, or the owner of ident.
  Result<CustomerId> ResolveCustomer(storage::Connection& c, CustomerId id, const Identifier& ident);

  // Validates and normalizes one record of UpsertCustomers (not its slots).
  Status PrepareRecord(const internal::Catalog& cat, const std::string& scheme, const CustomerRecord& rec,
                       Timestamp now, PreparedRecord* out);
  // Writes one prepared record (deriving rec.created if it creates one and
  // was not derived yet).
  Result<UpsertOutcome::Action> UpsertRecord(storage::Connection& c, const internal::Catalog& catalog,
                                             const std::string& scheme, PreparedRecord& rec, Kind kind,
                                             Timestamp now, BatchBuffer* batch);

  Result<Customer> ReadCustomer(storage::Connection& c, CustomerId id, const ReadOptions& opt);
};

// Reads for the 360 view, each one index range scan.
// Relationships valid at `at`, from the customer (outgoing) or to it.
Result<std::vector<Relationship>> LoadRelationships(storage::Connection& c, CustomerId id, bool outgoing, Timestamp at,
                                                    int64_t limit);
Result<std::vector<Account>> LoadAccounts(storage::Connection& c, CustomerId id, Timestamp at);
Result<std::vector<Transaction>> LoadRecentTransactions(storage::Connection& c, CustomerId id, Timestamp at,
                                                        int64_t limit);
Result<std::vector<Interaction>> LoadRecentInteractions(storage::Connection& c, CustomerId id, Timestamp at,
                                                        int64_t limit);

// True for errors about one record of a batch; anything else aborts it.
// Checks and normalizes a transaction before it is written (activity.cc):
// every error names its field under `at` ("" or "/3"); a zero occurred_at
// becomes now.
Status ValidateTransaction(Transaction& t, Timestamp now, std::string_view at);

inline bool IsRecordError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kConflict:
    case StatusCode::kUnprocessable: return true;
    default: return false;
  }
}

// The value of each attribute after applying assertions in order
// (valid_from, recorded_at, id) up to and including `at`.
internal::AttributeMap FoldAssertions(const std::vector<Assertion>& history, Timestamp at);

}  // namespace rapport::customer
