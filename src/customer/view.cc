// The 360-degree view: one customer with everything linked to it, as of a
// time. Every query is an index range scan on customer_id (or related_id),
// bounded by a LIMIT where the list can grow, so the view stays within its
// latency budget on large stores.

#include <limits>
#include <map>

#include "customer/customer.h"
#include "customer/internal/queries.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;
using storage::QueryResult;

namespace {

constexpr int64_t kMaxLinks = 50;
constexpr int64_t kMaxMembers = 100;
constexpr int64_t kRecentTransactions = 10;
constexpr int64_t kRecentInteractions = 20;
constexpr int64_t kTopItems = 5;

bool HasMembers(Kind k) { return k == Kind::kHousehold || k == Kind::kOrganization; }

// A sum read as whole currency units and the rest (RP_MONEY_SUM), exact,
// saturating beyond what Money holds.
Money TotalOf(const storage::Value& whole, const storage::Value& rest) {
  MoneySum sum;
  int64_t w = whole.AsInt();
  int64_t units = 0;
  if (__builtin_mul_overflow(w, Money::kUnitsPerWhole, &units)) {
    sum.AddUnits(w > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min());
  } else {
    sum.AddUnits(units);
  }
  sum.AddUnits(rest.AsInt());
  return sum.total();
}

}  // namespace

Result<CustomerView> CustomerStore::View(CustomerId id, const ReadOptions& opt) {
  Timestamp at = opt.as_of.value_or(impl_->clock->Now());
  CustomerView view;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(view.customer, impl_->ReadCustomer(c, id, opt));

    // Members of a group at `at`, leaving out `except`.
    auto members_of = [&](CustomerId group, CustomerId except) -> Result<std::vector<CustomerSummary>> {
      RP_ASSIGN_OR_RETURN(std::vector<Relationship> rels, LoadRelationships(c, group, false, at, kMaxMembers + 1));
      std::vector<CustomerSummary> out;
      for (const Relationship& r : rels) {
        if (r.from == except) continue;
        if (static_cast<int64_t>(out.size()) == kMaxMembers) break;
        RP_ASSIGN_OR_RETURN(CustomerSummary s, impl_->LoadSummary(c, r.from));
        out.push_back(std::move(s));
      }
      return out;
    };

    RP_ASSIGN_OR_RETURN(std::vector<Relationship> links, LoadRelationships(c, id, true, at, kMaxLinks));
    for (Relationship& r : links) {
      LinkedCustomer link;
      RP_ASSIGN_OR_RETURN(link.customer, impl_->LoadSummary(c, r.to));
      if (HasMembers(link.customer.kind)) {
        RP_ASSIGN_OR_RETURN(link.members, members_of(r.to, id));
      }
      link.relationship = std::move(r);
      view.links.push_back(std::move(link));
    }
    if (HasMembers(view.customer.kind)) {
      RP_ASSIGN_OR_RETURN(view.members, members_of(id, 0));
    }

    RP_ASSIGN_OR_RETURN(view.accounts, LoadAccounts(c, id, at));

    RP_ASSIGN_OR_RETURN(QueryResult sum,
                        c.Query(sql::kTransactionTotals, {id, at.micros}));
    TransactionSummary& ts = view.transaction_summary;
    ts.count = sum.rows.at(0)[0].AsInt();
    ts.revenue = TotalOf(sum.rows[0][1], sum.rows[0][2]);
    if (!sum.rows[0][3].is_null()) ts.first_purchase = Timestamp{sum.rows[0][3].AsInt()};
    if (!sum.rows[0][4].is_null()) ts.last_purchase = Timestamp{sum.rows[0][4].AsInt()};
    if (ts.count > 0) {
      RP_ASSIGN_OR_RETURN(QueryResult top,
                          c.Query(sql::kTopItems, {id, at.micros, kTopItems}));
      for (const auto& row : top.rows) {
        ts.top_items.push_back({row[0].AsText(), row[1].AsText(), row[2].AsDouble(), TotalOf(row[3], row[4])});
      }
      RP_ASSIGN_OR_RETURN(view.recent_transactions, LoadRecentTransactions(c, id, at, kRecentTransactions));
    }
    RP_ASSIGN_OR_RETURN(view.recent_interactions, LoadRecentInteractions(c, id, at, kRecentInteractions));

    // The latest change at or before `at` per (channel, purpose) is the state.
    RP_ASSIGN_OR_RETURN(QueryResult consents,
                        c.Query(sql::kConsentsUpTo, {id, at.micros}));
    for (const auto& row : consents.rows) {
      Consent k{id, row[0].AsText(), row[1].AsText(), row[2].AsInt() != 0, {row[3].AsInt()}, row[4].AsText()};
      if (!view.consents.empty() && view.consents.back().channel == k.channel &&
          view.consents.back().purpose == k.purpose) {
        view.consents.back() = std::move(k);
      } else {
        view.consents.push_back(std::move(k));
      }
    }
    return Status::Ok();
  }));

  // Providers run outside the connection: they may read the store themselves.
  std::vector<std::pair<std::string, ViewSection>> providers;
  {
    std::lock_guard<std::mutex> lock(impl_->sections_mu);
    providers = impl_->sections;
  }
  for (const auto& [name, provider] : providers) {
    Result<std::string> section = provider(id, opt);
    if (!section.ok()) {
      if (section.status().IsNotFound()) continue;
      return Status(section.status().code(), "view section " + name + ": " + section.status().message(),
                    section.status().field());
    }
    view.sections.emplace_back(name, std::move(*section));
  }
  return view;
}

void CustomerStore::RegisterViewSection(std::string name, ViewSection provider) {
  std::lock_guard<std::mutex> lock(impl_->sections_mu);
  for (auto& [n, p] : impl_->sections) {
    if (n == name) {
      p = std::move(provider);
      return;
    }
  }
  impl_->sections.emplace_back(std::move(name), std::move(provider));
}

}  // namespace rapport::customer

namespace rapport::customer {

Result<std::vector<Consent>> CustomerStore::CurrentConsents(Timestamp at) {
  std::vector<Consent> out;
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](storage::Connection& c) -> Status {
    RP_ASSIGN_OR_RETURN(storage::QueryResult rows,
                        c.Query("SELECT customer_id, channel, purpose, granted, at, source FROM customer_consents "
                                "WHERE at <= ? ORDER BY customer_id, channel, purpose, at, id",
                                {at.micros}));
    for (const auto& row : rows.rows) {
      Consent k{row[0].AsInt(), row[1].AsText(), row[2].AsText(), row[3].AsInt() != 0, {row[4].AsInt()},
                row[5].AsText()};
      if (!out.empty() && out.back().customer_id == k.customer_id && out.back().channel == k.channel &&
          out.back().purpose == k.purpose) {
        out.back() = std::move(k);
      } else {
        out.push_back(std::move(k));
      }
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace rapport::customer
