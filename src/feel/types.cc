// FEEL types: parsing type text, instance-of checks and DMN coercion.

#include "feel/feel.h"
#include "feel/internal/ast.h"

namespace rapport::feel {

using K = FeelType::Kind;

std::string FeelType::ToString() const {
  switch (kind) {
    case K::kAny: return "Any";
    case K::kNull: return "Null";
    case K::kNumber: return "number";
    case K::kString: return "string";
    case K::kBoolean: return "boolean";
    case K::kDate: return "date";
    case K::kTime: return "time";
    case K::kDateTime: return "date and time";
    case K::kDaysTimeDuration: return "days and time duration";
    case K::kYearsMonthsDuration: return "years and months duration";
    case K::kList: return element ? "list<" + element->ToString() + ">" : "list";
    case K::kRange: return element ? "range<" + element->ToString() + ">" : "range";
    case K::kContext: {
      if (fields.empty()) return "context";
      std::string s = "context<";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) s += ", ";
        s += fields[i].name + ": " + fields[i].type.ToString();
      }
      return s + ">";
    }
    case K::kFunction: {
      if (!element) return "function";
      std::string s = "function<";
      for (size_t i = 0; i < parameters.size(); ++i) {
        if (i) s += ", ";
        s += parameters[i].ToString();
      }
      return s + "> -> " + element->ToString();
    }
  }
  return "Any";
}

Result<FeelType> ParseType(std::string_view text) { return internal::ParseTypeText(text, 0); }

bool IsInstance(const Value& v, const FeelType& t) {
  switch (t.kind) {
    case K::kAny: return true;
    case K::kNull: return v.is_null();
    case K::kNumber: return v.is(Type::kNumber);
    case K::kString: return v.is(Type::kString);
    case K::kBoolean: return v.is(Type::kBoolean);
    case K::kDate: return v.is(Type::kDate);
    case K::kTime: return v.is(Type::kTime);
    case K::kDateTime: return v.is(Type::kDateTime);
    case K::kDaysTimeDuration: return v.is(Type::kDaysTimeDuration);
    case K::kYearsMonthsDuration: return v.is(Type::kYearsMonthsDuration);
    case K::kList:
      if (!v.is(Type::kList)) return false;
      if (t.element) {
        for (const Value& e : v.list()) {
          if (!e.is_null() && !IsInstance(e, *t.element)) return false;
        }
      }
      return true;
    case K::kRange:
      if (!v.is(Type::kRange)) return false;
      if (t.element) {
        const Range& r = v.range();
        if (r.low && !IsInstance(*r.low, *t.element)) return false;
        if (r.high && !IsInstance(*r.high, *t.element)) return false;
      }
      return true;
    case K::kContext:
      if (!v.is(Type::kContext)) return false;
      for (const auto& [name, ft] : t.fields) {
        const Value* f = v.Get(name);
        if (!f || (!f->is_null() && !IsInstance(*f, ft))) return false;
      }
      return true;
    case K::kFunction: {
      if (!v.is(Type::kFunction)) return false;
      if (!t.element) return true;
      const auto& fn = v.function();
      return fn->variadic() || fn->parameters().size() == t.parameters.size();
    }
  }
  return false;
}

Value CoerceTo(const Value& v, const FeelType& t) {
  if (v.is_null() || IsInstance(v, t)) return v;
  // Singleton list where an element is expected.
  if (v.is(Type::kList) && v.list().size() == 1 && t.kind != K::kList && IsInstance(v.list()[0], t))
    return v.list()[0];
  // Element where a list is expected.
  if (t.kind == K::kList && !v.is(Type::kList) && (!t.element || IsInstance(v, *t.element)))
    return Value::List({v});
  // A date where a date and time is expected: midnight UTC.
  if (t.kind == K::kDateTime && v.is(Type::kDate)) return Value::DateTime(v.epoch_days(), 0, ZoneKind::kOffset, 0);
  return Value();
}

}  // namespace rapport::feel
