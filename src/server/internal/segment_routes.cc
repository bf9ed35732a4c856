#include "server/internal/segment_routes.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace rapport::server::internal {
namespace {

Response JsonOf(int status, json::Writer& w) { return Response::Json(status, w.Take()); }

void WriteSegment(json::Writer& w, const profile::Segment& s) {
  w.StartObject()
      .Field("id", s.id)
      .Field("name", s.name)
      .Field("description", s.description)
      .Field("condition", s.condition)
      .Field("size", s.size)
      .TimeField("createdAt", s.created_at)
      .EndObject();
}

bool WantsCsv(const Call& c) {
  const std::string* f = c.Query("format");
  return f && *f == "csv";
}

Status CheckFormat(const Call& c) {
  const std::string* f = c.Query("format");
  if (f && *f != "csv" && *f != "json") return Status::InvalidArgument("format is json or csv", "format");
  return Status::Ok();
}

Response Csv(std::string body) {
  Response r;
  r.status = 200;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace

void RefreshProfile(profile::ProfileStore* profile, customer::CustomerId id) {
  if (!profile) return;
  Status s = profile->Apply(id);
  if (!s.ok()) spdlog::warn("profile.apply_failed customer={} error={}", id, s.ToString());
}

void RegisterSegmentRoutes(Router<Endpoint>& r, profile::ProfileStore* profile) {
  using P = Permission;
  auto must = [profile](P p, std::function<Result<Response>(Call&, profile::ProfileStore&)> h) {
    return Endpoint{p, [profile, h = std::move(h)](Call& c) -> Result<Response> {
                      if (!profile) return Status::Unavailable("the profile store is not loaded");
                      return h(c, *profile);
                    }};
  };

  r.Post("/v1/segments/preview", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(*body, ""));
           std::string condition;
           RP_RETURN_IF_ERROR(reader.String("condition", &condition, json::Need::kRequired));
           RP_RETURN_IF_ERROR(reader.Finish());
           RP_ASSIGN_OR_RETURN(int64_t n, p.Count(condition));
           json::Writer w;
           w.StartObject().Field("condition", condition).Field("size", n).EndObject();
           return JsonOf(200, w);
         }));

  // A condition segment, or a combination of two: {"name", "operation":
  // "union"|"intersection"|"difference", "segments": [left, right]}.
  r.Post("/v1/segments", must(P::kCustomersWrite, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(*body, ""));
           std::string name, description, condition, operation;
           RP_RETURN_IF_ERROR(reader.String("name", &name, json::Need::kRequired));
           RP_RETURN_IF_ERROR(reader.String("description", &description));
           RP_RETURN_IF_ERROR(reader.String("condition", &condition));
           RP_RETURN_IF_ERROR(reader.String("operation", &operation));
           const rapidjson::Value* segments = reader.Find("segments");
           RP_RETURN_IF_ERROR(reader.Finish());
           profile::Segment created;
           if (!operation.empty()) {
             if (!condition.empty()) {
               return Status::InvalidArgument("give either a condition or an operation, not both", "/operation");
             }
             profile::SetOperation op;
             if (operation == "union") op = profile::SetOperation::kUnion;
             else if (operation == "intersection") op = profile::SetOperation::kIntersection;
             else if (operation == "difference") op = profile::SetOperation::kDifference;
             else return Status::InvalidArgument("operation is union, intersection or difference", "/operation");
             if (!segments || !segments->IsArray() || segments->Size() != 2 || !(*segments)[0].IsInt64() ||
                 !(*segments)[1].IsInt64()) {
               return Status::InvalidArgument("expected two segment ids [left, right]", "/segments");
             }
             RP_ASSIGN_OR_RETURN(created, p.CombineSegments(name, op, (*segments)[0].GetInt64(),
                                                            (*segments)[1].GetInt64()));
           } else {
             if (segments) return Status::InvalidArgument("segments go with an operation", "/segments");
             if (condition.empty()) return Status::InvalidArgument("required field is missing", "/condition");
             RP_ASSIGN_OR_RETURN(created, p.CreateSegment(name, description, condition));
           }
           json::Writer w;
           WriteSegment(w, created);
           Response res = JsonOf(201, w);
           res.headers.emplace_back("Location", "/v1/segments/" + std::to_string(created.id));
           return res;
         }));

  r.Get("/v1/segments", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& s : p.ListSegments()) WriteSegment(w, s);
          w.EndArray().EndObject();
          return JsonOf(200, w);
        }));

  r.Get("/v1/segments/{id}", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto s, p.GetSegment(id));
          json::Writer w;
          WriteSegment(w, s);
          return JsonOf(200, w);
        }));

  r.Add(Method::kDelete, "/v1/segments/{id}",
        must(P::kCustomersWrite, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_RETURN_IF_ERROR(p.DeleteSegment(id));
          Response res;
          res.status = 204;
          return res;
        }));

  // Members in customer-id order; the cursor is the last id of the page.
  // ?format=csv exports every member as one customerId per line.
  r.Get("/v1/segments/{id}/members", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit", "format"}));
          RP_RETURN_IF_ERROR(CheckFormat(c));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          if (WantsCsv(c)) {
            std::string csv = "customerId\n";
            int64_t after = 0;
            for (;;) {
              RP_ASSIGN_OR_RETURN(auto page, p.Members(id, after, 10000));
              if (page.empty()) break;
              for (int64_t m : page) csv += std::to_string(m) + "\n";
              after = page.back();
            }
            return Csv(std::move(csv));
          }
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 10000, 100));
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(auto page, p.Members(id, after, static_cast<int>(limit)));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (int64_t m : page) w.Int(m);
          w.EndArray().Key("nextCursor");
          if (static_cast<int>(page.size()) == limit) w.String(std::to_string(page.back())); else w.Null();
          w.EndObject();
          return JsonOf(200, w);
        }));

  // The segment's change feed: entries and exits, oldest first.
  r.Get("/v1/segments/{id}/events", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit"}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 10000, 100));
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(auto events, p.SegmentEvents(id, after, static_cast<int>(limit)));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& e : events) {
            w.StartObject()
                .Field("seq", e.seq)
                .Field("type", e.entered ? "segment.entered" : "segment.exited")
                .Field("segmentId", e.segment_id)
                .Field("customerId", e.customer_id)
                .TimeField("at", e.at)
                .EndObject();
          }
          w.EndArray().Key("nextCursor");
          if (!events.empty()) w.String(std::to_string(events.back().seq)); else w.Null();
          w.EndObject();
          return JsonOf(200, w);
        }));

  r.Post("/v1/segments/{id}/snapshots", must(P::kCustomersWrite, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(*body, ""));
           std::string date;
           RP_RETURN_IF_ERROR(reader.String("date", &date, json::Need::kRequired));
           RP_RETURN_IF_ERROR(reader.Finish());
           RP_ASSIGN_OR_RETURN(int64_t size, p.Snapshot(id, date));
           json::Writer w;
           w.StartObject().Field("segmentId", id).Field("date", date).Field("size", size).EndObject();
           return JsonOf(201, w);
         }));

  r.Get("/v1/segments/{id}/snapshots/{date}",
        must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto members, p.SnapshotMembers(id, c.PathText("date")));
          json::Writer w;
          w.StartObject().Field("segmentId", id).Field("date", c.PathText("date")).Key("items").StartArray();
          for (int64_t m : members) w.Int(m);
          w.EndArray().EndObject();
          return JsonOf(200, w);
        }));

  // Slice-and-dice: {measures, dimensions, filter, segment, limit};
  // ?format=csv answers text/csv.
  r.Post("/v1/analytics/query", must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({"format"}));
           RP_RETURN_IF_ERROR(CheckFormat(c));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(*body, ""));
           profile::QuerySpec q;
           int64_t limit = 1000;
           RP_RETURN_IF_ERROR(reader.Strings("measures", &q.measures, json::Need::kRequired));
           RP_RETURN_IF_ERROR(reader.Strings("dimensions", &q.dimensions));
           RP_RETURN_IF_ERROR(reader.String("filter", &q.filter));
           RP_RETURN_IF_ERROR(reader.Int64("segment", &q.segment_id));
           RP_RETURN_IF_ERROR(reader.Int64("limit", &limit));
           RP_RETURN_IF_ERROR(reader.Finish());
           if (limit < 1 || limit > 100000) return Status::InvalidArgument("limit must be 1..100000", "/limit");
           q.limit = static_cast<int>(limit);
           RP_ASSIGN_OR_RETURN(auto result, p.Query(q));
           if (WantsCsv(c)) return Csv(result.ToCsv());
           json::Writer w;
           w.StartObject().Key("dimensions").StartArray();
           for (const auto& d : result.dimension_names) w.String(d);
           w.EndArray().Key("measures").StartArray();
           for (const auto& m : result.measure_names) w.String(m);
           w.EndArray().Key("rows").StartArray();
           for (const auto& row : result.rows) {
             w.StartObject();
             for (size_t i = 0; i < row.dimensions.size(); ++i) {
               w.Key(result.dimension_names[i]);
               if (row.dimensions[i].empty()) w.Null(); else w.String(row.dimensions[i]);
             }
             for (size_t i = 0; i < row.measures.size(); ++i) {
               w.Key(result.measure_names[i]);
               if (!row.measures[i]) w.Null();
               else if (result.measure_names[i] == "count") w.Int(static_cast<int64_t>(*row.measures[i]));
               else w.DecimalDouble(*row.measures[i]);  // sums of amounts without float noise
             }
             w.EndObject();
           }
           w.EndArray().EndObject();
           return JsonOf(200, w);
         }));
}

}  // namespace rapport::server::internal
