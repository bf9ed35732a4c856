// The HTTP layer: targets, routing, the worker pools, the problem-document
// funnel, and the listener on real sockets (cancellation on disconnect, the
// heavy lane, /healthz inline, the drain, the access log).

#include "server/internal/http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/json.h"
#include "server/http_client.h"
#include "server/internal/auth.h"
#include "server/internal/problem.h"

namespace rapport::server::internal {
namespace {

TEST(ParseTargetTest, DecodesPathAndQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/v1/customers?q=ada+lovelace&asOf=2026-01-01T00%3A00%3A00Z&x", &path, &query).ok());
  EXPECT_EQ(path, "/v1/customers");
  EXPECT_EQ(query["q"], "ada lovelace");
  EXPECT_EQ(query["asOf"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(query.count("x"), 1u);
  query.clear();
  EXPECT_FALSE(ParseTarget("/a?q=%zz", &path, &query).ok());
  EXPECT_FALSE(ParseTarget("/a%2", &path, &query).ok());
}

TEST(RouterTest, MatchesPatternsAndReportsAllowedMethods) {
  Router<int> r;
  r.Get("/v1/customers", 1);
  r.Post("/v1/customers", 2);
  r.Get("/v1/customers/{id}", 3);
  r.Put("/v1/customers/{id}/consents/{channel}", 4);
  auto m = r.Find(Method::kGet, "/v1/customers/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->handler, 3);
  EXPECT_EQ(m.params["id"], "42");
  m = r.Find(Method::kPut, "/v1/customers/7/consents/email");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params["channel"], "email");
  m = r.Find(Method::kDelete, "/v1/customers");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<Method>{Method::kGet, Method::kPost}));
  m = r.Find(Method::kGet, "/v1/nothing");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_EQ(r.Find(Method::kGet, "/v1/customers/").route->handler, 1);  // trailing slash
}

TEST(WorkerPoolTest, RefusesWorkBeyondCapacity) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  std::promise<void> started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
    ++ran;
  }));
  started.get_future().wait();  // the worker is busy; the queue is empty
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // queue full
  release.set_value();
  pool.Shutdown();  // drains the queue
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

TEST(ProblemTest, StatusBecomesAProblemDocument) {
  Response r = ProblemFromStatus(Status::InvalidArgument("expected a string", "/attributes/email"), "/v1/customers");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/problem+json");
  auto d = json::Parse(r.body);
  ASSERT_TRUE(d.ok());
  const auto& doc = **d;
  EXPECT_STREQ(doc["type"].GetString(), "https://rapport.dev/problems/invalid-request");
  EXPECT_STREQ(doc["title"].GetString(), "Bad Request");
  EXPECT_EQ(doc["status"].GetInt(), 400);
  EXPECT_STREQ(doc["detail"].GetString(), "expected a string");
  EXPECT_STREQ(doc["instance"].GetString(), "/v1/customers");
  EXPECT_STREQ(doc["errors"][0]["field"].GetString(), "/attributes/email");

  r = ProblemFromStatus(Status::NotFound("customer 9 does not exist", "id"), "/v1/customers/9");
  d = json::Parse(r.body);
  EXPECT_STREQ((**d)["errors"][0]["parameter"].GetString(), "id");

  r = ProblemFromStatus(Status::Internal("sqlite: disk I/O error in /secret/path"), "/x");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("/secret/path"), std::string::npos);
}

TEST(PermissionTest, RolesFollowTheTable) {
  using P = Permission;
  for (P p : {P::kCustomersRead, P::kCustomersWrite, P::kCommerceWrite, P::kInteractionsWrite, P::kConsentsWrite,
              P::kPiiRead, P::kCatalogWrite}) {
    EXPECT_TRUE(RoleAllows(Role::kAdmin, p)) << PermissionName(p);
    EXPECT_EQ(RoleAllows(Role::kAnalyst, p), p == P::kCustomersRead) << PermissionName(p);
  }
  EXPECT_TRUE(RoleAllows(Role::kSales, P::kCommerceWrite));
  EXPECT_FALSE(RoleAllows(Role::kMarketing, P::kCommerceWrite));
  EXPECT_FALSE(RoleAllows(Role::kSales, P::kConsentsWrite));
  EXPECT_TRUE(RoleAllows(Role::kService, P::kConsentsWrite));
  EXPECT_FALSE(RoleAllows(Role::kService, P::kCatalogWrite));
  EXPECT_EQ(*ParseRole("marketing"), Role::kMarketing);
  EXPECT_FALSE(ParseRole("root").ok());
  // Users and keys are the admin's alone.
  EXPECT_TRUE(RoleAllows(Role::kAdmin, P::kUsersAdmin));
  for (Role r : {Role::kMarketing, Role::kSales, Role::kService, Role::kAnalyst}) {
    EXPECT_FALSE(RoleAllows(r, P::kUsersAdmin)) << RoleName(r);
  }
  EXPECT_EQ(PermissionName(P::kUsersAdmin), "users:admin");
  EXPECT_EQ(AllPermissions().size(), 12u);
}

TEST(PermissionTest, AUserHasTheUnionOfTheirRoles) {
  using P = Permission;
  Principal p;
  p.user_id = 7;
  p.roles = {Role::kMarketing, Role::kSales};
  EXPECT_TRUE(p.Can(P::kCommerceWrite));  // sales'
  EXPECT_TRUE(p.Can(P::kRulesApprove));   // marketing's
  EXPECT_FALSE(p.Can(P::kCatalogWrite));  // neither's
  EXPECT_FALSE(p.Can(P::kUsersAdmin));
  EXPECT_EQ(p.Actor(), "user:7");
  EXPECT_EQ(p.Lacks(), "the marketing and sales roles lack");
  Principal key = Principal::ForKey("ab12cd34ef56", Role::kAnalyst);
  EXPECT_EQ(key.Actor(), "key:ab12cd34ef56");
  EXPECT_EQ(key.Lacks(), "the analyst role lacks");
  EXPECT_FALSE(key.Can(P::kPiiRead));
}


// ---- the listener -----------------------------------------------------------------

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;
using testing::HttpClient;

// A one-shot signal a test waits for with a deadline.
struct Gate {
  std::promise<void> promise;
  std::shared_future<void> future = promise.get_future().share();
  void Open() { promise.set_value(); }
  bool WaitFor(milliseconds ms) const { return future.wait_for(ms) == std::future_status::ready; }
};

// A listener on 127.0.0.1:0 whose routes are test handlers: /block/... and
// /heavy/... wait for `release` (or their cancelled flag), /healthz is
// inline, anything else answers at once.
class ListenerTest : public ::testing::Test {
 protected:
  void StartListener(ListenerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    listener_ = std::make_unique<HttpListener>(
        o,
        [this](Request& req) {
          if (req.path.rfind("/block", 0) == 0 || req.path.rfind("/heavy", 0) == 0) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              flags_.push_back(req.cancelled);
            }
            ++started_;
            while (!release_.WaitFor(milliseconds(1))) {
              if (req.cancelled->load()) {
                ++cancelled_;
                return Response::Json(499, "{}");
              }
            }
          }
          return Response::Json(200, R"({"ok":true})");
        },
        [](const Status& s, const std::string& instance) { return ProblemFromStatus(s, instance); },
        [](const Request& req) {
          if (req.path == "/healthz") return Lane::kInline;
          if (req.path.rfind("/heavy", 0) == 0) return Lane::kHeavy;
          return Lane::kRequest;
        });
    ASSERT_TRUE(listener_->Start().ok());
  }
  void TearDown() override {
    if (!released_) release_.Open();
    for (auto& t : clients_) t.join();
    if (listener_) {
      EXPECT_EQ(listener_->Stop(), 0u);
    }
  }
  void Release() {
    released_ = true;
    release_.Open();
  }
  // Sends GET target on a connection of its own, from a thread of its own.
  void SendInBackground(const std::string& target, std::atomic<int>* status = nullptr) {
    clients_.emplace_back([this, target, status] {
      HttpClient c(listener_->port());
      try {
        int s = c.Get(target).status;
        if (status) *status = s;
      } catch (const std::exception&) {
        if (status) *status = -1;
      }
    });
  }
  // Fills a lane: one request per worker, each waited for until it runs,
  // then one more than the queue holds; nothing leaves the queue while the
  // workers are blocked, so exactly one of those is refused with 503.
  void FillLane(const std::string& prefix, int workers, int capacity) {
    for (int i = 0; i < workers; ++i) {
      int before = started_.load();
      SendInBackground(prefix + "running-" + std::to_string(i));
      ASSERT_TRUE(Eventually([&] { return started_.load() == before + 1; }));
    }
    size_t first = statuses_.size();
    for (int i = 0; i < capacity + 1; ++i) {
      statuses_.emplace_back(0);
      SendInBackground(prefix + "queued-" + std::to_string(i), &statuses_.back());
    }
    ASSERT_TRUE(Eventually([&] {
      for (size_t i = first; i < statuses_.size(); ++i) {
        if (statuses_[i].load() == 503) return true;
      }
      return false;
    }));
  }
  bool Eventually(const std::function<bool()>& ready, milliseconds timeout = milliseconds(5000)) {
    auto deadline = Steady::now() + timeout;
    while (!ready()) {
      if (Steady::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }

  std::unique_ptr<HttpListener> listener_;
  Gate release_;
  bool released_ = false;
  std::atomic<int> started_{0}, cancelled_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<std::atomic<bool>>> flags_;  // guarded by mu_
  std::vector<std::thread> clients_;
  std::deque<std::atomic<int>> statuses_;  // of FillLane's requests; a deque keeps their addresses
};

TEST_F(ListenerTest, ClientThatHangsUpCancelsItsRequest) {
  StartListener({});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), listener_->port()});
  std::string request = "GET /block/1 HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  ASSERT_TRUE(Eventually([&] { return started_.load() == 1; }));
  socket.close();  // the client gives up while the handler runs
  EXPECT_TRUE(Eventually([&] { return cancelled_.load() == 1; }, milliseconds(2000)))
      << "the handler's cancelled flag was not raised after the client closed";
}

TEST_F(ListenerTest, RequestOnAPipelinedConnectionIsNotCancelled) {
  StartListener({});
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), listener_->port()});
  // The second request arrives while the first is served: the client is
  // there, and both are answered in order.
  std::string requests = "GET /block/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(requests));
  ASSERT_TRUE(Eventually([&] { return started_.load() == 1; }));
  Release();
  boost::beast::flat_buffer buffer;
  for (int i = 0; i < 2; ++i) {
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::beast::http::read(socket, buffer, res);
    EXPECT_EQ(res.result_int(), 200u);
  }
  EXPECT_EQ(cancelled_.load(), 0);
}

TEST_F(ListenerTest, RequestsAreAnsweredWhileEveryHeavyWorkerIsBusy) {
  ListenerOptions o;
  o.worker_threads = 2;
  o.heavy_threads = 2;
  o.heavy_queue_capacity = 2;
  StartListener(o);
  ASSERT_NO_FATAL_FAILURE(FillLane("/heavy/", 2, 2));
  HttpClient client(listener_->port());
  for (int i = 0; i < 20; ++i) {
    auto began = Steady::now();
    auto w = client.Post("/v1/customers", R"({"kind":"person"})");
    auto took = Steady::now() - began;
    EXPECT_EQ(w.status, 200);
    EXPECT_LT(took, milliseconds(100)) << "a write waited behind heavy reads";
  }
}

TEST_F(ListenerTest, HealthzAnswersWhileEveryQueueIsFull) {
  ListenerOptions o;
  o.worker_threads = 1;
  o.queue_capacity = 1;
  o.heavy_threads = 1;
  o.heavy_queue_capacity = 1;
  StartListener(o);
  ASSERT_NO_FATAL_FAILURE(FillLane("/block/", 1, 1));
  ASSERT_NO_FATAL_FAILURE(FillLane("/heavy/", 1, 1));
  HttpClient client(listener_->port());
  auto began = Steady::now();
  auto h = client.Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_LT(Steady::now() - began, milliseconds(100));
  EXPECT_EQ(h.body, R"({"ok":true})");
  EXPECT_EQ(client.Get("/v1/customers").status, 503);
}

TEST_F(ListenerTest, StopLetsARunningRequestFinish) {
  ListenerOptions o;
  o.drain_timeout = milliseconds(10000);
  StartListener(o);
  std::atomic<int> status{0};
  SendInBackground("/block/1", &status);
  ASSERT_TRUE(Eventually([&] { return started_.load() == 1; }));
  std::thread releaser([this] {
    std::this_thread::sleep_for(milliseconds(200));  // the request runs on while Stop waits
    Release();
  });
  auto began = Steady::now();
  EXPECT_EQ(listener_->Stop(), 0u);
  releaser.join();
  EXPECT_LT(Steady::now() - began, milliseconds(5000));
  for (auto& t : clients_) t.join();
  clients_.clear();
  EXPECT_EQ(status.load(), 200) << "the running request's answer was dropped";
  EXPECT_EQ(cancelled_.load(), 0);
}

TEST_F(ListenerTest, StopCancelsWhatRunsPastTheDrainDeadline) {
  ListenerOptions o;
  o.drain_timeout = milliseconds(300);
  StartListener(o);
  SendInBackground("/block/1");
  SendInBackground("/heavy/1");
  ASSERT_TRUE(Eventually([&] { return started_.load() == 2; }));
  auto began = Steady::now();
  EXPECT_EQ(listener_->Stop(), 0u) << "the handlers give up when cancelled, so nothing is stuck";
  auto took = Steady::now() - began;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(300) + HttpListener::kCancelGrace);
  EXPECT_EQ(cancelled_.load(), 2);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : flags_) EXPECT_TRUE(f->load());
}

TEST(AccessLogTest, OneLinePerRequestWithTheRouteAndNoSecret) {
  auto path = std::filesystem::temp_directory_path() / ("rapport-access-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  {
    auto log = AccessLog::Open(path.string());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Request req;
    req.method = Method::kGet;
    req.target = "/v1/customers/4242?q=secret-query";
    req.path = "/v1/customers/4242";
    req.authorization = "Bearer rpk_ab12cd34_secretsecretsecret";
    req.body = "secret-body";
    req.route = "/v1/customers/{id}";
    req.key_prefix = "ab12cd34";
    (*log)->Write(req, 200, std::chrono::microseconds(420));
    Request anonymous;
    anonymous.method = Method::kPost;
    (*log)->Write(anonymous, 404, std::chrono::microseconds(10));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "http.request method=GET route=/v1/customers/{id} status=200 ms=0.42 key=ab12cd34\n"
            "http.request method=POST route=- status=404 ms=0.01 key=-\n");
  std::filesystem::remove(path);
  EXPECT_FALSE(AccessLog::Open("/nonexistent-dir/access.log").ok());
  auto off = AccessLog::Open("off");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
}

}  // namespace
}  // namespace rapport::server::internal
