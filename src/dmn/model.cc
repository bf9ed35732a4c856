// The public face of the dmn module: loading (with imports), evaluation of
// decisions and services, JSON conversion and the `rapport dmn eval` command.

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "dmn/dmn.h"
#include "dmn/internal/boxed.h"
#include "dmn/internal/evaluate.h"
#include "dmn/internal/model.h"
#include "dmn/internal/runtime.h"

namespace rapport::dmn {

class ModelImpl {
 public:
  internal::ModelSet set;
};

namespace {

using internal::Definitions;
using internal::Element;
using internal::ElementKind;

bool IsDmnImport(const internal::Import& imp) {
  if (imp.import_type.empty()) return true;
  return imp.import_type.find("DMN") != std::string::npos || imp.import_type.find("MODEL") != std::string::npos;
}

Status LoadImports(internal::ModelSet& set, size_t index, const LoadOptions& options, int depth) {
  if (depth > 32) return Status::InvalidArgument("imports nested too deeply");
  // Copy: loading appends to set.definitions.
  std::vector<internal::Import> imports = set.definitions[index]->imports;
  const std::string source = set.definitions[index]->source;
  for (const auto& imp : imports) {
    if (!IsDmnImport(imp)) continue;
    bool loaded = false;
    for (const auto& d : set.definitions) loaded = loaded || d->ns == imp.ns;
    if (loaded) continue;
    if (!options.resolve_import) {
      return Status::NotFound(source + ": import '" + imp.name + "' (namespace " + imp.ns +
                              "): no way to find imported models");
    }
    auto text = options.resolve_import(imp.ns, imp.location);
    if (!text.ok()) {
      return Status::NotFound(source + ": import '" + imp.name + "' (namespace " + imp.ns +
                              "): " + text.status().message());
    }
    std::string name = imp.location.empty() ? imp.name : imp.location;
    RP_ASSIGN_OR_RETURN(auto defs, internal::ParseDefinitions(*text, name));
    if (defs->ns != imp.ns) {
      return Status::InvalidArgument(source + ": import '" + imp.name + "' expects namespace " + imp.ns +
                                     " but the model found has " + defs->ns);
    }
    set.definitions.push_back(std::move(defs));
    RP_RETURN_IF_ERROR(LoadImports(set, set.definitions.size() - 1, options, depth + 1));
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The namespace attribute of a DMN file's root element, without a full parse.
std::string RootNamespace(const std::string& xml) {
  size_t d = xml.find("definitions");
  while (d != std::string::npos && d > 0 && xml[d - 1] != '<' && xml[d - 1] != ':') d = xml.find("definitions", d + 1);
  if (d == std::string::npos) return {};
  size_t end = xml.find('>', d);
  size_t pos = d;
  while (true) {
    pos = xml.find("namespace=", pos);
    if (pos == std::string::npos || pos > end) return {};
    char before = xml[pos - 1];
    if (before == ' ' || before == '\n' || before == '\t' || before == '\r') break;
    pos += 10;
  }
  char quote = xml[pos + 10];
  size_t close = xml.find(quote, pos + 11);
  if (close == std::string::npos) return {};
  return xml.substr(pos + 11, close - pos - 11);
}

internal::EvalEnv MakeEnv(feel::EvalContext* ctx, Explanation* explanation) {
  internal::EvalEnv env;
  env.ctx = ctx;
  env.explanation = explanation;
  return env;
}

Status ResolveInputs(const internal::ModelSet& set, std::span<const NamedInput> inputs, internal::Evaluation* ev) {
  for (const auto& in : inputs) {
    const Definitions* defs = set.main();
    if (!in.ns.empty()) {
      defs = nullptr;
      for (const auto& d : set.definitions) {
        if (d->ns == in.ns) defs = d.get();
      }
      if (defs == nullptr) continue;  // not part of this model: ignored like unknown names
    }
    const Element* e = nullptr;
    for (const auto& x : defs->elements) {
      if (x->name == in.name && (x->kind == ElementKind::kInputData || x->kind == ElementKind::kDecision)) e = x.get();
    }
    if (e == nullptr) continue;
    feel::Value v = internal::ConformOrNull(in.value, e->type, ev->env, "input '" + in.name + "'");
    ev->overrides.values.emplace_back(e, std::move(v));
  }
  return Status::Ok();
}

std::vector<NamedInput> FromContext(const internal::ModelSet& set, const feel::Value& inputs) {
  std::vector<NamedInput> out;
  if (!inputs.is(feel::Type::kContext)) return out;
  for (const auto& [name, value] : inputs.context()) {
    const internal::Import* imp = nullptr;
    for (const auto& i : set.main()->imports) {
      if (i.name == name && i.target != nullptr) imp = &i;
    }
    if (imp != nullptr && value.is(feel::Type::kContext)) {
      for (const auto& [n2, v2] : value.context()) out.push_back({imp->ns, n2, v2});
      continue;
    }
    out.push_back({"", name, value});
  }
  return out;
}

}  // namespace

const DecisionOutcome* EvaluationResult::Find(std::string_view decision_name) const {
  for (const auto& d : decisions) {
    if (d.name == decision_name) return &d;
  }
  return nullptr;
}

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const std::string& Model::name() const { return impl_->set.main()->name; }
const std::string& Model::ns() const { return impl_->set.main()->ns; }
const std::vector<std::string>& Model::diagnostics() const { return impl_->set.diagnostics; }

std::vector<ElementInfo> Model::Elements() const {
  std::vector<ElementInfo> out;
  for (const auto& e : impl_->set.main()->elements) {
    ElementInfo info;
    info.name = e->name;
    info.id = e->id;
    info.ns = e->defs->ns;
    info.type_ref = e->type_ref;
    switch (e->kind) {
      case ElementKind::kInputData: info.kind = ElementInfo::Kind::kInputData; break;
      case ElementKind::kDecision: info.kind = ElementInfo::Kind::kDecision; break;
      case ElementKind::kBkm: info.kind = ElementInfo::Kind::kBusinessKnowledgeModel; break;
      case ElementKind::kService: info.kind = ElementInfo::Kind::kDecisionService; break;
    }
    out.push_back(std::move(info));
  }
  return out;
}

namespace {

// The limit an evaluation ran into, naming the element it evaluated.
Status OverLimit(const feel::EvalContext& ctx, const char* kind, const std::string& name) {
  if (!ctx.stopped()) return Status::Ok();
  Status s = ctx.LimitStatus("");
  return Status(s.code(), std::string(kind) + " '" + name + "': " + s.message());
}

}  // namespace

Result<EvaluationResult> Model::Evaluate(std::string_view decision, const feel::Value& inputs,
                                         const EvaluateOptions& options) const {
  std::vector<NamedInput> named = FromContext(impl_->set, inputs);
  return Evaluate(decision, named, options);
}

Result<EvaluationResult> Model::Evaluate(std::string_view decision, std::span<const NamedInput> inputs,
                                         const EvaluateOptions& options) const {
  const internal::ModelSet& set = impl_->set;
  Element* d = set.FindByName(*set.main(), decision);
  if (d == nullptr || d->kind != ElementKind::kDecision) {
    return Status::NotFound("model '" + name() + "' has no decision '" + std::string(decision) + "'");
  }
  EvaluationResult result;
  feel::EvalContext ctx(options.clock, options.limits);
  internal::Evaluation ev(&set, &ctx);
  ev.env = MakeEnv(&ctx, options.explain ? &result.explanation : nullptr);
  ev.outcomes = &result.decisions;
  RP_RETURN_IF_ERROR(ResolveInputs(set, inputs, &ev));
  internal::ScopedEvalEnv guard(&ev.env);
  result.value = ev.Decision(d);
  RP_RETURN_IF_ERROR(OverLimit(ctx, "decision", d->name));
  result.messages = ctx.warnings();
  return result;
}

Result<EvaluationResult> Model::EvaluateService(std::string_view service, std::span<const NamedInput> inputs,
                                                const EvaluateOptions& options) const {
  const internal::ModelSet& set = impl_->set;
  Element* s = set.FindByName(*set.main(), service);
  if (s == nullptr || s->kind != ElementKind::kService) {
    return Status::NotFound("model '" + name() + "' has no decision service '" + std::string(service) + "'");
  }
  EvaluationResult result;
  feel::EvalContext ctx(options.clock, options.limits);
  internal::EvalEnv env = MakeEnv(&ctx, options.explain ? &result.explanation : nullptr);
  std::vector<std::string> params = internal::ServiceParameters(s);
  std::vector<feel::Value> args(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    for (const auto& in : inputs) {
      if (in.name == params[i]) args[i] = in.value;
    }
  }
  internal::ScopedEvalEnv guard(&env);
  env.depth = 0;
  result.value = internal::EvaluateServiceCall(&set, s, args, &env, &result.decisions, ctx);
  RP_RETURN_IF_ERROR(OverLimit(ctx, "decision service", s->name));
  result.messages = ctx.warnings();
  return result;
}

Result<std::unique_ptr<Model>> LoadModel(std::string_view xml, std::string_view source_name,
                                         const LoadOptions& options) {
  auto impl = std::make_unique<ModelImpl>();
  RP_ASSIGN_OR_RETURN(auto defs, internal::ParseDefinitions(xml, source_name));
  impl->set.definitions.push_back(std::move(defs));
  RP_RETURN_IF_ERROR(LoadImports(impl->set, 0, options, 0));
  RP_RETURN_IF_ERROR(internal::CompileModelSet(impl->set, options.strict));
  return std::make_unique<Model>(std::move(impl));
}

Result<std::unique_ptr<Model>> LoadModelFile(const std::string& path, const LoadOptions& load_options) {
  RP_ASSIGN_OR_RETURN(std::string xml, ReadFile(path));
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  LoadOptions options = load_options;
  if (!options.resolve_import) options.resolve_import = [dir, path](std::string_view ns, std::string_view location) -> Result<std::string> {
    if (!location.empty()) {
      auto p = dir / std::string(location);
      std::error_code ec;
      if (std::filesystem::is_regular_file(p, ec)) return ReadFile(p);
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".dmn") continue;
      auto text = ReadFile(entry.path());
      if (text.ok() && RootNamespace(*text) == ns) return text;
    }
    return Status::NotFound("no .dmn file with that namespace next to " + path);
  };
  return LoadModel(xml, std::filesystem::path(path).filename().string(), options);
}

// ---------------------------------------------------------------------------
// JSON.

namespace {

class ValueBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ValueBuilder> {
 public:
  bool Null() { return Add(feel::Value()); }
  bool Bool(bool b) { return Add(feel::Value::Boolean(b)); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    auto d = feel::Decimal::Parse(std::string_view(s, n));
    if (!d.ok()) return false;
    return Add(feel::Value::Number(*d));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) { return Add(feel::Value::String(std::string(s, n))); }
  bool StartObject() {
    stack_.push_back({true, {}, {}, {}});
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    stack_.back().key.assign(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return Add(feel::Value::Context(std::move(f.entries)));
  }
  bool StartArray() {
    stack_.push_back({false, {}, {}, {}});
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return Add(feel::Value::List(std::move(f.items)));
  }
  feel::Value result;

 private:
  struct Frame {
    bool object;
    std::string key;
    feel::ContextEntries entries;
    std::vector<feel::Value> items;
  };
  bool Add(feel::Value v) {
    if (stack_.empty()) {
      result = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (!f.object) {
      f.items.push_back(std::move(v));
      return true;
    }
    for (auto& [k, old] : f.entries) {
      if (k == f.key) {
        old = std::move(v);
        return true;
      }
    }
    f.entries.emplace_back(f.key, std::move(v));
    return true;
  }
  std::vector<Frame> stack_;
};

void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w, const feel::Value& v) {
  switch (v.type()) {
    case feel::Type::kNull: w.Null(); return;
    case feel::Type::kBoolean: w.Bool(v.boolean()); return;
    case feel::Type::kNumber: {
      std::string s = v.number().ToString();
      w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
      return;
    }
    case feel::Type::kString: w.String(v.string().data(), static_cast<rapidjson::SizeType>(v.string().size())); return;
    case feel::Type::kList:
      w.StartArray();
      for (const auto& e : v.list()) WriteJson(w, e);
      w.EndArray();
      return;
    case feel::Type::kContext:
      w.StartObject();
      for (const auto& [k, e] : v.context()) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        WriteJson(w, e);
      }
      w.EndObject();
      return;
    default: {
      // Temporal values as their ISO text (the FEEL literal's string).
      std::string s = v.ToString();
      size_t a = s.find('"'), b = s.rfind('"');
      if (a != std::string::npos && b > a) s = s.substr(a + 1, b - a - 1);
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
      return;
    }
  }
}

// Converts a JSON string given for a temporal input into that type.
feel::Value TemporalFromString(const feel::Value& v, const std::string& type_ref) {
  if (!v.is(feel::Type::kString)) return v;
  std::string fn;
  if (type_ref == "date") fn = "date";
  else if (type_ref == "time") fn = "time";
  else if (type_ref == "dateTime" || type_ref == "date and time") fn = "date and time";
  else if (type_ref == "dayTimeDuration" || type_ref == "yearMonthDuration" || type_ref == "days and time duration" ||
           type_ref == "years and months duration")
    fn = "duration";
  if (fn.empty()) return v;
  auto f = feel::FindBuiltin(fn);
  if (!f) return v;
  feel::EvalContext ctx;
  feel::Value arg = v;
  feel::Value out = f->Call(std::span<const feel::Value>(&arg, 1), ctx);
  return out.is_null() ? v : out;
}

}  // namespace

Result<feel::Value> ValueFromJson(std::string_view json) {
  ValueBuilder builder;
  rapidjson::Reader reader;
  std::string copy(json);
  rapidjson::StringStream ss(copy.c_str());
  rapidjson::ParseResult r = reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag>(ss, builder);
  if (!r) {
    return Status::InvalidArgument(std::string("malformed JSON at offset ") + std::to_string(r.Offset()) + ": " +
                                   rapidjson::GetParseError_En(r.Code()));
  }
  return builder.result;
}

std::string ValueToJson(const feel::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  WriteJson(w, value);
  return std::string(buf.GetString(), buf.GetSize());
}

int RunEvalCommand(const std::string& model_path, const std::string& decision, const std::string& input_json,
                   std::ostream& out) {
  auto model = LoadModelFile(model_path);
  if (!model.ok()) {
    out << "error: " << model.status().message() << "\n";
    return 2;
  }
  auto input = ValueFromJson(input_json.empty() ? std::string_view("{}") : std::string_view(input_json));
  if (!input.ok()) {
    out << "error: --input: " << input.status().message() << "\n";
    return 2;
  }
  if (!input->is(feel::Type::kContext)) {
    out << "error: --input must be a JSON object of input names to values\n";
    return 2;
  }
  feel::ContextEntries entries = input->context();
  for (auto& [name, value] : entries) {
    for (const auto& e : (*model)->Elements()) {
      if (e.name == name && e.kind == ElementInfo::Kind::kInputData) value = TemporalFromString(value, e.type_ref);
    }
  }
  auto result = (*model)->Evaluate(decision, feel::Value::Context(std::move(entries)));
  if (!result.ok()) {
    out << "error: " << result.status().message() << "\n";
    return 2;
  }
  out << ValueToJson(result->value) << "\n";
  for (const auto& t : result->explanation.tables) {
    out << "table in '" << t.element << "' (" << t.hit_policy << "): ";
    if (t.matched_rules.empty()) out << "no rule matched";
    for (size_t i = 0; i < t.matched_rules.size(); ++i) {
      out << (i ? ", " : "") << "rule " << t.matched_rules[i];
      if (!t.deciding_inputs[i].empty()) {
        out << " on ";
        for (size_t k = 0; k < t.deciding_inputs[i].size(); ++k) out << (k ? ", " : "") << t.deciding_inputs[i][k];
      }
    }
    out << "; inputs:";
    for (const auto& [n, v] : t.inputs) out << " " << n << " = " << v.ToString() << ";";
    out << "\n";
  }
  for (const auto& m : result->messages) out << "warning: " << m << "\n";
  return result->messages.empty() ? 0 : 1;
}

}  // namespace rapport::dmn
