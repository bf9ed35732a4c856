// Clustering accepted links (union-find), quality against a known truth, and
// survivorship of attribute values into the golden record.
#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

#include "identity/identity.h"

namespace rapport::identity {

std::vector<int64_t> Cluster(int64_t n, const std::vector<ScoredPair>& pairs, double threshold,
                             const std::vector<int64_t>& order) {
  std::vector<int64_t> parent(static_cast<size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  auto older = [&](int64_t a, int64_t b) {  // is a older than b?
    if (!order.empty() && order[static_cast<size_t>(a)] != order[static_cast<size_t>(b)]) {
      return order[static_cast<size_t>(a)] < order[static_cast<size_t>(b)];
    }
    return a < b;
  };
  auto find = [&](int64_t x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  };
  for (const ScoredPair& p : pairs) {
    if (!p.deterministic && p.probability < threshold) continue;
    int64_t a = find(p.left), b = find(p.right);
    if (a == b) continue;
    // The root is always the oldest member, so it names the cluster.
    if (older(a, b)) {
      parent[static_cast<size_t>(b)] = a;
    } else {
      parent[static_cast<size_t>(a)] = b;
    }
  }
  std::vector<int64_t> cluster(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) cluster[static_cast<size_t>(i)] = find(i);
  return cluster;
}

double PairQuality::precision() const {
  int64_t d = true_positives + false_positives;
  return d == 0 ? 1.0 : static_cast<double>(true_positives) / static_cast<double>(d);
}
double PairQuality::recall() const {
  int64_t d = true_positives + false_negatives;
  return d == 0 ? 1.0 : static_cast<double>(true_positives) / static_cast<double>(d);
}
double PairQuality::f1() const {
  double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

PairQuality ClusterQuality(const std::vector<int64_t>& predicted, const std::vector<std::string>& truth) {
  auto pairs = [](int64_t k) { return k * (k - 1) / 2; };
  std::unordered_map<int64_t, int64_t> by_predicted;
  std::unordered_map<std::string, int64_t> by_truth;
  std::map<std::pair<int64_t, std::string>, int64_t> by_both;
  for (size_t i = 0; i < predicted.size() && i < truth.size(); ++i) {
    by_predicted[predicted[i]] += 1;
    by_truth[truth[i]] += 1;
    by_both[{predicted[i], truth[i]}] += 1;
  }
  int64_t predicted_pairs = 0, true_pairs = 0, both = 0;
  for (const auto& [k, n] : by_predicted) predicted_pairs += pairs(n);
  for (const auto& [k, n] : by_truth) true_pairs += pairs(n);
  for (const auto& [k, n] : by_both) both += pairs(n);
  PairQuality q;
  q.true_positives = both;
  q.false_positives = predicted_pairs - both;
  q.false_negatives = true_pairs - both;
  return q;
}

Result<Survivorship> ParseSurvivorship(std::string_view name) {
  if (name == "mostRecent") return Survivorship::kMostRecent;
  if (name == "mostTrusted") return Survivorship::kMostTrusted;
  if (name == "mostFrequent") return Survivorship::kMostFrequent;
  return Status::InvalidArgument("unknown survivorship rule \"" + std::string(name) +
                                 "\"; expected mostRecent, mostTrusted or mostFrequent");
}

std::string Survive(const SurvivorshipRule& rule, const std::vector<MemberValue>& members) {
  const MemberValue* best = nullptr;
  auto more_recent = [](const MemberValue& a, const MemberValue& b) { return a.timestamp > b.timestamp; };
  switch (rule.rule) {
    case Survivorship::kMostRecent:
      for (const MemberValue& m : members) {
        if (!m.value.empty() && (!best || more_recent(m, *best))) best = &m;
      }
      break;
    case Survivorship::kMostTrusted: {
      auto rank = [&](const MemberValue& m) {
        auto it = std::find(rule.trusted_sources.begin(), rule.trusted_sources.end(), m.source);
        return static_cast<size_t>(it - rule.trusted_sources.begin());  // unlisted sources rank last
      };
      for (const MemberValue& m : members) {
        if (m.value.empty()) continue;
        if (!best || rank(m) < rank(*best) || (rank(m) == rank(*best) && more_recent(m, *best))) best = &m;
      }
      break;
    }
    case Survivorship::kMostFrequent: {
      std::map<std::string, std::pair<int, int64_t>> counts;  // value -> (count, latest timestamp)
      for (const MemberValue& m : members) {
        if (m.value.empty()) continue;
        auto& c = counts[m.value];
        c.first += 1;
        c.second = c.first == 1 ? m.timestamp : std::max(c.second, m.timestamp);
      }
      const std::pair<const std::string, std::pair<int, int64_t>>* top = nullptr;
      for (const auto& entry : counts) {
        if (!top || entry.second > top->second) top = &entry;
      }
      return top ? top->first : std::string();
    }
  }
  return best ? best->value : std::string();
}

}  // namespace rapport::identity
