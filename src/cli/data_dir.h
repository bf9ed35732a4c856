#pragma once
// A data directory as the CLI opens it: DIR/rapport.db with the customer
// store over it (the same file the server serves).

#include <memory>
#include <string>

#include "common/status.h"
#include "customer/customer.h"
#include "profile/profile.h"
#include "storage/storage.h"

namespace rapport::cli {

struct OpenStore {
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<customer::CustomerStore> customers;  // declared after db: destroyed first
};

// Creates the directory if absent. durable=false skips the fsync per commit
// (for generating a demo, which is simply redone after a crash).
Result<OpenStore> OpenDataDir(const std::string& dir, bool durable);

// Builds the profile store of DIR's database as the server does: the
// columns of DIR/profile.json when present, else the defaults, with
// rolling windows ending at as_of.
Result<std::unique_ptr<profile::ProfileStore>> OpenProfileStore(const std::string& dir, storage::Database* db,
                                                                 Timestamp as_of);

}  // namespace rapport::cli
