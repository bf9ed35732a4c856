#include "cli/data_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

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

Result<std::unique_ptr<profile::ProfileStore>> OpenProfileStore(const std::string& dir, storage::Database* db,
                                                                 Timestamp as_of) {
  profile::ProfileOptions options = profile::DefaultProfileOptions(as_of);
  std::ifstream config(dir + "/profile.json");
  if (config) {
    std::stringstream text;
    text << config.rdbuf();
    auto parsed = profile::ParseProfileOptions(text.str(), as_of);
    if (!parsed.ok()) {
      return Status::InvalidArgument(dir + "/profile.json: " + parsed.status().message(), parsed.status().field());
    }
    options = std::move(*parsed);
  }
  return profile::ProfileStore::Open(db, std::move(options));
}

}  // namespace rapport::cli
