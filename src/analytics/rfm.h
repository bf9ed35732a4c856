#pragma once
// RFM: recency, frequency and monetary value per customer from their
// transactions, each scored 1..5 (quintiles) or by configured bins, and the
// RFM cell ("545"). The oldest and plainest customer-value measure, and the
// one every marketer reads. Pure functions: thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/transactions.h"
#include "common/money.h"
#include "common/status.h"

namespace rapport::analytics {

struct RfmOptions {
  // The day recency is measured to (days since the epoch); nullopt: the
  // day after the last transaction.
  std::optional<int32_t> as_of;
  // Quantile scores 1..bins (5: quintiles) for every measure without edges.
  int bins = 5;
  // Configured bins instead of quantiles: ascending thresholds. Frequency
  // and monetary score 1 + the number of edges <= the value; recency (days)
  // scores edges + 1 - the number of edges <= the value, so recent is high.
  std::vector<double> recency_edges, frequency_edges, monetary_edges;
};

struct RfmRow {
  int32_t customer = 0;      // index into TransactionList::customers
  int32_t recency_days = 0;  // as_of - the day of the last purchase
  int64_t frequency = 0;     // purchases: transactions with an amount >= 0 (negative: refunds)
  Money monetary;            // net: purchases minus refunds
  int r = 0, f = 0, m = 0;   // scores, high is good
  std::string Cell() const;  // "545"
};

struct RfmTable {
  std::vector<RfmRow> rows;  // customers with at least one purchase, in customer order
  int32_t as_of = 0;
  int64_t refund_only = 0;   // customers with refunds but no purchase, left out
  int64_t after_as_of = 0;   // transactions after the as-of day, ignored
};

// Quantile scores rank customers by the measure; customers with the same
// value share the score of the first of them, so ties never split.
// InvalidArgument when bins is not 1..9 or edges are not ascending.
Result<RfmTable> ComputeRfm(const TransactionList& transactions, const RfmOptions& options = {});

}  // namespace rapport::analytics
