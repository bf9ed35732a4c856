// The Segment tracking API (POST /v1/identify, track, page, screen, group,
// alias, batch) and GET /v1/events. Tracking calls authenticate as Segment's
// do: HTTP Basic with the source's write key as user name (or, as
// analytics.js sends it, a "writeKey" member of the body); the Bearer API
// keys stay for everything else. A call is answered once its events are
// committed by the tracker's group-commit writer.

#include <charconv>

#include "common/json.h"
#include "server/internal/app.h"
#include "server/internal/problem.h"

namespace rapport::server::internal {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// The write key of "Authorization: Basic base64(writeKey:)"; empty when the
// header is absent. Unauthenticated when it is there but not Basic.
Result<std::string> WriteKeyOf(std::string_view authorization) {
  if (authorization.empty()) return std::string();
  constexpr std::string_view kBasic = "basic ";
  if (authorization.size() <= kBasic.size() ||
      !std::equal(kBasic.begin(), kBasic.end(), authorization.begin(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    return Status::Unauthenticated(
        "tracking calls authenticate with HTTP Basic: the source's write key as user name, no password");
  }
  std::string_view b64 = authorization.substr(kBasic.size());
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
  auto decoded = Base64Decode(b64);
  if (!decoded) return Status::Unauthenticated("the Basic credentials are not valid base64");
  return decoded->substr(0, decoded->find(':'));
}

Response Unauthorized(const Status& s, const std::string& instance) {
  Response r = ProblemFromStatus(s, instance);
  for (auto& [k, v] : r.headers) {
    if (k == "WWW-Authenticate") v = "Basic realm=\"rapport tracking\"";
  }
  return r;
}

// 400 listing every rejected call of a batch, each with its field.
Response BatchProblem(const std::vector<ingest::RejectedEvent>& rejected, const std::string& instance) {
  const Status& first = rejected.front().status;
  int status = HttpStatusOf(first.code());
  for (const auto& r : rejected) {
    if (HttpStatusOf(r.status.code()) != status) status = 400;
  }
  json::Writer w;
  w.StartObject();
  w.Field("type", ProblemType(status));
  w.Field("title", TitleOf(status == 413 ? StatusCode::kPayloadTooLarge : StatusCode::kInvalidArgument));
  w.Field("status", status);
  w.Field("detail", "no call of the batch was accepted: " + std::to_string(rejected.size()) + " rejected; first: " +
                        first.message());
  w.Field("instance", instance);
  w.Key("errors").StartArray();
  for (const auto& r : rejected) {
    w.StartObject().Field("field", r.status.field()).Field("detail", r.status.message()).EndObject();
  }
  w.EndArray().EndObject();
  Response res = Response::Json(status, w.Take());
  res.content_type = "application/problem+json";
  return res;
}

}  // namespace

void App::RegisterTrackingRoutes() {
  auto track = [this](std::optional<ingest::EventType> type) -> Handler {
    return [this, type](Call& c) -> Result<Response> {
      Request& req = c.request();
      Timestamp received = store_->clock().Now();
      auto key = WriteKeyOf(req.authorization);
      if (!key.ok()) return Unauthorized(key.status(), req.path);
      // With a header, authenticate before looking at the payload.
      std::optional<ingest::Source> source;
      if (!key->empty()) {
        auto s = tracker_->Authenticate(*key);
        if (!s.ok()) return Unauthorized(s.status(), req.path);
        source = *s;
      }
      auto decoded = type ? ingest::DecodeCall(*type, req.body, received) : ingest::DecodeBatch(req.body, received);
      if (!source) {
        std::string body_key = decoded.ok() ? decoded->write_key : "";
        if (body_key.empty()) {
          return Unauthorized(Status::Unauthenticated("tracking calls need the source's write key as the HTTP Basic "
                                                      "user name"),
                              req.path);
        }
        auto s = tracker_->Authenticate(body_key);
        if (!s.ok()) return Unauthorized(s.status(), req.path);
        source = *s;
      }
      if (!decoded.ok()) return decoded.status();
      if (decoded->events.empty()) {
        if (!decoded->rejected.empty()) return BatchProblem(decoded->rejected, req.path);
        return Status::InvalidArgument("the batch holds no calls", "/batch");
      }
      auto outcome = tracker_->Write(*source, std::move(decoded->events));
      if (!outcome.ok()) return outcome.status();
      json::Writer w;
      w.StartObject();
      w.Field("success", true);
      w.Field("accepted", outcome->accepted);
      w.Field("duplicates", outcome->duplicates);
      if (!decoded->rejected.empty()) {
        w.Key("rejected").StartArray();
        for (const auto& r : decoded->rejected) {
          w.StartObject();
          w.Field("index", static_cast<int64_t>(r.index));
          w.Field("status", HttpStatusOf(r.status.code()));
          w.Field("field", r.status.field());
          w.Field("detail", r.status.message());
          w.EndObject();
        }
        w.EndArray();
      }
      w.EndObject();
      return Response::Json(200, w.Take());
    };
  };
  using ingest::EventType;
  for (EventType t : {EventType::kIdentify, EventType::kTrack, EventType::kPage, EventType::kScreen, EventType::kGroup,
                      EventType::kAlias}) {
    router_.Post("/v1/" + std::string(ingest::EventTypeName(t)), Endpoint{std::nullopt, track(t), true});
  }
  router_.Post("/v1/batch", Endpoint{std::nullopt, track(std::nullopt), true});

  router_.Get("/v1/events", Endpoint{Permission::kCustomersRead, [this](Call& c) -> Result<Response> {
                                       RP_RETURN_IF_ERROR(c.AllowQuery({"customerId", "type", "since", "cursor", "limit"}));
                                       ingest::EventQuery q;
                                       auto int_param = [&](const char* name, int64_t lo, int64_t hi,
                                                            int64_t* out) -> Status {
                                         const std::string* s = c.Query(name);
                                         if (!s) return Status::Ok();
                                         auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), *out);
                                         if (ec != std::errc() || end != s->data() + s->size() || *out < lo ||
                                             *out > hi) {
                                           return Status::InvalidArgument("expected an integer between " +
                                                                              std::to_string(lo) + " and " +
                                                                              std::to_string(hi),
                                                                          name);
                                         }
                                         return Status::Ok();
                                       };
                                       if (!c.Query("customerId")) {
                                         return Status::InvalidArgument("missing required parameter", "customerId");
                                       }
                                       RP_RETURN_IF_ERROR(int_param("customerId", 1, INT64_MAX, &q.customer_id));
                                       int64_t limit = 50;
                                       RP_RETURN_IF_ERROR(int_param("limit", 1, 1000, &limit));
                                       q.limit = static_cast<int>(limit);
                                       RP_RETURN_IF_ERROR(int_param("cursor", 1, INT64_MAX, &q.after_seq));
                                       if (const std::string* s = c.Query("type")) {
                                         auto t = ingest::ParseEventType(*s);
                                         if (!t.ok()) return Status::InvalidArgument(t.status().message(), "type");
                                         q.type = *t;
                                       }
                                       if (const std::string* s = c.Query("since")) {
                                         auto t = ParseRfc3339(*s);
                                         if (!t.ok()) return Status::InvalidArgument(t.status().message(), "since");
                                         q.since = *t;
                                       }
                                       RP_ASSIGN_OR_RETURN(auto page, tracker_->ListEvents(q));
                                       // Traits and context (e-mail, IP address, device) are PII:
                                       // roles without pii:read get the events without them.
                                       bool pii = c.who().Can(Permission::kPiiRead);
                                       if (!pii) {
                                         for (auto& s : page.items) {
                                           if (s.event.traits_json != "{}") s.event.traits_json = R"({"masked":true})";
                                           s.event.context_json = R"({"masked":true})";
                                         }
                                       }
                                       std::string body = "{\"items\":[";
                                       for (size_t i = 0; i < page.items.size(); ++i) {
                                         if (i) body += ',';
                                         const auto& s = page.items[i];
                                         json::Writer w;
                                         w.StartObject().Field("seq", s.seq).Field("customerId", s.customer_id);
                                         w.Key("event").Raw(ingest::EventToJson(s.event)).EndObject();
                                         body += w.Take();
                                       }
                                       body += "],\"nextCursor\":";
                                       body += page.next_cursor.empty() ? "null" : "\"" + page.next_cursor + "\"";
                                       body += "}";
                                       return Response::Json(200, std::move(body));
                                     }});
}

}  // namespace rapport::server::internal
