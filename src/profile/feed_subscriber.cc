// The profile store as a change-feed subscriber (see profile.h).

#include <spdlog/spdlog.h>

#include <set>

#include "profile/internal/store_impl.h"
#include "profile/profile.h"

namespace rapport::profile {
namespace {

// Re-applies the customers a batch names, each once, in id order.
Status ApplyBatch(ProfileStore& store, const std::vector<storage::Change>& batch) {
  std::set<int64_t> ids;
  for (const storage::Change& c : batch) {
    if (c.customer_id > 0 && c.kind != "events.tracked") ids.insert(c.customer_id);
  }
  for (int64_t id : ids) {
    Status s = store.Apply(id);
    // A customer named by a change but gone since is nothing to apply.
    if (!s.ok() && !s.IsNotFound()) {
      return Status(s.code(), "customer " + std::to_string(id) + ": " + s.message(), s.field());
    }
  }
  return Status::Ok();
}

// Re-applies every customer of the operational store, a page at a time.
Status ApplyAll(ProfileStore& store, storage::Database& db) {
  constexpr int64_t kPage = 10000;
  for (int64_t after = 0;;) {
    storage::QueryResult page;
    RP_RETURN_IF_ERROR(db.WithConnection([&](storage::Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(page, c.Query("SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?", {after, kPage}));
      return Status::Ok();
    }));
    if (page.empty()) return Status::Ok();
    for (const auto& row : page.rows) {
      Status s = store.Apply(row[0].AsInt());
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    after = page.rows.back()[0].AsInt();
  }
}

}  // namespace

Result<std::unique_ptr<ProfileFeedSubscriber>> ProfileFeedSubscriber::Start(storage::ChangeFeed* feed,
                                                                            ProfileStore* store,
                                                                            int64_t built_through, std::string name) {
  storage::Database* db = store->impl_->db;
  if (!db) return Status::Internal("this profile store has no operational store to follow");
  std::unique_ptr<ProfileFeedSubscriber> sub(new ProfileFeedSubscriber(feed, name));
  storage::SubscribeOptions options;
  options.start_after = built_through;
  options.batch_size = 5000;  // customers are coalesced per batch
  options.rebuild = [store, db] {
    spdlog::warn("profile.rebuild reason=behind_feed_retention");
    return ApplyAll(*store, *db);
  };
  RP_RETURN_IF_ERROR(feed->Subscribe(
      name, [store](const std::vector<storage::Change>& batch) { return ApplyBatch(*store, batch); }, options));
  return sub;
}

ProfileFeedSubscriber::~ProfileFeedSubscriber() { feed_->Unsubscribe(name_); }

Status ProfileFeedSubscriber::CatchUp(std::chrono::milliseconds timeout) { return feed_->CatchUp(name_, timeout); }

}  // namespace rapport::profile
