#include "server/server.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/process.h"
#include "ingest/tracking.h"
#include "profile/profile.h"
#include "server/internal/app.h"
#include "server/internal/auth.h"
#include "server/internal/http.h"
#include "server/internal/problem.h"

namespace rapport::server {

namespace {

// "host:port", "[::1]:port" or ":port" (all IPv4 interfaces... as 0.0.0.0).
Status ParseListen(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address must be host:port, got '" + listen + "'", "listen");
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  if (h == "localhost") h = "127.0.0.1";
  std::string_view p(listen.data() + colon + 1, listen.size() - colon - 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value > 65535) {
    return Status::InvalidArgument("listen port must be 0..65535, got '" + std::string(p) + "'", "listen");
  }
  *host = h;
  *port = static_cast<uint16_t>(value);
  return Status::Ok();
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::string host;
  uint16_t requested_port = 0;
  // Declaration order is destruction order reversed: the listener (and its
  // worker threads) goes first, then the app, the store, the database.
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<customer::CustomerStore> store;
  // The tracker's and the feed's second handle on the file, no fsync per
  // commit; it outlives both.
  std::unique_ptr<storage::Database> derived_db;
  // The durable change feed; its subscribers (declared after it) go first.
  std::unique_ptr<storage::ChangeFeed> feed;
  // The profile store, kept current from the feed by its subscriber. Both
  // outlive the tracker, whose in-process event feed the profile store's
  // segment listener publishes on: the tracker is destroyed first.
  std::unique_ptr<profile::ProfileStore> profile;
  std::unique_ptr<profile::ProfileFeedSubscriber> profile_feed;
  std::unique_ptr<ingest::Tracker> tracker;
  std::unique_ptr<internal::App> app;
  std::unique_ptr<internal::AccessLog> access_log;  // null: off
  std::unique_ptr<internal::HttpListener> listener;
  bool stopped = false;  // Stop ran (it logs once)
  size_t stuck = 0;      // what it returned

  ~Impl() {
    // The listener and the app first (as declared), but the profile's feed
    // subscriber before the tracker: applying a change can publish a segment
    // entry on the tracker.
    listener.reset();
    app.reset();
    profile_feed.reset();
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Open(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  RP_RETURN_IF_ERROR(ParseListen(options.listen, &impl->host, &impl->requested_port));
  if (options.data_dir.empty()) return Status::InvalidArgument("a data directory is required", "data");
  auto outbound = net::OutboundPolicy::Parse(options.outbound_allow);
  if (!outbound.ok()) return Status::InvalidArgument(outbound.status().message(), "outbound-allow");
  RP_ASSIGN_OR_RETURN(impl->access_log, internal::AccessLog::Open(options.access_log));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Status::Internal("cannot create data directory " + options.data_dir + ": " + ec.message());
  storage::SqliteOptions sqlite;
  sqlite.durable = options.durable;
  RP_ASSIGN_OR_RETURN(impl->db,
                      storage::OpenSqlite((std::filesystem::path(options.data_dir) / "rapport.db").string(), sqlite));
  RP_ASSIGN_OR_RETURN(impl->store, customer::CustomerStore::Open(impl->db.get(), SystemClock::Default()));
  RP_RETURN_IF_ERROR(internal::MigrateKeys(*impl->db));
  storage::SqliteOptions derived_sqlite;
  derived_sqlite.durable = false;
  RP_ASSIGN_OR_RETURN(impl->derived_db,
                      storage::OpenSqlite((std::filesystem::path(options.data_dir) / "rapport.db").string(),
                                          derived_sqlite));
  impl->derived_db->ShareWriterQueueWith(*impl->db);
  // The feed stores its subscribers' marks through the handle without an
  // fsync per commit: a mark lost in a crash only re-delivers a batch
  // (delivery is at least once), and an fsync per acknowledged batch cost
  // /v1/batch ingest a fifth of its rate.
  storage::ChangeFeedOptions feed_options;
  feed_options.retention = options.feed_retention;
  RP_ASSIGN_OR_RETURN(impl->feed, storage::ChangeFeed::Open(impl->derived_db.get(), feed_options));
  ingest::TrackerOptions tracker_options;
  tracker_options.derived_db = impl->derived_db.get();
  RP_ASSIGN_OR_RETURN(impl->tracker, ingest::Tracker::Open(impl->db.get(), impl->store.get(), tracker_options));
  impl->tracker->RegisterViewSection();
  // Built after the tracker replayed what a crash left, so it starts current;
  // from then on the feed re-applies every customer a change names, from the
  // feed's head read before the build (changes after it may be applied
  // twice, which is harmless). DATA_DIR/profile.json, when present, configures the profile columns.
  Timestamp now = SystemClock::Default()->Now();
  profile::ProfileOptions profile_options = profile::DefaultProfileOptions(now);
  auto config_path = std::filesystem::path(options.data_dir) / "profile.json";
  if (std::filesystem::exists(config_path)) {
    std::ifstream in(config_path);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = profile::ParseProfileOptions(text.str(), now);
    if (!parsed.ok()) {
      return Status::InvalidArgument(config_path.string() + ": " + parsed.status().message(), parsed.status().field());
    }
    profile_options = std::move(*parsed);
  }
  RP_ASSIGN_OR_RETURN(int64_t built_through, impl->feed->Head());
  RP_ASSIGN_OR_RETURN(impl->profile, profile::ProfileStore::Open(impl->db.get(), std::move(profile_options)));
  profile::RegisterSegmentsView(*impl->store, *impl->profile);
  // Segment entries and exits go onto the change feed for triggers and
  // other subscribers, as track events of the customer.
  impl->profile->SetListener([tracker = impl->tracker.get(), clock = SystemClock::Default()](
                                 const profile::SegmentChange& change) {
    ingest::StoredEvent e;
    e.customer_id = change.customer_id;
    e.event.type = ingest::EventType::kTrack;
    e.event.event = change.entered ? "segment.entered" : "segment.exited";
    e.event.properties_json = "{\"segmentId\":" + std::to_string(change.segment_id) + "}";
    e.event.timestamp = e.event.received_at = clock->Now();
    tracker->Publish({e});
  });
  // Subscribed once the listener is set, so every entry and exit it finds
  // is published.
  RP_ASSIGN_OR_RETURN(impl->profile_feed,
                      profile::ProfileFeedSubscriber::Start(impl->feed.get(), impl->profile.get(), built_through));
  internal::AuthOptions auth;
  auth.policy.idle = options.session_idle;
  auth.policy.max_age = options.session_max;
  auth.policy.lockout_failures = options.lockout_failures;
  auth.policy.lockout_window = options.lockout_duration;
  auth.policy.lockout_duration = options.lockout_duration;
  auth.cost.ops_limit = options.password_ops_limit;
  auth.cost.mem_limit = options.password_mem_limit;
  auth.secure_cookies = options.secure_cookies;
  auth.clock = options.clock;
  impl->app = std::make_unique<internal::App>(impl->store.get(), impl->db.get(), options.max_body_bytes,
                                              impl->tracker.get(), impl->profile.get(), options.min_group_size,
                                              std::move(*outbound), auth);
  // Identity matching and interactions for triggers follow the durable feed.
  RP_RETURN_IF_ERROR(impl->app->FollowChanges(impl->feed.get()));
  impl->options = std::move(options);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::Start() {
  if (impl_->listener) return Status::Conflict("the server is already started");
  internal::ListenerOptions lo;
  lo.host = impl_->host;
  lo.port = impl_->requested_port;
  lo.io_threads = impl_->options.io_threads;
  lo.worker_threads = impl_->options.worker_threads;
  lo.queue_capacity = impl_->options.queue_capacity;
  lo.max_body_bytes = impl_->options.max_body_bytes;
  lo.read_timeout = impl_->options.request_timeout;
  lo.write_timeout = impl_->options.request_timeout;
  lo.idle_timeout = impl_->options.idle_timeout;
  lo.heavy_threads = impl_->options.heavy_threads;
  lo.heavy_queue_capacity = impl_->options.heavy_queue_capacity;
  lo.drain_timeout = impl_->options.drain_timeout;
  lo.access_log = impl_->access_log.get();
  internal::App* app = impl_->app.get();
  impl_->listener = std::make_unique<internal::HttpListener>(
      lo, [app](internal::Request& req) { return app->Dispatch(req); },
      [](const Status& s, const std::string& instance) { return internal::ProblemFromStatus(s, instance); },
      [app](const internal::Request& req) { return app->LaneOf(req); });
  Status s = impl_->listener->Start();
  if (!s.ok()) {
    impl_->listener.reset();
    return s;
  }
  spdlog::info("server.started url={} data={} io_threads={} workers={} heavy_workers={}", url(),
               impl_->options.data_dir, lo.io_threads, lo.worker_threads, lo.heavy_threads);
  if (!impl_->options.outbound_allow.empty()) {
    spdlog::info("server.outbound_allow cidrs={}", impl_->options.outbound_allow);
  }
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->listener ? impl_->listener->port() : 0; }

std::string Server::url() const {
  std::string host = impl_->host == "0.0.0.0" ? "127.0.0.1" : impl_->host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port());
}

size_t Server::Stop() {
  if (!impl_->listener || impl_->stopped) return impl_->stuck;
  auto began = std::chrono::steady_clock::now();
  size_t stuck = impl_->listener->Stop();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  if (stuck > 0) {
    spdlog::error("server.drain_incomplete stuck_requests={} ms={} action=exit_without_cleanup", stuck, ms);
  } else {
    spdlog::info("server.drained ms={}", ms);
  }
  impl_->stopped = true;
  impl_->stuck = stuck;
  return stuck;
}

void Server::Wait() {
  if (impl_->listener) impl_->listener->Wait();
}

customer::CustomerStore& Server::customers() { return *impl_->store; }

int64_t Server::SubscribeToChanges(ingest::EventSubscriber subscriber) {
  return impl_->tracker->Subscribe(std::move(subscriber));
}

std::vector<std::string> Server::Routes() const { return impl_->app->Routes(); }

int ServeUntilStopSignal(Server& server) {
  int sig = WaitForStopSignal();
  spdlog::info("server.stopping signal={}", SignalName(sig));
  if (server.Stop() > 0) {
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace rapport::server
