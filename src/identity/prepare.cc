// Normalizing records for a model: flat columns, blocking keys, derived
// values (Soundex codes, dates as days, numbers) computed once per record.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <thread>

#include "identity/internal/prepared.h"

namespace rapport::identity {
namespace {

// Days since 1970-01-01 of a YYYYMMDD string, or kNoDate.
int32_t DaysOf(std::string_view v) {
  if (v.size() != 8) return kNoDate;
  int y = 0, m = 0, d = 0;
  for (size_t i = 0; i < 8; ++i) {
    if (v[i] < '0' || v[i] > '9') return kNoDate;
  }
  std::from_chars(v.data(), v.data() + 4, y);
  std::from_chars(v.data() + 4, v.data() + 6, m);
  std::from_chars(v.data() + 6, v.data() + 8, d);
  if (m < 1 || m > 12 || d < 1 || d > 31) return kNoDate;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

double NumberOf(std::string_view v) {
  double x = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(x)) return std::nan("");
  return x;
}

bool Uses(const Comparison& c, LevelKind kind) {
  for (const Level& l : c.levels) {
    if (l.kind == kind) return true;
  }
  return false;
}

Normalizer KeyNormalizer(const ModelConfig& config, const KeyPart& part) {
  if (part.normalizer) return *part.normalizer;
  for (const Comparison& c : config.comparisons) {
    if (c.columns.size() == 1 && c.columns[0] == part.column) return c.normalizer;
  }
  return Normalizer::kText;
}

}  // namespace

uint64_t HashKey(std::string_view s) {
  // FNV-1a, then a final mix so nearby keys spread.
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}

Result<Layout> MakeLayout(const ModelConfig& config, const std::vector<std::string>& columns) {
  auto find = [&](const std::string& name) -> Result<int> {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return static_cast<int>(i);
    }
    return Status::InvalidArgument("the records have no column \"" + name + "\" that the identity model uses",
                                   name);
  };
  Layout layout;
  for (const Comparison& c : config.comparisons) {
    std::vector<int> cols;
    for (const std::string& col : c.columns) {
      RP_ASSIGN_OR_RETURN(int i, find(col));
      cols.push_back(i);
    }
    layout.comparison.push_back(std::move(cols));
  }
  for (const BlockingRule& r : config.blocking) {
    std::vector<int> parts;
    for (const KeyPart& p : r.parts) {
      RP_ASSIGN_OR_RETURN(int i, find(p.column));
      parts.push_back(i);
    }
    layout.blocking.push_back(std::move(parts));
  }
  for (const DeterministicRule& d : config.deterministic) {
    RP_ASSIGN_OR_RETURN(int i, find(d.column));
    layout.deterministic.push_back(i);
  }
  return layout;
}

PreparedRecords::PreparedRecords(const ModelConfig& config, Layout layout)
    : config_(config),
      layout_(std::move(layout)),
      comparisons_(config.comparisons.size()),
      block_keys_(config.blocking.size()),
      deterministic_(config.deterministic.size()),
      deterministic_keys_(config.deterministic.size()) {}

void PreparedRecords::Append(std::string id, const std::vector<std::string>& values) {
  // A row normalizes each (column, normalizer) once, however many rules use it.
  struct Cached {
    int column;
    Normalizer normalizer;
    std::string value;
  };
  std::deque<Cached> cache;  // a deque: references stay valid as it grows
  auto normalized = [&](int column, Normalizer n) -> const std::string& {
    for (const Cached& c : cache) {
      if (c.column == column && c.normalizer == n) return c.value;
    }
    cache.push_back({column, n, Normalize(n, values[static_cast<size_t>(column)], config_.normalize)});
    return cache.back().value;
  };

  ids_.push_back(std::move(id));
  for (size_t c = 0; c < config_.comparisons.size(); ++c) {
    const Comparison& comp = config_.comparisons[c];
    std::string joined;
    if (layout_.comparison[c].size() > 1) {
      for (int col : layout_.comparison[c]) {
        const std::string& part = normalized(col, comp.normalizer);
        if (part.empty()) continue;
        if (!joined.empty()) joined.push_back(' ');
        joined.append(part);
      }
    }
    const std::string& v = layout_.comparison[c].size() > 1 ? joined : normalized(layout_.comparison[c][0], comp.normalizer);
    PreparedComparison& pc = comparisons_[c];
    pc.values.Push(v);
    if (Uses(comp, LevelKind::kSoundex)) pc.soundex.Push(Soundex(v));
    if (Uses(comp, LevelKind::kDateWithin)) pc.days.push_back(DaysOf(v));
    if (Uses(comp, LevelKind::kNumberWithin)) pc.numbers.push_back(NumberOf(v));
  }
  std::string key;
  for (size_t r = 0; r < config_.blocking.size(); ++r) {
    key.clear();
    bool complete = true;
    for (size_t p = 0; p < config_.blocking[r].parts.size(); ++p) {
      const KeyPart& part = config_.blocking[r].parts[p];
      const std::string& v = normalized(layout_.blocking[r][p], KeyNormalizer(config_, part));
      std::string_view piece = v;
      std::string code;
      switch (part.transform) {
        case KeyPart::Transform::kNone: break;
        case KeyPart::Transform::kPrefix:
          piece = piece.substr(0, static_cast<size_t>(part.length));
          break;
        case KeyPart::Transform::kSoundex:
          code = Soundex(v);
          piece = code;
          break;
        case KeyPart::Transform::kYear:
          piece = v.size() >= 4 ? piece.substr(0, 4) : std::string_view();
          break;
      }
      if (piece.empty()) {
        complete = false;
        break;
      }
      key.append(piece);
      key.push_back('\x1f');
    }
    block_keys_[r].push_back(complete ? HashKey(key) : 0);
  }
  for (size_t d = 0; d < config_.deterministic.size(); ++d) {
    const std::string& v = normalized(layout_.deterministic[d], config_.deterministic[d].normalizer);
    deterministic_[d].Push(v);
    deterministic_keys_[d].push_back(v.empty() ? 0 : HashKey(v));
  }
}

void PreparedRecords::AppendAll(PreparedRecords&& other) {
  for (std::string& id : other.ids_) ids_.push_back(std::move(id));
  for (size_t c = 0; c < comparisons_.size(); ++c) {
    PreparedComparison& to = comparisons_[c];
    PreparedComparison& from = other.comparisons_[c];
    to.values.AppendAll(from.values);
    to.soundex.AppendAll(from.soundex);
    to.days.insert(to.days.end(), from.days.begin(), from.days.end());
    to.numbers.insert(to.numbers.end(), from.numbers.begin(), from.numbers.end());
  }
  for (size_t r = 0; r < block_keys_.size(); ++r) {
    block_keys_[r].insert(block_keys_[r].end(), other.block_keys_[r].begin(), other.block_keys_[r].end());
  }
  for (size_t d = 0; d < deterministic_.size(); ++d) {
    deterministic_[d].AppendAll(other.deterministic_[d]);
    deterministic_keys_[d].insert(deterministic_keys_[d].end(), other.deterministic_keys_[d].begin(),
                                  other.deterministic_keys_[d].end());
  }
  other.ids_.clear();
}

Result<std::shared_ptr<const PreparedRecords>> Prepare(const ModelConfig& config, const RecordTable& records) {
  RP_ASSIGN_OR_RETURN(Layout layout, MakeLayout(config, records.columns));
  for (size_t i = 0; i < records.size(); ++i) {
    if (records.rows[i].size() != records.columns.size()) {
      return Status::InvalidArgument("record " + records.ids[i] + " has " + std::to_string(records.rows[i].size()) +
                                     " values for " + std::to_string(records.columns.size()) + " columns");
    }
  }
  // Normalizing is per row: slices on threads, then joined in order.
  const size_t threads = records.size() < 20000 ? 1 : static_cast<size_t>(std::max(1, config.threads));
  std::vector<PreparedRecords> parts;
  for (size_t t = 0; t < threads; ++t) parts.emplace_back(config, layout);
  auto work = [&](size_t t) {
    size_t from = records.size() * t / threads, to = records.size() * (t + 1) / threads;
    for (size_t i = from; i < to; ++i) parts[t].Append(records.ids[i], records.rows[i]);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
  for (size_t t = 1; t < threads; ++t) parts[0].AppendAll(std::move(parts[t]));
  return std::shared_ptr<const PreparedRecords>(std::make_shared<PreparedRecords>(std::move(parts[0])));
}

int RecordTable::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace rapport::identity
