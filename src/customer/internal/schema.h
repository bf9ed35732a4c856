#pragma once
// The customer module's schema as numbered migrations. The SQL is shared by
// SQLite and PostgreSQL except for generated ids and clustered tables, which
// the dialect decides. customer_id is on every customer-owned table: it is
// the distribution key when the schema is sharded.

#include <vector>

#include "storage/storage.h"

namespace rapport::customer::internal {

std::vector<storage::Migration> Migrations(storage::Dialect dialect);

}  // namespace rapport::customer::internal
