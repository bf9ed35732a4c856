// Fuzz target for the profile configuration parser (DATA_DIR/profile.json):
// any input either parses or gives an error naming a member. Nothing may
// crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "profile/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto o = rapport::profile::ParseProfileOptions(text, rapport::Timestamp{0});
  if (o.ok()) (void)o->aggregates.size();
  return 0;
}
