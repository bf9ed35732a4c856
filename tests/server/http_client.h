#pragma once
// A small synchronous HTTP/1.1 client on Boost.Beast for end-to-end tests:
// one keep-alive connection per client, reconnecting when the server closes.

#include <rapidjson/document.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <optional>
#include <string>

namespace rapport::server::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  rapidjson::Document json;  // parsed body (kNullType when not JSON)
  bool closed = false;       // the server asked to close the connection

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string key = "") : port_(port), key_(std::move(key)) {}

  void set_key(std::string key) { key_ = std::move(key); }

  HttpReply Get(const std::string& target) { return Send("GET", target, ""); }
  HttpReply Post(const std::string& target, const std::string& body) { return Send("POST", target, body); }
  HttpReply Put(const std::string& target, const std::string& body) { return Send("PUT", target, body); }
  HttpReply Patch(const std::string& target, const std::string& body) { return Send("PATCH", target, body); }

  // Sends one request; headers override the defaults (Authorization from the
  // key, Content-Type application/json when there is a body).
  HttpReply Send(const std::string& method, const std::string& target, const std::string& body,
                 const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        Connect();
        http::request<http::string_body> req(http::string_to_verb(method), target, 11);
        if (http::string_to_verb(method) == http::verb::unknown) req.method_string(method);
        req.set(http::field::host, "127.0.0.1");
        if (!key_.empty()) req.set(http::field::authorization, "Bearer " + key_);
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        for (const auto& [k, v] : headers) req.set(k, v);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        http::read(*stream_, buffer, parser);
        auto res = parser.release();
        HttpReply out;
        out.status = static_cast<int>(res.result_int());
        for (const auto& f : res) {
          std::string name(f.name_string());
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          out.headers[name] = std::string(f.value());
        }
        out.body = res.body();
        out.json.Parse(out.body.c_str());
        if (out.json.HasParseError()) out.json.SetNull();
        out.closed = !res.keep_alive();
        if (out.closed) stream_.reset();
        return out;
      } catch (const boost::system::system_error&) {
        stream_.reset();  // stale keep-alive connection: reconnect once
        if (attempt == 1) throw;
      }
    }
    return {};
  }

  // Writes raw bytes and reads one response (for malformed requests).
  HttpReply Raw(const std::string& bytes) {
    namespace http = boost::beast::http;
    stream_.reset();
    Connect();
    boost::asio::write(stream_->socket(), boost::asio::buffer(bytes));
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(*stream_, buffer, res);
    HttpReply out;
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    out.json.Parse(out.body.c_str());
    if (out.json.HasParseError()) out.json.SetNull();
    stream_.reset();
    return out;
  }

 private:
  void Connect() {
    if (stream_) return;
    stream_.emplace(ioc_);
    stream_->expires_after(std::chrono::seconds(30));
    stream_->connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
  }

  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
  uint16_t port_;
  std::string key_;
};

}  // namespace rapport::server::testing
