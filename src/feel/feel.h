#pragma once
// FEEL (DMN 1.5 chapter 10): values, compilation of expressions and unary
// tests, evaluation. Values are immutable and cheap to copy; a compiled
// Expression or UnaryTests is immutable and safe to evaluate from many threads
// at once. Scope and EvalContext are per-evaluation and not thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace rapport::feel {

// ---------------------------------------------------------------------------
// Numbers: IEEE 754-2008 decimal128 (34 significant digits, round half even).
// A 16-byte trivially copyable value (BID encoding).
class Decimal {
 public:
  Decimal() = default;  // 0
  static Decimal FromInt(int64_t v);
  static Decimal FromDouble(double v);  // shortest round-trip text of v
  // "12.5", "-1e-3", "1.23E+4". Fails on anything else (also on NaN/Inf).
  static Result<Decimal> Parse(std::string_view text);

  // Canonical FEEL text: plain notation, no exponent, trailing zeros kept as
  // computed ("1.50" stays "1.50"), e.g. "-0.001", "12300".
  std::string ToString() const;
  // The number with trailing fractional zeros removed ("1.50" -> "1.5").
  Decimal Normalized() const;
  // Saturating conversion; fractional part truncated toward zero. Sets *exact
  // to whether the value is an integer that fits.
  int64_t ToInt64(bool* exact = nullptr) const;
  double ToDouble() const;

  bool IsZero() const;
  bool IsNegative() const;   // strictly below zero
  bool IsInteger() const;
  bool IsFinite() const;     // false after overflow to infinity or NaN

  // Arithmetic; results that are not finite (overflow, 0/0) are reported by
  // IsFinite() == false and the evaluator turns them into null.
  friend Decimal operator+(Decimal a, Decimal b);
  friend Decimal operator-(Decimal a, Decimal b);
  friend Decimal operator*(Decimal a, Decimal b);
  friend Decimal operator/(Decimal a, Decimal b);
  Decimal operator-() const;
  // -1, 0, 1; numerically (1.0 == 1).
  static int Compare(Decimal a, Decimal b);
  friend bool operator==(Decimal a, Decimal b) { return Compare(a, b) == 0; }
  friend bool operator<(Decimal a, Decimal b) { return Compare(a, b) < 0; }

  uint64_t high_bits() const { return hi_; }
  uint64_t low_bits() const { return lo_; }
  static Decimal FromBits(uint64_t hi, uint64_t lo) {
    Decimal d;
    d.hi_ = hi;
    d.lo_ = lo;
    return d;
  }

 private:
  uint64_t lo_ = 0;
  uint64_t hi_ = 0x3040000000000000ULL;  // +0E0
};

// ---------------------------------------------------------------------------
// Value model.

enum class Type : uint8_t {
  kNull,
  kNumber,
  kString,
  kBoolean,
  kDate,
  kTime,
  kDateTime,
  kDaysTimeDuration,
  kYearsMonthsDuration,
  kList,
  kContext,
  kRange,
  kFunction,
};
// "null", "number", "string", "boolean", "date", "time", "date and time",
// "days and time duration", "years and months duration", "list", "context",
// "range", "function".
std::string_view TypeName(Type type);

class Value;
class EvalContext;
class Function;
struct Range;

// Ordered key -> value; keys unique (a later Put replaces in place).
using ContextEntries = std::vector<std::pair<std::string, Value>>;

// Time zone of a time or date-and-time value.
enum class ZoneKind : uint8_t {
  kLocal,   // no offset, no zone: "10:30:00"
  kOffset,  // fixed offset: "10:30:00+02:00", "Z"
  kZone,    // IANA zone id: "10:30:00@Europe/Paris"
};

class Value {
 public:
  Value() = default;  // null

  // Factories.
  static Value Null() { return Value(); }
  static Value Number(Decimal d);
  static Value Number(int64_t v) { return Number(Decimal::FromInt(v)); }
  static Value String(std::string s);
  static Value Boolean(bool b);
  // Date: days since 1970-01-01 (proleptic Gregorian).
  static Value Date(int64_t epoch_days);
  static Value DateYmd(int64_t year, unsigned month, unsigned day);  // no validation
  // Time: nanoseconds since midnight [0, 86400e9), with zone info.
  static Value Time(int64_t nanos_of_day, ZoneKind zone = ZoneKind::kLocal,
                    int32_t offset_seconds = 0, std::string zone_id = {});
  // Date and time: local date-time fields (days since epoch and nanoseconds
  // of that day, in the value's own offset or zone), with zone info. For
  // kZone the offset is derived from the zone database.
  static Value DateTime(int64_t epoch_days, int64_t nanos_of_day,
                        ZoneKind zone = ZoneKind::kLocal, int32_t offset_seconds = 0,
                        std::string zone_id = {});
  // Instant in UTC (common/time.h) as a date and time with offset Z.
  static Value FromTimestamp(Timestamp t);
  static Value DaysTimeDuration(__int128 nanos);
  static Value YearsMonthsDuration(int64_t months);
  static Value List(std::vector<Value> items);
  static Value Context(ContextEntries entries);
  static Value MakeRange(Range range);
  static Value MakeFunction(std::shared_ptr<const Function> fn);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is(Type t) const { return type_ == t; }

  // Accessors; precondition: the matching type() (checked by assert).
  Decimal number() const;
  const std::string& string() const;
  bool boolean() const;
  int64_t epoch_days() const;          // date, date and time
  int64_t nanos_of_day() const;        // time, date and time
  ZoneKind zone_kind() const;          // time, date and time
  int32_t offset_seconds() const;      // time, date and time (kOffset/kZone)
  const std::string& zone_id() const;  // time, date and time (kZone), else ""
  __int128 duration_nanos() const;     // days and time duration
  int64_t duration_months() const;     // years and months duration
  const std::vector<Value>& list() const;
  const ContextEntries& context() const;
  const Range& range() const;
  const std::shared_ptr<const Function>& function() const;

  // Context lookup by key; nullptr when absent or not a context.
  const Value* Get(std::string_view key) const;
  // For a date and time with offset or zone: the UTC instant in nanoseconds
  // since the epoch. For local ones: as if UTC.
  __int128 InstantNanos() const;

  // FEEL literal syntax: 1.5, "a\"b", true, date("2020-01-01"),
  // time("10:00:00"), date and time("2020-01-01T10:00:00@Europe/Paris"),
  // duration("P1DT2H"), duration("P1Y2M"), [1, 2], {a: 1, "b c": 2},
  // [1..10), function(a, b), null.
  std::string ToString() const;

  // FEEL "=": returns true/false, or null when the values are not comparable
  // (different types other than null). Null = null is true.
  friend Value Equal(const Value& a, const Value& b);
  // Equal() == true, as a plain bool (null counts as false).
  friend bool operator==(const Value& a, const Value& b);

  // FEEL ordering (<): -1/0/1, or nullopt when not comparable (mixed types,
  // non-ordered types, local vs zoned times).
  friend std::optional<int> CompareValues(const Value& a, const Value& b);

 private:
  Type type_ = Type::kNull;
  ZoneKind zone_ = ZoneKind::kLocal;
  bool flag_ = false;     // boolean value
  int32_t offset_ = 0;    // seconds east of UTC
  uint64_t w0_ = 0;       // number low bits / days / duration low / months
  uint64_t w1_ = 0;       // number high bits / nanos / duration high
  std::shared_ptr<const void> obj_;  // string, list, context, range, function, zone id
};

Value Equal(const Value& a, const Value& b);
std::optional<int> CompareValues(const Value& a, const Value& b);

// A range (interval). An absent bound (`< 10` is a range with no start) is
// unbounded on that side. Bounds are numbers, strings, dates, times,
// date-and-times or durations of one kind.
// `(=10)` and `(!=10)` used as values are ranges too (DMN 1.5 10.3.2.7):
// kEqual holds just its point (low = high, both closed) and is not equal to
// the interval [10..10]; kNotEqual holds everything but its point (low =
// high, both open).
struct Range {
  enum class Kind : uint8_t { kInterval, kEqual, kNotEqual };
  std::optional<Value> low;
  std::optional<Value> high;
  bool low_closed = false;
  bool high_closed = false;
  Kind kind = Kind::kInterval;
};

// ---------------------------------------------------------------------------
// Functions: built-ins, FEEL function definitions, and callables registered by
// the dmn module (BKMs, decision services, external functions). Calls are
// const and may run on many threads at once.

class Function {
 public:
  virtual ~Function() = default;
  // Formal parameter names, for named invocation f(a: 1, b: 2). Empty with
  // variadic() == true for functions taking any number of arguments.
  virtual const std::vector<std::string>& parameters() const = 0;
  virtual bool variadic() const { return false; }
  // Positional arguments already matched to parameters (missing optional
  // ones are null). Errors: return null and add a warning to ctx.
  virtual Value Call(std::span<const Value> args, EvalContext& ctx) const = 0;
  // Text for ToString(), e.g. "function(a, b)".
  virtual std::string Describe() const;
};

using NativeFn = std::function<Value(std::span<const Value> args, EvalContext& ctx)>;
// A Function around a C++ callable (thread-safe if fn is).
std::shared_ptr<const Function> MakeNativeFunction(std::vector<std::string> parameters, NativeFn fn);

// ---------------------------------------------------------------------------
// Types, for `instance of`, typed function parameters, and item definitions.

struct FeelType {
  enum class Kind : uint8_t {
    kAny, kNull, kNumber, kString, kBoolean, kDate, kTime, kDateTime,
    kDaysTimeDuration, kYearsMonthsDuration, kList, kContext, kRange, kFunction,
  };
  Kind kind = Kind::kAny;
  std::shared_ptr<const FeelType> element;  // list<T>, range<T>, function return
  struct Field;
  std::vector<Field> fields;  // context<a: T>; empty = any context
  std::vector<FeelType> parameters;  // function<T1, T2> -> R
  std::string ToString() const;
};
// A named field of a context type. A struct of its own, not a std::pair,
// because a pair of an incomplete FeelType does not compile with libc++ or
// clang (the fuzz build).
struct FeelType::Field {
  std::string name;
  FeelType type;
};
// "number", "list<string>", "context<a: number, b: date>", "range<date>",
// "function<number> -> string", "Any", "Null", "date and time".
Result<FeelType> ParseType(std::string_view text);
bool IsInstance(const Value& v, const FeelType& t);

// ---------------------------------------------------------------------------
// Evaluation environment.

// Named variables visible to an evaluation, chained to a parent scope. Names
// may contain spaces ("Monthly Salary"). Not thread-safe; build one per
// evaluation (or share read-only).
class Scope {
 public:
  Scope() = default;
  explicit Scope(const Scope* parent) : parent_(parent) {}

  // Adds or replaces a variable.
  void Set(std::string_view name, Value value);
  // The innermost binding of name, or nullptr.
  const Value* Find(std::string_view name) const;
  const Scope* parent() const { return parent_; }
  // Own variables, in insertion order.
  const std::vector<std::pair<std::string, Value>>& variables() const { return vars_; }

 private:
  const Scope* parent_ = nullptr;
  std::vector<std::pair<std::string, Value>> vars_;
};

// The budget of one evaluation, so that no expression a request or a stored
// rule brings can hold a core or the memory: steps (node evaluations and loop
// iterations) and bytes of values built (list elements, string sizes; an
// estimate) count per evaluation, the deadline and the cancellation flag are
// the caller's (a request's). The defaults suit real rules by far.
struct EvalLimits {
  static constexpr uint64_t kDefaultSteps = 1'000'000;
  static constexpr uint64_t kDefaultBytes = uint64_t{64} << 20;
  using TimePoint = std::chrono::steady_clock::time_point;

  uint64_t max_steps = kDefaultSteps;
  uint64_t max_bytes = kDefaultBytes;
  TimePoint deadline = TimePoint::max();          // max(): no deadline
  const std::atomic<bool>* cancelled = nullptr;  // true: stop (client gone, server stopping)
  uint64_t time_limit_ms = 0;                    // what the deadline stands for, in messages

  // These limits with a deadline `timeout` from now.
  EvalLimits WithTimeout(std::chrono::milliseconds timeout) const {
    EvalLimits l = *this;
    l.deadline = std::chrono::steady_clock::now() + timeout;
    l.time_limit_ms = static_cast<uint64_t>(timeout.count());
    return l;
  }
};

// Which limit stopped an evaluation.
enum class LimitExceeded : uint8_t { kNone, kSteps, kMemory, kDepth, kTime, kCancelled };

// Per-evaluation state: diagnostics, the clock for now()/today() and the
// budget. Once a limit is exceeded every further step yields null, so the
// evaluation unwinds at once; the caller asks exceeded() and answers with
// LimitStatus() instead of the (meaningless) value. Not thread-safe; one per
// evaluating thread.
class EvalContext {
 public:
  // Nesting of evaluations (recursion through FEEL functions and BKMs
  // included) past which an evaluation stops: kept well inside a thread's
  // stack, also under AddressSanitizer.
  static constexpr int kMaxNesting = 800;
  // Stack bytes an evaluation may use below its outermost Enter(), checked
  // beside the nesting: frames are several times larger under the
  // sanitizers, where 800 levels of FEEL recursion overflowed an 8 MiB stack
  // (found by the feel fuzzer). Thread stacks here are 8 MiB.
  static constexpr uintptr_t kMaxStackBytes = uintptr_t{3} << 20;
  // How often (in steps) the clock and the cancellation flag are read.
  static constexpr uint64_t kPollEvery = 1024;

  EvalContext() : EvalContext(nullptr, EvalLimits{}) {}
  explicit EvalContext(const Clock* clock) : EvalContext(clock, EvalLimits{}) {}
  EvalContext(const Clock* clock, const EvalLimits& limits);

  void Warn(std::string message) { warnings_.push_back(std::move(message)); }
  const std::vector<std::string>& warnings() const { return warnings_; }
  void ClearWarnings() { warnings_.clear(); }
  const Clock& clock() const;

  // Counts n steps; false once a limit is exceeded.
  bool Step(uint64_t n = 1) { return (steps_ += n) <= poll_at_ || Poll(); }
  // Counts bytes of values built; false once a limit is exceeded.
  bool Charge(uint64_t bytes) {
    return (bytes_ += bytes) <= limits_.max_bytes ? exceeded_ == LimitExceeded::kNone : Exceed(LimitExceeded::kMemory);
  }
  // One level deeper (a step too); false, without entering, once a limit is
  // exceeded. Every true is matched by a Leave().
  bool Enter() {
    const auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (nesting_ == 0) stack_base_ = here;
    if (++nesting_ > kMaxNesting || stack_base_ - here > kMaxStackBytes) {
      --nesting_;
      return Exceed(LimitExceeded::kDepth);
    }
    if (Step()) return true;
    --nesting_;
    return false;
  }
  void Leave() { --nesting_; }

  bool stopped() const { return exceeded_ != LimitExceeded::kNone; }
  LimitExceeded exceeded() const { return exceeded_; }
  // The problem for an exceeded limit, naming field ("/condition"): 422 for
  // steps, memory and nesting (the expression itself is too costly), 503 for
  // the deadline and cancellation (try again later, or less at once).
  // Ok when no limit was exceeded.
  Status LimitStatus(std::string field) const;
  // Counts steps and bytes from zero again (the next row of a scan); the
  // deadline, the flag and an exceeded limit stay.
  void ResetUsage() {
    poll_at_ = poll_at_ > steps_ ? poll_at_ - steps_ : 0;  // the next poll stays as near
    steps_ = bytes_ = 0;
  }
  const EvalLimits& limits() const { return limits_; }
  uint64_t steps() const { return steps_; }
  uint64_t bytes() const { return bytes_; }

 private:
  bool Poll();
  bool Exceed(LimitExceeded what);

  const Clock* clock_ = nullptr;  // nullptr: system clock
  std::vector<std::string> warnings_;
  EvalLimits limits_;
  uint64_t steps_ = 0;
  uint64_t bytes_ = 0;
  uint64_t poll_at_ = 0;  // Poll() when steps_ passes it
  int nesting_ = 0;
  uintptr_t stack_base_ = 0;  // the frame of the outermost Enter() (stacks grow down)
  LimitExceeded exceeded_ = LimitExceeded::kNone;
};

// The Status LimitStatus() gives, for callers that keep only the kind.
Status LimitStatus(LimitExceeded what, const EvalLimits& limits, std::string field);

// ---------------------------------------------------------------------------
// Compilation.

struct CompileOptions {
  // Names in scope at evaluation time, needed to parse names with spaces
  // and operator characters ("Monthly Salary", "Date-Time"). Single-word
  // names need not be listed. Built-in function names are always known.
  std::vector<std::string> known_names;
  // Resolves type names that are not FEEL's own (a DMN model's item
  // definitions, "tNumberList") in `instance of` and typed parameters;
  // nullopt (or no resolver) makes the name an unknown type, a compile
  // error. Called only while compiling.
  std::function<std::optional<FeelType>(std::string_view name)> resolve_type = nullptr;
  // Longest text compiled, and deepest tree (nesting of brackets, calls and
  // operators; a left-associative chain `1 + 2 + ... ` counts each operator,
  // and/or chains and lists count once). Beyond either the compile fails
  // naming the position and the limit, so evaluation never recurses deeper.
  size_t max_text_bytes = kDefaultMaxTextBytes;
  int max_depth = kDefaultMaxDepth;

  static constexpr size_t kDefaultMaxTextBytes = size_t{1} << 20;
  static constexpr int kDefaultMaxDepth = 400;
};

class Program;  // internal compiled form

// A compiled FEEL expression. Immutable; copy is cheap (shared); evaluable
// from many threads at once.
class Expression {
 public:
  // Never throws; errors give null and add warnings to ctx.
  Value Evaluate(const Scope& scope, EvalContext& ctx) const;
  // Convenience: a fresh EvalContext, warnings discarded.
  Value Evaluate(const Scope& scope) const;
  const std::string& text() const;

  explicit Expression(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

 private:
  std::shared_ptr<const Program> program_;
};

// Compiled unary tests (a decision-table input entry): `"a","b"`, `< 10`,
// `[1..5]`, `not(1, 2)`, `-`, or expressions using `?`. Immutable; evaluable
// from many threads at once.
class UnaryTests {
 public:
  // true/false, or null when the test cannot be decided (null is "no match").
  Value Evaluate(const Value& input, const Scope& scope, EvalContext& ctx) const;
  // Evaluate(...) is true. The fast path for decision tables.
  bool Matches(const Value& input, const Scope& scope, EvalContext& ctx) const;
  bool is_any() const;  // "-"
  const std::string& text() const;

  explicit UnaryTests(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

 private:
  std::shared_ptr<const Program> program_;
};

// Parse errors are kInvalidArgument with field "position N" (0-based byte
// offset into text) and a message naming what was expected.
Result<Expression> Compile(std::string_view text, const CompileOptions& options = {});
Result<UnaryTests> CompileUnaryTests(std::string_view text, const CompileOptions& options = {});
// The byte position from a compile error's field ("position 12" -> 12), or -1.
int ErrorPosition(const Status& status);

// ---------------------------------------------------------------------------
// Helpers for callers.

// Evaluates text once with the given scope (compile + evaluate).
Value EvaluateText(std::string_view text, const Scope& scope, EvalContext& ctx);
// Calls a function value with positional arguments (null + warning if fn is
// not a function).
Value CallFunction(const Value& fn, std::span<const Value> args, EvalContext& ctx);
// The built-in function of that name ("substring", "date and time"), or
// nullptr.
std::shared_ptr<const Function> FindBuiltin(std::string_view name);
// Converts an input value to the FEEL semantics of DMN coercion: a singleton
// list used where a non-list is expected becomes its element; used by dmn
// when checking typeRefs. Returns null when v does not conform to t.
Value CoerceTo(const Value& v, const FeelType& t);

}  // namespace rapport::feel
