#include "decision/internal/model_text.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstring>

namespace rapport::decision::internal {
namespace {

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c : n.children()) {
    if (c.type() == pugi::node_element && LocalName(c) == local) return c;
  }
  return {};
}

std::string EntryText(const pugi::xml_node& entry) {
  pugi::xml_node text = Child(entry, "text");
  std::string s = text ? text.child_value() : "";
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

void Collect(const pugi::xml_node& node, const std::string& decision, std::vector<DecisionTable>* out, int depth) {
  if (depth > 200) return;  // pugixml nests without limit; a model does not
  for (pugi::xml_node c : node.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view local = LocalName(c);
    std::string owner = decision;
    if (local == "decision") owner = c.attribute("name").as_string();
    if (local == "decisionTable") {
      DecisionTable t;
      t.decision = owner;
      t.id = c.attribute("id").as_string();
      for (pugi::xml_node part : c.children()) {
        if (part.type() != pugi::node_element) continue;
        std::string_view pl = LocalName(part);
        if (pl == "output") t.output_names.emplace_back(part.attribute("name").as_string());
        if (pl != "rule") continue;
        TableRule r;
        r.id = part.attribute("id").as_string();
        for (pugi::xml_node e : part.children()) {
          if (e.type() != pugi::node_element) continue;
          if (LocalName(e) == "inputEntry") r.inputs.push_back(EntryText(e));
          if (LocalName(e) == "outputEntry") r.outputs.push_back(EntryText(e));
        }
        t.rules.push_back(std::move(r));
      }
      out->push_back(std::move(t));
      continue;
    }
    Collect(c, owner, out, depth + 1);
  }
}

std::vector<std::string_view> Lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view line = s.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    i = j + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<DecisionTable>> ReadDecisionTables(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return Status::InvalidArgument("malformed XML at offset " + std::to_string(parsed.offset) + ": " +
                                   parsed.description());
  }
  std::vector<DecisionTable> out;
  Collect(doc, "", &out, 0);
  return out;
}

std::string StringLiteral(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return "";
  std::string_view inner = text.substr(1, text.size() - 2);
  if (inner.find('"') != std::string_view::npos || inner.find('\\') != std::string_view::npos) return "";
  return std::string(inner);
}

std::vector<std::string> LineDiff(std::string_view a, std::string_view b, size_t max_lines) {
  std::vector<std::string_view> la = Lines(a), lb = Lines(b);
  std::vector<std::string> out;
  size_t n = std::min(la.size(), max_lines), m = std::min(lb.size(), max_lines);
  // Common prefix and suffix first: most edits are small.
  size_t pre = 0;
  while (pre < n && pre < m && la[pre] == lb[pre]) ++pre;
  size_t suf = 0;
  while (suf < n - pre && suf < m - pre && la[n - 1 - suf] == lb[m - 1 - suf]) ++suf;
  size_t an = n - pre - suf, bn = m - pre - suf;
  // LCS table over the middle; beyond ~4M cells (16 MB) the middle is shown
  // as replaced wholesale instead.
  if ((an + 1) * (bn + 1) > 4'000'000) {
    out.push_back("@@ line " + std::to_string(pre + 1));
    for (size_t k = 0; k < an; ++k) out.push_back("- " + std::string(la[pre + k]));
    for (size_t k = 0; k < bn; ++k) out.push_back("+ " + std::string(lb[pre + k]));
    return out;
  }
  std::vector<uint32_t> dp((an + 1) * (bn + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return dp[i * (bn + 1) + j]; };
  for (size_t i = an; i-- > 0;) {
    for (size_t j = bn; j-- > 0;) {
      at(i, j) = la[pre + i] == lb[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  size_t i = 0, j = 0;
  bool in_hunk = false;
  while (i < an || j < bn) {
    if (i < an && j < bn && la[pre + i] == lb[pre + j]) {
      ++i, ++j;
      in_hunk = false;
      continue;
    }
    if (!in_hunk) {
      out.push_back("@@ line " + std::to_string(pre + i + 1));
      in_hunk = true;
    }
    // Removals before additions, as in a unified diff.
    if (i < an && (j == bn || at(i + 1, j) >= at(i, j + 1))) {
      out.push_back("- " + std::string(la[pre + i]));
      ++i;
    } else {
      out.push_back("+ " + std::string(lb[pre + j]));
      ++j;
    }
  }
  if (la.size() > max_lines || lb.size() > max_lines) {
    out.push_back("@@ lines after " + std::to_string(max_lines) + " not compared");
  }
  return out;
}

}  // namespace rapport::decision::internal
