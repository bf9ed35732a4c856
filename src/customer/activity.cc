// Relationships, accounts, transactions, interactions and consents: the
// records that hang off a customer, single and in batches.

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/json.h"
#include "common/text.h"
#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "customer/internal/queries.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;
using storage::QueryResult;
using storage::Value;

namespace {

bool IsSnakeName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'); }) &&
         s.front() >= 'a' && s.front() <= 'z';
}

std::string Field(std::string_view at, std::string_view name) { return std::string(at) + "/" + std::string(name); }

Status CheckCurrency(std::string& c, std::string_view at) {
  auto code = NormalizeCurrency(c);
  if (!code.ok()) return Status::InvalidArgument(code.status().message(), Field(at, "currency"));
  c = std::move(*code);
  return Status::Ok();
}

Status CheckSource(const std::string& source, std::string_view at = "") {
  if (source.empty()) return Status::InvalidArgument("a source is required", Field(at, "source"));
  if (source.size() > 64) return Status::InvalidArgument("a source is at most 64 bytes", Field(at, "source"));
  return text::CheckIdentifier(source, Field(at, "source"));
}

Status CheckKey(const std::string& key, std::string_view at) {
  if (key.size() > 256) return Status::InvalidArgument("a source key is at most 256 bytes", Field(at, "sourceKey"));
  return text::CheckIdentifier(key, Field(at, "sourceKey"));
}

// Free text fields, each with the name the API gives it.
Status CheckTexts(std::initializer_list<std::pair<std::string_view, const std::string*>> fields, std::string_view at) {
  for (const auto& [name, value] : fields) RP_RETURN_IF_ERROR(text::CheckText(*value, Field(at, name)));
  return Status::Ok();
}

Status CheckTime(Timestamp t, std::string_view field) {
  int64_t year;
  unsigned month, day;
  CivilFromDays(t.micros / kMicrosPerDay, &year, &month, &day);
  Status s = CheckYear(year);
  return s.ok() ? s : Status::InvalidArgument(s.message(), std::string(field));
}

Status CheckMoney(Money m, std::string_view field) {
  if (m.units() > Money::kMaxUnits || m.units() < -Money::kMaxUnits) {
    return Status::InvalidArgument("amounts are at most 100000000000 in magnitude", std::string(field));
  }
  return Status::Ok();
}

Value OptionalKey(const std::string& key) { return key.empty() ? Value() : Value(key); }
Value OptionalTime(const std::optional<Timestamp>& t) { return t ? Value(t->micros) : Value(); }
std::optional<Timestamp> TimeOrNone(const Value& v) {
  return v.is_null() ? std::nullopt : std::optional<Timestamp>(Timestamp{v.AsInt()});
}

Relationship RelationshipFromRow(const storage::Row& row) {
  Relationship r;
  r.id = row[0].AsInt();
  r.from = row[1].AsInt();
  r.to = row[2].AsInt();
  r.type = row[3].AsText();
  r.role = row[4].AsText();
  r.valid_from = {row[5].AsInt()};
  r.valid_to = TimeOrNone(row[6]);
  r.source = row[7].AsText();
  return r;
}

Account AccountFromRow(const storage::Row& row) {
  Account a;
  a.id = row[0].AsInt();
  a.customer_id = row[1].AsInt();
  a.source = row[2].AsText();
  a.source_key = row[3].AsText();
  a.product = row[4].AsText();
  a.status = row[5].AsText();
  a.opened_at = {row[6].AsInt()};
  a.closed_at = TimeOrNone(row[7]);
  a.balance = Money::FromUnits(row[8].AsInt());
  a.currency = row[9].AsText();
  return a;
}

Transaction TransactionFromRow(const storage::Row& row) {
  Transaction t;
  t.id = row[0].AsInt();
  t.customer_id = row[1].AsInt();
  if (!row[2].is_null()) t.account_id = row[2].AsInt();
  t.source = row[3].AsText();
  t.source_key = row[4].AsText();
  t.occurred_at = {row[5].AsInt()};
  t.channel = row[6].AsText();
  t.location = row[7].AsText();
  t.sku = row[8].AsText();
  t.item = row[9].AsText();
  t.category = row[10].AsText();
  t.quantity = row[11].AsDouble();
  t.amount = Money::FromUnits(row[12].AsInt());
  t.currency = row[13].AsText();
  return t;
}

Interaction InteractionFromRow(const storage::Row& row) {
  Interaction i;
  i.id = row[0].AsInt();
  i.customer_id = row[1].AsInt();
  i.source = row[2].AsText();
  i.source_key = row[3].AsText();
  i.occurred_at = {row[4].AsInt()};
  i.agent = row[5].AsText();
  i.department = row[6].AsText();
  i.type = row[7].AsText();
  i.purpose = row[8].AsText();
  i.channel = row[9].AsText();
  i.touch_point = row[10].AsText();
  i.direction = row[11].AsText();
  i.reason = row[12].AsText();
  i.campaign = row[13].AsText();
  i.outcome = row[14].AsText();
  i.properties_json = row[15].AsText();
  return i;
}

}  // namespace

Result<CustomerId> CustomerStore::Impl::ResolveCustomer(Connection& c, CustomerId id, const Identifier& ident) {
  if (id != 0) {
    RP_RETURN_IF_ERROR(CheckCustomerExists(c, id, "/customerId"));
    return id;
  }
  auto n = NormalizeIdentifier(ident);
  if (!n.ok()) return Status::InvalidArgument(n.status().message(), "/customer");
  RP_ASSIGN_OR_RETURN(std::optional<CustomerId> owner, OwnerOf(c, *n));
  if (!owner) return Status::NotFound("no customer has identifier " + n->ToString(), "/customer");
  return *owner;
}

// The kinds each built-in relationship type joins.
struct RelationshipRule {
  std::string_view type;
  Kind from, to;
};
constexpr RelationshipRule kRelationshipRules[] = {
    {"member_of", Kind::kPerson, Kind::kHousehold},
    {"works_for", Kind::kPerson, Kind::kOrganization},
    {"subsidiary_of", Kind::kOrganization, Kind::kOrganization},
};

// ---- relationships ----------------------------------------------------------

namespace {

// A relationship changes both its ends (a household's aggregates follow its
// members): one change for each.
Changes RelationshipChanges(const char* kind, const Relationship& r) {
  json::Writer w;
  w.StartObject().Field("type", r.type).Field("from", r.from).Field("to", r.to).EndObject();
  std::string data = w.Take();
  Changes out;
  AddChange(out, kind, r.from, "relationship", std::to_string(r.id), data);
  AddChange(out, kind, r.to, "relationship", std::to_string(r.id), data);
  return out;
}

}  // namespace

Result<Relationship> CustomerStore::AddRelationship(Relationship r) {
  if (!IsSnakeName(r.type)) {
    return Status::InvalidArgument("relationship types are lower-case words joined by '_' (member_of)", "/type");
  }
  if (r.role.size() > 128) return Status::InvalidArgument("a role is at most 128 bytes", "/role");
  RP_RETURN_IF_ERROR(text::CheckText(r.role, "/role"));
  if (r.source.empty()) r.source = "api";
  RP_RETURN_IF_ERROR(CheckSource(r.source));
  Timestamp now = impl_->clock->Now();
  if (r.valid_from.micros == 0) r.valid_from = now;
  RP_RETURN_IF_ERROR(CheckTime(r.valid_from, "/validFrom"));
  if (r.valid_to) RP_RETURN_IF_ERROR(CheckTime(*r.valid_to, "/validTo"));
  if (r.valid_to && *r.valid_to <= r.valid_from) {
    return Status::InvalidArgument("validTo must be after validFrom", "/validTo");
  }
  if (r.from == r.to) return Status::Unprocessable("a customer cannot be related to itself", "/to");
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    auto load = [&](CustomerId id, const char* field) -> Result<Kind> {
      auto s = impl_->LoadSummary(c, id);
      if (!s.ok()) {
        if (s.status().IsNotFound()) return Status::NotFound("customer " + std::to_string(id) + " does not exist", field);
        return s.status();
      }
      return s->kind;
    };
    RP_ASSIGN_OR_RETURN(Kind from_kind, load(r.from, "/from"));
    RP_ASSIGN_OR_RETURN(Kind to_kind, load(r.to, "/to"));
    for (const RelationshipRule& rule : kRelationshipRules) {
      if (rule.type != r.type) continue;
      if (from_kind != rule.from || to_kind != rule.to) {
        return Status::Unprocessable(r.type + " joins a " + std::string(KindName(rule.from)) + " to a " +
                                         std::string(KindName(rule.to)) + "; got a " +
                                         std::string(KindName(from_kind)) + " and a " + std::string(KindName(to_kind)),
                                     "/type");
      }
    }
    RP_ASSIGN_OR_RETURN(QueryResult open,
                        c.Query("SELECT id FROM customer_relationships WHERE customer_id = ? AND type = ? AND "
                                "related_id = ? AND valid_to IS NULL",
                                {r.from, r.type, r.to}));
    if (!open.empty() && !r.valid_to) {
      return Status::Conflict("customer " + std::to_string(r.from) + " already has an open " + r.type +
                                  " relationship to " + std::to_string(r.to) + " (id " +
                                  std::to_string(open.rows[0][0].AsInt()) + ")",
                              "/to");
    }
    RP_ASSIGN_OR_RETURN(QueryResult ins,
                        c.Query("INSERT INTO customer_relationships (customer_id, related_id, type, role, valid_from, "
                                "valid_to, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                {r.from, r.to, r.type, r.role, r.valid_from.micros, OptionalTime(r.valid_to), r.source,
                                 now.micros}));
    r.id = ins.rows.at(0)[0].AsInt();
    return storage::AppendChanges(c, RelationshipChanges("relationship.added", r), now);
  }));
  return r;
}

Result<Relationship> CustomerStore::EndRelationship(int64_t relationship_id, Timestamp at) {
  Relationship out;
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kRelationshipById, {relationship_id}));
    if (r.empty()) {
      return Status::NotFound("relationship " + std::to_string(relationship_id) + " does not exist",
                              "/relationshipId");
    }
    out = RelationshipFromRow(r.rows[0]);
    if (out.valid_to) {
      return Status::Conflict("relationship " + std::to_string(relationship_id) + " already ended at " +
                                  FormatRfc3339(*out.valid_to),
                              "/validTo");
    }
    if (at <= out.valid_from) {
      return Status::Unprocessable("a relationship cannot end before it starts (" + FormatRfc3339(out.valid_from) + ")",
                                   "/validTo");
    }
    out.valid_to = at;
    RP_RETURN_IF_ERROR(
        c.Execute("UPDATE customer_relationships SET valid_to = ? WHERE id = ?", {at.micros, relationship_id}).status());
    return storage::AppendChanges(c, RelationshipChanges("relationship.ended", out), impl_->clock->Now());
  }));
  return out;
}

// ---- accounts -------------------------------------------------------------------

namespace {

Status ValidateAccount(Account& a, Timestamp now) {
  RP_RETURN_IF_ERROR(CheckSource(a.source));
  if (a.source_key.empty()) return Status::InvalidArgument("an account needs the source's key", "/sourceKey");
  RP_RETURN_IF_ERROR(CheckKey(a.source_key, ""));
  if (a.status.empty()) return Status::InvalidArgument("an account needs a status", "/status");
  RP_RETURN_IF_ERROR(CheckTexts({{"product", &a.product}, {"status", &a.status}}, ""));
  RP_RETURN_IF_ERROR(CheckCurrency(a.currency, ""));
  RP_RETURN_IF_ERROR(CheckMoney(a.balance, "/balance"));
  if (a.opened_at.micros == 0) a.opened_at = now;
  RP_RETURN_IF_ERROR(CheckTime(a.opened_at, "/openedAt"));
  if (a.closed_at) RP_RETURN_IF_ERROR(CheckTime(*a.closed_at, "/closedAt"));
  if (a.closed_at && *a.closed_at < a.opened_at) {
    return Status::InvalidArgument("an account cannot close before it opens", "/closedAt");
  }
  return Status::Ok();
}

// Writes a validated account whose customer exists. Returns the action taken.
Result<UpsertOutcome::Action> WriteAccount(Connection& c, Account& a, Timestamp now) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kAccountBySourceKey, {a.source, a.source_key}));
  if (!r.empty()) {
    Account old = AccountFromRow(r.rows[0]);
    a.id = old.id;
    if (old.customer_id == a.customer_id && old.product == a.product && old.status == a.status &&
        old.opened_at == a.opened_at && old.closed_at == a.closed_at && old.balance == a.balance &&
        old.currency == a.currency) {
      return UpsertOutcome::Action::kUnchanged;
    }
    RP_RETURN_IF_ERROR(c.Execute("UPDATE customer_accounts SET customer_id = ?, product = ?, status = ?, "
                                 "opened_at = ?, closed_at = ?, balance = ?, currency = ?, updated_at = ? WHERE id = ?",
                                 {a.customer_id, a.product, a.status, a.opened_at.micros, OptionalTime(a.closed_at),
                                  a.balance.units(), a.currency, now.micros, a.id})
                           .status());
    return UpsertOutcome::Action::kUpdated;
  }
  RP_ASSIGN_OR_RETURN(QueryResult ins,
                      c.Query("INSERT INTO customer_accounts (customer_id, source, source_key, product, status, "
                              "opened_at, closed_at, balance, currency, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                              "RETURNING id",
                              {a.customer_id, a.source, a.source_key, a.product, a.status, a.opened_at.micros,
                               OptionalTime(a.closed_at), a.balance.units(), a.currency, now.micros}));
  a.id = ins.rows.at(0)[0].AsInt();
  return UpsertOutcome::Action::kCreated;
}

// ---- transactions and interactions ---------------------------------------------

}  // namespace

Status ValidateTransaction(Transaction& t, Timestamp now, std::string_view at) {
  RP_RETURN_IF_ERROR(CheckSource(t.source, at));
  RP_RETURN_IF_ERROR(CheckKey(t.source_key, at));
  RP_RETURN_IF_ERROR(CheckTexts({{"channel", &t.channel},
                                 {"location", &t.location},
                                 {"sku", &t.sku},
                                 {"item", &t.item},
                                 {"category", &t.category}},
                                at));
  RP_RETURN_IF_ERROR(CheckCurrency(t.currency, at));
  RP_RETURN_IF_ERROR(CheckMoney(t.amount, Field(at, "amount")));
  // A count of items: a purchase (amount >= 0) buys more than none; a
  // refund (a negative amount) may count its returned items either way
  // (the demo's files say -2, Segment's Order Refunded says 2).
  if (!std::isfinite(t.quantity) || std::fabs(t.quantity) > 1e9 || t.quantity == 0 ||
      (t.quantity < 0 && t.amount.units() >= 0)) {
    return Status::InvalidArgument("quantity must be above 0 and at most 1000000000 (only a refund, a negative "
                                   "amount, may have a negative quantity)",
                                   Field(at, "quantity"));
  }
  if (t.occurred_at.micros == 0) t.occurred_at = now;
  return CheckTime(t.occurred_at, Field(at, "occurredAt"));
}

namespace {

Result<UpsertOutcome::Action> WriteTransaction(Connection& c, Transaction& t, Timestamp now) {
  if (t.account_id) {
    RP_ASSIGN_OR_RETURN(QueryResult acc, c.Query("SELECT customer_id FROM customer_accounts WHERE id = ?", {*t.account_id}));
    if (acc.empty()) return Status::NotFound("account " + std::to_string(*t.account_id) + " does not exist", "/accountId");
    if (acc.rows[0][0].AsInt() != t.customer_id) {
      return Status::Unprocessable("account " + std::to_string(*t.account_id) + " belongs to another customer",
                                   "/accountId");
    }
  }
  RP_ASSIGN_OR_RETURN(
      QueryResult ins,
      c.Query("INSERT INTO customer_transactions (customer_id, account_id, source, source_key, occurred_at, channel, "
              "location, sku, item, category, quantity, amount, currency, recorded_at) VALUES "
              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_key) DO NOTHING RETURNING id",
              {t.customer_id, t.account_id ? Value(*t.account_id) : Value(), t.source, OptionalKey(t.source_key),
               t.occurred_at.micros, t.channel, t.location, t.sku, t.item, t.category, t.quantity, t.amount.units(),
               t.currency, now.micros}));
  if (!ins.empty()) {
    t.id = ins.rows[0][0].AsInt();
    return UpsertOutcome::Action::kCreated;
  }
  // Already imported: the stored row is the answer.
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kTransactionBySourceKey, {t.source, t.source_key}));
  if (r.empty()) return Status::Internal("transaction conflict without a stored row");
  Transaction stored = TransactionFromRow(r.rows[0]);
  if (stored.customer_id != t.customer_id) {
    return Status::Conflict("transaction " + t.source + ":" + t.source_key + " belongs to customer " +
                                std::to_string(stored.customer_id),
                            "/sourceKey");
  }
  t = std::move(stored);
  return UpsertOutcome::Action::kUnchanged;
}

Status ValidateInteraction(Interaction& i, Timestamp now) {
  RP_RETURN_IF_ERROR(CheckSource(i.source));
  RP_RETURN_IF_ERROR(CheckKey(i.source_key, ""));
  RP_RETURN_IF_ERROR(CheckTexts({{"agent", &i.agent},
                                 {"department", &i.department},
                                 {"type", &i.type},
                                 {"purpose", &i.purpose},
                                 {"channel", &i.channel},
                                 {"touchPoint", &i.touch_point},
                                 {"direction", &i.direction},
                                 {"reason", &i.reason},
                                 {"campaign", &i.campaign},
                                 {"outcome", &i.outcome}},
                                ""));
  if (i.properties_json.empty()) i.properties_json = "{}";
  if (!internal::IsJsonObject(i.properties_json)) {
    return Status::InvalidArgument("properties must be a JSON object", "/properties");
  }
  if (i.occurred_at.micros == 0) i.occurred_at = now;
  return CheckTime(i.occurred_at, "/occurredAt");
}

Result<UpsertOutcome::Action> WriteInteraction(Connection& c, Interaction& i, Timestamp now) {
  RP_ASSIGN_OR_RETURN(
      QueryResult ins,
      c.Query("INSERT INTO customer_interactions (customer_id, source, source_key, occurred_at, agent, department, "
              "type, purpose, channel, touch_point, direction, reason, campaign, outcome, properties, recorded_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_key) DO NOTHING "
              "RETURNING id",
              {i.customer_id, i.source, OptionalKey(i.source_key), i.occurred_at.micros, i.agent, i.department,
               i.type, i.purpose, i.channel, i.touch_point, i.direction, i.reason, i.campaign, i.outcome,
               i.properties_json, now.micros}));
  if (!ins.empty()) {
    i.id = ins.rows[0][0].AsInt();
    return UpsertOutcome::Action::kCreated;
  }
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kInteractionBySourceKey, {i.source, i.source_key}));
  if (r.empty()) return Status::Internal("interaction conflict without a stored row");
  Interaction stored = InteractionFromRow(r.rows[0]);
  if (stored.customer_id != i.customer_id) {
    return Status::Conflict("interaction " + i.source + ":" + i.source_key + " belongs to customer " +
                                std::to_string(stored.customer_id),
                            "/sourceKey");
  }
  i = std::move(stored);
  return UpsertOutcome::Action::kUnchanged;
}

void Count(CustomerStore::BatchResult* out, UpsertOutcome::Action a) {
  switch (a) {
    case UpsertOutcome::Action::kCreated: ++out->created; break;
    case UpsertOutcome::Action::kUpdated: ++out->updated; break;
    case UpsertOutcome::Action::kUnchanged: ++out->unchanged; break;
  }
}

// The change an account, transaction or interaction write makes, if any.
void AddAccountChange(Changes& out, UpsertOutcome::Action action, const Account& a) {
  if (action == UpsertOutcome::Action::kUnchanged) return;
  json::Writer w;
  w.StartObject().Field("source", a.source).Field("sourceKey", a.source_key).Field("status", a.status).EndObject();
  AddChange(out, action == UpsertOutcome::Action::kCreated ? "account.created" : "account.updated", a.customer_id,
            "account", std::to_string(a.id), w.Take());
}
void AddTransactionChange(Changes& out, UpsertOutcome::Action action, const Transaction& t) {
  if (action != UpsertOutcome::Action::kCreated) return;
  json::Writer w;
  w.StartObject().Field("source", t.source).Field("amount", t.amount).Field("currency", t.currency).EndObject();
  AddChange(out, "transaction.added", t.customer_id, "transaction", std::to_string(t.id), w.Take());
}
void AddInteractionChange(Changes& out, UpsertOutcome::Action action, const Interaction& i) {
  if (action != UpsertOutcome::Action::kCreated) return;
  json::Writer w;
  w.StartObject().Field("source", i.source).Field("type", i.type).Field("channel", i.channel).EndObject();
  AddChange(out, "interaction.added", i.customer_id, "interaction", std::to_string(i.id), w.Take());
}

// Runs write(row, changes) for every row in one transaction, collecting
// per-row errors, and appends the changes of the rows written at its end.
template <typename Row, typename Fn>
Result<CustomerStore::BatchResult> RunBatch(storage::Database& db, const std::vector<Row>& rows, Timestamp now,
                                            Fn write) {
  CustomerStore::BatchResult out;
  out.errors.assign(rows.size(), Status::Ok());
  RP_RETURN_IF_ERROR(db.WithTransaction([&](Connection& c) -> Status {
    Changes changes;
    for (size_t i = 0; i < rows.size(); ++i) {
      Result<UpsertOutcome::Action> r = write(c, rows[i], changes);
      if (r.ok()) {
        Count(&out, *r);
      } else if (IsRecordError(r.status())) {
        out.errors[i] = r.status();
      } else {
        return r.status();
      }
    }
    return storage::AppendChanges(c, changes, now);
  }));
  return out;
}

}  // namespace

Result<Account> CustomerStore::UpsertAccount(Account a) {
  Timestamp now = impl_->clock->Now();
  RP_RETURN_IF_ERROR(ValidateAccount(a, now));
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(impl_->CheckCustomerExists(c, a.customer_id, "/customerId"));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteAccount(c, a, now));
    Changes changes;
    AddAccountChange(changes, action, a);
    return storage::AppendChanges(c, changes, now);
  }));
  return a;
}

Result<Transaction> CustomerStore::AddTransaction(Transaction t) {
  Timestamp now = impl_->clock->Now();
  RP_RETURN_IF_ERROR(ValidateTransaction(t, now, ""));
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(impl_->CheckCustomerExists(c, t.customer_id, "/customerId"));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteTransaction(c, t, now));
    Changes changes;
    AddTransactionChange(changes, action, t);
    return storage::AppendChanges(c, changes, now);
  }));
  return t;
}

Result<Interaction> CustomerStore::AddInteraction(Interaction i) {
  Timestamp now = impl_->clock->Now();
  RP_RETURN_IF_ERROR(ValidateInteraction(i, now));
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(impl_->CheckCustomerExists(c, i.customer_id, "/customerId"));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteInteraction(c, i, now));
    Changes changes;
    AddInteractionChange(changes, action, i);
    return storage::AppendChanges(c, changes, now);
  }));
  return i;
}

Result<Consent> CustomerStore::SetConsent(Consent consent) {
  if (!IsSnakeName(consent.channel)) {
    return Status::InvalidArgument("a consent channel is a lower-case word such as email or sms", "/channel");
  }
  if (!IsSnakeName(consent.purpose)) {
    return Status::InvalidArgument("a consent purpose is a lower-case word such as marketing", "/purpose");
  }
  if (consent.source.empty()) consent.source = "api";
  RP_RETURN_IF_ERROR(CheckSource(consent.source));
  Timestamp now = impl_->clock->Now();
  if (consent.at.micros == 0) consent.at = now;
  RP_RETURN_IF_ERROR(CheckTime(consent.at, "/at"));
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](Connection& c) -> Status {
    RP_RETURN_IF_ERROR(impl_->CheckCustomerExists(c, consent.customer_id, "/customerId"));
    RP_ASSIGN_OR_RETURN(QueryResult ins,
                        c.Query("INSERT INTO customer_consents (customer_id, channel, purpose, granted, at, source, "
                                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                {consent.customer_id, consent.channel, consent.purpose, consent.granted,
                                 consent.at.micros, consent.source, now.micros}));
    json::Writer w;
    w.StartObject()
        .Field("channel", consent.channel)
        .Field("purpose", consent.purpose)
        .Field("granted", consent.granted)
        .TimeField("at", consent.at)
        .EndObject();
    Changes changes;
    AddChange(changes, "consent.set", consent.customer_id, "consent", std::to_string(ins.rows.at(0)[0].AsInt()),
              w.Take());
    return storage::AppendChanges(c, changes, now);
  }));
  return consent;
}

Result<CustomerStore::BatchResult> CustomerStore::UpsertAccounts(const std::vector<std::pair<Identifier, Account>>& rows) {
  Timestamp now = impl_->clock->Now();
  return RunBatch(*impl_->db, rows, now, [&](Connection& c, const std::pair<Identifier, Account>& row,
                                             Changes& changes) -> Result<UpsertOutcome::Action> {
    Account a = row.second;
    RP_RETURN_IF_ERROR(ValidateAccount(a, now));
    RP_ASSIGN_OR_RETURN(a.customer_id, impl_->ResolveCustomer(c, a.customer_id, row.first));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteAccount(c, a, now));
    AddAccountChange(changes, action, a);
    return action;
  });
}

Result<CustomerStore::BatchResult> CustomerStore::AddTransactions(
    const std::vector<std::pair<Identifier, Transaction>>& rows) {
  Timestamp now = impl_->clock->Now();
  return RunBatch(*impl_->db, rows, now, [&](Connection& c, const std::pair<Identifier, Transaction>& row,
                                             Changes& changes) -> Result<UpsertOutcome::Action> {
    Transaction t = row.second;
    RP_RETURN_IF_ERROR(ValidateTransaction(t, now, ""));
    RP_ASSIGN_OR_RETURN(t.customer_id, impl_->ResolveCustomer(c, t.customer_id, row.first));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteTransaction(c, t, now));
    AddTransactionChange(changes, action, t);
    return action;
  });
}

Result<CustomerStore::BatchResult> CustomerStore::AddInteractions(
    const std::vector<std::pair<Identifier, Interaction>>& rows) {
  Timestamp now = impl_->clock->Now();
  return RunBatch(*impl_->db, rows, now, [&](Connection& c, const std::pair<Identifier, Interaction>& row,
                                             Changes& changes) -> Result<UpsertOutcome::Action> {
    Interaction i = row.second;
    RP_RETURN_IF_ERROR(ValidateInteraction(i, now));
    RP_ASSIGN_OR_RETURN(i.customer_id, impl_->ResolveCustomer(c, i.customer_id, row.first));
    RP_ASSIGN_OR_RETURN(UpsertOutcome::Action action, WriteInteraction(c, i, now));
    AddInteractionChange(changes, action, i);
    return action;
  });
}

// ---- reads for the 360 view ------------------------------------------------------

Result<std::vector<Relationship>> LoadRelationships(Connection& c, CustomerId id, bool outgoing, Timestamp at,
                                                    int64_t limit) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(outgoing ? sql::kRelationshipsFrom : sql::kRelationshipsTo,
                                             {id, at.micros, at.micros, limit}));
  std::vector<Relationship> out;
  for (const auto& row : r.rows) out.push_back(RelationshipFromRow(row));
  return out;
}

Result<std::vector<Account>> LoadAccounts(Connection& c, CustomerId id, Timestamp at) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kAccountsOfCustomer, {id, at.micros}));
  std::vector<Account> out;
  for (const auto& row : r.rows) out.push_back(AccountFromRow(row));
  return out;
}

Result<std::vector<Transaction>> LoadRecentTransactions(Connection& c, CustomerId id, Timestamp at, int64_t limit) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kRecentTransactions, {id, at.micros, limit}));
  std::vector<Transaction> out;
  for (const auto& row : r.rows) out.push_back(TransactionFromRow(row));
  return out;
}

Result<Interaction> CustomerStore::GetInteraction(int64_t id) {
  Interaction out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kInteractionById, {id}));
    if (r.empty()) return Status::NotFound("interaction " + std::to_string(id) + " does not exist", "id");
    out = InteractionFromRow(r.rows[0]);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Interaction>> LoadRecentInteractions(Connection& c, CustomerId id, Timestamp at, int64_t limit) {
  RP_ASSIGN_OR_RETURN(QueryResult r, c.Query(sql::kRecentInteractions, {id, at.micros, limit}));
  std::vector<Interaction> out;
  for (const auto& row : r.rows) out.push_back(InteractionFromRow(row));
  return out;
}

}  // namespace rapport::customer
