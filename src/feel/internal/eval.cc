// Evaluation of FEEL trees. Never throws; errors give null plus a warning.

#include "feel/internal/eval.h"

#include <algorithm>

#include "feel/internal/builtins.h"
#include "feel/internal/decmath.h"
#include "feel/internal/temporal.h"

namespace rapport::feel::internal {
namespace {

Value Warn(EvalContext& ctx, const Node& n, std::string msg) {
  ctx.Warn("position " + std::to_string(n.pos) + ": " + msg);
  return Value();
}

bool IsDateLike(const Value& v) { return v.is(Type::kDate) || v.is(Type::kDateTime); }

Value AsDateTime(const Value& v) {
  if (v.is(Type::kDate)) return Value::DateTime(v.epoch_days(), 0);
  return v;
}

Value WithLocalFields(const Value& like, int64_t days, int64_t nanos) {
  return Value::DateTime(days, nanos, like.zone_kind(), like.offset_seconds(), like.zone_id());
}

// date and time + days-time duration: exact instant arithmetic keeping the
// zone (for IANA zones the offset is re-derived for the new local time).
Value AddDtToDateTime(const Value& dt, __int128 nanos) {
  if (dt.zone_kind() == ZoneKind::kZone) {
    __int128 instant = dt.InstantNanos() + nanos;
    // Find local time in zone: start from the old offset, correct once.
    int32_t off = dt.offset_seconds();
    for (int i = 0; i < 2; ++i) {
      __int128 local = instant + static_cast<__int128>(off) * kNanosPerSecond;
      int64_t days = static_cast<int64_t>(local / kNanosPerDay) - (local % kNanosPerDay < 0 ? 1 : 0);
      int64_t ns = static_cast<int64_t>(local - static_cast<__int128>(days) * kNanosPerDay);
      auto o = ZoneOffsetAtLocal(dt.zone_id(), days, ns);
      if (!o || *o == off) return WithLocalFields(dt, days, ns);
      off = *o;
    }
    __int128 local = instant + static_cast<__int128>(off) * kNanosPerSecond;
    int64_t days = static_cast<int64_t>(local / kNanosPerDay) - (local % kNanosPerDay < 0 ? 1 : 0);
    return WithLocalFields(dt, days, static_cast<int64_t>(local - static_cast<__int128>(days) * kNanosPerDay));
  }
  __int128 local = static_cast<__int128>(dt.epoch_days()) * kNanosPerDay + dt.nanos_of_day() + nanos;
  int64_t days = static_cast<int64_t>(local / kNanosPerDay) - (local % kNanosPerDay < 0 ? 1 : 0);
  return WithLocalFields(dt, days, static_cast<int64_t>(local - static_cast<__int128>(days) * kNanosPerDay));
}

Value NumberOrNull(Decimal d) { return d.IsFinite() ? Value::Number(d) : Value(); }

}  // namespace

int64_t AddMonthsToDays(int64_t epoch_days, int64_t months) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(epoch_days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = FloorDiv(total, 12);
  unsigned nm = static_cast<unsigned>(FloorMod(total, 12) + 1);
  unsigned nd = std::min<unsigned>(d, static_cast<unsigned>(DaysInMonth(ny, nm)));
  return DaysFromCivil(ny, nm, nd);
}

Value Add(const Value& a, const Value& b, EvalContext& ctx) {
  if (a.is_null() || b.is_null()) return Value();
  Type ta = a.type(), tb = b.type();
  if (ta == Type::kNumber && tb == Type::kNumber) return NumberOrNull(a.number() + b.number());
  if (ta == Type::kString && tb == Type::kString) return Value::String(a.string() + b.string());
  if (ta == Type::kDaysTimeDuration && tb == Type::kDaysTimeDuration)
    return Value::DaysTimeDuration(a.duration_nanos() + b.duration_nanos());
  if (ta == Type::kYearsMonthsDuration && tb == Type::kYearsMonthsDuration)
    return Value::YearsMonthsDuration(a.duration_months() + b.duration_months());
  // Make the temporal operand come first.
  if ((tb == Type::kDate || tb == Type::kDateTime || tb == Type::kTime) &&
      (ta == Type::kDaysTimeDuration || ta == Type::kYearsMonthsDuration))
    return Add(b, a, ctx);
  if (ta == Type::kDate && tb == Type::kDaysTimeDuration) {
    Value dt = AddDtToDateTime(Value::DateTime(a.epoch_days(), 0), b.duration_nanos());
    return Value::Date(dt.epoch_days());
  }
  if (ta == Type::kDate && tb == Type::kYearsMonthsDuration)
    return Value::Date(AddMonthsToDays(a.epoch_days(), b.duration_months()));
  if (ta == Type::kDateTime && tb == Type::kDaysTimeDuration) return AddDtToDateTime(a, b.duration_nanos());
  if (ta == Type::kDateTime && tb == Type::kYearsMonthsDuration)
    return WithLocalFields(a, AddMonthsToDays(a.epoch_days(), b.duration_months()), a.nanos_of_day());
  if (ta == Type::kTime && tb == Type::kDaysTimeDuration) {
    int64_t ns = static_cast<int64_t>((static_cast<__int128>(a.nanos_of_day()) + b.duration_nanos() % kNanosPerDay +
                                       kNanosPerDay) % kNanosPerDay);
    return Value::Time(ns, a.zone_kind(), a.offset_seconds(), a.zone_id());
  }
  ctx.Warn("cannot add " + std::string(TypeName(ta)) + " and " + std::string(TypeName(tb)));
  return Value();
}

Value Sub(const Value& a, const Value& b, EvalContext& ctx) {
  if (a.is_null() || b.is_null()) return Value();
  Type ta = a.type(), tb = b.type();
  if (ta == Type::kNumber && tb == Type::kNumber) return NumberOrNull(a.number() - b.number());
  if (IsDateLike(a) && IsDateLike(b)) {
    // Against a date and time, a date is its midnight UTC (DMN 1.5
    // 10.3.2.3.6), so it subtracts from zoned values and not from local ones.
    auto as_dt = [](const Value& v, const Value& other) {
      if (v.is(Type::kDate) && other.is(Type::kDateTime)) return Value::DateTime(v.epoch_days(), 0, ZoneKind::kOffset, 0);
      return AsDateTime(v);
    };
    Value x = as_dt(a, b), y = as_dt(b, a);
    bool xl = x.zone_kind() == ZoneKind::kLocal, yl = y.zone_kind() == ZoneKind::kLocal;
    if (xl != yl) {
      ctx.Warn("cannot subtract a local and a zoned date and time");
      return Value();
    }
    return Value::DaysTimeDuration(x.InstantNanos() - y.InstantNanos());
  }
  if (ta == Type::kTime && tb == Type::kTime) {
    bool xl = a.zone_kind() == ZoneKind::kLocal, yl = b.zone_kind() == ZoneKind::kLocal;
    if (xl != yl) return Value();
    return Value::DaysTimeDuration(a.InstantNanos() - b.InstantNanos());
  }
  if (tb == Type::kDaysTimeDuration && ta != Type::kDaysTimeDuration) {
    if (ta == Type::kDate || ta == Type::kDateTime || ta == Type::kTime)
      return Add(a, Value::DaysTimeDuration(-b.duration_nanos()), ctx);
  }
  if (tb == Type::kYearsMonthsDuration && (ta == Type::kDate || ta == Type::kDateTime))
    return Add(a, Value::YearsMonthsDuration(-b.duration_months()), ctx);
  if (ta == Type::kDaysTimeDuration && tb == Type::kDaysTimeDuration)
    return Value::DaysTimeDuration(a.duration_nanos() - b.duration_nanos());
  if (ta == Type::kYearsMonthsDuration && tb == Type::kYearsMonthsDuration)
    return Value::YearsMonthsDuration(a.duration_months() - b.duration_months());
  ctx.Warn("cannot subtract " + std::string(TypeName(tb)) + " from " + std::string(TypeName(ta)));
  return Value();
}

namespace {
// Duration scaled by a number: days-time to nanoseconds (rounded), years-
// months to whole months (truncated toward zero).
Value ScaleDuration(const Value& d, Decimal f, bool divide) {
  if (divide && f.IsZero()) return Value();
  if (d.is(Type::kDaysTimeDuration)) {
    __int128 n = d.duration_nanos();
    Decimal nd = Decimal::Parse(std::to_string(static_cast<int64_t>(n / kNanosPerSecond))).value() *
                     Decimal::FromInt(kNanosPerSecond) +
                 Decimal::FromInt(static_cast<int64_t>(n % kNanosPerSecond));
    Decimal r = divide ? nd / f : nd * f;
    auto rounded = DecRound(r, 0, Rounding::kHalfEven);
    if (!rounded) return Value();
    bool exact;
    int64_t v = rounded->ToInt64(&exact);
    if (!exact) return Value();
    return Value::DaysTimeDuration(v);
  }
  Decimal m = Decimal::FromInt(d.duration_months());
  Decimal r = divide ? m / f : m * f;
  auto t = DecRound(r, 0, Rounding::kDown);
  if (!t) return Value();
  bool exact;
  int64_t v = t->ToInt64(&exact);
  return exact ? Value::YearsMonthsDuration(v) : Value();
}
bool IsDuration(const Value& v) { return v.is(Type::kDaysTimeDuration) || v.is(Type::kYearsMonthsDuration); }
}  // namespace

Value Mul(const Value& a, const Value& b, EvalContext& ctx) {
  if (a.is_null() || b.is_null()) return Value();
  if (a.is(Type::kNumber) && b.is(Type::kNumber)) return NumberOrNull(a.number() * b.number());
  if (IsDuration(a) && b.is(Type::kNumber)) return ScaleDuration(a, b.number(), false);
  if (a.is(Type::kNumber) && IsDuration(b)) return ScaleDuration(b, a.number(), false);
  ctx.Warn("cannot multiply " + std::string(TypeName(a.type())) + " and " + std::string(TypeName(b.type())));
  return Value();
}

Value Div(const Value& a, const Value& b, EvalContext& ctx) {
  if (a.is_null() || b.is_null()) return Value();
  if (a.is(Type::kNumber) && b.is(Type::kNumber)) {
    if (b.number().IsZero()) {
      ctx.Warn("division by zero");
      return Value();
    }
    return NumberOrNull(a.number() / b.number());
  }
  if (IsDuration(a) && b.is(Type::kNumber)) return ScaleDuration(a, b.number(), true);
  if (a.is(Type::kDaysTimeDuration) && b.is(Type::kDaysTimeDuration)) {
    if (b.duration_nanos() == 0) return Value();
    auto to_dec = [](__int128 n) {
      return Decimal::FromInt(static_cast<int64_t>(n / kNanosPerSecond)) * Decimal::FromInt(kNanosPerSecond) +
             Decimal::FromInt(static_cast<int64_t>(n % kNanosPerSecond));
    };
    return NumberOrNull(to_dec(a.duration_nanos()) / to_dec(b.duration_nanos()));
  }
  if (a.is(Type::kYearsMonthsDuration) && b.is(Type::kYearsMonthsDuration)) {
    if (b.duration_months() == 0) return Value();
    return NumberOrNull(Decimal::FromInt(a.duration_months()) / Decimal::FromInt(b.duration_months()));
  }
  ctx.Warn("cannot divide " + std::string(TypeName(a.type())) + " by " + std::string(TypeName(b.type())));
  return Value();
}

Value InRange(const Value& v, const Range& r) {
  if (r.kind == Range::Kind::kNotEqual) {
    Value e = Equal(v, *r.low);
    return e.is(Type::kBoolean) ? Value::Boolean(!e.boolean()) : e;
  }
  if (r.low) {
    auto c = CompareValues(v, *r.low);
    if (!c) return Value();
    if (*c < 0 || (*c == 0 && !r.low_closed)) return Value::Boolean(false);
  }
  if (r.high) {
    auto c = CompareValues(v, *r.high);
    if (!c) return Value();
    if (*c > 0 || (*c == 0 && !r.high_closed)) return Value::Boolean(false);
  }
  return Value::Boolean(true);
}

Value MakeRangeValue(std::optional<Value> low, std::optional<Value> high, bool low_closed, bool high_closed) {
  auto ok_type = [](const Value& v) {
    switch (v.type()) {
      case Type::kNumber: case Type::kString: case Type::kDate: case Type::kTime: case Type::kDateTime:
      case Type::kDaysTimeDuration: case Type::kYearsMonthsDuration: return true;
      default: return false;
    }
  };
  if (low && !ok_type(*low)) return Value();
  if (high && !ok_type(*high)) return Value();
  if (low && high && !CompareValues(*low, *high)) return Value();
  if (!low && !high) return Value();
  // A descending range ([3..1]) is not a range (DMN 1.5: start <= end).
  if (low && high && *CompareValues(*low, *high) > 0) return Value();
  Range r;
  r.low = std::move(low);
  r.high = std::move(high);
  r.low_closed = low_closed;
  r.high_closed = high_closed;
  return Value::MakeRange(std::move(r));
}

Value Property(const Value& v, std::string_view name, EvalContext& ctx) {
  auto num = [](int64_t x) { return Value::Number(x); };
  switch (v.type()) {
    case Type::kContext: {
      const Value* f = v.Get(name);
      return f ? *f : Value();
    }
    case Type::kDate:
    case Type::kDateTime: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(v.epoch_days(), &y, &m, &d);
      if (name == "year") return num(y);
      if (name == "month") return num(m);
      if (name == "day") return num(d);
      if (name == "weekday") return num(FloorMod(v.epoch_days() + 3, 7) + 1);  // 1970-01-01 was a Thursday
      if (v.is(Type::kDate)) break;
      [[fallthrough]];
    }
    case Type::kTime: {
      int64_t s = v.nanos_of_day() / kNanosPerSecond;
      if (name == "hour") return num(s / 3600);
      if (name == "minute") return num(s / 60 % 60);
      if (name == "second") {
        int64_t frac = v.nanos_of_day() % kNanosPerSecond;
        if (frac == 0) return num(s % 60);
        return Value::Number(Decimal::FromInt((s % 60) * kNanosPerSecond + frac) / Decimal::FromInt(kNanosPerSecond));
      }
      if (name == "time offset") {
        if (v.zone_kind() == ZoneKind::kLocal) return Value();
        return Value::DaysTimeDuration(static_cast<__int128>(v.offset_seconds()) * kNanosPerSecond);
      }
      if (name == "timezone") {
        if (v.zone_kind() != ZoneKind::kZone) return Value();
        return Value::String(v.zone_id());
      }
      break;
    }
    case Type::kDaysTimeDuration: {
      __int128 n = v.duration_nanos();
      __int128 secs = n / kNanosPerSecond;
      if (name == "days") return num(static_cast<int64_t>(secs / 86400));
      if (name == "hours") return num(static_cast<int64_t>(secs / 3600 % 24));
      if (name == "minutes") return num(static_cast<int64_t>(secs / 60 % 60));
      if (name == "seconds") {
        int64_t frac = static_cast<int64_t>(n % kNanosPerSecond);
        int64_t s = static_cast<int64_t>(secs % 60);
        if (frac == 0) return num(s);
        return Value::Number(Decimal::FromInt(s * kNanosPerSecond + frac) / Decimal::FromInt(kNanosPerSecond));
      }
      break;
    }
    case Type::kYearsMonthsDuration:
      if (name == "years") return num(v.duration_months() / 12);
      if (name == "months") return num(v.duration_months() % 12);
      break;
    case Type::kRange: {
      const Range& r = v.range();
      if (name == "start") return r.low ? *r.low : Value();
      if (name == "end") return r.high ? *r.high : Value();
      if (name == "start included") return Value::Boolean(r.low_closed);
      if (name == "end included") return Value::Boolean(r.high_closed);
      break;
    }
    case Type::kList: {
      std::vector<Value> out;
      out.reserve(v.list().size());
      for (const Value& e : v.list()) out.push_back(Property(e, name, ctx));
      return Value::List(std::move(out));
    }
    case Type::kNull: return Value();
    default: break;
  }
  ctx.Warn("no property '" + std::string(name) + "' on " + std::string(TypeName(v.type())));
  return Value();
}

namespace {

// A function defined in FEEL: parameters, body, and the scope it closes over.
class FeelFunction final : public Function {
 public:
  FeelFunction(const Node* def, std::shared_ptr<const Program> program, std::shared_ptr<Scope> captured)
      : def_(def), program_(std::move(program)), captured_(std::move(captured)) {}

  const std::vector<std::string>& parameters() const override { return def_->names; }

  Value Call(std::span<const Value> args, EvalContext& ctx) const override {
    Scope scope(captured_.get());
    for (size_t i = 0; i < def_->names.size(); ++i) {
      Value a = i < args.size() ? args[i] : Value();
      const FeelType& t = def_->types[i];
      if (t.kind != FeelType::Kind::kAny && !a.is_null()) {
        Value c = CoerceTo(a, t);
        if (c.is_null()) {
          ctx.Warn("argument '" + def_->names[i] + "' is not a " + t.ToString());
          return Value();
        }
        a = c;
      }
      scope.Set(def_->names[i], a);
    }
    if (!self_name_.empty() && !scope.Find(self_name_)) {
      // Recursion through the context entry that holds this function.
      scope.Set(self_name_, Value::MakeFunction(std::shared_ptr<const Function>(self_.lock())));
    }
    Env env;
    env.scope = &scope;
    env.ctx = &ctx;
    env.program = &program_;
    return Eval(*def_->kids[0], env);
  }

  // Set once, right after creation, before the value is shared.
  void BindSelf(const std::string& name, const std::shared_ptr<const FeelFunction>& self) const {
    self_name_ = name;
    self_ = self;
  }

 private:
  const Node* def_;
  std::shared_ptr<const Program> program_;
  std::shared_ptr<Scope> captured_;
  mutable std::string self_name_;
  mutable std::weak_ptr<const FeelFunction> self_;
};

std::shared_ptr<Scope> Capture(const Scope* scope) {
  auto s = std::make_shared<Scope>();
  std::vector<const Scope*> chain;
  for (const Scope* p = scope; p; p = p->parent()) chain.push_back(p);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const auto& [k, v] : (*it)->variables()) s->Set(k, v);
  }
  return s;
}

Value Truth(const Value& v) { return v.is(Type::kBoolean) ? v : Value(); }

Value CompareOp(Cmp cmp, const Value& a, const Value& b, EvalContext& ctx) {
  if (cmp == Cmp::kEq) return Equal(a, b);
  if (cmp == Cmp::kNe) {
    Value e = Equal(a, b);
    return e.is_null() ? e : Value::Boolean(!e.boolean());
  }
  if (a.is_null() || b.is_null()) return Value();
  auto c = CompareValues(a, b);
  if (!c) {
    ctx.Warn("cannot compare " + std::string(TypeName(a.type())) + " with " + std::string(TypeName(b.type())));
    return Value();
  }
  switch (cmp) {
    case Cmp::kLt: return Value::Boolean(*c < 0);
    case Cmp::kLe: return Value::Boolean(*c <= 0);
    case Cmp::kGt: return Value::Boolean(*c > 0);
    case Cmp::kGe: return Value::Boolean(*c >= 0);
    default: return Value();
  }
}

// Fast compare of the input against a literal: numbers and strings without
// building intermediate values.
inline Value CompareLiteral(Cmp cmp, const Value& in, const Value& lit, EvalContext& ctx) {
  int c;
  if (in.type() == Type::kNumber && lit.type() == Type::kNumber) {
    c = Decimal::Compare(in.number(), lit.number());
  } else if (in.type() == Type::kString && lit.type() == Type::kString) {
    c = in.string().compare(lit.string());
  } else {
    return CompareOp(cmp, in, lit, ctx);
  }
  switch (cmp) {
    case Cmp::kEq: return Value::Boolean(c == 0);
    case Cmp::kNe: return Value::Boolean(c != 0);
    case Cmp::kLt: return Value::Boolean(c < 0);
    case Cmp::kLe: return Value::Boolean(c <= 0);
    case Cmp::kGt: return Value::Boolean(c > 0);
    case Cmp::kGe: return Value::Boolean(c >= 0);
  }
  return Value();
}

std::vector<Value> AsList(const Value& v) {
  if (v.is(Type::kList)) return v.list();
  return {v};
}

// Room for the integers a..b of an iteration domain, counted against the
// budget first (each is a step and a value), so that `for i in 1..1e9` stops
// at the limit instead of allocating.
bool Reserve(int64_t a, int64_t b, const Env& env, std::vector<Value>* out) {
  uint64_t distance = a > b ? static_cast<uint64_t>(a) - static_cast<uint64_t>(b)
                            : static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
  // Past the step limit the exact count does not matter (and must not overflow).
  uint64_t count = std::min(distance, std::min<uint64_t>(env.ctx->limits().max_steps, uint64_t{1} << 40)) + 1;
  if (!env.ctx->Step(count) || !env.ctx->Charge(count * sizeof(Value))) return false;
  out->reserve(count);
  return true;
}

// Domain of a for/some/every variable.
bool IterationDomain(const Node& n, const Env& env, std::vector<Value>* out) {
  // "for i in 3..1": an iteration range, which may descend.
  if (n.kind == NodeKind::kRange && n.name == "..") {
    Value lo = Eval(*n.kids[0], env), hi = Eval(*n.kids[1], env);
    if (lo.is(Type::kNumber) && hi.is(Type::kNumber)) {
      bool e1, e2;
      int64_t a = lo.number().ToInt64(&e1), b = hi.number().ToInt64(&e2);
      if (!e1 || !e2 || !Reserve(a, b, env, out)) return false;
      int64_t step = a <= b ? 1 : -1;
      for (int64_t i = a;; i += step) {
        out->push_back(Value::Number(i));
        if (i == b) break;
      }
      return true;
    }
    if (lo.is(Type::kDate) && hi.is(Type::kDate)) {
      int64_t a = lo.epoch_days(), b = hi.epoch_days();
      if (!Reserve(a, b, env, out)) return false;
      int64_t step = a <= b ? 1 : -1;
      for (int64_t i = a;; i += step) {
        out->push_back(Value::Date(i));
        if (i == b) break;
      }
      return true;
    }
    return false;
  }
  Value v = Eval(n, env);
  if (v.is(Type::kRange)) {
    // A range value ([1..3), [@"2020-01-01"..@"2020-01-31"]) is ascending;
    // its open ends are left out.
    const Range& r = v.range();
    if (!r.low || !r.high || r.kind != Range::Kind::kInterval) return false;
    bool numbers = r.low->is(Type::kNumber) && r.high->is(Type::kNumber);
    bool dates = r.low->is(Type::kDate) && r.high->is(Type::kDate);
    int64_t a, b;
    if (numbers) {
      bool e1, e2;
      a = r.low->number().ToInt64(&e1);
      b = r.high->number().ToInt64(&e2);
      if (!e1 || !e2) return false;
    } else if (dates) {
      a = r.low->epoch_days();
      b = r.high->epoch_days();
    } else {
      return false;
    }
    if (!r.low_closed) ++a;
    if (!r.high_closed) --b;
    if (a <= b && !Reserve(a, b, env, out)) return false;
    for (int64_t i = a; i <= b; ++i) out->push_back(numbers ? Value::Number(i) : Value::Date(i));
    return true;
  }
  if (v.is_null()) return false;
  *out = AsList(v);
  return true;
}

void ForLoop(const Node& n, size_t level, Scope* scope, const Env& env, std::vector<Value>* results, bool* ok) {
  size_t vars = n.names.size();
  if (level == vars) {
    // `partial` (the results so far) is a copy each time: only for a body
    // that reads it.
    if (n.uses_input) {
      if (!env.ctx->Charge(results->size() * sizeof(Value))) {
        *ok = false;
        return;
      }
      scope->Set("partial", Value::List(*results));
    }
    Env inner = env;
    inner.scope = scope;
    results->push_back(Eval(*n.kids[vars], inner));
    return;
  }
  Env inner = env;
  inner.scope = scope;
  std::vector<Value> domain;
  if (!IterationDomain(*n.kids[level], inner, &domain)) {
    *ok = false;
    return;
  }
  for (const Value& v : domain) {
    Scope child(scope);
    child.Set(n.names[level], v);
    ForLoop(n, level + 1, &child, env, results, ok);
    if (!*ok) return;
    if (env.ctx->stopped()) {
      *ok = false;
      return;
    }
  }
}

// some/every: returns true/false/null by three-valued or/and over bindings.
void Quantify(const Node& n, size_t level, Scope* scope, const Env& env, bool some, int* state) {
  // state: 0 undecided-all-so-far-neutral, 1 decided, plus null tracking in bit 2.
  size_t vars = n.names.size();
  Env inner = env;
  inner.scope = scope;
  if (level == vars) {
    Value r = Eval(*n.kids[vars], inner);
    if (r.is(Type::kBoolean)) {
      if (r.boolean() == some) *state |= 1;
    } else {
      *state |= 2;
    }
    return;
  }
  std::vector<Value> domain;
  if (!IterationDomain(*n.kids[level], inner, &domain)) {
    *state |= 4;
    return;
  }
  for (const Value& v : domain) {
    Scope child(scope);
    child.Set(n.names[level], v);
    Quantify(n, level + 1, &child, env, some, state);
    if (*state & 5) return;
    if (env.ctx->stopped()) {
      *state |= 4;
      return;
    }
  }
}

Value Filter(const Value& target, const Node& f, const Env& env) {
  if (target.is_null()) return Value();
  std::vector<Value> items = AsList(target);
  // Numeric index when the filter does not depend on the item.
  if (f.kind == NodeKind::kLiteral || f.kind == NodeKind::kNegate ||
      (f.kind == NodeKind::kName && env.scope->Find(f.name) && f.name != "item")) {
    Value idx = Eval(f, env);
    if (idx.is(Type::kNumber)) {
      bool exact;
      int64_t i = idx.number().ToInt64(&exact);
      int64_t n = static_cast<int64_t>(items.size());
      if (!exact || i == 0 || i > n || i < -n) return Value();
      return items[i > 0 ? i - 1 : n + i];
    }
    if (idx.is(Type::kBoolean)) {
      if (!idx.boolean()) return Value::List({});
      return Value::List(items);
    }
    if (f.kind == NodeKind::kLiteral) return Value();
  }
  std::vector<Value> out;
  for (size_t k = 0; k < items.size(); ++k) {
    const Value& item = items[k];
    Scope s(env.scope);
    s.Set("item", item);
    if (item.is(Type::kContext)) {
      for (const auto& [key, v] : item.context()) s.Set(key, v);
    }
    Env inner = env;
    inner.scope = &s;
    Value r = Eval(f, inner);
    if (env.ctx->stopped()) return Value();
    if (k == 0 && r.is(Type::kNumber)) {
      bool exact;
      int64_t i = r.number().ToInt64(&exact);
      int64_t n = static_cast<int64_t>(items.size());
      if (!exact || i == 0 || i > n || i < -n) return Value();
      return items[i > 0 ? i - 1 : n + i];
    }
    if (r.is(Type::kBoolean) && r.boolean()) out.push_back(item);
  }
  return Value::List(std::move(out));
}

}  // namespace

Value EvalTest(const Node& n, const Env& env) {
  const Value& in = *env.input;
  switch (n.kind) {
    case NodeKind::kUtCompareLit: return CompareLiteral(n.cmp, in, n.value, *env.ctx);
    case NodeKind::kUtRangeLit:
      if (in.is_null()) return Value();
      return InRange(in, n.value.range());
    case NodeKind::kUtAny: return Value::Boolean(true);
    case NodeKind::kUtCompare: {
      Value e = Eval(*n.kids[0], env);
      return CompareOp(n.cmp, in, e, *env.ctx);
    }
    case NodeKind::kUtExpr: {
      Value v = Eval(*n.kids[0], env);
      if (n.uses_input && v.is(Type::kBoolean)) return v;
      if (v.is(Type::kRange)) return in.is_null() ? Value() : InRange(in, v.range());
      if (v.is(Type::kList)) {
        // List membership, as list contains(): an item equal to the input
        // (or a range holding it); items of another type just do not match
        // (true in [false, 2] is false). A list input is also a member of a
        // list of lists ([1,2] in [[1,2], [3]]).
        for (const Value& e : v.list()) {
          Value r = e.is(Type::kRange) ? InRange(in, e.range()) : Equal(in, e);
          if (r.is(Type::kBoolean) && r.boolean()) return r;
        }
        if (!in.is(Type::kList)) return Value::Boolean(false);
        Value same = Equal(in, v);  // [1, 2] in [1, 2]
        return same.is(Type::kBoolean) ? same : Value::Boolean(false);
      }
      return Equal(in, v);
    }
    case NodeKind::kUtNot: {
      bool saw_null = false;
      for (const auto& k : n.kids) {
        Value r = EvalTest(*k, env);
        if (r.is(Type::kBoolean) && r.boolean()) return Value::Boolean(false);
        if (!r.is(Type::kBoolean)) saw_null = true;
      }
      return saw_null ? Value() : Value::Boolean(true);
    }
    case NodeKind::kUtOr: {
      bool saw_null = false;
      for (const auto& k : n.kids) {
        Value r = EvalTest(*k, env);
        if (r.is(Type::kBoolean) && r.boolean()) return r;
        if (!r.is(Type::kBoolean)) saw_null = true;
      }
      return saw_null ? Value() : Value::Boolean(false);
    }
    default: {
      // A plain expression used as a test.
      Value v = Eval(n, env);
      return Equal(in, v);
    }
  }
}

namespace {

// The bytes a value built by a node holds itself (its elements were counted
// when they were built): what the memory limit counts.
uint64_t BuiltBytes(const Value& v) {
  switch (v.type()) {
    case Type::kString: return v.string().size();
    case Type::kList: return v.list().size() * sizeof(Value);
    case Type::kContext: return v.context().size() * (sizeof(Value) + sizeof(std::string));
    default: return 0;
  }
}

Value EvalNode(const Node& n, const Env& env);

}  // namespace

Value Eval(const Node& n, const Env& env) {
  EvalContext& ctx = *env.ctx;
  if (!ctx.Enter()) return Value();
  Value v = EvalNode(n, env);
  ctx.Leave();
  return v;
}

namespace {

Value EvalNode(const Node& n, const Env& env) {
  EvalContext& ctx = *env.ctx;
  switch (n.kind) {
    case NodeKind::kLiteral: return n.value;
    case NodeKind::kName: {
      if (const Value* v = env.scope->Find(n.name)) return *v;
      if (n.builtin) return Value::MakeFunction(n.builtin->as_value);
      return Warn(ctx, n, "unknown variable '" + n.name + "'");
    }
    case NodeKind::kInput:
      if (!env.input) return Warn(ctx, n, "'?' used outside of unary tests");
      return *env.input;
    case NodeKind::kNegate: {
      Value v = Eval(*n.kids[0], env);
      if (v.is(Type::kNumber)) return Value::Number(-v.number());
      if (v.is(Type::kDaysTimeDuration)) return Value::DaysTimeDuration(-v.duration_nanos());
      if (v.is(Type::kYearsMonthsDuration)) return Value::YearsMonthsDuration(-v.duration_months());
      if (!v.is_null()) Warn(ctx, n, "cannot negate " + std::string(TypeName(v.type())));
      return Value();
    }
    case NodeKind::kAdd: {
      Value v = Add(Eval(*n.kids[0], env), Eval(*n.kids[1], env), ctx);
      if (v.is(Type::kString) && !ctx.Charge(BuiltBytes(v))) return Value();
      return v;
    }
    case NodeKind::kSub: return Sub(Eval(*n.kids[0], env), Eval(*n.kids[1], env), ctx);
    case NodeKind::kMul: return Mul(Eval(*n.kids[0], env), Eval(*n.kids[1], env), ctx);
    case NodeKind::kDiv: return Div(Eval(*n.kids[0], env), Eval(*n.kids[1], env), ctx);
    case NodeKind::kPow: {
      Value a = Eval(*n.kids[0], env), b = Eval(*n.kids[1], env);
      if (!a.is(Type::kNumber) || !b.is(Type::kNumber)) {
        if (!a.is_null() && !b.is_null()) Warn(ctx, n, "'**' needs numbers");
        return Value();
      }
      auto r = DecPow(a.number(), b.number());
      if (!r) return Warn(ctx, n, "power is undefined");
      return Value::Number(*r);
    }
    case NodeKind::kCompare: {
      Value a = Eval(*n.kids[0], env);
      Value b = Eval(*n.kids[1], env);
      return CompareOp(n.cmp, a, b, ctx);
    }
    case NodeKind::kAnd: {
      bool saw_null = false;
      for (const auto& k : n.kids) {
        Value v = Truth(Eval(*k, env));
        if (v.is_null()) {
          if (ctx.stopped()) return Value();
          saw_null = true;
        }
        else if (!v.boolean()) return v;
      }
      return saw_null ? Value() : Value::Boolean(true);
    }
    case NodeKind::kOr: {
      bool saw_null = false;
      for (const auto& k : n.kids) {
        Value v = Truth(Eval(*k, env));
        if (v.is_null()) {
          if (ctx.stopped()) return Value();
          saw_null = true;
        }
        else if (v.boolean()) return v;
      }
      return saw_null ? Value() : Value::Boolean(false);
    }
    case NodeKind::kBetween: {
      Value x = Eval(*n.kids[0], env), lo = Eval(*n.kids[1], env), hi = Eval(*n.kids[2], env);
      Value a = CompareOp(Cmp::kGe, x, lo, ctx), b = CompareOp(Cmp::kLe, x, hi, ctx);
      if ((a.is(Type::kBoolean) && !a.boolean()) || (b.is(Type::kBoolean) && !b.boolean())) return Value::Boolean(false);
      if (a.is_null() || b.is_null()) return Value();
      return Value::Boolean(true);
    }
    case NodeKind::kIn: {
      Value x = Eval(*n.kids[0], env);
      Env inner = env;
      inner.input = &x;
      bool saw_null = false;
      for (size_t i = 1; i < n.kids.size(); ++i) {
        Value r = EvalTest(*n.kids[i], inner);
        if (r.is(Type::kBoolean) && r.boolean()) return r;
        if (!r.is(Type::kBoolean)) {
          if (ctx.stopped()) return Value();
          saw_null = true;
        }
      }
      return saw_null ? Value() : Value::Boolean(false);
    }
    case NodeKind::kInstanceOf: {
      // null is an instance of Null only, not of Any (IsInstance accepts it
      // for Any, where Any means "unchecked", as in untyped parameters).
      Value v = Eval(*n.kids[0], env);
      if (v.is_null()) return Value::Boolean(n.types[0].kind == FeelType::Kind::kNull);
      return Value::Boolean(IsInstance(v, n.types[0]));
    }
    case NodeKind::kList: {
      std::vector<Value> items;
      items.reserve(n.kids.size());
      if (!ctx.Charge(n.kids.size() * sizeof(Value))) return Value();
      for (const auto& k : n.kids) {
        items.push_back(Eval(*k, env));
        if (ctx.stopped()) return Value();
      }
      return Value::List(std::move(items));
    }
    case NodeKind::kContext: {
      Scope s(env.scope);
      Env inner = env;
      inner.scope = &s;
      ContextEntries entries;
      entries.reserve(n.kids.size());
      if (!ctx.Charge(n.kids.size() * (sizeof(Value) + sizeof(std::string)))) return Value();
      for (size_t i = 0; i < n.kids.size(); ++i) {
        Value v = Eval(*n.kids[i], inner);
        if (ctx.stopped()) return Value();
        if (v.is(Type::kFunction)) {
          if (auto* ff = dynamic_cast<const FeelFunction*>(v.function().get())) {
            ff->BindSelf(n.names[i], std::static_pointer_cast<const FeelFunction>(v.function()));
          }
        }
        s.Set(n.names[i], v);
        entries.emplace_back(n.names[i], std::move(v));
      }
      return Value::Context(std::move(entries));
    }
    case NodeKind::kRange: {
      if (n.name == "=" || n.name == "!=") {
        // (=x) / (!=x) used as a value.
        Value p = Eval(*n.kids[0], env);
        if (p.is_null()) return Warn(ctx, n, "range point is null");
        bool eq = n.name == "=";
        Value r = MakeRangeValue(p, p, eq, eq);
        if (r.is_null()) return Warn(ctx, n, "range point is not comparable");
        Range range = r.range();
        range.kind = eq ? Range::Kind::kEqual : Range::Kind::kNotEqual;
        return Value::MakeRange(std::move(range));
      }
      std::optional<Value> lo, hi;
      if (n.kids[0]) {
        lo = Eval(*n.kids[0], env);
        if (lo->is_null()) return Warn(ctx, n, "range start is null");
      }
      if (n.kids[1]) {
        hi = Eval(*n.kids[1], env);
        if (hi->is_null()) return Warn(ctx, n, "range end is null");
      }
      Value r = MakeRangeValue(std::move(lo), std::move(hi), n.low_closed, n.high_closed);
      if (r.is_null()) Warn(ctx, n, "range bounds are not comparable");
      return r;
    }
    case NodeKind::kIf: {
      Value c = Eval(*n.kids[0], env);
      return Eval(*n.kids[c.is(Type::kBoolean) && c.boolean() ? 1 : 2], env);
    }
    case NodeKind::kFor: {
      Scope s(env.scope);
      std::vector<Value> results;
      bool ok = true;
      ForLoop(n, 0, &s, env, &results, &ok);
      if (ctx.stopped()) return Value();
      if (!ok) return Warn(ctx, n, "'for' over something that is not a list or integer range");
      return Value::List(std::move(results));
    }
    case NodeKind::kSome:
    case NodeKind::kEvery: {
      bool some = n.kind == NodeKind::kSome;
      Scope s(env.scope);
      int state = 0;
      Quantify(n, 0, &s, env, some, &state);
      if (ctx.stopped()) return Value();
      if (state & 4) return Warn(ctx, n, "quantifier over something that is not a list");
      if (state & 1) return Value::Boolean(some);
      return Value::Boolean(!some);
    }
    case NodeKind::kPath: {
      Value v = Eval(*n.kids[0], env);
      return Property(v, n.name, ctx);
    }
    case NodeKind::kFilter: {
      Value v = Eval(*n.kids[0], env);
      Value r = Filter(v, *n.kids[1], env);
      if (!ctx.Charge(BuiltBytes(r))) return Value();
      return r;
    }
    case NodeKind::kCall: {
      const Node& callee = *n.kids[0];
      size_t argc = n.kids.size() - 1;
      Value small[4];
      std::vector<Value> big;
      Value* args = small;
      if (argc > 4) {
        big.resize(argc);
        args = big.data();
      }
      for (size_t i = 0; i < argc; ++i) args[i] = Eval(*n.kids[i + 1], env);
      if (ctx.stopped()) return Value();
      std::span<const Value> span(args, argc);
      Value r;
      if (callee.kind == NodeKind::kName && callee.builtin && !env.scope->Find(callee.name)) {
        r = CallBuiltin(*callee.builtin, span, n.names, ctx);
      } else {
        Value fn = Eval(callee, env);
        if (!fn.is(Type::kFunction)) return Warn(ctx, n, "not a function");
        r = Invoke(fn, span, n.names, ctx);
      }
      // What built-ins build (concatenate, string join, ...) counts here,
      // once, instead of inside each of them.
      if (!ctx.Charge(BuiltBytes(r))) return Value();
      return r;
    }
    case NodeKind::kFunctionDef: {
      if (n.name == "external") return Warn(ctx, n, "external functions are not supported");
      if (!env.program) return Warn(ctx, n, "function definition outside a compiled program");
      auto fn = std::make_shared<const FeelFunction>(&n, *env.program, Capture(env.scope));
      return Value::MakeFunction(fn);
    }
    default: {
      if (!env.input) return Warn(ctx, n, "unary test outside of a test");
      return EvalTest(n, env);
    }
  }
}

}  // namespace

}  // namespace rapport::feel::internal
