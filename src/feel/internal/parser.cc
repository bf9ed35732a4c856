// Lexer and recursive-descent parser for FEEL expressions and unary tests.
// Names with spaces are recognised by longest match against the names known
// in scope (options, built-ins, names declared earlier in the text).

#include <algorithm>
#include <cctype>

#include "feel/internal/ast.h"
#include "feel/internal/builtins.h"
#include "feel/internal/temporal.h"

namespace rapport::feel::internal {
namespace {

enum class Tok : uint8_t { kEnd, kNumber, kString, kName, kPunct, kAtString, kError };

struct Token {
  Tok kind = Tok::kEnd;
  int pos = 0;
  int end = 0;
  std::string text;  // punct text, name text, decoded string
};

bool IsNameStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsNamePart(unsigned char c) { return IsNameStart(c) || std::isdigit(c); }

const char* const kKeywords[] = {"and", "or", "in", "for", "if", "then", "else", "some", "every",
                                 "satisfies", "return", "between", "instance", "of", "function",
                                 "external", "true", "false", "null", "not"};
bool IsKeyword(const std::string& s) {
  for (const char* k : kKeywords) {
    if (s == k) return true;
  }
  return false;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  Parser(std::string_view src, const CompileOptions& options)
      : src_(src), resolve_type_(options.resolve_type), max_depth_(options.max_depth) {
    for (const auto& n : options.known_names) AddKnown(n);
    for (const auto& n : BuiltinNames()) AddKnown(n);
  }

  Result<std::unique_ptr<Node>> ParseWholeExpression() {
    RP_ASSIGN_OR_RETURN(auto node, Expression());
    if (Peek().kind != Tok::kEnd) return Error(Peek().pos, "unexpected '" + Peek().text + "'");
    if (!error_.ok()) return error_;
    RP_RETURN_IF_ERROR(CheckDepth(*node));
    return node;
  }

  // The tree's height (what evaluation recurses through) within max_depth_,
  // measured without recursion. Brackets are bounded while parsing; this
  // catches left-associative chains (`1 + 1 + ...`, `a.b.c...`).
  Status CheckDepth(const Node& root) const {
    std::vector<std::pair<const Node*, int>> stack{{&root, 1}};
    while (!stack.empty()) {
      auto [n, depth] = stack.back();
      stack.pop_back();
      if (depth > max_depth_) {
        return Error(n->pos, "expression nested too deeply (more than " + std::to_string(max_depth_) +
                                 " levels of brackets, calls and operators)");
      }
      for (const auto& k : n->kids) {
        if (k) stack.emplace_back(k.get(), depth + 1);
      }
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Node>> ParseWholeUnaryTests() {
    SkipSpace();
    std::unique_ptr<Node> root;
    const Token& t = Peek();
    if (t.kind == Tok::kPunct && t.text == "-") {
      Token save = t;
      size_t save_pos = pos_;
      Next();
      if (Peek().kind == Tok::kEnd) {
        auto n = MakeNode(NodeKind::kUtAny, save.pos);
        return n;
      }
      pos_ = save_pos;
      peeked_ = false;
    }
    if (t.kind == Tok::kName && t.text == "not") {
      size_t save_pos = pos_;
      Token nt = Next();
      if (IsPunct("(")) {
        Next();
        auto n = MakeNode(NodeKind::kUtNot, nt.pos);
        RP_RETURN_IF_ERROR(PositiveUnaryTests(n.get()));
        RP_RETURN_IF_ERROR(Expect(")"));
        if (Peek().kind == Tok::kEnd) {
          RP_RETURN_IF_ERROR(CheckDepth(*n));
          return n;
        }
      }
      pos_ = save_pos;
      peeked_ = false;
    }
    auto n = MakeNode(NodeKind::kUtOr, Peek().pos);
    RP_RETURN_IF_ERROR(PositiveUnaryTests(n.get()));
    if (Peek().kind != Tok::kEnd) return Error(Peek().pos, "unexpected '" + Peek().text + "' in unary tests");
    RP_RETURN_IF_ERROR(CheckDepth(*n));
    if (n->kids.size() == 1) return std::move(n->kids[0]);
    return n;
  }

  Result<FeelType> ParseTypeOnly() {
    RP_ASSIGN_OR_RETURN(FeelType t, Type());
    if (Peek().kind != Tok::kEnd) return Error(Peek().pos, "unexpected '" + Peek().text + "' in type");
    return t;
  }

 private:
  // ---- lexer ----
  void SkipSpace() {
    while (pos_ < src_.size()) {
      unsigned char c = static_cast<unsigned char>(src_[pos_]);
      if (std::isspace(c)) {
        ++pos_;
      } else if (c == 0xC2 && pos_ + 1 < src_.size() && static_cast<unsigned char>(src_[pos_ + 1]) == 0xA0) {
        pos_ += 2;  // no-break space
      } else if (src_.compare(pos_, 2, "//") == 0) {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (src_.compare(pos_, 2, "/*") == 0) {
        size_t e = src_.find("*/", pos_ + 2);
        pos_ = e == std::string_view::npos ? src_.size() : e + 2;
      } else {
        break;
      }
    }
  }

  Token Lex() {
    SkipSpace();
    Token t;
    t.pos = static_cast<int>(pos_);
    if (pos_ >= src_.size()) {
      t.kind = Tok::kEnd;
      t.end = t.pos;
      return t;
    }
    char c = src_[pos_];
    auto uc = static_cast<unsigned char>(c);
    if (std::isdigit(uc) || (c == '.' && pos_ + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      size_t p = pos_;
      while (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) ++p;
      if (p + 1 < src_.size() && src_[p] == '.' && std::isdigit(static_cast<unsigned char>(src_[p + 1]))) {
        ++p;
        while (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) ++p;
      }
      if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
        size_t q = p + 1;
        if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
          while (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) ++q;
          p = q;
        }
      }
      t.kind = Tok::kNumber;
      t.text = std::string(src_.substr(pos_, p - pos_));
      pos_ = p;
    } else if (c == '"' || (c == '@' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '"')) {
      bool at = c == '@';
      size_t p = pos_ + (at ? 2 : 1);
      std::string s;
      bool closed = false;
      while (p < src_.size()) {
        char d = src_[p];
        if (d == '"') {
          closed = true;
          ++p;
          break;
        }
        if (d == '\\' && p + 1 < src_.size()) {
          char e = src_[p + 1];
          p += 2;
          switch (e) {
            case 'n': s.push_back('\n'); break;
            case 'r': s.push_back('\r'); break;
            case 't': s.push_back('\t'); break;
            case '"': s.push_back('"'); break;
            case '\'': s.push_back('\''); break;
            case '\\': s.push_back('\\'); break;
            case 'u':
            case 'U': {
              size_t n = e == 'u' ? 4 : 6;
              uint32_t cp = 0;
              size_t i = 0;
              for (; i < n && p + i < src_.size() && std::isxdigit(static_cast<unsigned char>(src_[p + i])); ++i) {
                char h = src_[p + i];
                cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
              }
              if (i != n) {
                t.kind = Tok::kError;
                t.text = "bad unicode escape";
                return t;
              }
              p += n;
              // Surrogate pair written as two \u escapes.
              if (cp >= 0xD800 && cp <= 0xDBFF && p + 5 < src_.size() && src_[p] == '\\' && src_[p + 1] == 'u') {
                uint32_t lo = 0;
                bool ok = true;
                for (size_t k = 0; k < 4; ++k) {
                  char h = src_[p + 2 + k];
                  if (!std::isxdigit(static_cast<unsigned char>(h))) ok = false;
                  else lo = lo * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                }
                if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  p += 6;
                }
              }
              if (cp > 0x10FFFF) cp = 0xFFFD;
              AppendUtf8(&s, cp);
              break;
            }
            default: s.push_back('\\'); s.push_back(e);
          }
          continue;
        }
        s.push_back(d);
        ++p;
      }
      if (!closed) {
        t.kind = Tok::kError;
        t.text = "unterminated string";
        pos_ = src_.size();
        return t;
      }
      t.kind = at ? Tok::kAtString : Tok::kString;
      t.text = std::move(s);
      pos_ = p;
    } else if (IsNameStart(uc)) {
      size_t p = pos_;
      while (p < src_.size() && IsNamePart(static_cast<unsigned char>(src_[p]))) ++p;
      t.kind = Tok::kName;
      t.text = std::string(src_.substr(pos_, p - pos_));
      pos_ = p;
    } else {
      static const char* kPuncts[] = {"**", "..", "!=", "<=", ">=", "->", "+", "-", "*", "/", "=", "<", ">",
                                      "(", ")", "[", "]", "{", "}", ",", ".", ":", "?"};
      for (const char* pu : kPuncts) {
        size_t n = std::char_traits<char>::length(pu);
        if (src_.compare(pos_, n, pu) == 0) {
          t.kind = Tok::kPunct;
          t.text = pu;
          pos_ += n;
          t.end = static_cast<int>(pos_);
          return t;
        }
      }
      t.kind = Tok::kError;
      t.text = std::string(1, c);
      ++pos_;
    }
    t.end = static_cast<int>(pos_);
    return t;
  }

  const Token& Peek() {
    if (!peeked_) {
      size_t save = pos_;
      peek_ = Lex();
      peek_end_ = pos_;
      pos_ = save;
      peeked_ = true;
    }
    return peek_;
  }
  Token Next() {
    Peek();
    peeked_ = false;
    pos_ = peek_end_;
    return peek_;
  }
  bool IsPunct(const char* p) { return Peek().kind == Tok::kPunct && Peek().text == p; }
  bool IsWord(const char* w) { return Peek().kind == Tok::kName && Peek().text == w; }
  void Reset(size_t pos) {
    pos_ = pos;
    peeked_ = false;
  }

  Status Error(int pos, std::string msg) const {
    return Status::InvalidArgument("FEEL syntax error at position " + std::to_string(pos) + ": " + msg,
                                   "position " + std::to_string(pos));
  }
  Status Expect(const char* p) {
    if (Peek().kind == Tok::kError) return Error(Peek().pos, Peek().text);
    if (!IsPunct(p)) {
      return Error(Peek().pos, std::string("expected '") + p + "' but found " +
                                   (Peek().kind == Tok::kEnd ? "end of text" : "'" + Peek().text + "'"));
    }
    Next();
    return Status::Ok();
  }
  Status ExpectWord(const char* w) {
    if (!IsWord(w)) {
      return Error(Peek().pos, std::string("expected '") + w + "' but found " +
                                   (Peek().kind == Tok::kEnd ? "end of text" : "'" + Peek().text + "'"));
    }
    Next();
    return Status::Ok();
  }

  std::unique_ptr<Node> MakeNode(NodeKind k, int pos) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }

  void AddKnown(const std::string& name) {
    if (name.find_first_of(" \t-+*/.'") == std::string::npos) return;  // single words need no help
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) return;
    // Longest first, names of one length in the order they came: inserted
    // after every name at least as long (a sort per name made each parse
    // quadratic in the built-ins, a third of the profile store's updates).
    auto at = std::upper_bound(known_.begin(), known_.end(), name.size(),
                               [](size_t size, const std::string& k) { return size > k.size(); });
    known_.insert(at, name);
  }

  // Length of source consumed if name matches at p (whitespace in name
  // matches any run of whitespace), else 0.
  size_t MatchAt(size_t p, const std::string& name) const {
    size_t i = 0, q = p;
    while (i < name.size()) {
      if (std::isspace(static_cast<unsigned char>(name[i]))) {
        if (q >= src_.size() || !std::isspace(static_cast<unsigned char>(src_[q]))) return 0;
        while (i < name.size() && std::isspace(static_cast<unsigned char>(name[i]))) ++i;
        while (q < src_.size() && std::isspace(static_cast<unsigned char>(src_[q]))) ++q;
        continue;
      }
      if (q >= src_.size() || src_[q] != name[i]) return 0;
      ++i;
      ++q;
    }
    if (q < src_.size() && IsNamePart(static_cast<unsigned char>(src_[q])) &&
        IsNamePart(static_cast<unsigned char>(name.back())))
      return 0;
    return q - p;
  }

  // At a name token: the longest known multi-word name, else the token.
  std::string TakeName() {
    const Token& t = Peek();
    size_t start = static_cast<size_t>(t.pos);
    for (const auto& k : known_) {
      size_t n = MatchAt(start, k);
      if (n > static_cast<size_t>(t.end - t.pos)) {
        Reset(start + n);
        return k;
      }
    }
    return Next().text;
  }

  // A sequence of non-keyword name tokens joined by single spaces (context
  // keys, parameter names, path members).
  std::string TakeWords() {
    std::string s = TakeName();
    while (Peek().kind == Tok::kName && !IsKeyword(Peek().text)) {
      s += " " + TakeName();
    }
    return s;
  }

  // A context key written as a name: words and the name symbols + - * / .
  // among them ("foo+bar", "date-time"), up to the ':'; the source text
  // with each run of spaces made one space.
  std::string ContextKey() {
    size_t begin = static_cast<size_t>(Peek().pos);
    TakeName();
    size_t end = pos_;
    while (true) {
      const Token& t = Peek();
      bool word = t.kind == Tok::kName && !IsKeyword(t.text);
      bool symbol = t.kind == Tok::kPunct &&
                    (t.text == "+" || t.text == "-" || t.text == "*" || t.text == "/" || t.text == ".");
      if (!word && !symbol) break;
      if (word) TakeName(); else Next();
      end = pos_;
    }
    std::string key;
    for (size_t i = begin; i < end; ++i) {
      char c = src_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!key.empty() && key.back() != ' ') key += ' ';
      } else {
        key += c;
      }
    }
    return key;
  }

  // ---- grammar ----
  Result<std::unique_ptr<Node>> Expression() {
    if (++depth_ > kMaxBrackets) return Error(Peek().pos, kTooDeep);
    auto r = ExpressionInner();
    --depth_;
    return r;
  }

  // An expression inside brackets: range-end restrictions do not apply.
  Result<std::unique_ptr<Node>> Nested() {
    bool saved = range_end_;
    range_end_ = false;
    auto r = Expression();
    range_end_ = saved;
    return r;
  }

  Result<std::unique_ptr<Node>> ExpressionInner() {
    const Token& t = Peek();
    if (t.kind == Tok::kName) {
      if (t.text == "if") return If();
      if (t.text == "for") return For();
      if (t.text == "some" || t.text == "every") return Quantified();
      if (t.text == "function") return FunctionDef();
    }
    return Disjunction();
  }

  Result<std::unique_ptr<Node>> If() {
    int pos = Next().pos;
    auto n = MakeNode(NodeKind::kIf, pos);
    RP_ASSIGN_OR_RETURN(auto c, Expression());
    RP_RETURN_IF_ERROR(ExpectWord("then"));
    RP_ASSIGN_OR_RETURN(auto a, Expression());
    RP_RETURN_IF_ERROR(ExpectWord("else"));
    RP_ASSIGN_OR_RETURN(auto b, Expression());
    n->kids.push_back(std::move(c));
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  Status IterationContexts(Node* n, bool allow_range) {
    while (true) {
      if (Peek().kind != Tok::kName) return Error(Peek().pos, "expected a variable name");
      std::string var = Next().text;
      RP_RETURN_IF_ERROR(ExpectWord("in"));
      RP_ASSIGN_OR_RETURN(auto domain, Expression());
      if (allow_range && IsPunct("..")) {
        int pos = Next().pos;
        RP_ASSIGN_OR_RETURN(auto hi, Expression());
        auto r = MakeNode(NodeKind::kRange, pos);
        r->low_closed = r->high_closed = true;
        r->name = "..";  // an iteration range: may descend, unlike [a..b]
        r->kids.push_back(std::move(domain));
        r->kids.push_back(std::move(hi));
        domain = std::move(r);
      }
      n->names.push_back(var);
      n->kids.push_back(std::move(domain));
      if (!IsPunct(",")) break;
      Next();
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Node>> For() {
    int pos = Next().pos;
    auto n = MakeNode(NodeKind::kFor, pos);
    RP_RETURN_IF_ERROR(IterationContexts(n.get(), true));
    RP_RETURN_IF_ERROR(ExpectWord("return"));
    RP_ASSIGN_OR_RETURN(auto body, Expression());
    n->uses_input = Names(*body, "partial");
    n->kids.push_back(std::move(body));
    return n;
  }

  Result<std::unique_ptr<Node>> Quantified() {
    Token t = Next();
    auto n = MakeNode(t.text == "some" ? NodeKind::kSome : NodeKind::kEvery, t.pos);
    RP_RETURN_IF_ERROR(IterationContexts(n.get(), false));
    RP_RETURN_IF_ERROR(ExpectWord("satisfies"));
    RP_ASSIGN_OR_RETURN(auto body, Expression());
    n->kids.push_back(std::move(body));
    return n;
  }

  Result<std::unique_ptr<Node>> FunctionDef() {
    int pos = Next().pos;
    auto n = MakeNode(NodeKind::kFunctionDef, pos);
    RP_RETURN_IF_ERROR(Expect("("));
    while (!IsPunct(")")) {
      if (Peek().kind != Tok::kName) return Error(Peek().pos, "expected a parameter name");
      std::string p = TakeWords();
      AddKnown(p);
      FeelType type;
      if (IsPunct(":")) {
        Next();
        RP_ASSIGN_OR_RETURN(type, Type());
      }
      n->names.push_back(p);
      n->types.push_back(type);
      if (!IsPunct(",")) break;
      Next();
    }
    RP_RETURN_IF_ERROR(Expect(")"));
    if (IsWord("external")) {
      Next();
      RP_ASSIGN_OR_RETURN(auto body, Expression());
      n->name = "external";
      n->kids.push_back(std::move(body));
      return n;
    }
    RP_ASSIGN_OR_RETURN(auto body, Expression());
    n->kids.push_back(std::move(body));
    return n;
  }

  Result<std::unique_ptr<Node>> Disjunction() {
    RP_ASSIGN_OR_RETURN(auto left, Conjunction());
    if (!IsWord("or")) return left;
    auto n = MakeNode(NodeKind::kOr, left->pos);
    n->kids.push_back(std::move(left));
    while (IsWord("or")) {
      Next();
      RP_ASSIGN_OR_RETURN(auto r, Conjunction());
      n->kids.push_back(std::move(r));
    }
    return n;
  }

  Result<std::unique_ptr<Node>> Conjunction() {
    RP_ASSIGN_OR_RETURN(auto left, Comparison());
    if (!IsWord("and")) return left;
    auto n = MakeNode(NodeKind::kAnd, left->pos);
    n->kids.push_back(std::move(left));
    while (IsWord("and")) {
      Next();
      RP_ASSIGN_OR_RETURN(auto r, Comparison());
      n->kids.push_back(std::move(r));
    }
    return n;
  }

  static bool CmpOf(const std::string& s, Cmp* c) {
    if (s == "=") *c = Cmp::kEq;
    else if (s == "!=") *c = Cmp::kNe;
    else if (s == "<") *c = Cmp::kLt;
    else if (s == "<=") *c = Cmp::kLe;
    else if (s == ">") *c = Cmp::kGt;
    else if (s == ">=") *c = Cmp::kGe;
    else return false;
    return true;
  }

  Result<std::unique_ptr<Node>> Comparison() {
    RP_ASSIGN_OR_RETURN(auto left, Additive());
    while (true) {
      Cmp c;
      if (Peek().kind == Tok::kPunct && CmpOf(Peek().text, &c)) {
        int pos = Next().pos;
        RP_ASSIGN_OR_RETURN(auto right, Additive());
        auto n = MakeNode(NodeKind::kCompare, pos);
        n->cmp = c;
        n->kids.push_back(std::move(left));
        n->kids.push_back(std::move(right));
        left = std::move(n);
      } else if (IsWord("between")) {
        int pos = Next().pos;
        RP_ASSIGN_OR_RETURN(auto lo, Additive());
        RP_RETURN_IF_ERROR(ExpectWord("and"));
        RP_ASSIGN_OR_RETURN(auto hi, Additive());
        auto n = MakeNode(NodeKind::kBetween, pos);
        n->kids.push_back(std::move(left));
        n->kids.push_back(std::move(lo));
        n->kids.push_back(std::move(hi));
        left = std::move(n);
      } else if (IsWord("in")) {
        int pos = Next().pos;
        auto n = MakeNode(NodeKind::kIn, pos);
        n->kids.push_back(std::move(left));
        size_t save = pos_;
        bool done = false;
        if (IsPunct("(")) {
          // "(" positive unary tests ")" unless it is a range "(a..b]" or a
          // parenthesised expression used as one test.
          Next();
          auto list = MakeNode(NodeKind::kUtOr, pos);
          Status s = PositiveUnaryTests(list.get());
          if (s.ok() && IsPunct(")")) {
            Next();
            if (!IsPunct("..")) {
              for (auto& k : list->kids) n->kids.push_back(std::move(k));
              done = true;
            }
          }
          if (!done) Reset(save);
        }
        if (!done) {
          RP_ASSIGN_OR_RETURN(auto t, PositiveUnaryTest());
          n->kids.push_back(std::move(t));
        }
        left = std::move(n);
      } else if (IsWord("instance")) {
        int pos = Next().pos;
        RP_RETURN_IF_ERROR(ExpectWord("of"));
        auto n = MakeNode(NodeKind::kInstanceOf, pos);
        RP_ASSIGN_OR_RETURN(FeelType t, Type());
        n->types.push_back(std::move(t));
        n->kids.push_back(std::move(left));
        left = std::move(n);
      } else {
        return left;
      }
    }
  }

  Result<std::unique_ptr<Node>> Additive() {
    RP_ASSIGN_OR_RETURN(auto left, Multiplicative());
    while (IsPunct("+") || IsPunct("-")) {
      Token t = Next();
      RP_ASSIGN_OR_RETURN(auto right, Multiplicative());
      auto n = MakeNode(t.text == "+" ? NodeKind::kAdd : NodeKind::kSub, t.pos);
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<std::unique_ptr<Node>> Multiplicative() {
    RP_ASSIGN_OR_RETURN(auto left, Power());
    while (IsPunct("*") || IsPunct("/")) {
      Token t = Next();
      RP_ASSIGN_OR_RETURN(auto right, Power());
      auto n = MakeNode(t.text == "*" ? NodeKind::kMul : NodeKind::kDiv, t.pos);
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<std::unique_ptr<Node>> Power() {
    RP_ASSIGN_OR_RETURN(auto left, Unary());
    while (IsPunct("**")) {
      Token t = Next();
      RP_ASSIGN_OR_RETURN(auto right, Unary());
      auto n = MakeNode(NodeKind::kPow, t.pos);
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<std::unique_ptr<Node>> Unary() {
    if (IsPunct("-")) {
      int pos = Next().pos;
      if (++depth_ > kMaxBrackets) return Error(pos, kTooDeep);
      auto inner = Unary();
      --depth_;
      if (!inner.ok()) return inner.status();
      auto& operand = *inner;
      if (operand->kind == NodeKind::kLiteral && operand->value.is(Type::kNumber)) {
        operand->value = Value::Number(-operand->value.number());
        operand->pos = pos;
        return std::move(operand);
      }
      auto n = MakeNode(NodeKind::kNegate, pos);
      n->kids.push_back(std::move(operand));
      return n;
    }
    if (IsPunct("+")) {
      Next();
      return Unary();
    }
    return Postfix();
  }

  Result<std::unique_ptr<Node>> Postfix() {
    RP_ASSIGN_OR_RETURN(auto left, Primary());
    while (true) {
      if (IsPunct(".")) {
        int pos = Next().pos;
        if (Peek().kind != Tok::kName) return Error(Peek().pos, "expected a name after '.'");
        auto n = MakeNode(NodeKind::kPath, pos);
        n->name = TakeWords();
        n->kids.push_back(std::move(left));
        left = std::move(n);
      } else if (IsPunct("[") && !range_end_) {
        int pos = Next().pos;
        RP_ASSIGN_OR_RETURN(auto f, Nested());
        RP_RETURN_IF_ERROR(Expect("]"));
        auto n = MakeNode(NodeKind::kFilter, pos);
        n->kids.push_back(std::move(left));
        n->kids.push_back(std::move(f));
        left = std::move(n);
      } else if (IsPunct("(")) {
        int pos = Next().pos;
        auto n = MakeNode(NodeKind::kCall, pos);
        n->kids.push_back(std::move(left));
        bool saved = range_end_;
        range_end_ = false;
        Status st = Arguments(n.get());
        range_end_ = saved;
        RP_RETURN_IF_ERROR(st);
        left = std::move(n);
      } else {
        return left;
      }
    }
  }

  Status Arguments(Node* n) {
    bool named = false;
    while (!IsPunct(")")) {
      // Named argument: name words followed by ':'.
      if (Peek().kind == Tok::kName) {
        size_t save = pos_;
        std::string name = TakeWords();
        if (IsPunct(":")) {
          Next();
          if (!named && n->kids.size() > 1) return Error(Peek().pos, "cannot mix positional and named arguments");
          named = true;
          n->names.push_back(name);
          RP_ASSIGN_OR_RETURN(auto a, Expression());
          n->kids.push_back(std::move(a));
          if (!IsPunct(",")) break;
          Next();
          continue;
        }
        Reset(save);
      }
      if (named) return Error(Peek().pos, "cannot mix positional and named arguments");
      RP_ASSIGN_OR_RETURN(auto a, Expression());
      n->kids.push_back(std::move(a));
      if (!IsPunct(",")) break;
      Next();
    }
    return Expect(")");
  }

  Result<std::unique_ptr<Node>> Literal(Value v, int pos) {
    auto n = MakeNode(NodeKind::kLiteral, pos);
    n->value = std::move(v);
    return n;
  }

  Result<std::unique_ptr<Node>> RangeRest(std::unique_ptr<Node> low, bool low_closed, int pos) {
    RP_RETURN_IF_ERROR(Expect(".."));
    // In "]1..10[" the closing '[' must not start a filter on 10.
    bool saved = range_end_;
    range_end_ = true;
    auto high_r = Expression();
    range_end_ = saved;
    if (!high_r.ok()) return high_r.status();
    auto high = std::move(high_r).value();
    auto n = MakeNode(NodeKind::kRange, pos);
    n->low_closed = low_closed;
    if (IsPunct("]")) {
      n->high_closed = true;
    } else if (IsPunct(")") || IsPunct("[")) {
      n->high_closed = false;
    } else {
      return Error(Peek().pos, "expected ']', ')' or '[' to end the range");
    }
    Next();
    n->kids.push_back(std::move(low));
    n->kids.push_back(std::move(high));
    return n;
  }

  Result<std::unique_ptr<Node>> Primary() {
    Token t = Peek();
    switch (t.kind) {
      case Tok::kEnd: return Error(t.pos, "unexpected end of text");
      case Tok::kError: return Error(t.pos, t.text);
      case Tok::kNumber: {
        Next();
        auto d = Decimal::Parse(t.text);
        if (!d.ok()) return Error(t.pos, "bad number '" + t.text + "'");
        return Literal(Value::Number(*d), t.pos);
      }
      case Tok::kString: Next(); return Literal(Value::String(t.text), t.pos);
      case Tok::kAtString: {
        Next();
        Value v = TemporalLiteral(t.text);
        if (v.is_null()) return Error(t.pos, "bad temporal literal @\"" + t.text + "\"");
        return Literal(v, t.pos);
      }
      case Tok::kName: {
        if (t.text == "true" || t.text == "false") {
          Next();
          return Literal(Value::Boolean(t.text == "true"), t.pos);
        }
        if (t.text == "null") {
          Next();
          return Literal(Value(), t.pos);
        }
        if (t.text == "function" || t.text == "if" || t.text == "for" || t.text == "some" || t.text == "every")
          return Expression();
        if (IsKeyword(t.text) && t.text != "not")
          return Error(t.pos, "unexpected keyword '" + t.text + "'");
        auto n = MakeNode(NodeKind::kName, t.pos);
        n->name = TakeName();
        n->builtin = LookupBuiltin(n->name);
        return n;
      }
      case Tok::kPunct: break;
    }
    if (t.text == "?") {
      Next();
      saw_input_ = true;
      return MakeNode(NodeKind::kInput, t.pos);
    }
    if (t.text == "(") {
      Next();
      RP_ASSIGN_OR_RETURN(auto e, Nested());
      if (IsPunct("..")) return RangeRest(std::move(e), false, t.pos);
      RP_RETURN_IF_ERROR(Expect(")"));
      return e;
    }
    if (t.text == "]") {
      Next();
      RP_ASSIGN_OR_RETURN(auto e, Expression());
      return RangeRest(std::move(e), false, t.pos);
    }
    if (t.text == "[") {
      Next();
      auto n = MakeNode(NodeKind::kList, t.pos);
      if (IsPunct("]")) {
        Next();
        return n;
      }
      RP_ASSIGN_OR_RETURN(auto first, Nested());
      if (IsPunct("..")) return RangeRest(std::move(first), true, t.pos);
      n->kids.push_back(std::move(first));
      while (IsPunct(",")) {
        Next();
        RP_ASSIGN_OR_RETURN(auto e, Nested());
        n->kids.push_back(std::move(e));
      }
      RP_RETURN_IF_ERROR(Expect("]"));
      return n;
    }
    if (t.text == "{") {
      Next();
      auto n = MakeNode(NodeKind::kContext, t.pos);
      while (!IsPunct("}")) {
        std::string key;
        if (Peek().kind == Tok::kString) {
          key = Next().text;
        } else if (Peek().kind == Tok::kName) {
          key = ContextKey();
        } else {
          return Error(Peek().pos, "expected a context key");
        }
        for (const auto& k : n->names) {
          if (k == key) return Error(Peek().pos, "duplicate context key '" + key + "'");
        }
        AddKnown(key);
        RP_RETURN_IF_ERROR(Expect(":"));
        RP_ASSIGN_OR_RETURN(auto v, Nested());
        n->names.push_back(key);
        n->kids.push_back(std::move(v));
        if (!IsPunct(",")) break;
        Next();
      }
      RP_RETURN_IF_ERROR(Expect("}"));
      return n;
    }
    Cmp c;
    if (CmpOf(t.text, &c) && (c == Cmp::kNe || c == Cmp::kEq)) {
      // (=x) and (!=x) as values: ranges of one point, or all but one.
      Next();
      RP_ASSIGN_OR_RETURN(auto e, Additive());
      auto n = MakeNode(NodeKind::kRange, t.pos);
      n->name = c == Cmp::kEq ? "=" : "!=";
      n->low_closed = n->high_closed = c == Cmp::kEq;
      n->kids.push_back(std::move(e));
      n->kids.push_back(nullptr);
      return n;
    }
    if (CmpOf(t.text, &c)) {
      // A simple positive unary test used as an expression: a half-open range.
      Next();
      RP_ASSIGN_OR_RETURN(auto e, Additive());
      auto n = MakeNode(NodeKind::kRange, t.pos);
      bool upper = c == Cmp::kLt || c == Cmp::kLe;
      bool closed = c == Cmp::kLe || c == Cmp::kGe;
      if (upper) {
        n->high_closed = closed;
        n->kids.push_back(nullptr);
        n->kids.push_back(std::move(e));
      } else {
        n->low_closed = closed;
        n->kids.push_back(std::move(e));
        n->kids.push_back(nullptr);
      }
      return n;
    }
    return Error(t.pos, "unexpected '" + t.text + "'");
  }

  static Value TemporalLiteral(const std::string& s) {
    if (auto d = ParseDate(s)) return Value::Date(*d);
    if (s.find('T') != std::string::npos) {
      if (auto dt = ParseDateTime(s)) return *dt;
    }
    if (auto t = ParseTime(s)) return Value::Time(t->nanos_of_day, t->zone, t->offset_seconds, t->zone_id);
    if (auto d = ParseDuration(s)) return *d;
    return Value();
  }

  // ---- unary tests ----
  Status PositiveUnaryTests(Node* list) {
    while (true) {
      RP_ASSIGN_OR_RETURN(auto t, PositiveUnaryTest());
      list->kids.push_back(std::move(t));
      if (!IsPunct(",")) break;
      Next();
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Node>> PositiveUnaryTest() {
    Token t = Peek();
    Cmp c;
    if (t.kind == Tok::kPunct && CmpOf(t.text, &c)) {
      Next();
      RP_ASSIGN_OR_RETURN(auto e, Additive());
      if (e->kind == NodeKind::kLiteral) {
        auto n = MakeNode(NodeKind::kUtCompareLit, t.pos);
        n->cmp = c;
        n->value = e->value;
        return n;
      }
      auto n = MakeNode(NodeKind::kUtCompare, t.pos);
      n->cmp = c;
      n->kids.push_back(std::move(e));
      return n;
    }
    saw_input_ = false;
    RP_ASSIGN_OR_RETURN(auto e, Expression());
    bool uses_input = saw_input_;
    if (e->kind == NodeKind::kLiteral && !e->value.is(Type::kBoolean) && !e->value.is(Type::kList) &&
        !e->value.is(Type::kRange)) {
      auto n = MakeNode(NodeKind::kUtCompareLit, e->pos);
      n->cmp = Cmp::kEq;
      n->value = e->value;
      return n;
    }
    if (e->kind == NodeKind::kRange && e->name.empty() && e->kids[0] && e->kids[1] &&
        e->kids[0]->kind == NodeKind::kLiteral && e->kids[1]->kind == NodeKind::kLiteral) {
      auto n = MakeNode(NodeKind::kUtRangeLit, e->pos);
      Range r;
      r.low = e->kids[0]->value;
      r.high = e->kids[1]->value;
      r.low_closed = e->low_closed;
      r.high_closed = e->high_closed;
      n->value = Value::MakeRange(std::move(r));
      return n;
    }
    auto n = MakeNode(NodeKind::kUtExpr, e->pos);
    n->uses_input = uses_input;
    n->kids.push_back(std::move(e));
    return n;
  }

  // ---- types ----
  Result<FeelType> Type() {
    if (++depth_ > kMaxBrackets) return Error(Peek().pos, kTooDeep);
    auto t = TypeInner();
    --depth_;
    return t;
  }

  Result<FeelType> TypeInner() {
    FeelType t;
    if (Peek().kind != Tok::kName) return Error(Peek().pos, "expected a type name");
    int pos = Peek().pos;
    std::string name = Next().text;
    using K = FeelType::Kind;
    if (name == "list" || name == "range") {
      t.kind = name == "list" ? K::kList : K::kRange;
      if (IsPunct("<")) {
        Next();
        RP_ASSIGN_OR_RETURN(FeelType e, Type());
        t.element = std::make_shared<FeelType>(std::move(e));
        RP_RETURN_IF_ERROR(Expect(">"));
      }
      return t;
    }
    if (name == "context") {
      t.kind = K::kContext;
      if (IsPunct("<")) {
        Next();
        while (!IsPunct(">")) {
          std::string key = TakeWords();
          RP_RETURN_IF_ERROR(Expect(":"));
          RP_ASSIGN_OR_RETURN(FeelType ft, Type());
          t.fields.push_back({key, std::move(ft)});
          if (!IsPunct(",")) break;
          Next();
        }
        RP_RETURN_IF_ERROR(Expect(">"));
      }
      return t;
    }
    if (name == "function") {
      t.kind = K::kFunction;
      if (IsPunct("<")) {
        Next();
        while (!IsPunct(">")) {
          RP_ASSIGN_OR_RETURN(FeelType p, Type());
          t.parameters.push_back(std::move(p));
          if (!IsPunct(",")) break;
          Next();
        }
        RP_RETURN_IF_ERROR(Expect(">"));
        RP_RETURN_IF_ERROR(Expect("->"));
        RP_ASSIGN_OR_RETURN(FeelType r, Type());
        t.element = std::make_shared<FeelType>(std::move(r));
      }
      return t;
    }
    auto more = [&](const char* w) {
      if (IsWord(w)) {
        Next();
        return true;
      }
      return false;
    };
    if (name == "date") {
      if (more("and")) {
        if (!more("time")) return Error(Peek().pos, "expected 'time'");
        t.kind = K::kDateTime;
      } else {
        t.kind = K::kDate;
      }
      return t;
    }
    if (name == "days" || name == "years") {
      bool days = name == "days";
      if (!more("and") || !more(days ? "time" : "months") || !more("duration"))
        return Error(pos, "unknown type");
      t.kind = days ? K::kDaysTimeDuration : K::kYearsMonthsDuration;
      return t;
    }
    if (name == "dayTimeDuration") t.kind = K::kDaysTimeDuration;
    else if (name == "yearMonthDuration") t.kind = K::kYearsMonthsDuration;
    else if (name == "dateTime") t.kind = K::kDateTime;
    else if (name == "number") t.kind = K::kNumber;
    else if (name == "string") t.kind = K::kString;
    else if (name == "boolean") t.kind = K::kBoolean;
    else if (name == "time") t.kind = K::kTime;
    else if (name == "Any") t.kind = K::kAny;
    else if (name == "Null") t.kind = K::kNull;
    else if (auto resolved = resolve_type_ ? resolve_type_(name) : std::nullopt) return *resolved;
    else return Error(pos, "unknown type '" + name + "'");
    return t;
  }

  // Whether the tree mentions the variable `name`.
  static bool Names(const Node& root, std::string_view name) {
    std::vector<const Node*> stack{&root};
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      if (n->kind == NodeKind::kName && n->name == name) return true;
      for (const auto& k : n->kids) {
        if (k) stack.push_back(k.get());
      }
    }
    return false;
  }

  // Recursion of the parser itself (brackets, unary minus, nested types);
  // far below what the stack holds, also under AddressSanitizer.
  static constexpr int kMaxBrackets = 200;
  static constexpr const char* kTooDeep = "expression nested too deeply (more than 200 levels of brackets)";

  std::string_view src_;
  std::function<std::optional<FeelType>(std::string_view)> resolve_type_;
  int max_depth_;
  size_t pos_ = 0;
  bool peeked_ = false;
  Token peek_;
  size_t peek_end_ = 0;
  std::vector<std::string> known_;
  int depth_ = 0;
  bool saw_input_ = false;
  bool range_end_ = false;
  Status error_;
};

}  // namespace

namespace {

Status CheckSize(std::string_view text, const CompileOptions& options) {
  if (text.size() <= options.max_text_bytes) return Status::Ok();
  std::string pos = std::to_string(options.max_text_bytes);
  return Status::InvalidArgument("FEEL syntax error at position " + pos + ": the expression is longer than " + pos +
                                     " bytes (the size limit)",
                                 "position " + pos);
}

}  // namespace

Result<std::unique_ptr<Node>> ParseExpression(std::string_view text, const CompileOptions& options) {
  RP_RETURN_IF_ERROR(CheckSize(text, options));
  Parser p(text, options);
  return p.ParseWholeExpression();
}

Result<std::unique_ptr<Node>> ParseUnaryTests(std::string_view text, const CompileOptions& options) {
  RP_RETURN_IF_ERROR(CheckSize(text, options));
  Parser p(text, options);
  return p.ParseWholeUnaryTests();
}

Node::~Node() {
  if (kids.empty()) return;
  std::vector<std::unique_ptr<Node>> pending = std::move(kids);
  while (!pending.empty()) {
    std::unique_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (!n) continue;
    for (auto& k : n->kids) pending.push_back(std::move(k));
    n->kids.clear();
  }  // each n is freed with no kids left, so no destructor recurses
}

Result<FeelType> ParseTypeText(std::string_view text, int base_pos) {
  Parser p(text, CompileOptions{});
  return p.ParseTypeOnly();
}

}  // namespace rapport::feel::internal
