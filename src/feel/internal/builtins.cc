// FEEL built-in functions (DMN 1.5 section 10.3.4): conversion, boolean,
// string (ICU, RE2), list, numeric, date and time, range, temporal, context,
// sort. Each returns null and adds a warning on bad arguments.

#include "feel/internal/builtins.h"

#include <re2/re2.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "feel/internal/decmath.h"
#include "feel/internal/eval.h"
#include "feel/internal/temporal.h"

namespace rapport::feel::internal {
namespace {

using Args = std::span<const Value>;

Value Bad(EvalContext& ctx, const char* fn, const std::string& why) {
  ctx.Warn(std::string(fn) + ": " + why);
  return Value();
}

const Value& Arg(Args a, size_t i) {
  static const Value kNull;
  return i < a.size() ? a[i] : kNull;
}
bool Has(Args a, size_t i) { return i < a.size() && !a[i].is_null(); }

// The list argument of list functions: f([1,2]) or f(1, 2).
bool ListArg(Args a, std::vector<Value>* out) {
  if (a.size() == 1 && a[0].is(Type::kList)) {
    *out = a[0].list();
    return true;
  }
  if (a.size() == 1 && a[0].is_null()) return false;
  out->assign(a.begin(), a.end());
  return true;
}

bool IntArg(const Value& v, int64_t* out) {
  if (!v.is(Type::kNumber)) return false;
  bool exact;
  *out = v.number().ToInt64(&exact);
  if (!exact) {
    // Truncate non-integers toward zero (positions such as 1.5 -> 1).
    auto t = DecRound(v.number(), 0, Rounding::kDown);
    if (!t) return false;
    *out = t->ToInt64(&exact);
    return exact;
  }
  return true;
}

Value Bool(bool b) { return Value::Boolean(b); }
Value Num(Decimal d) { return d.IsFinite() ? Value::Number(d) : Value(); }

// ---- UTF-8 code points ----
std::vector<size_t> CodePointOffsets(const std::string& s) {
  std::vector<size_t> offs;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offs.push_back(i);
  }
  return offs;
}

// ---- conversion ----
Value FnDate(Args a, EvalContext& ctx) {
  if (a.size() == 1) {
    const Value& v = a[0];
    if (v.is(Type::kString)) {
      auto d = ParseDate(v.string());
      if (!d) return Bad(ctx, "date", "invalid date '" + v.string() + "'");
      return Value::Date(*d);
    }
    if (v.is(Type::kDate)) return v;
    if (v.is(Type::kDateTime)) return Value::Date(v.epoch_days());
    return Bad(ctx, "date", "expects a string, date or date and time");
  }
  int64_t y, m, d;
  if (!IntArg(Arg(a, 0), &y) || !IntArg(Arg(a, 1), &m) || !IntArg(Arg(a, 2), &d))
    return Bad(ctx, "date", "year, month and day must be numbers");
  if (!IsValidDate(y, m, d)) return Bad(ctx, "date", "invalid date");
  return Value::Date(DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
}

Value FnDateTime(Args a, EvalContext& ctx) {
  if (a.size() == 1) {
    const Value& v = a[0];
    if (v.is(Type::kString)) {
      auto dt = ParseDateTime(v.string());
      if (!dt) return Bad(ctx, "date and time", "invalid date and time '" + v.string() + "'");
      return *dt;
    }
    if (v.is(Type::kDateTime)) return v;
    if (v.is(Type::kDate)) return Value::DateTime(v.epoch_days(), 0);
    return Bad(ctx, "date and time", "expects a string");
  }
  const Value& d = Arg(a, 0);
  const Value& t = Arg(a, 1);
  if (!(d.is(Type::kDate) || d.is(Type::kDateTime)) || !t.is(Type::kTime))
    return Bad(ctx, "date and time", "expects a date and a time");
  if (a.size() >= 3 && Has(a, 2)) {
    if (!a[2].is(Type::kString) || !IsKnownZone(a[2].string())) return Bad(ctx, "date and time", "unknown zone");
    return Value::DateTime(d.epoch_days(), t.nanos_of_day(), ZoneKind::kZone, 0, a[2].string());
  }
  return Value::DateTime(d.epoch_days(), t.nanos_of_day(), t.zone_kind(), t.offset_seconds(), t.zone_id());
}

Value FnTime(Args a, EvalContext& ctx) {
  if (a.size() == 1) {
    const Value& v = a[0];
    if (v.is(Type::kString)) {
      auto t = ParseTime(v.string());
      if (!t) {
        // A date and time string gives its time part.
        if (auto dt = ParseDateTime(v.string()); dt && v.string().find('T') != std::string::npos)
          return Value::Time(dt->nanos_of_day(), dt->zone_kind(), dt->offset_seconds(), dt->zone_id());
        return Bad(ctx, "time", "invalid time '" + v.string() + "'");
      }
      return Value::Time(t->nanos_of_day, t->zone, t->offset_seconds, t->zone_id);
    }
    if (v.is(Type::kTime)) return v;
    if (v.is(Type::kDateTime)) return Value::Time(v.nanos_of_day(), v.zone_kind(), v.offset_seconds(), v.zone_id());
    if (v.is(Type::kDate)) return Value::Time(0, ZoneKind::kOffset, 0);
    return Bad(ctx, "time", "expects a string");
  }
  int64_t h, m;
  if (!IntArg(Arg(a, 0), &h) || !IntArg(Arg(a, 1), &m) || !Arg(a, 2).is(Type::kNumber))
    return Bad(ctx, "time", "hour, minute and second must be numbers");
  Decimal s = a[2].number();
  Decimal ns = s * Decimal::FromInt(kNanosPerSecond);
  auto nsr = DecRound(ns, 0, Rounding::kDown);
  bool exact;
  int64_t nanos = nsr ? nsr->ToInt64(&exact) : -1;
  if (h < 0 || h > 23 || m < 0 || m > 59 || nanos < 0 || nanos >= 60 * kNanosPerSecond)
    return Bad(ctx, "time", "invalid time");
  int64_t total = (h * 3600 + m * 60) * kNanosPerSecond + nanos;
  if (a.size() >= 4 && Has(a, 3)) {
    if (!a[3].is(Type::kDaysTimeDuration)) return Bad(ctx, "time", "offset must be a duration");
    __int128 off = a[3].duration_nanos() / kNanosPerSecond;
    if (off < -18 * 3600 || off > 18 * 3600) return Bad(ctx, "time", "offset out of range");
    return Value::Time(total, ZoneKind::kOffset, static_cast<int32_t>(off));
  }
  return Value::Time(total);
}

Value FnDuration(Args a, EvalContext& ctx) {
  const Value& v = Arg(a, 0);
  if (!v.is(Type::kString)) return Bad(ctx, "duration", "expects a string");
  auto d = ParseDuration(v.string());
  if (!d) return Bad(ctx, "duration", "invalid duration '" + v.string() + "'");
  return *d;
}

Value FnYearsMonths(Args a, EvalContext& ctx) {
  const Value& f = Arg(a, 0);
  const Value& t = Arg(a, 1);
  if (!(f.is(Type::kDate) || f.is(Type::kDateTime)) || !(t.is(Type::kDate) || t.is(Type::kDateTime)))
    return Bad(ctx, "years and months duration", "expects two dates");
  int64_t y1, y2;
  unsigned m1, m2, d1, d2;
  CivilFromDays(f.epoch_days(), &y1, &m1, &d1);
  CivilFromDays(t.epoch_days(), &y2, &m2, &d2);
  int64_t months = (y2 - y1) * 12 + (static_cast<int64_t>(m2) - m1);
  int64_t fn = f.is(Type::kDateTime) ? f.nanos_of_day() : 0, tn = t.is(Type::kDateTime) ? t.nanos_of_day() : 0;
  if (months > 0 && (d2 < d1 || (d2 == d1 && tn < fn))) --months;
  if (months < 0 && (d2 > d1 || (d2 == d1 && tn > fn))) ++months;
  return Value::YearsMonthsDuration(months);
}

Value FnNumber(Args a, EvalContext& ctx) {
  const Value& v = Arg(a, 0);
  if (!v.is(Type::kString)) return Bad(ctx, "number", "expects a string");
  std::string s = v.string();
  std::string group = Arg(a, 1).is(Type::kString) ? Arg(a, 1).string() : "";
  std::string dec = Arg(a, 2).is(Type::kString) ? Arg(a, 2).string() : "";
  if (Has(a, 1) && !(group == " " || group == "," || group == "." || group.empty()))
    return Bad(ctx, "number", "bad grouping separator");
  if (Has(a, 2) && !(dec == "," || dec == ".")) return Bad(ctx, "number", "bad decimal separator");
  if (!group.empty() && group == dec) return Bad(ctx, "number", "separators must differ");
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!group.empty() && s.compare(i, group.size(), group) == 0) {
      i += group.size() - 1;
      continue;
    }
    if (!dec.empty() && s.compare(i, dec.size(), dec) == 0) {
      out.push_back('.');
      i += dec.size() - 1;
      continue;
    }
    out.push_back(s[i]);
  }
  auto d = Decimal::Parse(out);
  if (!d.ok()) return Bad(ctx, "number", "not a number '" + s + "'");
  return Value::Number(*d);
}

std::string PlainString(const Value& v) {
  switch (v.type()) {
    case Type::kString: return v.string();
    case Type::kDate: return FormatDate(v.epoch_days());
    case Type::kTime: return FormatTime(v.nanos_of_day(), v.zone_kind(), v.offset_seconds(), v.zone_id());
    case Type::kDateTime:
      return FormatDate(v.epoch_days()) + "T" +
             FormatTime(v.nanos_of_day(), v.zone_kind(), v.offset_seconds(), v.zone_id());
    case Type::kDaysTimeDuration: return FormatDaysTime(v.duration_nanos());
    case Type::kYearsMonthsDuration: return FormatYearsMonths(v.duration_months());
    case Type::kList: {
      std::string s = "[";
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i) s += ", ";
        s += PlainString(v.list()[i]);
      }
      return s + "]";
    }
    case Type::kContext: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, e] : v.context()) {
        if (!first) s += ", ";
        first = false;
        s += k + ": " + PlainString(e);
      }
      return s + "}";
    }
    default: return v.ToString();
  }
}

Value FnString(Args a, EvalContext&) {
  const Value& v = Arg(a, 0);
  if (v.is_null()) return Value();
  return Value::String(PlainString(v));
}

// ---- boolean ----
Value FnNot(Args a, EvalContext&) {
  const Value& v = Arg(a, 0);
  if (!v.is(Type::kBoolean)) return Value();
  return Bool(!v.boolean());
}

Value FnIs(Args a, EvalContext&) {
  const Value& x = Arg(a, 0);
  const Value& y = Arg(a, 1);
  if (x.type() != y.type()) return Bool(false);
  if (x.is(Type::kTime) || x.is(Type::kDateTime)) {
    return Bool(x.epoch_days() == y.epoch_days() && x.nanos_of_day() == y.nanos_of_day() &&
                x.zone_kind() == y.zone_kind() && x.offset_seconds() == y.offset_seconds() &&
                x.zone_id() == y.zone_id());
  }
  return Bool(x == y);
}

// ---- string ----
Value FnSubstring(Args a, EvalContext& ctx) {
  const Value& s = Arg(a, 0);
  int64_t start, len = -1;
  if (!s.is(Type::kString) || !IntArg(Arg(a, 1), &start)) return Bad(ctx, "substring", "bad arguments");
  if (Has(a, 2) && (!IntArg(a[2], &len) || len < 0)) return Bad(ctx, "substring", "bad length");
  auto offs = CodePointOffsets(s.string());
  int64_t n = static_cast<int64_t>(offs.size());
  if (start == 0 || start > n || start < -n) return Bad(ctx, "substring", "start position out of range");
  int64_t from = start > 0 ? start - 1 : n + start;
  int64_t to = len < 0 ? n : std::min(n, from + len);
  size_t b = offs[from];
  size_t e = to >= n ? s.string().size() : offs[to];
  return Value::String(s.string().substr(b, e - b));
}

Value FnStringLength(Args a, EvalContext& ctx) {
  const Value& s = Arg(a, 0);
  if (!s.is(Type::kString)) return Bad(ctx, "string length", "expects a string");
  return Value::Number(static_cast<int64_t>(CodePointOffsets(s.string()).size()));
}

Value CaseMap(Args a, EvalContext& ctx, bool upper) {
  const Value& s = Arg(a, 0);
  if (!s.is(Type::kString)) return Bad(ctx, upper ? "upper case" : "lower case", "expects a string");
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s.string());
  if (upper) u.toUpper(); else u.toLower();
  std::string out;
  u.toUTF8String(out);
  return Value::String(out);
}
Value FnUpper(Args a, EvalContext& ctx) { return CaseMap(a, ctx, true); }
Value FnLower(Args a, EvalContext& ctx) { return CaseMap(a, ctx, false); }

bool TwoStrings(Args a) { return Arg(a, 0).is(Type::kString) && Arg(a, 1).is(Type::kString); }

Value FnSubstringBefore(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "substring before", "expects strings");
  size_t p = a[0].string().find(a[1].string());
  return Value::String(p == std::string::npos ? "" : a[0].string().substr(0, p));
}
Value FnSubstringAfter(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "substring after", "expects strings");
  size_t p = a[0].string().find(a[1].string());
  return Value::String(p == std::string::npos ? "" : a[0].string().substr(p + a[1].string().size()));
}
Value FnContains(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "contains", "expects strings");
  return Bool(a[0].string().find(a[1].string()) != std::string::npos);
}
Value FnStartsWith(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "starts with", "expects strings");
  return Bool(a[0].string().rfind(a[1].string(), 0) == 0);
}
Value FnEndsWith(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "ends with", "expects strings");
  const std::string& s = a[0].string();
  const std::string& t = a[1].string();
  return Bool(s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0);
}

// Compiles an XPath regular expression with flags s, m, i, x into RE2.
std::unique_ptr<RE2> CompileRegex(const std::string& pattern, const std::string& flags, std::string* error) {
  RE2::Options opts;
  opts.set_log_errors(false);
  std::string p = pattern;
  std::string prefix;
  for (char f : flags) {
    switch (f) {
      case 's': prefix += "s"; break;
      case 'm': prefix += "m"; break;
      case 'i': opts.set_case_sensitive(false); break;
      case 'x': {
        std::string q;
        for (char c : p) {
          if (!std::isspace(static_cast<unsigned char>(c))) q.push_back(c);
        }
        p = q;
        break;
      }
      case 'q': p = RE2::QuoteMeta(p); break;
      default: *error = std::string("unknown flag '") + f + "'"; return nullptr;
    }
  }
  if (!prefix.empty()) p = "(?" + prefix + ")" + p;
  auto re = std::make_unique<RE2>(p, opts);
  if (!re->ok()) {
    *error = re->error();
    return nullptr;
  }
  return re;
}

Value FnMatches(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "matches", "expects strings");
  std::string flags = Arg(a, 2).is(Type::kString) ? a[2].string() : "";
  std::string err;
  auto re = CompileRegex(a[1].string(), flags, &err);
  if (!re) return Bad(ctx, "matches", "bad pattern: " + err);
  return Bool(RE2::PartialMatch(a[0].string(), *re));
}

Value FnReplace(Args a, EvalContext& ctx) {
  if (!TwoStrings(a) || !Arg(a, 2).is(Type::kString)) return Bad(ctx, "replace", "expects strings");
  std::string flags = Arg(a, 3).is(Type::kString) ? a[3].string() : "";
  std::string err;
  auto re = CompileRegex(a[1].string(), flags, &err);
  if (!re) return Bad(ctx, "replace", "bad pattern: " + err);
  // XPath replacement: $N is a group, \$ and \\ escape; RE2 uses \N.
  std::string rep;
  const std::string& r = a[2].string();
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '\\' && i + 1 < r.size()) {
      if (r[i + 1] == '\\') rep += "\\\\";
      else rep.push_back(r[i + 1]);
      ++i;
    } else if (r[i] == '$' && i + 1 < r.size() && std::isdigit(static_cast<unsigned char>(r[i + 1]))) {
      rep.push_back('\\');
      rep.push_back(r[++i]);
    } else if (r[i] == '$') {
      return Bad(ctx, "replace", "bad replacement");
    } else {
      rep.push_back(r[i]);
    }
  }
  std::string s = a[0].string();
  if (RE2::PartialMatch("", *re)) return Bad(ctx, "replace", "pattern matches the empty string");
  RE2::GlobalReplace(&s, *re, rep);
  return Value::String(s);
}

Value FnSplit(Args a, EvalContext& ctx) {
  if (!TwoStrings(a)) return Bad(ctx, "split", "expects strings");
  std::string err;
  auto re = CompileRegex(a[1].string(), "", &err);
  if (!re) return Bad(ctx, "split", "bad pattern: " + err);
  std::vector<Value> parts;
  re2::StringPiece input(a[0].string());
  size_t last = 0;
  re2::StringPiece m;
  size_t pos = 0;
  const std::string& s = a[0].string();
  while (pos <= s.size() && re->Match(input, pos, s.size(), RE2::UNANCHORED, &m, 1)) {
    size_t start = static_cast<size_t>(m.data() - s.data());
    if (m.empty()) {
      ++pos;
      continue;
    }
    parts.push_back(Value::String(s.substr(last, start - last)));
    last = start + m.size();
    pos = last;
  }
  parts.push_back(Value::String(s.substr(last)));
  return Value::List(std::move(parts));
}

Value FnStringJoin(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "string join", "expects a list");
  std::string delim = Arg(a, 1).is(Type::kString) ? a[1].string() : "";
  if (Has(a, 1) && !a[1].is(Type::kString)) return Bad(ctx, "string join", "delimiter must be a string");
  std::string out;
  bool first = true;
  for (const Value& v : l.list()) {
    if (v.is_null()) continue;
    if (!v.is(Type::kString)) return Bad(ctx, "string join", "list must hold strings");
    if (!first) out += delim;
    first = false;
    out += v.string();
  }
  return Value::String(out);
}

// ---- list ----
Value FnListContains(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "list contains", "expects a list");
  for (const Value& v : l.list()) {
    if (v == Arg(a, 1)) return Bool(true);
  }
  return Bool(false);
}

Value FnCount(Args a, EvalContext& ctx) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return Bad(ctx, "count", "expects a list");
  return Value::Number(static_cast<int64_t>(l.size()));
}

Value MinMax(Args a, EvalContext& ctx, bool max) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return Bad(ctx, max ? "max" : "min", "expects a list");
  if (l.empty()) return Value();
  Value best = l[0];
  for (size_t i = 1; i < l.size(); ++i) {
    auto c = CompareValues(l[i], best);
    if (!c) return Bad(ctx, max ? "max" : "min", "items are not comparable");
    if ((max && *c > 0) || (!max && *c < 0)) best = l[i];
  }
  if (l.size() == 1 && !CompareValues(best, best)) return Bad(ctx, max ? "max" : "min", "item is not comparable");
  return best;
}
Value FnMin(Args a, EvalContext& ctx) { return MinMax(a, ctx, false); }
Value FnMax(Args a, EvalContext& ctx) { return MinMax(a, ctx, true); }

bool Numbers(Args a, std::vector<Decimal>* out) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return false;
  for (const Value& v : l) {
    if (!v.is(Type::kNumber)) return false;
    out->push_back(v.number());
  }
  return true;
}

Value FnSum(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "sum", "expects a list of numbers");
  if (l.empty()) return Value();
  Decimal s;
  for (Decimal d : l) s = s + d;
  return Num(s);
}
Value FnProduct(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "product", "expects a list of numbers");
  if (l.empty()) return Value();
  Decimal s = Decimal::FromInt(1);
  for (Decimal d : l) s = s * d;
  return Num(s);
}
Value FnMean(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "mean", "expects a list of numbers");
  if (l.empty()) return Value();
  Decimal s;
  for (Decimal d : l) s = s + d;
  return Num(s / Decimal::FromInt(static_cast<int64_t>(l.size())));
}
Value FnMedian(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "median", "expects a list of numbers");
  if (l.empty()) return Value();
  std::sort(l.begin(), l.end(), [](Decimal x, Decimal y) { return Decimal::Compare(x, y) < 0; });
  size_t n = l.size();
  if (n % 2) return Value::Number(l[n / 2]);
  return Num((l[n / 2 - 1] + l[n / 2]) / Decimal::FromInt(2));
}
Value FnStddev(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "stddev", "expects a list of numbers");
  if (l.size() < 2) return Value();
  Decimal s;
  for (Decimal d : l) s = s + d;
  Decimal mean = s / Decimal::FromInt(static_cast<int64_t>(l.size()));
  Decimal sq;
  for (Decimal d : l) sq = sq + (d - mean) * (d - mean);
  auto r = DecSqrt(sq / Decimal::FromInt(static_cast<int64_t>(l.size() - 1)));
  return r ? Value::Number(*r) : Value();
}
Value FnMode(Args a, EvalContext& ctx) {
  std::vector<Decimal> l;
  if (!Numbers(a, &l)) return Bad(ctx, "mode", "expects a list of numbers");
  std::sort(l.begin(), l.end(), [](Decimal x, Decimal y) { return Decimal::Compare(x, y) < 0; });
  std::vector<Value> out;
  size_t best = 0;
  for (size_t i = 0; i < l.size();) {
    size_t j = i;
    while (j < l.size() && l[j] == l[i]) ++j;
    if (j - i > best) {
      best = j - i;
      out.clear();
    }
    if (j - i == best) out.push_back(Value::Number(l[i]));
    i = j;
  }
  return Value::List(std::move(out));
}

Value AllAny(Args a, EvalContext& ctx, bool all) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return Bad(ctx, all ? "all" : "any", "expects a list");
  bool saw_other = false;
  for (const Value& v : l) {
    if (!v.is(Type::kBoolean)) {
      saw_other = true;
      continue;
    }
    if (v.boolean() != all) return Bool(!all);
  }
  if (saw_other) return Value();
  return Bool(all);
}
Value FnAll(Args a, EvalContext& ctx) { return AllAny(a, ctx, true); }
Value FnAny(Args a, EvalContext& ctx) { return AllAny(a, ctx, false); }

Value FnSublist(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  int64_t start, len = -1;
  if (!l.is(Type::kList) || !IntArg(Arg(a, 1), &start)) return Bad(ctx, "sublist", "bad arguments");
  if (Has(a, 2) && (!IntArg(a[2], &len) || len < 0)) return Bad(ctx, "sublist", "bad length");
  int64_t n = static_cast<int64_t>(l.list().size());
  if (start == 0 || start > n || start < -n) return Bad(ctx, "sublist", "start position out of range");
  int64_t from = start > 0 ? start - 1 : n + start;
  int64_t to = len < 0 ? n : from + len;
  if (to > n) return Bad(ctx, "sublist", "length out of range");
  return Value::List(std::vector<Value>(l.list().begin() + from, l.list().begin() + to));
}

Value FnAppend(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "append", "expects a list");
  std::vector<Value> out = l.list();
  for (size_t i = 1; i < a.size(); ++i) out.push_back(a[i]);
  return Value::List(std::move(out));
}

Value FnConcatenate(Args a, EvalContext& ctx) {
  std::vector<Value> out;
  for (const Value& v : a) {
    if (!v.is(Type::kList)) return Bad(ctx, "concatenate", "expects lists");
    out.insert(out.end(), v.list().begin(), v.list().end());
  }
  return Value::List(std::move(out));
}

Value FnInsertBefore(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  int64_t pos;
  if (!l.is(Type::kList) || !IntArg(Arg(a, 1), &pos)) return Bad(ctx, "insert before", "bad arguments");
  int64_t n = static_cast<int64_t>(l.list().size());
  if (pos == 0 || pos > n || pos < -n) return Bad(ctx, "insert before", "position out of range");
  int64_t at = pos > 0 ? pos - 1 : n + pos;
  std::vector<Value> out = l.list();
  out.insert(out.begin() + at, Arg(a, 2));
  return Value::List(std::move(out));
}

Value FnRemove(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  int64_t pos;
  if (!l.is(Type::kList) || !IntArg(Arg(a, 1), &pos)) return Bad(ctx, "remove", "bad arguments");
  int64_t n = static_cast<int64_t>(l.list().size());
  if (pos == 0 || pos > n || pos < -n) return Bad(ctx, "remove", "position out of range");
  int64_t at = pos > 0 ? pos - 1 : n + pos;
  std::vector<Value> out = l.list();
  out.erase(out.begin() + at);
  return Value::List(std::move(out));
}

Value FnReverse(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "reverse", "expects a list");
  std::vector<Value> out(l.list().rbegin(), l.list().rend());
  return Value::List(std::move(out));
}

Value FnIndexOf(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "index of", "expects a list");
  std::vector<Value> out;
  for (size_t i = 0; i < l.list().size(); ++i) {
    if (l.list()[i] == Arg(a, 1)) out.push_back(Value::Number(static_cast<int64_t>(i + 1)));
  }
  return Value::List(std::move(out));
}

void AddDistinct(std::vector<Value>* out, const Value& v) {
  for (const Value& e : *out) {
    if (e == v) return;
  }
  out->push_back(v);
}

Value FnUnion(Args a, EvalContext& ctx) {
  std::vector<Value> out;
  for (const Value& v : a) {
    if (!v.is(Type::kList)) return Bad(ctx, "union", "expects lists");
    for (const Value& e : v.list()) AddDistinct(&out, e);
  }
  return Value::List(std::move(out));
}

Value FnDistinct(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "distinct values", "expects a list");
  std::vector<Value> out;
  for (const Value& e : l.list()) AddDistinct(&out, e);
  return Value::List(std::move(out));
}

void FlattenInto(const Value& v, std::vector<Value>* out, int depth) {
  if (v.is(Type::kList) && depth < 1000) {
    for (const Value& e : v.list()) FlattenInto(e, out, depth + 1);
  } else {
    out->push_back(v);
  }
}
Value FnFlatten(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kList)) return Bad(ctx, "flatten", "expects a list");
  std::vector<Value> out;
  FlattenInto(a[0], &out, 0);
  return Value::List(std::move(out));
}

Value FnListReplace(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "list replace", "expects a list");
  std::vector<Value> out = l.list();
  const Value& pos = Arg(a, 1);
  if (pos.is(Type::kNumber)) {
    int64_t p;
    if (!IntArg(pos, &p)) return Bad(ctx, "list replace", "bad position");
    int64_t n = static_cast<int64_t>(out.size());
    if (p == 0 || p > n || p < -n) return Bad(ctx, "list replace", "position out of range");
    out[p > 0 ? p - 1 : n + p] = Arg(a, 2);
    return Value::List(std::move(out));
  }
  if (pos.is(Type::kFunction)) {
    // match(item, newItem) must take exactly these two and answer a boolean.
    const Function& f = *pos.function();
    if (!f.variadic() && f.parameters().size() != 2)
      return Bad(ctx, "list replace", "match must be a function of two parameters (item, newItem)");
    for (Value& e : out) {
      Value args[2] = {e, Arg(a, 2)};
      Value r = Invoke(pos, std::span<const Value>(args, 2), {}, ctx);
      if (!r.is(Type::kBoolean)) return Bad(ctx, "list replace", "match must return true or false");
      if (r.boolean()) e = Arg(a, 2);
    }
    return Value::List(std::move(out));
  }
  return Bad(ctx, "list replace", "position must be a number or a function");
}

// ---- numeric ----
Value RoundFn(Args a, EvalContext& ctx, const char* name, Rounding mode, bool scale_required) {
  const Value& n = Arg(a, 0);
  int64_t scale = 0;
  if (!n.is(Type::kNumber)) return Bad(ctx, name, "expects a number");
  if (a.size() > 1) {
    // A scale given as null is an error, not "no scale" (floor(1.5, null)).
    if (!IntArg(a[1], &scale)) return Bad(ctx, name, "scale must be a number");
  } else if (scale_required) {
    return Bad(ctx, name, "scale is required");
  }
  if (scale < -6111 || scale > 6176) return Bad(ctx, name, "scale out of range");
  auto r = DecRound(n.number(), scale, mode);
  return r ? Value::Number(*r) : Value();
}
Value FnDecimal(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "decimal", Rounding::kHalfEven, true); }
Value FnFloor(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "floor", Rounding::kFloor, false); }
Value FnCeiling(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "ceiling", Rounding::kCeiling, false); }
Value FnRoundUp(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "round up", Rounding::kUp, true); }
Value FnRoundDown(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "round down", Rounding::kDown, true); }
Value FnRoundHalfUp(Args a, EvalContext& ctx) { return RoundFn(a, ctx, "round half up", Rounding::kHalfUp, true); }
Value FnRoundHalfDown(Args a, EvalContext& ctx) {
  return RoundFn(a, ctx, "round half down", Rounding::kHalfDown, true);
}

Value FnAbs(Args a, EvalContext& ctx) {
  const Value& n = Arg(a, 0);
  if (n.is(Type::kNumber)) return Value::Number(n.number().IsNegative() ? -n.number() : n.number());
  if (n.is(Type::kDaysTimeDuration))
    return Value::DaysTimeDuration(n.duration_nanos() < 0 ? -n.duration_nanos() : n.duration_nanos());
  if (n.is(Type::kYearsMonthsDuration))
    return Value::YearsMonthsDuration(n.duration_months() < 0 ? -n.duration_months() : n.duration_months());
  return Bad(ctx, "abs", "expects a number or duration");
}

Value FnModulo(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kNumber) || !Arg(a, 1).is(Type::kNumber)) return Bad(ctx, "modulo", "expects numbers");
  Decimal x = a[0].number(), y = a[1].number();
  if (y.IsZero()) return Bad(ctx, "modulo", "division by zero");
  auto q = DecRound(x / y, 0, Rounding::kFloor);
  if (!q) return Value();
  return Num(x - y * *q);
}

Value FnSqrt(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kNumber)) return Bad(ctx, "sqrt", "expects a number");
  auto r = DecSqrt(a[0].number());
  return r ? Value::Number(*r) : Bad(ctx, "sqrt", "negative number");
}
Value FnLog(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kNumber)) return Bad(ctx, "log", "expects a number");
  auto r = DecLn(a[0].number());
  return r ? Value::Number(*r) : Bad(ctx, "log", "number must be positive");
}
Value FnExp(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kNumber)) return Bad(ctx, "exp", "expects a number");
  auto r = DecExp(a[0].number());
  return r ? Value::Number(*r) : Value();
}
Value OddEven(Args a, EvalContext& ctx, bool odd) {
  if (!Arg(a, 0).is(Type::kNumber)) return Bad(ctx, odd ? "odd" : "even", "expects a number");
  Decimal n = a[0].number();
  if (!n.IsInteger()) return Bool(false);
  auto half = DecRound(n / Decimal::FromInt(2), 0, Rounding::kDown);
  if (!half) return Value();
  bool even = (*half * Decimal::FromInt(2)) == n;
  return Bool(odd ? !even : even);
}
Value FnOdd(Args a, EvalContext& ctx) { return OddEven(a, ctx, true); }
Value FnEven(Args a, EvalContext& ctx) { return OddEven(a, ctx, false); }

// ---- date and time ----
bool DateArg(const Value& v, int64_t* days) {
  if (!v.is(Type::kDate) && !v.is(Type::kDateTime)) return false;
  *days = v.epoch_days();
  return true;
}

Value FnDayOfYear(Args a, EvalContext& ctx) {
  int64_t days;
  if (!DateArg(Arg(a, 0), &days)) return Bad(ctx, "day of year", "expects a date");
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return Value::Number(days - DaysFromCivil(y, 1, 1) + 1);
}
Value FnDayName(Args a, EvalContext& ctx) {
  static const char* kNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  int64_t days;
  if (!DateArg(Arg(a, 0), &days)) return Bad(ctx, "day name", "expects a date");
  return Value::String(kNames[FloorMod(days + 3, 7)]);
}
Value FnMonthOfYear(Args a, EvalContext& ctx) {
  static const char* kNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                 "July",    "August",   "September", "October", "November", "December"};
  int64_t days;
  if (!DateArg(Arg(a, 0), &days)) return Bad(ctx, "month of year", "expects a date");
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return Value::String(kNames[m - 1]);
}
Value FnWeekOfYear(Args a, EvalContext& ctx) {
  int64_t days;
  if (!DateArg(Arg(a, 0), &days)) return Bad(ctx, "week of year", "expects a date");
  // ISO 8601 week: the week with the year's first Thursday is week 1.
  int64_t weekday = FloorMod(days + 3, 7);  // 0 = Monday
  int64_t thursday = days - weekday + 3;
  int64_t y;
  unsigned m, d;
  CivilFromDays(thursday, &y, &m, &d);
  return Value::Number((thursday - DaysFromCivil(y, 1, 1)) / 7 + 1);
}

Value FnNow(Args, EvalContext& ctx) { return Value::FromTimestamp(ctx.clock().Now()); }
Value FnToday(Args, EvalContext& ctx) {
  Value n = Value::FromTimestamp(ctx.clock().Now());
  return Value::Date(n.epoch_days());
}

// ---- range (Allen's interval relations over points and ranges) ----
struct Interval {
  std::optional<Value> lo, hi;
  bool lo_closed = true, hi_closed = true;
};
bool ToInterval(const Value& v, Interval* out) {
  if (v.is_null() || v.is(Type::kList) || v.is(Type::kContext) || v.is(Type::kFunction) ||
      v.is(Type::kBoolean))
    return false;
  if (v.is(Type::kRange)) {
    const Range& r = v.range();
    out->lo = r.low;
    out->hi = r.high;
    out->lo_closed = r.low_closed;
    out->hi_closed = r.high_closed;
  } else {
    out->lo = out->hi = v;
  }
  return true;
}
// Compare with unbounded ends: lo absent = -inf, hi absent = +inf.
std::optional<int> CmpBound(const std::optional<Value>& a, bool a_is_low, const std::optional<Value>& b,
                            bool b_is_low) {
  if (!a && !b) return a_is_low == b_is_low ? 0 : (a_is_low ? -1 : 1);
  if (!a) return a_is_low ? -1 : 1;
  if (!b) return b_is_low ? 1 : -1;
  return CompareValues(*a, *b);
}

enum class Rel { kBefore, kAfter, kMeets, kMetBy, kOverlaps, kOverlapsBefore, kOverlapsAfter, kFinishes,
                 kFinishedBy, kIncludes, kDuring, kStarts, kStartedBy, kCoincides };

Value RangeRelation(Args a, EvalContext& ctx, Rel rel, const char* name) {
  Interval x, y;
  if (!ToInterval(Arg(a, 0), &x) || !ToInterval(Arg(a, 1), &y)) return Bad(ctx, name, "expects points or ranges");
  bool fail = false;
  auto c = [&](const std::optional<Value>& p, bool pl, const std::optional<Value>& q, bool ql) {
    auto r = CmpBound(p, pl, q, ql);
    if (!r) fail = true;
    return r.value_or(0);
  };
  bool r = false;
  switch (rel) {
    case Rel::kBefore: {  // x entirely before y
      int k = c(x.hi, false, y.lo, true);
      r = k < 0 || (k == 0 && !(x.hi_closed && y.lo_closed));
      break;
    }
    case Rel::kAfter: {
      int k = c(x.lo, true, y.hi, false);
      r = k > 0 || (k == 0 && !(x.lo_closed && y.hi_closed));
      break;
    }
    case Rel::kMeets: r = x.hi_closed && y.lo_closed && c(x.hi, false, y.lo, true) == 0; break;
    case Rel::kMetBy: r = y.hi_closed && x.lo_closed && c(y.hi, false, x.lo, true) == 0; break;
    case Rel::kOverlaps: {
      int a1 = c(x.hi, false, y.lo, true), a2 = c(y.hi, false, x.lo, true);
      bool p1 = a1 > 0 || (a1 == 0 && x.hi_closed && y.lo_closed);
      bool p2 = a2 > 0 || (a2 == 0 && y.hi_closed && x.lo_closed);
      r = p1 && p2;
      break;
    }
    case Rel::kOverlapsBefore: {
      int s = c(x.lo, true, y.lo, true);
      int e1 = c(x.hi, false, y.lo, true);
      int e2 = c(x.hi, false, y.hi, false);
      bool starts_before = s < 0 || (s == 0 && x.lo_closed && !y.lo_closed);
      bool ends_after_ystart = e1 > 0 || (e1 == 0 && x.hi_closed && y.lo_closed);
      bool ends_before_yend = e2 < 0 || (e2 == 0 && (!x.hi_closed || y.hi_closed));
      r = starts_before && ends_after_ystart && ends_before_yend;
      break;
    }
    case Rel::kOverlapsAfter: {
      int s = c(y.lo, true, x.lo, true);
      int e1 = c(y.hi, false, x.lo, true);
      int e2 = c(y.hi, false, x.hi, false);
      bool starts_before = s < 0 || (s == 0 && y.lo_closed && !x.lo_closed);
      bool ends_after = e1 > 0 || (e1 == 0 && y.hi_closed && x.lo_closed);
      bool ends_before = e2 < 0 || (e2 == 0 && (!y.hi_closed || x.hi_closed));
      r = starts_before && ends_after && ends_before;
      break;
    }
    case Rel::kFinishes: {  // x finishes y: same end, x starts within y
      bool point = !Arg(a, 0).is(Type::kRange);
      int e = c(x.hi, false, y.hi, false);
      int s = c(x.lo, true, y.lo, true);
      if (point) r = y.hi_closed && e == 0;
      else r = x.hi_closed == y.hi_closed && e == 0 && (s > 0 || (s == 0 && (!x.lo_closed || y.lo_closed)));
      break;
    }
    case Rel::kFinishedBy: {
      bool point = !Arg(a, 1).is(Type::kRange);
      int e = c(x.hi, false, y.hi, false);
      int s = c(y.lo, true, x.lo, true);
      if (point) r = x.hi_closed && e == 0;
      else r = x.hi_closed == y.hi_closed && e == 0 && (s > 0 || (s == 0 && (!y.lo_closed || x.lo_closed)));
      break;
    }
    case Rel::kIncludes: {  // x includes y
      int s = c(x.lo, true, y.lo, true);
      int e = c(x.hi, false, y.hi, false);
      bool lo_ok = s < 0 || (s == 0 && (x.lo_closed || !y.lo_closed));
      bool hi_ok = e > 0 || (e == 0 && (x.hi_closed || !y.hi_closed));
      r = lo_ok && hi_ok;
      break;
    }
    case Rel::kDuring: {  // x during y
      int s = c(y.lo, true, x.lo, true);
      int e = c(y.hi, false, x.hi, false);
      bool lo_ok = s < 0 || (s == 0 && (y.lo_closed || !x.lo_closed));
      bool hi_ok = e > 0 || (e == 0 && (y.hi_closed || !x.hi_closed));
      r = lo_ok && hi_ok;
      break;
    }
    case Rel::kStarts: {  // x starts y
      bool point = !Arg(a, 0).is(Type::kRange);
      int s = c(x.lo, true, y.lo, true);
      int e = c(x.hi, false, y.hi, false);
      if (point) r = y.lo_closed && s == 0;
      else r = x.lo_closed == y.lo_closed && s == 0 && (e < 0 || (e == 0 && (!x.hi_closed || y.hi_closed)));
      break;
    }
    case Rel::kStartedBy: {
      bool point = !Arg(a, 1).is(Type::kRange);
      int s = c(x.lo, true, y.lo, true);
      int e = c(y.hi, false, x.hi, false);
      if (point) r = x.lo_closed && s == 0;
      else r = x.lo_closed == y.lo_closed && s == 0 && (e < 0 || (e == 0 && (!y.hi_closed || x.hi_closed)));
      break;
    }
    case Rel::kCoincides:
      r = c(x.lo, true, y.lo, true) == 0 && c(x.hi, false, y.hi, false) == 0 && x.lo_closed == y.lo_closed &&
          x.hi_closed == y.hi_closed;
      break;
  }
  if (fail) return Bad(ctx, name, "values are not comparable");
  return Bool(r);
}

#define RANGE_FN(fname, rel, text) \
  Value fname(Args a, EvalContext& ctx) { return RangeRelation(a, ctx, Rel::rel, text); }
RANGE_FN(FnBefore, kBefore, "before")
RANGE_FN(FnAfter, kAfter, "after")
RANGE_FN(FnMeets, kMeets, "meets")
RANGE_FN(FnMetBy, kMetBy, "met by")
RANGE_FN(FnOverlaps, kOverlaps, "overlaps")
RANGE_FN(FnOverlapsBefore, kOverlapsBefore, "overlaps before")
RANGE_FN(FnOverlapsAfter, kOverlapsAfter, "overlaps after")
RANGE_FN(FnFinishes, kFinishes, "finishes")
RANGE_FN(FnFinishedBy, kFinishedBy, "finished by")
RANGE_FN(FnIncludes, kIncludes, "includes")
RANGE_FN(FnDuring, kDuring, "during")
RANGE_FN(FnStarts, kStarts, "starts")
RANGE_FN(FnStartedBy, kStartedBy, "started by")
RANGE_FN(FnCoincides, kCoincides, "coincides")
#undef RANGE_FN

// range("[1..10)"): a range from the text of a range literal. Its endpoints
// must be literals: numbers, strings, @"..." temporals, or date/time/date and
// time/duration applied to a string literal (DMN 1.5 10.3.4.12).
bool IsEndpointLiteral(const Node& n) {
  if (n.kind == NodeKind::kLiteral) return !n.value.is_null();
  if (n.kind == NodeKind::kNegate) return n.kids[0]->kind == NodeKind::kLiteral && n.kids[0]->value.is(Type::kNumber);
  if (n.kind != NodeKind::kCall || !n.names.empty() || n.kids.size() != 2) return false;
  const Node& callee = *n.kids[0];
  if (callee.kind != NodeKind::kName) return false;
  if (callee.name != "date" && callee.name != "time" && callee.name != "date and time" && callee.name != "duration")
    return false;
  return n.kids[1]->kind == NodeKind::kLiteral && n.kids[1]->value.is(Type::kString);
}

Value FnRange(Args a, EvalContext& ctx) {
  if (!Arg(a, 0).is(Type::kString)) return Bad(ctx, "range", "expects a string");
  auto tree = ParseExpression(a[0].string(), CompileOptions{});
  if (!tree.ok()) return Bad(ctx, "range", "not a range: " + a[0].string());
  const Node& n = **tree;
  if (n.kind != NodeKind::kRange || !n.kids[0] || !n.kids[1])
    return Bad(ctx, "range", "not a range literal with both endpoints: " + a[0].string());
  if (!IsEndpointLiteral(*n.kids[0]) || !IsEndpointLiteral(*n.kids[1]))
    return Bad(ctx, "range", "range endpoints must be literals: " + a[0].string());
  Scope empty;
  Env env;
  env.scope = &empty;
  env.ctx = &ctx;
  Value v = Eval(n, env);
  if (!v.is(Type::kRange)) return Bad(ctx, "range", "not a range: " + a[0].string());
  return v;
}

// ---- context ----
Value FnGetValue(Args a, EvalContext& ctx) {
  const Value& m = Arg(a, 0);
  const Value& k = Arg(a, 1);
  if (!m.is(Type::kContext) || !k.is(Type::kString)) return Bad(ctx, "get value", "expects a context and a key");
  const Value* v = m.Get(k.string());
  return v ? *v : Value();
}
Value FnGetEntries(Args a, EvalContext& ctx) {
  const Value& m = Arg(a, 0);
  if (!m.is(Type::kContext)) return Bad(ctx, "get entries", "expects a context");
  std::vector<Value> out;
  for (const auto& [k, v] : m.context()) out.push_back(Value::Context({{"key", Value::String(k)}, {"value", v}}));
  return Value::List(std::move(out));
}
Value PutPath(const Value& c, std::span<const Value> keys, const Value& v, EvalContext& ctx) {
  ContextEntries entries = c.is(Type::kContext) ? c.context() : ContextEntries{};
  const std::string& k = keys[0].string();
  Value nv = v;
  if (keys.size() > 1) {
    const Value* cur = c.Get(k);
    if (cur && !cur->is(Type::kContext)) return Bad(ctx, "context put", "key path goes through a non-context");
    nv = PutPath(cur ? *cur : Value::Context({}), keys.subspan(1), v, ctx);
    if (nv.is_null()) return nv;
  }
  for (auto& [ek, ev] : entries) {
    if (ek == k) {
      ev = nv;
      return Value::Context(std::move(entries));
    }
  }
  entries.emplace_back(k, nv);
  return Value::Context(std::move(entries));
}
Value FnContextPut(Args a, EvalContext& ctx) {
  const Value& c = Arg(a, 0);
  const Value& k = Arg(a, 1);
  if (!c.is(Type::kContext)) return Bad(ctx, "context put", "expects a context");
  std::vector<Value> keys;
  if (k.is(Type::kString)) keys.push_back(k);
  else if (k.is(Type::kList) && !k.list().empty()) keys = k.list();
  else return Bad(ctx, "context put", "key must be a string or list of strings");
  for (const Value& key : keys) {
    if (!key.is(Type::kString)) return Bad(ctx, "context put", "keys must be strings");
  }
  return PutPath(c, keys, Arg(a, 2), ctx);
}
// context put(context, key: ...) names one key: a string, not a key path.
Value FnContextPutKey(Args a, EvalContext& ctx) {
  if (!Arg(a, 1).is(Type::kString)) return Bad(ctx, "context put", "key must be a string (use keys for a path)");
  return FnContextPut(a, ctx);
}
Value FnContextMerge(Args a, EvalContext& ctx) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return Bad(ctx, "context merge", "expects a list of contexts");
  ContextEntries out;
  for (const Value& c : l) {
    if (!c.is(Type::kContext)) return Bad(ctx, "context merge", "expects contexts");
    for (const auto& [k, v] : c.context()) {
      bool found = false;
      for (auto& [ok, ov] : out) {
        if (ok == k) {
          ov = v;
          found = true;
        }
      }
      if (!found) out.emplace_back(k, v);
    }
  }
  return Value::Context(std::move(out));
}
Value FnContext(Args a, EvalContext& ctx) {
  std::vector<Value> l;
  if (!ListArg(a, &l)) return Bad(ctx, "context", "expects a list of entries");
  ContextEntries out;
  for (const Value& e : l) {
    const Value* k = e.Get("key");
    const Value* v = e.Get("value");
    if (!k || !k->is(Type::kString) || !v) return Bad(ctx, "context", "entries need key and value");
    for (const auto& [ok, ov] : out) {
      if (ok == k->string()) return Bad(ctx, "context", "duplicate key " + ok);
    }
    out.emplace_back(k->string(), *v);
  }
  return Value::Context(std::move(out));
}

// ---- sort ----
Value FnSort(Args a, EvalContext& ctx) {
  const Value& l = Arg(a, 0);
  if (!l.is(Type::kList)) return Bad(ctx, "sort", "expects a list");
  std::vector<Value> out = l.list();
  bool failed = false;
  if (a.size() < 2 || a[1].is_null()) {
    std::stable_sort(out.begin(), out.end(), [&](const Value& x, const Value& y) {
      auto c = CompareValues(x, y);
      if (!c) failed = true;
      return c.value_or(0) < 0;
    });
  } else {
    if (!a[1].is(Type::kFunction)) return Bad(ctx, "sort", "precedes must be a function");
    const Value& f = a[1];
    // Insertion sort: tolerant of inconsistent user comparators.
    for (size_t i = 1; i < out.size(); ++i) {
      size_t j = i;
      while (j > 0) {
        Value args[2] = {out[j], out[j - 1]};
        Value r = Invoke(f, std::span<const Value>(args, 2), {}, ctx);
        if (!r.is(Type::kBoolean)) {
          failed = true;
          break;
        }
        if (!r.boolean()) break;
        std::swap(out[j], out[j - 1]);
        --j;
      }
      if (failed) break;
    }
  }
  if (failed) return Bad(ctx, "sort", "items are not comparable");
  return Value::List(std::move(out));
}

// ---- the table ----
class BuiltinFunction final : public Function {
 public:
  explicit BuiltinFunction(const Builtin* b) : b_(b) {}
  const std::vector<std::string>& parameters() const override { return b_->signatures[0].params; }
  bool variadic() const override { return b_->signatures[0].variadic || b_->signatures.size() > 1; }
  Value Call(std::span<const Value> args, EvalContext& ctx) const override {
    return CallBuiltin(*b_, args, {}, ctx);
  }
  std::string Describe() const override { return "function " + b_->name; }
  const Builtin* builtin() const { return b_; }

 private:
  const Builtin* b_;
};

struct Table {
  std::map<std::string, Builtin, std::less<>> by_name;
  std::vector<std::string> names;
};

const Table& GetTable() {
  static const Table* table = [] {
    auto* t = new Table();
    auto add = [&](const std::string& name, std::vector<std::string> params, size_t required, BuiltinImpl impl,
                   bool variadic = false) {
      BuiltinSignature s{std::move(params), required, variadic, impl};
      for (size_t i = 0; i < s.params.size() && i < 32 && !variadic; ++i) {
        if (s.params[i] == "list") s.list_params |= 1u << i;
        if (s.params[i] == "string") s.string_params |= 1u << i;
      }
      t->by_name[name].name = name;
      t->by_name[name].signatures.push_back(std::move(s));
    };
    add("date", {"from"}, 1, FnDate);
    add("date", {"year", "month", "day"}, 3, FnDate);
    add("date and time", {"from"}, 1, FnDateTime);
    add("date and time", {"date", "time"}, 2, FnDateTime);
    add("date and time", {"date", "time", "timezone"}, 3, FnDateTime);
    add("time", {"from"}, 1, FnTime);
    add("time", {"hour", "minute", "second", "offset"}, 3, FnTime);
    add("number", {"from", "grouping separator", "decimal separator"}, 1, FnNumber);
    add("string", {"from"}, 1, FnString);
    add("duration", {"from"}, 1, FnDuration);
    add("years and months duration", {"from", "to"}, 2, FnYearsMonths);
    add("not", {"negand"}, 1, FnNot);
    add("is", {"value1", "value2"}, 2, FnIs);
    add("substring", {"string", "start position", "length"}, 2, FnSubstring);
    add("string length", {"string"}, 1, FnStringLength);
    add("upper case", {"string"}, 1, FnUpper);
    add("lower case", {"string"}, 1, FnLower);
    add("substring before", {"string", "match"}, 2, FnSubstringBefore);
    add("substring after", {"string", "match"}, 2, FnSubstringAfter);
    add("replace", {"input", "pattern", "replacement", "flags"}, 3, FnReplace);
    add("contains", {"string", "match"}, 2, FnContains);
    add("starts with", {"string", "match"}, 2, FnStartsWith);
    add("ends with", {"string", "match"}, 2, FnEndsWith);
    add("matches", {"input", "pattern", "flags"}, 2, FnMatches);
    add("split", {"string", "delimiter"}, 2, FnSplit);
    add("string join", {"list", "delimiter"}, 1, FnStringJoin);
    add("list contains", {"list", "element"}, 2, FnListContains);
    add("count", {"list"}, 1, FnCount, true);
    add("min", {"list"}, 1, FnMin, true);
    add("max", {"list"}, 1, FnMax, true);
    add("sum", {"list"}, 1, FnSum, true);
    add("product", {"list"}, 1, FnProduct, true);
    add("mean", {"list"}, 1, FnMean, true);
    add("median", {"list"}, 1, FnMedian, true);
    add("stddev", {"list"}, 1, FnStddev, true);
    add("mode", {"list"}, 1, FnMode, true);
    add("all", {"list"}, 1, FnAll, true);
    add("any", {"list"}, 1, FnAny, true);
    add("sublist", {"list", "start position", "length"}, 2, FnSublist);
    add("append", {"list", "item"}, 1, FnAppend, true);
    add("concatenate", {"list"}, 0, FnConcatenate, true);
    add("insert before", {"list", "position", "newItem"}, 3, FnInsertBefore);
    add("remove", {"list", "position"}, 2, FnRemove);
    add("reverse", {"list"}, 1, FnReverse);
    add("index of", {"list", "match"}, 2, FnIndexOf);
    add("union", {"list"}, 0, FnUnion, true);
    add("distinct values", {"list"}, 1, FnDistinct);
    add("flatten", {"list"}, 1, FnFlatten);
    add("list replace", {"list", "position", "newItem"}, 3, FnListReplace);
    add("list replace", {"list", "match", "newItem"}, 3, FnListReplace);
    add("decimal", {"n", "scale"}, 2, FnDecimal);
    add("floor", {"n", "scale"}, 1, FnFloor);
    add("ceiling", {"n", "scale"}, 1, FnCeiling);
    add("round up", {"n", "scale"}, 2, FnRoundUp);
    add("round down", {"n", "scale"}, 2, FnRoundDown);
    add("round half up", {"n", "scale"}, 2, FnRoundHalfUp);
    add("round half down", {"n", "scale"}, 2, FnRoundHalfDown);
    add("abs", {"n"}, 1, FnAbs);
    add("modulo", {"dividend", "divisor"}, 2, FnModulo);
    add("sqrt", {"number"}, 1, FnSqrt);
    add("log", {"number"}, 1, FnLog);
    add("exp", {"number"}, 1, FnExp);
    add("odd", {"number"}, 1, FnOdd);
    add("even", {"number"}, 1, FnEven);
    add("day of year", {"date"}, 1, FnDayOfYear);
    add("day of week", {"date"}, 1, FnDayName);
    add("month of year", {"date"}, 1, FnMonthOfYear);
    add("week of year", {"date"}, 1, FnWeekOfYear);
    add("now", {}, 0, FnNow);
    add("today", {}, 0, FnToday);
    struct R { const char* name; BuiltinImpl fn; };
    const R kRanges[] = {{"before", FnBefore}, {"after", FnAfter}, {"meets", FnMeets}, {"met by", FnMetBy},
                         {"overlaps", FnOverlaps}, {"overlaps before", FnOverlapsBefore},
                         {"overlaps after", FnOverlapsAfter}, {"finishes", FnFinishes},
                         {"finished by", FnFinishedBy}, {"includes", FnIncludes}, {"during", FnDuring},
                         {"starts", FnStarts}, {"started by", FnStartedBy}, {"coincides", FnCoincides}};
    for (const R& r : kRanges) {
      add(r.name, {"point1", "point2"}, 2, r.fn);
      add(r.name, {"point", "range"}, 2, r.fn);
      add(r.name, {"range", "point"}, 2, r.fn);
      add(r.name, {"range1", "range2"}, 2, r.fn);
    }
    add("range", {"from"}, 1, FnRange);
    add("get value", {"m", "key"}, 2, FnGetValue);
    add("get entries", {"m"}, 1, FnGetEntries);
    add("context", {"entries"}, 1, FnContext, true);
    // Positional calls take the first signature: a key or a key path.
    add("context put", {"context", "keys", "value"}, 3, FnContextPut);
    add("context put", {"context", "key", "value"}, 3, FnContextPutKey);
    add("context merge", {"contexts"}, 1, FnContextMerge, true);
    add("sort", {"list", "precedes"}, 1, FnSort);
    for (auto& [name, b] : t->by_name) {
      b.as_value = std::make_shared<BuiltinFunction>(&b);
      t->names.push_back(name);
    }
    std::sort(t->names.begin(), t->names.end(),
              [](const std::string& x, const std::string& y) { return x.size() > y.size(); });
    return t;
  }();
  return *table;
}

}  // namespace

const Builtin* LookupBuiltin(std::string_view name) {
  const Table& t = GetTable();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : &it->second;
}

const std::vector<std::string>& BuiltinNames() { return GetTable().names; }

namespace {
// DMN 1.5 10.3.2.9.4 type conversions for built-in parameters: a non-list
// given for a `list` parameter becomes a singleton list, and a singleton list
// given for a `string` parameter becomes its element. Variadic list
// functions (sum(1, 2)) take their items as they are.
bool WantsList(const BuiltinSignature& s, size_t i, const Value& v) {
  return i < 32 && (s.list_params >> i & 1u) && !v.is_null() && !v.is(Type::kList);
}
bool WantsItem(const BuiltinSignature& s, size_t i, const Value& v) {
  return i < 32 && (s.string_params >> i & 1u) && v.is(Type::kList) && v.list().size() == 1;
}

Value CallConverted(const BuiltinSignature& s, std::span<const Value> args, EvalContext& ctx) {
  bool convert = false;
  if (s.list_params | s.string_params) {
    for (size_t i = 0; i < args.size() && !convert; ++i) convert = WantsList(s, i, args[i]) || WantsItem(s, i, args[i]);
  }
  if (!convert) return s.impl(args, ctx);
  std::vector<Value> converted(args.begin(), args.end());
  for (size_t i = 0; i < converted.size(); ++i) {
    Value& v = converted[i];
    if (WantsList(s, i, v)) v = Value::List({v});
    else if (WantsItem(s, i, v)) v = Value(v.list()[0]);
  }
  return s.impl(converted, ctx);
}
}  // namespace

Value CallBuiltin(const Builtin& b, std::span<const Value> args, const std::vector<std::string>& names,
                  EvalContext& ctx) {
  if (names.empty()) {
    for (const BuiltinSignature& s : b.signatures) {
      if (args.size() < s.required) continue;
      if (args.size() > s.params.size() && !s.variadic) continue;
      return CallConverted(s, args, ctx);
    }
    ctx.Warn(b.name + ": wrong number of arguments (" + std::to_string(args.size()) + ")");
    return Value();
  }
  // First a signature whose required parameters are all named; else one
  // whose names fit, the parameters not named being null (is(value1: x)
  // compares x with null).
  for (bool need_required : {true, false}) {
    for (const BuiltinSignature& s : b.signatures) {
      std::vector<Value> mapped(s.params.size());
      std::vector<bool> given(s.params.size(), false);
      bool ok = true;
      size_t used = 0;
      for (size_t i = 0; i < names.size() && ok; ++i) {
        auto it = std::find(s.params.begin(), s.params.end(), names[i]);
        if (it == s.params.end()) {
          ok = false;
          break;
        }
        size_t k = static_cast<size_t>(it - s.params.begin());
        mapped[k] = args[i];
        given[k] = true;
        used = std::max(used, k + 1);
      }
      for (size_t k = 0; k < s.required && ok && need_required; ++k) ok = given[k];
      if (!ok) continue;
      mapped.resize(need_required ? std::max(used, s.required) : used);
      return CallConverted(s, mapped, ctx);
    }
  }
  ctx.Warn(b.name + ": no signature takes these named arguments");
  return Value();
}

Value Invoke(const Value& fn, std::span<const Value> args, const std::vector<std::string>& names,
             EvalContext& ctx) {
  if (!fn.is(Type::kFunction)) {
    ctx.Warn("not a function");
    return Value();
  }
  const Function& f = *fn.function();
  if (auto* bf = dynamic_cast<const BuiltinFunction*>(&f)) return CallBuiltin(*bf->builtin(), args, names, ctx);
  const auto& params = f.parameters();
  if (names.empty()) {
    if (!f.variadic() && args.size() > params.size()) {
      ctx.Warn("too many arguments: " + std::to_string(args.size()) + " for " + f.Describe());
      return Value();
    }
    if (args.size() < params.size() && !f.variadic()) {
      ctx.Warn("too few arguments: " + std::to_string(args.size()) + " for " + f.Describe());
      return Value();
    }
    return f.Call(args, ctx);
  }
  std::vector<Value> mapped(params.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = std::find(params.begin(), params.end(), names[i]);
    if (it == params.end()) {
      ctx.Warn("unknown parameter '" + names[i] + "' for " + f.Describe());
      return Value();
    }
    mapped[static_cast<size_t>(it - params.begin())] = args[i];
  }
  return f.Call(mapped, ctx);
}

}  // namespace rapport::feel::internal
