#include <gtest/gtest.h>

#include "decision/trigger_fixture.h"
#include "decision/triggers.h"

namespace rapport::decision {
namespace {

using CaseTest = testing::TriggerTest;

Case NewCase(customer::CustomerId who, const std::string& team, const std::string& kind = "case") {
  Case c;
  c.customer_id = who;
  c.team = team;
  c.kind = kind;
  c.title = "Call back about the invoice";
  c.created_by = "key:test";
  return c;
}

TEST_F(CaseTest, ValidatesNewCases) {
  customer::CustomerId ada = NewCustomer();
  struct Bad {
    Case c;
    StatusCode code;
    const char* field;
  };
  Case no_title = NewCase(ada, "service");
  no_title.title = "";
  Case bad_priority = NewCase(ada, "service");
  bad_priority.priority = "whenever";
  const Bad cases[] = {
      {NewCase(ada, "legal"), StatusCode::kInvalidArgument, "/team"},
      {NewCase(ada, "service", "ticket"), StatusCode::kInvalidArgument, "/kind"},
      {no_title, StatusCode::kInvalidArgument, "/title"},
      {bad_priority, StatusCode::kInvalidArgument, "/priority"},
      {NewCase(ada + 1000, "service"), StatusCode::kUnprocessable, "/customerId"},
      {NewCase(0, "service"), StatusCode::kInvalidArgument, "/customerId"},
  };
  for (const auto& b : cases) {
    auto r = engine_->CreateCase(b.c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), b.code) << r.status().ToString();
    EXPECT_EQ(r.status().field(), b.field) << r.status().ToString();
  }
  EXPECT_TRUE(CasesOf(ada).empty());
}

TEST_F(CaseTest, StatusMovesOpenInProgressClosedAndCountsFollow) {
  customer::CustomerId ada = NewCustomer();
  auto c = engine_->CreateCase(NewCase(ada, "service"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(engine_->CreateCase(NewCase(ada, "sales")).ok());
  ASSERT_TRUE(engine_->CreateCase(NewCase(ada, "service", "task")).ok());
  EXPECT_EQ(c->status, "open");
  EXPECT_EQ(engine_->OpenCases(ada), 2);
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);

  CasePatch start;
  start.status = "in_progress";
  start.assignee = "maria";
  auto started = engine_->UpdateCase(c->id, start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->assignee, "maria");
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);  // in progress is still open

  CasePatch close;
  close.status = "closed";
  clock_.Advance(kMicrosPerSecond);
  auto closed = engine_->UpdateCase(c->id, close);
  ASSERT_TRUE(closed.ok());
  ASSERT_TRUE(closed->closed_at.has_value());
  EXPECT_EQ(closed->closed_at->micros, clock_.Now().micros);
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 0);
  EXPECT_EQ(engine_->OpenCases(ada), 1);

  CasePatch again = start;
  auto refused = engine_->UpdateCase(c->id, again);  // closed -> in_progress skips reopening
  EXPECT_EQ(refused.status().code(), StatusCode::kConflict);
  EXPECT_EQ(refused.status().field(), "/status");

  CasePatch reopen;
  reopen.status = "open";
  auto reopened = engine_->UpdateCase(c->id, reopen);
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(reopened->closed_at.has_value());
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);

  OpenEngine();  // counts are rebuilt from the table
  EXPECT_EQ(engine_->OpenCases(ada, "service"), 1);
  EXPECT_EQ(engine_->OpenCases(ada, "sales"), 1);
  EXPECT_EQ(engine_->OpenCases(ada + 1), 0);

  EXPECT_TRUE(engine_->UpdateCase(9999, reopen).status().IsNotFound());
  EXPECT_TRUE(engine_->GetCase(9999).status().IsNotFound());
}

TEST_F(CaseTest, ListsFilterAndPage) {
  customer::CustomerId ada = NewCustomer(), bob = NewCustomer("south");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine_->CreateCase(NewCase(ada, "service")).ok());
  ASSERT_TRUE(engine_->CreateCase(NewCase(ada, "marketing", "task")).ok());
  ASSERT_TRUE(engine_->CreateCase(NewCase(bob, "service")).ok());
  CaseQuery q;
  q.customer_id = ada;
  q.team = "service";
  q.limit = 2;
  auto first = engine_->ListCases(q);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_GT(first->items[0].id, first->items[1].id);  // newest first
  ASSERT_FALSE(first->next_cursor.empty());
  q.after_id = std::stoll(first->next_cursor);
  auto second = engine_->ListCases(q);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_TRUE(second->next_cursor.empty());

  CaseQuery all_service;
  all_service.team = "service";
  EXPECT_EQ(engine_->ListCases(all_service)->items.size(), 4u);
  CaseQuery tasks;
  tasks.kind = "task";
  EXPECT_EQ(engine_->ListCases(tasks)->items.size(), 1u);
  CaseQuery bad;
  bad.status = "done";
  EXPECT_EQ(engine_->ListCases(bad).status().field(), "status");
}

TEST_F(CaseTest, ViewShowsOpenCasesNewestFirst) {
  customer::CustomerId ada = NewCustomer();
  auto older = engine_->CreateCase(NewCase(ada, "service"));
  auto newer = engine_->CreateCase(NewCase(ada, "sales", "task"));
  ASSERT_TRUE(older.ok() && newer.ok());
  CasePatch close;
  close.status = "closed";
  auto closed = engine_->CreateCase(NewCase(ada, "service"));
  ASSERT_TRUE(engine_->UpdateCase(closed->id, close).ok());
  auto view = store_->View(ada);
  ASSERT_TRUE(view.ok());
  std::string cases;
  for (const auto& [name, json] : view->sections) {
    if (name == "cases") cases = json;
  }
  ASSERT_FALSE(cases.empty());
  EXPECT_EQ(cases.find(R"({"openCases":1,"items":[{"id":)" + std::to_string(newer->id)), 0u) << cases;
  EXPECT_NE(cases.find(R"("id":)" + std::to_string(older->id)), std::string::npos);
  EXPECT_EQ(cases.find(R"("id":)" + std::to_string(closed->id) + ","), std::string::npos) << cases;
}

TEST(CaseJsonTest, ParsesNewCasesAndPatches) {
  auto c = ParseNewCase(R"({"customerId": 4, "team": "service", "title": "Refund", "dueAt": "2026-12-01T10:00:00Z"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, "case");
  EXPECT_EQ(c->priority, "normal");
  ASSERT_TRUE(c->due_at.has_value());
  EXPECT_EQ(ParseNewCase(R"({"customerId": 4, "title": "x"})").status().field(), "/team");
  EXPECT_EQ(ParseNewCase(R"({"customerId": "4", "team": "service", "title": "x"})").status().field(), "/customerId");
  EXPECT_EQ(ParseNewCase(R"({"customerId": 4, "team": "service", "title": "x", "state": "open"})").status().field(),
            "/state");

  auto p = ParseCasePatch(R"({"assignee": null, "dueAt": null})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->assignee.has_value());
  EXPECT_EQ(*p->assignee, "");
  ASSERT_TRUE(p->due_at.has_value());
  EXPECT_FALSE(p->due_at->has_value());
  EXPECT_FALSE(p->status.has_value());
  EXPECT_EQ(ParseCasePatch(R"({"status": 3})").status().field(), "/status");
  EXPECT_EQ(ParseCasePatch(R"({"dueAt": "tomorrow"})").status().field(), "/dueAt");
  EXPECT_EQ(ParseCasePatch("{}").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rapport::decision
