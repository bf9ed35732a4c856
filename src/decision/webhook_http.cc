// The libcurl HttpClient: one easy handle per request, no redirects, no
// proxies, the response body capped at 4 KiB, and every connection under
// the outbound address policy: the host is resolved here, libcurl is pinned
// to the allowed addresses, and each socket it opens is checked again.

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <string>

#include "decision/triggers.h"

namespace rapport::decision {
namespace {

constexpr size_t kMaxKeptBody = 4096;

size_t KeepBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t bytes = size * n;
  if (out->size() < kMaxKeptBody) out->append(data, std::min(bytes, kMaxKeptBody - out->size()));
  return bytes;
}

bool SafeHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// What the socket callback sees: the policy, and why it refused, if it did.
struct Guard {
  const net::OutboundPolicy* policy;
  std::string refusal;
};

// Every socket libcurl opens for the request passes here, with the address
// it is about to connect to: the last word on where the request goes.
curl_socket_t OpenVettedSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* guard = static_cast<Guard*>(user);
  std::optional<net::IpAddress> a = net::IpAddress::FromSockaddr(&address->addr);
  if (purpose != CURLSOCKTYPE_IPCXN || !a) {
    guard->refusal = "refused by the outbound address policy: not an IP connection";
    return CURL_SOCKET_BAD;
  }
  std::string why = guard->policy->Refusal(*a);
  if (!why.empty()) {
    guard->refusal = "refused by the outbound address policy: " + why;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(net::OutboundPolicy policy) : policy_(std::move(policy)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<HttpResponse> Post(const HttpRequest& request) override {
    auto target = policy_.Resolve(request.url);
    if (!target.ok()) {
      if (target.status().code() == StatusCode::kInvalidArgument) {
        return Status::InvalidArgument(target.status().message(), "url");
      }
      return target.status();
    }
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || !SafeHeaderText(name) || name.find(':') != std::string::npos || !SafeHeaderText(value)) {
        return Status::InvalidArgument("a request header holds CR, LF or NUL", "headers");
      }
    }
    // host:port:addr,addr pins libcurl to the addresses just vetted, so it
    // never resolves the name again (a second answer could differ).
    std::string pin = target->host + ":" + std::to_string(target->port) + ":";
    for (size_t i = 0; i < target->addresses.size(); ++i) {
      const net::IpAddress& a = target->addresses[i];
      pin += (i ? "," : "") + (a.v6 ? "[" + a.ToString() + "]" : a.ToString());
    }
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return Status::Internal("curl_easy_init failed");
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    // (An address literal is not resolved by libcurl: nothing to pin.)
    curl_slist* resolve = net::IpAddress::Parse(target->host) ? nullptr : curl_slist_append(nullptr, pin.c_str());
    Guard guard{&policy_, {}};
    HttpResponse out;
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenVettedSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");  // never an environment proxy: the policy is about the target
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, KeepBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Rapport-Webhooks/1");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK && !guard.refusal.empty()) return Status::PermissionDenied(guard.refusal);
    if (rc != CURLE_OK) return Status::Unavailable(std::string("POST failed: ") + curl_easy_strerror(rc));
    out.status = static_cast<int>(status);
    return out;
  }

 private:
  const net::OutboundPolicy policy_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(net::OutboundPolicy policy) {
  return std::make_unique<CurlHttpClient>(std::move(policy));
}

}  // namespace rapport::decision
