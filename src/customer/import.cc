// Bulk upsert of customers from a source system: one transaction per batch,
// idempotent by the identifier "source:source_key", history only for the
// attributes whose value changes.

#include <algorithm>

#include "common/json.h"
#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;

Status CustomerStore::Impl::PrepareRecord(const internal::Catalog& cat, const std::string& scheme,
                                          const CustomerRecord& rec, Timestamp now, PreparedRecord* out) {
  if (rec.source_key.empty()) return Status::InvalidArgument("a record needs its source key", "/sourceKey");
  auto key = NormalizeIdentifier({scheme, rec.source_key});
  if (!key.ok()) return Status::InvalidArgument(key.status().message(), "/sourceKey");
  RP_RETURN_IF_ERROR(ValidateAttributes(cat, rec.attributes, true, "", &out->attrs));
  out->valid_from = rec.valid_from.value_or(now);
  if (out->valid_from > now) return Status::InvalidArgument("validFrom cannot be in the future", "/validFrom");
  out->ids.reserve(rec.identifiers.size() + 1);
  out->ids.push_back(std::move(*key));
  out->positions.push_back(0);
  for (size_t j = 0; j < rec.identifiers.size(); ++j) {
    auto n = NormalizeIdentifier(rec.identifiers[j]);
    if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/identifiers/" + std::to_string(j));
    if (std::find(out->ids.begin(), out->ids.end(), *n) != out->ids.end()) continue;
    out->ids.push_back(std::move(*n));
    out->positions.push_back(j);
  }
  return Status::Ok();
}

namespace {

Status Taken(const Identifier& ident, CustomerId owner, size_t position) {
  return Status::Conflict("identifier " + ident.ToString() + " belongs to customer " + std::to_string(owner),
                          "/identifiers/" + std::to_string(position));
}

}  // namespace

Result<UpsertOutcome::Action> CustomerStore::Impl::UpsertRecord(Connection& c, const internal::Catalog& cat,
                                                                const std::string& scheme, PreparedRecord& rec,
                                                                Kind kind, Timestamp now, BatchBuffer* batch) {
  const std::vector<Identifier>& ids = rec.ids;
  // An identifier claimed by an earlier new customer of this batch: write
  // the buffer first, so what follows sees the database as it will be.
  bool buffered = std::any_of(rec.slots.begin(), rec.slots.end(),
                              [&](size_t slot) { return batch->OwnerOf(slot).buffered; });
  if (buffered) RP_RETURN_IF_ERROR(batch->Flush(c));
  CustomerId owner = batch->OwnerOf(rec.slots[0]).id;
  for (size_t j = 1; j < ids.size(); ++j) {
    CustomerId other = batch->OwnerOf(rec.slots[j]).id;
    if (other != 0 && other != owner) return Taken(ids[j], other, rec.positions[j]);
  }
  if (owner == 0) {
    if (!rec.derived) {
      rec.created = DeriveNewCustomer(rec.attrs, rec.ids);
      rec.derived = true;
    }
    RP_ASSIGN_OR_RETURN(CustomerId id, InsertCustomerRow(c, kind, rec.created, scheme, rec.valid_from, now));
    // Checked above: none is taken, in the database or the batch.
    for (size_t j = 0; j < ids.size(); ++j) {
      batch->identifiers.emplace_back(&ids[j], id);
      batch->Claim(rec.slots[j], id, true);
    }
    for (const std::string& t : rec.created.tokens) batch->tokens.emplace_back(&t, id);
    return UpsertOutcome::Action::kCreated;
  }
  RP_ASSIGN_OR_RETURN(StoredCustomer row, LoadCustomer(c, owner, "/sourceKey"));
  if (row.kind != kind) {
    return Status::Unprocessable("customer " + ids[0].ToString() + " is a " + std::string(KindName(row.kind)) +
                                     ", not a " + std::string(KindName(kind)),
                                 "/kind");
  }
  RP_ASSIGN_OR_RETURN(bool changed, AppendAssertions(c, cat, &row, rec.attrs, scheme, rec.valid_from, now));
  bool identifiers_changed = false;
  for (size_t j = 1; j < ids.size(); ++j) {
    if (batch->OwnerOf(rec.slots[j]).id == owner) continue;
    RP_ASSIGN_OR_RETURN(bool added,
                        AttachIdentifier(c, row.id, ids[j], now, "/identifiers/" + std::to_string(rec.positions[j])));
    batch->Claim(rec.slots[j], row.id, false);
    identifiers_changed = identifiers_changed || added;
  }
  if (!changed && !identifiers_changed) return UpsertOutcome::Action::kUnchanged;
  RP_RETURN_IF_ERROR(SaveCustomer(c, &row, now, identifiers_changed));
  return UpsertOutcome::Action::kUpdated;
}

Result<CustomerStore::PreparedCustomers> CustomerStore::Prepare(std::string_view source,
                                                                const std::vector<CustomerRecord>& records,
                                                                bool derive_created) {
  auto scheme = NormalizeIdentifier({std::string(source), "-"});
  if (!scheme.ok()) return Status::InvalidArgument(scheme.status().message(), "/source");
  auto d = std::make_shared<PreparedCustomers::Data>();
  d->scheme = std::move(scheme->scheme);
  d->catalog = impl_->Catalog();
  for (const CustomerRecord& r : records) {
    auto fresh = impl_->CatalogFor(r.attributes);
    if (fresh != d->catalog) {
      d->catalog = std::move(fresh);
      break;
    }
  }
  d->now = impl_->clock->Now();
  d->records.resize(records.size());
  // About three identifiers a record (source key, email, phone).
  d->slot_of.reserve(records.size() * 3);
  d->slot_ids.reserve(records.size() * 3);
  d->kinds.reserve(records.size());
  d->errors.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    d->kinds.push_back(records[i].kind);
    PreparedRecord& rec = d->records[i];
    d->errors.push_back(impl_->PrepareRecord(*d->catalog, d->scheme, records[i], d->now, &rec));
    if (!d->errors.back().ok()) continue;
    // Equal identifiers of different records share a slot. The keys view
    // the records' identifiers, which stay put from here on.
    rec.slots.reserve(rec.ids.size());
    for (const Identifier& id : rec.ids) {
      auto [it, added] = d->slot_of.try_emplace(IdentifierKey{id.scheme, id.value}, d->slot_ids.size());
      if (added) d->slot_ids.push_back(&id);
      rec.slots.push_back(it->second);
    }
    if (derive_created) {
      rec.created = DeriveNewCustomer(rec.attrs, rec.ids);
      rec.derived = true;
    }
  }
  return PreparedCustomers{std::move(d)};
}

Result<CustomerStore::PreparedCustomers> CustomerStore::PrepareCustomers(std::string_view source,
                                                                         const std::vector<CustomerRecord>& records) {
  return Prepare(source, records, /*derive_created=*/true);
}

Result<CustomerStore::BatchResult> CustomerStore::UpsertCustomers(PreparedCustomers prepared) {
  if (!prepared.data || prepared.data->written) return Status::InvalidArgument("a prepared batch is written once");
  PreparedCustomers::Data& d = *prepared.data;
  d.written = true;
  BatchResult out;
  out.errors = d.errors;
  BatchBuffer batch;
  batch.now = d.now;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    batch.Clear();
    out.created = out.updated = out.unchanged = 0;
    Changes feed;
    // {"source":"<scheme>"}: the data of every change of the batch.
    json::Writer w;
    w.StartObject().Field("source", d.scheme).EndObject();
    const std::string data = w.Take();
    RP_RETURN_IF_ERROR(batch.LoadOwners(c, d.slot_ids, d.slot_of));
    for (size_t i = 0; i < d.records.size(); ++i) {
      if (!out.errors[i].ok()) continue;
      Result<UpsertOutcome::Action> r =
          impl_->UpsertRecord(c, *d.catalog, d.scheme, d.records[i], d.kinds[i], d.now, &batch);
      if (!r.ok()) {
        out.errors[i] = r.status();
        if (!IsRecordError(r.status())) return r.status();
        continue;
      }
      switch (*r) {
        case UpsertOutcome::Action::kCreated: ++out.created; break;
        case UpsertOutcome::Action::kUpdated: ++out.updated; break;
        case UpsertOutcome::Action::kUnchanged: ++out.unchanged; continue;
      }
      CustomerId id = batch.OwnerOf(d.records[i].slots[0]).id;
      AddChange(feed, *r == UpsertOutcome::Action::kCreated ? "customer.created" : "customer.updated", id, "customer",
                std::to_string(id), data);
    }
    RP_RETURN_IF_ERROR(batch.Flush(c));
    return storage::AppendChanges(c, feed, d.now);
  }));
  return out;
}

Result<CustomerStore::BatchResult> CustomerStore::UpsertCustomers(std::string_view source,
                                                                  const std::vector<CustomerRecord>& records) {
  // One thread does both steps: what a record would create is derived only
  // when it does.
  RP_ASSIGN_OR_RETURN(PreparedCustomers prepared, Prepare(source, records, /*derive_created=*/false));
  return UpsertCustomers(std::move(prepared));
}

}  // namespace rapport::customer
