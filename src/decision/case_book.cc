// Cases and tasks: the table `cases`, their JSON, and the in-memory count of
// open cases per customer and team that the contact policy reads.

#include <algorithm>

#include "common/json.h"
#include "decision/internal/trigger_engine_impl.h"

namespace rapport::decision {
namespace {

bool OneOf(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

std::optional<Timestamp> OptionalTime(const storage::Value& v) {
  if (v.is_null()) return std::nullopt;
  return Timestamp{v.AsInt()};
}

storage::Value TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? storage::Value(t->micros) : storage::Value();
}

Status CheckTitle(const std::string& title, const std::string& field) {
  if (title.empty() || title.size() > 500) return Status::InvalidArgument("a title has 1 to 500 characters", field);
  return Status::Ok();
}

Status CheckPriority(const std::string& p, const std::string& field) {
  if (!OneOf(p, {"low", "normal", "high", "urgent"})) {
    return Status::InvalidArgument("priority is low, normal, high or urgent", field);
  }
  return Status::Ok();
}

// Which status changes a case may make.
bool CanMove(std::string_view from, std::string_view to) {
  if (from == to) return true;
  if (from == "open") return to == "in_progress" || to == "closed";
  if (from == "in_progress") return to == "open" || to == "closed";
  return from == "closed" && to == "open";  // reopened
}

}  // namespace

namespace internal {

Case CaseFromRow(const storage::Row& r) {
  Case c;
  c.id = r[0].AsInt();
  c.customer_id = r[1].AsInt();
  c.kind = r[2].AsText();
  c.team = r[3].AsText();
  c.title = r[4].AsText();
  c.priority = r[5].AsText();
  c.status = r[6].AsText();
  c.assignee = r[7].AsText();
  c.due_at = OptionalTime(r[8]);
  c.trigger_id = r[9].AsInt();
  c.event_key = r[10].AsText();
  c.created_by = r[11].AsText();
  c.created_at = {r[12].AsInt()};
  c.updated_at = {r[13].AsInt()};
  c.closed_at = OptionalTime(r[14]);
  return c;
}

Result<int64_t> InsertCase(storage::Connection& conn, const Case& c) {
  return InsertReturningId(conn,
                           "INSERT INTO cases (customer_id, kind, team, title, priority, status, assignee, due_at, "
                           "trigger_id, event_key, created_by, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
                           {c.customer_id, c.kind, c.team, c.title, c.priority, c.assignee, TimeOrNull(c.due_at),
                            c.trigger_id, c.event_key, c.created_by, c.created_at.micros, c.updated_at.micros});
}

}  // namespace internal

void TriggerEngine::Impl::CountOpen(customer::CustomerId id, std::string_view team, int64_t delta) {
  int t = internal::TeamIndex(team);
  if (t < 0) return;
  std::unique_lock lock(cases_mu);
  int64_t& n = open_cases[id][t];
  n = std::max<int64_t>(0, n + delta);
}

int64_t TriggerEngine::OpenCases(customer::CustomerId id) const {
  std::shared_lock lock(impl_->cases_mu);
  auto it = impl_->open_cases.find(id);
  if (it == impl_->open_cases.end()) return 0;
  return it->second[0] + it->second[1] + it->second[2];
}

int64_t TriggerEngine::OpenCases(customer::CustomerId id, std::string_view team) const {
  int t = internal::TeamIndex(team);
  if (t < 0) return 0;
  std::shared_lock lock(impl_->cases_mu);
  auto it = impl_->open_cases.find(id);
  return it == impl_->open_cases.end() ? 0 : it->second[t];
}

Result<Case> TriggerEngine::CreateCase(Case c) {
  RP_RETURN_IF_ERROR(c.customer_id > 0 ? Status::Ok()
                                       : Status::InvalidArgument("a positive customer id is required", "/customerId"));
  if (!OneOf(c.kind, {"case", "task"})) return Status::InvalidArgument("kind is case or task", "/kind");
  if (internal::TeamIndex(c.team) < 0) {
    return Status::InvalidArgument("team is service, sales or marketing", "/team");
  }
  RP_RETURN_IF_ERROR(CheckTitle(c.title, "/title"));
  RP_RETURN_IF_ERROR(CheckPriority(c.priority, "/priority"));
  auto found = impl_->options.customers->Get(c.customer_id);
  if (!found.ok()) {
    if (found.status().IsNotFound()) {
      return Status::Unprocessable("customer " + std::to_string(c.customer_id) + " does not exist", "/customerId");
    }
    return found.status();
  }
  c.status = "open";
  c.closed_at.reset();
  c.created_at = c.updated_at = impl_->clock->Now();
  RP_RETURN_IF_ERROR(impl_->options.db->WithTransaction([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(c.id, internal::InsertCase(conn, c));
    return Status::Ok();
  }));
  if (c.kind == "case") impl_->CountOpen(c.customer_id, c.team, +1);
  return c;
}

Result<Case> TriggerEngine::GetCase(int64_t id) const {
  std::optional<Case> out;
  RP_RETURN_IF_ERROR(impl_->options.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + internal::kCaseColumns +
                                                  " FROM cases WHERE id = ?",
                                              {id}));
    if (!rows.empty()) out = internal::CaseFromRow(rows.rows[0]);
    return Status::Ok();
  }));
  if (!out) return Status::NotFound("no case " + std::to_string(id), "id");
  return *out;
}

Result<Case> TriggerEngine::UpdateCase(int64_t id, const CasePatch& patch) {
  if (patch.status && !OneOf(*patch.status, {"open", "in_progress", "closed"})) {
    return Status::InvalidArgument("status is open, in_progress or closed", "/status");
  }
  if (patch.priority) RP_RETURN_IF_ERROR(CheckPriority(*patch.priority, "/priority"));
  if (patch.title) RP_RETURN_IF_ERROR(CheckTitle(*patch.title, "/title"));
  if (patch.assignee && patch.assignee->size() > 200) {
    return Status::InvalidArgument("at most 200 characters", "/assignee");
  }
  const Timestamp now = impl_->clock->Now();
  Case before, after;
  RP_RETURN_IF_ERROR(impl_->options.db->WithTransaction([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + internal::kCaseColumns +
                                                  " FROM cases WHERE id = ?",
                                              {id}));
    if (rows.empty()) return Status::NotFound("no case " + std::to_string(id), "id");
    before = after = internal::CaseFromRow(rows.rows[0]);
    if (patch.status) {
      if (!CanMove(before.status, *patch.status)) {
        return Status::Conflict("a case that is " + before.status + " cannot become " + *patch.status, "/status");
      }
      after.status = *patch.status;
      if (after.status == "closed" && before.status != "closed") after.closed_at = now;
      if (after.status != "closed") after.closed_at.reset();
    }
    if (patch.assignee) after.assignee = *patch.assignee;
    if (patch.priority) after.priority = *patch.priority;
    if (patch.title) after.title = *patch.title;
    if (patch.due_at) after.due_at = *patch.due_at;
    after.updated_at = now;
    // The status read above is part of the condition, so a concurrent
    // change is a conflict instead of a lost update.
    RP_ASSIGN_OR_RETURN(int64_t n,
                        conn.Execute("UPDATE cases SET status = ?, assignee = ?, priority = ?, title = ?, due_at = ?, "
                                     "updated_at = ?, closed_at = ? WHERE id = ? AND status = ?",
                                     {after.status, after.assignee, after.priority, after.title,
                                      TimeOrNull(after.due_at), after.updated_at.micros, TimeOrNull(after.closed_at),
                                      id, before.status}));
    if (n == 0) return Status::Conflict("the case changed meanwhile; read it again", "id");
    return Status::Ok();
  }));
  if (after.kind == "case" && before.status != after.status) {
    if (after.status == "closed") impl_->CountOpen(after.customer_id, after.team, -1);
    if (before.status == "closed") impl_->CountOpen(after.customer_id, after.team, +1);
  }
  return after;
}

Result<customer::Page<Case>> TriggerEngine::ListCases(const CaseQuery& q) const {
  if (q.limit < 1 || q.limit > 500) return Status::InvalidArgument("expected an integer between 1 and 500", "limit");
  if (!q.team.empty() && internal::TeamIndex(q.team) < 0) {
    return Status::InvalidArgument("team is service, sales or marketing", "team");
  }
  if (!q.status.empty() && !OneOf(q.status, {"open", "in_progress", "closed"})) {
    return Status::InvalidArgument("status is open, in_progress or closed", "status");
  }
  if (!q.kind.empty() && !OneOf(q.kind, {"case", "task"})) return Status::InvalidArgument("kind is case or task", "kind");
  std::string sql = std::string("SELECT ") + internal::kCaseColumns + " FROM cases WHERE id < ?";
  std::vector<storage::Value> params = {q.after_id > 0 ? q.after_id : INT64_MAX};
  if (q.customer_id > 0) {
    sql += " AND customer_id = ?";
    params.emplace_back(q.customer_id);
  }
  if (!q.team.empty()) {
    sql += " AND team = ?";
    params.emplace_back(q.team);
  }
  if (!q.status.empty()) {
    sql += " AND status = ?";
    params.emplace_back(q.status);
  }
  if (!q.kind.empty()) {
    sql += " AND kind = ?";
    params.emplace_back(q.kind);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(q.limit + 1);
  customer::Page<Case> page;
  RP_RETURN_IF_ERROR(impl_->options.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.QueryV(sql, params));
    for (const auto& r : rows.rows) {
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.next_cursor = std::to_string(page.items.back().id);
        break;
      }
      page.items.push_back(internal::CaseFromRow(r));
    }
    return Status::Ok();
  }));
  return page;
}

// ---- JSON -----------------------------------------------------------------------------

Result<Case> ParseNewCase(std::string_view json_text) {
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(json_text));
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*doc, ""));
  Case c;
  std::optional<Timestamp> due;
  RP_RETURN_IF_ERROR(r.Int64("customerId", &c.customer_id, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("kind", &c.kind));
  RP_RETURN_IF_ERROR(r.String("team", &c.team, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("title", &c.title, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("priority", &c.priority));
  RP_RETURN_IF_ERROR(r.String("assignee", &c.assignee));
  RP_RETURN_IF_ERROR(r.Time("dueAt", &due));
  RP_RETURN_IF_ERROR(r.Finish());
  if (c.kind.empty()) c.kind = "case";
  if (c.priority.empty()) c.priority = "normal";
  c.due_at = due;
  return c;
}

Result<CasePatch> ParseCasePatch(std::string_view json_text) {
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(json_text));
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*doc, ""));
  CasePatch p;
  auto text = [&](std::string_view key, std::optional<std::string>* out, bool nullable) -> Status {
    const rapidjson::Value* v = r.FindRaw(key);
    if (v == nullptr) return Status::Ok();
    if (v->IsNull() && nullable) {
      *out = std::string();
      return Status::Ok();
    }
    if (!v->IsString()) {
      return Status::InvalidArgument("expected a string, got " + std::string(json::TypeName(*v)), r.Pointer(key));
    }
    *out = std::string(v->GetString(), v->GetStringLength());
    return Status::Ok();
  };
  RP_RETURN_IF_ERROR(text("status", &p.status, false));
  RP_RETURN_IF_ERROR(text("assignee", &p.assignee, true));
  RP_RETURN_IF_ERROR(text("priority", &p.priority, false));
  RP_RETURN_IF_ERROR(text("title", &p.title, false));
  if (const rapidjson::Value* due = r.FindRaw("dueAt")) {
    if (due->IsNull()) {
      p.due_at = std::optional<Timestamp>();
    } else {
      std::optional<Timestamp> t;
      RP_RETURN_IF_ERROR(r.Time("dueAt", &t));
      p.due_at = t;
    }
  }
  RP_RETURN_IF_ERROR(r.Finish());
  if (!p.status && !p.assignee && !p.priority && !p.title && !p.due_at) {
    return Status::InvalidArgument("nothing to change: give status, assignee, priority, title or dueAt");
  }
  return p;
}

std::string CaseToJson(const Case& c, bool mask_text) {
  json::Writer w;
  w.StartObject()
      .Field("id", c.id)
      .Field("customerId", c.customer_id)
      .Field("kind", c.kind)
      .Field("team", c.team)
      .Field("title", mask_text ? std::string(kMaskedText) : c.title)
      .Field("priority", c.priority)
      .Field("status", c.status)
      .Key("assignee");
  if (c.assignee.empty()) {
    w.Null();
  } else {
    w.String(c.assignee);
  }
  w.TimeField("dueAt", c.due_at).Key("triggerId");
  if (c.trigger_id == 0) {
    w.Null();
  } else {
    w.Int(c.trigger_id);
  }
  if (!c.event_key.empty()) w.Field("eventKey", c.event_key);
  w.Field("createdBy", c.created_by)
      .TimeField("createdAt", c.created_at)
      .TimeField("updatedAt", c.updated_at)
      .TimeField("closedAt", c.closed_at)
      .EndObject();
  return w.Take();
}

}  // namespace rapport::decision
