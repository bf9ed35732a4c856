// Pure model functions: identifier normalization, value coercion, kinds.

#include <gtest/gtest.h>

#include "customer/customer.h"

namespace rapport::customer {
namespace {

struct IdentifierCase {
  std::string text;
  bool ok;
  std::string normalized;  // when ok
};

TEST(IdentifierTest, NormalizesOrRejects) {
  const IdentifierCase cases[] = {
      {"email: Anna.Schmidt@Example.COM ", true, "email:anna.schmidt@example.com"},
      {"EMAIL:a@b.de", true, "email:a@b.de"},
      {"email:anna", false, ""},
      {"email:a@b@c.de", false, ""},
      {"email:@b.de", false, ""},
      {"email:a@localhost", false, ""},
      {"email:a@.de", false, ""},
      {"email:a@b.", false, ""},
      {"email:a b@c.de", false, ""},
      {"phone:+49 (30) 123-4567", true, "phone:+49301234567"},
      {"phone:030 1234567", true, "phone:0301234567"},  // national: no country is guessed
      {"phone:0049 30 1234567", true, "phone:+49301234567"},
      {"phone:+0301234567", false, ""},
      {"phone:123456", false, ""},
      {"phone:+1234567890123456", false, ""},
      {"phone:+49 30 CALL-ME", false, ""},
      {"billing:88231", true, "billing:88231"},
      {"billing:  88231 ", true, "billing:88231"},
      {"billing:", false, ""},
      {"no-colon", false, ""},
      {"9lives:x", false, ""},
      {"bad scheme:x", false, ""},
      {"Segment.User:u-1", true, "segment.user:u-1"},
  };
  for (const auto& c : cases) {
    auto r = ParseIdentifier(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.text;
    if (r.ok() && c.ok) {
      EXPECT_EQ(r->ToString(), c.normalized) << c.text;
    }
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    }
  }
}

struct CoerceCase {
  AttributeType type;
  AttributeValue in;
  bool ok;
  AttributeValue out;
};

TEST(AttributeTest, CoercesByCatalogType) {
  const CoerceCase cases[] = {
      {AttributeType::kString, std::string("x"), true, std::string("x")},
      {AttributeType::kString, int64_t{1}, false, {}},
      {AttributeType::kNumber, int64_t{3}, true, 3.0},
      {AttributeType::kNumber, 2.5, true, 2.5},
      {AttributeType::kNumber, std::string("2.5"), false, {}},
      {AttributeType::kInteger, int64_t{7}, true, int64_t{7}},
      {AttributeType::kInteger, 7.0, true, int64_t{7}},
      {AttributeType::kInteger, 7.5, false, {}},
      {AttributeType::kBoolean, true, true, true},
      {AttributeType::kBoolean, int64_t{1}, false, {}},
      {AttributeType::kDate, std::string("1985-02-28"), true, std::string("1985-02-28")},
      {AttributeType::kDate, std::string("1985-02-30"), false, {}},
      {AttributeType::kDate, std::string("1985-2-3"), false, {}},
      {AttributeType::kDate, std::string("2024-02-29"), true, std::string("2024-02-29")},
      {AttributeType::kTimestamp, std::string("2026-03-01T12:30:00+02:00"), true,
       std::string("2026-03-01T10:30:00Z")},
      {AttributeType::kTimestamp, std::string("yesterday"), false, {}},
      {AttributeType::kString, std::monostate{}, true, std::monostate{}},
  };
  int i = 0;
  for (const auto& c : cases) {
    AttributeDefinition def{"x", c.type, false, ""};
    auto r = CoerceAttribute(def, c.in);
    EXPECT_EQ(r.ok(), c.ok) << "case " << i;
    if (r.ok() && c.ok) {
      EXPECT_EQ(*r, c.out) << "case " << i;
    }
    ++i;
  }
}

TEST(AttributeTest, EmailAndPhoneAttributesAreNormalized) {
  auto e = CoerceAttribute({"email", AttributeType::kString, true, ""}, std::string(" A@B.COM"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<std::string>(*e), "a@b.com");
  EXPECT_FALSE(CoerceAttribute({"email", AttributeType::kString, true, ""}, std::string("nope")).ok());
  auto p = CoerceAttribute({"phone", AttributeType::kString, true, ""}, std::string("+49 30 1234567"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(std::get<std::string>(*p), "+49301234567");
}

TEST(KindTest, RoundTrips) {
  for (Kind k : {Kind::kPerson, Kind::kHousehold, Kind::kOrganization}) {
    auto r = ParseKind(KindName(k));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, k);
  }
  auto bad = ParseKind("company");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "/kind");
  for (AttributeType t : {AttributeType::kString, AttributeType::kNumber, AttributeType::kInteger,
                          AttributeType::kBoolean, AttributeType::kDate, AttributeType::kTimestamp}) {
    auto r = ParseAttributeType(AttributeTypeName(t));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, t);
  }
  EXPECT_FALSE(ParseAttributeType("float").ok());
}

}  // namespace
}  // namespace rapport::customer

namespace rapport::customer {
namespace {

// Issue #12: NUL in names and CR/LF in identifiers were accepted.
TEST(ModelTest, NamesHoldValidTextAndIdentifiersNoControlCharacters) {
  AttributeDefinition name{"firstName", AttributeType::kString, true, ""};
  EXPECT_FALSE(CoerceAttribute(name, AttributeValue(std::string("Ann\0e", 5))).ok());
  EXPECT_FALSE(CoerceAttribute(name, AttributeValue(std::string("Ren\xE9"))).ok());  // Latin-1
  EXPECT_TRUE(CoerceAttribute(name, AttributeValue(std::string("Ren\xC3\xA9"))).ok());
  for (const char* bad : {"billing:88231\r\nSet-Cookie: a=1", "billing:88\t231", "shop:a\nb"}) {
    EXPECT_FALSE(ParseIdentifier(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseIdentifier("billing:88231 A").ok());
  AttributeDefinition birth{"birthDate", AttributeType::kDate, true, ""};
  EXPECT_FALSE(CoerceAttribute(birth, AttributeValue(std::string("0000-01-01"))).ok());
  EXPECT_TRUE(CoerceAttribute(birth, AttributeValue(std::string("1950-01-01"))).ok());
  AttributeDefinition seen{"lastSeen", AttributeType::kTimestamp, false, ""};
  EXPECT_FALSE(CoerceAttribute(seen, AttributeValue(std::string("0000-01-01T00:00:00Z"))).ok());
}

}  // namespace
}  // namespace rapport::customer
