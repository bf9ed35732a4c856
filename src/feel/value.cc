// Value, Scope, EvalContext and Function basics: construction, FEEL equality
// and ordering, literal text.

#include <algorithm>
#include <cassert>

#include "feel/feel.h"
#include "feel/internal/temporal.h"

namespace rapport::feel {

using internal::kNanosPerDay;
using internal::kNanosPerSecond;

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kBoolean: return "boolean";
    case Type::kDate: return "date";
    case Type::kTime: return "time";
    case Type::kDateTime: return "date and time";
    case Type::kDaysTimeDuration: return "days and time duration";
    case Type::kYearsMonthsDuration: return "years and months duration";
    case Type::kList: return "list";
    case Type::kContext: return "context";
    case Type::kRange: return "range";
    case Type::kFunction: return "function";
  }
  return "?";
}

Value Value::Number(Decimal d) {
  Value v;
  v.type_ = Type::kNumber;
  v.w0_ = d.low_bits();
  v.w1_ = d.high_bits();
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.obj_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
Value Value::Boolean(bool b) {
  Value v;
  v.type_ = Type::kBoolean;
  v.flag_ = b;
  return v;
}
Value Value::Date(int64_t epoch_days) {
  Value v;
  v.type_ = Type::kDate;
  v.w0_ = static_cast<uint64_t>(epoch_days);
  return v;
}
Value Value::DateYmd(int64_t year, unsigned month, unsigned day) {
  return Date(DaysFromCivil(year, month, day));
}
Value Value::Time(int64_t nanos_of_day, ZoneKind zone, int32_t offset_seconds, std::string zone_id) {
  Value v;
  v.type_ = Type::kTime;
  v.w1_ = static_cast<uint64_t>(internal::FloorMod(nanos_of_day, kNanosPerDay));
  v.zone_ = zone;
  if (zone == ZoneKind::kZone) {
    v.offset_ = internal::ZoneOffsetAtLocal(zone_id, 0, nanos_of_day).value_or(0);
    v.obj_ = std::make_shared<const std::string>(std::move(zone_id));
  } else if (zone == ZoneKind::kOffset) {
    v.offset_ = offset_seconds;
  }
  return v;
}
Value Value::DateTime(int64_t epoch_days, int64_t nanos_of_day, ZoneKind zone, int32_t offset_seconds,
                      std::string zone_id) {
  Value v;
  v.type_ = Type::kDateTime;
  epoch_days += internal::FloorDiv(nanos_of_day, kNanosPerDay);
  nanos_of_day = internal::FloorMod(nanos_of_day, kNanosPerDay);
  v.w0_ = static_cast<uint64_t>(epoch_days);
  v.w1_ = static_cast<uint64_t>(nanos_of_day);
  v.zone_ = zone;
  if (zone == ZoneKind::kZone) {
    v.offset_ = internal::ZoneOffsetAtLocal(zone_id, epoch_days, nanos_of_day).value_or(0);
    v.obj_ = std::make_shared<const std::string>(std::move(zone_id));
  } else if (zone == ZoneKind::kOffset) {
    v.offset_ = offset_seconds;
  }
  return v;
}
Value Value::FromTimestamp(Timestamp t) {
  int64_t days = internal::FloorDiv(t.micros, kMicrosPerDay);
  int64_t micros = internal::FloorMod(t.micros, kMicrosPerDay);
  return DateTime(days, micros * 1000, ZoneKind::kOffset, 0);
}
Value Value::DaysTimeDuration(__int128 nanos) {
  Value v;
  v.type_ = Type::kDaysTimeDuration;
  auto u = static_cast<unsigned __int128>(nanos);
  v.w0_ = static_cast<uint64_t>(u);
  v.w1_ = static_cast<uint64_t>(u >> 64);
  return v;
}
Value Value::YearsMonthsDuration(int64_t months) {
  Value v;
  v.type_ = Type::kYearsMonthsDuration;
  v.w0_ = static_cast<uint64_t>(months);
  return v;
}
Value Value::List(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kList;
  v.obj_ = std::make_shared<const std::vector<Value>>(std::move(items));
  return v;
}
Value Value::Context(ContextEntries entries) {
  Value v;
  v.type_ = Type::kContext;
  v.obj_ = std::make_shared<const ContextEntries>(std::move(entries));
  return v;
}
Value Value::MakeRange(Range range) {
  Value v;
  v.type_ = Type::kRange;
  v.obj_ = std::make_shared<const Range>(std::move(range));
  return v;
}
Value Value::MakeFunction(std::shared_ptr<const Function> fn) {
  if (!fn) return Value();
  Value v;
  v.type_ = Type::kFunction;
  v.obj_ = std::make_shared<const std::shared_ptr<const Function>>(std::move(fn));
  return v;
}

Decimal Value::number() const {
  assert(type_ == Type::kNumber);
  return Decimal::FromBits(w1_, w0_);
}
const std::string& Value::string() const {
  assert(type_ == Type::kString);
  return *static_cast<const std::string*>(obj_.get());
}
bool Value::boolean() const { return flag_; }
int64_t Value::epoch_days() const { return static_cast<int64_t>(w0_); }
int64_t Value::nanos_of_day() const { return static_cast<int64_t>(w1_); }
ZoneKind Value::zone_kind() const { return zone_; }
int32_t Value::offset_seconds() const { return offset_; }
const std::string& Value::zone_id() const {
  static const std::string kEmpty;
  if (zone_ != ZoneKind::kZone || !obj_) return kEmpty;
  return *static_cast<const std::string*>(obj_.get());
}
__int128 Value::duration_nanos() const {
  return static_cast<__int128>((static_cast<unsigned __int128>(w1_) << 64) | w0_);
}
int64_t Value::duration_months() const { return static_cast<int64_t>(w0_); }
const std::vector<Value>& Value::list() const {
  assert(type_ == Type::kList);
  return *static_cast<const std::vector<Value>*>(obj_.get());
}
const ContextEntries& Value::context() const {
  assert(type_ == Type::kContext);
  return *static_cast<const ContextEntries*>(obj_.get());
}
const Range& Value::range() const {
  assert(type_ == Type::kRange);
  return *static_cast<const Range*>(obj_.get());
}
const std::shared_ptr<const Function>& Value::function() const {
  assert(type_ == Type::kFunction);
  return *static_cast<const std::shared_ptr<const Function>*>(obj_.get());
}

const Value* Value::Get(std::string_view key) const {
  if (type_ != Type::kContext) return nullptr;
  for (const auto& [k, v] : context()) {
    if (k == key) return &v;
  }
  return nullptr;
}

__int128 Value::InstantNanos() const {
  __int128 local = type_ == Type::kDateTime
                       ? static_cast<__int128>(epoch_days()) * kNanosPerDay + nanos_of_day()
                       : static_cast<__int128>(type_ == Type::kDate ? epoch_days() : 0) * kNanosPerDay +
                             (type_ == Type::kTime ? nanos_of_day() : 0);
  if (zone_ != ZoneKind::kLocal) local -= static_cast<__int128>(offset_) * kNanosPerSecond;
  return local;
}

namespace {

bool IsSimpleName(const std::string& s) {
  if (s.empty()) return false;
  auto start_ok = [](unsigned char c) { return c == '_' || c == '?' || std::isalpha(c) || c >= 0x80; };
  if (!start_ok(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s) {
    if (!(start_ok(c) || std::isdigit(c))) return false;
  }
  static const char* kReserved[] = {"true", "false", "null", "and", "or", "not", "in", "for", "if",
                                    "then", "else", "some", "every", "satisfies", "return", "between",
                                    "instance", "of", "function", "external"};
  for (const char* r : kReserved) {
    if (s == r) return false;
  }
  return true;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

int Cmp128(__int128 a, __int128 b) { return a < b ? -1 : (a > b ? 1 : 0); }
int Cmp64(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

// Equality of two time-like values of the same type; nullopt = not comparable.
std::optional<bool> TemporalEqual(const Value& a, const Value& b) {
  bool al = a.zone_kind() == ZoneKind::kLocal, bl = b.zone_kind() == ZoneKind::kLocal;
  if (al && bl) return a.epoch_days() == b.epoch_days() && a.nanos_of_day() == b.nanos_of_day();
  if (al != bl) return false;
  if (a.type() == Type::kTime && a.zone_kind() == ZoneKind::kZone && b.zone_kind() == ZoneKind::kZone)
    return a.zone_id() == b.zone_id() && a.nanos_of_day() == b.nanos_of_day();
  return a.InstantNanos() == b.InstantNanos();
}

}  // namespace

std::optional<int> CompareValues(const Value& a, const Value& b) {
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case Type::kNumber: return Decimal::Compare(a.number(), b.number());
    case Type::kString: {
      int c = a.string().compare(b.string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kDate: return Cmp64(a.epoch_days(), b.epoch_days());
    case Type::kTime:
    case Type::kDateTime: {
      bool al = a.zone_kind() == ZoneKind::kLocal, bl = b.zone_kind() == ZoneKind::kLocal;
      if (al != bl) return std::nullopt;
      return Cmp128(a.InstantNanos(), b.InstantNanos());
    }
    case Type::kDaysTimeDuration: return Cmp128(a.duration_nanos(), b.duration_nanos());
    case Type::kYearsMonthsDuration: return Cmp64(a.duration_months(), b.duration_months());
    default: return std::nullopt;
  }
}

Value Equal(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Boolean(a.is_null() && b.is_null());
  if (a.type() != b.type()) return Value();
  switch (a.type()) {
    case Type::kBoolean: return Value::Boolean(a.boolean() == b.boolean());
    case Type::kTime:
    case Type::kDateTime: {
      auto e = TemporalEqual(a, b);
      return e ? Value::Boolean(*e) : Value();
    }
    case Type::kList: {
      const auto& x = a.list();
      const auto& y = b.list();
      if (x.size() != y.size()) return Value::Boolean(false);
      for (size_t i = 0; i < x.size(); ++i) {
        Value e = Equal(x[i], y[i]);
        if (e.is_null()) return e;
        if (!e.boolean()) return e;
      }
      return Value::Boolean(true);
    }
    case Type::kContext: {
      const auto& x = a.context();
      const auto& y = b.context();
      if (x.size() != y.size()) return Value::Boolean(false);
      for (const auto& [k, v] : x) {
        const Value* other = b.Get(k);
        if (!other) return Value::Boolean(false);
        Value e = Equal(v, *other);
        if (e.is_null() || !e.boolean()) return Value::Boolean(false);
      }
      return Value::Boolean(true);
    }
    case Type::kRange: {
      const Range& x = a.range();
      const Range& y = b.range();
      auto bound_eq = [](const std::optional<Value>& p, const std::optional<Value>& q) {
        if (p.has_value() != q.has_value()) return false;
        return !p.has_value() || *p == *q;
      };
      return Value::Boolean(x.kind == y.kind && x.low_closed == y.low_closed && x.high_closed == y.high_closed &&
                            bound_eq(x.low, y.low) && bound_eq(x.high, y.high));
    }
    case Type::kFunction: return Value::Boolean(a.function() == b.function());
    default: {
      auto c = CompareValues(a, b);
      return c ? Value::Boolean(*c == 0) : Value();
    }
  }
}

bool operator==(const Value& a, const Value& b) {
  Value e = Equal(a, b);
  return e.type() == Type::kBoolean && e.boolean();
}

std::string Value::ToString() const {
  switch (type_) {
    case Type::kNull: return "null";
    case Type::kNumber: return number().ToString();
    case Type::kString: return Quote(string());
    case Type::kBoolean: return flag_ ? "true" : "false";
    case Type::kDate: return "date(\"" + internal::FormatDate(epoch_days()) + "\")";
    case Type::kTime: return "time(\"" + internal::FormatTime(nanos_of_day(), zone_, offset_, zone_id()) + "\")";
    case Type::kDateTime:
      return "date and time(\"" + internal::FormatDate(epoch_days()) + "T" +
             internal::FormatTime(nanos_of_day(), zone_, offset_, zone_id()) + "\")";
    case Type::kDaysTimeDuration: return "duration(\"" + internal::FormatDaysTime(duration_nanos()) + "\")";
    case Type::kYearsMonthsDuration: return "duration(\"" + internal::FormatYearsMonths(duration_months()) + "\")";
    case Type::kList: {
      std::string s = "[";
      for (size_t i = 0; i < list().size(); ++i) {
        if (i) s += ", ";
        s += list()[i].ToString();
      }
      return s + "]";
    }
    case Type::kContext: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, v] : context()) {
        if (!first) s += ", ";
        first = false;
        s += (IsSimpleName(k) ? k : Quote(k)) + ": " + v.ToString();
      }
      return s + "}";
    }
    case Type::kRange: {
      const Range& r = range();
      if (r.kind == Range::Kind::kEqual) return "=" + r.low->ToString();
      if (r.kind == Range::Kind::kNotEqual) return "!=" + r.low->ToString();
      if (!r.low) return std::string(r.high_closed ? "<= " : "< ") + r.high->ToString();
      if (!r.high) return std::string(r.low_closed ? ">= " : "> ") + r.low->ToString();
      return std::string(r.low_closed ? "[" : "(") + r.low->ToString() + ".." + r.high->ToString() +
             (r.high_closed ? "]" : ")");
    }
    case Type::kFunction: return function()->Describe();
  }
  return "null";
}

std::string Function::Describe() const {
  std::string s = "function(";
  const auto& p = parameters();
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) s += ", ";
    s += p[i];
  }
  return s + ")";
}

namespace {
class NativeFunction final : public Function {
 public:
  NativeFunction(std::vector<std::string> params, NativeFn fn) : params_(std::move(params)), fn_(std::move(fn)) {}
  const std::vector<std::string>& parameters() const override { return params_; }
  Value Call(std::span<const Value> args, EvalContext& ctx) const override { return fn_(args, ctx); }

 private:
  std::vector<std::string> params_;
  NativeFn fn_;
};
}  // namespace

std::shared_ptr<const Function> MakeNativeFunction(std::vector<std::string> parameters, NativeFn fn) {
  return std::make_shared<NativeFunction>(std::move(parameters), std::move(fn));
}

void Scope::Set(std::string_view name, Value value) {
  for (auto& [k, v] : vars_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(value));
}

const Value* Scope::Find(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    for (const auto& [k, v] : s->vars_) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

const Clock& EvalContext::clock() const { return clock_ ? *clock_ : *SystemClock::Default(); }

EvalContext::EvalContext(const Clock* clock, const EvalLimits& limits) : clock_(clock), limits_(limits) {}

bool EvalContext::Poll() {
  if (exceeded_ != LimitExceeded::kNone) return false;
  if (steps_ > limits_.max_steps) return Exceed(LimitExceeded::kSteps);
  if (limits_.cancelled && limits_.cancelled->load(std::memory_order_relaxed)) {
    return Exceed(LimitExceeded::kCancelled);
  }
  if (limits_.deadline != EvalLimits::TimePoint::max() && std::chrono::steady_clock::now() >= limits_.deadline) {
    return Exceed(LimitExceeded::kTime);
  }
  poll_at_ = std::min(steps_ + kPollEvery, limits_.max_steps);
  return true;
}

bool EvalContext::Exceed(LimitExceeded what) {
  if (exceeded_ == LimitExceeded::kNone) exceeded_ = what;
  poll_at_ = 0;  // every further step ends up in Poll(), which says stop
  return false;
}

Status EvalContext::LimitStatus(std::string field) const {
  return feel::LimitStatus(exceeded_, limits_, std::move(field));
}

Status LimitStatus(LimitExceeded what, const EvalLimits& limits, std::string field) {
  switch (what) {
    case LimitExceeded::kNone: return Status::Ok();
    case LimitExceeded::kSteps:
      return Status::Unprocessable("the evaluation took more than " + std::to_string(limits.max_steps) +
                                       " steps (the step limit); simplify the expression",
                                   std::move(field));
    case LimitExceeded::kMemory:
      return Status::Unprocessable("the evaluation built more than " + std::to_string(limits.max_bytes) +
                                       " bytes of values (the memory limit); simplify the expression",
                                   std::move(field));
    case LimitExceeded::kDepth:
      return Status::Unprocessable("the evaluation nested deeper than " + std::to_string(EvalContext::kMaxNesting) +
                                       " levels (the nesting limit), e.g. by recursion",
                                   std::move(field));
    case LimitExceeded::kTime:
      return Status(StatusCode::kUnavailable,
                    "the evaluation ran longer than its time limit" +
                        (limits.time_limit_ms ? " of " + std::to_string(limits.time_limit_ms) + " ms" : std::string()) +
                        "; try a cheaper expression or a smaller selection",
                    std::move(field));
    case LimitExceeded::kCancelled:
      return Status(StatusCode::kUnavailable, "the evaluation was cancelled (the client went away or the server is stopping)",
                    std::move(field));
  }
  return Status::Ok();
}

}  // namespace rapport::feel
