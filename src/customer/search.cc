// Search over the normalized token table and the email and phone
// identifiers: name words by prefix, emails and phones by prefix of their
// normalized form, identifiers exactly. Results
// come in token order with a cursor, each customer once.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <tuple>

#include "customer/customer.h"
#include "customer/internal/codec.h"
#include "customer/internal/queries.h"
#include "customer/internal/store_impl.h"

namespace rapport::customer {

using storage::Connection;
using storage::QueryResult;

namespace {

struct Cursor {
  std::string token;  // empty for the id-ordered listing
  CustomerId id = 0;
};

std::string EncodeCursor(const Cursor& c) {
  static const char* kHex = "0123456789abcdef";
  std::string out = std::to_string(c.id);
  if (!c.token.empty()) {
    out.push_back('.');
    for (unsigned char b : c.token) {
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

Result<Cursor> DecodeCursor(std::string_view text) {
  Cursor c;
  if (text.empty()) return c;
  auto bad = [] { return Status::InvalidArgument("malformed cursor", "/cursor"); };
  size_t dot = text.find('.');
  std::string_view id = text.substr(0, dot);
  auto r = std::from_chars(id.data(), id.data() + id.size(), c.id);
  if (r.ec != std::errc() || r.ptr != id.data() + id.size() || c.id < 0) return bad();
  if (dot == std::string_view::npos) return c;
  std::string_view hex = text.substr(dot + 1);
  if (hex.empty() || hex.size() % 2) return bad();
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    c.token.push_back(static_cast<char>(hi * 16 + lo));
  }
  return c;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The words a query is matched with: one normalized email or phone prefix, or
// lower-cased name words.
std::vector<std::string> QueryWords(std::string_view q) {
  if (q.find('@') != std::string_view::npos) {
    std::string e;
    for (char c : q) {
      if (!std::isspace(static_cast<unsigned char>(c))) e.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return {e};
  }
  size_t digits = 0;
  bool phone_like = true;
  for (char c : q) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (!(c == '+' || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/')) {
      phone_like = false;
    }
  }
  if (phone_like && digits >= 3) {
    std::string p = "+";
    for (char c : q) {
      if (std::isdigit(static_cast<unsigned char>(c))) p.push_back(c);
    }
    return {p};
  }
  std::vector<std::string> words;
  internal::AppendWords(q, &words);
  return words;
}

std::string_view Trimmed(std::string_view q) {
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.front()))) q.remove_prefix(1);
  while (!q.empty() && std::isspace(static_cast<unsigned char>(q.back()))) q.remove_suffix(1);
  return q;
}

}  // namespace

bool SearchReadsPii(std::string_view text) {
  std::string_view q = Trimmed(text);
  if (q.empty()) return false;
  // Without a colon, Search matches name words, e-mails and phones.
  if (q.find(':') == std::string_view::npos) return true;
  auto ident = ParseIdentifier(q);
  return ident.ok() && (ident->scheme == "email" || ident->scheme == "phone");
}

Result<Page<CustomerSummary>> CustomerStore::Search(const SearchQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Status::InvalidArgument("limit must be between 1 and 1000", "/limit");
  }
  if (query.q.size() > 256) return Status::InvalidArgument("a query is at most 256 bytes", "/q");
  RP_ASSIGN_OR_RETURN(Cursor cursor, DecodeCursor(query.cursor));
  std::string_view q = Trimmed(query.q);
  auto kind_ok = [&](Kind k) { return !query.kind || *query.kind == k; };
  const size_t limit = static_cast<size_t>(query.limit);

  Page<CustomerSummary> page;
  auto summary = [](const storage::Row& row, size_t at) -> Result<CustomerSummary> {
    CustomerSummary s;
    s.id = row[at].AsInt();
    RP_ASSIGN_OR_RETURN(s.kind, ParseKind(row[at + 1].AsText()));
    s.display_name = row[at + 2].AsText();
    s.email = row[at + 3].AsText();
    s.phone = row[at + 4].AsText();
    return s;
  };

  if (q.find(':') != std::string_view::npos) {
    auto ident = ParseIdentifier(q);
    if (!ident.ok()) return Status::InvalidArgument(ident.status().message(), "/q");
    RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
      RP_ASSIGN_OR_RETURN(std::optional<CustomerId> owner, impl_->OwnerOf(c, *ident));
      if (!owner || *owner <= cursor.id) return Status::Ok();
      RP_ASSIGN_OR_RETURN(CustomerSummary s, impl_->LoadSummary(c, *owner));
      if (kind_ok(s.kind)) page.items.push_back(std::move(s));
      return Status::Ok();
    }));
    return page;
  }

  if (q.empty()) {
    RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
      QueryResult r;
      if (query.kind) {
        RP_ASSIGN_OR_RETURN(r, c.Query("SELECT id, kind, display_name, email, phone FROM customers WHERE id > ? "
                                       "AND kind = ? ORDER BY id LIMIT ?",
                                       {cursor.id, KindName(*query.kind), static_cast<int64_t>(limit + 1)}));
      } else {
        RP_ASSIGN_OR_RETURN(r, c.Query("SELECT id, kind, display_name, email, phone FROM customers WHERE id > ? "
                                       "ORDER BY id LIMIT ?",
                                       {cursor.id, static_cast<int64_t>(limit + 1)}));
      }
      for (const auto& row : r.rows) {
        if (page.items.size() == limit) {
          page.next_cursor = EncodeCursor({"", page.items.back().id});
          break;
        }
        RP_ASSIGN_OR_RETURN(CustomerSummary s, summary(row, 0));
        page.items.push_back(std::move(s));
      }
      return Status::Ok();
    }));
    return page;
  }

  std::vector<std::string> words = QueryWords(q);
  if (words.empty()) return page;
  // The longest word drives the index scan; the others filter.
  std::stable_sort(words.begin(), words.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  const std::string& lead = words.front();
  std::string upper = lead;
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);

  // The lead word's matches are in three indexes: the token table, and the
  // email and phone identifiers, whose values are not stored again as
  // tokens (StoredSearchTokens). Each is read in (token, customer id) order
  // from pos on, in batches, and the three are merged.
  const bool phone_like =
      std::all_of(lead.begin(), lead.end(), [](char ch) { return ch == '+' || (ch >= '0' && ch <= '9'); });
  Cursor pos{std::max(cursor.token, lead), cursor.token >= lead ? cursor.id : 0};  // rows up to pos are done
  const int64_t batch = static_cast<int64_t>(std::min<size_t>(limit * 2 + 16, 2000));
  auto before = [](const Cursor& a, const Cursor& b) { return std::tie(a.token, a.id) < std::tie(b.token, b.id); };
  struct Hit {
    Cursor at;
    CustomerSummary summary;
  };
  RP_RETURN_IF_ERROR(impl_->db->WithConnection([&](Connection& c) -> Status {
    std::optional<Cursor> last_emitted;
    std::vector<Hit> hits;
    while (true) {
      hits.clear();
      // Past bound, a source that filled its batch may have rows not read yet.
      std::optional<Cursor> bound;
      auto take = [&](const QueryResult& r) -> Status {
        for (const auto& row : r.rows) {
          Cursor here{row[0].AsText(), row[1].AsInt()};
          if (!before(pos, here)) continue;  // an identifier at pos itself
          RP_ASSIGN_OR_RETURN(CustomerSummary s, summary(row, 1));
          hits.push_back({std::move(here), std::move(s)});
        }
        if (static_cast<int64_t>(r.rows.size()) == batch) {
          Cursor last{r.rows.back()[0].AsText(), r.rows.back()[1].AsInt()};
          if (!bound || before(last, *bound)) bound = std::move(last);
        }
        return Status::Ok();
      };
      QueryResult r;
      if (upper.empty()) {
        RP_ASSIGN_OR_RETURN(r, c.Query(sql::kSearchTokensUnbounded, {pos.token, pos.id, batch}));
      } else {
        RP_ASSIGN_OR_RETURN(r, c.Query(sql::kSearchTokens, {pos.token, pos.id, upper, batch}));
      }
      RP_RETURN_IF_ERROR(take(r));
      for (const char* scheme : {"email", "phone"}) {
        if (scheme[0] == 'p' && !phone_like) continue;  // a normalized phone is '+' and digits
        if (upper.empty()) {
          RP_ASSIGN_OR_RETURN(r, c.Query(sql::kSearchIdentifiersUnbounded, {scheme, pos.token, batch}));
        } else {
          RP_ASSIGN_OR_RETURN(r, c.Query(sql::kSearchIdentifiers, {scheme, pos.token, upper, batch}));
        }
        RP_RETURN_IF_ERROR(take(r));
      }
      std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) { return before(a.at, b.at); });
      for (size_t k = 0; k < hits.size(); ++k) {
        const Cursor& here = hits[k].at;
        if (bound && before(*bound, here)) break;
        // The same token stored and found as an identifier: once.
        if (k > 0 && !before(hits[k - 1].at, here)) continue;
        if (!StartsWith(here.token, lead)) continue;
        CustomerSummary& s = hits[k].summary;
        if (!kind_ok(s.kind)) continue;
        std::vector<std::string> tokens = internal::SearchTokens(s.display_name, s.email, s.phone);
        // Emit each customer once: at the first of its tokens the lead word
        // matches (an email or phone that is not its current one is none).
        auto first = std::find_if(tokens.begin(), tokens.end(), [&](const auto& t) { return StartsWith(t, lead); });
        if (first == tokens.end() || *first != here.token) continue;
        bool all = std::all_of(words.begin() + 1, words.end(), [&](const std::string& w) {
          return std::any_of(tokens.begin(), tokens.end(), [&](const auto& t) { return StartsWith(t, w); });
        });
        if (!all) continue;
        if (page.items.size() == limit) {
          page.next_cursor = EncodeCursor(*last_emitted);
          return Status::Ok();
        }
        page.items.push_back(std::move(s));
        last_emitted = here;
      }
      if (!bound) return Status::Ok();
      pos = std::move(*bound);
    }
  }));
  return page;
}

}  // namespace rapport::customer
