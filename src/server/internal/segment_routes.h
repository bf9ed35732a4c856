#pragma once
// Routes of the profile store: segments (create, preview, read, members,
// combine, snapshot, delete) and slice-and-dice analytics queries.

#include "profile/profile.h"
#include "server/internal/app.h"

namespace rapport::server::internal {

// How the routes keep personal data from roles without pii:read
// (docs/segments.md, "Personal data"): the reader's mask, and the smallest
// group or count such a role is shown.
struct Privacy {
  std::function<Result<Mask>(const Principal&)> mask_for;
  int64_t min_group_size = 5;
};

// profile may be null (a server opened without a profile store): the routes
// then answer 503.
void RegisterSegmentRoutes(Router<Endpoint>& r, profile::ProfileStore* profile, Privacy privacy);

}  // namespace rapport::server::internal
