// The rules repository: model versions, their lifecycle and audit trail,
// diffs, validation, publish and rollback.

#include <algorithm>
#include <set>

#include "common/text.h"
#include "decision/internal/engine_impl.h"
#include "decision/internal/model_text.h"

namespace rapport::decision {
namespace {

using storage::Connection;

Result<VersionState> StateFromText(const std::string& s) {
  for (VersionState v : {VersionState::kDraft, VersionState::kInReview, VersionState::kApproved,
                         VersionState::kPublished, VersionState::kSuperseded}) {
    if (VersionStateName(v) == s) return v;
  }
  return Status::Internal("unknown model version state '" + s + "'");
}

Status Audit(Connection& c, std::string_view name, int version, std::string_view action, const std::string& actor,
             Timestamp at, const std::string& comment) {
  return c.Execute("INSERT INTO decision_model_audit (name, version, action, actor, at, comment) VALUES (?, ?, ?, ?, ?, ?)",
                   {std::string(name), version, std::string(action), actor, at.micros, comment})
      .status();
}

Status SetState(Connection& c, std::string_view name, int version, VersionState s) {
  return c.Execute("UPDATE decision_model_versions SET state = ? WHERE name = ? AND version = ?",
                   {std::string(VersionStateName(s)), std::string(name), version})
      .status();
}

std::string ActorName(const Actor& a) { return a.key.empty() ? "(unknown)" : a.key; }

// The action-id column of a table: "action"/"actionId" when it has one,
// otherwise its first output.
size_t ActionColumn(const internal::DecisionTable& t) {
  for (size_t i = 0; i < t.output_names.size(); ++i) {
    if (t.output_names[i] == "action" || t.output_names[i] == "actionId") return i;
  }
  return 0;
}

}  // namespace

Result<ModelVersion> DecisionEngine::Impl::ReadVersion(Connection& c, std::string_view name, int version) const {
  RP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT xml, author, state, created_at FROM decision_model_versions "
                                         "WHERE name = ? AND version = ?",
                                         {std::string(name), version}));
  if (rows.empty()) {
    return Status::NotFound("decision model '" + std::string(name) + "' has no version " + std::to_string(version),
                            "version");
  }
  ModelVersion v;
  v.name = std::string(name);
  v.version = version;
  v.xml = rows.rows[0][0].AsText();
  v.author = rows.rows[0][1].AsText();
  RP_ASSIGN_OR_RETURN(v.state, StateFromText(rows.rows[0][2].AsText()));
  v.created_at = {rows.rows[0][3].AsInt()};
  RP_ASSIGN_OR_RETURN(auto audit, c.Query("SELECT action, actor, at, comment FROM decision_model_audit "
                                          "WHERE name = ? AND version = ? ORDER BY id",
                                          {std::string(name), version}));
  for (const auto& r : audit.rows) v.audit.push_back({r[0].AsText(), r[1].AsText(), {r[2].AsInt()}, r[3].AsText()});
  return v;
}

Result<std::shared_ptr<LiveModel>> DecisionEngine::Impl::CompileModel(const std::string& name, int version,
                                                                       const std::string& xml) const {
  dmn::LoadOptions lo;
  lo.strict = true;
  auto model = dmn::LoadModel(xml, name + ".dmn", lo);
  if (!model.ok()) return Status::Unprocessable(model.status().message(), "/xml");
  auto live = std::make_shared<LiveModel>();
  live->name = name;
  live->version = version;
  live->model = std::shared_ptr<const dmn::Model>(std::move(*model));
  for (const auto& e : live->model->Elements()) {
    if (e.kind == dmn::ElementInfo::Kind::kInputData) live->inputs.push_back(e.name);
  }
  return live;
}

Status DecisionEngine::Impl::Validate(const LiveModel& model, const std::string& xml, const Snapshot& snap) const {
  std::set<std::string> decisions;
  for (const auto& e : model.model->Elements()) {
    if (e.kind == dmn::ElementInfo::Kind::kDecision) decisions.insert(e.name);
  }
  std::set<std::string> bound;
  for (const auto& [name, p] : snap.points) {
    if (p.model != model.name) continue;
    if (!decisions.count(p.decision)) {
      return Status::Unprocessable("decision point '" + name + "' uses decision '" + p.decision + "', which version " +
                                       std::to_string(model.version) + " of '" + model.name + "' does not have",
                                   "/decisionPoints/" + name);
    }
    bound.insert(p.decision);
  }
  for (const auto& [id, a] : snap.actions) {
    for (auto [member, cond] : {std::pair{"eligibility", &a->action.eligibility},
                                std::pair{"applicability", &a->action.applicability},
                                std::pair{"suitability", &a->action.suitability}}) {
      if (cond->model != model.name || decisions.count(cond->decision)) continue;
      return Status::Unprocessable("the " + std::string(member) + " condition of action '" + id +
                                       "' uses decision '" + cond->decision + "', which version " +
                                       std::to_string(model.version) + " of '" + model.name + "' does not have",
                                   "/actions/" + id + "/" + member);
    }
  }
  RP_ASSIGN_OR_RETURN(auto tables, internal::ReadDecisionTables(xml));
  std::set<std::string> unknown;
  for (const auto& t : tables) {
    bool names_actions = bound.count(t.decision) > 0;
    for (const auto& o : t.output_names) names_actions = names_actions || o == "action" || o == "actionId";
    if (!names_actions) continue;
    size_t col = ActionColumn(t);
    for (const auto& r : t.rules) {
      if (col >= r.outputs.size()) continue;
      std::string id = internal::StringLiteral(r.outputs[col]);
      if (!id.empty() && !snap.actions.count(id)) unknown.insert(id);
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& id : unknown) list += (list.empty() ? "" : ", ") + id;
    return Status::Unprocessable("the decision tables name actions that are not in the catalog: " + list,
                                 "/actions");
  }
  return Status::Ok();
}

Result<ModelVersion> DecisionEngine::UploadModel(std::string_view xml, const Actor& actor) {
  if (xml.empty()) return Status::InvalidArgument("the body must be DMN XML");
  dmn::LoadOptions lo;
  lo.strict = true;
  auto model = dmn::LoadModel(xml, "upload.dmn", lo);
  if (!model.ok()) return Status::Unprocessable(model.status().message());
  std::string name = (*model)->name();
  if (name.empty()) return Status::Unprocessable("the DMN definitions element has no name");
  // The name becomes a path segment (percent-encoded, so '/', '%' and
  // spaces are fine) and is shown in lists and logs: one line of text.
  if (name.size() > 200) return Status::Unprocessable("a model name is at most 200 characters", "/definitions/@name");
  if (Status s = text::CheckIdentifier(name, "/definitions/@name"); !s.ok()) {
    return Status::Unprocessable("the model name: " + s.message(), "/definitions/@name");
  }
  std::lock_guard lock(impl_->change_mu);
  Timestamp now = impl_->clock->Now();
  int version = 0;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows,
                        c.Query("SELECT COALESCE(MAX(version), 0) FROM decision_model_versions WHERE name = ?", {name}));
    version = static_cast<int>(rows.rows[0][0].AsInt()) + 1;
    RP_RETURN_IF_ERROR(c.Execute("INSERT INTO decision_model_versions (name, version, xml, author, state, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)",
                                 {name, version, std::string(xml), ActorName(actor),
                                  std::string(VersionStateName(VersionState::kDraft)), now.micros})
                           .status());
    return Audit(c, name, version, "uploaded", ActorName(actor), now, "");
  }));
  return GetVersion(name, version);
}

Result<std::vector<ModelSummary>> DecisionEngine::ListModels() const {
  std::vector<ModelSummary> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT name, MAX(version), MAX(created_at) FROM decision_model_versions "
                                           "GROUP BY name ORDER BY name"));
    RP_ASSIGN_OR_RETURN(auto live, c.Query("SELECT name, version FROM decision_model_versions WHERE state = ?",
                                           {std::string(VersionStateName(VersionState::kPublished))}));
    std::map<std::string, int> published;
    for (const auto& r : live.rows) published[r[0].AsText()] = static_cast<int>(r[1].AsInt());
    for (const auto& r : rows.rows) {
      ModelSummary s;
      s.name = r[0].AsText();
      s.latest_version = static_cast<int>(r[1].AsInt());
      s.updated_at = {r[2].AsInt()};
      if (auto it = published.find(s.name); it != published.end()) s.published_version = it->second;
      out.push_back(std::move(s));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ModelVersion>> DecisionEngine::Versions(std::string_view name) const {
  std::vector<ModelVersion> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT version FROM decision_model_versions WHERE name = ? "
                                           "ORDER BY version DESC",
                                           {std::string(name)}));
    if (rows.empty()) return Status::NotFound("no decision model named '" + std::string(name) + "'", "name");
    for (const auto& r : rows.rows) {
      RP_ASSIGN_OR_RETURN(auto v, impl_->ReadVersion(c, name, static_cast<int>(r[0].AsInt())));
      out.push_back(std::move(v));
    }
    return Status::Ok();
  }));
  return out;
}

Result<ModelVersion> DecisionEngine::GetVersion(std::string_view name, int version) const {
  std::optional<ModelVersion> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out, impl_->ReadVersion(c, name, version));
    return Status::Ok();
  }));
  return std::move(*out);
}

Result<ModelDiff> DecisionEngine::Diff(std::string_view name, int version, int against) const {
  auto older = GetVersion(name, against);
  if (!older.ok()) {
    return Status(older.status().code(), older.status().message(), older.status().IsNotFound() ? "against" : "");
  }
  RP_ASSIGN_OR_RETURN(ModelVersion newer, GetVersion(name, version));
  ModelDiff d;
  d.name = std::string(name);
  d.from_version = against;
  d.to_version = version;
  RP_ASSIGN_OR_RETURN(auto from_tables, internal::ReadDecisionTables(older->xml));
  RP_ASSIGN_OR_RETURN(auto to_tables, internal::ReadDecisionTables(newer.xml));
  auto entries = [](const internal::TableRule& r) {
    std::vector<std::string> v = r.inputs;
    v.insert(v.end(), r.outputs.begin(), r.outputs.end());
    return v;
  };
  // Tables pair up by decision name (the n-th table of a decision with the
  // n-th); a table only on one side is all added or all removed.
  std::map<std::string, std::vector<const internal::DecisionTable*>> from_by, to_by;
  for (const auto& t : from_tables) from_by[t.decision].push_back(&t);
  for (const auto& t : to_tables) to_by[t.decision].push_back(&t);
  std::set<std::string> decisions;
  for (const auto& [k, v] : from_by) decisions.insert(k);
  for (const auto& [k, v] : to_by) decisions.insert(k);
  static const internal::DecisionTable kEmpty;
  for (const auto& dec : decisions) {
    const auto& fv = from_by[dec];
    const auto& tv = to_by[dec];
    for (size_t n = 0; n < std::max(fv.size(), tv.size()); ++n) {
      const internal::DecisionTable& a = n < fv.size() ? *fv[n] : kEmpty;
      const internal::DecisionTable& b = n < tv.size() ? *tv[n] : kEmpty;
      bool by_id = !a.rules.empty() && !b.rules.empty();
      for (const auto& r : a.rules) by_id = by_id && !r.id.empty();
      for (const auto& r : b.rules) by_id = by_id && !r.id.empty();
      if (by_id) {
        std::map<std::string, size_t> b_index;
        for (size_t i = 0; i < b.rules.size(); ++i) b_index[b.rules[i].id] = i;
        std::set<std::string> seen;
        for (size_t i = 0; i < a.rules.size(); ++i) {
          auto it = b_index.find(a.rules[i].id);
          if (it == b_index.end()) {
            d.rules.push_back({RuleChange::Kind::kRemoved, dec, a.rules[i].id, static_cast<int>(i + 1), 0,
                               entries(a.rules[i]), {}});
            continue;
          }
          seen.insert(a.rules[i].id);
          const auto& br = b.rules[it->second];
          if (entries(a.rules[i]) != entries(br)) {
            d.rules.push_back({RuleChange::Kind::kChanged, dec, br.id, static_cast<int>(i + 1),
                               static_cast<int>(it->second + 1), entries(a.rules[i]), entries(br)});
          }
        }
        for (size_t i = 0; i < b.rules.size(); ++i) {
          if (!seen.count(b.rules[i].id)) {
            d.rules.push_back({RuleChange::Kind::kAdded, dec, b.rules[i].id, 0, static_cast<int>(i + 1), {},
                               entries(b.rules[i])});
          }
        }
      } else {
        for (size_t i = 0; i < std::max(a.rules.size(), b.rules.size()); ++i) {
          int pos = static_cast<int>(i + 1);
          if (i >= b.rules.size()) {
            d.rules.push_back({RuleChange::Kind::kRemoved, dec, a.rules[i].id, pos, 0, entries(a.rules[i]), {}});
          } else if (i >= a.rules.size()) {
            d.rules.push_back({RuleChange::Kind::kAdded, dec, b.rules[i].id, 0, pos, {}, entries(b.rules[i])});
          } else if (entries(a.rules[i]) != entries(b.rules[i])) {
            d.rules.push_back({RuleChange::Kind::kChanged, dec, b.rules[i].id, pos, pos, entries(a.rules[i]),
                               entries(b.rules[i])});
          }
        }
      }
    }
  }
  d.text = internal::LineDiff(older->xml, newer.xml);
  return d;
}

Result<ModelVersion> DecisionEngine::Impl::Step(std::string_view name, int version, const Actor& actor,
                                                const std::string& comment, std::string_view action) {
  std::lock_guard lock(change_mu);
  Timestamp now = clock->Now();
  std::shared_ptr<LiveModel> to_publish;
  RP_RETURN_IF_ERROR(db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(ModelVersion v, ReadVersion(c, name, version));
    auto need = [&](VersionState s) -> Status {
      if (v.state == s) return Status::Ok();
      std::string_view verb = action == "submitted" ? "submitting" : action == "approved" ? "approving"
                              : action == "rejected" ? "rejecting" : "publishing";
      return Status::Conflict("version " + std::to_string(version) + " of '" + v.name + "' is " +
                                  std::string(VersionStateName(v.state)) + "; " + std::string(verb) + " needs it " +
                                  std::string(VersionStateName(s)),
                              "version");
    };
    if (action == "submitted") {
      RP_RETURN_IF_ERROR(need(VersionState::kDraft));
      RP_RETURN_IF_ERROR(SetState(c, name, version, VersionState::kInReview));
    } else if (action == "approved" || action == "rejected") {
      RP_RETURN_IF_ERROR(need(VersionState::kInReview));
      if (action == "approved" && ActorName(actor) == v.author && !actor.admin) {
        return Status::PermissionDenied("four eyes: the author of version " + std::to_string(version) +
                                        " cannot approve it; another reviewer (or an admin) must");
      }
      RP_RETURN_IF_ERROR(
          SetState(c, name, version, action == "approved" ? VersionState::kApproved : VersionState::kDraft));
    } else {  // "published" or "rolled_back"
      if (action == "published") {
        RP_RETURN_IF_ERROR(need(VersionState::kApproved));
      } else if (v.state != VersionState::kSuperseded) {
        return Status::Conflict("version " + std::to_string(version) + " of '" + v.name + "' is " +
                                    std::string(VersionStateName(v.state)) +
                                    "; only a version that was published before can be rolled back to",
                                "version");
      }
      RP_ASSIGN_OR_RETURN(to_publish, CompileModel(v.name, version, v.xml));
      RP_RETURN_IF_ERROR(Validate(*to_publish, v.xml, *Load()));
      RP_ASSIGN_OR_RETURN(auto live, c.Query("SELECT version FROM decision_model_versions WHERE name = ? AND state = ?",
                                             {v.name, std::string(VersionStateName(VersionState::kPublished))}));
      for (const auto& r : live.rows) {
        int old = static_cast<int>(r[0].AsInt());
        RP_RETURN_IF_ERROR(SetState(c, name, old, VersionState::kSuperseded));
        RP_RETURN_IF_ERROR(Audit(c, name, old, "superseded", ActorName(actor), now,
                                 "by version " + std::to_string(version)));
      }
      RP_RETURN_IF_ERROR(SetState(c, name, version, VersionState::kPublished));
    }
    return Audit(c, name, version, action, ActorName(actor), now, comment);
  }));
  if (to_publish) {
    // The database says it is live; now every new decision sees it.
    auto snap = Load();
    auto models = snap->models;
    models[to_publish->name] = to_publish;
    auto next = Assemble(std::move(models), snap->actions, snap->points, snap->policies);
    if (!next.ok()) return next.status();
    snapshot.store(*next, std::memory_order_release);
  }
  std::optional<ModelVersion> out;
  RP_RETURN_IF_ERROR(db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out, ReadVersion(c, name, version));
    return Status::Ok();
  }));
  return std::move(*out);
}

Result<ModelVersion> DecisionEngine::Submit(std::string_view name, int version, const Actor& actor,
                                            std::string comment) {
  return impl_->Step(name, version, actor, comment, "submitted");
}
Result<ModelVersion> DecisionEngine::Approve(std::string_view name, int version, const Actor& actor,
                                             std::string comment) {
  return impl_->Step(name, version, actor, comment, "approved");
}
Result<ModelVersion> DecisionEngine::Reject(std::string_view name, int version, const Actor& actor,
                                            std::string comment) {
  return impl_->Step(name, version, actor, comment, "rejected");
}
Result<ModelVersion> DecisionEngine::Publish(std::string_view name, int version, const Actor& actor) {
  return impl_->Step(name, version, actor, "", "published");
}
Result<ModelVersion> DecisionEngine::Rollback(std::string_view name, int version, const Actor& actor) {
  return impl_->Step(name, version, actor, "", "rolled_back");
}

}  // namespace rapport::decision
