#include <gtest/gtest.h>

#include "ingest/import.h"

namespace rapport::ingest {
namespace {

using customer::AttributeDefinition;
using customer::AttributeType;
using customer::AttributeValue;

std::vector<AttributeDefinition> Catalog() {
  return {{"firstName", AttributeType::kString, true, ""}, {"lastName", AttributeType::kString, true, ""},
          {"name", AttributeType::kString, false, ""},     {"birthDate", AttributeType::kDate, true, ""},
          {"email", AttributeType::kString, true, ""},     {"phone", AttributeType::kString, true, ""},
          {"city", AttributeType::kString, false, ""},     {"employees", AttributeType::kInteger, false, ""},
          {"annualRevenue", AttributeType::kNumber, false, ""}, {"country", AttributeType::kString, false, ""}};
}

ImportOptions Options(Entity e, std::optional<Mapping> m = std::nullopt, Format f = Format::kCsv) {
  ImportOptions o;
  o.entity = e;
  o.source = "billing";
  o.format = f;
  o.mapping = std::move(m);
  return o;
}

std::string Str(const AttributeValue& v) { return std::get<std::string>(v); }

constexpr const char* kBillingMapping = R"({
  "entity": "customers",
  "delimiter": ";",
  "decimalComma": true,
  "dateFormat": "DD.MM.YYYY",
  "sourceKey": "Kundennummer",
  "kind": {"column": "Typ", "values": {"P": "person", "F": "organization"}},
  "fields": {
    "firstName": "Vorname",
    "lastName": "Nachname",
    "name": "Firma",
    "birthDate": "Geburtsdatum",
    "annualRevenue": "Umsatz",
    "employees": {"column": "Mitarbeiter", "type": "integer"},
    "country": {"constant": "DE"}
  },
  "identifiers": {"email": "E-Mail", "shop": "Shop-ID"}
})";

TEST(MappingTest, ParsesTheReferenceExample) {
  auto m = ParseMapping(kBillingMapping);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->delimiter, ';');
  EXPECT_TRUE(m->decimal_comma);
  EXPECT_EQ(m->source_key_column, "Kundennummer");
  EXPECT_EQ(m->kind_column, "Typ");
  EXPECT_EQ(m->fields.size(), 7u);
  EXPECT_EQ(m->identifiers.size(), 2u);
}

TEST(MappingTest, RejectsMistakesWithThePlace) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"fields": {"x": 3}})", "/fields/x"},
      {R"({"fields": {"x": ""}})", "/fields/x"},
      {R"({"fields": {"x": {"column": ""}}})", "/fields/x"},
      {R"({"fields": {"x": {"column": "a", "type": "money"}}})", "/fields/x/type"},
      {R"({"fields": {"x": {"colum": "a"}}})", "/fields/x"},
      {R"({"delimiter": ";;"})", "/delimiter"},
      {R"({"entity": "orders"})", "/entity"},
      {R"({"kind": "robot"})", "/kind"},
      {R"({"sourcekey": "a"})", "/sourcekey"},
  };
  for (const auto& c : cases) {
    auto m = ParseMapping(c.json);
    ASSERT_FALSE(m.ok()) << c.json;
    EXPECT_EQ(m.status().field(), c.field) << c.json << " " << m.status().ToString();
  }
  EXPECT_FALSE(ParseMapping("{").ok());
  EXPECT_FALSE(ParseMapping("[]").ok());
}

TEST(MapTextTest, CsvWithMappingRenamesAndTypes) {
  auto m = ParseMapping(kBillingMapping);
  ASSERT_TRUE(m.ok());
  std::string csv =
      "Kundennummer;Typ;Vorname;Nachname;Firma;Geburtsdatum;Umsatz;Mitarbeiter;E-Mail;Shop-ID\r\n"
      "K-1;P;Anna;M\xC3\xBCller;;02.03.1985;;;anna@example.com;S77\r\n"
      "K-2;F;;;\"Nordwind; GmbH\";;1.234.567,50;42;info@nordwind.de;\r\n";
  auto rows = MapText(csv, Options(Entity::kCustomers, *m), Catalog());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_TRUE(rows->errors.empty()) << rows->errors[0].message;
  ASSERT_EQ(rows->customers.size(), 2u);
  const auto& anna = rows->customers[0];
  EXPECT_EQ(anna.source_key, "K-1");
  EXPECT_EQ(anna.kind, customer::Kind::kPerson);
  EXPECT_EQ(Str(anna.attributes.at("lastName")), "M\xC3\xBCller");
  EXPECT_EQ(Str(anna.attributes.at("birthDate")), "1985-03-02");
  EXPECT_EQ(Str(anna.attributes.at("country")), "DE");
  EXPECT_EQ(anna.attributes.count("name"), 0u);  // empty cells set nothing
  ASSERT_EQ(anna.identifiers.size(), 2u);
  EXPECT_EQ(anna.identifiers[1].ToString(), "shop:S77");
  const auto& nordwind = rows->customers[1];
  EXPECT_EQ(nordwind.kind, customer::Kind::kOrganization);
  EXPECT_EQ(Str(nordwind.attributes.at("name")), "Nordwind; GmbH");
  EXPECT_DOUBLE_EQ(std::get<double>(nordwind.attributes.at("annualRevenue")), 1234567.5);
  EXPECT_EQ(std::get<int64_t>(nordwind.attributes.at("employees")), 42);
  EXPECT_EQ(nordwind.identifiers.size(), 1u);
  EXPECT_EQ(rows->lines, (std::vector<int64_t>{2, 3}));
}

TEST(MapTextTest, BadRowsAreReportedWithLineAndColumnAndTheRestKept) {
  auto m = ParseMapping(kBillingMapping);
  ASSERT_TRUE(m.ok());
  std::string csv =
      "Kundennummer;Typ;Vorname;Nachname;Firma;Geburtsdatum;Umsatz;Mitarbeiter;E-Mail;Shop-ID\n"
      "K-1;P;Anna;Berg;;02.03.1985;;;;\n"
      "K-2;P;Ben;\"Multi\nLine\";;31.02.1990;;;;\n"   // lines 3-4: impossible date
      "K-3;X;Cleo;Dahl;;;;;;\n"                       // line 5: unknown kind
      "K-4;P;Dora;Ek;;;;;\n"                          // line 6: too few fields
      ";P;Emil;Falk;;;;;;\n"                          // line 7: no key
      "K-6;F;;;Acme;;;4,5;;\n"                        // line 8: employees not an integer
      "K-7;P;Finn;Gran;;;;;;\n";
  auto rows = MapText(csv, Options(Entity::kCustomers, *m), Catalog());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->customers.size(), 2u);
  EXPECT_EQ(rows->customers[1].source_key, "K-7");
  EXPECT_EQ(rows->lines, (std::vector<int64_t>{2, 9}));
  ASSERT_EQ(rows->errors.size(), 5u);
  EXPECT_EQ(rows->errors[0].line, 3);
  EXPECT_EQ(rows->errors[0].column, "Geburtsdatum");
  EXPECT_EQ(rows->errors[1].line, 5);
  EXPECT_EQ(rows->errors[1].column, "Typ");
  EXPECT_EQ(rows->errors[2].line, 6);
  EXPECT_NE(rows->errors[2].message.find("fields"), std::string::npos);
  EXPECT_EQ(rows->errors[3].line, 7);
  EXPECT_EQ(rows->errors[4].line, 8);
  EXPECT_EQ(rows->errors[4].column, "Mitarbeiter");
}

TEST(MapTextTest, WithoutMappingColumnsNamedLikeFieldsMapDirectly) {
  std::string csv = "sourceKey,kind,firstName,lastName,email,phone,employees\n1,person,Ann,Lee,ann@x.org,+44 20 7946 0000,\n";
  auto rows = MapText(csv, Options(Entity::kCustomers), Catalog());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->customers.size(), 1u);
  const auto& c = rows->customers[0];
  EXPECT_EQ(Str(c.attributes.at("email")), "ann@x.org");
  ASSERT_EQ(c.identifiers.size(), 2u);  // email and phone are identifiers too
  EXPECT_EQ(c.identifiers[0].scheme, "email");

  auto unknown = MapText("sourceKey,shoeSize\n1,44\n", Options(Entity::kCustomers), Catalog());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().field(), "shoeSize");
  EXPECT_FALSE(MapText("firstName\nAnn\n", Options(Entity::kCustomers), Catalog()).ok());  // no key column
}

TEST(MapTextTest, MappingNamingAMissingColumnFailsBeforeAnyRow) {
  auto m = ParseMapping(R"({"sourceKey": "Nr", "fields": {"firstName": "Vorname"}})");
  ASSERT_TRUE(m.ok());
  auto rows = MapText("Nr,First\n1,Ann\n", Options(Entity::kCustomers, *m), Catalog());
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().field(), "/fields/firstName/column");
}

TEST(MapTextTest, NdjsonTransactionsWithMapping) {
  auto m = ParseMapping(R"({
    "entity": "transactions", "format": "ndjson",
    "sourceKey": "orderLine", "customerKey": "cust", "customerScheme": "billing",
    "timestampFormat": "epochMillis",
    "fields": {"occurredAt": "ts", "amount": "total", "sku": "sku", "quantity": "qty",
               "channel": {"constant": "web"}, "currency": {"column": "cur", "values": {"\u20ac": "EUR"}}}
  })");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string nd =
      "{\"orderLine\":\"o1-1\",\"cust\":\"K-1\",\"ts\":1709251200000,\"total\":19.99,\"sku\":\"A1\",\"qty\":2,\"cur\":\"\xE2\x82\xAC\"}\n"
      "\n"
      "{\"orderLine\":\"o1-2\",\"cust\":\"K-1\",\"ts\":\"x\",\"total\":5}\n"
      "{\"orderLine\":\"o2-1\",\"cust\":\"K-2\",\"ts\":1709337600000,\"total\":-5.5,\"extra\":{\"a\":[1,2]}}\r\n"
      "not json\n"
      "[1,2]\n";
  ImportOptions o = Options(Entity::kTransactions, *m, Format::kNdjson);
  o.source = "shop";
  auto rows = MapText(nd, o, Catalog());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->transactions.size(), 2u);
  const auto& [who, t] = rows->transactions[0];
  EXPECT_EQ(who.ToString(), "billing:K-1");
  EXPECT_EQ(t.source, "shop");
  EXPECT_EQ(t.source_key, "o1-1");
  EXPECT_EQ(FormatRfc3339(t.occurred_at), "2024-03-01T00:00:00Z");
  EXPECT_EQ(t.amount.ToString(), "19.99");
  EXPECT_DOUBLE_EQ(t.quantity, 2);
  EXPECT_EQ(t.channel, "web");
  EXPECT_EQ(t.currency, "EUR");
  EXPECT_EQ(rows->transactions[1].second.amount.ToString(), "-5.5");
  EXPECT_EQ(rows->lines, (std::vector<int64_t>{1, 4}));
  ASSERT_EQ(rows->errors.size(), 3u);
  EXPECT_EQ(rows->errors[0].line, 3);
  EXPECT_EQ(rows->errors[0].column, "ts");
  EXPECT_EQ(rows->errors[1].line, 5);
  EXPECT_EQ(rows->errors[2].line, 6);
}

TEST(MapTextTest, NdjsonCustomersWithoutMappingAndInteractionsKeepExtraColumns) {
  auto rows = MapText(
      "{\"sourceKey\":\"1\",\"firstName\":\"Ann\",\"employees\":12,\"identifiers\":[\"shop:9\",\"crm:A\"]}\n"
      "{\"sourceKey\":\"2\",\"shoeSize\":44}\n",
      Options(Entity::kCustomers, std::nullopt, Format::kNdjson), Catalog());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->customers.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(rows->customers[0].attributes.at("employees")), 12);
  EXPECT_EQ(rows->customers[0].identifiers.size(), 2u);
  ASSERT_EQ(rows->errors.size(), 1u);
  EXPECT_EQ(rows->errors[0].column, "shoeSize");

  auto inter = MapText(
      "customerKey,occurredAt,channel,type,outcome,queue\n"
      "K-1,2024-05-01T10:00:00Z,call_centre,call,resolved,\"billing \"\"urgent\"\"\"\n",
      Options(Entity::kInteractions), Catalog());
  ASSERT_TRUE(inter.ok()) << inter.status().ToString();
  ASSERT_EQ(inter->interactions.size(), 1u);
  EXPECT_EQ(inter->interactions[0].second.channel, "call_centre");
  EXPECT_EQ(inter->interactions[0].second.properties_json, R"({"queue":"billing \"urgent\""})");
}

}  // namespace
}  // namespace rapport::ingest
