// Fuzz target for the Rapport-Signature header parser: any header must be
// either refused or checked without crashing, and the header SignWebhook
// makes for the input as a body must always verify (and not for another body).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decision/triggers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  const rapport::Timestamp now = rapport::Timestamp::FromSeconds(1'790'000'000);
  const std::string secret = "whsec_fuzz_secret_0123456789";
  rapport::Status s = rapport::decision::VerifyWebhookSignature(text, secret, "{}", now);
  if (s.ok() && text.find("v1=") == std::string::npos) std::abort();  // nothing to match, yet accepted
  std::string header = rapport::decision::SignWebhook(secret, now, text);
  if (!rapport::decision::VerifyWebhookSignature(header, secret, text, now).ok()) std::abort();
  if (rapport::decision::VerifyWebhookSignature(header, secret, text + "x", now).ok()) std::abort();
  return 0;
}
