// DecisionEngine: opening and state, the catalog, deciding, responses,
// learning, contact history, the decision log writer and the 360 view.

#include <date/tz.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>

#include "common/json.h"
#include "decision/internal/engine_impl.h"

namespace rapport::decision {
namespace {

using storage::Connection;

// Contact history older than this is never asked for (windows are at most
// 3660 days, but a year covers every real cap; longer windows count what is
// kept).
constexpr int64_t kHistoryMicros = 400 * kMicrosPerDay;

std::vector<storage::Migration> Migrations(storage::Dialect d) {
  const std::string id = d == storage::Dialect::kPostgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
  return {
      {1, "rules repository, catalog, decision log, responses",
       "CREATE TABLE decision_model_versions ("
       " name TEXT NOT NULL, version INTEGER NOT NULL, xml TEXT NOT NULL, author TEXT NOT NULL,"
       " state TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (name, version));"
       "CREATE TABLE decision_model_audit ("
       " id " + id + ", name TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL,"
       " actor TEXT NOT NULL, at BIGINT NOT NULL, comment TEXT NOT NULL);"
       "CREATE INDEX decision_model_audit_by_version ON decision_model_audit (name, version, id);"
       "CREATE TABLE decision_actions (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at BIGINT NOT NULL);"
       "CREATE TABLE decision_points (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at BIGINT NOT NULL);"
       "CREATE TABLE decision_policies (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at BIGINT NOT NULL);"
       "CREATE TABLE decision_log ("
       " decision_id TEXT PRIMARY KEY, customer_id BIGINT NOT NULL, decision_point TEXT NOT NULL,"
       " channel TEXT NOT NULL, model TEXT NOT NULL, model_version INTEGER NOT NULL, actions TEXT NOT NULL,"
       " at BIGINT NOT NULL);"
       "CREATE INDEX decision_log_by_customer ON decision_log (customer_id, at);"
       "CREATE INDEX decision_log_by_at ON decision_log (at);"
       "CREATE TABLE decision_responses ("
       " id " + id + ", decision_id TEXT NOT NULL, action_id TEXT NOT NULL, outcome TEXT NOT NULL,"
       " customer_id BIGINT NOT NULL, decision_point TEXT NOT NULL, channel TEXT NOT NULL, at BIGINT NOT NULL,"
       " UNIQUE (decision_id, action_id));"
       "CREATE INDEX decision_responses_by_at ON decision_responses (at);"},
  };
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool Selects(const ContactPolicy& p, const std::string& channel, const std::string& purpose) {
  return (p.channels.empty() || Contains(p.channels, channel)) && (p.purposes.empty() || Contains(p.purposes, purpose));
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& s : ids) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> SplitIds(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Whether `name` occurs in text as a whole word (FEEL names of profile
// columns and facts are plain identifiers).
bool MentionsName(const std::string& text, const std::string& name) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos + 1)) {
    bool left = pos == 0 || !ident(text[pos - 1]);
    bool right = pos + name.size() == text.size() || !ident(text[pos + name.size()]);
    if (left && right) return true;
  }
  return false;
}

// FNV-1a of (customer, decision point): a stable control-group draw in
// [0, 10000).
uint32_t ControlDraw(CustomerId customer, std::string_view point) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(static_cast<uint64_t>(customer) >> (8 * i)));
  mix(0);
  for (char c : point) mix(static_cast<unsigned char>(c));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<uint32_t>(h % 10000);
}

// Minutes after local midnight of `at` in the IANA zone (nullopt when the
// zone is unknown).
std::optional<int> LocalMinute(Timestamp at, const std::string& zone) {
  try {
    const date::time_zone* tz = date::locate_zone(zone);
    auto sys = date::sys_seconds{std::chrono::seconds{at.seconds()}};
    auto local = tz->to_local(sys);
    auto day = date::floor<date::days>(local);
    return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool HasDecision(const dmn::Model& model, const std::string& decision) {
  for (const auto& e : model.Elements()) {
    if (e.kind == dmn::ElementInfo::Kind::kDecision && e.name == decision) return true;
  }
  return false;
}

bool Truthy(const feel::Value& v) { return v.is(feel::Type::kBoolean) && v.boolean(); }

double Beta(const Counter& c, double a, double b) {
  return (static_cast<double>(c.accepted) + a) / (static_cast<double>(c.responses) + a + b);
}

}  // namespace

Result<std::shared_ptr<const CompiledAction>> CompileAction(Action a) {
  auto out = std::make_shared<CompiledAction>();
  auto compile = [](const std::string& text, const char* field, std::optional<feel::Expression>* dst) -> Status {
    if (text.empty()) return Status::Ok();
    auto e = feel::Compile(text);
    if (!e.ok()) return Status::InvalidArgument(e.status().field() + ": " + e.status().message(), field);
    *dst = *e;
    return Status::Ok();
  };
  RP_RETURN_IF_ERROR(compile(a.eligibility.feel, "/eligibility", &out->eligibility));
  RP_RETURN_IF_ERROR(compile(a.applicability.feel, "/applicability", &out->applicability));
  RP_RETURN_IF_ERROR(compile(a.suitability.feel, "/suitability", &out->suitability));
  out->action = std::move(a);
  return std::shared_ptr<const CompiledAction>(std::move(out));
}

Result<std::shared_ptr<const CompiledPolicy>> CompilePolicy(ContactPolicy p) {
  auto out = std::make_shared<CompiledPolicy>();
  if (p.kind == PolicyKind::kSuppression) {
    auto e = feel::Compile(p.condition);
    if (!e.ok()) return Status::InvalidArgument(e.status().field() + ": " + e.status().message(), "/condition");
    out->condition = *e;
  }
  out->policy = std::move(p);
  return std::shared_ptr<const CompiledPolicy>(std::move(out));
}

// ---- state -------------------------------------------------------------------

Result<std::shared_ptr<const Snapshot>> DecisionEngine::Impl::Assemble(
    std::unordered_map<std::string, std::shared_ptr<const LiveModel>> models,
    std::unordered_map<std::string, std::shared_ptr<const CompiledAction>> actions,
    std::map<std::string, DecisionPoint> points, std::vector<std::shared_ptr<const CompiledPolicy>> policies) const {
  auto s = std::make_shared<Snapshot>();
  s->actions = std::move(actions);
  s->points = std::move(points);
  s->policies = std::move(policies);
  s->facts = facts;
  // Every text a condition scope serves, to find the columns and facts it
  // names, and the input data of the live models that decision conditions
  // use (filled from the scope by exact name).
  std::vector<const std::string*> texts;
  std::set<std::string> input_names;
  bool quiet_hours = false;
  for (const auto& [id, a] : s->actions) {
    for (const Condition* c : {&a->action.eligibility, &a->action.applicability, &a->action.suitability}) {
      if (!c->feel.empty()) texts.push_back(&c->feel);
      if (!c->by_decision()) continue;
      auto m = models.find(c->model);
      if (m != models.end()) input_names.insert(m->second->inputs.begin(), m->second->inputs.end());
    }
  }
  auto needed = [&](const std::string& name) {
    if (input_names.count(name)) return true;
    for (const std::string* t : texts) {
      if (MentionsName(*t, name)) return true;
    }
    return false;
  };
  for (const auto& p : s->policies) {
    if (!p->policy.condition.empty()) texts.push_back(&p->policy.condition);
    quiet_hours = quiet_hours || (p->policy.enabled && p->policy.kind == PolicyKind::kQuietHours);
  }
  for (size_t f = 0; f < s->facts.size(); ++f) {
    if (needed(s->facts[f].first)) s->scope_facts.push_back(static_cast<int>(f));
  }
  std::vector<std::pair<std::string, int>> scope_columns;  // name -> profile column index
  if (profile) {
    for (const auto& [name, type] : profile->columns()) {
      if (needed(name)) scope_columns.emplace_back(name, profile->ColumnIndex(name));
    }
  }
  for (auto& [name, m] : models) {
    auto planned = std::make_shared<LiveModel>(*m);
    ReadPlan& plan = planned->plan;
    plan = ReadPlan{};
    for (const auto& input : planned->inputs) {
      int col = profile ? profile->ColumnIndex(input) : -1;
      plan.input_slot.push_back(col >= 0 ? static_cast<int>(plan.columns.size()) : -1);
      if (col >= 0) plan.columns.push_back(col);
      int fact = -1;
      for (size_t f = 0; f < s->facts.size(); ++f) {
        if (s->facts[f].first == input) fact = static_cast<int>(f);
      }
      plan.input_fact.push_back(fact);
    }
    for (const auto& [cname, col] : scope_columns) {
      plan.scope_columns.emplace_back(cname, static_cast<int>(plan.columns.size()));
      plan.columns.push_back(col);
    }
    if (quiet_hours && profile) {
      int tz = profile->ColumnIndex("timeZone");
      if (tz >= 0) {
        plan.time_zone_slot = static_cast<int>(plan.columns.size());
        plan.columns.push_back(tz);
      }
    }
    m = std::move(planned);
  }
  s->models = std::move(models);
  return std::shared_ptr<const Snapshot>(std::move(s));
}

Status DecisionEngine::Impl::Rebuild() {
  std::unordered_map<std::string, std::shared_ptr<const LiveModel>> models;
  std::unordered_map<std::string, std::shared_ptr<const CompiledAction>> actions;
  std::map<std::string, DecisionPoint> points;
  std::vector<std::shared_ptr<const CompiledPolicy>> policies;
  RP_RETURN_IF_ERROR(db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto live, c.Query("SELECT name, version, xml FROM decision_model_versions WHERE state = ?",
                                           {std::string(VersionStateName(VersionState::kPublished))}));
    for (const auto& r : live.rows) {
      auto m = CompileModel(r[0].AsText(), static_cast<int>(r[1].AsInt()), r[2].AsText());
      if (!m.ok()) {
        // A model that compiled when published no longer does (a newer
        // engine is stricter): keep serving the others.
        spdlog::warn("decision.model_not_loaded model={} version={} error={}", r[0].AsText(), r[1].AsInt(),
                     m.status().message());
        continue;
      }
      models[r[0].AsText()] = *m;
    }
    RP_ASSIGN_OR_RETURN(auto acts, c.Query("SELECT id, body, updated_at FROM decision_actions"));
    for (const auto& r : acts.rows) {
      auto a = ParseAction(r[1].AsText(), r[0].AsText());
      if (!a.ok()) return Status::Internal("stored action " + r[0].AsText() + ": " + a.status().ToString());
      a->updated_at = {r[2].AsInt()};
      std::string id = a->id;
      RP_ASSIGN_OR_RETURN(actions[id], CompileAction(std::move(*a)));
    }
    RP_ASSIGN_OR_RETURN(auto pts, c.Query("SELECT name, body, updated_at FROM decision_points"));
    for (const auto& r : pts.rows) {
      auto p = ParseDecisionPoint(r[1].AsText(), r[0].AsText());
      if (!p.ok()) return Status::Internal("stored decision point " + r[0].AsText() + ": " + p.status().ToString());
      p->updated_at = {r[2].AsInt()};
      points[p->name] = std::move(*p);
    }
    RP_ASSIGN_OR_RETURN(auto pols, c.Query("SELECT name, body, updated_at FROM decision_policies ORDER BY name"));
    for (const auto& r : pols.rows) {
      auto p = ParseContactPolicy(r[1].AsText(), r[0].AsText());
      if (!p.ok()) return Status::Internal("stored policy " + r[0].AsText() + ": " + p.status().ToString());
      p->updated_at = {r[2].AsInt()};
      RP_ASSIGN_OR_RETURN(auto compiled, CompilePolicy(std::move(*p)));
      policies.push_back(std::move(compiled));
    }
    return Status::Ok();
  }));
  RP_ASSIGN_OR_RETURN(auto snap, Assemble(std::move(models), std::move(actions), std::move(points), std::move(policies)));
  snapshot.store(snap, std::memory_order_release);
  return Status::Ok();
}

Status DecisionEngine::Impl::LoadState() {
  Timestamp now = clock->Now();
  auto snap = Load();
  RP_RETURN_IF_ERROR(db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto counts, c.Query("SELECT action_id, decision_point, outcome, COUNT(*) FROM decision_responses "
                                             "GROUP BY action_id, decision_point, outcome"));
    for (const auto& r : counts.rows) {
      int64_t n = r[3].AsInt();
      bool accepted = r[2].AsText() == "accepted";
      for (Counter* k : {&by_action[r[0].AsText()], &by_action_point[r[0].AsText() + "\n" + r[1].AsText()]}) {
        k->responses += n;
        if (accepted) k->accepted += n;
      }
    }
    auto purpose_of = [&](const std::string& id) -> std::string {
      auto it = snap->actions.find(id);
      return it == snap->actions.end() ? "" : it->second->action.purpose;
    };
    int64_t since = now.micros - kHistoryMicros;
    // Contacts: decisions on outbound channels, responses on the others.
    RP_ASSIGN_OR_RETURN(auto logged, c.Query("SELECT customer_id, channel, actions, at FROM decision_log "
                                             "WHERE at >= ? ORDER BY at",
                                             {since}));
    for (const auto& r : logged.rows) {
      if (!Contains(options.outbound_channels, r[1].AsText())) continue;
      for (const auto& id : SplitIds(r[2].AsText())) AddContact(r[0].AsInt(), {r[3].AsInt(), r[1].AsText(), purpose_of(id)});
    }
    RP_ASSIGN_OR_RETURN(auto responses, c.Query("SELECT customer_id, channel, action_id, at FROM decision_responses "
                                                "WHERE at >= ? ORDER BY at",
                                                {since}));
    for (const auto& r : responses.rows) {
      if (Contains(options.outbound_channels, r[1].AsText())) continue;
      AddContact(r[0].AsInt(), {r[3].AsInt(), r[1].AsText(), purpose_of(r[2].AsText())});
    }
    return Status::Ok();
  }));
  if (customers) {
    RP_ASSIGN_OR_RETURN(auto all, customers->CurrentConsents(now));
    std::unique_lock lock(consent_mu);
    for (const auto& k : all) consents[k.customer_id][k.channel + "\n" + k.purpose] = k.granted;
  }
  return Status::Ok();
}

void DecisionEngine::Impl::AddContact(CustomerId customer, Contact c) const {
  std::vector<int64_t> households;
  if (profile) households = profile->GroupsOf(customer);
  std::lock_guard lock(contact_mu);
  auto push = [&](std::vector<Contact>& q) {
    q.push_back(c);
    auto old = std::find_if(q.begin(), q.end(), [&](const Contact& k) { return k.at >= c.at - kHistoryMicros; });
    q.erase(q.begin(), old);
  };
  push(contacts[customer]);
  for (int64_t h : households) push(household_contacts[h]);
}

std::string DecisionEngine::Impl::NewDecisionId() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "dec_%08x%012llx", id_prefix,
                static_cast<unsigned long long>(id_counter.fetch_add(1, std::memory_order_relaxed) + 1));
  return buf;
}

void DecisionEngine::Impl::Remember(std::shared_ptr<const LoggedDecision> d) const {
  std::lock_guard lock(memo_mu);
  memo_order.push_back(d->decision_id);
  memo[d->decision_id] = std::move(d);
  while (memo_order.size() > options.remembered_decisions) {
    memo.erase(memo_order.front());
    memo_order.pop_front();
  }
}

void DecisionEngine::Impl::RunLogWriter() {
  // Below the request threads: on a busy machine the writer, not a
  // decision, should wait for a core (Linux sets niceness per thread).
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) != 0) {
    spdlog::debug("decision.log_writer_nice_failed");
  }
  std::unique_lock lock(log_mu);
  while (true) {
    log_cv.wait_for(lock, std::chrono::microseconds(options.log_interval_micros),
                    [&] { return log_stopping || !log_queue.empty(); });
    if (log_queue.empty()) {
      if (log_stopping) break;
      continue;
    }
    std::vector<std::shared_ptr<const LoggedDecision>> batch;
    batch.swap(log_queue);
    int64_t upto = log_enqueued;
    lock.unlock();
    // One transaction per batch: the group commit (one fsync for them all).
    Status s = db->WithTransaction([&](Connection& conn) -> Status {
        for (const auto& d : batch) {
          RP_RETURN_IF_ERROR(conn.Execute("INSERT INTO decision_log (decision_id, customer_id, decision_point, channel, "
                                           "model, model_version, actions, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                           {d->decision_id, d->customer_id, d->decision_point, d->channel, d->model,
                                            d->model_version, JoinIds(d->actions), d->at.micros})
                                 .status());
        }
        return Status::Ok();
      });
    if (!s.ok()) spdlog::error("decision.log_write_failed entries={} error={}", batch.size(), s.message());
    lock.lock();
    log_written = upto;
    if (!s.ok()) log_error = s;
    log_done_cv.notify_all();
    // With the batch's time in hand, wait a little to gather the next one.
    if (!log_stopping) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(options.log_interval_micros));
      lock.lock();
    }
  }
}

Result<std::unique_ptr<DecisionEngine>> DecisionEngine::Open(storage::Database* db, const profile::ProfileStore* profile,
                                                             customer::CustomerStore* customers, EngineOptions options) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  RP_RETURN_IF_ERROR(storage::Migrate(*db, "decision", Migrations(db->dialect())));
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->profile = profile;
  impl->customers = customers;
  impl->clock = options.clock ? options.clock : SystemClock::Default();
  impl->options = std::move(options);
  impl->id_prefix = randombytes_random();
  // Reserved up front: rehashing 200,000 remembered decisions mid-decision
  // cost one decision tens of milliseconds.
  impl->memo.reserve(impl->options.remembered_decisions);
  {
    std::lock_guard lock(impl->change_mu);
    RP_RETURN_IF_ERROR(impl->Rebuild());
  }
  RP_RETURN_IF_ERROR(impl->LoadState());
  Impl* raw = impl.get();
  impl->log_thread = std::thread([raw] { raw->RunLogWriter(); });
  return std::unique_ptr<DecisionEngine>(new DecisionEngine(std::move(impl)));
}

DecisionEngine::DecisionEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DecisionEngine::~DecisionEngine() {
  {
    std::lock_guard lock(impl_->log_mu);
    impl_->log_stopping = true;
  }
  impl_->log_cv.notify_all();
  if (impl_->log_thread.joinable()) impl_->log_thread.join();
}

// ---- catalog -------------------------------------------------------------------

Result<Action> DecisionEngine::PutAction(Action action) {
  RP_ASSIGN_OR_RETURN(auto compiled, CompileAction(action));
  std::lock_guard lock(impl_->change_mu);
  {
    auto live = impl_->Load();
    for (auto [member, cond] : {std::pair{"/eligibility", &action.eligibility},
                                std::pair{"/applicability", &action.applicability},
                                std::pair{"/suitability", &action.suitability}}) {
      if (!cond->by_decision()) continue;
      auto m = live->models.find(cond->model);
      if (m == live->models.end()) {
        return Status::Unprocessable("decision model '" + cond->model + "' has no published version",
                                     std::string(member) + "/model");
      }
      if (!HasDecision(*m->second->model, cond->decision)) {
        return Status::Unprocessable("the published version " + std::to_string(m->second->version) + " of '" +
                                         cond->model + "' has no decision '" + cond->decision + "'",
                                     std::string(member) + "/decision");
      }
    }
  }
  Timestamp now = impl_->clock->Now();
  action.updated_at = now;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM decision_actions WHERE id = ?", {action.id}).status());
    return c.Execute("INSERT INTO decision_actions (id, body, updated_at) VALUES (?, ?, ?)",
                     {action.id, ToJson(action), now.micros})
        .status();
  }));
  RP_ASSIGN_OR_RETURN(compiled, CompileAction(action));
  auto snap = impl_->Load();
  auto actions = snap->actions;
  actions[action.id] = compiled;
  RP_ASSIGN_OR_RETURN(auto next, impl_->Assemble(snap->models, std::move(actions), snap->points, snap->policies));
  impl_->snapshot.store(next, std::memory_order_release);
  return action;
}

Result<Action> DecisionEngine::GetAction(std::string_view id) const {
  auto snap = impl_->Load();
  auto it = snap->actions.find(std::string(id));
  if (it == snap->actions.end()) return Status::NotFound("no action '" + std::string(id) + "'", "id");
  return it->second->action;
}

std::vector<Action> DecisionEngine::ListActions() const {
  auto snap = impl_->Load();
  std::vector<Action> out;
  for (const auto& [id, a] : snap->actions) out.push_back(a->action);
  std::sort(out.begin(), out.end(), [](const Action& a, const Action& b) { return a.id < b.id; });
  return out;
}

Status DecisionEngine::DeleteAction(std::string_view id) {
  std::lock_guard lock(impl_->change_mu);
  auto snap = impl_->Load();
  if (!snap->actions.count(std::string(id))) return Status::NotFound("no action '" + std::string(id) + "'", "id");
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    return c.Execute("DELETE FROM decision_actions WHERE id = ?", {std::string(id)}).status();
  }));
  auto actions = snap->actions;
  actions.erase(std::string(id));
  RP_ASSIGN_OR_RETURN(auto next, impl_->Assemble(snap->models, std::move(actions), snap->points, snap->policies));
  impl_->snapshot.store(next, std::memory_order_release);
  return Status::Ok();
}

Result<DecisionPoint> DecisionEngine::PutDecisionPoint(DecisionPoint point) {
  std::lock_guard lock(impl_->change_mu);
  auto snap = impl_->Load();
  auto m = snap->models.find(point.model);
  if (m == snap->models.end()) {
    return Status::Unprocessable("decision model '" + point.model + "' has no published version", "/model");
  }
  bool found = false;
  for (const auto& e : m->second->model->Elements()) {
    found = found || (e.kind == dmn::ElementInfo::Kind::kDecision && e.name == point.decision);
  }
  if (!found) {
    return Status::Unprocessable("the published version " + std::to_string(m->second->version) + " of '" +
                                     point.model + "' has no decision '" + point.decision + "'",
                                 "/decision");
  }
  Timestamp now = impl_->clock->Now();
  point.updated_at = now;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM decision_points WHERE name = ?", {point.name}).status());
    return c.Execute("INSERT INTO decision_points (name, body, updated_at) VALUES (?, ?, ?)",
                     {point.name, ToJson(point), now.micros})
        .status();
  }));
  auto points = snap->points;
  points[point.name] = point;
  RP_ASSIGN_OR_RETURN(auto next, impl_->Assemble(snap->models, snap->actions, std::move(points), snap->policies));
  impl_->snapshot.store(next, std::memory_order_release);
  return point;
}

Result<DecisionPoint> DecisionEngine::GetDecisionPoint(std::string_view name) const {
  auto snap = impl_->Load();
  auto it = snap->points.find(std::string(name));
  if (it == snap->points.end()) return Status::NotFound("no decision point '" + std::string(name) + "'", "name");
  return it->second;
}

std::vector<DecisionPoint> DecisionEngine::ListDecisionPoints() const {
  auto snap = impl_->Load();
  std::vector<DecisionPoint> out;
  for (const auto& [n, p] : snap->points) out.push_back(p);
  return out;
}

Result<ContactPolicy> DecisionEngine::PutPolicy(ContactPolicy policy) {
  std::lock_guard lock(impl_->change_mu);
  Timestamp now = impl_->clock->Now();
  policy.updated_at = now;
  RP_ASSIGN_OR_RETURN(auto compiled, CompilePolicy(policy));
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(c.Execute("DELETE FROM decision_policies WHERE name = ?", {policy.name}).status());
    return c.Execute("INSERT INTO decision_policies (name, body, updated_at) VALUES (?, ?, ?)",
                     {policy.name, ToJson(policy), now.micros})
        .status();
  }));
  auto snap = impl_->Load();
  auto policies = snap->policies;
  policies.erase(std::remove_if(policies.begin(), policies.end(),
                                [&](const auto& p) { return p->policy.name == policy.name; }),
                 policies.end());
  policies.push_back(compiled);
  std::sort(policies.begin(), policies.end(), [](const auto& a, const auto& b) { return a->policy.name < b->policy.name; });
  RP_ASSIGN_OR_RETURN(auto next, impl_->Assemble(snap->models, snap->actions, snap->points, std::move(policies)));
  impl_->snapshot.store(next, std::memory_order_release);
  return policy;
}

Result<ContactPolicy> DecisionEngine::GetPolicy(std::string_view name) const {
  auto snap = impl_->Load();
  for (const auto& p : snap->policies) {
    if (p->policy.name == name) return p->policy;
  }
  return Status::NotFound("no contact policy '" + std::string(name) + "'", "name");
}

std::vector<ContactPolicy> DecisionEngine::ListPolicies() const {
  auto snap = impl_->Load();
  std::vector<ContactPolicy> out;
  for (const auto& p : snap->policies) out.push_back(p->policy);
  return out;
}

Status DecisionEngine::DeletePolicy(std::string_view name) {
  std::lock_guard lock(impl_->change_mu);
  auto snap = impl_->Load();
  auto policies = snap->policies;
  auto it = std::remove_if(policies.begin(), policies.end(), [&](const auto& p) { return p->policy.name == name; });
  if (it == policies.end()) return Status::NotFound("no contact policy '" + std::string(name) + "'", "name");
  policies.erase(it, policies.end());
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    return c.Execute("DELETE FROM decision_policies WHERE name = ?", {std::string(name)}).status();
  }));
  RP_ASSIGN_OR_RETURN(auto next, impl_->Assemble(snap->models, snap->actions, snap->points, std::move(policies)));
  impl_->snapshot.store(next, std::memory_order_release);
  return Status::Ok();
}

void DecisionEngine::RegisterFact(std::string name, std::function<feel::Value(CustomerId)> fn) {
  std::lock_guard lock(impl_->change_mu);
  auto& facts = impl_->facts;
  auto it = std::find_if(facts.begin(), facts.end(), [&](const auto& f) { return f.first == name; });
  if (it != facts.end()) it->second = std::move(fn);
  else facts.emplace_back(std::move(name), std::move(fn));
  auto snap = impl_->Load();
  auto next = impl_->Assemble(snap->models, snap->actions, snap->points, snap->policies);
  if (next.ok()) impl_->snapshot.store(*next, std::memory_order_release);
}

void DecisionEngine::ConsentChanged(const customer::Consent& consent) {
  std::unique_lock lock(impl_->consent_mu);
  impl_->consents[consent.customer_id][consent.channel + "\n" + consent.purpose] = consent.granted;
}

// ---- deciding --------------------------------------------------------------------

Result<DecideResult> DecisionEngine::Decide(const DecideRequest& req) const {
  const Impl& impl = *impl_;
  std::shared_ptr<const Snapshot> snap = impl.Load();
  auto pit = snap->points.find(req.decision_point);
  if (pit == snap->points.end()) {
    return Status::NotFound("no decision point '" + req.decision_point + "'", "/decisionPoint");
  }
  const DecisionPoint& point = pit->second;
  if (req.channel.empty()) return Status::InvalidArgument("a channel is required", "/channel");
  if (!point.channels.empty() && !Contains(point.channels, req.channel)) {
    return Status::Unprocessable("decision point '" + point.name + "' does not serve channel '" + req.channel + "'",
                                 "/channel");
  }
  if (req.limit < 1 || req.limit > 50) return Status::InvalidArgument("limit must be 1..50", "/limit");
  if (!req.context.is_null() && !req.context.is(feel::Type::kContext)) {
    return Status::InvalidArgument("context must be an object", "/context");
  }
  auto mit = snap->models.find(point.model);
  if (mit == snap->models.end()) {
    return Status::Unprocessable("decision model '" + point.model + "' has no published version", "/decisionPoint");
  }
  const LiveModel& live = *mit->second;
  const ReadPlan& plan = live.plan;
  Timestamp now = impl.clock->Now();

  std::vector<feel::Value> row;
  if (impl.profile) {
    Status s = impl.profile->ReadRow(req.customer_id, plan.columns, &row);
    if (!s.ok()) return Status(s.code(), s.message(), s.IsNotFound() ? "/customerId" : "");
  }
  auto from_context = [&](const std::string& name) -> const feel::Value* {
    return req.context.is(feel::Type::kContext) ? req.context.Get(name) : nullptr;
  };
  // Facts are computed at most once per decision.
  std::vector<std::optional<feel::Value>> fact_values(snap->facts.size());
  auto fact = [&](int f) -> const feel::Value& {
    if (!fact_values[f]) fact_values[f] = snap->facts[f].second(req.customer_id);
    return *fact_values[f];
  };

  std::vector<dmn::NamedInput> inputs;
  inputs.reserve(live.inputs.size());
  for (size_t i = 0; i < live.inputs.size(); ++i) {
    const std::string& name = live.inputs[i];
    feel::Value v;
    if (const feel::Value* c = from_context(name)) v = *c;
    else if (plan.input_slot[i] >= 0) v = row[plan.input_slot[i]];
    else if (plan.input_fact[i] >= 0) v = fact(plan.input_fact[i]);
    inputs.push_back({"", name, std::move(v)});
  }
  feel::EvalLimits limits = impl.options.limits.WithTimeout(impl.options.decide_time_limit);
  limits.cancelled = req.cancelled;
  dmn::EvaluateOptions eo;
  eo.explain = req.explain;
  eo.clock = impl.clock;
  eo.limits = limits;
  auto evaluated = live.model->Evaluate(point.decision, inputs, eo);
  if (!evaluated.ok()) {
    const Status& st = evaluated.status();
    if (st.code() == StatusCode::kUnavailable) return Status(st.code(), st.message(), "/decisionPoint");  // time, cancel
    return Status::Unprocessable(st.message(), "/decisionPoint");
  }

  DecideResult out;
  out.customer_id = req.customer_id;
  out.decision_point = point.name;
  out.channel = req.channel;
  out.model = live.name;
  out.model_version = live.version;
  out.at = now;
  DecideExplanation* ex = nullptr;
  if (req.explain) {
    out.explanation.emplace();
    ex = &*out.explanation;
    ex->model = live.name;
    ex->model_version = live.version;
    ex->decision = point.decision;
    for (auto& in : inputs) ex->inputs.emplace_back(in.name, in.value);
    ex->rules = std::move(evaluated->explanation);
    ex->messages = evaluated->messages;
  }
  auto remove = [&](const std::string& id, const char* stage, const std::string& by, std::string reason) {
    if (ex) ex->removed.push_back({id, stage, by, std::move(reason)});
  };

  // Candidates: a string, a list of strings, a context with action/actionId
  // (and an optional weight), or a list of those.
  struct Candidate {
    const CompiledAction* action;
    double weight;
  };
  std::vector<Candidate> candidates;
  std::set<std::string> seen;
  auto add = [&](const feel::Value& v) {
    std::string id;
    double weight = 1;
    if (v.is(feel::Type::kString)) {
      id = v.string();
    } else if (v.is(feel::Type::kContext)) {
      const feel::Value* a = v.Get("action");
      if (!a) a = v.Get("actionId");
      if (a && a->is(feel::Type::kString)) id = a->string();
      const feel::Value* w = v.Get("weight");
      if (!w) w = v.Get("contextWeight");
      if (w && w->is(feel::Type::kNumber)) weight = std::max(0.0, w->number().ToDouble());
    }
    if (id.empty() || !seen.insert(id).second) return;
    if (ex) ex->candidates.push_back(id);
    auto it = snap->actions.find(id);
    if (it == snap->actions.end()) {
      remove(id, "catalog", "", "the model named an action that is not in the catalog");
      return;
    }
    candidates.push_back({it->second.get(), weight});
  };
  const feel::Value& value = evaluated->value;
  if (value.is(feel::Type::kList)) {
    for (const auto& item : value.list()) add(item);
  } else {
    add(value);
  }

  // The scope of conditions and suppression policies, built only when needed.
  std::optional<feel::Scope> scope;
  feel::EvalContext ectx(impl.clock, limits);
  auto condition_scope = [&]() -> const feel::Scope& {
    if (scope) return *scope;
    scope.emplace();
    for (const auto& [name, slot] : plan.scope_columns) scope->Set(name, row.empty() ? feel::Value() : row[slot]);
    for (int f : snap->scope_facts) scope->Set(snap->facts[f].first, fact(f));
    if (req.context.is(feel::Type::kContext)) {
      for (const auto& [k, v] : req.context.context()) scope->Set(k, v);
    }
    scope->Set("context", req.context);
    scope->Set("channel", feel::Value::String(req.channel));
    scope->Set("decisionPoint", feel::Value::String(point.name));
    scope->Set("now", feel::Value::FromTimestamp(now));
    return *scope;
  };

  // A condition by DMN decision: evaluated on the model's version in this
  // decision's snapshot, its input data filled by name from the condition
  // scope. Removes the action (and says why) unless the value is true.
  auto by_decision = [&](const char* stage, const Condition& cond, const Action& a) -> bool {
    auto it = snap->models.find(cond.model);
    if (it == snap->models.end()) {
      remove(a.id, stage, cond.model + ":" + cond.decision, "decision model '" + cond.model + "' has no published version");
      return false;
    }
    const LiveModel& m = *it->second;
    const feel::Scope& sc = condition_scope();
    std::vector<dmn::NamedInput> in;
    in.reserve(m.inputs.size());
    for (const auto& name : m.inputs) {
      const feel::Value* v = sc.Find(name);
      in.push_back({"", name, v ? *v : feel::Value()});
    }
    dmn::EvaluateOptions o;
    o.explain = false;
    o.clock = impl.clock;
    o.limits = limits;
    auto r = m.model->Evaluate(cond.decision, in, o);
    if (r.ok() && Truthy(r->value)) return true;
    if (ex) {
      remove(a.id, stage, m.name + ":" + cond.decision + " v" + std::to_string(m.version),
             r.ok() ? std::string(stage) + " decision is not true"
                    : std::string(stage) + " decision failed: " + r.status().message());
    }
    return false;
  };

  std::vector<Candidate> kept;
  for (const Candidate& c : candidates) {
    const Action& a = c.action->action;
    if (!a.channels.empty() && !Contains(a.channels, req.channel)) {
      remove(a.id, "channel", "", "not offered on channel " + req.channel);
      continue;
    }
    if ((a.valid_from && now < *a.valid_from) || (a.valid_to && now >= *a.valid_to)) {
      remove(a.id, "validity", "", "outside its validity period");
      continue;
    }
    bool ok = true;
    for (auto [stage, cond, expr] : {std::tuple{"eligibility", &a.eligibility, &c.action->eligibility},
                                     std::tuple{"applicability", &a.applicability, &c.action->applicability},
                                     std::tuple{"suitability", &a.suitability, &c.action->suitability}}) {
      if (cond->by_decision()) {
        if (!by_decision(stage, *cond, a)) {
          ok = false;
          break;
        }
        continue;
      }
      if (!*expr) continue;
      if (!Truthy((*expr)->Evaluate(condition_scope(), ectx))) {
        remove(a.id, stage, (*expr)->text(), std::string(stage) + " condition is not true");
        ok = false;
        break;
      }
    }
    if (ok) kept.push_back(c);
  }
  // The conditions share the decision's budget (ectx): past it, the
  // decision is not what its rules say, so it is refused, naming the limit.
  if (ectx.stopped()) return ectx.LimitStatus("/decisionPoint");

  // Contact policies.
  std::string zone;
  for (const auto& cp : snap->policies) {
    const ContactPolicy& p = cp->policy;
    if (!p.enabled || kept.empty()) continue;
    if (!p.decision_points.empty() && !Contains(p.decision_points, point.name)) continue;
    std::vector<Candidate> next;
    auto decide_each = [&](auto&& removes) {
      for (const Candidate& c : kept) {
        const Action& a = c.action->action;
        if (!Selects(p, req.channel, a.purpose)) {
          next.push_back(c);
          continue;
        }
        std::string reason;
        if (removes(a, &reason)) remove(a.id, PolicyKindName(p.kind).data(), p.name, std::move(reason));
        else next.push_back(c);
      }
    };
    switch (p.kind) {
      case PolicyKind::kControlGroup: {
        bool held_out = ControlDraw(req.customer_id, point.name) < static_cast<uint32_t>(std::lround(p.percent * 100));
        decide_each([&](const Action&, std::string* why) {
          if (held_out) {
            out.control_group = true;
            *why = "the customer is in the " + std::to_string(p.percent) + "% control group";
          }
          return held_out;
        });
        break;
      }
      case PolicyKind::kConsent: {
        std::shared_lock lock(impl.consent_mu);
        auto cit = impl.consents.find(req.customer_id);
        decide_each([&](const Action& a, std::string* why) {
          std::optional<bool> granted;
          if (cit != impl.consents.end()) {
            auto k = cit->second.find(req.channel + "\n" + a.purpose);
            if (k != cit->second.end()) granted = k->second;
          }
          bool allowed = granted.value_or(p.granted_by_default);
          if (!allowed) {
            *why = granted ? "consent for " + a.purpose + " on " + req.channel + " is withdrawn"
                           : "no consent recorded for " + a.purpose + " on " + req.channel;
          }
          return !allowed;
        });
        break;
      }
      case PolicyKind::kFrequencyCap: {
        std::vector<int64_t> households;
        if (p.scope == ContactPolicy::Scope::kHousehold && impl.profile) households = impl.profile->GroupsOf(req.customer_id);
        int64_t count = 0;
        {
          std::lock_guard lock(impl.contact_mu);
          auto tally = [&](const std::unordered_map<int64_t, std::vector<Contact>>& m, int64_t key) {
            auto it = m.find(key);
            if (it == m.end()) return;
            for (auto c = it->second.rbegin(); c != it->second.rend() && c->at > now.micros - p.window_micros; ++c) {
              if (c->at > now.micros) continue;
              if (p.per_channel && c->channel != req.channel) continue;
              if (!Selects(p, c->channel, c->purpose)) continue;
              ++count;
            }
          };
          if (p.scope == ContactPolicy::Scope::kCustomer || households.empty()) tally(impl.contacts, req.customer_id);
          for (int64_t h : households) tally(impl.household_contacts, h);
        }
        bool capped = count >= p.max_contacts;
        decide_each([&](const Action&, std::string* why) {
          if (capped) {
            *why = std::to_string(count) + " contacts in the window, at most " + std::to_string(p.max_contacts) +
                   " allowed" + (p.scope == ContactPolicy::Scope::kHousehold ? " per household" : "");
          }
          return capped;
        });
        break;
      }
      case PolicyKind::kQuietHours: {
        if (zone.empty()) {
          if (plan.time_zone_slot >= 0 && row[plan.time_zone_slot].is(feel::Type::kString)) {
            zone = row[plan.time_zone_slot].string();
          }
          if (const feel::Value* z = from_context("timeZone"); z && z->is(feel::Type::kString)) zone = z->string();
        }
        std::string where = zone;
        if (where.empty()) where = p.default_time_zone.empty() ? impl.options.default_time_zone : p.default_time_zone;
        std::optional<int> minute = LocalMinute(now, where);
        if (!minute) {
          where = impl.options.default_time_zone;
          minute = LocalMinute(now, where);
        }
        bool quiet = minute && (p.start_minute < p.end_minute
                                    ? (*minute >= p.start_minute && *minute < p.end_minute)
                                    : (*minute >= p.start_minute || *minute < p.end_minute));
        decide_each([&](const Action&, std::string* why) {
          if (quiet) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "%02d:%02d in %s is within quiet hours", *minute / 60, *minute % 60,
                          where.c_str());
            *why = buf;
          }
          return quiet;
        });
        break;
      }
      case PolicyKind::kSuppression: {
        bool suppressed = Truthy(cp->condition->Evaluate(condition_scope(), ectx));
        decide_each([&](const Action&, std::string* why) {
          if (suppressed) *why = "suppressed: " + p.condition;
          return suppressed;
        });
        break;
      }
    }
    kept = std::move(next);
  }
  if (ectx.stopped()) return ectx.LimitStatus("/decisionPoint");  // a suppression policy past the budget

  // Arbitration.
  std::vector<ScoredAction> scored;
  scored.reserve(kept.size());
  {
    std::lock_guard lock(impl.learn_mu);
    for (const Candidate& c : kept) {
      const Action& a = c.action->action;
      ScoredAction s;
      s.action_id = a.id;
      s.name = a.name;
      s.kind = a.kind;
      s.purpose = a.purpose;
      Counter k;
      if (auto it = impl.by_action_point.find(a.id + "\n" + point.name);
          it != impl.by_action_point.end() && it->second.responses >= impl.options.min_point_responses) {
        k = it->second;
      } else if (auto it2 = impl.by_action.find(a.id); it2 != impl.by_action.end()) {
        k = it2->second;
      }
      s.propensity = Beta(k, impl.options.prior_accepted, impl.options.prior_rejected);
      s.value = std::max(0.0, a.value - a.cost);
      s.lever = a.business_lever;
      s.context_weight = c.weight;
      auto factor = [](double x, double w) { return w == 1 ? x : (w == 0 ? 1.0 : std::pow(x, w)); };
      s.score = factor(s.propensity, point.propensity_weight) * factor(s.value, point.value_weight) *
                factor(s.lever, point.lever_weight) * factor(s.context_weight, point.context_weight);
      scored.push_back(std::move(s));
    }
  }
  std::stable_sort(scored.begin(), scored.end(), [](const ScoredAction& a, const ScoredAction& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.action_id < b.action_id;
  });
  if (ex) ex->scored = scored;
  if (scored.size() > static_cast<size_t>(req.limit)) {
    for (size_t i = static_cast<size_t>(req.limit); i < scored.size(); ++i) {
      remove(scored[i].action_id, "limit", "", "ranked below the limit of " + std::to_string(req.limit));
    }
    scored.resize(static_cast<size_t>(req.limit));
  }
  out.actions = std::move(scored);

  if (req.record) {
    out.decision_id = impl.NewDecisionId();
    auto logged = std::make_shared<LoggedDecision>();
    logged->decision_id = out.decision_id;
    logged->customer_id = req.customer_id;
    logged->decision_point = point.name;
    logged->channel = req.channel;
    logged->model = live.name;
    logged->model_version = live.version;
    logged->at = now;
    for (const auto& a : out.actions) logged->actions.push_back(a.action_id);
    if (Contains(impl.options.outbound_channels, req.channel)) {
      for (const auto& a : out.actions) impl.AddContact(req.customer_id, {now.micros, req.channel, a.purpose});
    }
    std::shared_ptr<const LoggedDecision> shared = std::move(logged);
    impl.Remember(shared);
    {
      std::lock_guard lock(impl.log_mu);
      impl.log_queue.push_back(std::move(shared));
      ++impl.log_enqueued;
    }
    impl.log_cv.notify_one();
  }
  return out;
}

Status DecisionEngine::FlushLog() const {
  std::unique_lock lock(impl_->log_mu);
  int64_t target = impl_->log_enqueued;
  impl_->log_cv.notify_one();
  impl_->log_done_cv.wait(lock, [&] { return impl_->log_written >= target; });
  return impl_->log_error;
}

Result<LoggedDecision> DecisionEngine::FindDecision(std::string_view decision_id) const {
  {
    std::lock_guard lock(impl_->memo_mu);
    auto it = impl_->memo.find(std::string(decision_id));
    if (it != impl_->memo.end()) return *it->second;
  }
  RP_RETURN_IF_ERROR(FlushLog());
  std::optional<LoggedDecision> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT customer_id, decision_point, channel, model, model_version, actions, at "
                                           "FROM decision_log WHERE decision_id = ?",
                                           {std::string(decision_id)}));
    if (rows.empty()) return Status::NotFound("no decision '" + std::string(decision_id) + "'", "/decisionId");
    const auto& r = rows.rows[0];
    out = LoggedDecision{std::string(decision_id), r[0].AsInt(), r[1].AsText(), r[2].AsText(), r[3].AsText(),
                         static_cast<int>(r[4].AsInt()), SplitIds(r[5].AsText()), {r[6].AsInt()}};
    return Status::Ok();
  }));
  return std::move(*out);
}

Result<std::vector<LoggedDecision>> DecisionEngine::RecentDecisions(CustomerId customer, int limit) const {
  RP_RETURN_IF_ERROR(FlushLog());
  std::vector<LoggedDecision> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT decision_id, decision_point, channel, model, model_version, actions, at "
                                           "FROM decision_log WHERE customer_id = ? ORDER BY at DESC, decision_id DESC "
                                           "LIMIT ?",
                                           {customer, limit}));
    for (const auto& r : rows.rows) {
      out.push_back({r[0].AsText(), customer, r[1].AsText(), r[2].AsText(), r[3].AsText(),
                     static_cast<int>(r[4].AsInt()), SplitIds(r[5].AsText()), {r[6].AsInt()}});
    }
    return Status::Ok();
  }));
  return out;
}

Result<ResponseRecord> DecisionEngine::RecordResponse(std::string_view decision_id, std::string_view action_id,
                                                      Outcome outcome) {
  RP_ASSIGN_OR_RETURN(LoggedDecision d, FindDecision(decision_id));
  if (!Contains(d.actions, action_id)) {
    return Status::Unprocessable("decision " + d.decision_id + " did not offer action '" + std::string(action_id) + "'",
                                 "/actionId");
  }
  ResponseRecord r;
  r.decision_id = d.decision_id;
  r.action_id = std::string(action_id);
  r.outcome = outcome;
  r.customer_id = d.customer_id;
  r.decision_point = d.decision_point;
  r.channel = d.channel;
  r.at = impl_->clock->Now();
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(auto dup, c.Query("SELECT id FROM decision_responses WHERE decision_id = ? AND action_id = ?",
                                          {r.decision_id, r.action_id}));
    if (!dup.empty()) {
      return Status::Conflict("a response to action '" + r.action_id + "' of decision " + r.decision_id +
                                  " is already recorded",
                              "/actionId");
    }
    RP_ASSIGN_OR_RETURN(auto ins, c.Query("INSERT INTO decision_responses (decision_id, action_id, outcome, customer_id, "
                                          "decision_point, channel, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                          {r.decision_id, r.action_id, std::string(OutcomeName(outcome)), r.customer_id,
                                           r.decision_point, r.channel, r.at.micros}));
    r.id = ins.rows[0][0].AsInt();
    return Status::Ok();
  }));
  {
    std::lock_guard lock(impl_->learn_mu);
    for (Counter* k : {&impl_->by_action[r.action_id], &impl_->by_action_point[r.action_id + "\n" + r.decision_point]}) {
      ++k->responses;
      if (outcome == Outcome::kAccepted) ++k->accepted;
    }
  }
  if (!Contains(impl_->options.outbound_channels, r.channel)) {
    auto snap = impl_->Load();
    auto it = snap->actions.find(r.action_id);
    impl_->AddContact(r.customer_id,
                      {r.at.micros, r.channel, it == snap->actions.end() ? "" : it->second->action.purpose});
  }
  return r;
}

Result<Propensity> DecisionEngine::PropensityOf(std::string_view action_id, std::string_view decision_point) const {
  if (!impl_->Load()->actions.count(std::string(action_id))) {
    return Status::NotFound("no action '" + std::string(action_id) + "'", "id");
  }
  std::lock_guard lock(impl_->learn_mu);
  Counter k;
  if (decision_point.empty()) {
    if (auto it = impl_->by_action.find(std::string(action_id)); it != impl_->by_action.end()) k = it->second;
  } else if (auto it = impl_->by_action_point.find(std::string(action_id) + "\n" + std::string(decision_point));
             it != impl_->by_action_point.end()) {
    k = it->second;
  }
  return Propensity{Beta(k, impl_->options.prior_accepted, impl_->options.prior_rejected), k.accepted, k.responses};
}

// ---- 360 view ----------------------------------------------------------------------

void RegisterViewSections(customer::CustomerStore& store, std::weak_ptr<const DecisionEngine> engine) {
  store.RegisterViewSection("nextBestActions", [engine](CustomerId id, const customer::ReadOptions&) -> Result<std::string> {
    auto e = engine.lock();
    if (!e) return Status::NotFound("the decision engine is not running");
    std::optional<DecisionPoint> point;
    for (auto& p : e->ListDecisionPoints()) {
      if (p.show_in_360) {
        point = std::move(p);
        break;
      }
    }
    if (!point) return Status::NotFound("no decision point is shown in the 360 view");
    DecideRequest req;
    req.customer_id = id;
    req.decision_point = point->name;
    req.channel = point->channels.empty() ? "360" : point->channels.front();
    req.record = false;
    auto r = e->Decide(req);
    if (!r.ok()) return Status::NotFound(r.status().message());
    return ToJson(*r);
  });
  store.RegisterViewSection("recentDecisions", [engine](CustomerId id, const customer::ReadOptions&) -> Result<std::string> {
    auto e = engine.lock();
    if (!e) return Status::NotFound("the decision engine is not running");
    RP_ASSIGN_OR_RETURN(auto list, e->RecentDecisions(id, 10));
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) out += (i ? "," : "") + ToJson(list[i]);
    return out + "]";
  });
}

}  // namespace rapport::decision
