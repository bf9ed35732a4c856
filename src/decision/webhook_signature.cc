// Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.

#include <sodium.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "decision/triggers.h"

namespace rapport::decision {
namespace {

std::string HmacHex(std::string_view secret, std::string_view signed_payload) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_payload.data()),
                                signed_payload.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string(hex, 2 * crypto_auth_hmacsha256_BYTES);
}

std::string Payload(int64_t seconds, std::string_view body) {
  std::string p = std::to_string(seconds);
  p += '.';
  p.append(body);
  return p;
}

}  // namespace

std::string SignWebhook(std::string_view secret, Timestamp t, std::string_view body) {
  return "t=" + std::to_string(t.seconds()) + ",v1=" + HmacHex(secret, Payload(t.seconds(), body));
}

Status VerifyWebhookSignature(std::string_view header, std::string_view secret, std::string_view body,
                              Timestamp now, std::chrono::seconds tolerance) {
  std::optional<int64_t> t;
  std::vector<std::string_view> v1;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("signature items are scheme=value, got '" + std::string(item) + "'",
                                     std::string(kSignatureHeader));
    }
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "t") {
      if (t) return Status::InvalidArgument("t= is given twice", std::string(kSignatureHeader));
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return Status::InvalidArgument("t= must be unix seconds, got '" + std::string(value) + "'",
                                       std::string(kSignatureHeader));
      }
      t = seconds;
    } else if (key == "v1") {
      if (value.size() != 2 * crypto_auth_hmacsha256_BYTES) {
        return Status::InvalidArgument("v1= must be 64 hex digits", std::string(kSignatureHeader));
      }
      v1.push_back(value);
    }  // other schemes: ignored, so new ones can be added beside v1
    pos = comma + 1;
  }
  if (!t) return Status::InvalidArgument("the signature has no t= timestamp", std::string(kSignatureHeader));
  if (v1.empty()) return Status::InvalidArgument("the signature has no v1= entry", std::string(kSignatureHeader));
  int64_t skew = now.seconds() - *t;
  if (std::llabs(skew) > tolerance.count()) {
    return Status::Unauthenticated("the signature's timestamp is " + std::to_string(skew) +
                                   " s away from now, beyond the tolerance");
  }
  std::string expected = HmacHex(secret, Payload(*t, body));
  for (std::string_view candidate : v1) {
    std::string lower(candidate);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (sodium_memcmp(lower.data(), expected.data(), expected.size()) == 0) return Status::Ok();
  }
  return Status::Unauthenticated("no v1 signature matches the body");
}

}  // namespace rapport::decision
