#pragma once
// Where Rapport may send requests that users configure (trigger webhooks,
// decide-and-deliver endpoints, any provider URL): one outbound address
// policy, so a stored URL cannot make the server reach its own loopback, the
// cloud metadata service or the company's private network (SSRF). A URL is
// checked when it is stored (CheckUrl) and its host's addresses again right
// before each connection (Resolve, and Refusal on the address a client
// actually connects to), so a name that resolves elsewhere later (DNS
// rebinding) is caught too. A company's own internal targets are allowed by
// CIDR (`rapport serve --outbound-allow`).
// Addresses are parsed with inet_pton/getaddrinfo and URLs with libcurl's
// URL parser, never by matching strings, so odd spellings of an address
// (2130706433, 0x7f.1, 0177.0.0.1, ::ffff:127.0.0.1) are the address.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sockaddr;

namespace rapport::net {

// An IPv4 or IPv6 address. Value type.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4

  // A literal in the forms inet_pton reads ("10.0.0.1", "fe80::1"); nullopt
  // otherwise. (Host names and the legacy IPv4 spellings go through
  // getaddrinfo, see OutboundPolicy.)
  static std::optional<IpAddress> Parse(std::string_view text);
  // From an AF_INET or AF_INET6 socket address; nullopt for other families.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* sa);
  // The IPv4 address an IPv6 form carries (IPv4-mapped ::ffff:a.b.c.d,
  // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d); itself otherwise.
  IpAddress Unwrapped() const;
  std::string ToString() const;  // "127.0.0.1", "::1"
  bool operator==(const IpAddress& o) const { return v6 == o.v6 && bytes == o.bytes; }
};

// A block of addresses: "10.0.0.0/8", "fd12:3456::/48", or one address
// ("192.168.1.20", a /32 or /128). Value type.
struct Cidr {
  IpAddress base;  // with the bits past the prefix cleared
  int prefix = 0;

  // InvalidArgument (naming nothing: callers name their field) unless text
  // is an address, optionally with a prefix length within its family.
  static Result<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;  // IPv4-mapped forms count as their IPv4 address
  std::string ToString() const;
};

// The deny list: why an address is not to be connected to ("loopback",
// "private", "link-local", "cloud metadata", "carrier-grade NAT",
// "unspecified", "multicast", "broadcast", "reserved"), or empty for a
// public address. IPv6 forms carrying an IPv4 address are judged by it.
std::string_view DeniedRange(const IpAddress& a);

// The parts of an http(s) URL a client needs to connect.
struct HttpTarget {
  std::string scheme;  // "http" or "https"
  std::string host;    // as libcurl's URL parser normalizes it; IPv6 without brackets
  int port = 0;        // the explicit port or the scheme's default
  std::vector<IpAddress> addresses;  // Resolve: the allowed addresses, in resolver order
};

// Resolves a host name to its addresses (getaddrinfo by default). Tests
// plug in their own to play DNS, rebinding included.
using Resolver = std::function<Result<std::vector<IpAddress>>(const std::string& host)>;
Result<std::vector<IpAddress>> SystemResolve(const std::string& host);

// The outbound address policy. Immutable once built, so thread-safe.
class OutboundPolicy {
 public:
  // The deny list with nothing allowed past it, resolving with getaddrinfo.
  OutboundPolicy() = default;
  explicit OutboundPolicy(std::vector<Cidr> allow, Resolver resolver = nullptr);
  // "10.20.0.0/16,192.168.1.5" as `rapport serve --outbound-allow` takes it
  // (comma separated, spaces ignored, empty: nothing allowed). InvalidArgument
  // naming the bad entry.
  static Result<OutboundPolicy> Parse(std::string_view allow_list, Resolver resolver = nullptr);

  const std::vector<Cidr>& allowed() const { return allow_; }

  // Empty when the address may be connected to (public, or inside an allowed
  // block); otherwise a sentence saying why not ("127.0.0.1 is loopback").
  std::string Refusal(const IpAddress& a) const;

  // Checks a URL that is about to be stored. Unprocessable naming `field`
  // when it is longer than 2000 bytes, holds spaces, control or non-ASCII
  // characters, is not an absolute http:// or https:// URL, carries a user
  // name or password, or names a host that is a denied address or resolves
  // only to denied ones. A name that does not resolve now is accepted: it is
  // checked again at every connection.
  Status CheckUrl(std::string_view url, const std::string& field) const;

  // At connect time: parses the URL and resolves its host now, keeping the
  // allowed addresses. InvalidArgument for a URL CheckUrl refuses for its
  // form; PermissionDenied (saying which addresses and why) when every
  // address is denied; Unavailable when the name does not resolve.
  Result<HttpTarget> Resolve(std::string_view url) const;

 private:
  Result<HttpTarget> ParseUrl(std::string_view url) const;
  Result<std::vector<IpAddress>> Addresses(const std::string& host) const;

  std::vector<Cidr> allow_;
  Resolver resolver_;
};

}  // namespace rapport::net
