// TCK test-case reading, comparison and the folder runner.

#include "dmn/tck.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace rapport::dmn {
namespace {

namespace fs = std::filesystem;

std::string_view LocalName(std::string_view name) {
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& n, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) out.push_back(c);
  }
  return out;
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) return c;
  }
  return {};
}

// The attribute with that local name (xsi:type, xsi:nil under any prefix).
std::string_view AttrLocal(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
    if (LocalName(a.name()) == local) return a.value();
  }
  return {};
}

bool IsNil(const pugi::xml_node& n) { return AttrLocal(n, "nil") == "true"; }

feel::Value CallBuiltin(const char* name, const std::string& text) {
  auto f = feel::FindBuiltin(name);
  if (!f) return feel::Value();
  feel::EvalContext ctx;
  feel::Value arg = feel::Value::String(text);
  return f->Call(std::span<const feel::Value>(&arg, 1), ctx);
}

Result<feel::Value> SimpleValue(const pugi::xml_node& v, std::string_view source) {
  if (IsNil(v)) return feel::Value();
  std::string text;
  for (pugi::xml_node c = v.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) text += c.value();
  }
  std::string_view type = LocalName(AttrLocal(v, "type"));
  if (type.empty() || type == "string" || type == "anySimpleType") return feel::Value::String(text);
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  std::string t = trim(text);
  if (type == "decimal" || type == "double" || type == "float" || type == "integer" || type == "int" ||
      type == "long" || type == "short") {
    auto d = feel::Decimal::Parse(t);
    if (!d.ok()) return feel::Value();  // NaN, INF: not a FEEL number
    return feel::Value::Number(*d);
  }
  if (type == "boolean") return feel::Value::Boolean(t == "true" || t == "1");
  feel::Value out;
  if (type == "date") out = CallBuiltin("date", t);
  else if (type == "dateTime") out = CallBuiltin("date and time", t);
  else if (type == "time") out = CallBuiltin("time", t);
  else if (type == "duration" || type == "dayTimeDuration" || type == "yearMonthDuration") out = CallBuiltin("duration", t);
  else return Status::InvalidArgument(std::string(source) + ": unsupported xsi:type '" + std::string(type) + "'");
  if (out.is_null()) {
    return Status::InvalidArgument(std::string(source) + ": '" + t + "' is not a valid " + std::string(type));
  }
  return out;
}

// A valueType element: <value>, <component>s or <list>.
Result<feel::Value> ReadValue(const pugi::xml_node& n, std::string_view source, int depth = 0) {
  if (depth > 100) return Status::InvalidArgument(std::string(source) + ": values nested too deeply");
  if (IsNil(n)) return feel::Value();
  if (pugi::xml_node v = Child(n, "value")) return SimpleValue(v, source);
  if (pugi::xml_node l = Child(n, "list")) {
    if (IsNil(l)) return feel::Value();
    std::vector<feel::Value> items;
    for (const auto& item : Children(l, "item")) {
      RP_ASSIGN_OR_RETURN(auto x, ReadValue(item, source, depth + 1));
      items.push_back(std::move(x));
    }
    return feel::Value::List(std::move(items));
  }
  auto comps = Children(n, "component");
  if (!comps.empty()) {
    feel::ContextEntries entries;
    for (const auto& c : comps) {
      RP_ASSIGN_OR_RETURN(auto x, ReadValue(c, source, depth + 1));
      entries.emplace_back(c.attribute("name").value(), std::move(x));
    }
    return feel::Value::Context(std::move(entries));
  }
  return feel::Value();
}

std::string Csv(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "\"";
}

int LevelOf(const std::string& path) {
  size_t p = path.find("compliance-level-");
  if (p == std::string::npos) return 0;
  return std::atoi(path.c_str() + p + 17);
}

Result<std::string> Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Describe(const feel::Value& v) {
  std::string s = v.ToString();
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

// Runs one test case against a loaded model.
void RunCase(const Model& model, const TckTestCase& tc, TckCaseResult* row) {
  std::string failures;
  EvaluateOptions options;
  options.explain = false;
  auto check = [&](const TckResultNode& rn, const feel::Value& actual, const std::vector<std::string>& messages) {
    bool ok;
    if (rn.error_result) {
      ok = actual.is_null() || (rn.has_expected && TckValuesMatch(rn.expected, actual));
    } else {
      ok = TckValuesMatch(rn.expected, actual);
    }
    if (ok) return;
    if (!failures.empty()) failures += "; ";
    failures += "'" + rn.name + "': expected " + (rn.error_result ? "an error" : Describe(rn.expected)) +
                " but got " + Describe(actual);
    if (!messages.empty()) failures += " (" + messages.front() + ")";
  };
  if (tc.kind == TckTestCase::Kind::kDecisionService) {
    auto r = model.EvaluateService(tc.invocable_name, tc.inputs, options);
    if (!r.ok()) {
      row->message = r.status().message();
      return;
    }
    for (const auto& rn : tc.results) {
      const DecisionOutcome* d = r->Find(rn.name);
      // A null service result (a wrong-typed argument or output) makes every
      // output null, whatever the output decisions evaluated to.
      feel::Value actual = rn.name == tc.invocable_name || d == nullptr || r->value.is_null() ? r->value : d->value;
      check(rn, actual, r->messages);
    }
  } else if (tc.kind == TckTestCase::Kind::kBkm) {
    row->outcome = TckOutcome::kIgnored;
    row->message = "bkm test cases are not run";
    return;
  } else {
    for (const auto& rn : tc.results) {
      auto r = model.Evaluate(rn.name, tc.inputs, options);
      if (!r.ok()) {
        if (!failures.empty()) failures += "; ";
        failures += r.status().message();
        continue;
      }
      const DecisionOutcome* d = r->Find(rn.name);
      check(rn, r->value, d ? d->messages : r->messages);
    }
  }
  if (failures.empty()) {
    row->outcome = TckOutcome::kSuccess;
  } else {
    row->message = failures;
  }
}

}  // namespace

Result<TckTestFile> ReadTckTestFile(std::string_view xml, std::string_view source) {
  pugi::xml_document doc;
  // parse_ws_pcdata_single keeps a value made only of spaces (<value> </value>
  // is the string " "), while whitespace between elements is still dropped.
  pugi::xml_parse_result pr =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!pr) {
    return Status::InvalidArgument(std::string(source) + ": malformed XML at offset " + std::to_string(pr.offset) +
                                   ": " + pr.description());
  }
  pugi::xml_node root = doc.document_element();
  if (LocalName(root.name()) != "testCases") {
    return Status::InvalidArgument(std::string(source) + ": expected a <testCases> root element");
  }
  TckTestFile file;
  if (pugi::xml_node m = Child(root, "modelName")) file.model_name = m.text().get();
  for (const auto& c : Children(root, "testCase")) {
    TckTestCase tc;
    tc.id = c.attribute("id").value();
    std::string_view type = c.attribute("type").value();
    if (type == "bkm") tc.kind = TckTestCase::Kind::kBkm;
    else if (type == "decisionService") tc.kind = TckTestCase::Kind::kDecisionService;
    tc.invocable_name = c.attribute("invocableName").value();
    if (pugi::xml_node d = Child(c, "description")) tc.description = d.text().get();
    for (const auto& in : Children(c, "inputNode")) {
      RP_ASSIGN_OR_RETURN(auto v, ReadValue(in, source));
      tc.inputs.push_back({in.attribute("namespace").value(), in.attribute("name").value(), std::move(v)});
    }
    for (const auto& rn : Children(c, "resultNode")) {
      TckResultNode r;
      r.name = rn.attribute("name").value();
      r.ns = rn.attribute("namespace").value();
      r.error_result = std::string_view(rn.attribute("errorResult").value()) == "true";
      if (pugi::xml_node e = Child(rn, "expected")) {
        r.has_expected = true;
        RP_ASSIGN_OR_RETURN(r.expected, ReadValue(e, source));
      }
      tc.results.push_back(std::move(r));
    }
    file.cases.push_back(std::move(tc));
  }
  return file;
}

bool TckValuesMatch(const feel::Value& expected, const feel::Value& actual) {
  if (expected.is_null()) return actual.is_null();
  if (actual.is_null()) return false;
  switch (expected.type()) {
    case feel::Type::kNumber:
      if (!actual.is(feel::Type::kNumber)) return false;
      if (feel::Decimal::Compare(expected.number(), actual.number()) == 0) return true;
      // Expected figures given with fewer decimals than computed (exp(4) as
      // 54.59815003) match the result rounded to that many decimals.
      {
        std::string e = expected.number().ToString();
        size_t dot = e.find('.');
        int scale = dot == std::string::npos ? 0 : static_cast<int>(e.size() - dot - 1);
        std::string a = actual.number().ToString();
        size_t adot = a.find('.');
        int ascale = adot == std::string::npos ? 0 : static_cast<int>(a.size() - adot - 1);
        if (scale > 0 && ascale > scale) {
          if (auto round = feel::FindBuiltin("decimal")) {
            feel::EvalContext ctx;
            feel::Value args[2] = {actual, feel::Value::Number(scale)};
            feel::Value r = round->Call(args, ctx);
            if (r.is(feel::Type::kNumber) && feel::Decimal::Compare(r.number(), expected.number()) == 0) return true;
          }
        }
      }
      // Expected figures of the TCK were often computed in binary floating
      // point: accept a difference in the last digits a double can hold.
      return std::fabs(expected.number().ToDouble() - actual.number().ToDouble()) <=
             1e-12 * std::fabs(expected.number().ToDouble());
    case feel::Type::kList: {
      if (!actual.is(feel::Type::kList) || actual.list().size() != expected.list().size()) return false;
      for (size_t i = 0; i < expected.list().size(); ++i) {
        if (!TckValuesMatch(expected.list()[i], actual.list()[i])) return false;
      }
      return true;
    }
    case feel::Type::kContext: {
      if (!actual.is(feel::Type::kContext)) return false;
      for (const auto& [k, v] : expected.context()) {
        const feel::Value* a = actual.Get(k);
        if (a == nullptr ? !v.is_null() : !TckValuesMatch(v, *a)) return false;
      }
      for (const auto& [k, v] : actual.context()) {
        if (expected.Get(k) == nullptr) return false;
      }
      return true;
    }
    default:
      return expected.type() == actual.type() && expected == actual;
  }
}

int TckReport::passed() const {
  return static_cast<int>(std::count_if(cases.begin(), cases.end(), [](const auto& c) {
    return c.outcome == TckOutcome::kSuccess;
  }));
}

int TckReport::failed() const {
  return static_cast<int>(std::count_if(cases.begin(), cases.end(), [](const auto& c) {
    return c.outcome == TckOutcome::kError;
  }));
}

int TckReport::Count(int level, bool passed) const {
  int n = 0;
  for (const auto& c : cases) {
    if (c.level != level || c.outcome == TckOutcome::kIgnored) continue;
    if ((c.outcome == TckOutcome::kSuccess) == passed) ++n;
  }
  return n;
}

double TckReport::PassRate(int level) const {
  int p = Count(level, true), f = Count(level, false);
  return p + f == 0 ? 1.0 : static_cast<double>(p) / (p + f);
}

std::string TckReport::ToCsv() const {
  std::string out;
  for (const auto& c : cases) {
    const char* outcome = c.outcome == TckOutcome::kSuccess ? "SUCCESS" : c.outcome == TckOutcome::kError ? "ERROR" : "IGNORED";
    out += Csv(c.folder) + "," + Csv(c.file_stem) + "," + Csv(c.test_id) + "," + Csv(outcome) + "," + Csv(c.message) + "\n";
  }
  return out;
}

Result<TckReport> RunTck(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("not a directory: " + dir);
  // Folders holding test files, in path order.
  std::map<fs::path, std::vector<fs::path>> folders;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string fname = it->path().filename().string();
    if (fname.find("-test-") != std::string::npos && it->path().extension() == ".xml") {
      folders[it->path().parent_path()].push_back(it->path());
    }
  }
  if (ec) return Status::NotFound("cannot read " + dir + ": " + ec.message());
  TckReport report;
  for (auto& [folder, files] : folders) {
    std::sort(files.begin(), files.end());
    std::string rel = fs::relative(folder, dir, ec).generic_string();
    if (rel.empty() || rel == ".") {
      fs::path abs = fs::absolute(folder);
      rel = (abs.parent_path().filename() / abs.filename()).generic_string();
    }
    int level = LevelOf(rel);
    if (level == 0) level = LevelOf(fs::absolute(folder).generic_string());
    std::map<std::string, Result<std::unique_ptr<Model>>> models;
    for (const auto& file : files) {
      std::string stem = file.stem().string();
      auto text = Slurp(file);
      Result<TckTestFile> tf = text.ok() ? ReadTckTestFile(*text, file.filename().string()) : Result<TckTestFile>(text.status());
      if (!tf.ok()) {
        report.cases.push_back({rel, stem, "", TckOutcome::kError, tf.status().message(), level});
        continue;
      }
      std::string model_name = tf->model_name;
      if (model_name.empty()) {
        for (const auto& e : fs::directory_iterator(folder, ec)) {
          if (e.path().extension() == ".dmn") model_name = e.path().filename().string();
        }
      }
      auto mit = models.find(model_name);
      if (mit == models.end()) {
        LoadOptions options;
        options.strict = false;  // one bad expression fails its decision, not the folder
        mit = models.emplace(model_name, LoadModelFile((folder / model_name).string(), options)).first;
      }
      for (const auto& tc : tf->cases) {
        TckCaseResult row{rel, stem, tc.id, TckOutcome::kError, "", level};
        if (!mit->second.ok()) {
          row.message = mit->second.status().message();
        } else {
          RunCase(**mit->second, tc, &row);
        }
        report.cases.push_back(std::move(row));
      }
    }
  }
  return report;
}

int RunTckCommand(const std::string& dir, const std::string& csv_path, std::ostream& out) {
  auto report = RunTck(dir);
  if (!report.ok()) {
    out << "error: " << report.status().message() << "\n";
    return 2;
  }
  for (const auto& c : report->cases) {
    if (c.outcome != TckOutcome::kError) continue;
    out << "FAIL " << c.folder << " " << c.file_stem << " " << c.test_id << ": " << c.message << "\n";
  }
  std::vector<int> levels;
  for (const auto& c : report->cases) {
    if (std::find(levels.begin(), levels.end(), c.level) == levels.end()) levels.push_back(c.level);
  }
  std::sort(levels.begin(), levels.end());
  for (int level : levels) {
    int p = report->Count(level, true), f = report->Count(level, false);
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f%%", 100.0 * report->PassRate(level));
    out << (level > 0 ? "compliance level " + std::to_string(level) : std::string("other")) << ": " << p << "/"
        << (p + f) << " passed (" << rate << ")\n";
  }
  if (!csv_path.empty()) {
    std::ofstream csv(csv_path, std::ios::binary);
    csv << report->ToCsv();
    if (!csv) {
      out << "error: cannot write " << csv_path << "\n";
      return 2;
    }
  }
  out << report->passed() << " passed, " << report->failed() << " failed\n";
  return report->failed() == 0 ? 0 : 1;
}

}  // namespace rapport::dmn
