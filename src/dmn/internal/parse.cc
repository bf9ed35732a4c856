// DMN XML (1.1 to 1.5) to Definitions. Namespaces differ between versions
// and exporters, so elements are matched by local name. Every error names the
// element and its line.

#include <pugixml.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dmn/internal/boxed.h"
#include "dmn/internal/model.h"

namespace rapport::dmn::internal {
namespace {

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) return c;
  }
  return {};
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& n, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) out.push_back(c);
  }
  return out;
}

std::string TextOf(const pugi::xml_node& n) {
  std::string out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
  return out;
}

// The <text> child's content.
std::string ChildText(const pugi::xml_node& n, std::string_view local) {
  pugi::xml_node c = Child(n, local);
  if (!c) return {};
  pugi::xml_node t = Child(c, "text");
  return t ? TextOf(t) : TextOf(c);
}

std::string Attr(const pugi::xml_node& n, const char* name) { return n.attribute(name).value(); }

bool IsExpressionElement(std::string_view local) {
  static constexpr std::string_view kNames[] = {
      "literalExpression", "decisionTable", "context", "list", "relation", "invocation",
      "functionDefinition", "conditional", "filter", "for", "every", "some"};
  return std::find(std::begin(kNames), std::end(kNames), local) != std::end(kNames);
}

class Reader {
 public:
  Reader(std::string_view xml, std::string_view source) : source_(source) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < xml.size(); ++i) {
      if (xml[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  int LineOf(ptrdiff_t offset) const {
    if (offset < 0) return 0;
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), static_cast<size_t>(offset));
    return static_cast<int>(it - line_starts_.begin());
  }
  int LineOf(const pugi::xml_node& n) const { return LineOf(n.offset_debug()); }

  Status Error(const pugi::xml_node& n, const std::string& message) const {
    std::string what(LocalName(n));
    std::string name = Attr(n, "name");
    if (!name.empty()) what += " '" + name + "'";
    return Status::InvalidArgument(source_ + ":" + std::to_string(LineOf(n)) + ": " + what + ": " + message);
  }

  // The first boxed-expression child of n, or null when there is none.
  Result<std::unique_ptr<Node>> OptionalExpression(const pugi::xml_node& n) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element && IsExpressionElement(LocalName(c))) return Expression(c);
    }
    return std::unique_ptr<Node>();
  }

  Result<std::unique_ptr<Node>> RequiredExpression(const pugi::xml_node& n) {
    RP_ASSIGN_OR_RETURN(auto e, OptionalExpression(n));
    if (!e) return Error(n, "expected a boxed expression inside");
    return e;
  }

  Result<std::unique_ptr<Node>> Expression(const pugi::xml_node& n) {
    if (++depth_ > 200) return Error(n, "expressions nested too deeply");
    auto r = ExpressionInner(n);
    --depth_;
    if (r.ok()) {
      Node& node = **r;
      node.id = Attr(n, "id");
      node.type_ref = Attr(n, "typeRef");
      node.line = LineOf(n);
    }
    return r;
  }

  Result<std::unique_ptr<Node>> ExpressionInner(const pugi::xml_node& n) {
    std::string_view local = LocalName(n);
    if (local == "literalExpression") {
      auto node = std::make_unique<LiteralNode>();
      node->text = ChildText(n, "text");
      if (!Child(n, "text") && Child(n, "importedValues")) return Error(n, "importedValues are not supported");
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "decisionTable") return DecisionTable(n);
    if (local == "context") {
      auto node = std::make_unique<ContextNode>();
      for (const auto& e : Children(n, "contextEntry")) {
        ContextNode::Entry entry;
        if (pugi::xml_node v = Child(e, "variable")) {
          entry.name = Attr(v, "name");
          entry.type_ref = Attr(v, "typeRef");
        }
        RP_ASSIGN_OR_RETURN(entry.expr, OptionalExpression(e));
        node->entries.push_back(std::move(entry));
      }
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "list") {
      auto node = std::make_unique<ListNode>();
      for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && IsExpressionElement(LocalName(c))) {
          RP_ASSIGN_OR_RETURN(auto item, Expression(c));
          node->items.push_back(std::move(item));
        }
      }
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "relation") {
      auto node = std::make_unique<RelationNode>();
      for (const auto& c : Children(n, "column")) {
        node->columns.push_back({Attr(c, "name"), Attr(c, "typeRef"), nullptr});
      }
      for (const auto& r : Children(n, "row")) {
        std::vector<std::unique_ptr<Node>> cells;
        for (pugi::xml_node c = r.first_child(); c; c = c.next_sibling()) {
          if (c.type() == pugi::node_element && IsExpressionElement(LocalName(c))) {
            RP_ASSIGN_OR_RETURN(auto cell, Expression(c));
            cells.push_back(std::move(cell));
          }
        }
        if (cells.size() != node->columns.size()) {
          return Error(r, "row has " + std::to_string(cells.size()) + " cells for " +
                              std::to_string(node->columns.size()) + " columns");
        }
        node->rows.push_back(std::move(cells));
      }
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "invocation") {
      auto node = std::make_unique<InvocationNode>();
      RP_ASSIGN_OR_RETURN(node->callee, RequiredExpression(n));
      for (const auto& b : Children(n, "binding")) {
        InvocationNode::Binding binding;
        pugi::xml_node p = Child(b, "parameter");
        if (!p) return Error(b, "binding without parameter");
        binding.parameter = Attr(p, "name");
        RP_ASSIGN_OR_RETURN(binding.expr, OptionalExpression(b));
        node->bindings.push_back(std::move(binding));
      }
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "functionDefinition") {
      RP_ASSIGN_OR_RETURN(auto fn, FunctionDefinition(n));
      return std::unique_ptr<Node>(std::move(fn));
    }
    if (local == "conditional") {
      auto node = std::make_unique<ConditionalNode>();
      pugi::xml_node i = Child(n, "if"), t = Child(n, "then"), e = Child(n, "else");
      if (!i || !t || !e) return Error(n, "needs if, then and else");
      RP_ASSIGN_OR_RETURN(node->condition, RequiredExpression(i));
      RP_ASSIGN_OR_RETURN(node->then_branch, RequiredExpression(t));
      RP_ASSIGN_OR_RETURN(node->else_branch, RequiredExpression(e));
      return std::unique_ptr<Node>(std::move(node));
    }
    if (local == "filter") {
      auto node = std::make_unique<FilterNode>();
      pugi::xml_node i = Child(n, "in"), m = Child(n, "match");
      if (!i || !m) return Error(n, "needs in and match");
      RP_ASSIGN_OR_RETURN(node->in, RequiredExpression(i));
      RP_ASSIGN_OR_RETURN(node->match, RequiredExpression(m));
      return std::unique_ptr<Node>(std::move(node));
    }
    // for, every, some
    auto node = std::make_unique<IteratorNode>();
    node->kind = local == "for" ? IteratorNode::Kind::kFor
                 : local == "every" ? IteratorNode::Kind::kEvery
                                    : IteratorNode::Kind::kSome;
    node->variable = Attr(n, "iteratorVariable");
    if (node->variable.empty()) return Error(n, "missing iteratorVariable");
    pugi::xml_node i = Child(n, "in");
    pugi::xml_node body = Child(n, local == "for" ? "return" : "satisfies");
    if (!i || !body) return Error(n, local == "for" ? "needs in and return" : "needs in and satisfies");
    RP_ASSIGN_OR_RETURN(node->in, RequiredExpression(i));
    RP_ASSIGN_OR_RETURN(node->body, RequiredExpression(body));
    return std::unique_ptr<Node>(std::move(node));
  }

  Result<std::unique_ptr<FunctionDefinitionNode>> FunctionDefinition(const pugi::xml_node& n) {
    auto node = std::make_unique<FunctionDefinitionNode>();
    std::string kind = Attr(n, "kind");
    if (!kind.empty()) node->kind = kind;
    for (const auto& p : Children(n, "formalParameter")) {
      node->parameters.push_back({Attr(p, "name"), Attr(p, "typeRef"), nullptr});
      node->parameter_names.push_back(Attr(p, "name"));
    }
    RP_ASSIGN_OR_RETURN(node->body, OptionalExpression(n));
    node->id = Attr(n, "id");
    node->type_ref = Attr(n, "typeRef");
    node->line = LineOf(n);
    return node;
  }

  Result<std::unique_ptr<Node>> DecisionTable(const pugi::xml_node& n) {
    auto node = std::make_unique<DecisionTableNode>();
    std::string hp = Attr(n, "hitPolicy");
    if (hp.empty() || hp == "UNIQUE") node->hit_policy = HitPolicy::kUnique;
    else if (hp == "ANY") node->hit_policy = HitPolicy::kAny;
    else if (hp == "PRIORITY") node->hit_policy = HitPolicy::kPriority;
    else if (hp == "FIRST") node->hit_policy = HitPolicy::kFirst;
    else if (hp == "RULE ORDER") node->hit_policy = HitPolicy::kRuleOrder;
    else if (hp == "OUTPUT ORDER") node->hit_policy = HitPolicy::kOutputOrder;
    else if (hp == "COLLECT") node->hit_policy = HitPolicy::kCollect;
    else return Error(n, "unknown hitPolicy '" + hp + "'");
    std::string agg = Attr(n, "aggregation");
    if (agg.empty()) node->aggregation = Aggregation::kNone;
    else if (agg == "SUM") node->aggregation = Aggregation::kSum;
    else if (agg == "COUNT") node->aggregation = Aggregation::kCount;
    else if (agg == "MIN") node->aggregation = Aggregation::kMin;
    else if (agg == "MAX") node->aggregation = Aggregation::kMax;
    else return Error(n, "unknown aggregation '" + agg + "'");
    if (node->aggregation != Aggregation::kNone && node->hit_policy != HitPolicy::kCollect) {
      return Error(n, "aggregation " + agg + " needs hit policy COLLECT");
    }
    node->output_label = Attr(n, "outputLabel");
    for (const auto& in : Children(n, "input")) {
      DecisionTableNode::Input input;
      input.label = Attr(in, "label");
      input.line = LineOf(in);
      pugi::xml_node e = Child(in, "inputExpression");
      if (!e) return Error(in, "missing inputExpression");
      input.text = ChildText(in, "inputExpression");
      input.type_ref = Attr(e, "typeRef");
      input.values_text = ChildText(in, "inputValues");
      node->inputs.push_back(std::move(input));
    }
    for (const auto& out : Children(n, "output")) {
      DecisionTableNode::Output output;
      output.name = Attr(out, "name");
      output.type_ref = Attr(out, "typeRef");
      output.values_text = ChildText(out, "outputValues");
      output.default_text = ChildText(out, "defaultOutputEntry");
      output.line = LineOf(out);
      node->outputs.push_back(std::move(output));
    }
    if (node->outputs.empty()) return Error(n, "decision table without output");
    if (node->outputs.size() > 1) {
      for (const auto& o : node->outputs) {
        if (o.name.empty()) return Error(n, "a table with several outputs needs a name on each output");
      }
    }
    int number = 0;
    for (const auto& r : Children(n, "rule")) {
      ++number;
      DecisionTableNode::Rule rule;
      rule.id = Attr(r, "id");
      rule.line = LineOf(r);
      for (const auto& e : Children(r, "inputEntry")) rule.input_texts.push_back(TextOf(Child(e, "text")));
      for (const auto& e : Children(r, "outputEntry")) rule.output_texts.push_back(TextOf(Child(e, "text")));
      if (rule.input_texts.size() != node->inputs.size()) {
        return Error(r, "rule " + std::to_string(number) + " has " + std::to_string(rule.input_texts.size()) +
                            " input entries for " + std::to_string(node->inputs.size()) + " inputs");
      }
      if (rule.output_texts.size() != node->outputs.size()) {
        return Error(r, "rule " + std::to_string(number) + " has " + std::to_string(rule.output_texts.size()) +
                            " output entries for " + std::to_string(node->outputs.size()) + " outputs");
      }
      node->rules.push_back(std::move(rule));
    }
    return std::unique_ptr<Node>(std::move(node));
  }

  Result<std::unique_ptr<TypeDef>> ItemDefinition(const pugi::xml_node& n, bool top) {
    auto t = std::make_unique<TypeDef>();
    t->name = Attr(n, "name");
    if (t->name.empty()) return Error(n, "item definition without name");
    t->line = LineOf(n);
    t->is_collection = std::string_view(n.attribute("isCollection").value()) == "true";
    if (pugi::xml_node tr = Child(n, "typeRef")) t->base_ref = TextOf(tr);
    if (t->base_ref.empty()) t->base_ref = Attr(n, "typeRef");
    t->allowed_text = ChildText(n, "allowedValues");
    t->constraint_text = ChildText(n, "typeConstraint");
    for (const auto& c : Children(n, "itemComponent")) {
      RP_ASSIGN_OR_RETURN(auto comp, ItemDefinition(c, false));
      t->owned_components.push_back(std::move(comp));
      t->is_structure = true;
    }
    if (pugi::xml_node fi = Child(n, "functionItem")) {
      t->is_function = true;
      t->output_ref = Attr(fi, "outputTypeRef");
    }
    return t;
  }

  static void Href(const pugi::xml_node& n, Requirement* r) {
    std::string href = Attr(n, "href");
    size_t hash = href.find('#');
    if (hash == std::string::npos) {
      r->href_id = href;
    } else {
      r->href_ns = href.substr(0, hash);
      r->href_id = href.substr(hash + 1);
    }
  }

  Status Requirements(const pugi::xml_node& n, Element* e) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
      std::string_view local = LocalName(c);
      if (local != "informationRequirement" && local != "knowledgeRequirement") continue;
      for (pugi::xml_node r = c.first_child(); r; r = r.next_sibling()) {
        if (r.type() != pugi::node_element) continue;
        std::string_view rl = LocalName(r);
        Requirement req;
        if (rl == "requiredDecision") req.kind = ElementKind::kDecision;
        else if (rl == "requiredInput") req.kind = ElementKind::kInputData;
        else if (rl == "requiredKnowledge") req.kind = ElementKind::kBkm;
        else continue;
        Href(r, &req);
        if (req.href_id.empty()) return Error(r, "requirement without href");
        e->requirements.push_back(std::move(req));
      }
    }
    return Status::Ok();
  }

  void Variable(const pugi::xml_node& n, Element* e) {
    if (pugi::xml_node v = Child(n, "variable")) e->type_ref = Attr(v, "typeRef");
  }

  Result<std::unique_ptr<Definitions>> Read(std::string_view xml) {
    pugi::xml_document doc;
    pugi::xml_parse_result pr = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single);
    if (!pr) {
      return Status::InvalidArgument(source_ + ":" + std::to_string(LineOf(pr.offset)) +
                                     ": malformed XML: " + pr.description());
    }
    pugi::xml_node root = doc.document_element();
    if (!root || LocalName(root) != "definitions") {
      return Status::InvalidArgument(source_ + ":" + std::to_string(root ? LineOf(root) : 1) +
                                     ": expected a DMN <definitions> root element");
    }
    auto defs = std::make_unique<Definitions>();
    defs->name = Attr(root, "name");
    defs->ns = Attr(root, "namespace");
    defs->id = Attr(root, "id");
    defs->source = source_;
    for (pugi::xpath_node xn : root.select_nodes("//@name | //@iteratorVariable")) {
      std::string_view v = xn.attribute().value();
      if (!v.empty()) defs->declared_names.emplace_back(v);
    }
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view local = LocalName(c);
      if (local == "import") {
        defs->imports.push_back({Attr(c, "name"), Attr(c, "namespace"), Attr(c, "locationURI"),
                                 Attr(c, "importType"), nullptr});
        continue;
      }
      if (local == "itemDefinition") {
        RP_ASSIGN_OR_RETURN(auto t, ItemDefinition(c, true));
        std::string name = t->name;
        defs->types[name] = std::move(t);
        continue;
      }
      auto e = std::make_unique<Element>();
      e->id = Attr(c, "id");
      e->name = Attr(c, "name");
      e->line = LineOf(c);
      e->defs = defs.get();
      if (local == "inputData") {
        e->kind = ElementKind::kInputData;
        Variable(c, e.get());
      } else if (local == "decision") {
        e->kind = ElementKind::kDecision;
        Variable(c, e.get());
        RP_RETURN_IF_ERROR(Requirements(c, e.get()));
        RP_ASSIGN_OR_RETURN(e->logic, OptionalExpression(c));
      } else if (local == "businessKnowledgeModel") {
        e->kind = ElementKind::kBkm;
        Variable(c, e.get());
        RP_RETURN_IF_ERROR(Requirements(c, e.get()));
        if (pugi::xml_node logic = Child(c, "encapsulatedLogic")) {
          RP_ASSIGN_OR_RETURN(auto fn, FunctionDefinition(logic));
          e->logic = std::move(fn);
        }
      } else if (local == "decisionService") {
        e->kind = ElementKind::kService;
        Variable(c, e.get());
        auto refs = [&](const char* name, std::vector<Requirement>* out, ElementKind kind) {
          for (const auto& r : Children(c, name)) {
            Requirement req;
            req.kind = kind;
            Href(r, &req);
            out->push_back(std::move(req));
          }
        };
        refs("outputDecision", &e->output_decisions, ElementKind::kDecision);
        refs("encapsulatedDecision", &e->encapsulated_decisions, ElementKind::kDecision);
        refs("inputDecision", &e->input_decisions, ElementKind::kDecision);
        refs("inputData", &e->input_data, ElementKind::kInputData);
      } else {
        continue;  // artifacts, diagrams, knowledge sources, extension elements
      }
      if (e->name.empty()) return Error(c, "element without name");
      defs->elements.push_back(std::move(e));
    }
    return defs;
  }

 private:
  std::string source_;
  std::vector<size_t> line_starts_;
  int depth_ = 0;
};

}  // namespace

Result<std::unique_ptr<Definitions>> ParseDefinitions(std::string_view xml, std::string_view source) {
  Reader reader(xml, source);
  return reader.Read(xml);
}

}  // namespace rapport::dmn::internal
