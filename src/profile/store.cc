#include "profile/profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "common/json.h"
#include "common/money.h"
#include "feel/feel.h"
#include "profile/internal/store_impl.h"

namespace rapport::profile {

using internal::Column;
using internal::Table;
using internal::Aggregation;

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kNumber: return "number";
    case ColumnType::kString: return "string";
    case ColumnType::kDate: return "date";
    case ColumnType::kBoolean: return "boolean";
  }
  return "?";
}

ProfileOptions DefaultProfileOptions(Timestamp as_of) {
  using A = AttributeColumn;
  using G = AggregateDef;
  ProfileOptions o;
  o.as_of = as_of;
  o.attributes = {
      {"kind", "@kind", ColumnType::kString},
      {"region", "", ColumnType::kString},
      {"city", "", ColumnType::kString},
      {"postcode", "", ColumnType::kString},
      {"country", "", ColumnType::kString},
      {"gender", "", ColumnType::kString},
      {"language", "", ColumnType::kString},
      {"birthDate", "", ColumnType::kDate},
      {"age", "birthDate", ColumnType::kNumber, A::Derive::kAgeYears},
      {"ageBand", "birthDate", ColumnType::kString, A::Derive::kAgeBand},
      {"industry", "", ColumnType::kString},
      {"segment", "", ColumnType::kString},
      {"employees", "", ColumnType::kNumber},
      {"annualRevenue", "", ColumnType::kNumber},
  };
  const auto tx = G::Source::kTransactions;
  const auto ix = G::Source::kInteractions;
  o.aggregates = {
      {"orders", tx, G::Measure::kCount, "", 0, "", true},
      {"revenue", tx, G::Measure::kSum, "amount", 0, "", true},
      {"firstPurchase", tx, G::Measure::kFirst, "", 0, "", true},
      {"lastPurchase", tx, G::Measure::kLast, "", 0, "", true},
      {"revenue30d", tx, G::Measure::kSum, "amount", 30, "", true},
      {"revenue90d", tx, G::Measure::kSum, "amount", 90, "", true},
      {"revenue365d", tx, G::Measure::kSum, "amount", 365, "", true},
      {"onlineOrders90d", tx, G::Measure::kCount, "", 90, R"(channel in ("web", "app"))", true},
      {"topCategory", tx, G::Measure::kTop, "category", 0, "", true},
      {"contacts", ix, G::Measure::kCount, "", 0, "", true},
      {"webContacts", ix, G::Measure::kCount, "", 0, R"(channel = "web")", true},
      {"emailContacts", ix, G::Measure::kCount, "", 0, R"(channel = "email")", true},
      {"storeContacts", ix, G::Measure::kCount, "", 0, R"(channel = "store")", true},
      {"serviceContacts", ix, G::Measure::kCount, "", 0, R"(channel = "call_centre")", true},
      {"lastContact", ix, G::Measure::kLast, "", 0, "", true},
      {"lastServiceContact", ix, G::Measure::kLast, "", 0, R"(channel = "call_centre")", true},
  };
  return o;
}

namespace {

constexpr const char* kTransactionColumns =
    "customer_id, occurred_at, channel, location, sku, item, category, quantity, amount, currency";
constexpr int kAmountField = 8;  // in kTransactionColumns: Money units
constexpr const char* kInteractionColumns =
    "customer_id, occurred_at, agent, department, type, purpose, channel, touch_point, direction, reason, "
    "campaign, outcome";

std::vector<std::string> FieldNames(const char* columns) {
  std::vector<std::string> out;
  std::string s = columns;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string name = s.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    out.push_back(name);
    start = comma + 1;
  }
  return out;
}

int32_t DayOf(int64_t micros) {
  return static_cast<int32_t>(micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay));
}

std::optional<int32_t> ParseIsoDate(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t a, size_t n) -> int {
    int v = 0;
    for (size_t i = a; i < a + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return static_cast<int32_t>(DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
}

int AgeYears(int32_t birth, int32_t today) {
  int64_t by, ty;
  unsigned bm, bd, tm, td;
  CivilFromDays(birth, &by, &bm, &bd);
  CivilFromDays(today, &ty, &tm, &td);
  int age = static_cast<int>(ty - by);
  if (tm < bm || (tm == bm && td < bd)) --age;
  return age;
}

std::string AgeBand(int age) {
  if (age < 18) return "under 18";
  if (age >= 70) return "70+";
  int lo = age < 30 ? 18 : age / 10 * 10;
  int hi = age < 30 ? 29 : lo + 9;
  return std::to_string(lo) + "-" + std::to_string(hi);
}

// Running values of the aggregates of one target row. Sums of amounts
// (Money, integers of 10^-4) add exactly; the column gets their nearest
// double once, which prints as the exact decimal.
struct Acc {
  double count = 0;
  double sum = 0;
  MoneySum money;
  int32_t first = std::numeric_limits<int32_t>::max();
  int32_t last = std::numeric_limits<int32_t>::min();
  std::unordered_map<std::string, int64_t> top;
};

}  // namespace

namespace internal {

// Folds transaction and interaction rows into per-row accumulators,
// applying windows and FEEL filters. Immutable once made: the store
// compiles it once at Open and every Apply shares it.
class Aggregation {
 public:
  static Result<Aggregation> Make(const ProfileOptions& options, const Table& table) {
    Aggregation a;
    a.options_ = &options;
    a.as_of_micros_ = options.as_of.micros;
    a.fields_[0] = FieldNames(kTransactionColumns);
    a.fields_[1] = FieldNames(kInteractionColumns);
    for (const auto& def : options.aggregates) {
      Def d;
      d.def = &def;
      d.column = table.FindColumn(def.name);
      int src = def.source == AggregateDef::Source::kTransactions ? 0 : 1;
      const auto& names = a.fields_[src];
      if (def.measure == AggregateDef::Measure::kSum || def.measure == AggregateDef::Measure::kTop) {
        auto it = std::find(names.begin(), names.end(), def.field);
        if (it == names.end() || def.field == "customer_id") {
          return Status::InvalidArgument("aggregate " + def.name + ": unknown field '" + def.field + "'",
                                         "/aggregates/" + def.name + "/field");
        }
        d.field = static_cast<int>(it - names.begin());
        d.money = src == 0 && d.field == kAmountField;
      }
      if (!def.filter.empty()) {
        feel::CompileOptions opts;
        opts.known_names = names;
        auto e = feel::Compile(def.filter, opts);
        if (!e.ok()) {
          return Status::InvalidArgument("aggregate " + def.name + " filter: " + e.status().message(),
                                         "/aggregates/" + def.name + "/filter");
        }
        d.filter = *e;
      }
      a.defs_.push_back(std::move(d));
    }
    return a;
  }

  size_t defs() const { return defs_.size(); }

  // Adds one source row (transactions: src 0, interactions: src 1) to the
  // accumulators of its owner and, for rollup aggregates, of its groups.
  void Add(int src, const storage::Row& row, Acc* own, const std::vector<Acc*>& groups) const {
    int32_t day = DayOf(row[1].AsInt());
    bool scope_ready = false;
    feel::Scope scope;
    feel::EvalContext ctx;
    for (size_t k = 0; k < defs_.size(); ++k) {
      const Def& d = defs_[k];
      if ((d.def->source == AggregateDef::Source::kTransactions ? 0 : 1) != src) continue;
      if (d.def->window_days > 0 && row[1].AsInt() <= as_of_micros_ - d.def->window_days * kMicrosPerDay) continue;
      if (d.filter) {
        if (!scope_ready) {
          const auto& names = fields_[src];
          for (size_t i = 1; i < names.size(); ++i) {
            const auto& v = row[i];
            if (i == 1) {
              scope.Set(names[i], feel::Value::FromTimestamp(Timestamp{v.AsInt()}));
            } else if (src == 0 && i == static_cast<size_t>(kAmountField)) {
              scope.Set(names[i], feel::Value::Number(feel::Decimal::FromDouble(Money::FromUnits(v.AsInt()).ToDouble())));
            } else if (v.is_null()) {
              scope.Set(names[i], feel::Value::Null());
            } else if (v.is_text()) {
              scope.Set(names[i], feel::Value::String(v.AsText()));
            } else {
              scope.Set(names[i], feel::Value::Number(feel::Decimal::FromDouble(v.AsDouble())));
            }
          }
          scope_ready = true;
        }
        feel::Value keep = d.filter->Evaluate(scope, ctx);
        if (!keep.is(feel::Type::kBoolean) || !keep.boolean()) continue;
      }
      if (own) Fold(d, row, day, own[k]);
      if (d.def->rollup) {
        for (Acc* g : groups) Fold(d, row, day, g[k]);
      }
    }
  }

  // Writes the accumulated values of one row into the columns.
  void Write(Table& table, uint32_t row, const Acc* acc) const {
    for (size_t k = 0; k < defs_.size(); ++k) {
      const Def& d = defs_[k];
      Column& c = table.column(d.column);
      const Acc& a = acc[k];
      switch (d.def->measure) {
        case AggregateDef::Measure::kCount: c.SetNumber(row, a.count); break;
        case AggregateDef::Measure::kSum:
          c.SetNumber(row, d.money ? a.money.total().ToDouble() : a.sum);
          break;
        case AggregateDef::Measure::kFirst:
          if (a.count > 0) c.SetInt(row, a.first); else c.SetNull(row);
          break;
        case AggregateDef::Measure::kLast:
          if (a.count > 0) c.SetInt(row, a.last); else c.SetNull(row);
          break;
        case AggregateDef::Measure::kTop: {
          const std::string* best = nullptr;
          int64_t n = 0;
          for (const auto& [value, count] : a.top) {
            if (value.empty()) continue;
            if (count > n || (count == n && best && value < *best)) {
              best = &value;
              n = count;
            }
          }
          if (best) c.SetString(row, *best); else c.SetNull(row);
          break;
        }
      }
    }
  }

 private:
  struct Def {
    const AggregateDef* def;
    int column = -1;
    int field = -1;
    bool money = false;  // sums the transactions' amount
    std::optional<feel::Expression> filter;
  };

  static void Fold(const Def& d, const storage::Row& row, int32_t day, Acc& a) {
    a.count += 1;
    switch (d.def->measure) {
      case AggregateDef::Measure::kSum:
        if (d.money) a.money.AddUnits(row[d.field].AsInt());
        else a.sum += row[d.field].AsDouble();
        break;
      case AggregateDef::Measure::kFirst: a.first = std::min(a.first, day); break;
      case AggregateDef::Measure::kLast: a.last = std::max(a.last, day); break;
      case AggregateDef::Measure::kTop: ++a.top[row[d.field].AsText()]; break;
      case AggregateDef::Measure::kCount: break;
    }
  }

  const ProfileOptions* options_ = nullptr;
  int64_t as_of_micros_ = 0;
  std::vector<std::string> fields_[2];
  std::vector<Def> defs_;
};

}  // namespace internal

namespace {

Status AddColumns(const ProfileOptions& options, Table& table) {
  std::set<std::string> names;
  for (const auto& a : options.attributes) {
    if (!names.insert(a.name).second) return Status::InvalidArgument("duplicate column " + a.name, "/attributes");
    table.AddColumn(a.name, a.type);
  }
  for (const auto& g : options.aggregates) {
    if (!names.insert(g.name).second) return Status::InvalidArgument("duplicate column " + g.name, "/aggregates");
    ColumnType type = ColumnType::kNumber;
    if (g.measure == AggregateDef::Measure::kFirst || g.measure == AggregateDef::Measure::kLast) type = ColumnType::kDate;
    if (g.measure == AggregateDef::Measure::kTop) type = ColumnType::kString;
    table.AddColumn(g.name, type);
  }
  return Status::Ok();
}

// Writes a customer's attribute columns from its kind and attributes JSON.
void WriteAttributes(const ProfileOptions& options, Table& table, uint32_t row, const std::string& kind,
                     const std::string& attributes_json) {
  auto doc = json::Parse(attributes_json);
  const rapidjson::Value* obj = (doc.ok() && (*doc)->IsObject()) ? doc->get() : nullptr;
  int32_t today = DayOf(options.as_of.micros);
  for (size_t i = 0; i < options.attributes.size(); ++i) {
    const auto& a = options.attributes[i];
    Column& c = table.column(i);
    c.SetNull(row);
    if (a.attribute == "@kind") {
      c.SetString(row, kind);
      continue;
    }
    const std::string& key = a.attribute.empty() ? a.name : a.attribute;
    if (!obj) continue;
    auto it = obj->FindMember(key.c_str());
    if (it == obj->MemberEnd()) continue;
    const rapidjson::Value& v = it->value;
    if (a.derive != AttributeColumn::Derive::kNone) {
      if (!v.IsString()) continue;
      auto birth = ParseIsoDate(v.GetString());
      if (!birth) continue;
      int age = AgeYears(*birth, today);
      if (a.derive == AttributeColumn::Derive::kAgeYears) c.SetNumber(row, age);
      else c.SetString(row, AgeBand(age));
      continue;
    }
    switch (a.type) {
      case ColumnType::kNumber:
        if (v.IsNumber()) c.SetNumber(row, v.GetDouble());
        break;
      case ColumnType::kString:
        if (v.IsString()) c.SetString(row, std::string_view(v.GetString(), v.GetStringLength()));
        break;
      case ColumnType::kDate:
        if (v.IsString()) {
          if (auto d = ParseIsoDate(v.GetString())) c.SetInt(row, *d);
        }
        break;
      case ColumnType::kBoolean:
        if (v.IsBool()) c.SetInt(row, v.GetBool() ? 1 : 0);
        break;
    }
  }
}

constexpr const char* kSegmentsV1 = R"sql(
CREATE TABLE profile_segments (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  condition TEXT NOT NULL DEFAULT '',
  operation TEXT NOT NULL DEFAULT '',
  left_id BIGINT,
  right_id BIGINT,
  created_at BIGINT NOT NULL
);
CREATE TABLE profile_segment_snapshots (
  segment_id BIGINT NOT NULL,
  taken_on TEXT NOT NULL,
  customer_id BIGINT NOT NULL,
  PRIMARY KEY (segment_id, taken_on, customer_id)
);
)sql";

}  // namespace

Roaring BitsToRoaring(const std::vector<uint64_t>& bits) {
  Roaring r;
  std::vector<uint32_t> buf;
  buf.reserve(4096);
  for (size_t w = 0; w < bits.size(); ++w) {
    uint64_t b = bits[w];
    while (b) {
      buf.push_back(static_cast<uint32_t>(w * 64 + std::countr_zero(b)));
      b &= b - 1;
    }
    if (buf.size() >= 4000) {
      r.addMany(buf.size(), buf.data());
      buf.clear();
    }
  }
  r.addMany(buf.size(), buf.data());
  r.runOptimize();
  return r;
}

ProfileStore::ProfileStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProfileStore::~ProfileStore() = default;

Status LoadSegments(ProfileStore::Impl& impl);  // segments.cc

Result<std::unique_ptr<ProfileStore>> ProfileStore::Open(storage::Database* db, ProfileOptions options) {
  std::string events_v2 =
      std::string("CREATE TABLE profile_segment_events (\n  seq ") +
      (db->dialect() == storage::Dialect::kSqlite ? "INTEGER PRIMARY KEY"
                                                  : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY") +
      ",\n  segment_id BIGINT NOT NULL,\n  customer_id BIGINT NOT NULL,\n  entered INTEGER NOT NULL,\n"
      "  at BIGINT NOT NULL\n);\n"
      "CREATE INDEX profile_segment_events_by_segment ON profile_segment_events (segment_id, seq);\n";
  RP_RETURN_IF_ERROR(storage::Migrate(*db, "profile",
                                      {{1, "segments and their dated snapshots", kSegmentsV1},
                                       {2, "segment entries and exits (the segments' change feed)", events_v2}}));
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->options = std::move(options);
  Table& table = impl->table;
  RP_RETURN_IF_ERROR(AddColumns(impl->options, table));
  RP_ASSIGN_OR_RETURN(auto made, Aggregation::Make(impl->options, table));
  impl->aggregation = std::make_shared<const Aggregation>(std::move(made));
  const Aggregation& agg = *impl->aggregation;

  Status st = db->WithConnection([&](storage::Connection& conn) -> Status {
    // Tables are read in pages by primary key, so memory stays bounded by a
    // page of rows, not the whole history.
    constexpr int64_t kPage = 50000;
    for (int64_t after = 0;;) {
      RP_ASSIGN_OR_RETURN(auto customers, conn.Query("SELECT id, kind, attributes FROM customers WHERE id > ? "
                                                     "ORDER BY id LIMIT ?", {after, kPage}));
      if (customers.empty()) break;
      for (const auto& r : customers.rows) {
        uint32_t row = table.AddRow(r[0].AsInt());
        WriteAttributes(impl->options, table, row, r[1].AsText(), r[2].AsText());
      }
      after = customers.rows.back()[0].AsInt();
    }
    RP_ASSIGN_OR_RETURN(auto rel, conn.Query("SELECT customer_id, related_id FROM customer_relationships "
                                             "WHERE type = 'member_of' AND valid_to IS NULL"));
    for (const auto& r : rel.rows) {
      impl->groups_of[r[0].AsInt()].push_back(r[1].AsInt());
      impl->members_of[r[1].AsInt()].push_back(r[0].AsInt());
    }
    size_t defs = agg.defs();
    std::vector<Acc> acc(table.rows() * defs);
    auto fold = [&](int src, const storage::QueryResult& rows) {
      std::vector<Acc*> groups;
      for (const auto& r : rows.rows) {
        int64_t owner = table.RowOf(r[0].AsInt());
        groups.clear();
        auto g = impl->groups_of.find(r[0].AsInt());
        if (g != impl->groups_of.end()) {
          for (int64_t gid : g->second) {
            int64_t grow = table.RowOf(gid);
            if (grow >= 0) groups.push_back(&acc[grow * defs]);
          }
        }
        agg.Add(src, r, owner >= 0 ? &acc[owner * defs] : nullptr, groups);
      }
    };
    // The page's own id comes last, after the columns the aggregation reads.
    auto scan = [&](int src, const char* columns, const char* from) -> Status {
      for (int64_t after = 0;;) {
        RP_ASSIGN_OR_RETURN(auto rows, conn.Query(std::string("SELECT ") + columns + ", id FROM " + from +
                                                      " WHERE id > ? ORDER BY id LIMIT ?", {after, kPage}));
        if (rows.empty()) return Status::Ok();
        fold(src, rows);
        after = rows.rows.back().back().AsInt();
      }
    };
    RP_RETURN_IF_ERROR(scan(0, kTransactionColumns, "customer_transactions"));
    RP_RETURN_IF_ERROR(scan(1, kInteractionColumns, "customer_interactions"));
    for (uint32_t row = 0; row < table.rows(); ++row) agg.Write(table, row, &acc[row * defs]);
    return Status::Ok();
  });
  RP_RETURN_IF_ERROR(st);
  RP_RETURN_IF_ERROR(LoadSegments(*impl));
  return std::unique_ptr<ProfileStore>(new ProfileStore(std::move(impl)));
}

feel::EvalLimits ProfileStore::RequestLimits(const std::atomic<bool>* cancelled) const {
  feel::EvalLimits l = impl_->options.limits.WithTimeout(impl_->options.eval_timeout);
  l.cancelled = cancelled;
  return l;
}

int64_t ProfileStore::size() const {
  std::shared_lock lock(impl_->mu);
  return static_cast<int64_t>(impl_->table.rows());
}

std::vector<std::pair<std::string, ColumnType>> ProfileStore::columns() const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::pair<std::string, ColumnType>> out;
  for (size_t i = 0; i < impl_->table.column_count(); ++i) {
    out.emplace_back(impl_->table.column(i).name(), impl_->table.column(i).type());
  }
  return out;
}

int64_t ProfileStore::memory_bytes() const {
  std::shared_lock lock(impl_->mu);
  return impl_->table.memory_bytes();
}

Result<std::string> ProfileStore::ValueOf(int64_t customer_id, std::string_view column) const {
  std::shared_lock lock(impl_->mu);
  int64_t row = impl_->table.RowOf(customer_id);
  if (row < 0) return Status::NotFound("customer " + std::to_string(customer_id) + " is not in the profile store");
  int c = impl_->table.FindColumn(column);
  if (c < 0) return Status::NotFound("no column " + std::string(column));
  return impl_->table.column(c).Text(static_cast<uint32_t>(row));
}

int ProfileStore::ColumnIndex(std::string_view column) const {
  std::shared_lock lock(impl_->mu);
  return impl_->table.FindColumn(column);
}

Status ProfileStore::ReadRow(int64_t customer_id, const std::vector<int>& columns,
                             std::vector<feel::Value>* out) const {
  std::shared_lock lock(impl_->mu);
  int64_t row = impl_->table.RowOf(customer_id);
  if (row < 0) {
    return Status::NotFound("customer " + std::to_string(customer_id) + " is not in the profile store");
  }
  out->clear();
  out->reserve(columns.size());
  for (int c : columns) {
    if (c < 0 || static_cast<size_t>(c) >= impl_->table.column_count()) {
      out->emplace_back();
    } else {
      out->push_back(impl_->table.column(static_cast<size_t>(c)).FeelValue(static_cast<uint32_t>(row)));
    }
  }
  return Status::Ok();
}

std::vector<int64_t> ProfileStore::GroupsOf(int64_t customer_id) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->groups_of.find(customer_id);
  if (it == impl_->groups_of.end()) return {};
  return it->second;
}

void ProfileStore::SetListener(SegmentListener listener) {
  std::unique_lock lock(impl_->mu);
  impl_->listener = std::move(listener);
}

Status ProfileStore::Apply(int64_t customer_id) {
  if (!impl_->db) return Status::Internal("this profile store has no operational store to read from");
  Impl& impl = *impl_;
  // Applies run one at a time, as they did when the whole of Apply held the
  // exclusive lock, so an Apply that read older rows never overwrites a
  // newer one. The SQL reads below run without the store lock: readers
  // (segment counts, real-time decisions reading a row) wait only for the
  // in-memory update at the end, not for a customer's history to be read.
  std::lock_guard apply_lock(impl.apply_mu);
  storage::QueryResult cust, up, down;
  RP_RETURN_IF_ERROR(impl.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(cust, conn.Query("SELECT id, kind, attributes FROM customers WHERE id = ?", {customer_id}));
    if (cust.empty()) return Status::NotFound("customer " + std::to_string(customer_id) + " does not exist");
    RP_ASSIGN_OR_RETURN(up, conn.Query("SELECT related_id FROM customer_relationships WHERE customer_id = ? "
                                       "AND type = 'member_of' AND valid_to IS NULL", {customer_id}));
    RP_ASSIGN_OR_RETURN(down, conn.Query("SELECT customer_id FROM customer_relationships WHERE related_id = ? "
                                         "AND type = 'member_of' AND valid_to IS NULL", {customer_id}));
    return Status::Ok();
  }));
  // Membership may have changed in either direction: the customer and its
  // old and new groups are re-aggregated, each over itself and its members
  // as they are after this update. Only Apply changes memberships, and
  // Applies are serialized, so what is read here under the shared lock
  // still holds when the update is written.
  // Compiled once at Open (its FEEL filters among it): compiling it per
  // update was a third of the CPU of tracking ingest.
  std::shared_ptr<const Aggregation> agg = impl.aggregation;
  std::map<int64_t, std::vector<int64_t>> members_after;  // target -> its members after the update
  std::set<int64_t> contributors;
  {
    std::shared_lock lock(impl.mu);
    if (!agg) {
      RP_ASSIGN_OR_RETURN(auto made, Aggregation::Make(impl.options, impl.table));
      agg = std::make_shared<const Aggregation>(std::move(made));
    }
    std::set<int64_t> up_ids;
    for (const auto& r : up.rows) up_ids.insert(r[0].AsInt());
    std::set<int64_t> targets = up_ids;
    if (auto g = impl.groups_of.find(customer_id); g != impl.groups_of.end()) targets.insert(g->second.begin(), g->second.end());
    auto& own = members_after[customer_id];
    for (const auto& r : down.rows) own.push_back(r[0].AsInt());
    for (int64_t t : targets) {
      auto& m = members_after[t];
      if (auto it = impl.members_of.find(t); it != impl.members_of.end()) {
        for (int64_t x : it->second) {
          if (x != customer_id) m.push_back(x);
        }
      }
      if (up_ids.count(t)) m.push_back(customer_id);
    }
    for (const auto& [t, m] : members_after) {
      contributors.insert(t);
      contributors.insert(m.begin(), m.end());
    }
  }
  // Their transactions and interactions, read and aggregated without the lock.
  std::map<int64_t, std::vector<Acc>> accs;
  for (const auto& [t, m] : members_after) accs[t] = std::vector<Acc>(agg->defs());
  RP_RETURN_IF_ERROR(impl.db->WithConnection([&](storage::Connection& conn) -> Status {
    for (int64_t who : contributors) {
      RP_ASSIGN_OR_RETURN(auto tx, conn.Query(std::string("SELECT ") + kTransactionColumns +
                                              " FROM customer_transactions WHERE customer_id = ?", {who}));
      RP_ASSIGN_OR_RETURN(auto ix, conn.Query(std::string("SELECT ") + kInteractionColumns +
                                              " FROM customer_interactions WHERE customer_id = ?", {who}));
      // The rows count for `who` itself when it is re-aggregated, and for
      // each re-aggregated group it is a member of.
      Acc* own = accs.count(who) ? accs[who].data() : nullptr;
      std::vector<Acc*> groups;
      for (const auto& [t, m] : members_after) {
        if (t != who && std::find(m.begin(), m.end(), who) != m.end()) groups.push_back(accs[t].data());
      }
      for (const auto& r : tx.rows) agg->Add(0, r, own, groups);
      for (const auto& r : ix.rows) agg->Add(1, r, own, groups);
    }
    return Status::Ok();
  }));
  std::vector<SegmentChange> changes;
  SegmentListener listener;
  {
    std::unique_lock lock(impl.mu);
    Table& table = impl.table;
    int64_t row = table.RowOf(customer_id);
    if (row < 0) row = table.AddRow(customer_id);
    WriteAttributes(impl.options, table, static_cast<uint32_t>(row), cust.rows[0][1].AsText(),
                    cust.rows[0][2].AsText());
    for (int64_t g : impl.groups_of[customer_id]) {
      auto& m = impl.members_of[g];
      m.erase(std::remove(m.begin(), m.end(), customer_id), m.end());
    }
    auto& groups = impl.groups_of[customer_id];
    groups.clear();
    for (const auto& r : up.rows) {
      groups.push_back(r[0].AsInt());
      impl.members_of[r[0].AsInt()].push_back(customer_id);
    }
    if (!down.empty() || impl.members_of.count(customer_id)) {
      auto& members = impl.members_of[customer_id];
      for (int64_t m : members) {
        auto& g = impl.groups_of[m];
        g.erase(std::remove(g.begin(), g.end(), customer_id), g.end());
      }
      members.clear();
      for (const auto& r : down.rows) {
        members.push_back(r[0].AsInt());
        impl.groups_of[r[0].AsInt()].push_back(customer_id);
      }
    }
    for (auto& [target, acc] : accs) {
      int64_t trow = table.RowOf(target);
      if (trow < 0) continue;  // a group not yet in the store
      agg->Write(table, static_cast<uint32_t>(trow), acc.data());
      impl.Reevaluate(static_cast<uint32_t>(trow), &changes);
    }
    listener = impl.listener;
  }
  if (!changes.empty()) {
    // Recorded after the columns changed and outside the lock: a crash in
    // between loses the record, not the membership (a restart recomputes it).
    int64_t now = SystemClock::Default()->Now().micros;
    RP_RETURN_IF_ERROR(impl.db->WithTransaction([&](storage::Connection& conn) -> Status {
      for (const auto& c : changes) {
        RP_RETURN_IF_ERROR(conn.Execute("INSERT INTO profile_segment_events (segment_id, customer_id, entered, at) "
                                        "VALUES (?, ?, ?, ?)",
                                        {c.segment_id, c.customer_id, c.entered ? 1 : 0, now})
                               .status());
      }
      return Status::Ok();
    }));
  }
  if (listener) {
    for (const auto& c : changes) listener(c);
  }
  return Status::Ok();
}

Result<std::vector<SegmentEvent>> ProfileStore::SegmentEvents(int64_t segment_id, int64_t after_seq, int limit) const {
  if (limit < 1 || limit > 10000) return Status::InvalidArgument("limit must be between 1 and 10000", "limit");
  RP_RETURN_IF_ERROR(GetSegment(segment_id).status());
  std::vector<SegmentEvent> out;
  if (!impl_->db) return out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT seq, segment_id, customer_id, entered, at FROM "
                                              "profile_segment_events WHERE segment_id = ? AND seq > ? "
                                              "ORDER BY seq LIMIT ?",
                                              {segment_id, after_seq, static_cast<int64_t>(limit)}));
    for (const auto& r : rows.rows) {
      out.push_back({r[0].AsInt(), r[1].AsInt(), r[2].AsInt(), r[3].AsInt() != 0, Timestamp{r[4].AsInt()}});
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace rapport::profile
