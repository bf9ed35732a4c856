#pragma once
// The statements on the read paths with a latency budget (Get, the 360
// view, identifier lookups during import, search), in one place so a test can check
// with EXPLAIN QUERY PLAN that each one is an index lookup or range scan.

#include <string_view>

namespace rapport::customer::sql {

#define RP_RELATIONSHIP_COLUMNS \
  "SELECT id, customer_id, related_id, type, role, valid_from, valid_to, source FROM customer_relationships "
#define RP_ACCOUNT_COLUMNS                                                                                     \
  "SELECT id, customer_id, source, source_key, product, status, opened_at, closed_at, balance, currency FROM " \
  "customer_accounts "
#define RP_TRANSACTION_COLUMNS                                                                                  \
  "SELECT id, customer_id, account_id, source, source_key, occurred_at, channel, location, sku, item, category, " \
  "quantity, amount, currency FROM customer_transactions "
#define RP_INTERACTION_COLUMNS                                                                             \
  "SELECT id, customer_id, source, source_key, occurred_at, agent, department, type, purpose, channel, " \
  "touch_point, direction, reason, campaign, outcome, properties FROM customer_interactions "

inline constexpr std::string_view kCustomerById =
    "SELECT kind, display_name, email, phone, attributes, valid_from, latest_valid_from, created_at, updated_at "
    "FROM customers WHERE id = ?";
inline constexpr std::string_view kSummaryById = "SELECT kind, display_name, email, phone FROM customers WHERE id = ?";
inline constexpr std::string_view kIdentifiersOfCustomer =
    "SELECT scheme, value FROM customer_identifiers WHERE customer_id = ? ORDER BY created_at, scheme, value";
inline constexpr std::string_view kIdentifierOwner =
    "SELECT customer_id FROM customer_identifiers WHERE scheme = ? AND value = ?";
inline constexpr std::string_view kHistoryUpTo =
    "SELECT id, valid_from, recorded_at, source, changes FROM customer_attribute_history "
    "WHERE customer_id = ? AND valid_from <= ? ORDER BY valid_from, recorded_at, id";
inline constexpr std::string_view kHistoryAll =
    "SELECT id, valid_from, recorded_at, source, changes FROM customer_attribute_history "
    "WHERE customer_id = ? ORDER BY valid_from, recorded_at, id";

inline constexpr std::string_view kRelationshipById = RP_RELATIONSHIP_COLUMNS "WHERE id = ?";
inline constexpr std::string_view kRelationshipsFrom =
    RP_RELATIONSHIP_COLUMNS
    "WHERE customer_id = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY valid_from, id LIMIT ?";
inline constexpr std::string_view kRelationshipsTo =
    RP_RELATIONSHIP_COLUMNS
    "WHERE related_id = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY valid_from, id LIMIT ?";

inline constexpr std::string_view kAccountBySourceKey = RP_ACCOUNT_COLUMNS "WHERE source = ? AND source_key = ?";
inline constexpr std::string_view kAccountsOfCustomer =
    RP_ACCOUNT_COLUMNS "WHERE customer_id = ? AND opened_at <= ? ORDER BY opened_at, id";

inline constexpr std::string_view kTransactionBySourceKey =
    RP_TRANSACTION_COLUMNS "WHERE source = ? AND source_key = ?";
inline constexpr std::string_view kRecentTransactions =
    RP_TRANSACTION_COLUMNS "WHERE customer_id = ? AND occurred_at <= ? ORDER BY occurred_at DESC, id DESC LIMIT ?";
// Amounts are integers of 10^-4 (Money). A sum is read in two exact parts,
// whole currency units and the rest, so neither SQLite's integer SUM nor the
// cast of PostgreSQL's numeric SUM can overflow before ~9 * 10^18 units of
// currency; the caller adds them up (TotalOf in view.cc).
#define RP_MONEY_SUM(column) \
  "CAST(COALESCE(SUM(" column " / 10000), 0) AS BIGINT), CAST(COALESCE(SUM(" column " % 10000), 0) AS BIGINT)"
inline constexpr std::string_view kTransactionTotals =
    "SELECT COUNT(*), " RP_MONEY_SUM("amount") ", MIN(CASE WHEN amount > 0 THEN occurred_at END), "
    "MAX(CASE WHEN amount > 0 THEN occurred_at END) FROM customer_transactions "
    "WHERE customer_id = ? AND occurred_at <= ?";
inline constexpr std::string_view kTopItems =
    "SELECT sku, MAX(item), SUM(quantity), " RP_MONEY_SUM("amount") " FROM customer_transactions "
    "WHERE customer_id = ? AND occurred_at <= ? GROUP BY sku "
    "ORDER BY SUM(CAST(amount AS DOUBLE PRECISION)) DESC, sku LIMIT ?";

inline constexpr std::string_view kInteractionBySourceKey =
    RP_INTERACTION_COLUMNS "WHERE source = ? AND source_key = ?";
inline constexpr std::string_view kInteractionById = RP_INTERACTION_COLUMNS "WHERE id = ?";
inline constexpr std::string_view kRecentInteractions =
    RP_INTERACTION_COLUMNS "WHERE customer_id = ? AND occurred_at <= ? ORDER BY occurred_at DESC, id DESC LIMIT ?";

inline constexpr std::string_view kConsentsUpTo =
    "SELECT channel, purpose, granted, at, source FROM customer_consents "
    "WHERE customer_id = ? AND at <= ? ORDER BY channel, purpose, at, id";

// Search (search.cc): the rows of the token table, and of the identifiers of
// one scheme (emails, phones), from a position on and below an upper bound,
// in (token, customer id) order, each with the customer's summary. The
// identifier forms need no customer id in their lower bound: a value
// belongs to one customer.
#define RP_SEARCH_TOKENS                                                                 \
  "SELECT s.token, c.id, c.kind, c.display_name, c.email, c.phone FROM customer_search_tokens s " \
  "JOIN customers c ON c.id = s.customer_id WHERE (s.token, s.customer_id) > (?, ?) "
#define RP_SEARCH_IDENTIFIERS                                                              \
  "SELECT i.value, c.id, c.kind, c.display_name, c.email, c.phone FROM customer_identifiers i " \
  "JOIN customers c ON c.id = i.customer_id WHERE i.scheme = ? AND i.value >= ? "
inline constexpr std::string_view kSearchTokens =
    RP_SEARCH_TOKENS "AND s.token < ? ORDER BY s.token, s.customer_id LIMIT ?";
inline constexpr std::string_view kSearchTokensUnbounded = RP_SEARCH_TOKENS "ORDER BY s.token, s.customer_id LIMIT ?";
inline constexpr std::string_view kSearchIdentifiers = RP_SEARCH_IDENTIFIERS "AND i.value < ? ORDER BY i.value LIMIT ?";
inline constexpr std::string_view kSearchIdentifiersUnbounded = RP_SEARCH_IDENTIFIERS "ORDER BY i.value LIMIT ?";
#undef RP_SEARCH_TOKENS
#undef RP_SEARCH_IDENTIFIERS

#undef RP_RELATIONSHIP_COLUMNS
#undef RP_ACCOUNT_COLUMNS
#undef RP_TRANSACTION_COLUMNS
#undef RP_INTERACTION_COLUMNS

// Every statement above, for the query-plan test.
inline constexpr std::string_view kIndexedReads[] = {
    kCustomerById,       kSummaryById,        kIdentifiersOfCustomer, kIdentifierOwner,     kHistoryUpTo,
    kHistoryAll,         kRelationshipById,   kRelationshipsFrom,     kRelationshipsTo,     kAccountBySourceKey,
    kAccountsOfCustomer, kTransactionBySourceKey, kRecentTransactions, kTransactionTotals,  kTopItems,
    kInteractionBySourceKey, kInteractionById, kRecentInteractions, kConsentsUpTo, kSearchTokens, kSearchTokensUnbounded,
    kSearchIdentifiers, kSearchIdentifiersUnbounded,
};

}  // namespace rapport::customer::sql
