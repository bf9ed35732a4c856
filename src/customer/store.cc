// CustomerStore: opening, the attribute catalog, and the customer rows with
// their bitemporal attribute history, identifiers and search tokens.

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include "common/json.h"
#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "customer/internal/queries.h"
#include "customer/internal/schema.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using internal::AttributeMap;
using storage::Connection;
using storage::QueryResult;
using storage::Value;

namespace {

bool ValidAttributeName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool SameValue(const AttributeMap& m, const std::string& name, const AttributeValue& v) {
  auto it = m.find(name);
  if (it == m.end()) return std::holds_alternative<std::monostate>(v);
  return it->second == v;
}

// One multi-row INSERT per customer: statement overhead, not the B-tree,
// dominates for a handful of short rows. The text depends only on the
// count, so the prepared statements are cached. A token already stored is
// kept (see SaveCustomer).
Status InsertTokens(Connection& c, CustomerId id, const std::vector<std::string>& tokens) {
  constexpr size_t kMaxRows = 16;
  std::string sql;
  std::vector<Value> params;
  for (size_t start = 0; start < tokens.size(); start += kMaxRows) {
    size_t end = std::min(tokens.size(), start + kMaxRows);
    sql = "INSERT INTO customer_search_tokens (token, customer_id) VALUES ";
    params.clear();
    for (size_t i = start; i < end; ++i) {
      sql += i == start ? "(?, ?)" : ", (?, ?)";
      params.emplace_back(tokens[i]);
      params.emplace_back(id);
    }
    sql += " ON CONFLICT (token, customer_id) DO NOTHING";
    RP_RETURN_IF_ERROR(c.ExecuteV(sql, params).status());
  }
  return Status::Ok();
}

}  // namespace

namespace {

// Rows per multi-row INSERT and values per IN list: one statement text
// each, so the prepared statements are cached.
constexpr size_t kBulkRows = 128;

const std::string& RepeatedSql(std::string_view head, std::string_view row, std::string_view separator,
                               std::string_view tail, size_t n, std::string* cache) {
  if (cache->empty()) {
    *cache = head;
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) *cache += separator;
      *cache += row;
    }
    *cache += tail;
  }
  return *cache;
}

}  // namespace

Status BatchBuffer::LoadOwners(Connection& c, const std::vector<const Identifier*>& slot_ids,
                               const std::unordered_map<IdentifierKey, size_t, IdentifierKeyHash>& slot_of) {
  owners.assign(slot_ids.size(), Owner{});
  std::map<std::string_view, std::vector<const std::string*>> by_scheme;
  for (const Identifier* i : slot_ids) by_scheme[i->scheme].push_back(&i->value);
  thread_local std::string sql_text;
  const std::string& sql = RepeatedSql("SELECT value, customer_id FROM customer_identifiers WHERE scheme = ? AND value IN (",
                                       "?", ", ", ")", kBulkRows, &sql_text);
  std::vector<Value> params;
  for (const auto& [scheme, values] : by_scheme) {
    for (size_t start = 0; start < values.size(); start += kBulkRows) {
      params.clear();
      params.emplace_back(scheme);
      for (size_t k = 0; k < kBulkRows; ++k) {
        // A short last chunk repeats its last value: same statement text.
        params.emplace_back(*values[std::min(start + k, values.size() - 1)]);
      }
      RP_ASSIGN_OR_RETURN(QueryResult r, c.QueryV(sql, params));
      for (const auto& row : r.rows) {
        auto it = slot_of.find(IdentifierKey{scheme, row[0].AsText()});
        if (it != slot_of.end()) owners[it->second].id = row[1].AsInt();
      }
    }
  }
  return Status::Ok();
}

Status BatchBuffer::Flush(Connection& c) {
  std::sort(identifiers.begin(), identifiers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first->scheme, a.first->value) < std::tie(b.first->scheme, b.first->value);
  });
  std::sort(tokens.begin(), tokens.end(),
            [](const auto& a, const auto& b) { return std::tie(*a.first, a.second) < std::tie(*b.first, b.second); });
  thread_local std::string ident_sql, token_sql;
  std::vector<Value> params;
  size_t i = 0;
  for (; i + kBulkRows <= identifiers.size(); i += kBulkRows) {
    params.clear();
    for (size_t k = i; k < i + kBulkRows; ++k) {
      const auto& [ident, id] = identifiers[k];
      params.insert(params.end(), {ident->scheme, ident->value, id, now.micros});
    }
    RP_RETURN_IF_ERROR(c.ExecuteV(RepeatedSql("INSERT INTO customer_identifiers (scheme, value, customer_id, "
                                              "created_at) VALUES ",
                                              "(?, ?, ?, ?)", ", ", "", kBulkRows, &ident_sql),
                                  params)
                           .status());
  }
  for (; i < identifiers.size(); ++i) {
    const auto& [ident, id] = identifiers[i];
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customer_identifiers (scheme, value, customer_id, created_at) "
                                 "VALUES (?, ?, ?, ?)",
                                 {ident->scheme, ident->value, id, now.micros})
                           .status());
  }
  for (i = 0; i + kBulkRows <= tokens.size(); i += kBulkRows) {
    params.clear();
    for (size_t k = i; k < i + kBulkRows; ++k) params.insert(params.end(), {*tokens[k].first, tokens[k].second});
    RP_RETURN_IF_ERROR(c.ExecuteV(RepeatedSql("INSERT INTO customer_search_tokens (token, customer_id) VALUES ",
                                              "(?, ?)", ", ", "", kBulkRows, &token_sql),
                                  params)
                           .status());
  }
  for (; i < tokens.size(); ++i) {
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customer_search_tokens (token, customer_id) VALUES (?, ?)",
                                 {*tokens[i].first, tokens[i].second})
                           .status());
  }
  identifiers.clear();
  tokens.clear();
  for (size_t slot : buffered_slots) owners[slot].buffered = false;
  buffered_slots.clear();
  return Status::Ok();
}

NewCustomerRow DeriveNewCustomer(const AttributeMap& attributes, const std::vector<Identifier>& ids) {
  NewCustomerRow row;
  row.display_name = internal::DisplayName(attributes);
  auto text_attr = [&](const char* name) -> std::string {
    auto it = attributes.find(name);
    return it != attributes.end() && std::holds_alternative<std::string>(it->second) ? std::get<std::string>(it->second)
                                                                                      : std::string();
  };
  row.email = text_attr("email");
  row.phone = text_attr("phone");
  for (const Identifier& i : ids) {
    if (row.email.empty() && i.scheme == "email") row.email = i.value;
    if (row.phone.empty() && i.scheme == "phone") row.phone = i.value;
  }
  internal::EncodeAttributes(attributes, &row.json, /*keep_removals=*/false);
  row.has_attributes = std::any_of(attributes.begin(), attributes.end(), [](const auto& entry) {
    return !std::holds_alternative<std::monostate>(entry.second);
  });
  row.tokens = internal::StoredSearchTokens(internal::SearchTokens(row.display_name, row.email, row.phone), ids);
  return row;
}

AttributeMap FoldAssertions(const std::vector<Assertion>& history, Timestamp at) {
  AttributeMap out;
  for (const Assertion& a : history) {
    if (a.valid_from > at) continue;
    for (const auto& [name, value] : a.changes) {
      if (std::holds_alternative<std::monostate>(value)) {
        out.erase(name);
      } else {
        out.insert_or_assign(name, value);
      }
    }
  }
  return out;
}

// ---- Impl: catalog ----------------------------------------------------------

std::shared_ptr<const internal::Catalog> CustomerStore::Impl::Catalog() {
  std::lock_guard<std::mutex> lock(catalog_mu);
  return catalog;
}

Status CustomerStore::Impl::ReloadCatalog(Connection& c) {
  RP_ASSIGN_OR_RETURN(QueryResult r,
                      c.Query("SELECT name, type, pii, description FROM customer_attribute_catalog ORDER BY name"));
  auto fresh = std::make_shared<internal::Catalog>();
  for (const auto& row : r.rows) {
    AttributeDefinition def;
    def.name = row[0].AsText();
    auto type = ParseAttributeType(row[1].AsText());
    if (!type.ok()) return Status::Internal("attribute catalog: " + type.status().message());
    def.type = *type;
    def.pii = row[2].AsInt() != 0;
    def.description = row[3].AsText();
    fresh->emplace(def.name, std::move(def));
  }
  std::lock_guard<std::mutex> lock(catalog_mu);
  catalog = std::move(fresh);
  return Status::Ok();
}

Status CustomerStore::Impl::ValidateAttributes(const internal::Catalog& cat,
                                               const std::map<std::string, AttributeValue>& in, bool allow_removal,
                                               std::string_view prefix, AttributeMap* out) {
  for (const auto& entry : in) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture one
    const AttributeValue& value = entry.second;
    // Built only on the error path: this loop runs for every imported value.
    auto field = [&] { return std::string(prefix) + "/attributes/" + name; };
    auto def = cat.find(name);
    if (def == cat.end()) {
      return Status::InvalidArgument("unknown attribute '" + name + "': define it in the attribute catalog first",
                                     field());
    }
    if (std::holds_alternative<std::monostate>(value)) {
      if (!allow_removal) continue;  // nothing to create
      out->insert_or_assign(name, value);
      continue;
    }
    auto coerced = CoerceAttribute(def->second, value);
    if (!coerced.ok()) return Status::InvalidArgument(coerced.status().message(), field());
    out->insert_or_assign(name, std::move(*coerced));
  }
  return Status::Ok();
}

// ---- Impl: reads --------------------------------------------------------------

Result<StoredCustomer> CustomerStore::Impl::LoadCustomer(Connection& c, CustomerId id, std::string_view field) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kCustomerById, {id}));
  if (r.empty()) return Status::NotFound("customer " + std::to_string(id) + " does not exist", std::string(field));
  const auto& row = r.rows[0];
  StoredCustomer s;
  s.id = id;
  RP_ASSIGN_OR_RETURN(s.kind, ParseKind(row[0].AsText()));
  s.display_name = row[1].AsText();
  s.email = row[2].AsText();
  s.phone = row[3].AsText();
  auto cat = Catalog();
  RP_ASSIGN_OR_RETURN(s.attributes, internal::DecodeAttributes(row[4].AsText(), *cat));
  s.valid_from = {row[5].AsInt()};
  s.latest_valid_from = {row[6].AsInt()};
  s.created_at = {row[7].AsInt()};
  s.updated_at = {row[8].AsInt()};
  return s;
}

Status CustomerStore::Impl::CheckCustomerExists(Connection& c, CustomerId id, std::string_view field) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT kind FROM customers WHERE id = ?", {id}));
  if (r.empty()) return Status::NotFound("customer " + std::to_string(id) + " does not exist", std::string(field));
  return Status::Ok();
}

Result<std::vector<Identifier>> CustomerStore::Impl::LoadIdentifiers(Connection& c, CustomerId id) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kIdentifiersOfCustomer, {id}));
  std::vector<Identifier> out;
  out.reserve(r.rows.size());
  for (auto& row : r.rows) out.push_back({row[0].AsText(), row[1].AsText()});
  return out;
}

Result<std::vector<Assertion>> CustomerStore::Impl::LoadHistory(Connection& c, CustomerId id,
                                                                const internal::Catalog& cat,
                                                                std::optional<Timestamp> up_to) {
  QueryResult r;
  if (up_to) {
    RP_ASSIGN_OR_RETURN(r, c.Query(sql::kHistoryUpTo, {id, up_to->micros}));
  } else {
    RP_ASSIGN_OR_RETURN(r, c.Query(sql::kHistoryAll, {id}));
  }
  std::vector<Assertion> out;
  out.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    Assertion a;
    a.id = row[0].AsInt();
    a.valid_from = {row[1].AsInt()};
    a.recorded_at = {row[2].AsInt()};
    a.source = row[3].AsText();
    RP_ASSIGN_OR_RETURN(a.changes, internal::DecodeAttributes(row[4].AsText(), cat));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::optional<CustomerId>> CustomerStore::Impl::OwnerOf(Connection& c, const Identifier& id) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kIdentifierOwner, {id.scheme, id.value}));
  if (r.empty()) return std::optional<CustomerId>();
  return std::optional<CustomerId>(r.rows[0][0].AsInt());
}

Result<CustomerSummary> CustomerStore::Impl::LoadSummary(Connection& c, CustomerId id) {
  RP_ASSIGN_OR_RETURN(QueryResult r,
                      c.Query(sql::kSummaryById, {id}));
  if (r.empty()) return Status::NotFound("customer " + std::to_string(id) + " does not exist");
  CustomerSummary s;
  s.id = id;
  RP_ASSIGN_OR_RETURN(s.kind, ParseKind(r.rows[0][0].AsText()));
  s.display_name = r.rows[0][1].AsText();
  s.email = r.rows[0][2].AsText();
  s.phone = r.rows[0][3].AsText();
  return s;
}

Result<Customer> CustomerStore::Impl::ReadCustomer(Connection& c, CustomerId id, const ReadOptions& opt) {
  RP_ASSIGN_OR_RETURN(StoredCustomer row, LoadCustomer(c, id, "/customerId"));
  Customer out;
  out.id = id;
  out.kind = row.kind;
  out.created_at = row.created_at;
  out.updated_at = row.updated_at;
  if (!opt.as_of || *opt.as_of >= row.latest_valid_from) {
    out.display_name = std::move(row.display_name);
    out.attributes = std::move(row.attributes);
  } else {
    if (*opt.as_of < row.valid_from) {
      return Status::NotFound("customer " + std::to_string(id) + " did not exist at " + FormatRfc3339(*opt.as_of),
                              "/asOf");
    }
    auto cat = Catalog();
    RP_ASSIGN_OR_RETURN(std::vector<Assertion> history, LoadHistory(c, id, *cat, opt.as_of));
    out.attributes = FoldAssertions(history, *opt.as_of);
    out.display_name = internal::DisplayName(out.attributes);
  }
  RP_ASSIGN_OR_RETURN(out.identifiers, LoadIdentifiers(c, id));
  return out;
}

// ---- Impl: writes ---------------------------------------------------------------

Result<CustomerId> CustomerStore::Impl::InsertCustomerRow(Connection& c, Kind kind, const NewCustomerRow& row,
                                                          std::string_view source, Timestamp valid_from,
                                                          Timestamp now) {
  std::initializer_list<Value> values = {KindName(kind),    row.display_name,  row.email,  row.phone, row.json,
                                         valid_from.micros, valid_from.micros, now.micros, now.micros};
  CustomerId id = 0;
  if (c.dialect() == storage::Dialect::kSqlite) {
    // The SQLite fast path: no result set to materialize.
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customers (kind, display_name, email, phone, attributes, valid_from, "
                                 "latest_valid_from, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 values)
                           .status());
    id = c.LastInsertId();
  } else {
    RP_ASSIGN_OR_RETURN(QueryResult ins,
                        c.Query("INSERT INTO customers (kind, display_name, email, phone, attributes, valid_from, "
                                "latest_valid_from, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                "RETURNING id",
                                values));
    id = ins.rows.at(0)[0].AsInt();
  }
  if (row.has_attributes) {
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customer_attribute_history (customer_id, valid_from, recorded_at, "
                                 "source, changes) VALUES (?, ?, ?, ?, ?)",
                                 {id, valid_from.micros, now.micros, source, row.json})
                           .status());
  }
  return id;
}

Result<StoredCustomer> CustomerStore::Impl::InsertCustomer(Connection& c, Kind kind, AttributeMap attributes,
                                                           const std::vector<Identifier>& identifiers,
                                                           const std::vector<std::string>& identifier_fields,
                                                           std::string_view source, Timestamp valid_from,
                                                           Timestamp now) {
  std::erase_if(attributes, [](const auto& entry) { return std::holds_alternative<std::monostate>(entry.second); });
  NewCustomerRow derived = DeriveNewCustomer(attributes, identifiers);
  RP_ASSIGN_OR_RETURN(CustomerId id, InsertCustomerRow(c, kind, derived, source, valid_from, now));
  RP_RETURN_IF_ERROR(InsertIdentifiers(c, id, identifiers, identifier_fields, now));
  RP_RETURN_IF_ERROR(InsertTokens(c, id, derived.tokens));
  StoredCustomer row;
  row.id = id;
  row.kind = kind;
  row.display_name = std::move(derived.display_name);
  row.email = std::move(derived.email);
  row.phone = std::move(derived.phone);
  row.attributes = std::move(attributes);
  row.valid_from = row.latest_valid_from = valid_from;
  row.created_at = row.updated_at = now;
  return row;
}

Status CustomerStore::Impl::InsertIdentifiers(Connection& c, CustomerId id, const std::vector<Identifier>& ids,
                                              const std::vector<std::string>& fields, Timestamp now) {
  if (ids.empty()) return Status::Ok();
  // One statement for all of them; a taken identifier is skipped by the
  // upsert clause, which shows in the count of rows written.
  std::string sql = "INSERT INTO customer_identifiers (scheme, value, customer_id, created_at) VALUES ";
  std::vector<Value> params;
  params.reserve(ids.size() * 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    sql += i == 0 ? "(?, ?, ?, ?)" : ", (?, ?, ?, ?)";
    params.emplace_back(ids[i].scheme);
    params.emplace_back(ids[i].value);
    params.emplace_back(id);
    params.emplace_back(now.micros);
  }
  sql += " ON CONFLICT (scheme, value) DO NOTHING";
  RP_ASSIGN_OR_RETURN(int64_t written, c.ExecuteV(sql, params));
  if (written == static_cast<int64_t>(ids.size())) return Status::Ok();
  // Rare: find the identifier that belongs to someone else, and take back
  // this customer's rows so a batch can go on without it.
  Status conflict = Status::Internal("identifier insert wrote fewer rows than given");
  for (size_t i = 0; i < ids.size(); ++i) {
    RP_ASSIGN_OR_RETURN(std::optional<CustomerId> owner, OwnerOf(c, ids[i]));
    if (owner && *owner != id) {
      conflict = Status::Conflict("identifier " + ids[i].ToString() + " belongs to customer " + std::to_string(*owner),
                                  i < fields.size() ? fields[i] : std::string());
      break;
    }
  }
  RP_RETURN_IF_ERROR(c.Execute("DELETE FROM customer_identifiers WHERE customer_id = ?", {id}).status());
  RP_RETURN_IF_ERROR(c.Execute("DELETE FROM customer_attribute_history WHERE customer_id = ?", {id}).status());
  RP_RETURN_IF_ERROR(c.Execute("DELETE FROM customers WHERE id = ?", {id}).status());
  return conflict;
}

Result<bool> CustomerStore::Impl::AppendAssertions(Connection& c, const internal::Catalog& cat, StoredCustomer* row,
                                                   const AttributeMap& changes, std::string_view source,
                                                   Timestamp valid_from, Timestamp now) {
  // The common case: the new assertion is the latest in valid time, so the
  // current values are its baseline. A back-dated one is compared with what
  // was valid at its valid_from, and the current values are refolded.
  bool latest = valid_from >= row->latest_valid_from;
  std::vector<Assertion> history;
  AttributeMap baseline_storage;
  const AttributeMap* baseline = &row->attributes;
  if (!latest) {
    RP_ASSIGN_OR_RETURN(history, LoadHistory(c, row->id, cat, std::nullopt));
    baseline_storage = FoldAssertions(history, valid_from);
    baseline = &baseline_storage;
  }
  AttributeMap diff;
  for (const auto& [name, value] : changes) {
    if (!SameValue(*baseline, name, value)) diff.emplace(name, value);
  }
  if (diff.empty()) return false;

  std::string json;
  internal::EncodeAttributes(diff, &json);
  RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customer_attribute_history (customer_id, valid_from, recorded_at, "
                               "source, changes) VALUES (?, ?, ?, ?, ?)",
                               {row->id, valid_from.micros, now.micros, source, json})
                         .status());
  if (latest) {
    for (auto& [name, value] : diff) {
      if (std::holds_alternative<std::monostate>(value)) {
        row->attributes.erase(name);
      } else {
        row->attributes.insert_or_assign(name, std::move(value));
      }
    }
    row->latest_valid_from = valid_from;
  } else {
    Assertion added;
    added.id = c.LastInsertId();
    added.valid_from = valid_from;
    added.recorded_at = now;
    added.changes = std::move(diff);
    // Appended last: among equal valid times it is the latest recorded.
    auto pos = std::upper_bound(history.begin(), history.end(), valid_from,
                                [](Timestamp t, const Assertion& a) { return t < a.valid_from; });
    history.insert(pos, std::move(added));
    row->attributes = FoldAssertions(history, row->latest_valid_from);
    row->valid_from = std::min(row->valid_from, valid_from);
  }
  return true;
}

Result<bool> CustomerStore::Impl::AttachIdentifier(Connection& c, CustomerId id, const Identifier& ident,
                                                   Timestamp now, std::string_view field) {
  RP_ASSIGN_OR_RETURN(int64_t n, c.Execute("INSERT INTO customer_identifiers (scheme, value, customer_id, created_at) "
                                           "VALUES (?, ?, ?, ?) ON CONFLICT (scheme, value) DO NOTHING",
                                           {ident.scheme, ident.value, id, now.micros}));
  if (n == 1) return true;
  RP_ASSIGN_OR_RETURN(std::optional<CustomerId> owner, OwnerOf(c, ident));
  if (owner && *owner != id) {
    return Status::Conflict("identifier " + ident.ToString() + " belongs to customer " + std::to_string(*owner),
                            std::string(field));
  }
  return false;
}

Status CustomerStore::Impl::SaveCustomer(Connection& c, StoredCustomer* row, Timestamp now,
                                         bool identifiers_changed) {
  std::vector<std::string> old_tokens = internal::SearchTokens(row->display_name, row->email, row->phone);
  row->display_name = internal::DisplayName(row->attributes);
  auto text_attr = [&](const char* name) -> std::string {
    auto it = row->attributes.find(name);
    return it != row->attributes.end() && std::holds_alternative<std::string>(it->second)
               ? std::get<std::string>(it->second)
               : std::string();
  };
  row->email = text_attr("email");
  row->phone = text_attr("phone");
  // The identifiers are read only when they matter: to fill a missing email
  // or phone, or to decide which tokens are stored (see StoredSearchTokens)
  // when they changed or a new token may be an identifier's value.
  std::optional<std::vector<Identifier>> ids;
  auto load_ids = [&]() -> Status {
    if (ids) return Status::Ok();
    RP_ASSIGN_OR_RETURN(ids, LoadIdentifiers(c, row->id));
    return Status::Ok();
  };
  if (identifiers_changed || row->email.empty() || row->phone.empty()) {
    RP_RETURN_IF_ERROR(load_ids());
    for (const Identifier& i : *ids) {
      if (row->email.empty() && i.scheme == "email") row->email = i.value;
      if (row->phone.empty() && i.scheme == "phone") row->phone = i.value;
    }
  }
  std::vector<std::string> tokens = internal::SearchTokens(row->display_name, row->email, row->phone);
  std::vector<std::string> added;
  std::set_difference(tokens.begin(), tokens.end(), old_tokens.begin(), old_tokens.end(), std::back_inserter(added));
  if (std::any_of(added.begin(), added.end(), [](const auto& t) { return internal::MayBeIdentifierValue(t); })) {
    RP_RETURN_IF_ERROR(load_ids());
  }
  std::vector<std::string> stored =
      ids ? internal::StoredSearchTokens(std::move(tokens), *ids) : std::move(tokens);
  // Which old tokens are stored is not recorded: delete each one no longer
  // stored (a no-op where it was not), and upsert each stored one that is
  // new, or that may have been left out for an identifier now gone. With
  // the identifiers unchanged, a token kept keeps its stored state.
  std::vector<std::string> gone, upsert;
  std::set_difference(old_tokens.begin(), old_tokens.end(), stored.begin(), stored.end(), std::back_inserter(gone));
  for (const std::string& t : stored) {
    if (!std::binary_search(old_tokens.begin(), old_tokens.end(), t) ||
        (identifiers_changed && internal::MayBeIdentifierValue(t))) {
      upsert.push_back(t);
    }
  }
  for (const std::string& t : gone) {
    RP_RETURN_IF_ERROR(
        c.Execute("DELETE FROM customer_search_tokens WHERE token = ? AND customer_id = ?", {t, row->id}).status());
  }
  RP_RETURN_IF_ERROR(InsertTokens(c, row->id, upsert));
  row->updated_at = now;
  std::string json;
  internal::EncodeAttributes(row->attributes, &json);
  return c.Execute("UPDATE customers SET display_name = ?, email = ?, phone = ?, attributes = ?, valid_from = ?, "
                   "latest_valid_from = ?, updated_at = ? WHERE id = ?",
                   {row->display_name, row->email, row->phone, json, row->valid_from.micros,
                    row->latest_valid_from.micros, now.micros, row->id})
      .status();
}

// ---- CustomerStore ------------------------------------------------------------------

CustomerStore::CustomerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CustomerStore::~CustomerStore() = default;

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(storage::Database* db, const Clock* clock) {
  RP_RETURN_IF_ERROR(storage::Migrate(*db, "customer", internal::Migrations(db->dialect())));
  RP_RETURN_IF_ERROR(storage::MigrateChangeFeed(*db));
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->clock = clock;
  Impl* p = impl.get();
  RP_RETURN_IF_ERROR(db->WithConnection([p](Connection& c) { return p->ReloadCatalog(c); }));
  return std::unique_ptr<CustomerStore>(new CustomerStore(std::move(impl)));
}

storage::Database& CustomerStore::database() { return *impl_->db; }
const Clock& CustomerStore::clock() const { return *impl_->clock; }

Result<std::vector<AttributeDefinition>> CustomerStore::ListAttributes() {
  auto cat = impl_->Catalog();
  std::vector<AttributeDefinition> out;
  out.reserve(cat->size());
  for (const auto& [name, def] : *cat) out.push_back(def);
  return out;
}

Status CustomerStore::DefineAttribute(const AttributeDefinition& def) {
  if (!ValidAttributeName(def.name)) {
    return Status::InvalidArgument("attribute names start with a letter and hold letters, digits and '_'", "/name");
  }
  if (def.description.size() > 1000) {
    return Status::InvalidArgument("a description is at most 1000 bytes", "/description");
  }
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r,
                        c.Query("SELECT type FROM customer_attribute_catalog WHERE name = ?", {def.name}));
    std::string type(AttributeTypeName(def.type));
    if (!r.empty() && r.rows[0][0].AsText() != type) {
      return Status::Conflict("attribute " + def.name + " is " + r.rows[0][0].AsText() +
                                  "; its type cannot change once values may exist",
                              "/type");
    }
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO customer_attribute_catalog (name, type, pii, description) "
                                 "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET pii = excluded.pii, "
                                 "description = excluded.description",
                                 {def.name, type, def.pii, def.description})
                           .status());
    json::Writer w;
    w.StartObject().Field("type", type).Field("pii", def.pii).EndObject();
    Changes changes;
    AddChange(changes, "attribute.defined", 0, "attribute", def.name, w.Take());
    return storage::AppendChanges(c, changes, impl_->clock->Now());
  }));
  // Reloaded after the commit, so the catalog in memory never gets ahead of
  // the database.
  return impl_->db->WithConnection([&](Connection& c) { return impl_->ReloadCatalog(c); });
}

Result<Customer> CustomerStore::Create(const NewCustomer& nc) {
  auto cat = impl_->CatalogFor(nc.attributes);
  AttributeMap attrs;
  RP_RETURN_IF_ERROR(impl_->ValidateAttributes(*cat, nc.attributes, false, "", &attrs));
  std::vector<Identifier> ids;
  std::vector<std::string> fields;  // where each of ids came from, for errors
  for (size_t i = 0; i < nc.identifiers.size(); ++i) {
    auto n = NormalizeIdentifier(nc.identifiers[i]);
    if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/identifiers/" + std::to_string(i));
    if (std::find(ids.begin(), ids.end(), *n) != ids.end()) continue;
    ids.push_back(std::move(*n));
    fields.push_back("/identifiers/" + std::to_string(i));
  }
  Timestamp now = impl_->clock->Now();
  Timestamp valid_from = nc.valid_from.value_or(now);
  if (valid_from > now) return Status::InvalidArgument("validFrom cannot be in the future", "/validFrom");
  if (nc.source.empty()) return Status::InvalidArgument("a source is required", "/source");
  Customer out;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(StoredCustomer row,
                        impl_->InsertCustomer(c, nc.kind, std::move(attrs), ids, fields, nc.source, valid_from, now));
    out.id = row.id;
    out.kind = row.kind;
    out.display_name = std::move(row.display_name);
    out.attributes = std::move(row.attributes);
    out.identifiers = ids;
    out.created_at = row.created_at;
    out.updated_at = row.updated_at;
    json::Writer w;
    w.StartObject().Field("kind", KindName(nc.kind)).Field("source", nc.source).EndObject();
    Changes changes;
    AddChange(changes, "customer.created", row.id, "customer", std::to_string(row.id), w.Take());
    return storage::AppendChanges(c, changes, now);
  }));
  return out;
}

Result<Customer> CustomerStore::Get(CustomerId id, const ReadOptions& opt) {
  Customer out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out, impl_->ReadCustomer(c, id, opt));
    return Status::Ok();
  }));
  return out;
}

Result<Customer> CustomerStore::Update(CustomerId id, const CustomerPatch& patch) {
  auto cat = impl_->CatalogFor(patch.attributes);
  AttributeMap changes;
  RP_RETURN_IF_ERROR(impl_->ValidateAttributes(*cat, patch.attributes, true, "", &changes));
  std::vector<Identifier> add, remove;
  for (size_t i = 0; i < patch.add_identifiers.size(); ++i) {
    auto n = NormalizeIdentifier(patch.add_identifiers[i]);
    if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/addIdentifiers/" + std::to_string(i));
    add.push_back(std::move(*n));
  }
  for (size_t i = 0; i < patch.remove_identifiers.size(); ++i) {
    auto n = NormalizeIdentifier(patch.remove_identifiers[i]);
    if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/removeIdentifiers/" + std::to_string(i));
    remove.push_back(std::move(*n));
  }
  Timestamp now = impl_->clock->Now();
  Timestamp valid_from = patch.valid_from.value_or(now);
  if (valid_from > now) return Status::InvalidArgument("validFrom cannot be in the future", "/validFrom");
  if (patch.source.empty()) return Status::InvalidArgument("a source is required", "/source");
  Customer out;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(StoredCustomer row, impl_->LoadCustomer(c, id, "/customerId"));
    RP_ASSIGN_OR_RETURN(bool changed, impl_->AppendAssertions(c, *cat, &row, changes, patch.source, valid_from, now));
    bool identifiers_changed = false;
    for (size_t i = 0; i < remove.size(); ++i) {
      RP_ASSIGN_OR_RETURN(int64_t n, c.Execute("DELETE FROM customer_identifiers WHERE scheme = ? AND value = ? AND "
                                               "customer_id = ?",
                                               {remove[i].scheme, remove[i].value, id}));
      if (n == 0) {
        return Status::NotFound("customer " + std::to_string(id) + " has no identifier " + remove[i].ToString(),
                                "/removeIdentifiers/" + std::to_string(i));
      }
      identifiers_changed = true;
    }
    for (size_t i = 0; i < add.size(); ++i) {
      RP_ASSIGN_OR_RETURN(bool added, impl_->AttachIdentifier(c, id, add[i], now, "/addIdentifiers/" + std::to_string(i)));
      identifiers_changed = identifiers_changed || added;
    }
    if (changed || identifiers_changed) RP_RETURN_IF_ERROR(impl_->SaveCustomer(c, &row, now, identifiers_changed));
    RP_ASSIGN_OR_RETURN(out, impl_->ReadCustomer(c, id, {}));
    if (!changed && !identifiers_changed) return Status::Ok();
    json::Writer w;
    w.StartObject().Field("source", patch.source).Key("attributes").StartArray();
    for (const auto& [name, value] : changes) w.String(name);
    w.EndArray().Field("identifiers", identifiers_changed).EndObject();
    Changes feed;
    AddChange(feed, "customer.updated", id, "customer", std::to_string(id), w.Take());
    return storage::AppendChanges(c, feed, now);
  }));
  return out;
}

Result<std::optional<CustomerId>> CustomerStore::FindByIdentifier(const Identifier& id) {
  auto n = NormalizeIdentifier(id);
  if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/identifier");
  std::optional<CustomerId> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out, impl_->OwnerOf(c, *n));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<AttributeChange>> CustomerStore::History(CustomerId id) {
  auto cat = impl_->Catalog();
  std::vector<AttributeChange> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(impl_->CheckCustomerExists(c, id, "/customerId"));
    RP_ASSIGN_OR_RETURN(std::vector<Assertion> history, impl_->LoadHistory(c, id, *cat, std::nullopt));
    for (Assertion& a : history) {
      for (auto& [name, value] : a.changes) {
        out.push_back({name, std::move(value), a.valid_from, a.recorded_at, a.source});
      }
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace rapport::customer
