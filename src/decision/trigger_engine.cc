// The trigger engine: opening (stored triggers, open-case counts, threads),
// the change feed's queue and worker, catching up from the tracker after the
// high-water mark, matching, and firing: a firing row with a unique
// (trigger, event) key is written before, or in the same transaction as,
// the action, so a trigger acts at most once per event, across restarts.
// Definitions are in trigger_store.cc, compiling in trigger_compile.cc.

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "decision/internal/trigger_engine_impl.h"
#include "decision/internal/trigger_json.h"

namespace rapport::decision {

using internal::CompileTrigger;

namespace {

// A feed event as triggers see it: its kind, its name and its key.
struct Classified {
  std::string type;  // "track", ..., "segment.entered", "interaction.created"
  std::string name;
  std::string key;   // "" : the event cannot be keyed (then it never fires)
};

bool IsDerived(std::string_view name) {
  return name == "segment.entered" || name == "segment.exited" || name == "interaction.created";
}

Classified Classify(const ingest::StoredEvent& e, const feel::Value* properties) {
  Classified c;
  const ingest::TrackingEvent& ev = e.event;
  if (e.seq == 0 && ev.type == ingest::EventType::kTrack && IsDerived(ev.event)) {
    c.type = ev.event;
    if (c.type == "interaction.created") {
      if (!ev.message_id.empty()) c.key = "interaction:" + ev.message_id;
    } else if (properties != nullptr) {
      const feel::Value* segment = properties->Get("segmentId");
      if (segment != nullptr && segment->is(feel::Type::kNumber)) {
        c.key = "segment:" + segment->number().ToString() + ":" + std::to_string(e.customer_id) + ":" +
                std::to_string(ev.timestamp.micros);
      }
    }
    return c;
  }
  c.type = std::string(ingest::EventTypeName(ev.type));
  if (ev.type == ingest::EventType::kTrack) c.name = ev.event;
  if (ev.type == ingest::EventType::kPage || ev.type == ingest::EventType::kScreen) c.name = ev.name;
  if (e.seq > 0) {
    c.key = "seq:" + std::to_string(e.seq);
  } else if (!ev.message_id.empty()) {
    c.key = "message:" + ev.message_id;  // published by another capability with an id of its own
  }
  return c;
}

// The type/name part of Classify, without parsing properties (feed callback).
std::pair<std::string, std::string> TypeAndName(const ingest::StoredEvent& e) {
  const ingest::TrackingEvent& ev = e.event;
  if (e.seq == 0 && ev.type == ingest::EventType::kTrack && IsDerived(ev.event)) return {ev.event, ""};
  std::string name;
  if (ev.type == ingest::EventType::kTrack) name = ev.event;
  if (ev.type == ingest::EventType::kPage || ev.type == ingest::EventType::kScreen) name = ev.name;
  return {std::string(ingest::EventTypeName(ev.type)), name};
}

bool Interested(const TriggerIndex& index, const ingest::StoredEvent& e) {
  if (e.customer_id == 0) return false;
  auto [type, name] = TypeAndName(e);
  if (index.Find(type + "\n") != nullptr) return true;
  return !name.empty() && index.Find(type + "\n" + name) != nullptr;
}

feel::Value EventContext(const ingest::StoredEvent& e, const Classified& c, feel::Value properties) {
  feel::ContextEntries entries;
  entries.emplace_back("type", feel::Value::String(c.type));
  entries.emplace_back("name", c.name.empty() ? feel::Value::Null() : feel::Value::String(c.name));
  entries.emplace_back("messageId", feel::Value::String(e.event.message_id));
  entries.emplace_back("seq", feel::Value::Number(e.seq));
  entries.emplace_back("customerId", feel::Value::Number(e.customer_id));
  entries.emplace_back("timestamp", feel::Value::FromTimestamp(e.event.timestamp));
  entries.emplace_back("properties", std::move(properties));
  entries.emplace_back("traits", internal::FeelFromJsonText(e.event.traits_json));
  return feel::Value::Context(std::move(entries));
}

// A profile column's text (ProfileStore::ValueOf) as a FEEL value.
feel::Value ColumnValue(const std::string& text, profile::ColumnType type) {
  if (text.empty()) return feel::Value::Null();
  switch (type) {
    case profile::ColumnType::kNumber: {
      auto d = feel::Decimal::Parse(text);
      return d.ok() ? feel::Value::Number(*d) : feel::Value::Null();
    }
    case profile::ColumnType::kString: return feel::Value::String(text);
    case profile::ColumnType::kBoolean: return feel::Value::Boolean(text == "true");
    case profile::ColumnType::kDate: {
      auto t = ParseRfc3339(text);
      return t.ok() ? feel::Value::Date(t->micros / kMicrosPerDay) : feel::Value::Null();
    }
  }
  return feel::Value::Null();
}

// FEEL text to a string for a title or message: strings as they are, other
// values in FEEL notation; null is an error.
Result<std::string> TextOf(const feel::Expression& e, const feel::Scope& scope, const Clock* clock,
                           std::string_view what) {
  feel::EvalContext ctx(clock);
  feel::Value v = e.Evaluate(scope, ctx);
  if (v.is_null()) {
    std::string why = ctx.warnings().empty() ? "" : ": " + ctx.warnings().front();
    return Status::Unprocessable(std::string(what) + " evaluated to null" + why);
  }
  std::string s = v.is(feel::Type::kString) ? v.string() : v.ToString();
  if (s.size() > 500) s.resize(500);
  return s;
}


}  // namespace

// ---- open and close --------------------------------------------------------------

TriggerEngine::TriggerEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<TriggerEngine>> TriggerEngine::Open(TriggerEngineOptions options) {
  if (options.db == nullptr || options.customers == nullptr) {
    return Status::Internal("the trigger engine needs a database and the customer store");
  }
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock ? options.clock : SystemClock::Default();
  if (options.outbound != nullptr) impl->outbound = *options.outbound;
  if (options.http == nullptr) {
    impl->owned_http = MakeCurlHttpClient(impl->outbound);
    impl->http = impl->owned_http.get();
  } else {
    impl->http = options.http;
  }
  impl->options = std::move(options);
  storage::Database& db = *impl->options.db;
  RP_RETURN_IF_ERROR(internal::MigrateTriggers(db));

  // Stored triggers; one that no longer compiles is kept but inactive.
  RP_RETURN_IF_ERROR(db.WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT id, definition, secret, created_at, updated_at "
                                              "FROM trigger_definitions ORDER BY id"));
    for (const auto& r : rows.rows) {
      Trigger t;
      t.id = r[0].AsInt();
      t.created_at = {r[3].AsInt()};
      t.updated_at = {r[4].AsInt()};
      auto def = ParseTriggerDefinition(r[1].AsText());
      std::shared_ptr<CompiledTrigger> broken;
      if (def.ok()) {
        t.definition = std::move(*def);
        t.definition.action.secret = r[2].AsText();
        auto compiled = CompileTrigger(t, impl->options.profile);
        if (compiled.ok()) {
          impl->triggers[t.id] = *compiled;
          continue;
        }
        broken = std::make_shared<CompiledTrigger>();
        broken->error = compiled.status().ToString();
      } else {
        broken = std::make_shared<CompiledTrigger>();
        broken->error = def.status().ToString();
        t.definition.name = "trigger " + std::to_string(t.id);
      }
      spdlog::warn("trigger.inactive id={} error={}", t.id, broken->error);
      t.error = broken->error;
      broken->trigger = std::move(t);
      impl->triggers[broken->trigger.id] = broken;
    }
    // The high-water mark; the first time on a feed, the tracker's newest
    // event (history from before the engine ran is not replayed).
    if (impl->options.feed != nullptr) {
      RP_ASSIGN_OR_RETURN(std::optional<int64_t> mark, internal::LoadEventsMark(conn));
      if (!mark) {
        mark = impl->options.feed->LastPublishedSeq();
        RP_RETURN_IF_ERROR(internal::StoreEventsMark(conn, *mark));
      }
      impl->through = impl->replayed_through = impl->stored_through = *mark;
      impl->mark = *mark;
      impl->catch_up_wanted = true;  // the first thing the worker does
    }
    // Open cases per customer and team.
    RP_ASSIGN_OR_RETURN(auto open, conn.Query("SELECT customer_id, team, COUNT(*) FROM cases "
                                              "WHERE kind = 'case' AND status <> 'closed' GROUP BY customer_id, team"));
    for (const auto& r : open.rows) {
      int team = internal::TeamIndex(r[1].AsText());
      if (team >= 0) impl->open_cases[r[0].AsInt()][team] += r[2].AsInt();
    }
    return Status::Ok();
  }));
  impl->RebuildIndex();

  auto engine = std::unique_ptr<TriggerEngine>(new TriggerEngine(std::move(impl)));
  Impl* state = engine->impl_.get();
  internal::RegisterViewSections(*state->options.customers, engine.get());
  TriggerEngine* self = engine.get();
  state->stored_at = std::chrono::steady_clock::now();
  state->worker = std::thread([state] { state->RunWorker(); });
  if (state->options.deliver_in_background) {
    state->deliverer = std::thread([state, self] { state->RunDeliverer(self); });
  }
  if (state->options.feed != nullptr) {
    // On the tracker's writer thread: a hash lookup per event, and a copy of
    // the events some trigger listens to. Subscribed before the worker's
    // first read from the tracker, so every event is seen one way or both.
    state->feed_handle = state->options.feed->Subscribe([state](const std::vector<ingest::StoredEvent>& events) {
      std::shared_ptr<const TriggerIndex> index = state->Snapshot();
      int64_t newest = 0;
      std::vector<const ingest::StoredEvent*> wanted;
      for (const auto& e : events) {
        newest = std::max(newest, e.seq);
        if (!index->by_event.empty() && Interested(*index, e)) wanted.push_back(&e);
      }
      int64_t dropped = 0, dropped_before = 0;
      {
        std::lock_guard<std::mutex> lock(state->queue_mu);
        if (state->stopping) return;
        for (const auto* e : wanted) {
          const bool tracked = e->seq > 0;
          if (tracked && !state->live) continue;  // the catch-up reads it back
          if (state->queue.size() >= state->options.max_queued_events) {
            ++dropped;
            if (tracked) {
              // Everything before it is queued; from it on, read back.
              state->queued_through = std::max(state->queued_through, e->seq - 1);
              state->live = false;
              state->catch_up_wanted = true;
            }
            continue;
          }
          state->queue.push_back(*e);
          ++state->queued;
        }
        if (state->live) state->queued_through = std::max(state->queued_through, newest);
        // Counted before the worker can see the catch-up it asks for.
        if (dropped > 0) dropped_before = state->dropped.fetch_add(dropped);
      }
      if (!wanted.empty()) state->queue_cv.notify_one();
      // One line per 10,000 dropped, not one per event.
      if (dropped > 0 && (dropped_before / 10'000 != (dropped_before + dropped) / 10'000 || dropped_before == 0)) {
        spdlog::warn("trigger.events_dropped total={} queue_capacity={} (tracked events are read back)",
                     dropped_before + dropped, state->options.max_queued_events);
      }
    });
  }
  return engine;
}

TriggerEngine::~TriggerEngine() {
  if (impl_->feed_handle != 0) impl_->options.feed->Unsubscribe(impl_->feed_handle);
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  {
    std::lock_guard<std::mutex> lock(impl_->outbox_mu);
    impl_->outbox_stopping = true;
  }
  impl_->outbox_cv.notify_all();
  if (impl_->deliverer.joinable()) impl_->deliverer.join();
}

// ---- the feed -----------------------------------------------------------------------

void TriggerEngine::Impl::RunWorker() {
  for (;;) {
    std::deque<ingest::StoredEvent> batch;
    int64_t batch_through = 0;
    {
      std::unique_lock<std::mutex> lock(queue_mu);
      auto ready = [&] { return stopping || !queue.empty() || catch_up_wanted; };
      if (through != stored_through) {
        // A mark not yet written (batches without firings): write it once
        // the feed has been quiet for a second, so a crash long after does
        // not re-evaluate events against a profile that has changed since.
        if (!queue_cv.wait_for(lock, std::chrono::seconds(1), ready)) {
          lock.unlock();
          AdvanceMark(through, /*now=*/true);
          continue;
        }
      } else {
        queue_cv.wait(lock, ready);
      }
      if (!queue.empty()) {
        batch.swap(queue);
        batch_through = queued_through;
      } else if (stopping) {
        break;  // everything queued is done; a catch-up left undone resumes at the next Open
      }
    }
    if (batch.empty()) {
      CatchUp();
      continue;
    }
    std::vector<ingest::StoredEvent> events;
    events.reserve(batch.size());
    for (auto& e : batch) {
      if (e.seq > 0 && e.seq <= replayed_through) continue;  // evaluated when read back
      events.push_back(std::move(e));
    }
    Evaluate(events, std::max(through, batch_through));
    {
      std::lock_guard<std::mutex> lock(queue_mu);
      done += static_cast<int64_t>(batch.size());
    }
    flushed_cv.notify_all();
  }
  AdvanceMark(through, /*now=*/true);
}

// Tracked events read back per page while catching up.
constexpr int kCatchUpPage = 1000;

// Reads the tracked events after the mark back from the tracker until a
// short page. Events published while the feed is not live are left to these
// reads. At the first short page the feed goes live again and one more read
// follows: an event published before that switch was committed before it,
// so the read finds it; one published after is queued (and skipped there
// when the read found it too). An overflow meanwhile turns live off again,
// and the reads go on.
void TriggerEngine::Impl::CatchUp() {
  bool switched = false;
  int64_t read = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(queue_mu);
      if (stopping) return;
    }
    auto page = options.feed->EventsAfter(through, kCatchUpPage);
    if (!page.ok()) {
      spdlog::error("trigger.catch_up_failed after_seq={} error={}", through, page.status().ToString());
      std::unique_lock<std::mutex> lock(queue_mu);
      queue_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; });
      return;  // the worker tries again
    }
    if (!page->empty()) {
      const int64_t last = page->back().seq;
      read += static_cast<int64_t>(page->size());
      replayed += static_cast<int64_t>(page->size());
      replayed_through = std::max(replayed_through, last);
      // Only what some trigger listens to counts as an evaluated event, as on the feed.
      std::shared_ptr<const TriggerIndex> index = Snapshot();
      std::vector<ingest::StoredEvent> wanted;
      for (auto& e : *page) {
        if (!index->by_event.empty() && Interested(*index, e)) wanted.push_back(std::move(e));
      }
      Evaluate(wanted, last);
    }
    if (page->size() == static_cast<size_t>(kCatchUpPage)) continue;
    std::unique_lock<std::mutex> lock(queue_mu);
    if (!switched) {
      live = true;
      switched = true;
      continue;
    }
    if (!live) {
      switched = false;  // the queue overflowed again while reading
      continue;
    }
    catch_up_wanted = false;
    lock.unlock();
    flushed_cv.notify_all();
    // Logged after a restart; after an overflow (possibly many a second
    // while triggers lag behind ingest) trigger.events_dropped says enough.
    if (read > 0 && !caught_up_once) spdlog::info("trigger.caught_up events={} through_seq={}", read, through);
    caught_up_once = true;
    return;
  }
}

void TriggerEngine::Impl::AdvanceMark(int64_t seq, bool now) {
  through = std::max(through, seq);
  mark = through;
  if (through == stored_through) return;
  auto at = std::chrono::steady_clock::now();
  if (!now && at - stored_at < std::chrono::seconds(1)) return;
  const int64_t value = through;
  Status st = options.db->WithTransaction(
      [&](storage::Connection& conn) { return internal::StoreEventsMark(conn, value); });
  if (!st.ok()) {
    spdlog::error("trigger.mark_failed seq={} error={}", value, st.ToString());
    return;
  }
  stored_through = value;
  stored_at = at;
}

void TriggerEngine::Flush() {
  std::unique_lock<std::mutex> lock(impl_->queue_mu);
  impl_->flushed_cv.wait(lock, [&] { return !impl_->catch_up_wanted || impl_->stopping; });
  int64_t target = impl_->queued;
  impl_->flushed_cv.wait(lock, [&] { return impl_->done >= target; });
}

TriggerEngine::Stats TriggerEngine::stats() const {
  return {impl_->events.load(), impl_->matched.load(), impl_->fired.load(), impl_->failed.load(),
          impl_->dropped.load(), impl_->replayed.load(), impl_->mark.load()};
}

// ---- firing -------------------------------------------------------------------------

// Firings written in one transaction at most: one commit for many firings
// when events come fast, without holding the database's writer for long.
constexpr size_t kMaxFiringsPerCommit = 500;

namespace {

// The firing row that claims (trigger, event); 0 when an earlier one did.
Result<int64_t> ClaimFiring(storage::Connection& conn, const CompiledTrigger& t, const Classified& c,
                            customer::CustomerId customer, Timestamp now) {
  std::string label = c.type + (c.name.empty() ? "" : " " + c.name);
  const std::string sql =
      "INSERT INTO trigger_firings (trigger_id, event_key, customer_id, event, outcome, detail, fired_at) "
      "VALUES (?, ?, ?, ?, 'pending', '', ?) ON CONFLICT (trigger_id, event_key) DO NOTHING";
  std::vector<storage::Value> params = {t.trigger.id, c.key, customer, label, now.micros};
  if (conn.dialect() == storage::Dialect::kSqlite) {
    RP_ASSIGN_OR_RETURN(int64_t changed, conn.ExecuteV(sql, params));
    return changed == 0 ? 0 : conn.LastInsertId();
  }
  RP_ASSIGN_OR_RETURN(auto rows, conn.QueryV(sql + " RETURNING id", params));
  return rows.empty() ? 0 : rows.rows[0][0].AsInt();
}

Status SettleFiring(storage::Connection& conn, int64_t firing_id, std::string_view outcome, std::string detail) {
  if (detail.size() > 1000) detail.resize(1000);
  return conn.Execute("UPDATE trigger_firings SET outcome = ?, detail = ? WHERE id = ?",
                      {outcome, detail, firing_id}).status();
}

std::string WebhookBody(const CompiledTrigger& t, const ingest::StoredEvent& e, const Classified& c,
                        int64_t firing_id, Timestamp now, const std::string* decision) {
  json::Writer w;
  w.StartObject()
      .Field("type", decision ? "trigger.decided" : "trigger.fired")
      .Field("firingId", firing_id)
      .Key("trigger")
      .StartObject()
      .Field("id", t.trigger.id)
      .Field("name", t.trigger.definition.name)
      .EndObject()
      .Field("customerId", e.customer_id)
      .Key("event")
      .StartObject()
      .Field("type", c.type);
  if (!c.name.empty()) w.Field("name", c.name);
  w.Field("key", c.key).Field("messageId", e.event.message_id).Field("seq", e.seq);
  w.TimeField("timestamp", e.event.timestamp).Key("properties").Raw(e.event.properties_json).EndObject();
  w.TimeField("firedAt", now);
  if (decision) w.Key("decision").Raw(*decision);
  w.EndObject();
  return w.Take();
}

// A case, alert or webhook firing waiting to be written: its claim and its
// action go into one transaction, shared by the firings of one batch.
struct PendingFiring {
  CompiledPtr trigger;
  const ingest::StoredEvent* event;
  Classified classified;
  std::optional<Result<std::string>> text;  // title or message
  Timestamp at;
};

// What a batch's commit changes in memory.
struct Effects {
  int64_t fired = 0, failed = 0;
  bool queued = false;
  std::vector<std::pair<customer::CustomerId, std::string>> opened;  // (customer, team) of new cases
};

Status WriteFiring(storage::Connection& conn, const PendingFiring& p, Effects* fx) {
  const CompiledTrigger& t = *p.trigger;
  const ingest::StoredEvent& e = *p.event;
  const Classified& c = p.classified;
  const TriggerAction& a = t.trigger.definition.action;
  const Timestamp now = p.at;
  RP_ASSIGN_OR_RETURN(int64_t firing, ClaimFiring(conn, t, c, e.customer_id, now));
  if (firing == 0) return Status::Ok();  // fired before, maybe before a restart
  ++fx->fired;
  if (p.text && !p.text->ok()) {
    ++fx->failed;
    return SettleFiring(conn, firing, "failed", p.text->status().message());
  }
  std::string detail;
  switch (a.type) {
    case ActionType::kCase: {
      Case k;
      k.customer_id = e.customer_id;
      k.kind = a.case_kind;
      k.team = a.team;
      k.title = **p.text;
      k.priority = a.priority;
      k.assignee = a.assignee;
      if (a.due_in_hours > 0) k.due_at = Timestamp{now.micros + a.due_in_hours * 3600 * kMicrosPerSecond};
      k.trigger_id = t.trigger.id;
      k.event_key = c.key;
      k.created_by = "trigger:" + std::to_string(t.trigger.id);
      k.created_at = k.updated_at = now;
      RP_ASSIGN_OR_RETURN(int64_t id, internal::InsertCase(conn, k));
      detail = a.case_kind + " " + std::to_string(id);
      if (k.kind == "case") fx->opened.emplace_back(e.customer_id, a.team);
      break;
    }
    case ActionType::kAlert: {
      Alert al;
      al.customer_id = e.customer_id;
      al.severity = a.severity;
      al.message = **p.text;
      al.trigger_id = t.trigger.id;
      al.event_key = c.key;
      al.created_at = now;
      RP_ASSIGN_OR_RETURN(int64_t id, internal::InsertAlert(conn, al));
      detail = "alert " + std::to_string(id);
      break;
    }
    case ActionType::kWebhook: {
      std::string body = WebhookBody(t, e, c, firing, now, nullptr);
      RP_ASSIGN_OR_RETURN(int64_t id,
                          internal::InsertDelivery(conn, t.trigger.id, firing, a.url, a.secret, body, now));
      detail = "delivery " + std::to_string(id);
      fx->queued = true;
      break;
    }
    case ActionType::kDecide: return Status::Internal("decide firings are not batched");
  }
  return SettleFiring(conn, firing, "done", detail);
}

void Apply(TriggerEngine::Impl& s, const Effects& fx) {
  s.fired += fx.fired;
  s.failed += fx.failed;
  for (const auto& [customer, team] : fx.opened) s.CountOpen(customer, team, +1);
  if (fx.queued) s.PokeDeliverer();
}

// Writes the batch in one transaction (one commit for many firings), with
// the high-water mark when one is given; when that fails, each firing on its
// own, so one bad row costs only itself, then the mark.
void WriteFirings(TriggerEngine::Impl& s, std::vector<PendingFiring>& batch,
                  std::optional<int64_t> mark = std::nullopt) {
  if (batch.empty()) return;
  const bool with_mark = mark && *mark > s.stored_through;
  Effects fx;
  Status all = s.options.db->WithTransaction([&](storage::Connection& conn) -> Status {
    fx = Effects{};
    for (const PendingFiring& p : batch) RP_RETURN_IF_ERROR(WriteFiring(conn, p, &fx));
    if (with_mark) RP_RETURN_IF_ERROR(internal::StoreEventsMark(conn, *mark));
    return Status::Ok();
  });
  if (all.ok()) {
    Apply(s, fx);
    batch.clear();
    if (with_mark) {
      s.stored_through = *mark;
      s.stored_at = std::chrono::steady_clock::now();
    }
    return;
  }
  for (const PendingFiring& p : batch) {
    Effects one;
    Status st = s.options.db->WithTransaction([&](storage::Connection& conn) -> Status {
      one = Effects{};
      return WriteFiring(conn, p, &one);
    });
    if (st.ok()) {
      Apply(s, one);
    } else {
      ++s.failed;
      spdlog::error("trigger.fire_failed trigger={} event={} error={}", p.trigger->trigger.id, p.classified.key,
                    st.ToString());
    }
  }
  batch.clear();
  if (with_mark) s.AdvanceMark(*mark, /*now=*/true);
}

// A decide firing, at once: it calls out, so it is not batched.
Status FireDecide(TriggerEngine::Impl& s, const CompiledTrigger& t, const ingest::StoredEvent& e,
                  const Classified& c) {
  const TriggerAction& a = t.trigger.definition.action;
  const Timestamp now = s.clock->Now();
  // Decide and deliver: the firing is committed before the decision engine
  // is asked, so a crash in between leaves a pending firing, not a repeat.
  int64_t firing = 0;
  RP_RETURN_IF_ERROR(s.options.db->WithTransaction([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(firing, ClaimFiring(conn, t, c, e.customer_id, now));
    return Status::Ok();
  }));
  if (firing == 0) return Status::Ok();
  ++s.fired;
  auto settle = [&](std::string_view outcome, std::string detail) {
    if (outcome == "failed") ++s.failed;
    return s.options.db->WithTransaction(
        [&](storage::Connection& conn) { return SettleFiring(conn, firing, outcome, detail); });
  };
  if (!s.options.decide) return settle("failed", "no decision engine is wired to this server");
  Result<std::string> decision = s.options.decide(e.customer_id, a.decision_point, a.channel);
  if (!decision.ok()) return settle("failed", "decide: " + decision.status().ToString());
  if (!json::Parse(*decision).ok()) return settle("failed", "decide: the answer is not JSON");
  if (!a.url.empty()) {
    std::string body = WebhookBody(t, e, c, firing, now, &*decision);
    RP_RETURN_IF_ERROR(s.options.db->WithTransaction([&](storage::Connection& conn) -> Status {
      RP_ASSIGN_OR_RETURN(int64_t id,
                          internal::InsertDelivery(conn, t.trigger.id, firing, a.url, a.secret, body, now));
      return SettleFiring(conn, firing, "done", "delivery " + std::to_string(id));
    }));
    s.PokeDeliverer();
    return Status::Ok();
  }
  customer::Interaction i;
  i.customer_id = e.customer_id;
  i.source = "rapport-triggers";
  i.source_key = "firing-" + std::to_string(firing);
  i.occurred_at = now;
  i.agent = "trigger:" + std::to_string(t.trigger.id);
  i.type = "decision";
  i.purpose = a.decision_point;
  i.channel = a.channel;
  i.direction = "outbound";
  i.reason = t.trigger.definition.name;
  i.properties_json = *decision;
  auto recorded = s.options.customers->AddInteraction(i);
  if (!recorded.ok()) return settle("failed", "recording the interaction: " + recorded.status().ToString());
  return settle("done", "interaction " + std::to_string(recorded->id));
}

}  // namespace

void TriggerEngine::Process(const std::vector<ingest::StoredEvent>& events) { impl_->Evaluate(events, std::nullopt); }

void TriggerEngine::Impl::Evaluate(const std::vector<ingest::StoredEvent>& events, std::optional<int64_t> mark) {
  Impl& s = *this;
  std::shared_ptr<const TriggerIndex> index = s.Snapshot();
  std::vector<PendingFiring> pending;
  for (const ingest::StoredEvent& e : events) {
    ++s.events;
    if (e.customer_id == 0) continue;
    auto [type, name] = TypeAndName(e);
    const std::vector<CompiledPtr>* lists[2] = {index->Find(type + "\n"),
                                                name.empty() ? nullptr : index->Find(type + "\n" + name)};
    if (lists[0] == nullptr && lists[1] == nullptr) continue;
    feel::Value properties = internal::FeelFromJsonText(e.event.properties_json);
    Classified c = Classify(e, &properties);
    if (c.key.empty()) {
      spdlog::warn("trigger.unkeyed_event type={} customer={}", c.type, e.customer_id);
      continue;
    }
    feel::Scope event_scope;
    event_scope.Set("event", EventContext(e, c, std::move(properties)));
    // A tracked event's own effect (an order's transaction) is in the
    // operational store before the feed publishes it, but the profile
    // store's updater applies it on its own thread: re-apply the customer
    // here, once per event, before the first read of a column.
    bool refreshed = !s.options.refresh_profile || e.seq == 0;
    for (const auto* list : lists) {
      if (list == nullptr) continue;
      for (const CompiledPtr& t : *list) {
        feel::EvalContext ctx(s.clock);
        if (t->where) {
          feel::Value v = t->where->Evaluate(event_scope, ctx);
          if (!v.is(feel::Type::kBoolean) || !v.boolean()) continue;
        }
        feel::Scope scope(&event_scope);
        if (!refreshed && !t->columns.empty()) {
          refreshed = true;
          Status applied = s.options.profile->Apply(e.customer_id);
          if (!applied.ok() && !s.refresh_failure_logged.exchange(true)) {
            spdlog::warn("trigger.profile_refresh_failed customer={} error={}", e.customer_id, applied.ToString());
          }
        }
        for (const auto& [column, column_type] : t->columns) {
          auto text = s.options.profile->ValueOf(e.customer_id, column);
          scope.Set(column, text.ok() ? ColumnValue(*text, column_type) : feel::Value::Null());
        }
        if (t->condition) {
          feel::Value v = t->condition->Evaluate(scope, ctx);
          if (!v.is(feel::Type::kBoolean) || !v.boolean()) continue;
        }
        ++s.matched;
        const TriggerAction& a = t->trigger.definition.action;
        if (a.type == ActionType::kDecide) {
          WriteFirings(s, pending);  // keep firings in event order
          Status st = FireDecide(s, *t, e, c);
          if (!st.ok()) {
            ++s.failed;
            spdlog::error("trigger.fire_failed trigger={} event={} error={}", t->trigger.id, c.key, st.ToString());
          }
          continue;
        }
        PendingFiring p{t, &e, c, std::nullopt, s.clock->Now()};
        if (t->text) {
          p.text = TextOf(*t->text, scope, s.clock, a.type == ActionType::kCase ? "the title" : "the message");
        }
        pending.push_back(std::move(p));
        if (pending.size() >= kMaxFiringsPerCommit) WriteFirings(s, pending);
      }
    }
  }
  if (!mark) {
    WriteFirings(s, pending);
    return;
  }
  if (pending.empty()) {
    AdvanceMark(*mark, /*now=*/false);
    return;
  }
  WriteFirings(s, pending, mark);  // the mark commits with the firings
  through = std::max(through, *mark);
  this->mark = through;
}

}  // namespace rapport::decision
