#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/json.h"
#include "common/text.h"
#include "customer/customer.h"
#include "profile/internal/store_impl.h"
#include "profile/profile.h"

namespace rapport::profile {

namespace {

std::string_view OperationName(SetOperation op) {
  switch (op) {
    case SetOperation::kUnion: return "union";
    case SetOperation::kIntersection: return "intersection";
    case SetOperation::kDifference: return "difference";
  }
  return "";
}

std::optional<SetOperation> ParseOperation(std::string_view s) {
  if (s == "union") return SetOperation::kUnion;
  if (s == "intersection") return SetOperation::kIntersection;
  if (s == "difference") return SetOperation::kDifference;
  return std::nullopt;
}

Segment Described(const SegmentState& s) {
  Segment out = s.meta;
  out.size = static_cast<int64_t>(s.members.cardinality());
  return out;
}

bool ValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  int m = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
  return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

}  // namespace

Roaring ProfileStore::Impl::Evaluate(const SegmentState& s) const {
  if (s.condition) return BitsToRoaring(s.condition->Scan(table));
  const auto& l = segments.at(s.left).members;
  const auto& r = segments.at(s.right).members;
  switch (s.op) {
    case SetOperation::kUnion: return l | r;
    case SetOperation::kIntersection: return l & r;
    case SetOperation::kDifference: return l - r;
  }
  return {};
}

void ProfileStore::Impl::Reevaluate(uint32_t row, std::vector<SegmentChange>* changes) {
  for (auto& [id, s] : segments) {  // id order: inputs before combinations
    bool in;
    if (s.condition) {
      in = s.condition->Matches(table, row);
    } else {
      bool l = segments.at(s.left).members.contains(row);
      bool r = segments.at(s.right).members.contains(row);
      in = s.op == SetOperation::kUnion ? (l || r) : s.op == SetOperation::kIntersection ? (l && r) : (l && !r);
    }
    bool was = s.members.contains(row);
    if (in == was) continue;
    if (in) s.members.add(row); else s.members.remove(row);
    changes->push_back({id, table.id(row), in});
  }
}

Status LoadSegments(ProfileStore::Impl& impl) {
  if (!impl.db) return Status::Ok();
  return impl.db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT id, name, description, condition, operation, left_id, right_id, "
                                              "created_at FROM profile_segments ORDER BY id"));
    for (const auto& r : rows.rows) {
      SegmentState s;
      s.meta.id = r[0].AsInt();
      s.meta.name = r[1].AsText();
      s.meta.description = r[2].AsText();
      s.meta.condition = r[3].AsText();
      s.meta.created_at = Timestamp{r[7].AsInt()};
      if (auto op = ParseOperation(r[4].AsText())) {
        s.op = *op;
        s.left = r[5].AsInt();
        s.right = r[6].AsInt();
        if (!impl.segments.count(s.left) || !impl.segments.count(s.right)) {
          return Status::Internal("segment " + std::to_string(s.meta.id) + " combines a segment that is gone");
        }
      } else {
        auto c = impl.CompileLocked(s.meta.condition);
        if (!c.ok()) {
          // Columns can be renamed in the options: keep serving, say which
          // segment broke; it stays listed, empty, under a condition that
          // never holds, until it is deleted and saved again.
          spdlog::warn("profile.segment_broken segment={} name={} error={}", s.meta.id, s.meta.name,
                       c.status().message());
          auto never = impl.CompileLocked("false");
          if (!never.ok()) return never.status();
          s.condition = *never;
          s.meta.description = "does not compile any more: " + c.status().message();
        } else {
          s.condition = *c;
        }
      }
      s.members = impl.Evaluate(s);
      impl.segments.emplace(s.meta.id, std::move(s));
    }
    return Status::Ok();
  });
}

Result<int64_t> ProfileStore::Count(std::string_view condition, const feel::EvalLimits& limits) const {
  std::shared_lock lock(impl_->mu);
  RP_ASSIGN_OR_RETURN(auto c, impl_->CompileLocked(condition, limits));
  RP_ASSIGN_OR_RETURN(auto bits, c->Scan(impl_->table, limits));
  int64_t n = 0;
  for (uint64_t w : bits) n += std::popcount(w);
  return n;
}

namespace {
Status Persist(storage::Database* db, const SegmentState& s) {
  if (!db) return Status::Ok();
  return db->WithTransaction([&](storage::Connection& conn) -> Status {
    storage::Value left, right;
    std::string op;
    if (!s.condition) {
      op = std::string(OperationName(s.op));
      left = s.left;
      right = s.right;
    }
    return conn
        .ExecuteV("INSERT INTO profile_segments (id, name, description, condition, operation, left_id, right_id, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  {s.meta.id, s.meta.name, s.meta.description, s.meta.condition, op, left, right,
                   s.meta.created_at.micros})
        .status();
  });
}

Status CheckName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("a segment needs a name", "/name");
  if (name.size() > 200) return Status::InvalidArgument("the name is longer than 200 bytes", "/name");
  // Shown in lists, exports and other systems' headers: one line of text.
  if (Status s = text::CheckIdentifier(name, "/name"); !s.ok()) return Status::Unprocessable(s.message(), "/name");
  return Status::Ok();
}
}  // namespace

Result<Segment> ProfileStore::CreateSegment(std::string name, std::string description, std::string condition,
                                            const feel::EvalLimits& limits) {
  RP_RETURN_IF_ERROR(CheckName(name));
  std::unique_lock lock(impl_->mu);
  RP_ASSIGN_OR_RETURN(auto c, impl_->CompileLocked(condition, limits));
  // Within the request's budget first: the exclusive lock is held meanwhile.
  RP_ASSIGN_OR_RETURN(auto bits, c->Scan(impl_->table, limits));
  SegmentState s;
  s.meta.id = impl_->segments.empty() ? 1 : impl_->segments.rbegin()->first + 1;
  s.meta.name = std::move(name);
  s.meta.description = std::move(description);
  s.meta.condition = std::move(condition);
  s.meta.created_at = SystemClock().Now();
  s.condition = std::move(c);
  s.members = BitsToRoaring(bits);
  RP_RETURN_IF_ERROR(Persist(impl_->db, s));
  Segment out = Described(s);
  impl_->segments.emplace(out.id, std::move(s));
  return out;
}

Result<Segment> ProfileStore::CombineSegments(std::string name, SetOperation op, int64_t left, int64_t right) {
  RP_RETURN_IF_ERROR(CheckName(name));
  std::unique_lock lock(impl_->mu);
  if (!impl_->segments.count(left)) return Status::NotFound("segment " + std::to_string(left) + " does not exist", "/left");
  if (!impl_->segments.count(right)) {
    return Status::NotFound("segment " + std::to_string(right) + " does not exist", "/right");
  }
  SegmentState s;
  s.meta.id = impl_->segments.rbegin()->first + 1;
  s.meta.name = std::move(name);
  s.meta.condition = std::string(OperationName(op)) + "(" + std::to_string(left) + ", " + std::to_string(right) + ")";
  s.meta.description = "the " + std::string(OperationName(op)) + " of segments " + std::to_string(left) + " and " +
                       std::to_string(right);
  s.meta.created_at = SystemClock().Now();
  s.op = op;
  s.left = left;
  s.right = right;
  s.members = impl_->Evaluate(s);
  RP_RETURN_IF_ERROR(Persist(impl_->db, s));
  Segment out = Described(s);
  impl_->segments.emplace(out.id, std::move(s));
  return out;
}

Result<Segment> ProfileStore::GetSegment(int64_t id) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->segments.find(id);
  if (it == impl_->segments.end()) return Status::NotFound("segment " + std::to_string(id) + " does not exist");
  return Described(it->second);
}

std::vector<Segment> ProfileStore::ListSegments() const {
  std::shared_lock lock(impl_->mu);
  std::vector<Segment> out;
  for (const auto& [id, s] : impl_->segments) out.push_back(Described(s));
  return out;
}

Status ProfileStore::DeleteSegment(int64_t id) {
  std::unique_lock lock(impl_->mu);
  if (!impl_->segments.count(id)) return Status::NotFound("segment " + std::to_string(id) + " does not exist");
  for (const auto& [other, s] : impl_->segments) {
    if (!s.condition && (s.left == id || s.right == id)) {
      return Status::Conflict("segment " + std::to_string(other) + " is built from this one; delete it first");
    }
  }
  if (impl_->db) {
    RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](storage::Connection& conn) -> Status {
      RP_RETURN_IF_ERROR(conn.Execute("DELETE FROM profile_segment_snapshots WHERE segment_id = ?", {id}).status());
      return conn.Execute("DELETE FROM profile_segments WHERE id = ?", {id}).status();
    }));
  }
  impl_->segments.erase(id);
  return Status::Ok();
}

Result<std::vector<int64_t>> ProfileStore::Members(int64_t id, int64_t after_customer_id, int limit) const {
  if (limit < 1 || limit > 10000) return Status::InvalidArgument("limit must be between 1 and 10000", "/limit");
  std::shared_lock lock(impl_->mu);
  auto it = impl_->segments.find(id);
  if (it == impl_->segments.end()) return Status::NotFound("segment " + std::to_string(id) + " does not exist");
  const auto& table = impl_->table;
  const Roaring& members = it->second.members;
  std::vector<int64_t> out;
  size_t sorted = table.sorted_rows();
  // Rows [0, sorted) are in id order: start at the first row past the
  // cursor and stop after `limit`, so a page costs O(limit).
  uint32_t start = table.FirstRowAfter(after_customer_id);
  auto m = members.begin();
  m.equalorlarger(start);
  for (; m != members.end() && *m < sorted && out.size() < static_cast<size_t>(limit); ++m) {
    out.push_back(table.id(*m));
  }
  if (sorted < table.rows()) {
    // Customers added since the build: few, merged in by id.
    auto late = members.begin();
    late.equalorlarger(static_cast<uint32_t>(sorted));
    for (; late != members.end(); ++late) {
      int64_t cid = table.id(*late);
      if (cid > after_customer_id) out.push_back(cid);
    }
    std::sort(out.begin(), out.end());
    if (out.size() > static_cast<size_t>(limit)) out.resize(limit);
  }
  return out;
}

std::vector<Segment> ProfileStore::SegmentsOf(int64_t customer_id) const {
  std::shared_lock lock(impl_->mu);
  std::vector<Segment> out;
  int64_t row = impl_->table.RowOf(customer_id);
  if (row < 0) return out;
  for (const auto& [id, s] : impl_->segments) {
    if (s.members.contains(static_cast<uint32_t>(row))) out.push_back(Described(s));
  }
  return out;
}

Result<int64_t> ProfileStore::Snapshot(int64_t id, std::string_view date) {
  if (!ValidDate(date)) return Status::InvalidArgument("the date must be YYYY-MM-DD", "/date");
  std::vector<int64_t> ids;
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->segments.find(id);
    if (it == impl_->segments.end()) return Status::NotFound("segment " + std::to_string(id) + " does not exist");
    for (uint32_t row : it->second.members) ids.push_back(impl_->table.id(row));
  }
  if (!impl_->db) return Status::Internal("this profile store has no database for snapshots");
  RP_RETURN_IF_ERROR(impl_->db->WithTransaction([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto existing, conn.Query("SELECT 1 FROM profile_segment_snapshots WHERE segment_id = ? AND "
                                                  "taken_on = ? LIMIT 1", {id, std::string(date)}));
    if (!existing.empty()) {
      return Status::Conflict("segment " + std::to_string(id) + " already has a snapshot of " + std::string(date),
                              "/date");
    }
    for (int64_t cid : ids) {
      RP_RETURN_IF_ERROR(conn.Execute("INSERT INTO profile_segment_snapshots (segment_id, taken_on, customer_id) "
                                      "VALUES (?, ?, ?)", {id, std::string(date), cid})
                             .status());
    }
    return Status::Ok();
  }));
  return static_cast<int64_t>(ids.size());
}

Result<std::vector<int64_t>> ProfileStore::SnapshotMembers(int64_t id, std::string_view date) const {
  if (!impl_->db) return Status::Internal("this profile store has no database for snapshots");
  std::vector<int64_t> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](storage::Connection& conn) -> Status {
    RP_ASSIGN_OR_RETURN(auto rows, conn.Query("SELECT customer_id FROM profile_segment_snapshots WHERE segment_id = ? "
                                              "AND taken_on = ? ORDER BY customer_id", {id, std::string(date)}));
    for (const auto& r : rows.rows) out.push_back(r[0].AsInt());
    return Status::Ok();
  }));
  if (out.empty()) {
    return Status::NotFound("segment " + std::to_string(id) + " has no snapshot of " + std::string(date), "/date");
  }
  return out;
}

void RegisterSegmentsView(customer::CustomerStore& store, const ProfileStore& profile) {
  store.RegisterViewSection("segments", [&profile](customer::CustomerId id, const customer::ReadOptions&) -> Result<std::string> {
    // Membership is current; an asOf view still lists today's segments.
    json::Writer w;
    w.StartArray();
    for (const auto& s : profile.SegmentsOf(id)) {
      w.StartObject().Field("id", s.id).Field("name", s.name).EndObject();
    }
    w.EndArray();
    return w.Take();
  });
}

}  // namespace rapport::profile
