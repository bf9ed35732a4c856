#include "profile/internal/condition.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace rapport::profile::internal {

enum class Op : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

enum class NodeKind : uint8_t { kAnd, kOr, kNot, kCompare, kIsNull, kBoolColumn, kConst, kFeel };

struct CondNode {
  NodeKind kind;
  std::vector<std::unique_ptr<CondNode>> kids;
  int column = -1;
  Op op = Op::kEq;
  double number = 0;      // number constant
  int32_t integer = 0;    // date / boolean constant
  std::string text;       // string constant
  bool constant = false;  // kConst: true/false; kConst with null_const: null
  bool null_const = false;
  // kFeel: the expression and the columns it reads.
  std::optional<feel::Expression> expr;
  std::vector<std::pair<std::string, int>> refs;
};

namespace {

constexpr size_t kBlockWords = 32;  // 2048 rows

Status ErrorAt(size_t pos, const std::string& message) {
  return Status::InvalidArgument("position " + std::to_string(pos) + ": " + message, "/condition");
}

// ---------------------------------------------------------------------------
// Tokens: just enough of FEEL's lexical structure to find operands,
// operators and names; the FEEL parser has already accepted the text.

enum class Tok : uint8_t { kName, kNumber, kString, kPunct, kEnd };
struct Token {
  Tok kind;
  std::string text;
  size_t pos;
  size_t end;
};

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    size_t start = i;
    if (std::isalpha(c) || c == '_' || c == '?' || c >= 0x80) {
      while (i < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[i]);
        if (!(std::isalnum(d) || d == '_' || d == '?' || d >= 0x80)) break;
        ++i;
      }
      out.push_back({Tok::kName, std::string(s.substr(start, i - start)), start, i});
    } else if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) ||
                              (s[i] == '.' && !(i + 1 < s.size() && s[i + 1] == '.')))) {
        ++i;
      }
      out.push_back({Tok::kNumber, std::string(s.substr(start, i - start)), start, i});
    } else if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
      i = std::min(i + 1, s.size());
      out.push_back({Tok::kString, std::string(s.substr(start, i - start)), start, i});
    } else if (c == '/' && i + 1 < s.size() && (s[i + 1] == '/' || s[i + 1] == '*')) {
      if (s[i + 1] == '/') {
        while (i < s.size() && s[i] != '\n') ++i;
      } else {
        size_t e = s.find("*/", i + 2);
        i = e == std::string_view::npos ? s.size() : e + 2;
      }
    } else {
      static const char* kTwo[] = {"!=", "<=", ">=", "..", "**"};
      size_t len = 1;
      for (const char* t : kTwo) {
        if (s.substr(i, 2) == t) len = 2;
      }
      i += len;
      out.push_back({Tok::kPunct, std::string(s.substr(start, len)), start, i});
    }
  }
  out.push_back({Tok::kEnd, "", s.size(), s.size()});
  return out;
}

bool IsKeyword(std::string_view n) {
  static const std::unordered_set<std::string_view> kWords = {
      "and", "or", "not", "between", "in", "true", "false", "null", "instance", "of", "if", "then",
      "else", "for", "some", "every", "satisfies", "return", "function", "external"};
  return kWords.count(n) > 0;
}

class Compiler {
 public:
  Compiler(std::string_view text, const Table& table, Timestamp as_of, const feel::EvalLimits& limits)
      : text_(text), table_(table), clock_(as_of), limits_(limits), toks_(Tokenize(text)) {
    for (size_t i = 0; i < table.column_count(); ++i) known_.push_back(table.column(i).name());
  }

  Result<std::unique_ptr<CondNode>> Run() {
    feel::CompileOptions opts;
    opts.known_names = known_;
    auto whole = feel::Compile(text_, opts);
    if (!whole.ok()) {
      int pos = feel::ErrorPosition(whole.status());
      std::string msg = whole.status().message();
      if (pos >= 0 && msg.rfind("position", 0) != 0) msg = "position " + std::to_string(pos) + ": " + msg;
      return Status::InvalidArgument(msg, "/condition");
    }
    RP_RETURN_IF_ERROR(CheckNames());
    size_t i = 0;
    RP_ASSIGN_OR_RETURN(auto root, ParseOr(&i));
    RP_RETURN_IF_ERROR(limit_);
    if (toks_[i].kind != Tok::kEnd) {
      // Something at the top level the scan compiler does not model.
      return FeelNode(0, toks_.size() - 1);
    }
    return root;
  }

  int feel_nodes() const { return feel_nodes_; }

 private:
  const Token& T(size_t i) const { return toks_[std::min(i, toks_.size() - 1)]; }
  bool IsP(size_t i, std::string_view p) const { return T(i).kind == Tok::kPunct && T(i).text == p; }
  bool IsW(size_t i, std::string_view w) const { return T(i).kind == Tok::kName && T(i).text == w; }

  // Names that are neither keywords, functions, context keys, path members
  // nor iteration variables must be columns.
  Status CheckNames() const {
    std::unordered_set<std::string> bound;
    for (size_t i = 0; i + 1 < toks_.size(); ++i) {
      if (toks_[i].kind == Tok::kName && IsW(i + 1, "in")) bound.insert(toks_[i].text);
      if (IsW(i, "function") && IsP(i + 1, "(")) {
        for (size_t j = i + 2; j < toks_.size() && !IsP(j, ")"); ++j) {
          if (toks_[j].kind == Tok::kName) bound.insert(toks_[j].text);
        }
      }
    }
    for (size_t i = 0; i + 1 < toks_.size(); ++i) {
      const Token& t = toks_[i];
      if (t.kind != Tok::kName || IsKeyword(t.text)) continue;
      if (IsP(i + 1, "(") || IsP(i + 1, ":")) continue;
      if (i > 0 && IsP(i - 1, ".")) continue;
      if (bound.count(t.text) || feel::FindBuiltin(t.text) != nullptr) continue;
      if (t.text == "date" || t.text == "time" || t.text == "duration") continue;  // "date and time(...)"
      if (table_.FindColumn(t.text) < 0) return ErrorAt(t.pos, "unknown column '" + t.text + "'");
    }
    return Status::Ok();
  }

  bool IsColumnName(size_t i) const {
    return T(i).kind == Tok::kName && !IsKeyword(T(i).text) && !IsP(i + 1, "(") && !(i > 0 && IsP(i - 1, ".")) &&
           table_.FindColumn(T(i).text) >= 0;
  }

  // Token index where an operand starting at i ends: the next comparison,
  // between, in, and, or, closing bracket or comma at depth 0.
  size_t OperandEnd(size_t i, bool stop_at_and = true) const {
    int depth = 0;
    for (; T(i).kind != Tok::kEnd; ++i) {
      const Token& t = T(i);
      if (t.kind == Tok::kPunct) {
        if (t.text == "(" || t.text == "[" || t.text == "{") {
          ++depth;
          continue;
        }
        if (t.text == ")" || t.text == "]" || t.text == "}") {
          if (depth == 0) return i;
          --depth;
          continue;
        }
        if (depth == 0 && (t.text == "=" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" ||
                           t.text == ">=" || t.text == ",")) {
          return i;
        }
      } else if (t.kind == Tok::kName && depth == 0) {
        if ((stop_at_and && t.text == "and") || t.text == "or" || t.text == "between" ||
            (t.text == "in" && !IsNameBeforeIn(i))) {
          return i;
        }
        if (t.text == "if" || t.text == "for" || t.text == "some" || t.text == "every") return ClauseEnd(i);
      }
    }
    return i;
  }
  // `for x in ...`: that `in` belongs to the iteration.
  bool IsNameBeforeIn(size_t i) const {
    return i >= 2 && (IsW(i - 2, "for") || IsW(i - 2, "some") || IsW(i - 2, "every") || IsP(i - 2, ","));
  }
  // An if/for/some/every clause runs to the next top-level and/or or closer.
  size_t ClauseEnd(size_t i) const {
    int depth = 0;
    for (; T(i).kind != Tok::kEnd; ++i) {
      const Token& t = T(i);
      if (t.kind == Tok::kPunct && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
      if (t.kind == Tok::kPunct && (t.text == ")" || t.text == "]" || t.text == "}")) {
        if (depth == 0) return i;
        --depth;
      }
    }
    return i;
  }
  // End of a whole predicate starting at i (for the FEEL fallback): the next
  // top-level and/or (not the `and` of a between) or closer.
  size_t PredicateEnd(size_t i) const {
    int depth = 0;
    bool in_between = false;
    for (; T(i).kind != Tok::kEnd; ++i) {
      const Token& t = T(i);
      if (t.kind == Tok::kPunct) {
        if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
        if (t.text == ")" || t.text == "]" || t.text == "}") {
          if (depth == 0) return i;
          --depth;
        }
      } else if (t.kind == Tok::kName && depth == 0) {
        if (t.text == "between") in_between = true;
        // The FEEL engine reads everything after `in` up to the end of the
        // group as its tests (`a in [1, 2] or b` is `a in ([1, 2] or b)`).
        if (t.text == "in" && !IsNameBeforeIn(i)) return ClauseEnd(i);
        if (t.text == "and" && in_between) {
          in_between = false;
          continue;
        }
        if (t.text == "and" || t.text == "or") return i;
        if (t.text == "if" || t.text == "for" || t.text == "some" || t.text == "every") {
          i = ClauseEnd(i);
          return i;
        }
      }
    }
    return i;
  }

  bool AtBoundary(size_t i) const {
    return T(i).kind == Tok::kEnd || IsW(i, "and") || IsW(i, "or") || IsP(i, ")");
  }

  std::string_view Span(size_t from, size_t to) const {  // tokens [from, to)
    size_t a = T(from).pos;
    size_t b = to > from ? T(to - 1).end : a;
    return text_.substr(a, b - a);
  }

  bool SpanHasColumns(size_t from, size_t to) const {
    for (size_t i = from; i < to; ++i) {
      if (IsColumnName(i)) return true;
    }
    return false;
  }

  // A constant operand evaluated once by FEEL (today() is as_of), under the
  // request's budget (a limit reached fails the compile).
  std::optional<feel::Value> Constant(size_t from, size_t to) {
    if (from >= to || SpanHasColumns(from, to)) return std::nullopt;
    return Evaluated(Span(from, to));
  }
  std::optional<feel::Value> Evaluated(std::string_view text) {
    auto e = feel::Compile(text);
    if (!e.ok()) return std::nullopt;
    feel::EvalContext ctx(&clock_, limits_);
    feel::Value v = e->Evaluate(feel::Scope(), ctx);
    if (ctx.stopped()) {
      if (limit_.ok()) limit_ = ctx.LimitStatus("/condition");
      return std::nullopt;
    }
    return v;
  }

  Result<std::unique_ptr<CondNode>> FeelNode(size_t from, size_t to) {
    auto node = std::make_unique<CondNode>();
    node->kind = NodeKind::kFeel;
    feel::CompileOptions opts;
    opts.known_names = known_;
    auto e = feel::Compile(Span(from, to), opts);
    if (!e.ok()) {
      // The fragment alone does not parse (it relied on its context): run the
      // whole condition per row instead.
      if (from == 0 && to >= toks_.size() - 1) return e.status();
      whole_fallback_ = true;
      return FeelNode(0, toks_.size() - 1);
    }
    node->expr = *e;
    std::unordered_set<int> seen;
    for (size_t i = from; i < to; ++i) {
      if (IsColumnName(i)) {
        int c = table_.FindColumn(T(i).text);
        if (seen.insert(c).second) node->refs.emplace_back(T(i).text, c);
      }
    }
    ++feel_nodes_;
    return node;
  }

  // Chains of `or` and `and` become one n-ary node each, read in a loop:
  // a condition of 15,000 terms is as deep as one of two.
  Result<std::unique_ptr<CondNode>> ParseOr(size_t* i) {
    RP_ASSIGN_OR_RETURN(auto left, ParseAnd(i));
    if (whole_fallback_ || !IsW(*i, "or")) return left;
    auto n = Nary(NodeKind::kOr, std::move(left));
    while (!whole_fallback_ && limit_.ok() && IsW(*i, "or")) {
      ++*i;
      RP_ASSIGN_OR_RETURN(auto right, ParseAnd(i));
      n->kids.push_back(std::move(right));
    }
    return n;
  }

  Result<std::unique_ptr<CondNode>> ParseAnd(size_t* i) {
    RP_ASSIGN_OR_RETURN(auto left, ParseUnary(i));
    if (whole_fallback_ || !IsW(*i, "and")) return left;
    auto n = Nary(NodeKind::kAnd, std::move(left));
    while (!whole_fallback_ && limit_.ok() && IsW(*i, "and")) {
      ++*i;
      RP_ASSIGN_OR_RETURN(auto right, ParseUnary(i));
      n->kids.push_back(std::move(right));
    }
    return n;
  }

  static std::unique_ptr<CondNode> Nary(NodeKind kind, std::unique_ptr<CondNode> first) {
    auto n = std::make_unique<CondNode>();
    n->kind = kind;
    n->kids.push_back(std::move(first));
    return n;
  }

  static std::unique_ptr<CondNode> Binary(NodeKind kind, std::unique_ptr<CondNode> a, std::unique_ptr<CondNode> b) {
    auto n = std::make_unique<CondNode>();
    n->kind = kind;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  Result<std::unique_ptr<CondNode>> ParseUnary(size_t* i) {
    size_t start = *i;
    if (whole_fallback_) return FeelNode(0, toks_.size() - 1);
    if ((IsW(start, "not") && IsP(start + 1, "(")) || IsP(start, "(")) {
      bool negate = IsW(start, "not");
      size_t j = start + (negate ? 2 : 1);
      RP_ASSIGN_OR_RETURN(auto inner, ParseOr(&j));
      if (IsP(j, ")") && AtBoundary(j + 1)) {
        *i = j + 1;
        if (!negate) return inner;
        auto n = std::make_unique<CondNode>();
        n->kind = NodeKind::kNot;
        n->kids.push_back(std::move(inner));
        return n;
      }
      size_t end = PredicateEnd(start);
      *i = end;
      return FeelNode(start, end);
    }
    RP_ASSIGN_OR_RETURN(auto pred, ParsePredicate(start));
    if (pred.second) {
      *i = pred.first;
      return std::move(pred.second);
    }
    size_t end = PredicateEnd(start);
    *i = end;
    return FeelNode(start, end);
  }

  // A predicate the scan can run, and the token after it; a null node means
  // "not recognized" (the caller falls back to FEEL).
  using Parsed = std::pair<size_t, std::unique_ptr<CondNode>>;

  Result<Parsed> ParsePredicate(size_t start) {
    size_t lhs_end = OperandEnd(start);
    if (lhs_end == start) return Parsed{start, nullptr};
    bool lhs_col = lhs_end == start + 1 && IsColumnName(start);
    const Token& op = T(lhs_end);
    if (AtBoundary(lhs_end)) {
      if (lhs_col) {
        const Column& c = table_.column(table_.FindColumn(T(start).text));
        if (c.type() != ColumnType::kBoolean) {
          return ErrorAt(T(start).pos, "column '" + c.name() + "' is a " + std::string(ColumnTypeName(c.type())) +
                                           ", not a condition; compare it with a value");
        }
        auto n = std::make_unique<CondNode>();
        n->kind = NodeKind::kBoolColumn;
        n->column = table_.FindColumn(T(start).text);
        return Parsed{lhs_end, std::move(n)};
      }
      auto v = Constant(start, lhs_end);
      if (v && (v->is_null() || v->is(feel::Type::kBoolean))) {
        auto n = std::make_unique<CondNode>();
        n->kind = NodeKind::kConst;
        n->null_const = v->is_null();
        n->constant = !v->is_null() && v->boolean();
        return Parsed{lhs_end, std::move(n)};
      }
      if (v) return ErrorAt(T(start).pos, "the condition is a " + std::string(feel::TypeName(v->type())) + ", not a boolean");
      return Parsed{start, nullptr};
    }
    if (op.kind == Tok::kPunct && op.text != ",") {
      size_t rhs_start = lhs_end + 1;
      size_t rhs_end = OperandEnd(rhs_start);
      if (!AtBoundary(rhs_end)) return Parsed{start, nullptr};
      bool rhs_col = rhs_end == rhs_start + 1 && IsColumnName(rhs_start);
      Op o = ParseOp(op.text);
      if (lhs_col && !rhs_col) {
        auto v = Constant(rhs_start, rhs_end);
        if (!v) return Parsed{start, nullptr};
        RP_ASSIGN_OR_RETURN(auto n, Compare(T(start), o, *v, T(rhs_start).pos));
        return Parsed{rhs_end, std::move(n)};
      }
      if (rhs_col && !lhs_col) {
        auto v = Constant(start, lhs_end);
        if (!v) return Parsed{start, nullptr};
        RP_ASSIGN_OR_RETURN(auto n, Compare(T(rhs_start), Flip(o), *v, T(start).pos));
        return Parsed{rhs_end, std::move(n)};
      }
      return Parsed{start, nullptr};
    }
    if (IsW(lhs_end, "between") && lhs_col) {
      size_t lo_start = lhs_end + 1;
      size_t lo_end = OperandEnd(lo_start);
      if (!IsW(lo_end, "and")) return Parsed{start, nullptr};
      size_t hi_start = lo_end + 1;
      size_t hi_end = OperandEnd(hi_start);
      if (!AtBoundary(hi_end)) return Parsed{start, nullptr};
      auto lo = Constant(lo_start, lo_end);
      auto hi = Constant(hi_start, hi_end);
      if (!lo || !hi) return Parsed{start, nullptr};
      RP_ASSIGN_OR_RETURN(auto a, Compare(T(start), Op::kGe, *lo, T(lo_start).pos));
      RP_ASSIGN_OR_RETURN(auto b, Compare(T(start), Op::kLe, *hi, T(hi_start).pos));
      return Parsed{hi_end, Binary(NodeKind::kAnd, std::move(a), std::move(b))};
    }
    if (IsW(lhs_end, "in") && lhs_col) {
      size_t list_start = lhs_end + 1;
      size_t list_end = ClauseEnd(list_start);
      if (!AtBoundary(list_end) || list_end <= list_start) return Parsed{start, nullptr};
      std::optional<feel::Value> v;
      if (IsP(list_start, "(") && IsP(list_end - 1, ")") && !SpanHasColumns(list_start, list_end)) {
        // Positive unary tests "(a, b)": the same items as a list.
        v = Evaluated("[" + std::string(Span(list_start + 1, list_end - 1)) + "]");
      } else {
        v = Constant(list_start, list_end);
      }
      if (!v) return Parsed{start, nullptr};
      std::vector<feel::Value> items = v->is(feel::Type::kList) ? v->list() : std::vector<feel::Value>{*v};
      // One n-ary `or` over the items (50,000 postcodes are one level).
      auto any = std::make_unique<CondNode>();
      any->kind = NodeKind::kOr;
      for (const auto& item : items) {
        std::unique_ptr<CondNode> test;
        if (item.is(feel::Type::kRange)) {
          RP_ASSIGN_OR_RETURN(test, RangeTest(T(start), item.range(), T(list_start).pos));
          if (!test) return Parsed{start, nullptr};
        } else {
          RP_ASSIGN_OR_RETURN(test, Compare(T(start), Op::kEq, item, T(list_start).pos));
        }
        any->kids.push_back(std::move(test));
      }
      if (any->kids.empty()) {
        any->kind = NodeKind::kConst;
        any->constant = false;
      } else if (any->kids.size() == 1) {
        any = std::move(any->kids[0]);
      }
      return Parsed{list_end, std::move(any)};
    }
    return Parsed{start, nullptr};
  }

  Result<std::unique_ptr<CondNode>> RangeTest(const Token& col, const feel::Range& r, size_t pos) {
    using K = feel::Range::Kind;
    if (r.kind == K::kEqual && r.low) return Compare(col, Op::kEq, *r.low, pos);
    if (r.kind == K::kNotEqual && r.low) return Compare(col, Op::kNe, *r.low, pos);
    std::unique_ptr<CondNode> n;
    if (r.low) {
      RP_ASSIGN_OR_RETURN(n, Compare(col, r.low_closed ? Op::kGe : Op::kGt, *r.low, pos));
    }
    if (r.high) {
      RP_ASSIGN_OR_RETURN(auto h, Compare(col, r.high_closed ? Op::kLe : Op::kLt, *r.high, pos));
      n = n ? Binary(NodeKind::kAnd, std::move(n), std::move(h)) : std::move(h);
    }
    return n;
  }

  static Op ParseOp(std::string_view t) {
    if (t == "=") return Op::kEq;
    if (t == "!=") return Op::kNe;
    if (t == "<") return Op::kLt;
    if (t == "<=") return Op::kLe;
    if (t == ">") return Op::kGt;
    return Op::kGe;
  }
  static Op Flip(Op o) {
    switch (o) {
      case Op::kLt: return Op::kGt;
      case Op::kLe: return Op::kGe;
      case Op::kGt: return Op::kLt;
      case Op::kGe: return Op::kLe;
      default: return o;
    }
  }

  Result<std::unique_ptr<CondNode>> Compare(const Token& col_tok, Op op, const feel::Value& v, size_t value_pos) {
    int c = table_.FindColumn(col_tok.text);
    const Column& col = table_.column(c);
    auto n = std::make_unique<CondNode>();
    n->column = c;
    n->op = op;
    if (v.is_null()) {
      if (op == Op::kEq || op == Op::kNe) {
        n->kind = NodeKind::kIsNull;
        if (op == Op::kNe) {
          auto neg = std::make_unique<CondNode>();
          neg->kind = NodeKind::kNot;
          neg->kids.push_back(std::move(n));
          return neg;
        }
        return n;
      }
      n->kind = NodeKind::kConst;  // an ordering against null is null
      n->null_const = true;
      return n;
    }
    n->kind = NodeKind::kCompare;
    auto mismatch = [&]() {
      return ErrorAt(value_pos, "column '" + col.name() + "' is a " + std::string(ColumnTypeName(col.type())) +
                                    ", compared with a " + std::string(feel::TypeName(v.type())));
    };
    switch (col.type()) {
      case ColumnType::kNumber:
        if (!v.is(feel::Type::kNumber)) return mismatch();
        n->number = v.number().ToDouble();
        break;
      case ColumnType::kString:
        if (!v.is(feel::Type::kString)) return mismatch();
        n->text = v.string();
        break;
      case ColumnType::kDate:
        if (!v.is(feel::Type::kDate)) return mismatch();
        n->integer = static_cast<int32_t>(v.epoch_days());
        break;
      case ColumnType::kBoolean:
        if (!v.is(feel::Type::kBoolean)) return mismatch();
        if (op != Op::kEq && op != Op::kNe) {
          return ErrorAt(value_pos, "booleans are compared with = or != only");
        }
        n->integer = v.boolean() ? 1 : 0;
        break;
    }
    return n;
  }

  std::string_view text_;
  const Table& table_;
  ManualClock clock_;
  const feel::EvalLimits& limits_;
  Status limit_;  // a limit reached while evaluating a constant
  std::vector<Token> toks_;
  std::vector<std::string> known_;
  int feel_nodes_ = 0;
  bool whole_fallback_ = false;
};

// ---------------------------------------------------------------------------
// Evaluation over blocks of words.

template <typename V, typename F>
inline void CompareWords(const V* values, const uint64_t* valid, size_t w0, size_t nw, F pred, uint64_t* t,
                         uint64_t* f) {
  for (size_t w = 0; w < nw; ++w) {
    const V* v = values + (w0 + w) * 64;
    uint64_t bits = 0;
    for (int j = 0; j < 64; ++j) bits |= static_cast<uint64_t>(pred(v[j])) << j;
    uint64_t ok = valid[w0 + w];
    t[w] = bits & ok;
    f[w] = ~bits & ok;
  }
}

template <typename V>
void CompareOp(Op op, const V* values, const uint64_t* valid, size_t w0, size_t nw, V c, uint64_t* t, uint64_t* f) {
  switch (op) {
    case Op::kEq: return CompareWords(values, valid, w0, nw, [c](V x) { return x == c; }, t, f);
    case Op::kNe: return CompareWords(values, valid, w0, nw, [c](V x) { return x != c; }, t, f);
    case Op::kLt: return CompareWords(values, valid, w0, nw, [c](V x) { return x < c; }, t, f);
    case Op::kLe: return CompareWords(values, valid, w0, nw, [c](V x) { return x <= c; }, t, f);
    case Op::kGt: return CompareWords(values, valid, w0, nw, [c](V x) { return x > c; }, t, f);
    case Op::kGe: return CompareWords(values, valid, w0, nw, [c](V x) { return x >= c; }, t, f);
  }
}

bool Holds(Op op, int cmp) {
  switch (op) {
    case Op::kEq: return cmp == 0;
    case Op::kNe: return cmp != 0;
    case Op::kLt: return cmp < 0;
    case Op::kLe: return cmp <= 0;
    case Op::kGt: return cmp > 0;
    case Op::kGe: return cmp >= 0;
  }
  return false;
}

// Per-evaluation state: string comparisons resolved against the current
// dictionaries once per scan.
struct EvalState {
  const Table& table;
  feel::EvalContext& ctx;  // the budget: a step per node and block, FEEL's own per row
  int64_t only_row;        // >= 0: FEEL nodes evaluate just this row
  std::unordered_map<const CondNode*, std::vector<uint8_t>> string_match;
};

void EvalCompare(const CondNode& n, EvalState& st, size_t w0, size_t nw, uint64_t* t, uint64_t* f) {
  const Column& c = st.table.column(n.column);
  const uint64_t* valid = c.valid_words().data();
  switch (c.type()) {
    case ColumnType::kNumber:
      CompareOp<double>(n.op, c.numbers().data(), valid, w0, nw, n.number, t, f);
      return;
    case ColumnType::kDate:
    case ColumnType::kBoolean:
      CompareOp<int32_t>(n.op, c.codes().data(), valid, w0, nw, n.integer, t, f);
      return;
    case ColumnType::kString: {
      if (n.op == Op::kEq || n.op == Op::kNe) {
        int32_t code = c.Find(n.text);  // -1 never matches a code
        CompareOp<int32_t>(n.op, c.codes().data(), valid, w0, nw, code, t, f);
        return;
      }
      // Orderings: decided once per dictionary entry and scan, then looked up.
      auto [it, fresh] = st.string_match.try_emplace(&n);
      if (fresh) {
        const auto& dict = c.dictionary();
        it->second.assign(std::max<size_t>(dict.size(), 1), 0);
        for (size_t k = 0; k < dict.size(); ++k) it->second[k] = Holds(n.op, dict[k].compare(n.text));
      }
      const uint8_t* m = it->second.data();
      CompareWords(c.codes().data(), valid, w0, nw, [m](int32_t x) { return m[x] != 0; }, t, f);
      return;
    }
  }
}

void Eval(const CondNode& n, EvalState& st, size_t w0, size_t nw, uint64_t* t, uint64_t* f) {
  const Table& table = st.table;
  if (!st.ctx.Step()) {  // over budget: the scan is abandoned
    std::fill(t, t + nw, 0);
    std::fill(f, f + nw, 0);
    return;
  }
  switch (n.kind) {
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      uint64_t t2[kBlockWords], f2[kBlockWords];
      Eval(*n.kids[0], st, w0, nw, t, f);
      for (size_t k = 1; k < n.kids.size(); ++k) {
        Eval(*n.kids[k], st, w0, nw, t2, f2);
        for (size_t w = 0; w < nw; ++w) {
          if (n.kind == NodeKind::kAnd) {
            t[w] &= t2[w];
            f[w] |= f2[w];
          } else {
            t[w] |= t2[w];
            f[w] &= f2[w];
          }
        }
      }
      return;
    }
    case NodeKind::kNot:
      Eval(*n.kids[0], st, w0, nw, f, t);
      return;
    case NodeKind::kConst:
      for (size_t w = 0; w < nw; ++w) {
        t[w] = (!n.null_const && n.constant) ? ~uint64_t{0} : 0;
        f[w] = (!n.null_const && !n.constant) ? ~uint64_t{0} : 0;
      }
      return;
    case NodeKind::kIsNull: {
      const uint64_t* valid = table.column(n.column).valid_words().data();
      for (size_t w = 0; w < nw; ++w) {
        t[w] = ~valid[w0 + w];
        f[w] = valid[w0 + w];
      }
      return;
    }
    case NodeKind::kBoolColumn: {
      const Column& c = table.column(n.column);
      CompareOp<int32_t>(Op::kNe, c.codes().data(), c.valid_words().data(), w0, nw, 0, t, f);
      return;
    }
    case NodeKind::kCompare: {
      EvalCompare(n, st, w0, nw, t, f);
      // FEEL: null = x is false and null != x is true for a non-null x;
      // orderings against null stay null.
      if (n.op == Op::kEq || n.op == Op::kNe) {
        const uint64_t* valid = table.column(n.column).valid_words().data();
        uint64_t* side = n.op == Op::kEq ? f : t;
        for (size_t w = 0; w < nw; ++w) side[w] |= ~valid[w0 + w];
      }
      return;
    }
    case NodeKind::kFeel: {
      feel::EvalContext& ctx = st.ctx;
      for (size_t w = 0; w < nw; ++w) {
        t[w] = f[w] = 0;
        for (int j = 0; j < 64; ++j) {
          size_t row = (w0 + w) * 64 + j;
          if (row >= table.rows()) break;
          if (st.only_row >= 0 && static_cast<size_t>(st.only_row) != row) continue;
          feel::Scope scope;
          for (const auto& [name, col] : n.refs) scope.Set(name, table.column(col).FeelValue(static_cast<uint32_t>(row)));
          ctx.ResetUsage();  // steps and bytes count per row; the deadline per scan
          feel::Value v = n.expr->Evaluate(scope, ctx);
          ctx.ClearWarnings();
          if (ctx.stopped()) return;
          if (v.is(feel::Type::kBoolean)) (v.boolean() ? t[w] : f[w]) |= uint64_t{1} << j;
        }
      }
      return;
    }
  }
}

}  // namespace

CompiledCondition::CompiledCondition(std::string text, std::unique_ptr<CondNode> root, int feel_nodes,
                                     Timestamp as_of)
    : text_(std::move(text)), root_(std::move(root)), feel_nodes_(feel_nodes), clock_(as_of) {}

CompiledCondition::~CompiledCondition() = default;

Result<std::shared_ptr<const CompiledCondition>> CompiledCondition::Compile(std::string_view text,
                                                                            const Table& table, Timestamp as_of,
                                                                            const feel::EvalLimits& limits) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument("position 0: the condition is empty", "/condition");
  }
  Compiler c(text, table, as_of, limits);
  RP_ASSIGN_OR_RETURN(auto root, c.Run());
  return std::shared_ptr<const CompiledCondition>(
      std::make_shared<CompiledCondition>(std::string(text), std::move(root), c.feel_nodes(), as_of));
}

Result<std::vector<uint64_t>> CompiledCondition::Scan(const Table& table, const feel::EvalLimits& limits) const {
  size_t words = (table.rows() + 63) / 64;
  std::vector<uint64_t> out(words, 0);
  feel::EvalContext ctx(&clock_, limits);
  EvalState st{table, ctx, -1, {}};
  uint64_t f[kBlockWords];
  for (size_t w0 = 0; w0 < words; w0 += kBlockWords) {
    size_t nw = std::min(kBlockWords, words - w0);
    ctx.ResetUsage();  // steps count per block of rows; the deadline per scan
    Eval(*root_, st, w0, nw, out.data() + w0, f);
    if (ctx.stopped()) return ctx.LimitStatus("/condition");
  }
  if (table.rows() % 64 != 0) out.back() &= (uint64_t{1} << (table.rows() % 64)) - 1;
  return out;
}

std::vector<int> CompiledCondition::Columns() const {
  // An explicit stack: and/or chains of a long condition are deep trees.
  std::vector<int> out;
  std::vector<const CondNode*> todo{root_.get()};
  while (!todo.empty()) {
    const CondNode* n = todo.back();
    todo.pop_back();
    if (n->column >= 0) out.push_back(n->column);
    for (const auto& [name, column] : n->refs) out.push_back(column);
    for (const auto& kid : n->kids) todo.push_back(kid.get());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint64_t> CompiledCondition::Scan(const Table& table) const {
  auto bits = Scan(table, feel::EvalLimits{});
  if (bits.ok()) return std::move(*bits);
  return std::vector<uint64_t>((table.rows() + 63) / 64, 0);
}

bool CompiledCondition::Matches(const Table& table, uint32_t row) const {
  feel::EvalContext ctx(&clock_);
  EvalState st{table, ctx, row, {}};
  uint64_t t[1], f[1];
  Eval(*root_, st, row / 64, 1, t, f);
  return (t[0] >> (row % 64)) & 1;
}

}  // namespace rapport::profile::internal
