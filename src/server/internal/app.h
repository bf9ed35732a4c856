#pragma once
// The API application: the route table, the authentication hook before it,
// and the error funnel after it. Independent of sockets, so the listener
// calls Dispatch from its worker threads and tests may call it directly.
// Thread-safe once constructed.

#include <functional>
#include <mutex>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "customer/customer.h"
#include "decision/decision.h"
#include "decision/triggers.h"
#include "ingest/tracking.h"
#include "identity/store.h"
#include "profile/profile.h"
#include "server/internal/auth.h"
#include "server/internal/codec.h"
#include "server/internal/http.h"
#include "server/internal/web_assets.h"
#include "storage/change_feed.h"

namespace rapport::server::internal {

// What a handler gets: the request, who made it, and helpers that turn path,
// query and body into typed values with precise errors.
class Call {
 public:
  Call(Request& req, std::optional<Principal> who, size_t max_body_bytes)
      : req_(req), who_(std::move(who)), max_body_bytes_(max_body_bytes) {}

  Request& request() { return req_; }
  const Principal& who() const { return *who_; }
  // Raised when the client has gone away or the server is stopping; long
  // work polls it (see Request::cancelled).
  const std::atomic<bool>* cancelled() const { return req_.cancelled.get(); }

  // A positive integer path parameter; 400 naming it otherwise.
  Result<int64_t> PathId(const std::string& name) const;
  // A path parameter as text (percent-decoded by the router).
  const std::string& PathText(const std::string& name) const;
  // The parsed JSON body; 400 when empty or malformed.
  Result<const rapidjson::Document*> Body();
  // Rejects query parameters not in allowed (400 naming the first).
  Status AllowQuery(std::initializer_list<std::string_view> allowed) const;
  // ?asOf=RFC 3339 as read options.
  Result<customer::ReadOptions> AsOf() const;
  const std::string* Query(const std::string& name) const;
  // An integer query parameter in [min, max], or fallback when absent; 400
  // naming the parameter otherwise.
  Result<int64_t> IntQuery(const std::string& name, int64_t min, int64_t max, int64_t fallback) const;
  // ?cursor= of a page listing: the id or sequence number the previous page
  // ended at (0, the default, for the first page).
  Result<int64_t> CursorQuery() const;

 private:
  Request& req_;
  std::optional<Principal> who_;
  size_t max_body_bytes_;
  std::unique_ptr<rapidjson::Document> body_;
};

using Handler = std::function<Result<Response>(Call&)>;

// A route: its permission (none: public, or authenticated by the handler
// itself) and its handler. accepts_text_plain: the body may also come as
// text/plain (analytics.js sends JSON so to avoid a CORS preflight).
struct Endpoint {
  std::optional<Permission> permission;
  Handler handler;
  bool accepts_text_plain = false;
  // The body may also come as application/xml or text/xml (DMN models).
  bool accepts_xml = false;
  // kHeavy for reads that scan the profile store or many customers; see Lane.
  Lane lane = Lane::kRequest;
  // The route is for a signed-in user's session, whatever the roles (GET
  // and DELETE /v1/session): an API key is refused.
  bool signed_in = false;
};

// Marks a route as a heavy read, where it is registered:
// r.Post("/v1/segments/preview", Heavy(must(...))).
inline Endpoint Heavy(Endpoint e) {
  e.lane = Lane::kHeavy;
  return e;
}

// Sign-in for App (ServerOptions' session and password settings).
struct AuthOptions {
  SessionPolicy policy;
  PasswordCost cost;
  bool secure_cookies = false;
  const Clock* clock = nullptr;  // null: the system clock
};

class App {
 public:
  // tracker may be null: then the Segment tracking routes are not served.
  // profile may be null: the segment and analytics routes then answer 503.
  // min_group_size: ServerOptions::min_group_size. outbound: where trigger
  // URLs may point (ServerOptions::outbound_allow).
  App(customer::CustomerStore* store, storage::Database* db, size_t max_body_bytes,
      ingest::Tracker* tracker = nullptr, profile::ProfileStore* profile = nullptr, int min_group_size = 5,
      net::OutboundPolicy outbound = {}, AuthOptions auth = {});
  ~App();

  // Fills in req.route and req.key_prefix for the access log.
  Response Dispatch(Request& req);
  // The lane of the route the request matches (kRequest when none does).
  Lane LaneOf(const Request& req) const;
  std::vector<std::string> Routes() const;  // "GET /v1/customers/{id}"

  // Subscribes the follow-ups of writes that the App's engines own to the
  // durable change feed, each from its own mark, so that whatever writes
  // (a route, a bulk upsert, an import by another process, a merge) they
  // see it, and routes only write: "identity" matches customers created or
  // changed against the loaded model; "triggers.interactions" puts every
  // interaction added onto the tracker's feed as interaction.created for
  // triggers. Call once after construction; feed must outlive the App.
  Status FollowChanges(storage::ChangeFeed* feed);

 private:
  void RegisterRoutes();
  // Sign-in, users and API keys (session_routes.cc).
  void RegisterSessionRoutes();
  // The principal of a request: its API key when it has an Authorization
  // header, else its session cookie (with the CSRF check for methods that
  // change something). *stale_cookie: a session cookie was sent that is no
  // longer valid (the answer then clears it).
  Result<Principal> Authenticate(const Request& req, bool* stale_cookie);
  std::string SessionCookie(const std::string& token, bool clear) const;
  void RegisterTrackingRoutes();  // tracking_routes.cc
  void RegisterIdentityRoutes();  // identity_routes.cc
  // Decisioning part 1 (decision_routes.cc): opens the decision engine,
  // registers its 360-view sections and the rules, catalog, decide and
  // response routes.
  void RegisterDecisionRoutes();
  // Triggers, cases and tasks, alerts (trigger_routes.cc).
  void RegisterTriggerRoutes();
  // Real-time identity matching of a customer just written (when a model is loaded).
  void MatchArrival(customer::CustomerId id);
  // The feed subscribers' handlers (identity_routes.cc, trigger_routes.cc).
  Status MatchChanged(const std::vector<storage::Change>& batch);
  Status PublishInteractions(const std::vector<storage::Change>& batch);
  Result<Mask> MaskFor(const Principal& who);
  Result<customer::CustomerId> Resolve(const CustomerRef& ref);

  customer::CustomerStore* store_;
  ingest::Tracker* tracker_;
  storage::Database* db_;
  size_t max_body_bytes_;
  profile::ProfileStore* profile_;
  int min_group_size_;
  net::OutboundPolicy outbound_;
  KeyVerifier keys_;
  std::unique_ptr<UserStore> users_;
  bool secure_cookies_ = false;
  Router<Endpoint> router_;
  std::shared_ptr<identity::IdentityStore> identity_;  // null when its tables failed to open
  std::thread identity_loader_;  // trains the saved model at start; joined by ~App
  // The saved identity model is trained at start in the background; until
  // it is indexed, "identity" retries its batch instead of skipping it.
  std::atomic<bool> identity_loading_{false};
  storage::ChangeFeed* feed_ = nullptr;  // set by FollowChanges
  // Null when its tables failed to open; then its routes answer 503.
  std::shared_ptr<decision::DecisionEngine> decision_;
  // The trigger engine behind the trigger, case and alert routes; null when
  // its tables failed to open (the routes then answer 503).
  std::unique_ptr<decision::TriggerEngine> triggers_;
  // The browser workspace's files, answered for GET paths outside /v1/ that
  // no route matches (web_assets.h).
  std::unique_ptr<WebWorkspace> web_;
};

}  // namespace rapport::server::internal
