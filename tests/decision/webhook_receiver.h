#pragma once
// A real HTTP receiver for webhook tests on Boost.Beast: listens on
// 127.0.0.1:0 (or another loopback address), answers each POST with the next
// scripted answer (200 "thanks" when the script is empty) and keeps every
// request it got. One connection at a time, which is all a webhook sender
// opens.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rapport::decision::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One scripted answer: a status, optionally a Location header and a body
// (empty: "thanks" below 300, "try later" otherwise).
struct ScriptedAnswer {
  int status = 200;
  std::string location;
  std::string body;
};

class WebhookReceiver {
 public:
  explicit WebhookReceiver(const std::string& host = "127.0.0.1")
      : host_(host), acceptor_(io_, {boost::asio::ip::make_address(host), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookReceiver() {
    // A blocking accept does not wake when the socket is closed from another
    // thread: connect once so it returns and sees stopping_.
    stopping_ = true;
    boost::system::error_code ec;
    {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket wake(io);
      wake.connect({boost::asio::ip::make_address(host_), port()}, ec);
    }
    thread_.join();
    acceptor_.close(ec);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path = "/hook") const {
    return "http://" + host_ + ":" + std::to_string(port()) + path;
  }
  void Answer(int status) { Answer(ScriptedAnswer{status, "", ""}); }
  void Answer(ScriptedAnswer a) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(a));
  }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Waits until n requests arrived (false after the timeout).
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void Serve() {
    namespace http = boost::beast::http;
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      boost::beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        ReceivedRequest got;
        got.method = std::string(req.method_string());
        got.target = std::string(req.target());
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          got.headers[name] = std::string(f.value());
        }
        got.body = req.body();
        ScriptedAnswer answer;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!script_.empty()) {
            answer = script_.front();
            script_.pop_front();
          }
          requests_.push_back(std::move(got));
        }
        cv_.notify_all();
        http::response<http::string_body> res(static_cast<http::status>(answer.status), 11);
        res.set(http::field::content_type, "text/plain");
        if (!answer.location.empty()) res.set(http::field::location, answer.location);
        res.body() = !answer.body.empty() ? answer.body : answer.status < 300 ? "thanks" : "try later";
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(socket, res, ec);
        if (ec || !req.keep_alive()) break;
      }
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  std::string host_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ScriptedAnswer> script_;
  std::vector<ReceivedRequest> requests_;
};

}  // namespace rapport::decision::testing
