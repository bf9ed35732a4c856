// Compiling a trigger's FEEL once, when it is saved or loaded: the event
// filter, the condition and the case title or alert message, with the names
// they may use checked, and the index of enabled triggers by event.

#include "decision/internal/trigger_engine_impl.h"

namespace rapport::decision {
namespace {

// Compiles one FEEL member; errors name the member and the position.
Result<feel::Expression> CompileMember(const std::string& text, const std::string& field,
                                       const std::vector<std::string>& known) {
  feel::CompileOptions opt;
  opt.known_names = known;
  auto e = feel::Compile(text, opt);
  if (!e.ok()) return Status::InvalidArgument(e.status().field() + ": " + e.status().message(), field);
  return *e;
}

// Evaluates e once over a scope holding every allowed name (null columns,
// an event with empty properties) and turns an "unknown variable" warning
// into an error: a misspelt column would otherwise make the condition
// quietly false forever.
Status CheckNames(const feel::Expression& e, const feel::Scope& scope, const std::string& field,
                  std::string_view allowed) {
  feel::EvalContext ctx;
  (void)e.Evaluate(scope, ctx);
  // A condition past the budget even on empty values would never fire.
  if (ctx.stopped()) return ctx.LimitStatus(field);
  for (const std::string& w : ctx.warnings()) {
    if (w.find("unknown variable") != std::string::npos) {
      return Status::InvalidArgument(w + " (" + std::string(allowed) + ")", field);
    }
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

Result<CompiledPtr> CompileTrigger(const Trigger& t, const profile::ProfileStore* profile) {
  auto out = std::make_shared<CompiledTrigger>();
  out->trigger = t;
  const TriggerDefinition& d = t.definition;
  std::vector<std::pair<std::string, profile::ColumnType>> all_columns;
  if (profile != nullptr) all_columns = profile->columns();
  std::vector<std::string> known = {"event"};
  for (const auto& [name, type] : all_columns) known.push_back(name);

  // The scope the name check evaluates in.
  feel::Scope sample;
  feel::Value sample_event = feel::Value::Context({{"type", feel::Value::String(d.event.type)},
                                                   {"name", feel::Value::String(d.event.name)},
                                                   {"messageId", feel::Value::String("")},
                                                   {"seq", feel::Value::Number(0)},
                                                   {"customerId", feel::Value::Number(0)},
                                                   {"timestamp", feel::Value::FromTimestamp({})},
                                                   {"properties", feel::Value::Context({})},
                                                   {"traits", feel::Value::Context({})}});
  sample.Set("event", sample_event);
  feel::Scope event_only;
  event_only.Set("event", sample_event);
  for (const auto& [name, type] : all_columns) sample.Set(name, feel::Value::Null());

  if (!d.event.where.empty()) {
    RP_ASSIGN_OR_RETURN(out->where, CompileMember(d.event.where, "/event/where", {"event"}));
    RP_RETURN_IF_ERROR(CheckNames(*out->where, event_only, "/event/where", "only event is known here"));
  }
  std::string texts;
  if (!d.condition.empty()) {
    RP_ASSIGN_OR_RETURN(out->condition, CompileMember(d.condition, "/condition", known));
    RP_RETURN_IF_ERROR(CheckNames(*out->condition, sample, "/condition", "neither event nor a profile column"));
    texts += d.condition;
  }
  const TriggerAction& a = d.action;
  if (a.type == ActionType::kCase || a.type == ActionType::kAlert) {
    const std::string& text = a.type == ActionType::kCase ? a.title : a.message;
    std::string field = a.type == ActionType::kCase ? "/action/title" : "/action/message";
    RP_ASSIGN_OR_RETURN(out->text, CompileMember(text, field, known));
    RP_RETURN_IF_ERROR(CheckNames(*out->text, sample, field,
                                  "neither event nor a profile column; plain text is written as a FEEL string, "
                                  "in double quotes"));
    texts += "\n" + text;
  }
  // Read only the columns named in the text: a column name that is not
  // a reference (inside a string) costs one lookup, nothing worse.
  for (const auto& col : all_columns) {
    if (texts.find(col.first) != std::string::npos) out->columns.push_back(col);
  }
  return CompiledPtr(out);
}


}  // namespace internal

void TriggerEngine::Impl::RebuildIndex() {
  auto next = std::make_shared<TriggerIndex>();
  for (const auto& [id, t] : triggers) {
    const TriggerDefinition& d = t->trigger.definition;
    if (!d.enabled || !t->error.empty()) continue;
    next->by_event[d.event.type + "\n" + d.event.name].push_back(t);
  }
  index = std::move(next);
}

}  // namespace rapport::decision
