#pragma once
// People with known duplicates, for the linkage test and the benchmark: the
// demo company's persons (demo::Generator, German names, unique e-mails and
// mobiles) as the billing system holds them, plus for a share of them a
// second record as the web shop or call centre typed it, with the demo's own
// noise: typos in names and streets (noise::Typo), the phone written another
// way (noise::PhoneVariant), e-mail missing or mistyped, birth date missing.
#include <string>
#include <vector>

#include "demo/demo.h"
#include "identity/identity.h"

namespace rapport::identity::testing {

struct GeneratedPeople {
  RecordTable originals;               // one per person
  RecordTable duplicates;              // noisy second records of some of them
  std::vector<std::string> original_truth, duplicate_truth;  // the person behind each record
};

inline std::vector<std::string> PeopleColumns() {
  return {"first_name", "last_name", "birth_date", "email", "phone", "street", "postcode", "city"};
}

inline std::string AttributeText(const customer::CustomerRecord& r, const char* name) {
  auto it = r.attributes.find(name);
  if (it == r.attributes.end()) return "";
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return "";
}

// A second record of a person (a row in PeopleColumns order) as another
// system typed it.
inline std::vector<std::string> NoisyCopy(const std::vector<std::string>& row, demo::Rng& rng) {
  std::vector<std::string> dup = row;
  if (rng.Chance(0.3)) dup[0] = demo::noise::Typo(dup[0], rng);
  if (rng.Chance(0.3)) dup[1] = demo::noise::Typo(dup[1], rng);
  if (rng.Chance(0.15)) dup[2].clear();
  if (rng.Chance(0.3)) {
    dup[3].clear();
  } else if (rng.Chance(0.1)) {
    dup[3] = demo::noise::Typo(dup[3], rng);
  }
  std::string phone = Normalize(Normalizer::kPhone, dup[4]);
  if (phone.size() > 3 && rng.Chance(0.7)) {
    dup[4] = demo::noise::PhoneVariant(phone.substr(3), rng);
  } else if (rng.Chance(0.3)) {
    dup[4].clear();
  }
  if (rng.Chance(0.3)) dup[5] = demo::noise::Typo(dup[5], rng);
  return dup;
}

inline GeneratedPeople GeneratePeople(int64_t customers, double duplicate_rate, uint64_t seed) {
  GeneratedPeople out;
  out.originals.columns = out.duplicates.columns = PeopleColumns();
  demo::DemoOptions o;
  o.customers = customers;
  o.seed = seed;
  o.transactions_per_customer = 0;
  o.interactions_per_customer = 0;
  o.chunk_customers = 5000;
  demo::Generator gen(o);
  demo::Rng rng(seed * 31 + 7);
  demo::Chunk chunk;
  while (gen.Next(&chunk)) {
    for (const customer::CustomerRecord& r : chunk.customers) {
      if (r.kind != customer::Kind::kPerson) continue;
      std::vector<std::string> row = {AttributeText(r, "firstName"), AttributeText(r, "lastName"),
                                      AttributeText(r, "birthDate"), AttributeText(r, "email"),
                                      AttributeText(r, "phone"),     AttributeText(r, "street"),
                                      AttributeText(r, "postcode"),  AttributeText(r, "city")};
      out.originals.ids.push_back("b-" + r.source_key);
      out.originals.rows.push_back(row);
      out.original_truth.push_back(r.source_key);
      if (!rng.Chance(duplicate_rate)) continue;
      std::vector<std::string> dup = NoisyCopy(row, rng);
      out.duplicates.ids.push_back("d-" + r.source_key);
      out.duplicates.rows.push_back(std::move(dup));
      out.duplicate_truth.push_back(r.source_key);
    }
    chunk.Clear();
  }
  return out;
}

// originals and duplicates in one table (for deduplication), with the truth.
inline RecordTable Combined(const GeneratedPeople& p, std::vector<std::string>* truth) {
  RecordTable t = p.originals;
  t.ids.insert(t.ids.end(), p.duplicates.ids.begin(), p.duplicates.ids.end());
  t.rows.insert(t.rows.end(), p.duplicates.rows.begin(), p.duplicates.rows.end());
  *truth = p.original_truth;
  truth->insert(truth->end(), p.duplicate_truth.begin(), p.duplicate_truth.end());
  return t;
}

}  // namespace rapport::identity::testing
