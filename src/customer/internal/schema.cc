#include "customer/internal/schema.h"

#include <string>

namespace rapport::customer::internal {
namespace {

// Replaces every occurrence of `from` in sql by `to`.
std::string Replace(std::string sql, std::string_view from, std::string_view to) {
  for (size_t pos = sql.find(from); pos != std::string::npos; pos = sql.find(from, pos + to.size())) {
    sql.replace(pos, from.size(), to);
  }
  return sql;
}

// {ID}: a generated 64-bit primary key. {CLUSTERED}: the table is stored in
// primary-key order (SQLite WITHOUT ROWID; PostgreSQL has no equivalent and
// does not need it). {TOKEN}: text compared bytewise, so prefix ranges work.
constexpr const char* kV1 = R"sql(
CREATE TABLE customer_attribute_catalog (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  pii INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT '',
  builtin INTEGER NOT NULL DEFAULT 0
);

-- Current state, one row per customer. attributes is the JSON object of the
-- values valid now (the fold of customer_attribute_history); display_name,
-- email and phone are derived from it for lists and search.
CREATE TABLE customers (
  id {ID},
  kind TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}',
  valid_from BIGINT NOT NULL,
  latest_valid_from BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Append-only bitemporal history: each row asserts that from valid_from on
-- the listed attributes had these values (null: removed), according to
-- source, as recorded at recorded_at. One row per write and customer.
-- History, identifiers and search tokens are written only together with
-- their customers row, in the same transaction, so they carry no foreign
-- key: checking one per row cost a fifth of bulk-import throughput.
CREATE TABLE customer_attribute_history (
  id {ID},
  customer_id BIGINT NOT NULL,
  valid_from BIGINT NOT NULL,
  recorded_at BIGINT NOT NULL,
  source TEXT NOT NULL,
  changes TEXT NOT NULL
);
CREATE INDEX customer_attribute_history_by_customer ON customer_attribute_history (customer_id);

CREATE TABLE customer_identifiers (
  scheme TEXT NOT NULL,
  value TEXT NOT NULL,
  customer_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (scheme, value)
){CLUSTERED};
CREATE INDEX customer_identifiers_by_customer ON customer_identifiers (customer_id);

-- Normalized search tokens: lower-cased name words, the email and the phone.
CREATE TABLE customer_search_tokens (
  token {TOKEN} NOT NULL,
  customer_id BIGINT NOT NULL,
  PRIMARY KEY (token, customer_id)
){CLUSTERED};

CREATE TABLE customer_relationships (
  id {ID},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  related_id BIGINT NOT NULL REFERENCES customers(id),
  type TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  valid_from BIGINT NOT NULL,
  valid_to BIGINT,
  source TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
CREATE INDEX customer_relationships_from ON customer_relationships (customer_id, type, valid_from);
CREATE INDEX customer_relationships_to ON customer_relationships (related_id, type, valid_from);

CREATE TABLE customer_accounts (
  id {ID},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  source TEXT NOT NULL,
  source_key TEXT NOT NULL,
  product TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  opened_at BIGINT NOT NULL,
  closed_at BIGINT,
  balance DOUBLE PRECISION NOT NULL DEFAULT 0,
  currency TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (source, source_key)
);
CREATE INDEX customer_accounts_by_customer ON customer_accounts (customer_id, opened_at);

-- source_key is NULL when the source has no key: NULLs never collide.
CREATE TABLE customer_transactions (
  id {ID},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  account_id BIGINT REFERENCES customer_accounts(id),
  source TEXT NOT NULL,
  source_key TEXT,
  occurred_at BIGINT NOT NULL,
  channel TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT '',
  sku TEXT NOT NULL DEFAULT '',
  item TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL DEFAULT '',
  quantity DOUBLE PRECISION NOT NULL,
  amount DOUBLE PRECISION NOT NULL,
  currency TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  UNIQUE (source, source_key)
);
CREATE INDEX customer_transactions_by_customer ON customer_transactions (customer_id, occurred_at);

CREATE TABLE customer_interactions (
  id {ID},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  source TEXT NOT NULL,
  source_key TEXT,
  occurred_at BIGINT NOT NULL,
  agent TEXT NOT NULL DEFAULT '',
  department TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL DEFAULT '',
  purpose TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  touch_point TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  campaign TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  properties TEXT NOT NULL DEFAULT '{}',
  recorded_at BIGINT NOT NULL,
  UNIQUE (source, source_key)
);
CREATE INDEX customer_interactions_by_customer ON customer_interactions (customer_id, occurred_at);

-- Every consent change; the state at a time is the latest row per
-- (channel, purpose) at or before it.
CREATE TABLE customer_consents (
  id {ID},
  customer_id BIGINT NOT NULL REFERENCES customers(id),
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  granted INTEGER NOT NULL,
  at BIGINT NOT NULL,
  source TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
CREATE INDEX customer_consents_by_customer ON customer_consents (customer_id, channel, purpose, at);

INSERT INTO customer_attribute_catalog (name, type, pii, description, builtin) VALUES
  ('firstName', 'string', 1, 'Given name of a person', 1),
  ('lastName', 'string', 1, 'Family name of a person', 1),
  ('name', 'string', 1, 'Full name of a person, or the name of a household or organization', 1),
  ('birthDate', 'date', 1, 'Date of birth', 1),
  ('gender', 'string', 0, 'Gender as stated by the customer', 1),
  ('email', 'string', 1, 'Preferred email address', 1),
  ('phone', 'string', 1, 'Preferred phone number, +digits', 1),
  ('street', 'string', 1, 'Street and house number', 1),
  ('city', 'string', 0, 'City', 1),
  ('postcode', 'string', 0, 'Postal code', 1),
  ('region', 'string', 0, 'State, province or region', 1),
  ('country', 'string', 0, 'Country, ISO 3166-1 alpha-2', 1),
  ('timeZone', 'string', 0, 'IANA time zone, e.g. Europe/Berlin', 1),
  ('language', 'string', 0, 'Preferred language, BCP 47', 1),
  ('industry', 'string', 0, 'Industry of an organization', 1),
  ('employees', 'integer', 0, 'Number of employees of an organization', 1),
  ('annualRevenue', 'number', 0, 'Annual revenue of an organization', 1),
  ('segment', 'string', 0, 'Business segment the customer is managed in', 1);
)sql";

// Search finds emails and phones through the identifier index; the search
// tokens equal to one of the customer's email or phone identifiers were a
// second copy of that index, and a bulk import paid for both. {VALUE_C}:
// PostgreSQL compares identifier values bytewise from now on, so their index
// serves prefix ranges in the order of the token table.
constexpr const char* kV2 = R"sql(
DELETE FROM customer_search_tokens WHERE EXISTS (
  SELECT 1 FROM customer_identifiers i
  WHERE i.scheme IN ('email', 'phone') AND i.value = customer_search_tokens.token
    AND i.customer_id = customer_search_tokens.customer_id);
{VALUE_C}
)sql";

// Money becomes exact: amounts and balances were binary doubles (a sum of
// cents showed 753811.9299999997, and 1e308 was storable); they are now
// integers of 10^-4 currency units (common/money.h). Existing values are
// rounded to 10^-4 and clamped to the range Money accepts (+-10^11), which
// only values the new checks refuse ever exceeded. SQLite cannot change a
// column's type, so it adds the integer column, fills it, and swaps names.
constexpr const char* kV3Sqlite = R"sql(
ALTER TABLE customer_transactions ADD COLUMN amount_units BIGINT NOT NULL DEFAULT 0;
UPDATE customer_transactions SET amount_units = CAST(ROUND(MIN(MAX(amount, -1e11), 1e11) * 10000) AS INTEGER);
ALTER TABLE customer_transactions DROP COLUMN amount;
ALTER TABLE customer_transactions RENAME COLUMN amount_units TO amount;
ALTER TABLE customer_accounts ADD COLUMN balance_units BIGINT NOT NULL DEFAULT 0;
UPDATE customer_accounts SET balance_units = CAST(ROUND(MIN(MAX(balance, -1e11), 1e11) * 10000) AS INTEGER);
ALTER TABLE customer_accounts DROP COLUMN balance;
ALTER TABLE customer_accounts RENAME COLUMN balance_units TO balance;
)sql";
constexpr const char* kV3Postgres = R"sql(
ALTER TABLE customer_transactions ALTER COLUMN amount TYPE BIGINT
  USING ROUND(LEAST(GREATEST(amount, -1e11), 1e11) * 10000)::BIGINT;
ALTER TABLE customer_accounts ALTER COLUMN balance DROP DEFAULT;
ALTER TABLE customer_accounts ALTER COLUMN balance TYPE BIGINT
  USING ROUND(LEAST(GREATEST(balance, -1e11), 1e11) * 10000)::BIGINT;
ALTER TABLE customer_accounts ALTER COLUMN balance SET DEFAULT 0;
)sql";

}  // namespace

std::vector<storage::Migration> Migrations(storage::Dialect dialect) {
  bool sqlite = dialect == storage::Dialect::kSqlite;
  std::string v1 = kV1;
  v1 = Replace(std::move(v1), "{ID}",
               sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  v1 = Replace(std::move(v1), "{CLUSTERED}", sqlite ? " WITHOUT ROWID" : "");
  v1 = Replace(std::move(v1), "{TOKEN}", sqlite ? "TEXT" : "TEXT COLLATE \"C\"");
  std::string v2 =
      Replace(kV2, "{VALUE_C}",
              sqlite ? "" : "ALTER TABLE customer_identifiers ALTER COLUMN value TYPE TEXT COLLATE \"C\";");
  return {{1, "customers, attribute catalog and history, identifiers, search tokens, relationships, "
              "accounts, transactions, interactions, consents",
           std::move(v1)},
          {2, "emails and phones are searched through the identifier index, not duplicate search tokens",
           std::move(v2)},
          {3, "amounts and balances are exact integers of 10^-4 currency units, not doubles",
           sqlite ? kV3Sqlite : kV3Postgres}};
}

}  // namespace rapport::customer::internal
