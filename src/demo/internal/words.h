#pragma once
// The small word lists the demo company is made of: names, places, products.
// Written for this project; nothing is fetched from elsewhere.

#include <span>
#include <string_view>

namespace rapport::demo::words {

struct City {
  std::string_view name;
  std::string_view region;
  std::string_view postcode_prefix;  // two digits
  int weight;                        // relative population
};

struct Product {
  std::string_view sku;
  std::string_view item;
  std::string_view category;
  double price;  // EUR
};

struct Company {
  std::string_view stem;
  std::string_view industry;
};

extern const std::span<const std::string_view> kFemaleFirst;
extern const std::span<const std::string_view> kMaleFirst;
extern const std::span<const std::string_view> kLast;
extern const std::span<const std::string_view> kStreets;
extern const std::span<const City> kCities;
extern const std::span<const std::string_view> kMailDomains;
extern const std::span<const std::string_view> kMailTypoDomains;  // parallel to kMailDomains
extern const std::span<const std::string_view> kCompanyPrefixes;
extern const std::span<const Company> kCompanyStems;
extern const std::span<const std::string_view> kLegalForms;
extern const std::span<const Product> kProducts;
extern const std::span<const std::string_view> kRoles;
extern const std::span<const std::string_view> kAgents;

}  // namespace rapport::demo::words
