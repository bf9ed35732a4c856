// The Segment payload decoder: accepted calls, and the precise field of
// every rejection (table-driven), batches with bad items, limits, clock skew.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "ingest/tracking.h"

namespace rapport::ingest {
namespace {

const Timestamp kNow = *ParseRfc3339("2026-03-01T12:00:00Z");

TEST(TrackingDecodeTest, IdentifyFromSegmentDocs) {
  auto r = DecodeCall(EventType::kIdentify, R"({
    "userId": "019mr8mf4r",
    "traits": {"email": "pgibbons@example.com", "name": "Peter Gibbons", "industry": "Technology"},
    "context": {"ip": "24.5.68.47"},
    "timestamp": "2012-12-02T00:30:08.276Z"})",
                      kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  const TrackingEvent& e = r->events[0];
  EXPECT_EQ(e.type, EventType::kIdentify);
  EXPECT_EQ(e.user_id, "019mr8mf4r");
  EXPECT_EQ(e.traits_json, R"({"email":"pgibbons@example.com","name":"Peter Gibbons","industry":"Technology"})");
  EXPECT_EQ(e.context_json, R"({"ip":"24.5.68.47"})");
  EXPECT_EQ(FormatRfc3339(e.timestamp), "2012-12-02T00:30:08.276Z");  // no sentAt: as given
  EXPECT_EQ(e.received_at, kNow);
  EXPECT_EQ(e.message_id.rfind("rp-", 0), 0u) << "a message id is generated when absent";
  EXPECT_EQ(e.message_id.size(), 35u);
}

TEST(TrackingDecodeTest, EveryTypeWithItsFields) {
  auto track = DecodeCall(EventType::kTrack, R"({"anonymousId":"a1","event":"Order Completed","properties":{"total":3}})", kNow);
  ASSERT_TRUE(track.ok());
  EXPECT_EQ(track->events[0].event, "Order Completed");
  EXPECT_EQ(track->events[0].properties_json, R"({"total":3})");
  auto page = DecodeCall(EventType::kPage, R"({"userId":"u","name":"Home","category":"Docs","properties":{"path":"/"}})", kNow);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events[0].name, "Home");
  EXPECT_EQ(page->events[0].category, "Docs");
  auto screen = DecodeCall(EventType::kScreen, R"({"userId":"u","name":"Settings"})", kNow);
  ASSERT_TRUE(screen.ok());
  EXPECT_EQ(screen->events[0].type, EventType::kScreen);
  auto group = DecodeCall(EventType::kGroup, R"({"userId":"u","groupId":42,"traits":{"name":"Initech"}})", kNow);
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->events[0].group_id, "42") << "numeric ids are read as their decimal text";
  auto alias = DecodeCall(EventType::kAlias, R"({"previousId":"anon-1","userId":"u"})", kNow);
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->events[0].previous_id, "anon-1");
}

TEST(TrackingDecodeTest, UnknownMembersAreToleratedAsSdksAddTheirOwn) {
  auto r = DecodeCall(EventType::kTrack,
                      R"({"userId":"u","event":"e","_metadata":{"nodeVersion":"20"},"channel":"server","version":2})", kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(EventToJson(r->events[0]).find("_metadata"), std::string::npos);
}

struct BadCall {
  EventType type;
  const char* body;
  const char* field;
  const char* message_part;
};

// Test names show the body, not the struct's bytes.
void PrintTo(const BadCall& c, std::ostream* os) { *os << c.body; }

class TrackingDecodeErrorTest : public ::testing::TestWithParam<BadCall> {};

TEST_P(TrackingDecodeErrorTest, NamesTheField) {
  const BadCall& c = GetParam();
  auto r = DecodeCall(c.type, c.body, kNow);
  ASSERT_FALSE(r.ok()) << c.body;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), c.field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TrackingDecodeErrorTest,
    ::testing::Values(
        BadCall{EventType::kTrack, R"({"userId":"u"})", "/event", "missing required field"},
        BadCall{EventType::kTrack, R"({"event":"e"})", "/userId", "either userId or anonymousId"},
        BadCall{EventType::kTrack, R"({"userId":"","anonymousId":null,"event":"e"})", "/userId", "either userId"},
        BadCall{EventType::kTrack, R"({"userId":"u","event":7})", "/event", "expected a string, got a number"},
        BadCall{EventType::kTrack, R"({"userId":true,"event":"e"})", "/userId", "expected a string"},
        BadCall{EventType::kTrack, R"({"userId":"u","event":"e","properties":[1]})", "/properties", "expected an object"},
        BadCall{EventType::kTrack, R"({"userId":"u","event":"e","context":"x"})", "/context", "expected an object"},
        BadCall{EventType::kTrack, R"({"userId":"u","event":"e","timestamp":"yesterday"})", "/timestamp", ""},
        BadCall{EventType::kTrack, R"({"userId":"u","event":"e","sentAt":12})", "/sentAt", "RFC 3339"},
        BadCall{EventType::kTrack, R"({"type":"page","userId":"u","event":"e"})", "/type", "does not match the path"},
        BadCall{EventType::kTrack, R"({"type":"click","userId":"u","event":"e"})", "/type", "type must be"},
        BadCall{EventType::kIdentify, R"({"userId":"u","traits":"vip"})", "/traits", "expected an object"},
        BadCall{EventType::kGroup, R"({"userId":"u"})", "/groupId", "needs a groupId"},
        BadCall{EventType::kAlias, R"({"userId":"u"})", "/previousId", "needs a previousId"},
        BadCall{EventType::kAlias, R"({"previousId":"a"})", "/userId", "needs a userId"},
        BadCall{EventType::kPage, R"({"userId":"u","name":["Home"]})", "/name", "expected a string"},
        BadCall{EventType::kTrack, R"([1,2])", "", "expected an object"},
        BadCall{EventType::kTrack, R"({"userId":"u","event":"e",})", "", "malformed JSON at offset"},
        BadCall{EventType::kTrack, "", "", "needs a JSON body"}));

// rapidjson's full-precision parser reads out of bounds for such a number;
// json::Parse refuses it before rapidjson sees it (found by the fuzz target).
TEST(TrackingDecodeTest, AbsurdlyLongNumbersAreRefusedBeforeParsing) {
  std::string zeros(400, '0');
  auto r = DecodeCall(EventType::kTrack, R"({"userId":"u","event":"e","properties":{"x":0.)" + zeros + "1}}", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("a number longer than 128 characters"), std::string::npos) << r.status().ToString();
  auto text = DecodeCall(EventType::kTrack, R"({"userId":"u","event":"e","properties":{"x":"0.)" + zeros + "1\"}}", kNow);
  EXPECT_TRUE(text.ok()) << "digits inside strings are text: " << text.status().ToString();
}

TEST(TrackingDecodeTest, OversizedCallIs413) {
  std::string big = R"({"userId":"u","event":"e","properties":{"blob":")" + std::string(40 * 1024, 'x') + "\"}}";
  auto r = DecodeCall(EventType::kTrack, big, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find("32768"), std::string::npos) << r.status().ToString();
}

TEST(TrackingDecodeTest, OversizedBatchIs413) {
  std::string item = R"({"type":"track","userId":"u","event":"e","properties":{"blob":")" + std::string(20 * 1024, 'x') + "\"}}";
  std::string body = "{\"batch\":[";
  for (int i = 0; i < 30; ++i) body += (i ? "," : "") + item;
  body += "]}";
  auto r = DecodeBatch(body, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find("512000"), std::string::npos) << r.status().ToString();
}

TEST(TrackingDecodeTest, BatchRejectsBadItemsAndKeepsTheRest) {
  std::string big = R"({"type":"track","userId":"u","event":"e","properties":{"blob":")" + std::string(33 * 1024, 'x') + "\"}}";
  auto r = DecodeBatch(R"({"batch":[
      {"type":"identify","userId":"u1"},
      {"type":"track","userId":"u1"},
      "not an event",
      {"userId":"u1","event":"e"},
      )" + big + R"(,
      {"type":"page","anonymousId":"a","name":"Home"}]})",
                       kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].type, EventType::kIdentify);
  EXPECT_EQ(r->events[1].type, EventType::kPage);
  ASSERT_EQ(r->rejected.size(), 4u);
  EXPECT_EQ(r->rejected[0].index, 1u);
  EXPECT_EQ(r->rejected[0].status.field(), "/batch/1/event");
  EXPECT_EQ(r->rejected[1].status.field(), "/batch/2");
  EXPECT_EQ(r->rejected[2].status.field(), "/batch/3/type");
  EXPECT_EQ(r->rejected[3].status.code(), StatusCode::kPayloadTooLarge);
  EXPECT_EQ(r->rejected[3].status.field(), "/batch/4");
}

TEST(TrackingDecodeTest, BatchNeedsAnArray) {
  for (const char* body : {R"({})", R"({"batch":{}})", R"({"batch":null})"}) {
    auto r = DecodeBatch(body, kNow);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().field(), "/batch") << body;
  }
}

TEST(TrackingDecodeTest, BatchContextAndSentAtAreDefaults) {
  auto r = DecodeBatch(R"({
      "batch":[{"type":"track","userId":"u","event":"e","context":{"ip":"1.2.3.4"},"timestamp":"2026-03-01T11:59:50Z"},
               {"type":"track","userId":"u","event":"e","timestamp":"2026-03-01T11:59:50Z","sentAt":"2026-03-01T11:59:55Z"}],
      "context":{"library":{"name":"analytics-node"},"ip":"9.9.9.9"},
      "sentAt":"2026-03-01T12:00:05Z",
      "writeKey":"abc"})",
                       kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->write_key, "abc");
  EXPECT_EQ(r->events[0].context_json, R"({"library":{"name":"analytics-node"},"ip":"1.2.3.4"})");
  // The client's clock ran 5 s ahead of ours (sent at 12:00:05 as we received it at 12:00:00).
  EXPECT_EQ(FormatRfc3339(r->events[0].timestamp), "2026-03-01T11:59:45Z");
  EXPECT_EQ(FormatRfc3339(*r->events[0].original_timestamp), "2026-03-01T11:59:50Z");
  // An event's own sentAt wins over the batch's.
  EXPECT_EQ(FormatRfc3339(r->events[1].timestamp), "2026-03-01T11:59:55Z");
}

TEST(TrackingDecodeTest, ClockSkewUsesOriginalTimestamp) {
  auto r = DecodeCall(EventType::kTrack, R"({"userId":"u","event":"e",
      "originalTimestamp":"2026-03-01T08:00:00Z","sentAt":"2026-03-01T08:00:30Z"})",
                      kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatRfc3339(r->events[0].timestamp), "2026-03-01T11:59:30Z");
  auto none = DecodeCall(EventType::kTrack, R"({"userId":"u","event":"e"})", kNow);
  EXPECT_EQ(none->events[0].timestamp, kNow);
}

TEST(TrackingDecodeTest, EventJsonRoundTrips) {
  auto r = DecodeCall(EventType::kPage, R"({"userId":"u","anonymousId":"a","messageId":"m1","name":"Home",
      "properties":{"path":"/"},"integrations":{"All":false},"timestamp":"2026-03-01T10:00:00Z"})",
                      kNow);
  ASSERT_TRUE(r.ok());
  std::string json = EventToJson(r->events[0]);
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError()) << json;
  EXPECT_STREQ(d["type"].GetString(), "page");
  EXPECT_STREQ(d["messageId"].GetString(), "m1");
  EXPECT_STREQ(d["properties"]["path"].GetString(), "/");
  EXPECT_FALSE(d["integrations"]["All"].GetBool());
  EXPECT_STREQ(d["timestamp"].GetString(), "2026-03-01T10:00:00Z");
  EXPECT_STREQ(d["receivedAt"].GetString(), "2026-03-01T12:00:00Z");
}

}  // namespace
}  // namespace rapport::ingest

namespace rapport::ingest {
namespace {

// Issue #12: an order's money is checked when the call is accepted, each
// bad item of a batch rejected with its pointer, the rest accepted.
TEST(TrackingDecodeTest, BadOrdersAndIdsAreRejectedByIndex) {
  auto r = DecodeBatch(R"({"batch":[
    {"type":"track","userId":"u1","event":"Order Completed","properties":{"total":19.99,"currency":"eur"}},
    {"type":"track","userId":"u1","event":"Order Completed","properties":{"total":10,"currency":"DOGECOIN"}},
    {"type":"track","userId":"u1","event":"Order Completed","properties":{"products":[{"price":1,"quantity":-1000000}]}},
    {"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":1e308}},
    {"type":"identify","userId":"u1\r\nX: 1"},
    {"type":"track","userId":"u1","event":"Sign\nup"},
    {"type":"track","userId":"u1","event":"x","timestamp":"0000-01-01T00:00:00Z"},
    {"type":"track","userId":"u1","event":"x","sentAt":"2026-03-01T12:00:00Z","originalTimestamp":"1900-01-01T00:00:00Z"}
  ]})",
                       kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  ASSERT_EQ(r->rejected.size(), 6u);
  std::vector<std::string> fields;
  for (const auto& x : r->rejected) fields.push_back(x.status.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"/batch/1/properties/currency",
                                              "/batch/2/properties/products/0/quantity",
                                              "/batch/3/properties/revenue", "/batch/4/userId", "/batch/5/event",
                                              "/batch/6/timestamp"}));
  rapidjson::Document p;
  p.Parse(r->events[0].properties_json.c_str());
  auto tx = OrderTransactions(r->events[0], p, "web", "");
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ((*tx)[0].amount.ToString(), "19.99");
  EXPECT_EQ((*tx)[0].currency, "EUR");
}

}  // namespace
}  // namespace rapport::ingest
