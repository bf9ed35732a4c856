// RFM in one pass over the transactions into per-customer arrays (customer
// numbers are dense), then one sort per quantile-scored measure.
#include "analytics/rfm.h"

#include <algorithm>
#include <numeric>

namespace rapport::analytics {
namespace {

Status CheckEdges(const std::vector<double>& edges, const char* field) {
  for (size_t i = 1; i < edges.size(); ++i) {
    if (!(edges[i - 1] < edges[i])) {
      return Status::InvalidArgument(std::string(field) + " edges must be strictly ascending", field);
    }
  }
  return Status::Ok();
}

int EdgeScore(const std::vector<double>& edges, double v) {
  return 1 + static_cast<int>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
}

// Scores 1..bins by rank of key (ascending); equal keys share the score of
// the first of them. higher_is_better flips the order.
template <typename Key>
void QuantileScores(const std::vector<Key>& key, int bins, bool higher_is_better, std::vector<int>* out) {
  const size_t n = key.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return higher_is_better ? key[a] < key[b] : key[a] > key[b];
  });
  out->assign(n, 1);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && key[order[j]] == key[order[i]]) ++j;
    int score = 1 + static_cast<int>(static_cast<uint64_t>(i) * static_cast<uint64_t>(bins) / n);
    for (size_t k = i; k < j; ++k) (*out)[order[k]] = score;
    i = j;
  }
}

}  // namespace

std::string RfmRow::Cell() const { return std::to_string(r) + std::to_string(f) + std::to_string(m); }

Result<RfmTable> ComputeRfm(const TransactionList& list, const RfmOptions& o) {
  if (o.bins < 1 || o.bins > 9) return Status::InvalidArgument("bins must be 1..9", "bins");
  RP_RETURN_IF_ERROR(CheckEdges(o.recency_edges, "recency"));
  RP_RETURN_IF_ERROR(CheckEdges(o.frequency_edges, "frequency"));
  RP_RETURN_IF_ERROR(CheckEdges(o.monetary_edges, "monetary"));
  for (const auto* e : {&o.recency_edges, &o.frequency_edges, &o.monetary_edges}) {
    if (e->size() > 8) return Status::InvalidArgument("at most 8 edges (9 scores)", "edges");
  }
  RfmTable table;
  if (o.as_of) {
    table.as_of = *o.as_of;
  } else {
    int32_t last = INT32_MIN;
    for (const Transaction& t : list.rows) last = std::max(last, t.day);
    table.as_of = list.rows.empty() ? 0 : last + 1;
  }
  const size_t nc = list.customers.size();
  std::vector<int32_t> last(nc, INT32_MIN);
  std::vector<int64_t> freq(nc, 0), net(nc, 0);
  std::vector<uint8_t> seen(nc, 0);
  for (const Transaction& t : list.rows) {
    if (t.day > table.as_of) {
      ++table.after_as_of;
      continue;
    }
    const size_t c = static_cast<size_t>(t.customer);
    seen[c] = 1;
    net[c] += t.amount.units();
    if (t.amount.units() >= 0) {  // a free order is still an order (CDNOW has 80)
      ++freq[c];
      last[c] = std::max(last[c], t.day);
    }
  }
  std::vector<int32_t> recency;
  std::vector<int64_t> frequency, monetary;
  for (size_t c = 0; c < nc; ++c) {
    if (!seen[c]) continue;
    if (freq[c] == 0) {
      ++table.refund_only;
      continue;
    }
    RfmRow row;
    row.customer = static_cast<int32_t>(c);
    row.recency_days = table.as_of - last[c];
    row.frequency = freq[c];
    row.monetary = Money::FromUnits(net[c]);
    table.rows.push_back(row);
    recency.push_back(row.recency_days);
    frequency.push_back(row.frequency);
    monetary.push_back(net[c]);
  }
  std::vector<int> score;
  const size_t n = table.rows.size();
  if (o.recency_edges.empty()) {
    QuantileScores(recency, o.bins, false, &score);
    for (size_t i = 0; i < n; ++i) table.rows[i].r = score[i];
  } else {
    const int top = static_cast<int>(o.recency_edges.size()) + 1;
    for (size_t i = 0; i < n; ++i) table.rows[i].r = top + 1 - EdgeScore(o.recency_edges, recency[i]);
  }
  if (o.frequency_edges.empty()) {
    QuantileScores(frequency, o.bins, true, &score);
    for (size_t i = 0; i < n; ++i) table.rows[i].f = score[i];
  } else {
    for (size_t i = 0; i < n; ++i) table.rows[i].f = EdgeScore(o.frequency_edges, static_cast<double>(frequency[i]));
  }
  if (o.monetary_edges.empty()) {
    QuantileScores(monetary, o.bins, true, &score);
    for (size_t i = 0; i < n; ++i) table.rows[i].m = score[i];
  } else {
    for (size_t i = 0; i < n; ++i) table.rows[i].m = EdgeScore(o.monetary_edges, table.rows[i].monetary.ToDouble());
  }
  return table;
}

}  // namespace rapport::analytics
