#pragma once
// Routes of the profile store: segments (create, preview, read, members,
// combine, snapshot, delete) and slice-and-dice analytics queries.

#include "profile/profile.h"
#include "server/internal/app.h"

namespace rapport::server::internal {

// profile may be null (a server opened without a profile store): the routes
// then answer 503.
void RegisterSegmentRoutes(Router<Endpoint>& r, profile::ProfileStore* profile);

}  // namespace rapport::server::internal
