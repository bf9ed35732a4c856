// The durable webhook outbox: a firing's message is a row written in the
// firing's transaction; a delivery thread POSTs due rows, signed at each
// attempt, and retries 5xx, 408, 429 and transport failures with
// exponential backoff. Every attempt is logged in trigger_webhook_attempts.
// A delivery survives a restart because it is a row, not a queue entry.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/json.h"
#include "common/text.h"
#include "decision/internal/trigger_engine_impl.h"

namespace rapport::decision {

namespace internal {

Result<int64_t> InsertDelivery(storage::Connection& conn, int64_t trigger_id, int64_t firing_id,
                               const std::string& url, const std::string& secret, const std::string& body,
                               Timestamp now) {
  return InsertReturningId(conn,
                           "INSERT INTO trigger_webhook_outbox (trigger_id, firing_id, url, secret, body, status, "
                           "attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
                           {trigger_id, firing_id, url, secret, body, now.micros, now.micros});
}

}  // namespace internal

namespace {

bool Retryable(int http_status) { return http_status >= 500 || http_status == 408 || http_status == 429; }

int64_t BackoffMicros(const TriggerEngineOptions& o, int attempts) {
  int64_t base = o.retry_base.count() * kMicrosPerSecond;
  int64_t max = o.retry_max.count() * kMicrosPerSecond;
  int64_t wait = base;
  for (int i = 1; i < attempts && wait < max; ++i) wait *= 2;
  return std::min(wait, max);
}

}  // namespace

int TriggerEngine::DeliverDue() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> one_at_a_time(s.deliver_mu);
  struct Due {
    int64_t id;
    std::string url, secret, body;
    int attempts;
  };
  std::vector<Due> due;
  const Timestamp now = s.clock->Now();
  Status read = s.options.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT id, url, secret, body, attempts FROM trigger_webhook_outbox "
                                              "WHERE status = 'pending' AND next_attempt_at <= ? "
                                              "ORDER BY next_attempt_at, id LIMIT 100",
                                              {now.micros}));
    for (const auto& r : rows.rows) {
      due.push_back({r[0].AsInt(), r[1].AsText(), r[2].AsText(), r[3].AsText(), static_cast<int>(r[4].AsInt())});
    }
    return Status::Ok();
  });
  if (!read.ok()) {
    spdlog::error("webhook.outbox_read_failed error={}", read.ToString());
    return 0;
  }
  for (const Due& d : due) {
    const Timestamp at = s.clock->Now();
    HttpRequest req;
    req.url = d.url;
    req.body = d.body;
    req.timeout = s.options.webhook_timeout;
    req.headers = {{"Content-Type", "application/json"},
                   {std::string(kSignatureHeader), SignWebhook(d.secret, at, d.body)},
                   {"Rapport-Delivery", std::to_string(d.id)},
                   {"Rapport-Attempt", std::to_string(d.attempts + 1)}};
    auto started = std::chrono::steady_clock::now();
    Result<HttpResponse> res = s.http->Post(req);
    int64_t micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    const int attempts = d.attempts + 1;
    int http_status = res.ok() ? res->status : 0;
    std::string error = res.ok() ? "" : res.status().message();
    // Only an excerpt of the answer is kept: the log says why a receiver
    // refused, it is not a window onto whatever answered.
    std::string response = res.ok() ? text::Excerpt(res->body, kResponseExcerptBytes) : "";
    // A refused URL (its form, or an address the outbound policy denies)
    // will not get better by waiting: the delivery fails at once.
    const bool refused = !res.ok() && (res.status().code() == StatusCode::kInvalidArgument ||
                                       res.status().code() == StatusCode::kPermissionDenied);
    std::string status;
    int64_t next = at.micros;
    if (res.ok() && http_status >= 200 && http_status < 300) {
      status = "delivered";
    } else if ((!res.ok() || Retryable(http_status)) && attempts < s.options.max_attempts && !refused) {
      status = "pending";
      next = at.micros + BackoffMicros(s.options, attempts);
      if (error.empty()) error = "HTTP " + std::to_string(http_status);
    } else {
      status = "failed";
      if (error.empty()) error = "HTTP " + std::to_string(http_status);
    }
    Status wrote = s.options.db->WithTransaction([&](storage::Connection& conn) -> Status {
      RP_RETURN_IF_ERROR(conn.Execute("INSERT INTO trigger_webhook_attempts (delivery_id, attempted_at, http_status, "
                                      "error, response, duration_micros) VALUES (?, ?, ?, ?, ?, ?)",
                                      {d.id, at.micros, http_status, error, response, micros})
                             .status());
      return conn.Execute("UPDATE trigger_webhook_outbox SET status = ?, attempts = ?, next_attempt_at = ?, "
                          "last_http_status = ?, last_error = ?, delivered_at = ? WHERE id = ?",
                          {status, attempts, next, http_status, status == "delivered" ? "" : error,
                           status == "delivered" ? storage::Value(at.micros) : storage::Value(), d.id})
          .status();
    });
    if (!wrote.ok()) spdlog::error("webhook.log_failed delivery={} error={}", d.id, wrote.ToString());
    if (status == "failed") spdlog::warn("webhook.gave_up delivery={} attempts={} error={}", d.id, attempts, error);
  }
  return static_cast<int>(due.size());
}

void TriggerEngine::Impl::PokeDeliverer() {
  {
    std::lock_guard<std::mutex> lock(outbox_mu);
    outbox_poked = true;
  }
  outbox_cv.notify_all();
}

void TriggerEngine::Impl::RunDeliverer(TriggerEngine* engine) {
  for (;;) {
    engine->DeliverDue();
    // Sleep until the earliest pending attempt is due (at most a second, so
    // a clock that jumps is noticed), or until a new message is queued; with
    // nothing pending, until a message is queued (or a minute, to notice rows
    // another process wrote).
    int64_t wait_micros = 60 * kMicrosPerSecond;
    (void)options.db->WithConnection([&](storage::Connection& conn) -> Status {
      RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT MIN(next_attempt_at) FROM trigger_webhook_outbox "
                                                "WHERE status = 'pending'"));
      if (!rows.empty() && !rows.rows[0][0].is_null()) {
        wait_micros = std::clamp<int64_t>(rows.rows[0][0].AsInt() - clock->Now().micros, 0, kMicrosPerSecond);
      }
      return Status::Ok();
    });
    std::unique_lock<std::mutex> lock(outbox_mu);
    outbox_cv.wait_for(lock, std::chrono::microseconds(wait_micros), [&] { return outbox_stopping || outbox_poked; });
    if (outbox_stopping) return;
    outbox_poked = false;
  }
}

Result<customer::Page<Delivery>> TriggerEngine::Deliveries(int64_t trigger_id, int64_t after_id, int limit) const {
  if (limit < 1 || limit > 500) return Status::InvalidArgument("expected an integer between 1 and 500", "limit");
  customer::Page<Delivery> page;
  RP_RETURN_IF_ERROR(impl_->options.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT id, trigger_id, url, body, status, attempts, last_http_status, "
                                              "last_error, created_at, next_attempt_at, delivered_at "
                                              "FROM trigger_webhook_outbox WHERE trigger_id = ? AND id < ? "
                                              "ORDER BY id DESC LIMIT ?",
                                              {trigger_id, after_id > 0 ? after_id : INT64_MAX, limit + 1}));
    for (const auto& r : rows.rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_cursor = std::to_string(page.items.back().id);
        break;
      }
      Delivery d;
      d.id = r[0].AsInt();
      d.trigger_id = r[1].AsInt();
      d.url = r[2].AsText();
      d.body = r[3].AsText();
      d.status = r[4].AsText();
      d.attempts = static_cast<int>(r[5].AsInt());
      d.last_http_status = static_cast<int>(r[6].AsInt());
      d.last_error = r[7].AsText();
      d.created_at = {r[8].AsInt()};
      d.next_attempt_at = {r[9].AsInt()};
      if (!r[10].is_null()) d.delivered_at = Timestamp{r[10].AsInt()};
      page.items.push_back(std::move(d));
    }
    for (Delivery& d : page.items) {
      RP_ASSIGN_OR_RETURN(auto log, conn.Query("SELECT attempted_at, http_status, error, response, duration_micros "
                                               "FROM trigger_webhook_attempts WHERE delivery_id = ? "
                                               "ORDER BY id DESC LIMIT 10",
                                               {d.id}));
      for (const auto& r : log.rows) {
        // Rows written before the excerpt limit held up to 1,000 bytes.
        d.log.push_back(DeliveryAttempt{Timestamp{r[0].AsInt()}, static_cast<int>(r[1].AsInt()), r[2].AsText(),
                                        text::Excerpt(r[3].AsText(), kResponseExcerptBytes), r[4].AsInt()});
      }
    }
    return Status::Ok();
  }));
  return page;
}

std::string DeliveryToJson(const Delivery& d) {
  json::Writer w;
  w.StartObject()
      .Field("id", d.id)
      .Field("triggerId", d.trigger_id)
      .Field("url", d.url)
      .Field("status", d.status)
      .Field("attempts", static_cast<int64_t>(d.attempts))
      .Key("lastHttpStatus");
  if (d.last_http_status == 0) {
    w.Null();
  } else {
    w.Int(d.last_http_status);
  }
  w.Field("lastError", d.last_error).TimeField("createdAt", d.created_at);
  if (d.status == "pending") w.TimeField("nextAttemptAt", d.next_attempt_at);
  w.TimeField("deliveredAt", d.delivered_at).Key("body").Raw(d.body).Key("log").StartArray();
  for (const DeliveryAttempt& a : d.log) {
    w.StartObject().TimeField("at", a.at).Key("httpStatus");
    if (a.http_status == 0) {
      w.Null();
    } else {
      w.Int(a.http_status);
    }
    w.Field("error", a.error)
        .Field("response", a.response)
        .Field("durationMs", static_cast<double>(a.duration_micros) / 1000.0)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace rapport::decision
