// Real-time matching: the blocking index kept in memory, so a new record is
// scored only against the records sharing one of its blocking keys.
#include <algorithm>
#include <unordered_map>

#include "identity/internal/prepared.h"

namespace rapport::identity {

struct MatchIndex::State {
  ModelConfig config;
  Parameters params;
  std::vector<std::string> columns;
  Layout layout;
  std::unique_ptr<PreparedRecords> records;
  std::unique_ptr<Scorer> scorer;
  std::vector<std::unordered_map<uint64_t, std::vector<uint32_t>>> blocks;         // [rule] key -> rows
  std::vector<std::unordered_map<uint64_t, std::vector<uint32_t>>> deterministic;  // [rule] key -> rows
  std::unordered_map<std::string, uint32_t> by_id;

  void IndexLast() {
    uint32_t row = static_cast<uint32_t>(records->size() - 1);
    for (size_t r = 0; r < blocks.size(); ++r) {
      if (uint64_t k = records->block_key(r, row)) blocks[r][k].push_back(row);
    }
    for (size_t d = 0; d < deterministic.size(); ++d) {
      if (uint64_t k = records->deterministic_key(d, row)) deterministic[d][k].push_back(row);
    }
  }
};

MatchIndex::MatchIndex(std::unique_ptr<State> state) : state_(std::move(state)) {}
MatchIndex::~MatchIndex() = default;

Result<std::unique_ptr<MatchIndex>> MatchIndex::Create(ModelConfig config, Parameters params,
                                                       std::vector<std::string> columns) {
  if (params.levels.size() != config.comparisons.size()) {
    return Status::InvalidArgument("the parameters were trained for a different configuration");
  }
  for (size_t c = 0; c < config.comparisons.size(); ++c) {
    if (params.levels[c].size() != config.comparisons[c].levels.size() + 1) {
      return Status::InvalidArgument("the parameters were trained for a different configuration",
                                     config.comparisons[c].name);
    }
  }
  auto state = std::make_unique<State>();
  state->config = std::move(config);
  state->params = std::move(params);
  state->columns = std::move(columns);
  RP_ASSIGN_OR_RETURN(state->layout, MakeLayout(state->config, state->columns));
  state->records = std::make_unique<PreparedRecords>(state->config, state->layout);
  state->scorer = std::make_unique<Scorer>(state->config, state->params);
  state->blocks.resize(state->config.blocking.size());
  state->deterministic.resize(state->config.deterministic.size());
  return std::unique_ptr<MatchIndex>(new MatchIndex(std::move(state)));
}

Status MatchIndex::Add(std::string id, const std::vector<std::string>& values) {
  if (values.size() != state_->columns.size()) {
    return Status::InvalidArgument("expected " + std::to_string(state_->columns.size()) + " values, got " +
                                   std::to_string(values.size()));
  }
  if (state_->by_id.count(id)) return Status::Conflict("record " + id + " is already indexed", "id");
  state_->by_id.emplace(id, static_cast<uint32_t>(state_->records->size()));
  state_->records->Append(std::move(id), values);
  state_->IndexLast();
  return Status::Ok();
}

Status MatchIndex::AddAll(const RecordTable& records) {
  if (records.columns != state_->columns) {
    return Status::InvalidArgument("the records' columns differ from the index's");
  }
  state_->by_id.reserve(state_->by_id.size() + records.size());
  for (size_t i = 0; i < records.size(); ++i) RP_RETURN_IF_ERROR(Add(records.ids[i], records.rows[i]));
  return Status::Ok();
}

std::vector<MatchIndex::Match> MatchIndex::Find(const std::vector<std::string>& values, double min_probability,
                                                size_t limit) const {
  std::vector<Match> out;
  if (values.size() != state_->columns.size()) return out;
  const State& s = *state_;
  PreparedRecords query(s.config, s.layout);
  query.Append("", values);
  std::vector<uint32_t> candidates;
  for (size_t r = 0; r < s.blocks.size(); ++r) {
    uint64_t k = query.block_key(r, 0);
    if (!k) continue;
    auto it = s.blocks[r].find(k);
    // Same rule as in batch: a block that large says little and costs much.
    if (it == s.blocks[r].end() || static_cast<int64_t>(it->second.size()) >= s.config.max_block_size) continue;
    candidates.insert(candidates.end(), it->second.begin(), it->second.end());
  }
  std::vector<uint32_t> linked;
  for (size_t d = 0; d < s.deterministic.size(); ++d) {
    uint64_t k = query.deterministic_key(d, 0);
    if (!k) continue;
    auto it = s.deterministic[d].find(k);
    if (it == s.deterministic[d].end()) continue;
    for (uint32_t row : it->second) {
      if (s.records->deterministic(d)[row] == query.deterministic(d)[0]) linked.push_back(row);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::sort(linked.begin(), linked.end());
  linked.erase(std::unique(linked.begin(), linked.end()), linked.end());
  for (uint32_t row : linked) {
    double w = s.scorer->Score(query, 0, *s.records, row);
    out.push_back({s.records->id(row), w, 1.0, true});
  }
  for (uint32_t row : candidates) {
    if (std::binary_search(linked.begin(), linked.end(), row)) continue;
    double w = s.scorer->Score(query, 0, *s.records, row);
    double p = Scorer::Probability(w);
    if (p >= min_probability) out.push_back({s.records->id(row), w, p, false});
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    if (a.deterministic != b.deterministic) return a.deterministic;
    return a.weight > b.weight;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

size_t MatchIndex::size() const { return state_->records->size(); }

}  // namespace rapport::identity
