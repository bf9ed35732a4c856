// The outbound address policy: the deny list, CIDR allow-lists, URL checks
// on libcurl's URL parser, and resolution with getaddrinfo.

#include "common/net.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

namespace rapport::net {
namespace {

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress x;
  x.bytes[0] = a;
  x.bytes[1] = b;
  x.bytes[2] = c;
  x.bytes[3] = d;
  return x;
}

// True when the first `bits` bits of a and b agree.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int full = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

struct Range {
  IpAddress base;
  int prefix;
  std::string_view why;
};

// Order matters: the first range that holds an address names it.
const std::vector<Range>& V4Ranges() {
  static const std::vector<Range> ranges = {
      {V4(169, 254, 169, 254), 32, "cloud metadata"},
      {V4(255, 255, 255, 255), 32, "broadcast"},
      {V4(0, 0, 0, 0), 8, "unspecified"},
      {V4(10, 0, 0, 0), 8, "private"},
      {V4(100, 64, 0, 0), 10, "carrier-grade NAT"},
      {V4(127, 0, 0, 0), 8, "loopback"},
      {V4(169, 254, 0, 0), 16, "link-local"},
      {V4(172, 16, 0, 0), 12, "private"},
      {V4(192, 0, 0, 0), 24, "reserved"},  // IETF protocol assignments (192.0.0.192: a cloud's metadata)
      {V4(192, 168, 0, 0), 16, "private"},
      {V4(198, 18, 0, 0), 15, "reserved"},  // benchmarking
      {V4(224, 0, 0, 0), 4, "multicast"},
      {V4(240, 0, 0, 0), 4, "reserved"},
  };
  return ranges;
}

const std::vector<Range>& V6Ranges() {
  static const std::vector<Range> ranges = [] {
    auto v6 = [](const char* text, int prefix, std::string_view why) {
      return Range{*IpAddress::Parse(text), prefix, why};
    };
    return std::vector<Range>{
        v6("::", 128, "unspecified"),
        v6("::1", 128, "loopback"),
        v6("fd00:ec2::254", 128, "cloud metadata"),
        v6("fc00::", 7, "private"),
        v6("fe80::", 10, "link-local"),
        v6("fec0::", 10, "private"),  // site-local, deprecated but still routed by some networks
        v6("ff00::", 8, "multicast"),
    };
  }();
  return ranges;
}

struct UrlHandle {
  CURLU* u = curl_url();
  ~UrlHandle() { curl_url_cleanup(u); }
  std::optional<std::string> Get(CURLUPart part, unsigned flags = 0) const {
    char* out = nullptr;
    if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
  }
};

// The legacy IPv4 spellings (2130706433, 0x7f.1, 0177.0.0.1, 127.1) that
// inet_aton, and so getaddrinfo and every HTTP client, reads as addresses.
std::optional<IpAddress> NumericHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return std::nullopt;
  std::optional<IpAddress> a = IpAddress::FromSockaddr(res->ai_addr);
  ::freeaddrinfo(res);
  return a;
}

}  // namespace

// ---- addresses ---------------------------------------------------------------

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    a.v6 = true;
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

IpAddress IpAddress::Unwrapped() const {
  if (!v6) return *this;
  const auto& b = bytes;
  bool zero10 = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
  bool mapped = zero10 && b[10] == 0xFF && b[11] == 0xFF;
  bool compatible = zero10 && b[10] == 0 && b[11] == 0;
  bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B &&
               std::all_of(b.begin() + 4, b.begin() + 12, [](uint8_t x) { return x == 0; });
  if (!mapped && !compatible && !nat64) return *this;
  return V4(b[12], b[13], b[14], b[15]);
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  size_t slash = text.find('/');
  std::optional<IpAddress> a = IpAddress::Parse(text.substr(0, slash));
  if (!a) return Status::InvalidArgument("expected an IP address or CIDR block (10.0.0.0/8), got '" +
                                         std::string(text) + "'");
  const int max = a->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > max) {
      return Status::InvalidArgument("the prefix length of '" + std::string(text) + "' is not 0 to " +
                                     std::to_string(max));
    }
  }
  Cidr c;
  c.base = *a;
  c.prefix = prefix;
  // An IPv4-mapped block is the IPv4 block, as addresses are compared unwrapped.
  const auto& b = c.base.bytes;
  bool mapped = c.base.v6 && std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; }) &&
                b[10] == 0xFF && b[11] == 0xFF;
  if (mapped && prefix >= 96) {
    c.base = c.base.Unwrapped();
    c.prefix -= 96;
  }
  for (int bit = c.prefix; bit < (c.base.v6 ? 128 : 32); ++bit) {
    c.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  IpAddress x = a.Unwrapped();
  if (x.v6 != base.v6) x = a;
  if (x.v6 != base.v6) return false;
  return SamePrefix(x.bytes, base.bytes, prefix);
}

std::string Cidr::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

std::string_view DeniedRange(const IpAddress& a) {
  if (a.v6) {
    for (const Range& r : V6Ranges()) {
      if (SamePrefix(a.bytes, r.base.bytes, r.prefix)) return r.why;
    }
    IpAddress v4 = a.Unwrapped();
    if (v4.v6) return {};
    return DeniedRange(v4);
  }
  for (const Range& r : V4Ranges()) {
    if (SamePrefix(a.bytes, r.base.bytes, r.prefix)) return r.why;
  }
  return {};
}

Result<std::vector<IpAddress>> SystemResolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Status::Unavailable("cannot resolve '" + host + "': " + ::gai_strerror(rc));
  std::vector<IpAddress> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    std::optional<IpAddress> a = IpAddress::FromSockaddr(p->ai_addr);
    if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return Status::Unavailable("'" + host + "' has no IPv4 or IPv6 address");
  return out;
}

// ---- the policy ------------------------------------------------------------------

OutboundPolicy::OutboundPolicy(std::vector<Cidr> allow, Resolver resolver)
    : allow_(std::move(allow)), resolver_(std::move(resolver)) {}

Result<OutboundPolicy> OutboundPolicy::Parse(std::string_view allow_list, Resolver resolver) {
  std::vector<Cidr> allow;
  while (!allow_list.empty()) {
    size_t comma = allow_list.find(',');
    std::string_view item = allow_list.substr(0, comma);
    allow_list = comma == std::string_view::npos ? std::string_view() : allow_list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    RP_ASSIGN_OR_RETURN(Cidr c, Cidr::Parse(item));
    allow.push_back(c);
  }
  return OutboundPolicy(std::move(allow), std::move(resolver));
}

std::string OutboundPolicy::Refusal(const IpAddress& a) const {
  for (const Cidr& c : allow_) {
    if (c.Contains(a)) return {};
  }
  std::string_view why = DeniedRange(a);
  if (why.empty()) return {};
  std::string text = a.ToString();
  IpAddress inner = a.Unwrapped();
  if (!(inner == a)) text += " (" + inner.ToString() + ")";
  return text + " is " + std::string(why);
}

Result<HttpTarget> OutboundPolicy::ParseUrl(std::string_view url) const {
  if (url.size() > 2000) return Status::InvalidArgument("a URL has at most 2000 characters");
  for (char ch : url) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) {
      return Status::InvalidArgument(
          "a URL cannot hold spaces, control characters or non-ASCII characters (percent-encode them)");
    }
  }
  UrlHandle h;
  if (h.u == nullptr) return Status::Internal("curl_url failed");
  std::string text(url);
  CURLUcode rc = curl_url_set(h.u, CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument(std::string("expected an http:// or https:// URL: ") + curl_url_strerror(rc));
  }
  HttpTarget t;
  t.scheme = h.Get(CURLUPART_SCHEME).value_or("");
  if (t.scheme != "http" && t.scheme != "https") {
    return Status::InvalidArgument("expected an http:// or https:// URL, not " + t.scheme + "://");
  }
  if (h.Get(CURLUPART_USER) || h.Get(CURLUPART_PASSWORD) || h.Get(CURLUPART_OPTIONS)) {
    return Status::InvalidArgument("a URL cannot carry a user name or password (requests are signed instead)");
  }
  // libcurl reads "http:///host" as "http://host/"; a URL other systems
  // read differently is refused rather than guessed at.
  size_t authority = url.find("://");
  if (authority == std::string_view::npos || url.substr(authority + 3, 1) == "/") {
    return Status::InvalidArgument("the URL names no host");
  }
  t.host = h.Get(CURLUPART_HOST).value_or("");
  if (t.host.size() >= 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  if (t.host.empty()) return Status::InvalidArgument("the URL names no host");
  if (h.Get(CURLUPART_ZONEID)) return Status::InvalidArgument("a URL cannot name an IPv6 zone");
  std::string port = h.Get(CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), t.port);
  if (port.empty() || ec != std::errc() || t.port < 1 || t.port > 65535) {
    return Status::InvalidArgument("the URL's port is not 1 to 65535");
  }
  return t;
}

Result<std::vector<IpAddress>> OutboundPolicy::Addresses(const std::string& host) const {
  if (auto literal = IpAddress::Parse(host)) return std::vector<IpAddress>{*literal};
  if (auto numeric = NumericHost(host)) return std::vector<IpAddress>{*numeric};
  return resolver_ ? resolver_(host) : SystemResolve(host);
}

Status OutboundPolicy::CheckUrl(std::string_view url, const std::string& field) const {
  auto target = ParseUrl(url);
  if (!target.ok()) return Status::Unprocessable(target.status().message(), field);
  auto addresses = Addresses(target->host);
  if (!addresses.ok()) return Status::Ok();  // not resolvable now: checked again at every connection
  std::string refusals;
  for (const IpAddress& a : *addresses) {
    std::string why = Refusal(a);
    if (why.empty()) return Status::Ok();
    refusals += (refusals.empty() ? "" : "; ") + why;
  }
  bool named = !IpAddress::Parse(target->host).has_value() && !NumericHost(target->host).has_value();
  std::string what = named ? "'" + target->host + "' resolves only to denied addresses: " + refusals : refusals;
  return Status::Unprocessable(what +
                                   ". Rapport sends no requests to loopback, private, link-local, metadata or other "
                                   "internal addresses unless `rapport serve --outbound-allow` allows them",
                               field);
}

Result<HttpTarget> OutboundPolicy::Resolve(std::string_view url) const {
  RP_ASSIGN_OR_RETURN(HttpTarget t, ParseUrl(url));
  RP_ASSIGN_OR_RETURN(auto addresses, Addresses(t.host));
  std::string refusals;
  for (const IpAddress& a : addresses) {
    std::string why = Refusal(a);
    if (why.empty()) {
      t.addresses.push_back(a);
    } else {
      refusals += (refusals.empty() ? "" : "; ") + why;
    }
  }
  if (t.addresses.empty()) {
    return Status::PermissionDenied("refused by the outbound address policy: " + refusals + " (" + t.host +
                                    "); `rapport serve --outbound-allow` allows internal targets");
  }
  return t;
}

}  // namespace rapport::net
