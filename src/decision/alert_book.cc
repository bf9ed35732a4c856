// Alerts raised by triggers (table `alerts`), their acknowledgement, and the
// 360 view's "cases" and "alerts" sections.

#include <algorithm>

#include "common/json.h"
#include "decision/internal/trigger_engine_impl.h"

namespace rapport::decision {

namespace internal {

Alert AlertFromRow(const storage::Row& r) {
  Alert a;
  a.id = r[0].AsInt();
  a.customer_id = r[1].AsInt();
  a.severity = r[2].AsText();
  a.message = r[3].AsText();
  a.trigger_id = r[4].AsInt();
  a.event_key = r[5].AsText();
  a.created_at = {r[6].AsInt()};
  if (!r[7].is_null()) a.acknowledged_at = Timestamp{r[7].AsInt()};
  a.acknowledged_by = r[8].AsText();
  return a;
}

Result<int64_t> InsertAlert(storage::Connection& conn, const Alert& a) {
  return InsertReturningId(conn,
                           "INSERT INTO alerts (customer_id, severity, message, trigger_id, event_key, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           {a.customer_id, a.severity, a.message, a.trigger_id, a.event_key, a.created_at.micros});
}

void RegisterViewSections(customer::CustomerStore& store, TriggerEngine* engine) {
  // Open cases and tasks, newest first, with the count of open cases.
  store.RegisterViewSection("cases", [engine](customer::CustomerId id, const customer::ReadOptions& opt) -> Result<std::string> {
    std::vector<Case> active;
    for (const char* status : {"in_progress", "open"}) {
      CaseQuery q;
      q.customer_id = id;
      q.status = status;
      q.limit = 20;
      RP_ASSIGN_OR_RETURN(auto page, engine->ListCases(q));
      active.insert(active.end(), page.items.begin(), page.items.end());
    }
    std::sort(active.begin(), active.end(), [](const Case& a, const Case& b) { return a.id > b.id; });
    if (active.size() > 20) active.resize(20);
    json::Writer w;
    w.StartObject().Field("openCases", engine->OpenCases(id)).Key("items").StartArray();
    for (const Case& c : active) w.Raw(CaseToJson(c, !opt.pii));
    w.EndArray().EndObject();
    return w.Take();
  });
  // Alerts not yet acknowledged, newest first.
  store.RegisterViewSection("alerts", [engine](customer::CustomerId id, const customer::ReadOptions& opt) -> Result<std::string> {
    RP_ASSIGN_OR_RETURN(auto page, engine->ListAlerts(id, true, 0, 20));
    json::Writer w;
    w.StartArray();
    for (const Alert& a : page.items) w.Raw(AlertToJson(a, !opt.pii));
    w.EndArray();
    return w.Take();
  });
}

}  // namespace internal

Result<customer::Page<Alert>> TriggerEngine::ListAlerts(customer::CustomerId customer_id, bool open_only,
                                                        int64_t after_id, int limit) const {
  if (limit < 1 || limit > 500) return Status::InvalidArgument("expected an integer between 1 and 500", "limit");
  std::string sql = std::string("SELECT ") + internal::kAlertColumns + " FROM alerts WHERE id < ?";
  std::vector<storage::Value> params = {after_id > 0 ? after_id : INT64_MAX};
  if (customer_id > 0) {
    sql += " AND customer_id = ?";
    params.emplace_back(customer_id);
  }
  if (open_only) sql += " AND acknowledged_at IS NULL";
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(limit + 1);
  customer::Page<Alert> page;
  RP_RETURN_IF_ERROR(impl_->options.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.QueryV(sql, params));
    for (const auto& r : rows.rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_cursor = std::to_string(page.items.back().id);
        break;
      }
      page.items.push_back(internal::AlertFromRow(r));
    }
    return Status::Ok();
  }));
  return page;
}

Result<Alert> TriggerEngine::AcknowledgeAlert(int64_t id, std::string_view by) {
  std::optional<Alert> out;
  const Timestamp now = impl_->clock->Now();
  RP_RETURN_IF_ERROR(impl_->options.db->WithTransaction([&](storage::Connection& conn) -> Status {
    // Acknowledging twice keeps the first acknowledgement.
    RP_RETURN_IF_ERROR(conn.Execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? "
                                    "WHERE id = ? AND acknowledged_at IS NULL",
                                    {now.micros, by, id})
                           .status());
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + internal::kAlertColumns +
                                                  " FROM alerts WHERE id = ?",
                                              {id}));
    if (!rows.empty()) out = internal::AlertFromRow(rows.rows[0]);
    return Status::Ok();
  }));
  if (!out) return Status::NotFound("no alert " + std::to_string(id), "id");
  return *out;
}

std::string AlertToJson(const Alert& a, bool mask_text) {
  json::Writer w;
  w.StartObject()
      .Field("id", a.id)
      .Field("customerId", a.customer_id)
      .Field("severity", a.severity)
      .Field("message", mask_text ? std::string(kMaskedText) : a.message)
      .Key("triggerId");
  if (a.trigger_id == 0) {
    w.Null();
  } else {
    w.Int(a.trigger_id);
  }
  if (!a.event_key.empty()) w.Field("eventKey", a.event_key);
  w.TimeField("createdAt", a.created_at).TimeField("acknowledgedAt", a.acknowledged_at);
  w.Key("acknowledgedBy");
  if (a.acknowledged_by.empty()) {
    w.Null();
  } else {
    w.String(a.acknowledged_by);
  }
  w.EndObject();
  return w.Take();
}

}  // namespace rapport::decision
