#include <charconv>
#include <cstdlib>

#include "profile/internal/store_impl.h"
#include "profile/profile.h"

namespace rapport::profile {

struct ProfileStore::Builder::State {
  std::unique_ptr<Impl> impl;
  uint32_t row = 0;
};

ProfileStore::Builder::Builder(std::vector<std::pair<std::string, ColumnType>> columns)
    : state_(std::make_unique<State>()) {
  state_->impl = std::make_unique<Impl>();
  for (auto& [name, type] : columns) state_->impl->table.AddColumn(name, type);
}

ProfileStore::Builder::~Builder() = default;

void ProfileStore::Builder::AddRow(int64_t customer_id) { state_->row = state_->impl->table.AddRow(customer_id); }
void ProfileStore::Builder::SetNumber(size_t column, double v) { state_->impl->table.column(column).SetNumber(state_->row, v); }
void ProfileStore::Builder::SetString(size_t column, std::string_view v) {
  state_->impl->table.column(column).SetString(state_->row, v);
}
void ProfileStore::Builder::SetDate(size_t column, int32_t epoch_days) {
  state_->impl->table.column(column).SetInt(state_->row, epoch_days);
}

std::unique_ptr<ProfileStore> ProfileStore::Builder::Finish() {
  return std::unique_ptr<ProfileStore>(new ProfileStore(std::move(state_->impl)));
}

Status ProfileStore::Builder::Update(ProfileStore& store, int64_t customer_id,
                                     const std::vector<std::pair<std::string, std::optional<std::string>>>& values) {
  Impl& impl = *store.impl_;
  std::vector<SegmentChange> changes;
  SegmentListener listener;
  {
    std::unique_lock lock(impl.mu);
    int64_t row = impl.table.RowOf(customer_id);
    if (row < 0) return Status::NotFound("customer " + std::to_string(customer_id) + " is not in the profile store");
    auto r = static_cast<uint32_t>(row);
    for (const auto& [name, value] : values) {
      int c = impl.table.FindColumn(name);
      if (c < 0) return Status::InvalidArgument("unknown column '" + name + "'");
      auto& col = impl.table.column(c);
      if (!value) {
        col.SetNull(r);
        continue;
      }
      switch (col.type()) {
        case ColumnType::kNumber: col.SetNumber(r, std::strtod(value->c_str(), nullptr)); break;
        case ColumnType::kString: col.SetString(r, *value); break;
        case ColumnType::kBoolean: col.SetInt(r, *value == "true" ? 1 : 0); break;
        case ColumnType::kDate: {
          int32_t days = 0;
          std::from_chars(value->data(), value->data() + value->size(), days);
          col.SetInt(r, days);
          break;
        }
      }
    }
    impl.Reevaluate(r, &changes);
    listener = impl.listener;
  }
  if (listener) {
    for (const auto& c : changes) listener(c);
  }
  return Status::Ok();
}

}  // namespace rapport::profile
