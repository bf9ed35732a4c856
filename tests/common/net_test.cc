// The outbound address policy: every denied range, the IPv6 and legacy
// IPv4 spellings of them, allow-lists, and the URL checks.

#include "common/net.h"

#include <gtest/gtest.h>

#include <map>

namespace rapport::net {
namespace {

struct Spelled {
  const char* host;       // as a URL would name it
  const char* range;      // what DeniedRange says; "" for public
};

TEST(OutboundPolicyTest, DeniesInternalRangesInEverySpelling) {
  const Spelled cases[] = {
      {"127.0.0.1", "loopback"},
      {"127.255.1.2", "loopback"},
      {"0.0.0.0", "unspecified"},
      {"0.1.2.3", "unspecified"},
      {"10.1.2.3", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.168.0.1", "private"},
      {"100.64.0.1", "carrier-grade NAT"},
      {"100.127.255.254", "carrier-grade NAT"},
      {"169.254.169.254", "cloud metadata"},
      {"169.254.1.1", "link-local"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"240.0.0.1", "reserved"},
      {"192.0.0.192", "reserved"},
      {"::1", "loopback"},
      {"::", "unspecified"},
      {"fe80::1", "link-local"},
      {"fc00::1", "private"},
      {"fd12:3456::1", "private"},
      {"fd00:ec2::254", "cloud metadata"},
      {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback"},         // IPv4-mapped
      {"::ffff:7f00:1", "loopback"},            // the same, in hex
      {"::ffff:169.254.169.254", "cloud metadata"},
      {"::127.0.0.1", "loopback"},              // IPv4-compatible
      {"::ffff:10.0.0.1", "private"},
      {"64:ff9b::a9fe:a9fe", "cloud metadata"},  // NAT64 of 169.254.169.254
      // Public addresses pass.
      {"93.184.216.34", ""},
      {"8.8.8.8", ""},
      {"172.32.0.1", ""},
      {"100.128.0.1", ""},
      {"2606:4700::1111", ""},
      {"::ffff:8.8.8.8", ""},
  };
  OutboundPolicy policy;
  for (const auto& c : cases) {
    auto a = IpAddress::Parse(c.host);
    ASSERT_TRUE(a.has_value()) << c.host;
    EXPECT_EQ(DeniedRange(*a), c.range) << c.host;
    EXPECT_EQ(policy.Refusal(*a).empty(), std::string(c.range).empty()) << c.host << ": " << policy.Refusal(*a);
  }
}

TEST(OutboundPolicyTest, LegacyIpv4SpellingsAreTheAddressTheyName) {
  // inet_aton (and so every HTTP client) reads these as 127.0.0.1 or the
  // metadata address: the policy must too.
  OutboundPolicy policy;
  for (const char* url : {"http://2130706433/", "http://0x7f000001/", "http://017700000001/", "http://0x7f.1/",
                          "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://2852039166/latest",
                          "http://0xa9.0xfe.0xa9.0xfe/", "http://[::ffff:127.0.0.1]:8080/",
                          "http://[::1]/", "http://[fd00:ec2::254]/"}) {
    Status s = policy.CheckUrl(url, "/action/url");
    EXPECT_EQ(s.code(), StatusCode::kUnprocessable) << url << " -> " << s.ToString();
    EXPECT_EQ(s.field(), "/action/url") << url;
    auto at_connect = policy.Resolve(url);
    EXPECT_EQ(at_connect.status().code(), StatusCode::kPermissionDenied) << url << " -> " << at_connect.status().ToString();
  }
}

TEST(OutboundPolicyTest, RefusesUrlsByTheirForm) {
  OutboundPolicy policy;
  const std::map<std::string, std::string> cases = {
      {"ftp://files.example.com/x", "http"},
      {"file:///etc/passwd", "http"},
      {"gopher://example.com/", "http"},
      {"http://user:secret@example.com/hook", "user name or password"},
      {"http://user@example.com/hook", "user name or password"},
      {"http://example.com/a\r\nSet-Cookie: x=1", "control"},
      {"http://example.com/a b", "spaces"},
      {std::string("http://example.com/\0x", 21), "control"},
      {"http://exämple.com/", "non-ASCII"},
      {"example.com/hook", "http"},
      {"http:///nohost", ""},
      {"http://example.com:99999/", ""},
      {"http://" + std::string(2000, 'a') + ".com/", "2000"},
  };
  for (const auto& [url, says] : cases) {
    Status s = policy.CheckUrl(url, "/action/url");
    EXPECT_EQ(s.code(), StatusCode::kUnprocessable) << url;
    EXPECT_EQ(s.field(), "/action/url") << url;
    EXPECT_NE(s.message().find(says), std::string::npos) << url << " -> " << s.message();
    EXPECT_EQ(policy.Resolve(url).status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(OutboundPolicyTest, HostNamesAreJudgedByWhatTheyResolveTo) {
  std::map<std::string, std::vector<std::string>> dns = {
      {"internal.example", {"10.0.0.5", "fd00::5"}},
      {"mixed.example", {"127.0.0.1", "93.184.216.34"}},
      {"public.example", {"93.184.216.34"}},
  };
  Resolver resolve = [&](const std::string& host) -> Result<std::vector<IpAddress>> {
    auto it = dns.find(host);
    if (it == dns.end()) return Status::Unavailable("cannot resolve '" + host + "'");
    std::vector<IpAddress> out;
    for (const auto& a : it->second) out.push_back(*IpAddress::Parse(a));
    return out;
  };
  OutboundPolicy policy({}, resolve);
  Status internal = policy.CheckUrl("https://internal.example/hook", "/action/url");
  EXPECT_EQ(internal.code(), StatusCode::kUnprocessable);
  EXPECT_NE(internal.message().find("'internal.example' resolves only to denied addresses: 10.0.0.5 is private"),
            std::string::npos)
      << internal.message();
  EXPECT_TRUE(policy.CheckUrl("https://public.example/hook", "/action/url").ok());
  EXPECT_TRUE(policy.CheckUrl("https://mixed.example/hook", "/action/url").ok());
  // A name that does not resolve now is checked again when connecting.
  EXPECT_TRUE(policy.CheckUrl("https://unknown.example/hook", "/action/url").ok());
  EXPECT_EQ(policy.Resolve("https://unknown.example/hook").status().code(), StatusCode::kUnavailable);

  // At connect time only the allowed addresses are kept.
  auto mixed = policy.Resolve("https://mixed.example:8443/hook");
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ(mixed->host, "mixed.example");
  EXPECT_EQ(mixed->port, 8443);
  ASSERT_EQ(mixed->addresses.size(), 1u);
  EXPECT_EQ(mixed->addresses[0].ToString(), "93.184.216.34");
  EXPECT_EQ(policy.Resolve("http://public.example/")->port, 80);

  // DNS rebinding: the name pointed elsewhere when stored; now it is internal.
  dns["public.example"] = {"169.254.169.254"};
  auto rebound = policy.Resolve("https://public.example/hook");
  EXPECT_EQ(rebound.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(rebound.status().message().find("169.254.169.254 is cloud metadata"), std::string::npos)
      << rebound.status().message();
}

TEST(OutboundPolicyTest, TheSystemResolverSeesLocalhostAsLoopback) {
  OutboundPolicy policy;
  Status s = policy.CheckUrl("http://localhost:8080/admin", "/action/url");
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable) << s.ToString();
  EXPECT_NE(s.message().find("'localhost' resolves only to denied addresses"), std::string::npos) << s.message();
}

TEST(OutboundPolicyTest, AllowListLetsACompanysOwnTargetsThrough) {
  auto policy = OutboundPolicy::Parse(" 10.20.0.0/16, 192.168.1.5 ,fd12:3456::/32,127.0.0.1/32");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_EQ(policy->allowed().size(), 4u);
  EXPECT_EQ(policy->allowed()[1].ToString(), "192.168.1.5/32");
  EXPECT_TRUE(policy->CheckUrl("http://10.20.3.4:9000/crm", "/u").ok());
  EXPECT_TRUE(policy->CheckUrl("http://[::ffff:10.20.3.4]/crm", "/u").ok());  // the same address
  EXPECT_TRUE(policy->CheckUrl("http://192.168.1.5/", "/u").ok());
  EXPECT_TRUE(policy->CheckUrl("http://[fd12:3456:1::9]/", "/u").ok());
  EXPECT_TRUE(policy->CheckUrl("http://2130706433:8080/", "/u").ok());  // 127.0.0.1
  EXPECT_FALSE(policy->CheckUrl("http://10.21.0.1/", "/u").ok());
  EXPECT_FALSE(policy->CheckUrl("http://192.168.1.6/", "/u").ok());
  EXPECT_FALSE(policy->CheckUrl("http://127.0.0.2/", "/u").ok());
  EXPECT_FALSE(policy->CheckUrl("http://169.254.169.254/", "/u").ok());

  // Prefixes are normalized: host bits past the prefix are cleared.
  auto c = Cidr::Parse("10.20.30.40/16");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "10.20.0.0/16");
  EXPECT_EQ(Cidr::Parse("::ffff:10.0.0.0/104")->ToString(), "10.0.0.0/8");
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0/8", "example.com", "10.0.0.0/", "10.0.0.0/x"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
  auto bad = OutboundPolicy::Parse("10.0.0.0/8,nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nonsense"), std::string::npos);
  EXPECT_TRUE(OutboundPolicy::Parse("").ok());
}

}  // namespace
}  // namespace rapport::net
