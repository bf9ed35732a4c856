#pragma once
// A data directory as the CLI opens it: DIR/rapport.db with the customer
// store over it (the same file the server serves).

#include <memory>
#include <string>

#include "common/status.h"
#include "customer/customer.h"
#include "storage/storage.h"

namespace rapport::cli {

struct OpenStore {
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<customer::CustomerStore> customers;  // declared after db: destroyed first
};

// Creates the directory if absent. durable=false skips the fsync per commit
// (for generating a demo, which is simply redone after a crash).
Result<OpenStore> OpenDataDir(const std::string& dir, bool durable);

}  // namespace rapport::cli
