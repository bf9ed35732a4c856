// What a condition or a query column reads, for the server's checks of
// personal data (docs/segments.md, "Personal data").

#include <mutex>
#include <shared_mutex>

#include "profile/internal/store_impl.h"
#include "profile/profile.h"

namespace rapport::profile {

Result<std::vector<std::string>> ProfileStore::ReferencedColumns(std::string_view condition) const {
  std::shared_lock lock(impl_->mu);
  RP_ASSIGN_OR_RETURN(auto compiled, impl_->CompileLocked(condition));
  std::vector<std::string> out;
  for (int c : compiled->Columns()) out.push_back(impl_->table.column(static_cast<size_t>(c)).name());
  return out;
}

std::string ProfileStore::StoredAttributeOf(std::string_view column) const {
  // The options are fixed when the store opens: no lock needed.
  for (const AttributeColumn& a : impl_->options.attributes) {
    if (a.name != column) continue;
    if (a.derive != AttributeColumn::Derive::kNone || a.attribute == "@kind") return "";
    return a.attribute.empty() ? a.name : a.attribute;
  }
  return "";
}

}  // namespace rapport::profile
