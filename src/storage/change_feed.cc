// The change feed: appending in the writer's transaction, and subscribers
// reading from their durable marks (see change_feed.h for the design).

#include "storage/change_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "storage/internal/commit_signal.h"

namespace rapport::storage {

// ---- the in-process wake-up ---------------------------------------------------

namespace internal {
namespace {

struct CommitListeners {
  std::mutex mu;
  int64_t next = 0;                                      // guarded by mu
  std::map<int64_t, std::function<void()>> listeners;   // guarded by mu
};

CommitListeners& Listeners() {
  static CommitListeners* l = new CommitListeners();  // never destroyed: commits may run at exit
  return *l;
}

}  // namespace

void SignalChangesCommitted() {
  auto& l = Listeners();
  std::lock_guard lock(l.mu);
  for (auto& [h, fn] : l.listeners) fn();
}

int64_t AddCommitListener(std::function<void()> listener) {
  auto& l = Listeners();
  std::lock_guard lock(l.mu);
  int64_t h = ++l.next;
  l.listeners.emplace(h, std::move(listener));
  return h;
}

void RemoveCommitListener(int64_t handle) {
  auto& l = Listeners();
  std::lock_guard lock(l.mu);
  l.listeners.erase(handle);
}

}  // namespace internal

// ---- schema and appending -------------------------------------------------------

namespace {

// {SEQ}: SQLite's rowid alias is the cheapest key it has for an append-only
// table; PostgreSQL takes the values the counter hands out.
constexpr const char* kV1 = R"sql(
CREATE TABLE changes (
  seq {SEQ},
  committed_at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  customer_id BIGINT NOT NULL,
  entity TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  data TEXT NOT NULL
);
-- The single-row counter sequence numbers come from; a writing transaction
-- holds its row lock until it ends, so sequences are gap-free and in commit
-- order (change_feed.h).
CREATE TABLE change_feed_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO change_feed_head (id, seq) VALUES (1, 0);
-- Each subscriber's high-water mark: every change up to it is processed.
CREATE TABLE change_subscribers (
  name TEXT PRIMARY KEY,
  mark BIGINT NOT NULL,
  seen_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql";

constexpr size_t kInsertChunk = 32;

// "INSERT INTO changes ... VALUES (...), ..." with n rows.
const std::string& InsertSql(size_t n) {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> v(kInsertChunk + 1);
    for (size_t k = 1; k <= kInsertChunk; ++k) {
      std::string s = "INSERT INTO changes (seq, committed_at, kind, customer_id, entity, entity_key, data) VALUES ";
      for (size_t i = 0; i < k; ++i) s += i ? ",(?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?)";
      v[k] = std::move(s);
    }
    return v;
  }();
  return sql[n];
}

constexpr const char* kChangeColumns = "seq, committed_at, kind, customer_id, entity, entity_key, data";

Change ChangeFromRow(const Row& r) {
  Change c;
  c.seq = r[0].AsInt();
  c.committed_at = Timestamp{r[1].AsInt()};
  c.kind = r[2].AsText();
  c.customer_id = r[3].AsInt();
  c.entity = r[4].AsText();
  c.key = r[5].AsText();
  c.data = r[6].AsText();
  return c;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 100 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
  });
}

}  // namespace

Status MigrateChangeFeed(Database& db) {
  std::string v1 = kV1;
  size_t at = v1.find("{SEQ}");
  v1.replace(at, 5, db.dialect() == Dialect::kSqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY");
  return Migrate(db, "change_feed", {{1, "the change feed, its sequence counter and subscribers' marks", v1}});
}

Status AppendChanges(Connection& conn, const std::vector<ChangeRecord>& records, Timestamp at) {
  if (records.empty()) return Status::Ok();
  RP_ASSIGN_OR_RETURN(QueryResult head,
                      conn.Query("UPDATE change_feed_head SET seq = seq + ? WHERE id = 1 RETURNING seq",
                                 {static_cast<int64_t>(records.size())}));
  if (head.empty()) return Status::Internal("the change feed's counter row is missing");
  int64_t seq = head.rows[0][0].AsInt() - static_cast<int64_t>(records.size());
  std::vector<Value> params;
  for (size_t begin = 0; begin < records.size(); begin += kInsertChunk) {
    size_t n = std::min(kInsertChunk, records.size() - begin);
    params.clear();
    params.reserve(n * 7);
    for (size_t i = begin; i < begin + n; ++i) {
      const ChangeRecord& r = records[i];
      params.emplace_back(++seq);
      params.emplace_back(at.micros);
      params.emplace_back(r.kind);
      params.emplace_back(r.customer_id);
      params.emplace_back(r.entity);
      params.emplace_back(r.key);
      params.emplace_back(r.data.empty() ? std::string("{}") : r.data);
    }
    RP_RETURN_IF_ERROR(conn.ExecuteV(InsertSql(n), params).status());
  }
  conn.NoteChangesAppended();
  return Status::Ok();
}

// ---- the feed -------------------------------------------------------------------

namespace {

Result<int64_t> HeadOn(Connection& c) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT seq FROM change_feed_head WHERE id = 1"));
  if (r.empty()) return Status::Internal("the change feed's counter row is missing");
  return r.rows[0][0].AsInt();
}

Result<std::vector<Change>> ReadOn(Connection& c, int64_t after, int64_t limit) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(std::string("SELECT ") + kChangeColumns +
                                             " FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                                             {after, limit}));
  std::vector<Change> out;
  out.reserve(r.rows.size());
  for (const Row& row : r.rows) out.push_back(ChangeFromRow(row));
  return out;
}

}  // namespace

struct ChangeFeed::Impl {
  struct Subscriber {
    std::string name;
    ChangeHandler handler;
    SubscribeOptions options;
    std::thread thread;
    bool stop = false;  // guarded by Impl::mu
    // Guarded by Impl::mu.
    int64_t mark = 0;
    SubscriberStatus status;
  };

  Database* db = nullptr;
  ChangeFeedOptions options;
  const Clock* clock = nullptr;
  int64_t listener = 0;

  mutable std::mutex mu;
  std::condition_variable wake;  // a commit, a notification, a stop
  std::condition_variable acked;
  uint64_t generation = 0;  // guarded by mu; bumped by every wake-up
  bool stopping = false;    // guarded by mu
  std::map<std::string, std::unique_ptr<Subscriber>, std::less<>> subscribers;  // guarded by mu
  std::thread feed_thread;

  void Wake() {
    {
      std::lock_guard lock(mu);
      ++generation;
    }
    wake.notify_all();
  }

  // Sleeps up to d unless the subscriber or the feed stops; false when stopped.
  bool SleepFor(Subscriber& s, std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return !wake.wait_for(lock, d, [&] { return stopping || s.stop; });
  }

  Status SaveMark(const std::string& name, int64_t mark, bool advance) {
    int64_t now = clock->Now().micros;
    return db->WithTransaction([&](Connection& c) -> Status {
      if (advance) {
        return c.Execute("UPDATE change_subscribers SET mark = ?, seen_at = ?, updated_at = ? WHERE name = ?",
                         {mark, now, now, name}).status();
      }
      return c.Execute("UPDATE change_subscribers SET seen_at = ? WHERE name = ?", {now, name}).status();
    });
  }

  void Fail(Subscriber& s, const std::string& what, int64_t seq, const Status& st, std::chrono::milliseconds* backoff) {
    {
      std::lock_guard lock(mu);
      ++s.status.failures;
      s.status.last_error = st.ToString();
    }
    spdlog::warn("feed.subscriber_failed name={} stage={} seq={} backoff_ms={} error={}", s.name, what, seq,
                 backoff->count(), st.ToString());
    SleepFor(s, *backoff);
    *backoff = std::min(*backoff * 2, s.options.max_backoff);
  }

  void Run(Subscriber& s) {
    std::chrono::milliseconds backoff = s.options.initial_backoff;
    auto last_seen = std::chrono::steady_clock::now();
    int64_t stored_mark;
    {
      std::lock_guard lock(mu);
      stored_mark = s.mark;
    }
    // Stores mark m (default: the in-memory one) when it moved; false when
    // that failed.
    auto store_mark = [&](int64_t m = -1) {
      if (m < 0) {
        std::lock_guard lock(mu);
        m = s.mark;
      }
      if (m == stored_mark) return true;
      Status saved = SaveMark(s.name, m, true);
      if (!saved.ok()) {
        spdlog::warn("feed.mark_save_failed name={} mark={} error={}", s.name, m, saved.ToString());
        return false;
      }
      stored_mark = m;
      last_seen = std::chrono::steady_clock::now();
      return true;
    };
    struct StoreOnExit {
      decltype(store_mark)& f;
      ~StoreOnExit() { f(-1); }
    } store_on_exit{store_mark};
    const int64_t limit = static_cast<int64_t>(std::max<size_t>(1, std::min<size_t>(s.options.batch_size, 10000)));
    for (;;) {
      uint64_t gen;
      int64_t mark;
      {
        std::lock_guard lock(mu);
        if (stopping || s.stop) return;
        gen = generation;
        mark = s.mark;
      }
      // The head first: every change up to it is committed, so if none of
      // them after the mark can be read afterwards, retention deleted them.
      int64_t head = 0;
      std::vector<Change> batch;
      Status read = db->WithConnection([&](Connection& c) -> Status {
        RP_ASSIGN_OR_RETURN(head, HeadOn(c));
        RP_ASSIGN_OR_RETURN(batch, ReadOn(c, mark, limit));
        return Status::Ok();
      });
      if (!read.ok()) {
        Fail(s, "read", mark + 1, read, &backoff);
        continue;
      }
      bool behind = batch.empty() ? head > mark : batch.front().seq != mark + 1;
      if (behind) {
        spdlog::warn("feed.subscriber_behind_retention name={} mark={} oldest={} action={}", s.name, mark,
                     batch.empty() ? head : batch.front().seq, s.options.rebuild ? "rebuild" : "skip");
        if (s.options.rebuild) {
          Result<int64_t> h = Head();
          Status rebuilt = h.ok() ? s.options.rebuild() : h.status();
          if (!rebuilt.ok()) {
            Fail(s, "rebuild", mark + 1, rebuilt, &backoff);
            continue;
          }
          std::lock_guard lock(mu);
          s.mark = std::max(s.mark, *h);
          ++s.status.rebuilds;
          s.status.mark = s.mark;
        } else {
          std::lock_guard lock(mu);
          s.mark = batch.empty() ? head : batch.front().seq - 1;
          s.status.mark = s.mark;
        }
        int64_t m;
        {
          std::lock_guard lock(mu);
          m = s.mark;
        }
        if (SaveMark(s.name, m, true).ok()) stored_mark = m;
        acked.notify_all();
        continue;
      }
      if (batch.empty()) {
        store_mark(-1);
        // Idle: say so now and then, so retention knows this subscriber lives.
        auto now = std::chrono::steady_clock::now();
        if (now - last_seen >= options.retention_interval) {
          if (SaveMark(s.name, mark, false).ok()) last_seen = now;
        }
        std::unique_lock lock(mu);
        wake.wait_for(lock, options.poll_interval, [&] { return stopping || s.stop || generation != gen; });
        continue;
      }
      Status handled;
      try {
        handled = s.handler(batch);
      } catch (const std::exception& e) {
        handled = Status::Internal(std::string("subscriber threw: ") + e.what());
      }
      if (!handled.ok()) {
        Fail(s, "handle", batch.front().seq, handled, &backoff);
        continue;
      }
      backoff = s.options.initial_backoff;
      int64_t new_mark = batch.back().seq;
      // Acknowledged only now, after the handler: a crash before the mark
      // is stored re-delivers the batch. Stored before it is shown, so a
      // mark WaitUntil saw is in the database when ack_interval is 0.
      if (std::chrono::steady_clock::now() - last_seen >= s.options.ack_interval) store_mark(new_mark);
      {
        std::lock_guard lock(mu);
        s.mark = new_mark;
        s.status.mark = new_mark;
        s.status.delivered += static_cast<int64_t>(batch.size());
      }
      acked.notify_all();
    }
  }

  Result<int64_t> Head() {
    int64_t head = 0;
    RP_RETURN_IF_ERROR(db->WithConnection([&](Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(head, HeadOn(c));
      return Status::Ok();
    }));
    return head;
  }

  Result<int64_t> ApplyRetention() {
    if (options.retention.count() <= 0) return int64_t{0};
    int64_t now = clock->Now().micros;
    int64_t cutoff = now - std::chrono::duration_cast<std::chrono::microseconds>(options.retention).count();
    int64_t deleted = 0;
    RP_RETURN_IF_ERROR(db->WithConnection([&](Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(QueryResult live, c.Query("SELECT COUNT(*), MIN(mark) FROM change_subscribers "
                                                    "WHERE seen_at >= ?", {cutoff}));
      int64_t bound = std::numeric_limits<int64_t>::max();
      if (!live.empty() && live.rows[0][0].AsInt() > 0) bound = live.rows[0][1].AsInt();
      // Oldest first, a page at a time, up to the first change still young.
      constexpr int64_t kPage = 10000;
      for (;;) {
        RP_ASSIGN_OR_RETURN(QueryResult page, c.Query("SELECT seq, committed_at FROM changes WHERE seq <= ? "
                                                      "ORDER BY seq LIMIT ?", {bound, kPage}));
        int64_t upto = 0;
        bool young = false;
        for (const Row& r : page.rows) {
          if (r[1].AsInt() >= cutoff) {
            young = true;
            break;
          }
          upto = r[0].AsInt();
        }
        if (upto == 0) break;
        int64_t n = 0;
        RP_RETURN_IF_ERROR(InTransaction(c, [&]() -> Status {
          RP_ASSIGN_OR_RETURN(n, c.Execute("DELETE FROM changes WHERE seq <= ?", {upto}));
          return Status::Ok();
        }));
        deleted += n;
        if (young || static_cast<int64_t>(page.rows.size()) < kPage) break;
      }
      return Status::Ok();
    }));
    if (deleted > 0) spdlog::info("feed.retention deleted={}", deleted);
    return deleted;
  }

  void RunFeedThread() {
    std::unique_ptr<Connection> listen;
    auto next_retention = std::chrono::steady_clock::now() + options.retention_interval;
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stopping) return;
      }
      auto slice = std::min<std::chrono::milliseconds>(options.poll_interval, std::chrono::milliseconds(200));
      bool woken = false;
      if (db->dialect() == Dialect::kPostgres) {
        if (!listen) {
          auto c = db->Connect();
          if (c.ok() && (*c)->Listen(kChangeChannel).ok()) {
            listen = std::move(*c);
            woken = true;  // whatever was committed while nobody listened
          } else {
            spdlog::warn("feed.listen_failed error={}", c.ok() ? "LISTEN failed" : c.status().ToString());
          }
        }
        if (listen) {
          auto got = listen->WaitForNotification(slice);
          if (!got.ok()) {
            spdlog::warn("feed.listen_lost error={}", got.status().ToString());
            listen.reset();
          } else {
            woken = *got;
          }
        } else {
          std::unique_lock lock(mu);
          wake.wait_for(lock, slice, [&] { return stopping; });
        }
      } else {
        std::unique_lock lock(mu);
        wake.wait_for(lock, slice, [&] { return stopping; });
      }
      if (woken) Wake();
      if (std::chrono::steady_clock::now() >= next_retention) {
        auto r = ApplyRetention();
        if (!r.ok()) spdlog::warn("feed.retention_failed error={}", r.status().ToString());
        next_retention = std::chrono::steady_clock::now() + options.retention_interval;
      }
    }
  }
};

ChangeFeed::ChangeFeed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::Open(Database* db, ChangeFeedOptions options) {
  RP_RETURN_IF_ERROR(MigrateChangeFeed(*db));
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->options = options;
  if (impl->options.poll_interval.count() <= 0) impl->options.poll_interval = std::chrono::milliseconds(500);
  if (impl->options.retention_interval.count() <= 0) impl->options.retention_interval = std::chrono::seconds(60);
  impl->clock = options.clock ? options.clock : SystemClock::Default();
  Impl* raw = impl.get();
  impl->listener = internal::AddCommitListener([raw] { raw->Wake(); });
  impl->feed_thread = std::thread([raw] { raw->RunFeedThread(); });
  return std::unique_ptr<ChangeFeed>(new ChangeFeed(std::move(impl)));
}

ChangeFeed::~ChangeFeed() {
  internal::RemoveCommitListener(impl_->listener);
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  for (auto& [name, s] : impl_->subscribers) {
    if (s->thread.joinable()) s->thread.join();
  }
  if (impl_->feed_thread.joinable()) impl_->feed_thread.join();
}

Status ChangeFeed::Subscribe(std::string name, ChangeHandler handler, SubscribeOptions options) {
  if (!ValidName(name)) {
    return Status::InvalidArgument("a subscriber name is [a-z][a-z0-9_.-]*, got '" + name + "'", "name");
  }
  if (!handler) return Status::InvalidArgument("a subscriber needs a handler", "handler");
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->subscribers.count(name)) return Status::Conflict("subscriber " + name + " is subscribed already");
  }
  int64_t now = impl_->clock->Now().micros;
  int64_t mark = 0;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query("SELECT mark FROM change_subscribers WHERE name = ?", {name}));
    if (r.empty()) {
      if (options.new_starts_at_head) {
        RP_ASSIGN_OR_RETURN(mark, HeadOn(c));
      }
      RP_RETURN_IF_ERROR(c.Execute("INSERT INTO change_subscribers (name, mark, seen_at, updated_at) "
                                   "VALUES (?, ?, ?, ?)", {name, mark, now, now}).status());
    } else {
      mark = r.rows[0][0].AsInt();
    }
    if (options.start_after && *options.start_after > mark) {
      mark = *options.start_after;
      RP_RETURN_IF_ERROR(c.Execute("UPDATE change_subscribers SET mark = ?, seen_at = ?, updated_at = ? "
                                   "WHERE name = ?", {mark, now, now, name}).status());
    } else {
      RP_RETURN_IF_ERROR(c.Execute("UPDATE change_subscribers SET seen_at = ? WHERE name = ?", {now, name}).status());
    }
    return Status::Ok();
  }));
  auto s = std::make_unique<Impl::Subscriber>();
  s->name = name;
  s->handler = std::move(handler);
  s->options = std::move(options);
  if (s->options.initial_backoff.count() <= 0) s->options.initial_backoff = std::chrono::milliseconds(1);
  if (s->options.max_backoff < s->options.initial_backoff) s->options.max_backoff = s->options.initial_backoff;
  s->mark = mark;
  s->status.name = name;
  s->status.mark = mark;
  Impl::Subscriber* raw = s.get();
  std::lock_guard lock(impl_->mu);
  if (impl_->subscribers.count(name)) return Status::Conflict("subscriber " + name + " is subscribed already");
  raw->thread = std::thread([impl = impl_.get(), raw] { impl->Run(*raw); });
  impl_->subscribers.emplace(name, std::move(s));
  spdlog::info("feed.subscribed name={} mark={}", name, mark);
  return Status::Ok();
}

void ChangeFeed::Unsubscribe(std::string_view name) {
  std::unique_ptr<Impl::Subscriber> s;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->subscribers.find(name);
    if (it == impl_->subscribers.end()) return;
    it->second->stop = true;
    s = std::move(it->second);
    impl_->subscribers.erase(it);
  }
  impl_->wake.notify_all();
  impl_->acked.notify_all();
  if (s->thread.joinable()) s->thread.join();
}

Result<int64_t> ChangeFeed::Head() { return impl_->Head(); }

Result<std::vector<Change>> ChangeFeed::Read(int64_t after_seq, int limit) {
  if (limit < 1 || limit > 10000) return Status::InvalidArgument("limit must be 1..10000", "limit");
  std::vector<Change> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(out, ReadOn(c, after_seq, limit));
    return Status::Ok();
  }));
  return out;
}

Status ChangeFeed::WaitUntil(std::string_view name, int64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto it = impl_->subscribers.find(name);
    if (it == impl_->subscribers.end()) return Status::NotFound("no subscriber " + std::string(name), "name");
    if (it->second->mark >= seq) return Status::Ok();
    if (impl_->acked.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = impl_->subscribers.find(name);
      if (it != impl_->subscribers.end() && it->second->mark >= seq) return Status::Ok();
      return Status::Unavailable("subscriber " + std::string(name) + " has not reached change " +
                                 std::to_string(seq) + " yet");
    }
  }
}

Status ChangeFeed::CatchUp(std::string_view name, std::chrono::milliseconds timeout) {
  RP_ASSIGN_OR_RETURN(int64_t head, Head());
  impl_->Wake();
  return WaitUntil(name, head, timeout);
}

Result<int64_t> ChangeFeed::ApplyRetention() { return impl_->ApplyRetention(); }

std::vector<SubscriberStatus> ChangeFeed::Subscribers() const {
  std::lock_guard lock(impl_->mu);
  std::vector<SubscriberStatus> out;
  for (const auto& [name, s] : impl_->subscribers) out.push_back(s->status);
  return out;
}

void ChangeFeed::Wake() { impl_->Wake(); }

}  // namespace rapport::storage
