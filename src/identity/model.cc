// The Fellegi–Sunter model: comparison levels, blocking, training (u by
// random sampling, m by EM per blocking rule as Splink does), scoring.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>
#include <unordered_map>

#include "identity/internal/prepared.h"

namespace rapport::identity {
namespace {

constexpr int kBitsPerLevel = 4;  // patterns pack one comparison level per 4 bits
constexpr double kMinProbability = 1e-6;

int Threads(const ModelConfig& config) { return std::max(1, config.threads); }

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Pattern(const ModelConfig& config, const PreparedRecords& a, size_t i, const PreparedRecords& b, size_t j) {
  uint64_t code = 0;
  for (size_t c = 0; c < config.comparisons.size(); ++c) {
    uint64_t level = static_cast<uint64_t>(LevelOf(config.comparisons[c], a.comparison(c), i, b.comparison(c), j));
    code |= level << (kBitsPerLevel * c);
  }
  return code;
}

int LevelIn(uint64_t pattern, size_t c) { return static_cast<int>((pattern >> (kBitsPerLevel * c)) & 0xF); }

using PatternCounts = std::unordered_map<uint64_t, double>;

void MergeInto(PatternCounts* into, const PatternCounts& from) {
  for (const auto& [k, v] : from) (*into)[k] += v;
}

size_t LevelCount(const Comparison& c) { return c.levels.size() + 1; }  // + null

// EM over pattern counts with u fixed: updates m of the active comparisons
// and the match proportion lambda.
struct EmOutcome {
  int iterations = 0;
  bool converged = false;
};
EmOutcome RunEm(const ModelConfig& config, const std::vector<std::pair<uint64_t, double>>& patterns,
                const std::vector<bool>& active, bool update_m, std::vector<std::vector<LevelParameters>>* levels,
                double* lambda) {
  const size_t nc = config.comparisons.size();
  EmOutcome out;
  double total = 0;
  for (const auto& p : patterns) total += p.second;
  if (total <= 0) return out;
  for (int it = 0; it < config.em_max_iterations; ++it) {
    std::vector<std::vector<double>> num(nc);
    for (size_t c = 0; c < nc; ++c) num[c].assign(LevelCount(config.comparisons[c]), 0.0);
    double matches = 0;
    for (const auto& [pattern, count] : patterns) {
      double lm = *lambda, lu = 1 - *lambda;
      for (size_t c = 0; c < nc; ++c) {
        if (!active[c]) continue;
        int l = LevelIn(pattern, c);
        if (l == 0) continue;
        lm *= (*levels)[c][static_cast<size_t>(l)].m;
        lu *= (*levels)[c][static_cast<size_t>(l)].u;
      }
      double post = lm + lu > 0 ? lm / (lm + lu) : 0;
      matches += count * post;
      for (size_t c = 0; c < nc; ++c) {
        int l = LevelIn(pattern, c);
        if (active[c] && l > 0) num[c][static_cast<size_t>(l)] += count * post;
      }
    }
    double change = 0;
    double new_lambda = std::clamp(matches / total, 1e-9, 1 - 1e-9);
    change = std::max(change, std::abs(new_lambda - *lambda));
    *lambda = new_lambda;
    if (update_m) {
      for (size_t c = 0; c < nc; ++c) {
        if (!active[c]) continue;
        double sum = 0;
        for (size_t l = 1; l < num[c].size(); ++l) sum += num[c][l];
        if (sum <= 0) continue;
        for (size_t l = 1; l < num[c].size(); ++l) {
          double m = std::max(num[c][l] / sum, kMinProbability);
          change = std::max(change, std::abs(m - (*levels)[c][l].m));
          (*levels)[c][l].m = m;
        }
      }
    }
    out.iterations = it + 1;
    if (change < config.em_tolerance) {
      out.converged = true;
      break;
    }
  }
  return out;
}

bool RuleUsesColumn(const BlockingRule& rule, const Comparison& c) {
  for (const KeyPart& p : rule.parts) {
    if (std::find(c.columns.begin(), c.columns.end(), p.column) != c.columns.end()) return true;
  }
  return false;
}

}  // namespace

int LevelOf(const Comparison& comp, const PreparedComparison& a, size_t i, const PreparedComparison& b, size_t j) {
  std::string_view x = a.values[i], y = b.values[j];
  if (x.empty() || y.empty()) return 0;
  for (size_t k = 0; k < comp.levels.size(); ++k) {
    const Level& level = comp.levels[k];
    bool holds = false;
    switch (level.kind) {
      case LevelKind::kExact: holds = x == y; break;
      case LevelKind::kJaroWinkler: holds = JaroWinkler(x, y) >= level.threshold; break;
      case LevelKind::kLevenshtein: holds = Levenshtein(x, y, level.max_distance) <= level.max_distance; break;
      case LevelKind::kDamerau: {
        int diff = static_cast<int>(x.size()) - static_cast<int>(y.size());
        holds = std::abs(diff) <= level.max_distance && DamerauLevenshtein(x, y) <= level.max_distance;
        break;
      }
      case LevelKind::kSoundex: {
        std::string_view sx = a.soundex[i], sy = b.soundex[j];
        holds = !sx.empty() && sx == sy;
        break;
      }
      case LevelKind::kDateWithin: {
        int32_t dx = a.days[i], dy = b.days[j];
        if (dx == kNoDate || dy == kNoDate) break;
        holds = std::abs(static_cast<int64_t>(dx) - dy) <= level.max_days ||
                (x.substr(0, 4) == y.substr(0, 4) && x.substr(4, 2) == y.substr(6, 2) && x.substr(6, 2) == y.substr(4, 2));
        break;
      }
      case LevelKind::kNumberWithin: {
        double nx = a.numbers[i], ny = b.numbers[j];
        if (std::isnan(nx) || std::isnan(ny)) break;
        double d = std::abs(nx - ny);
        holds = d <= level.max_difference || d <= level.max_relative * std::max(std::abs(nx), std::abs(ny));
        break;
      }
      case LevelKind::kElse: holds = true; break;
    }
    if (holds) return static_cast<int>(k) + 1;
  }
  return static_cast<int>(comp.levels.size());  // unreachable: the last level is kElse
}

Scorer::Scorer(const ModelConfig& config, const Parameters& params) : config_(config), params_(params) {
  double prior = std::clamp(params.prior, 1e-15, 1 - 1e-9);
  prior_weight_ = std::log2(prior / (1 - prior));
  weights_.resize(config.comparisons.size());
  tf_level_.assign(config.comparisons.size(), -1);
  for (size_t c = 0; c < config.comparisons.size(); ++c) {
    const Comparison& comp = config.comparisons[c];
    weights_[c].assign(LevelCount(comp), 0.0);
    for (size_t l = 1; l < LevelCount(comp); ++l) {
      const LevelParameters& p = params.levels[c][l];
      weights_[c][l] = std::log2(std::max(p.m, kMinProbability) / std::max(p.u, kMinProbability));
      if (comp.levels[l - 1].kind == LevelKind::kExact && comp.levels[l - 1].term_frequency &&
          c < params.term_frequency.size() && !params.term_frequency[c].empty()) {
        tf_level_[c] = static_cast<int>(l);
      }
    }
  }
}

double Scorer::Weight(size_t c, int level, std::string_view value) const {
  if (level == 0) return 0;
  if (level == tf_level_[c]) {
    const auto& tf = params_.term_frequency[c];
    auto it = tf.find(std::string(value));
    if (it != tf.end()) {
      const LevelParameters& p = params_.levels[c][static_cast<size_t>(level)];
      return std::log2(std::max(p.m, kMinProbability) / std::max(it->second, kMinProbability));
    }
  }
  return weights_[c][static_cast<size_t>(level)];
}

double Scorer::Score(const PreparedRecords& a, size_t i, const PreparedRecords& b, size_t j) const {
  double w = prior_weight_;
  for (size_t c = 0; c < config_.comparisons.size(); ++c) {
    const PreparedComparison& pa = a.comparison(c);
    int level = LevelOf(config_.comparisons[c], pa, i, b.comparison(c), j);
    w += Weight(c, level, pa.values[i]);
  }
  return w;
}

void ForEachBlockedPair(const ModelConfig& config, const PreparedRecords& a, const PreparedRecords& b, size_t rule,
                        int threads, const std::function<void(int, size_t, size_t)>& fn) {
  const bool dedupe = &a == &b;
  struct Entry {
    uint64_t key;
    uint32_t side;
    uint32_t index;
    bool operator<(const Entry& o) const {
      return key != o.key ? key < o.key : side != o.side ? side < o.side : index < o.index;
    }
  };
  std::vector<Entry> entries;
  entries.reserve(a.size() + (dedupe ? 0 : b.size()));
  for (size_t i = 0; i < a.size(); ++i) {
    if (uint64_t k = a.block_key(rule, i)) entries.push_back({k, 0, static_cast<uint32_t>(i)});
  }
  if (!dedupe) {
    for (size_t j = 0; j < b.size(); ++j) {
      if (uint64_t k = b.block_key(rule, j)) entries.push_back({k, 1, static_cast<uint32_t>(j)});
    }
  }
  std::sort(entries.begin(), entries.end());
  std::vector<std::pair<size_t, size_t>> blocks;  // [begin, end) into entries
  for (size_t s = 0; s < entries.size();) {
    size_t e = s + 1;
    while (e < entries.size() && entries[e].key == entries[s].key) ++e;
    if (e - s >= 2 && static_cast<int64_t>(e - s) <= config.max_block_size) blocks.push_back({s, e});
    s = e;
  }
  std::atomic<size_t> next{0};
  auto work = [&](int t) {
    constexpr size_t kGrain = 256;
    for (;;) {
      size_t from = next.fetch_add(kGrain);
      if (from >= blocks.size()) return;
      size_t to = std::min(blocks.size(), from + kGrain);
      for (size_t k = from; k < to; ++k) {
        auto [s, e] = blocks[k];
        if (dedupe) {
          for (size_t x = s; x < e; ++x) {
            for (size_t y = x + 1; y < e; ++y) fn(t, entries[x].index, entries[y].index);
          }
        } else {
          size_t mid = s;
          while (mid < e && entries[mid].side == 0) ++mid;
          for (size_t x = s; x < mid; ++x) {
            for (size_t y = mid; y < e; ++y) fn(t, entries[x].index, entries[y].index);
          }
        }
      }
    }
  };
  if (threads <= 1 || blocks.size() < 512) {
    work(0);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
}

bool PairedByEarlierRule(const PreparedRecords& a, size_t i, const PreparedRecords& b, size_t j, size_t rule) {
  for (size_t r = 0; r < rule; ++r) {
    uint64_t k = a.block_key(r, i);
    if (k != 0 && k == b.block_key(r, j)) return true;
  }
  return false;
}

Result<Parameters> Train(const ModelConfig& config, const PreparedRecords& left, const PreparedRecords& right) {
  const bool dedupe = &left == &right;
  const size_t nc = config.comparisons.size();
  const int threads = Threads(config);
  if (left.size() < 2 || right.size() < (dedupe ? 2u : 1u)) {
    return Status::Unprocessable("training needs at least two records");
  }
  Parameters params;
  params.levels.resize(nc);
  params.term_frequency.resize(nc);

  // Term frequencies over every record the model sees.
  for (size_t c = 0; c < nc; ++c) {
    bool tf = false;
    for (const Level& l : config.comparisons[c].levels) tf = tf || (l.kind == LevelKind::kExact && l.term_frequency);
    if (!tf) continue;
    std::unordered_map<std::string, double>& freq = params.term_frequency[c];
    double nonnull = 0;
    auto count = [&](const PreparedRecords& r) {
      for (size_t i = 0; i < r.size(); ++i) {
        std::string_view v = r.comparison(c).values[i];
        if (v.empty()) continue;
        freq[std::string(v)] += 1;
        nonnull += 1;
      }
    };
    count(left);
    if (!dedupe) count(right);
    for (auto& [v, n] : freq) n /= nonnull;
  }

  // u: the level distribution among random pairs, nearly all non-matches.
  {
    std::vector<std::vector<std::vector<double>>> counts(static_cast<size_t>(threads));
    const int64_t per_thread = config.u_sample_pairs / threads + 1;
    auto sample = [&](int t) {
      auto& cnt = counts[static_cast<size_t>(t)];
      cnt.resize(nc);
      for (size_t c = 0; c < nc; ++c) cnt[c].assign(LevelCount(config.comparisons[c]), 0.0);
      uint64_t state = config.seed * 7919 + static_cast<uint64_t>(t);
      for (int64_t k = 0; k < per_thread; ++k) {
        size_t i = SplitMix(state) % left.size();
        size_t j = SplitMix(state) % right.size();
        if (dedupe && i == j) continue;
        for (size_t c = 0; c < nc; ++c) {
          cnt[c][static_cast<size_t>(LevelOf(config.comparisons[c], left.comparison(c), i, right.comparison(c), j))] += 1;
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(sample, t);
    sample(0);
    for (std::thread& th : pool) th.join();
    params.u_pairs_sampled = per_thread * threads;
    for (size_t c = 0; c < nc; ++c) {
      const size_t nl = LevelCount(config.comparisons[c]);
      params.levels[c].resize(nl);
      std::vector<double> total(nl, 0.0);
      for (const auto& cnt : counts) {
        for (size_t l = 0; l < nl; ++l) total[l] += cnt[c][l];
      }
      double nonnull = 0;
      for (size_t l = 1; l < nl; ++l) nonnull += total[l];
      for (size_t l = 1; l < nl; ++l) {
        // A level never seen among random pairs gets the weight of one sighting.
        params.levels[c][l].u = nonnull > 0 ? std::max(total[l], 1.0) / nonnull : 1.0 / static_cast<double>(nl - 1);
      }
      // Starting m: most of the mass on the most similar level, halving down,
      // a little on "else".
      double sum = 0;
      for (size_t l = 1; l + 1 < nl; ++l) {
        params.levels[c][l].m = std::pow(0.5, static_cast<double>(l - 1));
        sum += params.levels[c][l].m;
      }
      params.levels[c][nl - 1].m = nl > 2 ? 0.05 * sum : 1.0;
      sum += params.levels[c][nl - 1].m;
      for (size_t l = 1; l < nl; ++l) params.levels[c][l].m /= sum;
    }
  }

  // Pattern counts per blocking rule (for its EM session) and over the union
  // of the rules (each pair once, for the prior).
  std::vector<PatternCounts> per_rule(config.blocking.size());
  PatternCounts all;
  for (size_t r = 0; r < config.blocking.size(); ++r) {
    std::vector<PatternCounts> local_rule(static_cast<size_t>(threads)), local_all(static_cast<size_t>(threads));
    ForEachBlockedPair(config, left, right, r, threads, [&](int t, size_t i, size_t j) {
      uint64_t p = Pattern(config, left, i, right, j);
      local_rule[static_cast<size_t>(t)][p] += 1;
      if (!PairedByEarlierRule(left, i, right, j, r)) local_all[static_cast<size_t>(t)][p] += 1;
    });
    for (int t = 0; t < threads; ++t) {
      MergeInto(&per_rule[r], local_rule[static_cast<size_t>(t)]);
      MergeInto(&all, local_all[static_cast<size_t>(t)]);
    }
  }
  double candidates = 0;
  for (const auto& [p, n] : all) candidates += n;
  params.candidate_pairs = static_cast<int64_t>(candidates);
  if (candidates == 0) {
    return Status::Unprocessable("the blocking rules produce no candidate pairs; loosen them");
  }

  // m: one EM session per blocking rule; the columns a rule blocks on agree
  // in all its pairs, so they say nothing there and keep their m.
  std::vector<std::vector<double>> m_sum(nc), m_n(nc);
  for (size_t c = 0; c < nc; ++c) {
    m_sum[c].assign(LevelCount(config.comparisons[c]), 0.0);
    m_n[c].assign(LevelCount(config.comparisons[c]), 0.0);
  }
  bool all_converged = true, any_session = false;
  for (size_t r = 0; r < config.blocking.size(); ++r) {
    std::vector<bool> active(nc);
    bool any = false;
    for (size_t c = 0; c < nc; ++c) {
      active[c] = !RuleUsesColumn(config.blocking[r], config.comparisons[c]);
      any = any || active[c];
    }
    if (!any || per_rule[r].empty()) continue;
    std::vector<std::pair<uint64_t, double>> patterns(per_rule[r].begin(), per_rule[r].end());
    auto levels = params.levels;
    double lambda = 0.3;
    EmOutcome em = RunEm(config, patterns, active, true, &levels, &lambda);
    params.em_iterations += em.iterations;
    all_converged = all_converged && em.converged;
    any_session = true;
    for (size_t c = 0; c < nc; ++c) {
      if (!active[c]) continue;
      for (size_t l = 1; l < levels[c].size(); ++l) {
        m_sum[c][l] += levels[c][l].m;
        m_n[c][l] += 1;
      }
    }
  }
  params.em_converged = any_session && all_converged;
  for (size_t c = 0; c < nc; ++c) {
    for (size_t l = 1; l < params.levels[c].size(); ++l) {
      if (m_n[c][l] > 0) params.levels[c][l].m = m_sum[c][l] / m_n[c][l];
    }
  }
  // A single blocking rule over every compared column leaves m untrained: run
  // EM over all candidates instead (biased towards the blocked columns, but
  // better than the starting guess).
  bool untrained = true;
  for (size_t c = 0; c < nc; ++c) untrained = untrained && m_n[c].size() > 1 && m_n[c][1] == 0;
  std::vector<std::pair<uint64_t, double>> all_patterns(all.begin(), all.end());
  if (untrained) {
    double lambda = 0.3;
    EmOutcome em = RunEm(config, all_patterns, std::vector<bool>(nc, true), true, &params.levels, &lambda);
    params.em_iterations += em.iterations;
    params.em_converged = em.converged;
  }

  // Prior: the expected number of matches among all candidates over all pairs.
  double lambda = 0.3;
  RunEm(config, all_patterns, std::vector<bool>(nc, true), false, &params.levels, &lambda);
  double n_left = static_cast<double>(left.size()), n_right = static_cast<double>(right.size());
  double all_pairs = dedupe ? n_left * (n_left - 1) / 2 : n_left * n_right;
  params.prior = std::clamp(lambda * candidates / all_pairs, 1e-15, 0.5);
  return params;
}

std::vector<ScoredPair> ScorePairs(const ModelConfig& config, const Parameters& params, const PreparedRecords& left,
                                   const PreparedRecords& right, double min_probability) {
  const bool dedupe = &left == &right;
  const int threads = Threads(config);
  Scorer scorer(config, params);
  // The weight a pair needs to reach min_probability.
  const double min_weight =
      min_probability <= 0 ? -1e300 : min_probability >= 1 ? 1e300 : std::log2(min_probability / (1 - min_probability));
  std::vector<std::vector<ScoredPair>> local(static_cast<size_t>(threads));
  for (size_t r = 0; r < config.blocking.size(); ++r) {
    ForEachBlockedPair(config, left, right, r, threads, [&](int t, size_t i, size_t j) {
      if (PairedByEarlierRule(left, i, right, j, r)) return;
      double w = scorer.Score(left, i, right, j);
      if (w < min_weight) return;
      local[static_cast<size_t>(t)].push_back(
          {static_cast<int64_t>(i), static_cast<int64_t>(j), w, Scorer::Probability(w), false});
    });
  }
  std::vector<ScoredPair> out;
  size_t total = 0;
  for (const auto& l : local) total += l.size();
  out.reserve(total);
  for (auto& l : local) {
    out.insert(out.end(), l.begin(), l.end());
    l.clear();
    l.shrink_to_fit();
  }

  // Deterministic rules: equal identifiers link, whatever the score.
  for (size_t d = 0; d < config.deterministic.size(); ++d) {
    struct Entry {
      uint64_t key;
      uint32_t side, index;
      bool operator<(const Entry& o) const {
        return key != o.key ? key < o.key : side != o.side ? side < o.side : index < o.index;
      }
    };
    std::vector<Entry> entries;
    for (size_t i = 0; i < left.size(); ++i) {
      if (uint64_t k = left.deterministic_key(d, i)) entries.push_back({k, 0, static_cast<uint32_t>(i)});
    }
    if (!dedupe) {
      for (size_t j = 0; j < right.size(); ++j) {
        if (uint64_t k = right.deterministic_key(d, j)) entries.push_back({k, 1, static_cast<uint32_t>(j)});
      }
    }
    std::sort(entries.begin(), entries.end());
    auto value = [&](const Entry& e) { return (e.side == 0 ? left : right).deterministic(d)[e.index]; };
    auto emit = [&](size_t i, size_t j) {
      double w = scorer.Score(left, i, right, j);
      out.push_back({static_cast<int64_t>(i), static_cast<int64_t>(j), w, 1.0, true});
    };
    for (size_t s = 0; s < entries.size();) {
      size_t e = s + 1;
      while (e < entries.size() && entries[e].key == entries[s].key) ++e;
      // Within a block, link every member to the first one of each side with
      // the same value (a hash collision is not a match): enough for clusters.
      if (dedupe) {
        for (size_t x = s + 1; x < e; ++x) {
          if (value(entries[x]) == value(entries[s])) emit(entries[s].index, entries[x].index);
        }
      } else {
        size_t mid = s;
        while (mid < e && entries[mid].side == 0) ++mid;
        for (size_t x = s; x < mid; ++x) {
          for (size_t y = mid; y < e && y < mid + 64; ++y) {
            if (value(entries[x]) == value(entries[y])) emit(entries[x].index, entries[y].index);
          }
        }
      }
      s = e;
    }
  }

  std::sort(out.begin(), out.end(), [](const ScoredPair& a, const ScoredPair& b) {
    return a.left != b.left ? a.left < b.left : a.right != b.right ? a.right < b.right : a.deterministic > b.deterministic;
  });
  // A pair found by both a deterministic rule and blocking appears once, as deterministic.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const ScoredPair& a, const ScoredPair& b) { return a.left == b.left && a.right == b.right; }),
            out.end());
  return out;
}

std::vector<Evidence> Explain(const ModelConfig& config, const Parameters& params, const PreparedRecords& left,
                              int64_t l, const PreparedRecords& right, int64_t r) {
  Scorer scorer(config, params);
  std::vector<Evidence> out;
  for (size_t c = 0; c < config.comparisons.size(); ++c) {
    const PreparedComparison& pa = left.comparison(c);
    int level = LevelOf(config.comparisons[c], pa, static_cast<size_t>(l), right.comparison(c), static_cast<size_t>(r));
    out.push_back({static_cast<int>(c), level, scorer.Weight(c, level, pa.values[static_cast<size_t>(l)])});
  }
  return out;
}

std::string DescribeEvidence(const ModelConfig& config, const std::vector<Evidence>& evidence) {
  std::string out;
  for (const Evidence& e : evidence) {
    const Comparison& c = config.comparisons[static_cast<size_t>(e.comparison)];
    if (!out.empty()) out += "; ";
    std::string label = e.level == 0 ? "null" : c.levels[static_cast<size_t>(e.level - 1)].label;
    char w[32];
    std::snprintf(w, sizeof w, "%+.2f", e.weight);
    out += c.name + ": " + label + " (" + w + ")";
  }
  return out;
}

Result<DedupeResult> Dedupe(const ModelConfig& config, const RecordTable& records) {
  DedupeResult result;
  auto t0 = std::chrono::steady_clock::now();
  RP_ASSIGN_OR_RETURN(auto prepared, Prepare(config, records));
  result.seconds_prepare = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  RP_ASSIGN_OR_RETURN(result.params, Train(config, *prepared, *prepared));
  result.seconds_train = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  result.pairs = ScorePairs(config, result.params, *prepared, *prepared, config.review_threshold);
  result.seconds_score = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  result.cluster = Cluster(static_cast<int64_t>(records.size()), result.pairs, config.auto_merge_threshold);
  result.seconds_cluster = Seconds(t0);
  return result;
}

Result<LinkResult> Link(const ModelConfig& config, const RecordTable& left, const RecordTable& right) {
  LinkResult result;
  auto t0 = std::chrono::steady_clock::now();
  RP_ASSIGN_OR_RETURN(auto l, Prepare(config, left));
  RP_ASSIGN_OR_RETURN(auto r, Prepare(config, right));
  RP_ASSIGN_OR_RETURN(result.params, Train(config, *l, *r));
  result.pairs = ScorePairs(config, result.params, *l, *r, config.review_threshold);
  result.seconds = Seconds(t0);
  return result;
}

}  // namespace rapport::identity
