// Fuzz target for the JSON bodies of the trigger and case routes: trigger
// definitions, new cases and case patches. A definition that parses must
// survive the stored form (DefinitionToJson, which the engine reloads at
// start) unchanged, or a restart would lose or alter a trigger. Nothing may
// crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "decision/internal/trigger_json.h"
#include "decision/triggers.h"

namespace {

bool Same(const rapport::decision::TriggerDefinition& a, const rapport::decision::TriggerDefinition& b) {
  const auto &x = a.action, &y = b.action;
  return a.name == b.name && a.description == b.description && a.enabled == b.enabled &&
         a.event.type == b.event.type && a.event.name == b.event.name && a.event.where == b.event.where &&
         a.condition == b.condition && x.type == y.type && x.team == y.team && x.title == y.title &&
         x.priority == y.priority && x.assignee == y.assignee && x.due_in_hours == y.due_in_hours &&
         x.url == y.url && x.decision_point == y.decision_point && x.channel == y.channel &&
         x.severity == y.severity && x.message == y.message && x.case_kind == y.case_kind;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto def = rapport::decision::ParseTriggerDefinition(text);
  if (def.ok()) {
    std::string stored = rapport::decision::internal::DefinitionToJson(*def);
    auto again = rapport::decision::ParseTriggerDefinition(stored);
    if (!again.ok() || !Same(*def, *again)) std::abort();
    rapport::decision::Trigger t;
    t.definition = *def;
    (void)rapport::decision::TriggerToJson(t);
  }
  auto c = rapport::decision::ParseNewCase(text);
  if (c.ok()) (void)rapport::decision::CaseToJson(*c);
  (void)rapport::decision::ParseCasePatch(text);
  return 0;
}
