// Bulk upsert of customers from a source system: one transaction per batch,
// idempotent by the identifier "source:source_key", history only for the
// attributes whose value changes.

#include <algorithm>

#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;

Result<UpsertOutcome::Action> CustomerStore::Impl::UpsertRecord(Connection& c, const internal::Catalog& cat,
                                                                const std::string& scheme, const CustomerRecord& rec,
                                                                Timestamp now, BatchBuffer* batch) {
  if (rec.source_key.empty()) return Status::InvalidArgument("a record needs its source key", "/sourceKey");
  auto key = NormalizeIdentifier({scheme, rec.source_key});
  if (!key.ok()) return Status::InvalidArgument(key.status().message(), "/sourceKey");
  internal::AttributeMap attrs;
  RP_RETURN_IF_ERROR(ValidateAttributes(cat, rec.attributes, true, "", &attrs));
  Timestamp valid_from = rec.valid_from.value_or(now);
  if (valid_from > now) return Status::InvalidArgument("validFrom cannot be in the future", "/validFrom");

  std::vector<Identifier> ids;
  std::vector<size_t> positions;  // index of each id in rec.identifiers, for error fields
  ids.reserve(rec.identifiers.size() + 1);
  ids.push_back(*key);
  positions.push_back(0);
  for (size_t j = 0; j < rec.identifiers.size(); ++j) {
    auto n = NormalizeIdentifier(rec.identifiers[j]);
    if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/identifiers/" + std::to_string(j));
    if (std::find(ids.begin(), ids.end(), *n) != ids.end()) continue;
    ids.push_back(std::move(*n));
    positions.push_back(j);
  }

  // An identifier buffered by an earlier record of this batch: write the
  // buffer first, so what follows sees the database as it will be.
  if (std::any_of(ids.begin(), ids.end(), [&](const Identifier& i) { return batch->Claimed(i); })) {
    RP_RETURN_IF_ERROR(batch->Flush(c));
  }
  RP_ASSIGN_OR_RETURN(std::optional<CustomerId> owner, OwnerOf(c, *key));
  if (!owner) {
    for (size_t j = 1; j < ids.size(); ++j) {
      RP_ASSIGN_OR_RETURN(std::optional<CustomerId> other, OwnerOf(c, ids[j]));
      if (other) {
        return Status::Conflict("identifier " + ids[j].ToString() + " belongs to customer " + std::to_string(*other),
                                "/identifiers/" + std::to_string(positions[j]));
      }
    }
    RP_RETURN_IF_ERROR(
        InsertCustomer(c, rec.kind, std::move(attrs), ids, {}, scheme, valid_from, now, batch).status());
    return UpsertOutcome::Action::kCreated;
  }
  // Check every identifier before writing anything for this record.
  for (size_t j = 1; j < ids.size(); ++j) {
    RP_ASSIGN_OR_RETURN(std::optional<CustomerId> other, OwnerOf(c, ids[j]));
    if (other && *other != *owner) {
      return Status::Conflict("identifier " + ids[j].ToString() + " belongs to customer " + std::to_string(*other),
                              "/identifiers/" + std::to_string(positions[j]));
    }
  }
  RP_ASSIGN_OR_RETURN(StoredCustomer row, LoadCustomer(c, *owner, "/sourceKey"));
  if (row.kind != rec.kind) {
    return Status::Unprocessable("customer " + key->ToString() + " is a " + std::string(KindName(row.kind)) +
                                     ", not a " + std::string(KindName(rec.kind)),
                                 "/kind");
  }
  RP_ASSIGN_OR_RETURN(bool changed, AppendAssertions(c, cat, &row, attrs, scheme, valid_from, now));
  for (size_t j = 1; j < ids.size(); ++j) {
    RP_ASSIGN_OR_RETURN(bool added,
                        AttachIdentifier(c, row.id, ids[j], now, "/identifiers/" + std::to_string(positions[j])));
    changed = changed || added;
  }
  if (!changed) return UpsertOutcome::Action::kUnchanged;
  RP_RETURN_IF_ERROR(SaveCustomer(c, &row, now));
  return UpsertOutcome::Action::kUpdated;
}

Result<CustomerStore::BatchResult> CustomerStore::UpsertCustomers(std::string_view source,
                                                                  const std::vector<CustomerRecord>& records) {
  auto scheme = NormalizeIdentifier({std::string(source), "-"});
  if (!scheme.ok()) return Status::InvalidArgument(scheme.status().message(), "/source");
  auto cat = impl_->Catalog();
  for (const CustomerRecord& r : records) {
    auto fresh = impl_->CatalogFor(r.attributes);
    if (fresh != cat) {
      cat = std::move(fresh);
      break;
    }
  }
  Timestamp now = impl_->clock->Now();
  BatchResult out;
  out.errors.assign(records.size(), Status::Ok());
  BatchBuffer batch;
  batch.now = now;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    batch.Clear();
    for (size_t i = 0; i < records.size(); ++i) {
      Result<UpsertOutcome::Action> r = impl_->UpsertRecord(c, *cat, scheme->scheme, records[i], now, &batch);
      if (!r.ok()) {
        if (!IsRecordError(r.status())) return r.status();
        out.errors[i] = r.status();
        continue;
      }
      switch (*r) {
        case UpsertOutcome::Action::kCreated: ++out.created; break;
        case UpsertOutcome::Action::kUpdated: ++out.updated; break;
        case UpsertOutcome::Action::kUnchanged: ++out.unchanged; break;
      }
    }
    return batch.Flush(c);
  }));
  return out;
}

}  // namespace rapport::customer
