#pragma once
// JSON forms shared inside the module: a definition as stored (without its
// secret, which has a column of its own), and JSON values as FEEL values.

#include <string>

#include "common/json.h"
#include "decision/triggers.h"
#include "feel/feel.h"

namespace rapport::decision::internal {

void WriteDefinitionMembers(json::Writer& w, const TriggerDefinition& d, bool with_secret);
// The definition as ParseTriggerDefinition reads it, without the secret.
std::string DefinitionToJson(const TriggerDefinition& d);

// JSON text (an object) as a FEEL context; null when it does not parse.
feel::Value FeelFromJsonText(std::string_view text);
}  // namespace rapport::decision::internal
