#include "server/internal/segment_routes.h"

#include "server/internal/segment_codec.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace rapport::server::internal {
namespace {

Response JsonOf(int status, json::Writer& w) { return Response::Json(status, w.Take()); }

// condition: the segment's, or "***" for a reader who may not see the
// personal data it names (ShownCondition).
void WriteSegment(json::Writer& w, const profile::Segment& s, std::string_view condition) {
  w.StartObject()
      .Field("id", s.id)
      .Field("name", s.name)
      .Field("description", s.description)
      .Field("condition", condition)
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

// ---- personal data (docs/segments.md, "Personal data") ----------------------
// A role without pii:read may not read a column that holds a PII attribute as
// stored, whether in a condition, a dimension or a measure: 403 naming the
// attribute and the request field. Columns derived from one (age and ageBand
// from birthDate) pass; small groups are suppressed instead.

Status CheckColumn(const profile::ProfileStore& p, const Mask& m, std::string_view column, const std::string& field) {
  std::string attribute = p.StoredAttributeOf(column);
  if (attribute.empty() || !m.Hides(attribute)) return Status::Ok();
  return Status(StatusCode::kPermissionDenied,
                "'" + std::string(column) + "' holds the personal attribute " + attribute +
                    "; using it needs the permission pii:read",
                field);
}

Status CheckCondition(const profile::ProfileStore& p, const Mask& m, std::string_view condition,
                      const std::string& field) {
  if (!m.active) return Status::Ok();
  auto columns = p.ReferencedColumns(condition);
  if (!columns.ok()) return Status(columns.status().code(), columns.status().message(), field);
  for (const auto& column : *columns) RP_RETURN_IF_ERROR(CheckColumn(p, m, column, field));
  return Status::Ok();
}

Status CheckQuery(const profile::ProfileStore& p, const Mask& m, const profile::QuerySpec& q) {
  if (!m.active) return Status::Ok();
  for (size_t i = 0; i < q.dimensions.size(); ++i) {
    RP_RETURN_IF_ERROR(CheckColumn(p, m, q.dimensions[i], "/dimensions/" + std::to_string(i)));
  }
  for (size_t i = 0; i < q.measures.size(); ++i) {
    // "sum(revenue)" reads revenue, parsed as Query parses it.
    std::string_view measure = q.measures[i];
    size_t open = measure.find('(');
    if (open == std::string_view::npos || measure.back() != ')') continue;  // count, or Query's 400
    RP_RETURN_IF_ERROR(
        CheckColumn(p, m, measure.substr(open + 1, measure.size() - open - 2), "/measures/" + std::to_string(i)));
  }
  return q.filter.empty() ? Status::Ok() : CheckCondition(p, m, q.filter, "/filter");
}

// A saved segment's condition as a reader may see it: hidden when it names
// personal data the reader may not see (or no longer compiles, so cannot be
// checked). Its members are ids only and stay readable.
std::string_view ShownCondition(const profile::ProfileStore& p, const Mask& m, const profile::Segment& s) {
  return CheckCondition(p, m, s.condition, "").ok() ? std::string_view(s.condition) : kMasked;
}

// Groups under the minimum size are dropped for a masked reader; the count
// of dropped rows is reported. Rows are judged by their count, which is
// queried for the purpose when the request did not ask for it.
int64_t SuppressSmallGroups(profile::QueryResult& result, size_t count_at, bool count_added, int64_t min_size) {
  size_t before = result.rows.size();
  std::erase_if(result.rows, [&](const profile::QueryRow& row) {
    return !row.measures[count_at] || *row.measures[count_at] < static_cast<double>(min_size);
  });
  if (count_added) {
    result.measure_names.erase(result.measure_names.begin() + static_cast<std::ptrdiff_t>(count_at));
    for (auto& row : result.rows) row.measures.erase(row.measures.begin() + static_cast<std::ptrdiff_t>(count_at));
  }
  return static_cast<int64_t>(before - result.rows.size());
}

}  // namespace

void RegisterSegmentRoutes(Router<Endpoint>& r, profile::ProfileStore* profile, Privacy privacy) {
  using P = Permission;
  auto must = [profile](P p, std::function<Result<Response>(Call&, profile::ProfileStore&)> h) {
    return Endpoint{p, [profile, h = std::move(h)](Call& c) -> Result<Response> {
                      if (!profile) return Status::Unavailable("the profile store is not loaded");
                      return h(c, *profile);
                    }};
  };

  // For a masked reader a count under the minimum group size is not told:
  // "size": null, "fewerThan": k (0 too: that nobody matches is as telling).
  r.Post("/v1/segments/preview", Heavy(must(P::kCustomersRead, [privacy](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(std::string condition, DecodePreview(*body));
           RP_ASSIGN_OR_RETURN(Mask mask, privacy.mask_for(c.who()));
           RP_RETURN_IF_ERROR(CheckCondition(p, mask, condition, "/condition"));
           RP_ASSIGN_OR_RETURN(int64_t n, p.Count(condition, p.RequestLimits(c.cancelled())));
           json::Writer w;
           w.StartObject().Field("condition", condition);
           if (mask.active && n < privacy.min_group_size) {
             w.Key("size").Null().Field("fewerThan", privacy.min_group_size);
           } else {
             w.Field("size", n);
           }
           w.EndObject();
           return JsonOf(200, w);
         })));

  // A condition segment, or a combination of two: {"name", "operation":
  // "union"|"intersection"|"difference", "segments": [left, right]}.
  r.Post("/v1/segments", Heavy(must(P::kCustomersWrite, [privacy](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(SegmentRequest s, DecodeSegmentRequest(*body));
           profile::Segment created;
           if (s.operation) {
             RP_ASSIGN_OR_RETURN(created, p.CombineSegments(s.name, *s.operation, s.left, s.right));
           } else {
             RP_ASSIGN_OR_RETURN(Mask mask, privacy.mask_for(c.who()));
             RP_RETURN_IF_ERROR(CheckCondition(p, mask, s.condition, "/condition"));
             RP_ASSIGN_OR_RETURN(created, p.CreateSegment(s.name, s.description, s.condition,
                                                          p.RequestLimits(c.cancelled())));
           }
           json::Writer w;
           WriteSegment(w, created, created.condition);
           Response res = JsonOf(201, w);
           res.headers.emplace_back("Location", UrlPath({"v1", "segments", std::to_string(created.id)}));
           return res;
         })));

  r.Get("/v1/segments", must(P::kCustomersRead, [privacy](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(Mask mask, privacy.mask_for(c.who()));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& s : p.ListSegments()) WriteSegment(w, s, ShownCondition(p, mask, s));
          w.EndArray().EndObject();
          return JsonOf(200, w);
        }));

  r.Get("/v1/segments/{id}", must(P::kCustomersRead, [privacy](Call& c, profile::ProfileStore& p) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto s, p.GetSegment(id));
          RP_ASSIGN_OR_RETURN(Mask mask, privacy.mask_for(c.who()));
          json::Writer w;
          WriteSegment(w, s, ShownCondition(p, mask, s));
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
  r.Get("/v1/segments/{id}/members", Heavy(must(P::kCustomersRead, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
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
        })));

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

  r.Post("/v1/segments/{id}/snapshots", Heavy(must(P::kCustomersWrite, [](Call& c, profile::ProfileStore& p) -> Result<Response> {
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
         })));

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
  // A masked reader gets no group under the minimum group size: such rows
  // are dropped and counted in "suppressedRows" (header
  // Rapport-Suppressed-Rows with CSV).
  r.Post("/v1/analytics/query", Heavy(must(P::kCustomersRead, [privacy](Call& c, profile::ProfileStore& p) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({"format"}));
           RP_RETURN_IF_ERROR(CheckFormat(c));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(profile::QuerySpec q, DecodeAnalyticsQuery(*body));
           q.limits = p.RequestLimits(c.cancelled());
           RP_ASSIGN_OR_RETURN(Mask mask, privacy.mask_for(c.who()));
           RP_RETURN_IF_ERROR(CheckQuery(p, mask, q));
           auto count_it = std::find(q.measures.begin(), q.measures.end(), "count");
           const size_t count_at = static_cast<size_t>(count_it - q.measures.begin());
           const bool count_added = mask.active && count_it == q.measures.end();
           if (count_added) q.measures.push_back("count");
           RP_ASSIGN_OR_RETURN(auto result, p.Query(q));
           int64_t suppressed = mask.active ? SuppressSmallGroups(result, count_at, count_added, privacy.min_group_size) : 0;
           if (WantsCsv(c)) {
             Response res = Csv(result.ToCsv());
             res.headers.emplace_back("Rapport-Suppressed-Rows", std::to_string(suppressed));
             return res;
           }
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
           w.EndArray().Field("suppressedRows", suppressed).EndObject();
           return JsonOf(200, w);
         })));
}

}  // namespace rapport::server::internal
