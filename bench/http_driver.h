#pragma once
// Driving a real Rapport server over loopback from a benchmark: one
// keep-alive HTTP/1.1 connection per client thread (Boost.Beast), HTTP Basic
// credentials for Segment write keys, an open-loop driver that sends at a
// fixed rate and measures each request from its scheduled send time (so a
// stalled server is not hidden by a waiting client), and percentiles.
// Shared by bench/tracking_bench.cc and bench/decision_http_bench.cc.

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rapport::bench {

namespace http = boost::beast::http;

// One keep-alive connection to 127.0.0.1:port. Not thread-safe: one per thread.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port) : stream_(ioc_) {
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true));
  }
  // Sends one request with the Authorization header value `auth` and returns
  // the HTTP status; the body goes to *reply when given.
  int Send(http::verb verb, const std::string& target, const std::string& auth, const std::string& body,
           const char* content_type = "application/json", std::string* reply = nullptr) {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, auth);
    if (!body.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (reply) *reply = res.body();
    return static_cast<int>(res.result_int());
  }
  int Post(const std::string& target, const std::string& auth, const std::string& body) {
    return Send(http::verb::post, target, auth, body);
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
};

// "Basic base64(key:)": how Segment's libraries send a write key.
inline std::string BasicAuth(const std::string& key) {
  std::string in = key + ":";
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return "Basic " + out;
}

// The p-quantile (0..1) of latencies sorted ascending; 0 when empty.
inline double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

// Sends `total` requests over `connections` connections at `rate` per
// second, request j due at start + j / rate (connection j % connections),
// and returns every latency from its due time in microseconds, sorted.
// A status >= 300 counts in *failures.
inline std::vector<double> OpenLoop(uint16_t port, int connections, double rate, int64_t total,
                                    const std::function<std::pair<http::verb, std::string>(int64_t)>& target,
                                    const std::function<std::string(int64_t)>& body, const std::string& auth,
                                    std::atomic<int>* failures) {
  using Steady = std::chrono::steady_clock;
  std::vector<std::vector<double>> lat(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  auto start = Steady::now() + std::chrono::milliseconds(50);
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&, k] {
      HttpConnection c(port);
      for (int64_t j = k; j < total; j += connections) {
        auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(j) * 1e9 / rate));
        std::this_thread::sleep_until(due);
        auto [verb, path] = target(j);
        if (c.Send(verb, path, auth, body(j)) >= 300) ++*failures;
        lat[static_cast<size_t>(k)].push_back(std::chrono::duration<double, std::micro>(Steady::now() - due).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace rapport::bench
