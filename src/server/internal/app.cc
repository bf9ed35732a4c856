#include "server/internal/app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>

#include "server/internal/openapi.h"
#include "server/internal/problem.h"
#include "server/internal/segment_routes.h"

namespace rapport::server::internal {

using customer::CustomerId;

namespace {

// A Status the store reports against a body field that, for this route, came
// from the path: re-label it with the path parameter.
// Unknown-customer errors for the path's customer are relabeled too.
Status FromPath(Status s, std::string_view body_field, const std::string& param) {
  if (s.ok()) return s;
  bool path_customer =
      s.IsNotFound() && (s.field().empty() || s.field() == "/id" || s.field() == "/customerId");
  if (s.field() != body_field && !path_customer) return s;
  return Status(s.code(), s.message(), param);
}

// Query parameters are reported by name, not as body pointers.
Status FromQuery(Status s) {
  if (s.ok() || s.field().empty() || s.field().front() != '/') return s;
  return Status(s.code(), s.message(), s.field().substr(1));
}

std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsJsonMediaType(const std::string& t) {
  return t == "application/json" || (t.rfind("application/", 0) == 0 && t.size() > 5 &&
                                     t.compare(t.size() - 5, 5, "+json") == 0);
}

Response JsonResponse(int status, json::Writer& w) { return Response::Json(status, w.Take()); }

}  // namespace

// ---- Call ----------------------------------------------------------------------

Result<int64_t> Call::PathId(const std::string& name) const {
  auto it = req_.params.find(name);
  const std::string text = it == req_.params.end() ? "" : it->second;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) {
    return Status::InvalidArgument("expected a positive integer id, got '" + text + "'", name);
  }
  return v;
}

const std::string& Call::PathText(const std::string& name) const {
  static const std::string kEmpty;
  auto it = req_.params.find(name);
  return it == req_.params.end() ? kEmpty : it->second;
}

Result<const rapidjson::Document*> Call::Body() {
  if (body_) return body_.get();
  if (req_.body.empty()) return Status::InvalidArgument("this route needs a JSON body");
  json::ParseLimits limits;
  limits.max_bytes = max_body_bytes_;
  RP_ASSIGN_OR_RETURN(body_, json::Parse(req_.body, limits));
  return body_.get();
}

Status Call::AllowQuery(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [name, value] : req_.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return Status::InvalidArgument("unknown query parameter", name);
    }
  }
  return Status::Ok();
}

const std::string* Call::Query(const std::string& name) const {
  auto it = req_.query.find(name);
  return it == req_.query.end() ? nullptr : &it->second;
}

Result<int64_t> Call::IntQuery(const std::string& name, int64_t min, int64_t max, int64_t fallback) const {
  const std::string* s = Query(name);
  if (!s) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || v < min || v > max) {
    return Status::InvalidArgument("expected an integer between " + std::to_string(min) + " and " +
                                       std::to_string(max),
                                   name);
  }
  return v;
}

Result<int64_t> Call::CursorQuery() const {
  auto v = IntQuery("cursor", 0, INT64_MAX, 0);
  if (!v.ok()) return Status::InvalidArgument("not a cursor from a previous page", "cursor");
  return v;
}

Result<customer::ReadOptions> Call::AsOf() const {
  customer::ReadOptions opt;
  if (const std::string* s = Query("asOf")) {
    auto t = ParseRfc3339(*s);
    if (!t.ok()) return Status::InvalidArgument(t.status().message(), "asOf");
    opt.as_of = *t;
  }
  return opt;
}

// ---- App -----------------------------------------------------------------------

App::App(customer::CustomerStore* store, storage::Database* db, size_t max_body_bytes, ingest::Tracker* tracker,
         profile::ProfileStore* profile, int min_group_size, net::OutboundPolicy outbound, AuthOptions auth)
    : store_(store),
      tracker_(tracker),
      db_(db),
      max_body_bytes_(max_body_bytes),
      profile_(profile),
      min_group_size_(min_group_size),
      outbound_(std::move(outbound)),
      keys_(db),
      users_(std::make_unique<UserStore>(db, auth.clock ? auth.clock : SystemClock::Default(), auth.cost,
                                         auth.policy)),
      secure_cookies_(auth.secure_cookies) {
  users_->Prepare();
  RegisterRoutes();
  RegisterSessionRoutes();
  if (tracker_) RegisterTrackingRoutes();
  RegisterIdentityRoutes();
  RegisterDecisionRoutes();
  RegisterTriggerRoutes();
  web_ = std::make_unique<WebWorkspace>(EmbeddedWebAssets());
}

App::~App() {
  if (feed_ != nullptr) {
    feed_->Unsubscribe("identity");
    feed_->Unsubscribe("triggers.interactions");
  }
  if (identity_loader_.joinable()) identity_loader_.join();
}

Status App::FollowChanges(storage::ChangeFeed* feed) {
  if (feed_ != nullptr) return Status::Conflict("the app follows the change feed already");
  feed_ = feed;
  if (identity_) {
    storage::SubscribeOptions o;
    o.batch_size = 1000;
    // A model saved later indexes every customer then; what was written
    // before it needs no matching now.
    o.new_starts_at_head = true;
    RP_RETURN_IF_ERROR(feed->Subscribe(
        "identity", [this](const std::vector<storage::Change>& batch) { return MatchChanged(batch); }, o));
  }
  if (tracker_ && triggers_) {
    storage::SubscribeOptions o;
    // Triggers act on interactions from now on, not on the history an
    // upgrade finds in the store.
    o.new_starts_at_head = true;
    RP_RETURN_IF_ERROR(feed->Subscribe("triggers.interactions",
                                       [this](const std::vector<storage::Change>& batch) {
                                         return PublishInteractions(batch);
                                       },
                                       o));
  }
  return Status::Ok();
}

std::vector<std::string> App::Routes() const {
  std::vector<std::string> out;
  for (const auto& r : router_.routes()) out.push_back(std::string(MethodName(r.method)) + " " + r.pattern);
  return out;
}

Result<Mask> App::MaskFor(const Principal& who) {
  Mask m;
  if (who.Can(Permission::kPiiRead)) return m;
  m.active = true;
  RP_ASSIGN_OR_RETURN(auto catalog, store_->ListAttributes());
  for (const auto& def : catalog) {
    if (def.pii) m.pii.insert(def.name);
  }
  return m;
}

Result<CustomerId> App::Resolve(const CustomerRef& ref) {
  if (!ref.identifier) return ref.id;
  RP_ASSIGN_OR_RETURN(auto id, store_->FindByIdentifier(*ref.identifier));
  if (!id) return Status::NotFound("no customer has identifier " + ref.identifier->ToString(), "/customer");
  return *id;
}

namespace {
// What the router matches: the path as sent (percent-encoded), or, for a
// request made in process without a target, its path.
std::string_view RoutedPath(const Request& req) { return req.target.empty() ? req.path : RawPath(req.target); }
}  // namespace

Lane App::LaneOf(const Request& req) const {
  auto match = router_.Find(req.method, RoutedPath(req));
  return match.route ? match.route->handler.lane : Lane::kRequest;
}

Response App::Dispatch(Request& req) {
  auto match = router_.Find(req.method, RoutedPath(req));
  if (match.route) req.route = match.route->pattern;
  // The workspace's pages and files are public, so the sign-in page loads;
  // /v1/ stays behind authentication below.
  if (match.route == nullptr && match.allowed.empty() && web_) {
    if (std::optional<Response> page = web_->Serve(req)) {
      req.route = req.path.rfind("/assets/", 0) == 0 ? "/assets/{file}" : "/{page}";
      return std::move(*page);
    }
  }
  std::optional<Principal> who;
  // Authentication comes before routing, so without a key or a session
  // nobody learns which routes exist.
  if (match.route == nullptr || match.route->handler.permission || match.route->handler.signed_in) {
    bool stale_cookie = false;
    auto p = Authenticate(req, &stale_cookie);
    if (!p.ok()) {
      if (p.status().code() == StatusCode::kInternal) {
        spdlog::error("server.auth_error path={} error={}", req.path, p.status().message());
      }
      Response r = ProblemFromStatus(p.status(), req.path);
      if (stale_cookie) r.headers.emplace_back("Set-Cookie", SessionCookie("", true));
      return r;
    }
    who = std::move(*p);
    // The access log names a person by id, never by the session's token.
    req.key_prefix = who->user_id != 0 ? who->Actor() : who->key_prefix;
  }
  if (match.route == nullptr) {
    if (match.allowed.empty()) return ProblemFromStatus(Status::NotFound("no route " + req.path), req.path);
    std::sort(match.allowed.begin(), match.allowed.end());
    match.allowed.erase(std::unique(match.allowed.begin(), match.allowed.end()), match.allowed.end());
    std::string allow;
    for (Method m : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(MethodName(m));
    Response r = Problem(405, "Method Not Allowed", req.method_text + " is not allowed here; use " + allow, "",
                         req.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  req.params = std::move(match.params);
  const Endpoint& ep = match.route->handler;
  if (ep.signed_in && !who->session) {
    return ProblemFromStatus(Status::Unauthenticated("this route is for a signed-in user; sign in with POST /v1/session "
                                                     "(an API key has no session)"),
                             req.path);
  }
  if (ep.permission && !who->Can(*ep.permission)) {
    return ProblemFromStatus(Status::PermissionDenied(who->Lacks() + " the permission " +
                                                      std::string(PermissionName(*ep.permission))),
                             req.path);
  }
  if (!req.body.empty() && !IsJsonMediaType(MediaType(req.content_type)) &&
      !(ep.accepts_text_plain && MediaType(req.content_type) == "text/plain") &&
      !(ep.accepts_xml && (MediaType(req.content_type) == "application/xml" ||
                           MediaType(req.content_type) == "text/xml"))) {
    return ProblemFromStatus(Status(StatusCode::kUnsupportedMedia,
                                    "the body must be application/json, not '" + req.content_type + "'",
                                    "Content-Type"),
                             req.path);
  }
  Call call(req, who, max_body_bytes_);
  Result<Response> res = Status::Internal("handler did not run");
  try {
    res = ep.handler(call);
  } catch (const std::exception& e) {
    res = Status::Internal(e.what());
  }
  if (res.ok()) return std::move(res).value();
  if (res.status().code() == StatusCode::kInternal) {
    spdlog::error("server.error method={} path={} error={}", MethodName(req.method), req.path, res.status().message());
  }
  return ProblemFromStatus(res.status(), req.path);
}

// ---- the route table ------------------------------------------------------------

void App::RegisterRoutes() {
  using P = Permission;
  auto must = [](P p, Handler h) { return Endpoint{p, std::move(h)}; };
  auto& r = router_;
  RegisterSegmentRoutes(r, profile_, {[this](const Principal& who) { return MaskFor(who); }, min_group_size_});

  // Liveness, answered on the I/O thread (Lane::kInline), so it says 200
  // while every worker is busy and a probe does not restart a loaded node.
  // It touches no database: a query could wait for a connection or a lock
  // held by those busy workers and so block the I/O thread, and a restart
  // would not cure a database that does not answer anyway.
  Endpoint health{std::nullopt, [](Call&) -> Result<Response> { return Response::Json(200, R"({"status":"ok"})"); }};
  health.lane = Lane::kInline;
  r.Get("/healthz", std::move(health));

  r.Get("/v1/openapi.json", must(P::kCustomersRead, [](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          return Response::Json(200, std::string(kOpenApiJson));
        }));

  r.Get("/v1/attributes", must(P::kCustomersRead, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto defs, store_->ListAttributes());
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& d : defs) WriteAttributeDefinition(w, d);
          w.EndArray().EndObject();
          return JsonResponse(200, w);
        }));

  r.Post("/v1/attributes", must(P::kCatalogWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto def, DecodeAttributeDefinition(*body));
           RP_RETURN_IF_ERROR(store_->DefineAttribute(def));
           json::Writer w;
           WriteAttributeDefinition(w, def);
           return JsonResponse(201, w);
         }));

  r.Post("/v1/customers", must(P::kCustomersWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto nc, DecodeNewCustomer(*body));
           RP_ASSIGN_OR_RETURN(auto created, store_->Create(nc));
           RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
           json::Writer w;
           WriteCustomer(w, created, m);
           Response res = JsonResponse(201, w);
           res.headers.emplace_back("Location", UrlPath({"v1", "customers", std::to_string(created.id)}));
           return res;
         }));

  r.Get("/v1/customers", must(P::kCustomersRead, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"q", "kind", "cursor", "limit"}));
          customer::SearchQuery q;
          if (auto* s = c.Query("q")) q.q = *s;
          // Refused before anything is looked up: whether a name, e-mail or
          // phone finds someone is itself personal data.
          if (!c.who().Can(P::kPiiRead) && customer::SearchReadsPii(q.q)) {
            return Status(StatusCode::kPermissionDenied,
                          "searching by name, e-mail or phone needs the permission pii:read, which " +
                              c.who().Lacks() + "; search by another identifier (scheme:value) or list without q",
                          "q");
          }
          if (auto* s = c.Query("cursor")) q.cursor = *s;
          if (auto* s = c.Query("kind")) {
            auto k = customer::ParseKind(*s);
            if (!k.ok()) return Status::InvalidArgument(k.status().message(), "kind");
            q.kind = *k;
          }
          if (auto* s = c.Query("limit")) {
            auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), q.limit);
            if (ec != std::errc() || end != s->data() + s->size()) {
              return Status::InvalidArgument("expected an integer between 1 and 1000", "limit");
            }
          }
          auto page = store_->Search(q);
          if (!page.ok()) return FromQuery(page.status());
          RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& s : page->items) WriteSummary(w, s, m);
          w.EndArray().Key("nextCursor");
          if (page->next_cursor.empty()) {
            w.Null();
          } else {
            w.String(page->next_cursor);
          }
          w.EndObject();
          return JsonResponse(200, w);
        }));

  r.Get("/v1/customers/{id}", must(P::kCustomersRead, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"asOf"}));
          RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto opt, c.AsOf());
          auto found = store_->Get(id, opt);
          if (!found.ok()) return FromQuery(FromPath(found.status(), "/id", "id"));
          RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
          json::Writer w;
          WriteCustomer(w, *found, m);
          return JsonResponse(200, w);
        }));

  r.Patch("/v1/customers/{id}", must(P::kCustomersWrite, [this](Call& c) -> Result<Response> {
            RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
            RP_ASSIGN_OR_RETURN(auto body, c.Body());
            RP_ASSIGN_OR_RETURN(auto patch, DecodeCustomerPatch(*body));
            auto updated = store_->Update(id, patch);
            if (!updated.ok()) return FromPath(updated.status(), "/id", "id");
            RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
            json::Writer w;
            WriteCustomer(w, *updated, m);
            return JsonResponse(200, w);
          }));

  // Upsert by a source system's key: the integration route of back-office
  // systems, idempotent like `rapport import`.
  r.Put("/v1/sources/{source}/customers/{key}", must(P::kCustomersWrite, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto body, c.Body());
          RP_ASSIGN_OR_RETURN(customer::CustomerRecord rec, DecodeCustomerRecord(*body, "", false));
          rec.source_key = c.PathText("key");
          const std::string& source = c.PathText("source");
          auto written = store_->UpsertCustomers(source, {rec});
          if (!written.ok()) return FromPath(written.status(), "/source", "source");
          const customer::CustomerStore::BatchResult& result = *written;
          Status s = result.errors.at(0);
          if (!s.ok()) return FromPath(FromPath(s, "/sourceKey", "key"), "/source", "source");
          RP_ASSIGN_OR_RETURN(std::optional<CustomerId> id, store_->FindByIdentifier({source, rec.source_key}));
          if (!id) return Status::Internal("the upserted customer is missing");
          RP_ASSIGN_OR_RETURN(auto stored, store_->Get(*id));
          RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
          json::Writer w;
          WriteCustomer(w, stored, m);
          Response res = JsonResponse(result.created > 0 ? 201 : 200, w);
          res.headers.emplace_back("Location", UrlPath({"v1", "customers", std::to_string(*id)}));
          return res;
        }));

  // Many records of one source in one transaction; a bad record is reported
  // by its index and field, the rest are written.
  r.Post("/v1/sources/{source}/customers", must(P::kCustomersWrite, [this](Call& c) -> Result<Response> {
           constexpr size_t kMaxRecords = 10000;
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
           const rapidjson::Value* records = reader.Find("records");
           if (records == nullptr) return Status::InvalidArgument("required field is missing", "/records");
           if (!records->IsArray()) return Status::InvalidArgument("expected an array", "/records");
           if (records->Size() > kMaxRecords) {
             return Status::InvalidArgument("at most 10000 records per request", "/records");
           }
           RP_RETURN_IF_ERROR(reader.Finish());
           std::vector<customer::CustomerRecord> decoded;
           std::vector<size_t> index;  // position in the request of each decoded record
           std::vector<std::pair<size_t, Status>> errors;
           for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
             auto rec = DecodeCustomerRecord((*records)[i], "/records/" + std::to_string(i), true);
             if (!rec.ok()) {
               errors.emplace_back(i, rec.status());
               continue;
             }
             decoded.push_back(std::move(*rec));
             index.push_back(i);
           }
           customer::CustomerStore::BatchResult result;
           if (!decoded.empty()) {
             auto written = store_->UpsertCustomers(c.PathText("source"), decoded);
             if (!written.ok()) return FromPath(written.status(), "/source", "source");
             result = std::move(*written);
           }
           for (size_t j = 0; j < result.errors.size(); ++j) {
             const Status& s = result.errors[j];
             if (s.ok()) continue;
             std::string prefix = "/records/" + std::to_string(index[j]);
             errors.emplace_back(index[j], Status(s.code(), s.message(), prefix + s.field()));
           }
           std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
           json::Writer w;
           w.StartObject()
               .Field("created", result.created)
               .Field("updated", result.updated)
               .Field("unchanged", result.unchanged)
               .Field("rejected", static_cast<int64_t>(errors.size()))
               .Key("errors")
               .StartArray();
           for (const auto& [i, s] : errors) {
             w.StartObject()
                 .Field("index", static_cast<int64_t>(i))
                 .Field("status", static_cast<int64_t>(HttpStatusOf(s.code())))
                 .Field("field", s.field())
                 .Field("detail", s.message())
                 .EndObject();
           }
           w.EndArray().EndObject();
           return JsonResponse(200, w);
         }));

  r.Get("/v1/customers/{id}/history", must(P::kCustomersRead, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
          auto history = store_->History(id);
          if (!history.ok()) return FromPath(history.status(), "/id", "id");
          RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
          json::Writer w;
          w.StartObject().Field("customerId", id).Key("items");
          WriteHistory(w, *history, m);
          w.EndObject();
          return JsonResponse(200, w);
        }));

  r.Get("/v1/customers/{id}/view", must(P::kCustomersRead, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"asOf"}));
          RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto opt, c.AsOf());
          opt.pii = c.who().Can(P::kPiiRead);
          auto view = store_->View(id, opt);
          if (!view.ok()) return FromQuery(FromPath(view.status(), "/id", "id"));
          RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
          json::Writer w;
          WriteView(w, *view, m);
          return JsonResponse(200, w);
        }));

  r.Post("/v1/customers/{id}/relationships", must(P::kCustomersWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto rel, DecodeRelationship(*body, id));
           auto added = store_->AddRelationship(rel);
           if (!added.ok()) return FromPath(added.status(), "/from", "id");
           json::Writer w;
           WriteRelationship(w, *added);
           return JsonResponse(201, w);
         }));

  r.Put("/v1/customers/{id}/consents/{channel}", must(P::kConsentsWrite, [this](Call& c) -> Result<Response> {
          RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto body, c.Body());
          RP_ASSIGN_OR_RETURN(auto consent, DecodeConsent(*body, id, c.request().params["channel"]));
          auto set = store_->SetConsent(consent);
          if (!set.ok()) return FromPath(FromPath(set.status(), "/customerId", "id"), "/channel", "channel");
          if (decision_) decision_->ConsentChanged(*set);
          json::Writer w;
          WriteConsent(w, *set);
          return JsonResponse(200, w);
        }));

  r.Post("/v1/accounts", must(P::kCommerceWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           CustomerRef ref;
           RP_ASSIGN_OR_RETURN(auto account, DecodeAccount(*body, &ref));
           RP_ASSIGN_OR_RETURN(account.customer_id, Resolve(ref));
           RP_ASSIGN_OR_RETURN(auto stored, store_->UpsertAccount(account));
           json::Writer w;
           WriteAccount(w, stored);
           return JsonResponse(200, w);
         }));

  r.Post("/v1/transactions", must(P::kCommerceWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           CustomerRef ref;
           RP_ASSIGN_OR_RETURN(auto t, DecodeTransaction(*body, &ref));
           RP_ASSIGN_OR_RETURN(t.customer_id, Resolve(ref));
           RP_ASSIGN_OR_RETURN(auto stored, store_->AddTransaction(t));
           json::Writer w;
           WriteTransaction(w, stored);
           return JsonResponse(201, w);
         }));

  r.Post("/v1/interactions", must(P::kInteractionsWrite, [this](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           CustomerRef ref;
           RP_ASSIGN_OR_RETURN(auto i, DecodeInteraction(*body, &ref));
           RP_ASSIGN_OR_RETURN(i.customer_id, Resolve(ref));
           RP_ASSIGN_OR_RETURN(auto stored, store_->AddInteraction(i));
           json::Writer w;
           RP_ASSIGN_OR_RETURN(Mask m, MaskFor(c.who()));
           WriteInteraction(w, stored, m);
           return JsonResponse(201, w);
         }));
}

}  // namespace rapport::server::internal
