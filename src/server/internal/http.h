#pragma once
// The HTTP layer under the API: requests and responses as plain values, a
// router that reads like a table (router.Get("/v1/customers/{id}", ...)),
// bounded worker pools, and the Beast/Asio listener that ties them together
// (keep-alive, fixed I/O threads, body limit, timeouts, 503 when a queue is
// full, cancellation when the client goes away, a drain on stop, the access
// log). Nothing here knows about customers.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rapport::server::internal {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kOther };
std::string_view MethodName(Method m);

// Where the listener runs a request. kInline: on the I/O thread, for answers
// that never block (/healthz), so they come back while every worker is busy.
// kRequest: the worker pool. kHeavy: a pool of its own for reads that scan
// the profile store or many customers (segment previews, analytics), so
// writes and tracking never wait behind them.
enum class Lane { kInline, kRequest, kHeavy };

struct Request {
  Method method = Method::kGet;
  std::string method_text;  // as sent, for 405 messages
  std::string target;       // path and query as sent
  std::string path;         // decoded path, no query
  std::map<std::string, std::string> query;   // decoded; repeated keys keep the last value
  std::map<std::string, std::string> params;  // path parameters filled in by the router
  std::string content_type;
  std::string authorization;
  // For the workspace's files (web_assets.h): content coding and revalidation.
  std::string accept_encoding;
  std::string if_none_match;
  std::string cookie;      // the Cookie header, for the session (rapport_session)
  std::string csrf_token;  // the X-CSRF-Token header
  std::string body;
  // Raised when the client goes away or the server stops while the request
  // is being served, so long work (a segment preview, an analytics query)
  // can give up. Never null.
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  // Filled in by the dispatcher for the access log: the matched route's
  // pattern ("/v1/customers/{id}", never the raw path with its ids; empty
  // when nothing matched) and who asked: the API key's public prefix, or
  // "user:<id>" for a signed-in user (empty when neither).
  std::string route;
  std::string key_prefix;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
};

// Splits "/a/b?x=1&y=%20" into a percent-decoded path and query map.
// InvalidArgument on bad percent escapes.
Status ParseTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query);
std::string PercentDecode(std::string_view s, bool plus_is_space, bool* ok);
// The path of a request target as sent (percent-encoded, no query).
std::string_view RawPath(std::string_view target);

// The one way the server builds its own URLs (Location headers, links):
// each segment percent-encoded (RFC 3986: everything but ALPHA, DIGIT and
// "-._~"), so a name with a space, '/', '%', '?' or "é" is one segment
// that GETs back what it names. UrlPath({"v1", "decision-models", name})
// is "/v1/decision-models/<name encoded>".
std::string PathSegment(std::string_view segment);
std::string UrlPath(std::initializer_list<std::string_view> segments);

// A header value the response writer may emit: no CR, LF or NUL, so no
// value can end a header and start another (response splitting).
bool SafeHeaderValue(std::string_view value);
// A header name: an RFC 9110 token.
bool SafeHeaderName(std::string_view name);

// Path patterns: literal segments and {name} segments matching one non-empty
// segment. Find takes the path as sent (percent-encoded): it splits at '/'
// first and decodes each segment after, so "%2F" stays inside its segment
// (a model named "a/b" is one {name}). Routes are tried in registration
// order. Not thread-safe to modify; lookups are safe from many threads once
// built.
template <typename Handler>
class Router {
 public:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  struct Match {
    const Route* route = nullptr;                // null when nothing matched
    std::map<std::string, std::string> params;
    std::vector<Method> allowed;                 // path matched, method did not
  };

  void Add(Method m, std::string pattern, Handler h) {
    routes_.push_back(Route{m, pattern, Split(pattern), std::move(h)});
  }
  void Get(std::string pattern, Handler h) { Add(Method::kGet, std::move(pattern), std::move(h)); }
  void Post(std::string pattern, Handler h) { Add(Method::kPost, std::move(pattern), std::move(h)); }
  void Put(std::string pattern, Handler h) { Add(Method::kPut, std::move(pattern), std::move(h)); }
  void Patch(std::string pattern, Handler h) { Add(Method::kPatch, std::move(pattern), std::move(h)); }
  void Delete(std::string pattern, Handler h) { Add(Method::kDelete, std::move(pattern), std::move(h)); }

  Match Find(Method m, std::string_view path) const {
    Match out;
    std::vector<std::string> parts = Split(path);
    for (const Route& r : routes_) {
      std::map<std::string, std::string> params;
      if (!MatchSegments(r.segments, parts, &params)) continue;
      if (r.method == m) {
        out.route = &r;
        out.params = std::move(params);
        out.allowed.clear();
        return out;
      }
      out.allowed.push_back(r.method);
    }
    return out;
  }

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static std::vector<std::string> Split(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
      if (path[i] == '/') {
        ++i;
        continue;
      }
      size_t j = path.find('/', i);
      if (j == std::string_view::npos) j = path.size();
      bool ok = true;
      std::string segment = PercentDecode(path.substr(i, j - i), false, &ok);
      out.push_back(ok ? std::move(segment) : std::string(path.substr(i, j - i)));
      i = j;
    }
    return out;
  }
  static bool MatchSegments(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
                            std::map<std::string, std::string>* params) {
    if (pattern.size() != parts.size()) return false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      const std::string& p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        (*params)[p.substr(1, p.size() - 2)] = parts[i];
      } else if (p != parts[i]) {
        return false;
      }
    }
    return true;
  }

  std::vector<Route> routes_;
};

// A fixed set of threads running jobs from a bounded queue. TrySubmit fails
// instead of queueing past capacity, so overload becomes 503s rather than
// memory growth. Thread-safe.
class WorkerPool {
 public:
  WorkerPool(int threads, size_t capacity);
  ~WorkerPool();  // finishes queued jobs, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  bool TrySubmit(std::function<void()> job);
  // Refuses new jobs, lets the queued ones run and joins the threads.
  void Shutdown();
  // Waits until the queue is empty and no job runs, or until the deadline;
  // true when idle. Joins nothing, so a stuck job cannot hold the caller
  // past the deadline.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

 private:
  void Run();
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

// One `http.request method=GET route=/v1/customers/{id} status=200 ms=0.42
// key=ab12cd34` line per request, written whole with one write(2) so lines
// from many threads never interleave. Holds only the method, the route
// pattern, the status, the duration and the key's public prefix: never a
// secret, a header, a query string or a body. Thread-safe.
class AccessLog {
 public:
  // "off" (null), "stderr", or a file path opened for appending.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& where);
  explicit AccessLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const Request& req, int status, std::chrono::steady_clock::duration took);

 private:
  int fd_;
  bool owned_;
};

struct ListenerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  int io_threads = 2;
  int worker_threads = 4;
  size_t queue_capacity = 256;
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout{30'000};  // one request, headers and body
  std::chrono::milliseconds idle_timeout{60'000};  // between keep-alive requests
  std::chrono::milliseconds write_timeout{30'000};
  int heavy_threads = 2;            // the kHeavy lane's own pool
  size_t heavy_queue_capacity = 16;  // kHeavy requests waiting; beyond it: 503
  // Stop() lets running requests finish this long, then raises their
  // cancelled flags and waits at most kCancelGrace more.
  std::chrono::milliseconds drain_timeout{10'000};
  AccessLog* access_log = nullptr;  // not owned; null: no access log
};

// Turns a failure the HTTP layer detects itself (413, 503, 400 bad request)
// into a response; the server plugs in its problem-document funnel.
using ErrorResponder = std::function<Response(const Status&, const std::string& instance)>;
// Runs for every complete request, on the thread its lane names.
using Dispatcher = std::function<Response(Request&)>;
// Names a complete request's lane; runs on the I/O thread, so it must be cheap.
using LaneOf = std::function<Lane(const Request&)>;

// Accepts connections and serves HTTP/1.1 on them. Start/Stop from one
// thread; dispatch runs concurrently on the worker pools.
class HttpListener {
 public:
  // After the drain deadline and the cancellation, Stop waits this much more.
  static constexpr std::chrono::milliseconds kCancelGrace{1'000};

  HttpListener(ListenerOptions options, Dispatcher dispatch, ErrorResponder on_error, LaneOf lane_of = nullptr);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  Status Start();
  uint16_t port() const;
  // Drains: stops accepting and answers keep-alive connections with
  // "Connection: close", lets running and queued requests finish up to
  // drain_timeout, then raises every in-flight request's cancelled flag and
  // waits up to kCancelGrace. Returns how many requests were still running
  // then (0: every thread is joined). Otherwise their worker threads are
  // left running, and the listener must not be destroyed before the process
  // exits. Idempotent.
  size_t Stop();
  void Wait();  // blocks until Stop() has completed

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::server::internal
