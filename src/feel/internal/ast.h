#pragma once
// The compiled form of FEEL text: a tree of nodes evaluated by a switch on
// the node kind (no virtual dispatch). Trees are immutable after compilation
// and shared by every evaluating thread.

#include <memory>
#include <string>
#include <vector>

#include "feel/feel.h"

namespace rapport::feel {
namespace internal {

struct Builtin;

enum class NodeKind : uint8_t {
  kLiteral,      // value
  kName,         // name (variable), builtin = fallback built-in
  kInput,        // ? (the unary-test input)
  kNegate,       // -kids[0]
  kAdd, kSub, kMul, kDiv, kPow,
  kCompare,      // cmp, kids[0] op kids[1]
  kAnd, kOr,     // n-ary
  kBetween,      // kids[0] between kids[1] and kids[2]
  kIn,           // kids[0] in tests (kids[1..]: unary test nodes)
  kInstanceOf,   // kids[0], type
  kList,         // kids
  kContext,      // names[i]: kids[i]
  kRange,        // low_closed/high_closed, kids[0]/kids[1] (null node = open);
                 // name ".." = iteration range (for i in 3..1), "="/"!=" = (=x)/(!=x)
  kIf,           // kids[0] ? kids[1] : kids[2]
  kFor,          // names = vars, kids[0..n) = domains (kRange domain allowed), kids[n] = body
  kSome, kEvery, // names = vars, kids = domains..., body
  kPath,         // kids[0].name
  kFilter,       // kids[0][kids[1]]
  kCall,         // kids[0](kids[1..]); names non-empty = named args
  kFunctionDef,  // names = params, types, kids[0] = body
  // Unary tests (evaluate against ?):
  kUtCompare,     // ? cmp kids[0]
  kUtCompareLit,  // ? cmp value (literal endpoint)
  kUtRangeLit,    // ? in literal range (value is the range)
  kUtExpr,        // expression semantics: ? = v, ? in v, or v itself when boolean
  kUtAny,         // -
  kUtNot,         // not(kids...)
  kUtOr,          // kids...
};

enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Node {
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the subtree without recursion, however deep it got before the
  // parser refused it.
  ~Node();

  NodeKind kind = NodeKind::kLiteral;
  Cmp cmp = Cmp::kEq;
  bool low_closed = false;
  bool high_closed = false;
  bool uses_input = false;  // kUtExpr: the expression mentions ?; kFor: the body names `partial`
  int pos = 0;
  Value value;
  std::string name;
  std::vector<std::string> names;
  std::vector<FeelType> types;  // kFunctionDef param types (kAny when untyped); kInstanceOf: types[0]
  std::vector<std::unique_ptr<Node>> kids;
  const Builtin* builtin = nullptr;
};

}  // namespace internal

class Program {
 public:
  std::string text;
  std::unique_ptr<internal::Node> root;
  bool unary_tests = false;
};

namespace internal {
Result<std::unique_ptr<Node>> ParseExpression(std::string_view text, const CompileOptions& options);
Result<std::unique_ptr<Node>> ParseUnaryTests(std::string_view text, const CompileOptions& options);
Result<FeelType> ParseTypeText(std::string_view text, int base_pos);
}  // namespace internal
}  // namespace rapport::feel
