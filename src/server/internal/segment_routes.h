#pragma once
// Routes of the profile store: segments (create, preview, read, members,
// combine, snapshot, delete) and slice-and-dice analytics queries.

#include "profile/profile.h"
#include "server/internal/app.h"

namespace rapport::server::internal {

// profile may be null (a server opened without a profile store): the routes
// then answer 503.
void RegisterSegmentRoutes(Router<Endpoint>& r, profile::ProfileStore* profile);

// Brings a customer just written through the API into the profile store
// (its row, its household's, and every segment's membership). The write is
// already committed, so a failure here is logged, not returned; the next
// change or restart repairs the row. No-op when profile is null.
void RefreshProfile(profile::ProfileStore* profile, customer::CustomerId id);

}  // namespace rapport::server::internal
