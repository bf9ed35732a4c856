#include "server/internal/http.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/process.h"

namespace rapport::server::internal {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Method MethodOf(http::verb v) {
  switch (v) {
    case http::verb::get: return Method::kGet;
    case http::verb::post: return Method::kPost;
    case http::verb::put: return Method::kPut;
    case http::verb::patch: return Method::kPatch;
    case http::verb::delete_: return Method::kDelete;
    default: return Method::kOther;
  }
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space, bool* ok) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        *ok = false;
        return out;
      }
      int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) {
        *ok = false;
        return out;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view RawPath(std::string_view target) { return target.substr(0, target.find('?')); }

std::string PathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char ch : segment) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  // "." and ".." are not names a client would send back unchanged.
  if (out == "." || out == "..") out = out == "." ? "%2E" : "%2E%2E";
  return out;
}

std::string UrlPath(std::initializer_list<std::string_view> segments) {
  std::string out;
  for (std::string_view s : segments) out += "/" + PathSegment(s);
  return out;
}

bool SafeHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool SafeHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos)) return false;
  }
  return true;
}

Status ParseTarget(std::string_view target, std::string* path, std::map<std::string, std::string>* query) {
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  bool ok = true;
  *path = PercentDecode(raw_path, false, &ok);
  if (!ok) return Status::InvalidArgument("malformed percent escape in the path");
  if (q == std::string_view::npos) return Status::Ok();
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true, &ok);
    std::string value = eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true, &ok);
    if (!ok) return Status::InvalidArgument("malformed percent escape in the query string");
    (*query)[key] = value;
  }
  return Status::Ok();
}

// ---- WorkerPool --------------------------------------------------------------

WorkerPool::WorkerPool(int threads, size_t capacity) : capacity_(capacity) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TrySubmit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool WorkerPool::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] { return queue_.empty() && running_ == 0; });
}

void WorkerPool::Run() {
  PrepareThreadForCrashTraces();
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    job();
    job = nullptr;  // what the job holds (a session, a request) goes before the pool counts it done
    {
      std::lock_guard<std::mutex> lock(mu_);
      --running_;
    }
    idle_cv_.notify_all();
  }
}

// ---- AccessLog -----------------------------------------------------------------

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& where) {
  if (where == "off") return std::unique_ptr<AccessLog>();
  if (where == "stderr") return std::make_unique<AccessLog>(STDERR_FILENO, false);
  int fd = ::open(where.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::InvalidArgument("cannot open the access log " + where + ": " + std::strerror(errno), "access-log");
  }
  return std::make_unique<AccessLog>(fd, true);
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::Write(const Request& req, int status, std::chrono::steady_clock::duration took) {
  // One buffer, one write(2): O_APPEND and pipes keep such a line whole
  // among other threads' lines, and no lock is held on the request path.
  std::string_view method = MethodName(req.method);
  std::string_view route = req.route.empty() ? "-" : std::string_view(req.route).substr(0, 300);
  std::string_view key = req.key_prefix.empty() ? "-" : std::string_view(req.key_prefix).substr(0, 40);
  double ms = std::chrono::duration<double, std::milli>(took).count();
  char line[512];
  int n = std::snprintf(line, sizeof line, "http.request method=%.*s route=%.*s status=%d ms=%.2f key=%.*s\n",
                        static_cast<int>(method.size()), method.data(), static_cast<int>(route.size()), route.data(),
                        status, ms, static_cast<int>(key.size()), key.data());
  if (n <= 0) return;
  size_t len = std::min(static_cast<size_t>(n), sizeof line - 1);
  line[len - 1] = '\n';
  while (::write(fd_, line, len) < 0 && errno == EINTR) {
  }
}

// ---- the listener ---------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  ListenerOptions options;
  Dispatcher dispatch;
  ErrorResponder on_error;
  LaneOf lane_of;
  WorkerPool* pool = nullptr;
  WorkerPool* heavy_pool = nullptr;
  // Set when Stop begins: no new requests, no more keep-alive.
  std::atomic<bool> draining{false};
  // The cancelled flags of the requests handed to a pool and not yet
  // answered, so Stop can wait for them and cancel them.
  std::mutex inflight_mu;
  std::condition_variable inflight_cv;
  std::unordered_set<std::shared_ptr<std::atomic<bool>>> inflight;  // guarded by inflight_mu

  // Defence in depth against response splitting: a response whose header
  // would carry CR, LF or NUL (or whose name is no token) is never written;
  // it becomes a 500, and the log says which header of which route.
  void Vet(const Request& req, Response& r) const {
    for (const auto& [name, value] : r.headers) {
      if (SafeHeaderName(name) && SafeHeaderValue(value)) continue;
      spdlog::error("http.unsafe_header route={} status={} header={}", req.route.empty() ? "-" : req.route, r.status,
                    SafeHeaderName(name) ? name : std::string("(not a token)"));
      Status s = Status::Internal("the server made a response header it cannot send");
      r = on_error ? on_error(s, std::string(RawPath(req.target))) : Response::Json(500, "{}");
      r.status = 500;
      return;
    }
  }

  void Log(const Request& req, int status, Clock::time_point started) const {
    if (options.access_log) options.access_log->Write(req, status, Clock::now() - started);
  }
  void Admit(const std::shared_ptr<std::atomic<bool>>& flag) {
    std::lock_guard<std::mutex> lock(inflight_mu);
    inflight.insert(flag);
  }
  void Release(const std::shared_ptr<std::atomic<bool>>& flag) {
    {
      std::lock_guard<std::mutex> lock(inflight_mu);
      inflight.erase(flag);
    }
    inflight_cv.notify_all();
  }
  // True when nothing is in flight by the deadline.
  bool WaitDrained(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(inflight_mu);
    return inflight_cv.wait_until(lock, deadline, [&] { return inflight.empty(); });
  }
  size_t CancelInFlight() {
    std::lock_guard<std::mutex> lock(inflight_mu);
    for (const auto& flag : inflight) flag->store(true);
    return inflight.size();
  }
};

// One connection. Requests on it are served one at a time: read, dispatch on
// a pool, write, read the next. While a request is on a pool the socket is
// watched, so a client that goes away cancels its request. All socket work
// happens on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared* shared) : stream_(std::move(socket)), shared_(shared) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(true); });
  }

 private:
  void Read(bool first) {
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(first ? shared_->options.read_timeout : shared_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      Close();
      return;
    }
    if (ec == http::error::body_limit) {
      Send(shared_->on_error(Status::PayloadTooLarge("the request body exceeds the limit of " +
                                                     std::to_string(shared_->options.max_body_bytes) + " bytes"),
                             std::string(parser_->get().target())),
           false);
      return;
    }
    if (ec) {
      // A malformed request: the stream is out of sync, so answer and close.
      if (parser_->is_header_done() || buffer_.size() > 0 || ec != http::error::partial_message) {
        Send(shared_->on_error(Status::InvalidArgument("malformed HTTP request: " + ec.message()), ""), false);
      } else {
        Close();
      }
      return;
    }
    Clock::time_point started = Clock::now();
    auto msg = parser_->release();
    bool keep_alive = msg.keep_alive();
    auto req = std::make_shared<Request>();
    req->method = MethodOf(msg.method());
    req->method_text = std::string(msg.method_string());
    req->target = std::string(msg.target());
    req->content_type = std::string(msg[http::field::content_type]);
    req->authorization = std::string(msg[http::field::authorization]);
    req->accept_encoding = std::string(msg[http::field::accept_encoding]);
    req->if_none_match = std::string(msg[http::field::if_none_match]);
    req->cookie = std::string(msg[http::field::cookie]);
    req->csrf_token = std::string(msg["X-CSRF-Token"]);
    req->body = std::move(msg.body());
    Status parsed = ParseTarget(req->target, &req->path, &req->query);
    if (!parsed.ok()) {
      Reply(*req, shared_->on_error(parsed, req->target), keep_alive, started);
      return;
    }
    Lane lane = shared_->lane_of ? shared_->lane_of(*req) : Lane::kRequest;
    if (lane == Lane::kInline) {
      Reply(*req, shared_->dispatch(*req), keep_alive, started);
      return;
    }
    if (shared_->draining.load()) {
      Reply(*req, shared_->on_error(Status::Unavailable("the server is shutting down"), req->path), false, started);
      return;
    }
    stream_.expires_never();
    auto self = shared_from_this();
    std::shared_ptr<std::atomic<bool>> flag = req->cancelled;
    shared_->Admit(flag);
    WorkerPool* pool = lane == Lane::kHeavy ? shared_->heavy_pool : shared_->pool;
    bool queued = pool->TrySubmit([self, req, keep_alive, started] {
      Response res = self->shared_->dispatch(*req);
      self->shared_->Vet(*req, res);
      self->shared_->Log(*req, res.status, started);
      net::post(self->stream_.get_executor(), [self, res = std::move(res), keep_alive, flag = req->cancelled]() mutable {
        self->StopWatching();
        self->Send(std::move(res), keep_alive, flag);
      });
    });
    if (!queued) {
      shared_->Release(flag);
      Reply(*req, shared_->on_error(Status::Unavailable("the server is busy; retry shortly"), req->path), keep_alive,
            started);
      return;
    }
    Watch(flag);
  }

  // Raises the request's cancelled flag when the client closes or resets
  // the connection while the request is on a pool. Readable data is only
  // peeked at, never consumed: it is the client's next request.
  void Watch(std::shared_ptr<std::atomic<bool>> flag) {
    watching_ = true;
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), flag](beast::error_code ec) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        char byte = 0;
        ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // a pipelined request: the client is there; readiness stays, so stop watching
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          if (self->watching_) self->Watch(flag);
          return;
        }
      }
      flag->store(true);  // end of stream, reset, or a socket error
    });
  }

  void StopWatching() {
    if (!watching_) return;
    watching_ = false;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);  // only the watch is outstanding while a pool serves the request
  }

  // Logs and sends an answer made on the I/O thread.
  void Reply(const Request& req, Response r, bool keep_alive, Clock::time_point started) {
    shared_->Vet(req, r);
    shared_->Log(req, r.status, started);
    Send(std::move(r), keep_alive);
  }

  // flag: the in-flight request this answers, released once written.
  void Send(Response r, bool keep_alive, std::shared_ptr<std::atomic<bool>> flag = nullptr) {
    keep_alive = keep_alive && !shared_->draining.load();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "rapport");
    if (!r.body.empty() || r.status != 204) res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) {
      if (!SafeHeaderName(k) || !SafeHeaderValue(v)) continue;  // Vet made such responses 500s; never on the wire
      res->set(k, v);
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive, flag](beast::error_code ec, size_t) {
                        if (flag) self->shared_->Release(flag);
                        if (ec || !keep_alive) {
                          self->Close();
                          return;
                        }
                        self->Read(false);
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared* shared_;
  bool watching_ = false;  // a Watch is armed for the request on a pool
};

}  // namespace

struct HttpListener::Impl {
  Shared shared;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<WorkerPool> heavy_pool;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::mutex mu;
  std::condition_variable stopped_cv;
  bool started = false;  // guarded by mu
  bool stopped = false;  // guarded by mu
  size_t stuck = 0;      // guarded by mu

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), &shared)->Start();
      }
      Accept();
    });
  }
};

HttpListener::HttpListener(ListenerOptions options, Dispatcher dispatch, ErrorResponder on_error, LaneOf lane_of)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.dispatch = std::move(dispatch);
  impl_->shared.on_error = std::move(on_error);
  impl_->shared.lane_of = std::move(lane_of);
}

HttpListener::~HttpListener() { Stop(); }

Status HttpListener::Start() {
  Impl& m = *impl_;
  const ListenerOptions& o = m.shared.options;
  beast::error_code ec;
  auto address = net::ip::make_address(o.host, ec);
  if (ec) return Status::InvalidArgument("not an IP address: '" + o.host + "'", "listen");
  tcp::endpoint endpoint(address, o.port);
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  m.port = m.acceptor.local_endpoint().port();
  m.pool = std::make_unique<WorkerPool>(o.worker_threads, o.queue_capacity);
  m.heavy_pool = std::make_unique<WorkerPool>(o.heavy_threads, o.heavy_queue_capacity);
  m.shared.pool = m.pool.get();
  m.shared.heavy_pool = m.heavy_pool.get();
  m.work.emplace(m.ioc.get_executor());
  m.Accept();
  for (int i = 0; i < std::max(1, o.io_threads); ++i) m.threads.emplace_back([&m] {
      PrepareThreadForCrashTraces();
      m.ioc.run();
    });
  std::lock_guard<std::mutex> lock(m.mu);
  m.started = true;
  return Status::Ok();
}

uint16_t HttpListener::port() const { return impl_->port.load(); }

size_t HttpListener::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (!m.started || m.stopped) return m.stuck;
  }
  m.shared.draining = true;
  net::post(m.ioc, [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
  });
  // Running and queued requests finish and their answers are written, up
  // to the deadline; then they are told to give up.
  bool drained = m.shared.WaitDrained(Clock::now() + m.shared.options.drain_timeout);
  if (!drained) {
    size_t n = m.shared.CancelInFlight();
    spdlog::warn("server.drain_deadline requests={} action=cancel", n);
    drained = m.shared.WaitDrained(Clock::now() + kCancelGrace);
  }
  m.work.reset();
  m.ioc.stop();
  for (auto& t : m.threads) {
    if (t.joinable()) t.join();
  }
  // A request may be drained (answered or abandoned) while its worker still
  // unwinds; what is still running now is stuck.
  size_t stuck = 0;
  if (m.pool->WaitIdle(Clock::now() + (drained ? kCancelGrace : std::chrono::milliseconds(0))) &&
      m.heavy_pool->WaitIdle(Clock::now() + (drained ? kCancelGrace : std::chrono::milliseconds(0)))) {
    m.pool->Shutdown();
    m.heavy_pool->Shutdown();
  } else {
    std::lock_guard<std::mutex> lock(m.shared.inflight_mu);
    stuck = std::max<size_t>(1, m.shared.inflight.size());
  }
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stopped = true;
    m.stuck = stuck;
  }
  m.stopped_cv.notify_all();
  return stuck;
}

void HttpListener::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace rapport::server::internal
