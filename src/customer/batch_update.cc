// Attribute updates of many customers in one transaction: the tracking API's
// identify calls arrive by the hundred per group commit, and one transaction
// (one fsync) each would cap them at the disk's flush rate.

#include <algorithm>
#include <cmath>

#include "common/json.h"
#include "customer/customer.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;

Result<CustomerStore::BatchResult> CustomerStore::UpdateAttributes(
    const std::vector<std::pair<CustomerId, CustomerPatch>>& patches) {
  Timestamp now = impl_->clock->Now();
  BatchResult out;
  out.errors.assign(patches.size(), Status::Ok());
  std::vector<internal::AttributeMap> changes(patches.size());
  std::vector<std::shared_ptr<const internal::Catalog>> catalogs(patches.size());
  for (size_t i = 0; i < patches.size(); ++i) {
    const CustomerPatch& p = patches[i].second;
    if (!p.add_identifiers.empty() || !p.remove_identifiers.empty()) {
      out.errors[i] = Status::InvalidArgument("UpdateAttributes changes attributes only", "/addIdentifiers");
      continue;
    }
    if (p.source.empty()) {
      out.errors[i] = Status::InvalidArgument("a source is required", "/source");
      continue;
    }
    if (p.valid_from && *p.valid_from > now) {
      out.errors[i] = Status::InvalidArgument("validFrom cannot be in the future", "/validFrom");
      continue;
    }
    catalogs[i] = impl_->CatalogFor(p.attributes);
    out.errors[i] = impl_->ValidateAttributes(*catalogs[i], p.attributes, true, "", &changes[i]);
  }
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    out.updated = out.unchanged = 0;
    Changes feed;
    for (size_t i = 0; i < patches.size(); ++i) {
      if (!out.errors[i].ok()) continue;
      const CustomerPatch& p = patches[i].second;
      auto row = impl_->LoadCustomer(c, patches[i].first, "/customerId");
      if (!row.ok()) {
        if (!IsRecordError(row.status())) return row.status();
        out.errors[i] = row.status();
        continue;
      }
      RP_ASSIGN_OR_RETURN(bool changed, impl_->AppendAssertions(c, *catalogs[i], &*row, changes[i], p.source,
                                                                p.valid_from.value_or(now), now));
      if (!changed) {
        ++out.unchanged;
        continue;
      }
      RP_RETURN_IF_ERROR(impl_->SaveCustomer(c, &*row, now, /*identifiers_changed=*/false));
      ++out.updated;
      json::Writer w;
      w.StartObject().Field("source", p.source).Key("attributes").StartArray();
      for (const auto& [name, value] : changes[i]) w.String(name);
      w.EndArray().EndObject();
      AddChange(feed, "customer.updated", row->id, "customer", std::to_string(row->id), w.Take());
    }
    return storage::AppendChanges(c, feed, now);
  }));
  return out;
}

Result<int64_t> CustomerStore::AppendTransactions(const std::vector<Transaction>& given) {
  Timestamp now = impl_->clock->Now();
  std::vector<Transaction> rows = given;  // validation normalizes (currency case)
  for (size_t i = 0; i < rows.size(); ++i) {
    Transaction& t = rows[i];
    std::string at = "/" + std::to_string(i);
    if (t.customer_id <= 0) return Status::InvalidArgument("a known customer id is required", at + "/customerId");
    if (t.source_key.empty()) return Status::InvalidArgument("a source key is required", at + "/sourceKey");
    RP_RETURN_IF_ERROR(ValidateTransaction(t, now, at));
  }
  int64_t written = 0;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    written = 0;
    Changes feed;
    // SQLite runs an INSERT ... RETURNING through a temporary table per
    // statement, which tripled the cost of each row (a third of tracking
    // ingest's writer): there the new rowid is read instead.
    const bool sqlite = c.dialect() == storage::Dialect::kSqlite;
    constexpr std::string_view kInsert =
        "INSERT INTO customer_transactions (customer_id, account_id, source, source_key, occurred_at, channel, "
        "location, sku, item, category, quantity, amount, currency, recorded_at) "
        "VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_key) DO NOTHING";
    const std::string insert_returning = std::string(kInsert) + " RETURNING id";
    for (const Transaction& t : rows) {
      std::initializer_list<storage::Value> params = {t.customer_id, t.source,  t.source_key,     t.occurred_at.micros,
                                                      t.channel,     t.location, t.sku,           t.item,
                                                      t.category,    t.quantity, t.amount.units(), t.currency,
                                                      now.micros};
      int64_t id = 0;
      if (sqlite) {
        RP_ASSIGN_OR_RETURN(int64_t changed, c.Execute(kInsert, params));
        if (changed == 1) id = c.LastInsertId();
      } else {
        RP_ASSIGN_OR_RETURN(storage::QueryResult ins, c.Query(insert_returning, params));
        if (!ins.empty()) id = ins.rows[0][0].AsInt();
      }
      if (id == 0) continue;  // stored already
      ++written;
      json::Writer w;
      w.StartObject().Field("source", t.source).Field("amount", t.amount).Field("currency", t.currency).EndObject();
      AddChange(feed, "transaction.added", t.customer_id, "transaction", std::to_string(id), w.Take());
    }
    return storage::AppendChanges(c, feed, now);
  }));
  return written;
}

}  // namespace rapport::customer
