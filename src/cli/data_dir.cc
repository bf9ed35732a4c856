#include "cli/data_dir.h"

#include <filesystem>

namespace rapport::cli {

Result<OpenStore> OpenDataDir(const std::string& dir, bool durable) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create data directory " + dir + ": " + ec.message());
  storage::SqliteOptions opts;
  opts.durable = durable;
  OpenStore s;
  RP_ASSIGN_OR_RETURN(s.db, storage::OpenSqlite((std::filesystem::path(dir) / "rapport.db").string(), opts));
  RP_ASSIGN_OR_RETURN(s.customers, customer::CustomerStore::Open(s.db.get(), SystemClock::Default()));
  return s;
}

}  // namespace rapport::cli
