// The demo company, unit by unit: a single person, a household with its
// members, or an organization with its contacts. Each unit draws from its own
// random stream (seed, unit number), so a chunk's content does not depend on
// how the stream is cut.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "demo/demo.h"
#include "demo/internal/words.h"

namespace rapport::demo {

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rng::Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

int64_t Rng::Between(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Rng::Normal() {
  double u1 = Uniform();
  double u2 = Uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double Rng::LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }

int64_t Rng::Poisson(double mean) {
  if (mean <= 0) return 0;
  if (mean > 60) return std::max<int64_t>(0, std::llround(mean + std::sqrt(mean) * Normal()));
  double l = std::exp(-mean), p = 1;
  int64_t k = 0;
  do {
    ++k;
    p *= Uniform();
  } while (p > l);
  return k - 1;
}

namespace noise {

std::string Typo(std::string_view s, Rng& rng) {
  std::string out(s);
  if (out.size() < 3) return out;
  size_t i = 1 + rng.Below(out.size() - 2);
  // Only touch ASCII letters so UTF-8 stays valid.
  auto ascii = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!ascii(out[i]) || !ascii(out[i - 1])) return out;
  switch (rng.Below(3)) {
    case 0: std::swap(out[i], out[i - 1]); break;
    case 1: out.erase(i, 1); break;
    default: out.insert(i, 1, out[i]); break;
  }
  return out;
}

std::string Asciify(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xC3 && i + 1 < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[++i]);
      switch (d) {
        case 0xA4: case 0x84: out += "ae"; break;
        case 0xB6: case 0x96: out += "oe"; break;
        case 0xBC: case 0x9C: out += "ue"; break;
        case 0x9F: out += "ss"; break;
        case 0xA7: out += "c"; break;
        default: break;
      }
    } else if (c == 0xC4 && i + 1 < s.size()) {
      ++i;  // ı and friends
      out += "i";
    } else if (c == 0xC5 && i + 1 < s.size()) {
      ++i;
      out += "s";
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string PhoneVariant(std::string_view national, Rng& rng) {
  // national: "1712345678" (without the leading 0).
  std::string_view prefix = national.substr(0, 3), rest = national.substr(3);
  switch (rng.Below(4)) {
    case 0: return "+49 " + std::string(prefix) + " " + std::string(rest);
    case 1: return "0" + std::string(prefix) + " " + std::string(rest);
    case 2: return "0" + std::string(prefix) + "/" + std::string(rest.substr(0, 3)) + " " + std::string(rest.substr(3));
    default: return "+49" + std::string(national);
  }
}

}  // namespace noise

void Chunk::Clear() {
  customers.clear();
  changes.clear();
  relationships.clear();
  accounts.clear();
  transactions.clear();
  interactions.clear();
  consents.clear();
}

namespace {

using customer::AttributeValue;
using customer::CustomerRecord;
using customer::Identifier;
using customer::Kind;
using Attributes = std::map<std::string, AttributeValue>;

constexpr int64_t kDay = kMicrosPerDay;
constexpr int64_t kYear = 365 * kDay;

// An open-addressing set of 64-bit hashes: 16 bytes per entry at most, so
// ten million customers' e-mails and phones fit.
class HashSet {
 public:
  HashSet() : slots_(1 << 12, 0) {}
  // Inserts h; false when it was there already.
  bool Insert(uint64_t h) {
    if (h == 0) h = 1;
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }

 private:
  void Grow() {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, 0);
    size_ = 0;
    for (uint64_t h : old) {
      if (h != 0) Insert(h);
    }
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

uint64_t Fnv(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  Rng r(a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL));
  return r.Next();
}

struct Address {
  std::string street, city, postcode, region;
};

struct PersonFacts {
  std::string first, last, gender;
  Timestamp birth;
  std::string email, phone;
};

}  // namespace

struct Generator::State {
  DemoOptions opt;
  int64_t next_ordinal = 1;
  uint64_t unit = 0;
  HashSet contacts;                     // e-mails and phones in use
  std::vector<std::string> recent_orgs;  // candidates for subsidiary_of
  std::vector<double> city_cdf, product_cdf;
  Timestamp window_start;

  explicit State(DemoOptions o) : opt(o) {
    window_start = Timestamp{opt.end.micros - 3 * kYear};
    double acc = 0;
    for (const auto& c : words::kCities) city_cdf.push_back(acc += c.weight);
    acc = 0;
    for (const auto& p : words::kProducts) product_cdf.push_back(acc += 1.0 / std::sqrt(p.price));
  }

  static size_t FromCdf(const std::vector<double>& cdf, Rng& rng) {
    double x = rng.Uniform() * cdf.back();
    return static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
  }

  std::string NextKey() {
    char buf[24];
    std::snprintf(buf, sizeof buf, "C%08lld", static_cast<long long>(next_ordinal++));
    return buf;
  }

  Timestamp RandomTime(Rng& rng, Timestamp lo, Timestamp hi) {
    if (hi.micros <= lo.micros) return lo;
    int64_t span = (hi.micros - lo.micros) / kMicrosPerSecond;
    return Timestamp{lo.micros + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(span))) * kMicrosPerSecond};
  }

  // A time in [lo, end) weighted by month (Christmas peak, January dip) and
  // by slow growth over the three years; daytime hours.
  Timestamp SeasonalTime(Rng& rng, Timestamp lo) {
    static constexpr double kMonth[] = {0.75, 0.8, 0.95, 1.0, 1.0, 0.9, 0.85, 0.85, 1.0, 1.05, 1.45, 1.9};
    if (lo.micros < window_start.micros) lo = window_start;
    for (int tries = 0; tries < 64; ++tries) {
      Timestamp t = RandomTime(rng, lo, opt.end);
      int64_t y;
      unsigned m, d;
      CivilFromDays(t.micros / kDay, &y, &m, &d);
      double growth = 0.85 + 0.3 * static_cast<double>(t.micros - window_start.micros) / (3.0 * kYear);
      if (rng.Uniform() * 1.9 * 1.15 < kMonth[m - 1] * growth) {
        int64_t day_start = (t.micros / kDay) * kDay;
        return Timestamp{day_start + (8 * 3600 + static_cast<int64_t>(rng.Below(13 * 3600))) * kMicrosPerSecond};
      }
    }
    return RandomTime(rng, lo, opt.end);
  }

  Address RandomAddress(Rng& rng) {
    const auto& city = words::kCities[FromCdf(city_cdf, rng)];
    Address a;
    a.street = std::string(rng.Pick(words::kStreets.data(), words::kStreets.size())) + " " +
               std::to_string(rng.Between(1, 140));
    if (rng.Chance(0.08)) a.street += static_cast<char>('a' + rng.Below(3));
    a.city = std::string(city.name);
    char pc[8];
    std::snprintf(pc, sizeof pc, "%s%03d", std::string(city.postcode_prefix).c_str(), static_cast<int>(rng.Below(1000)));
    a.postcode = pc;
    a.region = std::string(city.region);
    return a;
  }

  static void PutAddress(const Address& a, Attributes* attrs) {
    (*attrs)["street"] = a.street;
    (*attrs)["city"] = a.city;
    (*attrs)["postcode"] = a.postcode;
    (*attrs)["region"] = a.region;
    (*attrs)["country"] = std::string("DE");
  }

  // A unique e-mail: the wanted local part, with digits added on a clash.
  std::string UniqueEmail(Rng& rng, std::string local, std::string_view domain) {
    std::string email = local + "@" + std::string(domain);
    for (int n = 0; !contacts.Insert(Fnv(email)); ++n) {
      email = local + std::to_string(n < 3 ? rng.Between(1, 99) : rng.Between(100, 99999)) + "@" + std::string(domain);
    }
    return email;
  }

  std::string UniqueMobile(Rng& rng) {
    static constexpr std::string_view kPrefixes[] = {"151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "178", "179"};
    while (true) {
      std::string n(kPrefixes[rng.Below(std::size(kPrefixes))]);
      n += std::to_string(rng.Between(1000000, 99999999));
      if (contacts.Insert(Fnv("+49" + n))) return n;
    }
  }

  PersonFacts MakePerson(Rng& rng, std::string last, int min_age, int max_age, std::string gender = "") {
    PersonFacts p;
    p.gender = gender.empty() ? (rng.Chance(0.5) ? "female" : "male") : gender;
    const auto& firsts = p.gender == "female" ? words::kFemaleFirst : words::kMaleFirst;
    p.first = std::string(rng.Pick(firsts.data(), firsts.size()));
    p.last = last.empty() ? std::string(rng.Pick(words::kLast.data(), words::kLast.size())) : last;
    int64_t age_days = rng.Between(min_age * 365, max_age * 365 + 364);
    p.birth = Timestamp{opt.end.micros - age_days * kDay};
    return p;
  }

  // Private e-mail and mobile, with the noise real data has.
  void Contact(Rng& rng, PersonFacts* p, std::string_view company_domain = "") {
    std::string f = noise::Asciify(p->first), l = noise::Asciify(p->last);
    int64_t y;
    unsigned m, d;
    CivilFromDays(p->birth.micros / kDay, &y, &m, &d);
    std::string local;
    if (!company_domain.empty()) {
      local = f + "." + l;
    } else {
      switch (rng.Below(5)) {
        case 0: local = f + "." + l; break;
        case 1: local = f.substr(0, 1) + l; break;
        case 2: local = f + "_" + l; break;
        case 3: local = f + "." + l + std::to_string(y % 100); break;
        default: local = f + l + std::to_string(rng.Between(1, 999)); break;
      }
    }
    if (rng.Chance(0.02)) local = noise::Typo(local, rng);
    size_t di = rng.Below(words::kMailDomains.size());
    std::string_view domain = company_domain.empty()
                                  ? (rng.Chance(0.02) ? words::kMailTypoDomains[di] : words::kMailDomains[di])
                                  : company_domain;
    if (company_domain.empty() && rng.Chance(0.06)) {
      p->email.clear();  // some customers never gave one
    } else {
      p->email = UniqueEmail(rng, local, domain);
    }
    p->phone = rng.Chance(0.85) ? noise::PhoneVariant(UniqueMobile(rng), rng) : "";
  }

  Timestamp Since(Rng& rng) {
    if (rng.Chance(0.7)) return RandomTime(rng, Timestamp{window_start.micros - 7 * kYear}, window_start);
    return RandomTime(rng, window_start, Timestamp{opt.end.micros - 30 * kDay});
  }

  CustomerRecord PersonRecord(const std::string& key, const PersonFacts& p, const Address& a, Timestamp since) {
    CustomerRecord r;
    r.source_key = key;
    r.kind = Kind::kPerson;
    r.valid_from = since;
    r.attributes["firstName"] = p.first;
    r.attributes["lastName"] = p.last;
    r.attributes["birthDate"] = FormatDate(p.birth);
    r.attributes["gender"] = p.gender;
    r.attributes["language"] = std::string("de");
    PutAddress(a, &r.attributes);
    if (!p.email.empty()) {
      r.attributes["email"] = p.email;
      r.identifiers.push_back(Identifier{"email", p.email});
    }
    if (!p.phone.empty()) {
      r.attributes["phone"] = p.phone;
      r.identifiers.push_back(Identifier{"phone", p.phone});
    }
    return r;
  }

  void Consents(Rng& rng, const std::string& key, Timestamp since, bool business, Chunk* out) {
    struct Offer {
      const char* channel;
      const char* purpose;
      double p;
    };
    static constexpr Offer kPerson[] = {{"email", "marketing", 0.65}, {"sms", "marketing", 0.25},
                                        {"post", "marketing", 0.4},   {"email", "profiling", 0.5}};
    static constexpr Offer kBusiness[] = {{"email", "marketing", 0.8}, {"phone", "marketing", 0.5}};
    const Offer* offers = business ? kBusiness : kPerson;
    size_t n = business ? std::size(kBusiness) : std::size(kPerson);
    for (size_t i = 0; i < n; ++i) {
      if (!rng.Chance(offers[i].p)) continue;
      customer::Consent c;
      c.channel = offers[i].channel;
      c.purpose = offers[i].purpose;
      c.granted = true;
      c.at = since;
      c.source = rng.Chance(0.6) ? "webshop" : "store";
      out->consents.push_back({key, c});
      if (rng.Chance(0.12)) {
        c.granted = false;
        c.at = RandomTime(rng, std::max(since, window_start), opt.end);
        c.source = rng.Chance(0.5) ? "unsubscribe_link" : "call_centre";
        out->consents.push_back({key, c});
      }
    }
  }

  void Accounts(Rng& rng, const std::string& key, Kind kind, Timestamp since, Chunk* out) {
    struct Plan {
      const char* product;
      double p;
      double value;
    };
    static constexpr Plan kPersonPlans[] = {{"Loyalty card", 0.6, 0}, {"Online account", 0.5, 0},
                                            {"Store credit card", 0.12, 1500}, {"Premium membership", 0.1, 59}};
    static constexpr Plan kHouseholdPlans[] = {{"Family plan", 0.35, 240}};
    static constexpr Plan kOrgPlans[] = {{"Business account", 0.9, 0}, {"Service agreement", 0.4, 4800},
                                         {"Credit line", 0.25, 25000}};
    const Plan* plans = kind == Kind::kPerson ? kPersonPlans : kind == Kind::kHousehold ? kHouseholdPlans : kOrgPlans;
    size_t n = kind == Kind::kPerson ? std::size(kPersonPlans)
               : kind == Kind::kHousehold ? std::size(kHouseholdPlans) : std::size(kOrgPlans);
    int k = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!rng.Chance(plans[i].p)) continue;
      customer::Account a;
      a.source = std::string(kCustomerSource);
      a.source_key = "A" + key.substr(1) + "-" + std::to_string(++k);
      a.product = plans[i].product;
      a.opened_at = RandomTime(rng, since, std::max(since, Timestamp{opt.end.micros - 60 * kDay}));
      // Whole cents, as Money (10^-4 units): the same draws as when it was a double.
      a.balance = Money::FromUnits(
          plans[i].value > 0 ? std::llround(plans[i].value * (0.5 + rng.Uniform()) * 100) * 100 : 0);
      if (rng.Chance(0.1)) {
        a.status = "closed";
        a.closed_at = RandomTime(rng, a.opened_at, opt.end);
      }
      out->accounts.emplace_back(Identifier{std::string(kCustomerSource), key}, std::move(a));
    }
  }

  void Transactions(Rng& rng, const std::string& key, bool business, const Address& a, Timestamp since, Chunk* out) {
    // A heavy-tailed appetite: most customers buy a little, a few a lot.
    constexpr double kSigma = 1.15;
    double appetite = rng.LogNormal(-kSigma * kSigma / 2, kSigma);
    Timestamp from = std::max(since, window_start);
    double active = static_cast<double>(opt.end.micros - from.micros) / (3.0 * kYear);
    int64_t n = rng.Poisson(opt.transactions_per_customer * appetite * active * (business ? 1.5 : 1.0));
    for (int64_t i = 0; i < n; ++i) {
      const auto& prod = words::kProducts[FromCdf(product_cdf, rng)];
      customer::Transaction t;
      t.source = std::string(kTransactionSource);
      t.source_key = "T" + key.substr(1) + "-" + std::to_string(i + 1);
      t.occurred_at = SeasonalTime(rng, from);
      double r = rng.Uniform();
      if (business) {
        t.channel = r < 0.5 ? "field" : r < 0.9 ? "web" : "phone";
        t.quantity = static_cast<double>(rng.Between(1, 25));
      } else {
        t.channel = r < 0.45 ? "web" : r < 0.85 ? "store" : r < 0.95 ? "app" : "phone";
        t.quantity = rng.Chance(0.8) ? 1 : static_cast<double>(rng.Between(2, 4));
      }
      t.location = t.channel == "store" ? "store-" + noise::Asciify(a.city) : t.channel == "web" ? "webshop" : t.channel;
      t.sku = std::string(prod.sku);
      t.item = std::string(prod.item);
      t.category = std::string(prod.category);
      t.amount = Money::FromUnits(std::llround(prod.price * t.quantity * 100) * 100);
      if (rng.Chance(0.03)) {
        t.amount = Money::FromUnits(-t.amount.units());  // a refund
        t.quantity = -t.quantity;
      }
      out->transactions.emplace_back(Identifier{std::string(kCustomerSource), key}, std::move(t));
    }
  }

  void Interactions(Rng& rng, const std::string& key, bool business, const Address& a, Timestamp since, Chunk* out) {
    static constexpr const char* kCampaigns[] = {"spring-sale", "summer-clearance", "back-to-school", "black-friday",
                                                 "christmas", "loyalty-upgrade", "winback"};
    static constexpr const char* kServicePurposes[] = {"billing question", "delivery status", "return", "complaint",
                                                       "product advice", "address change", "warranty claim"};
    Timestamp from = std::max(since, window_start);
    double active = static_cast<double>(opt.end.micros - from.micros) / (3.0 * kYear);
    int64_t n = rng.Poisson(opt.interactions_per_customer * active * (0.4 + 1.2 * rng.Uniform()));
    for (int64_t i = 0; i < n; ++i) {
      customer::Interaction x;
      x.source = std::string(kInteractionSource);
      x.source_key = "I" + key.substr(1) + "-" + std::to_string(i + 1);
      x.occurred_at = SeasonalTime(rng, from);
      double r = rng.Uniform();
      if (business && r < 0.35) r = 0.95;  // businesses see field sales most
      if (r < 0.33) {
        x.channel = "web";
        x.agent = "website";
        x.department = "marketing";
        x.type = rng.Chance(0.7) ? "page_view" : "chat";
        x.purpose = x.type == "chat" ? kServicePurposes[rng.Below(std::size(kServicePurposes))] : "browse";
        x.touch_point = "/" + std::string(words::kProducts[rng.Below(words::kProducts.size())].category);
        x.direction = "inbound";
        x.outcome = rng.Chance(0.2) ? "added_to_cart" : "viewed";
      } else if (r < 0.58) {
        x.channel = "email";
        x.agent = "campaign-engine";
        x.department = "marketing";
        x.type = "email";
        x.campaign = kCampaigns[rng.Below(std::size(kCampaigns))];
        x.purpose = "offer";
        x.touch_point = "newsletter";
        x.direction = "outbound";
        double o = rng.Uniform();
        x.outcome = o < 0.55 ? "delivered" : o < 0.85 ? "opened" : o < 0.97 ? "clicked" : "bounced";
      } else if (r < 0.73) {
        x.channel = "store";
        x.agent = std::string(words::kAgents[rng.Below(words::kAgents.size())]);
        x.department = "sales";
        x.type = "visit";
        x.purpose = rng.Chance(0.6) ? "product advice" : "pickup";
        x.touch_point = "store-" + noise::Asciify(a.city);
        x.direction = "inbound";
        x.outcome = rng.Chance(0.55) ? "sale" : "advice_given";
      } else if (r < 0.9) {
        x.channel = "call_centre";
        x.agent = std::string(words::kAgents[rng.Below(words::kAgents.size())]);
        x.department = "service";
        x.type = rng.Chance(0.85) ? "call" : "complaint";
        x.purpose = kServicePurposes[rng.Below(std::size(kServicePurposes))];
        x.touch_point = rng.Chance(0.5) ? "queue-general" : "queue-billing";
        x.direction = rng.Chance(0.8) ? "inbound" : "outbound";
        x.reason = x.purpose;
        double o = rng.Uniform();
        x.outcome = o < 0.7 ? "resolved" : o < 0.85 ? "escalated" : o < 0.95 ? "callback" : "no_answer";
      } else {
        x.channel = "field_sales";
        x.agent = std::string(words::kAgents[rng.Below(words::kAgents.size())]);
        x.department = "sales";
        x.type = rng.Chance(0.6) ? "meeting" : "visit";
        x.purpose = rng.Chance(0.5) ? "contract renewal" : "new offer";
        x.touch_point = "on-site " + a.city;
        x.direction = "outbound";
        double o = rng.Uniform();
        x.outcome = o < 0.4 ? "offer_sent" : o < 0.6 ? "won" : o < 0.75 ? "lost" : "follow_up";
      }
      out->interactions.emplace_back(Identifier{std::string(kCustomerSource), key}, std::move(x));
    }
  }

  // A move to a new address (and a new family name at marriage), back-dated.
  void MaybeChange(Rng& rng, const CustomerRecord& r, Timestamp since, bool may_marry, const Address* moved_to,
                   Timestamp when, Chunk* out) {
    CustomerRecord c = r;
    bool changed = false;
    if (moved_to != nullptr) {
      PutAddress(*moved_to, &c.attributes);
      changed = true;
    }
    if (may_marry) {
      c.attributes["lastName"] = std::string(rng.Pick(words::kLast.data(), words::kLast.size()));
      changed = true;
    }
    if (!changed || since.micros + kDay >= opt.end.micros) return;
    c.identifiers.clear();
    c.valid_from = std::max(when, Timestamp{since.micros + kDay});
    out->changes.push_back(std::move(c));
  }

  void SinglePerson(Rng& rng, Chunk* out) {
    std::string key = NextKey();
    PersonFacts p = MakePerson(rng, "", 18, 85);
    Contact(rng, &p);
    Address a = RandomAddress(rng);
    Timestamp since = Since(rng);
    CustomerRecord r = PersonRecord(key, p, a, since);
    Timestamp when = RandomTime(rng, std::max(since, window_start), Timestamp{opt.end.micros - 30 * kDay});
    bool moves = rng.Chance(0.1);
    int64_t age = (opt.end.micros - p.birth.micros) / kYear;
    bool marries = !moves && p.gender == "female" && age < 45 && rng.Chance(0.2);
    Address next = RandomAddress(rng);
    MaybeChange(rng, r, since, marries, moves ? &next : nullptr, when, out);
    out->customers.push_back(std::move(r));
    Consents(rng, key, since, false, out);
    Accounts(rng, key, Kind::kPerson, since, out);
    Transactions(rng, key, false, moves ? next : a, since, out);
    Interactions(rng, key, false, a, since, out);
  }

  void Household(Rng& rng, int members, Chunk* out) {
    std::string hkey = NextKey();
    std::string last(rng.Pick(words::kLast.data(), words::kLast.size()));
    Address a = RandomAddress(rng);
    Timestamp since = Since(rng);
    bool moves = rng.Chance(0.1);
    Address next = RandomAddress(rng);
    Timestamp when = RandomTime(rng, std::max(since, window_start), Timestamp{opt.end.micros - 30 * kDay});
    CustomerRecord h;
    h.source_key = hkey;
    h.kind = Kind::kHousehold;
    h.valid_from = since;
    h.attributes["name"] = "Haushalt " + last;
    PutAddress(a, &h.attributes);
    MaybeChange(rng, h, since, false, moves ? &next : nullptr, when, out);
    out->customers.push_back(std::move(h));
    Accounts(rng, hkey, Kind::kHousehold, since, out);
    int adult_age = static_cast<int>(rng.Between(25, 70));
    for (int m = 0; m < members; ++m) {
      bool adult = m < 2;
      PersonFacts p = adult ? MakePerson(rng, last, std::max(18, adult_age - 4), adult_age + 4)
                            : MakePerson(rng, last, std::max(0, adult_age - 45), std::max(1, adult_age - 22));
      int64_t age = (opt.end.micros - p.birth.micros) / kYear;
      std::string key = NextKey();
      Timestamp member_since = std::max(since, p.birth);
      if (age >= 16) Contact(rng, &p);
      CustomerRecord r = PersonRecord(key, p, a, member_since);
      MaybeChange(rng, r, member_since, false, moves ? &next : nullptr, when, out);
      out->customers.push_back(std::move(r));
      out->relationships.push_back({key, hkey, "member_of", adult ? "adult" : "child", member_since});
      if (age >= 18) {
        Consents(rng, key, member_since, false, out);
        Accounts(rng, key, Kind::kPerson, member_since, out);
        Transactions(rng, key, false, moves ? next : a, member_since, out);
        Interactions(rng, key, false, a, member_since, out);
      }
    }
  }

  void Organization(Rng& rng, int contacts_n, Chunk* out) {
    std::string okey = NextKey();
    const auto& stem = words::kCompanyStems[rng.Below(words::kCompanyStems.size())];
    std::string prefix(words::kCompanyPrefixes[rng.Below(words::kCompanyPrefixes.size())]);
    std::string name = prefix + " " + std::string(stem.stem) + " " +
                       std::string(words::kLegalForms[rng.Below(words::kLegalForms.size())]);
    std::string domain = noise::Asciify(prefix + std::string(stem.stem));
    domain += "-" + std::to_string(rng.Between(1, 999)) + ".de";
    Address a = RandomAddress(rng);
    Timestamp since = Since(rng);
    CustomerRecord o;
    o.source_key = okey;
    o.kind = Kind::kOrganization;
    o.valid_from = since;
    o.attributes["name"] = name;
    o.attributes["industry"] = std::string(stem.industry);
    int64_t employees = std::min<int64_t>(200000, static_cast<int64_t>(std::ceil(rng.LogNormal(2.5, 1.5))));
    o.attributes["employees"] = employees;
    o.attributes["annualRevenue"] = std::round(employees * rng.LogNormal(11.5, 0.5));
    o.attributes["segment"] = std::string(employees >= 250 ? "enterprise" : employees >= 10 ? "mid-market" : "small business");
    PutAddress(a, &o.attributes);
    std::string info = UniqueEmail(rng, "info", domain);
    o.attributes["email"] = info;
    o.identifiers.push_back(Identifier{"email", info});
    out->customers.push_back(std::move(o));
    if (!recent_orgs.empty() && rng.Chance(0.2)) {
      const std::string& parent = recent_orgs[rng.Below(recent_orgs.size())];
      out->relationships.push_back({okey, parent, "subsidiary_of", "", since});
    }
    if (recent_orgs.size() < 256) {
      recent_orgs.push_back(okey);
    } else {
      recent_orgs[rng.Below(recent_orgs.size())] = okey;
    }
    Consents(rng, okey, since, true, out);
    Accounts(rng, okey, Kind::kOrganization, since, out);
    Transactions(rng, okey, true, a, since, out);
    Interactions(rng, okey, true, a, since, out);
    for (int c = 0; c < contacts_n; ++c) {
      std::string key = NextKey();
      PersonFacts p = MakePerson(rng, "", 24, 64);
      Contact(rng, &p, domain);
      Address home = RandomAddress(rng);
      Timestamp csince = RandomTime(rng, since, Timestamp{opt.end.micros - 30 * kDay});
      CustomerRecord r = PersonRecord(key, p, home, csince);
      out->customers.push_back(std::move(r));
      out->relationships.push_back(
          {key, okey, "works_for", std::string(words::kRoles[c == 0 ? rng.Below(3) : rng.Below(words::kRoles.size())]), csince});
      Interactions(rng, key, true, a, csince, out);
    }
  }
};

Generator::Generator(DemoOptions options) : state_(std::make_unique<State>(options)) {}
Generator::~Generator() = default;

int64_t Generator::customers_done() const { return state_->next_ordinal - 1; }

bool Generator::Next(Chunk* chunk) {
  chunk->Clear();
  State& s = *state_;
  const int64_t total = s.opt.customers;
  const size_t want = static_cast<size_t>(std::max(1, s.opt.chunk_customers));
  while (chunk->customers.size() < want && s.next_ordinal <= total) {
    Rng rng(Mix(s.opt.seed, s.unit++));
    int64_t left = total - s.next_ordinal + 1;
    double r = rng.Uniform();
    if (r < 0.42 || left < 3) {
      s.SinglePerson(rng, chunk);
    } else if (r < 0.82) {
      int members = static_cast<int>(std::min<int64_t>(left - 1, 2 + (rng.Chance(0.6) ? rng.Between(0, 3) : 0)));
      s.Household(rng, members, chunk);
    } else {
      int contacts = static_cast<int>(std::min<int64_t>(left - 1, rng.Between(1, 4)));
      s.Organization(rng, contacts, chunk);
    }
  }
  return !chunk->customers.empty();
}

}  // namespace rapport::demo
