// Fuzz target for the Segment tracking payload decoder: the first byte picks
// the call (identify, track, page, screen, group, alias, or a /v1/batch
// body), the rest is the request body. A failure must name a JSON pointer
// (or nothing) and be a 400 or 413; an accepted event must fit Segment's
// per-event limit, carry a message id and an id of its person, and encode to
// JSON that parses again. Nothing may crash, hang or leak.

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/tracking.h"

namespace {

using namespace rapport;
using namespace rapport::ingest;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckError(const Status& s) {
  Check(!s.ok());
  Check(s.field().empty() || s.field().front() == '/');
  int code = HttpStatusOf(s.code());
  Check(code == 400 || code == 413);
}

void CheckEvent(const TrackingEvent& e) {
  Check(!e.message_id.empty());
  Check(!e.user_id.empty() || !e.anonymous_id.empty());
  if (e.type == EventType::kAlias) Check(!e.previous_id.empty() && !e.user_id.empty());
  if (e.type == EventType::kGroup) Check(!e.group_id.empty());
  if (e.type == EventType::kTrack) Check(!e.event.empty());
  std::string json = EventToJson(e);
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  Check(!d.HasParseError() && d.IsObject());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Timestamp now = Timestamp::FromSeconds(1'780'000'000);
  int pick = data[0] % 7;
  Result<DecodedPayload> r = pick == 6 ? DecodeBatch(body, now) : DecodeCall(static_cast<EventType>(pick), body, now);
  if (!r.ok()) {
    CheckError(r.status());
    return 0;
  }
  if (pick != 6) Check(r->events.size() == 1 && r->rejected.empty());
  for (const auto& e : r->events) CheckEvent(e);
  for (const auto& rej : r->rejected) {
    CheckError(rej.status);
    Check(rej.status.field().rfind("/batch/" + std::to_string(rej.index), 0) == 0);
  }
  return 0;
}
