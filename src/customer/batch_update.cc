// Attribute updates of many customers in one transaction: the tracking API's
// identify calls arrive by the hundred per group commit, and one transaction
// (one fsync) each would cap them at the disk's flush rate.

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
      RP_RETURN_IF_ERROR(impl_->SaveCustomer(c, &*row, now));
      ++out.updated;
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace rapport::customer
