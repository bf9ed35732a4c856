// Loading, hit policies, explanations, errors with lines, threads, JSON and
// the command functions of the dmn module.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dmn/dmn.h"
#include "dmn/tck.h"

namespace rapport::dmn {
namespace {

// A one-input table over "Score" with the given hit policy, rules as
// (input entry, output entry) and an optional outputValues list.
std::string Table(const std::string& policy, const std::vector<std::pair<std::string, std::string>>& rules,
                  const std::string& output_values = "", const std::string& default_output = "") {
  std::string x = R"(<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:t" name="t">
  <inputData id="score" name="Score"><variable name="Score" typeRef="number"/></inputData>
  <decision id="d" name="Result">
    <informationRequirement><requiredInput href="#score"/></informationRequirement>
    <decisionTable id="dt" )" + policy + R"(>
      <input label="Score"><inputExpression><text>Score</text></inputExpression></input>
      <output name="out">)";
  if (!output_values.empty()) x += "<outputValues><text>" + output_values + "</text></outputValues>";
  if (!default_output.empty()) x += "<defaultOutputEntry><text>" + default_output + "</text></defaultOutputEntry>";
  x += "</output>\n";
  for (const auto& [in, out] : rules) {
    x += "<rule><inputEntry><text>" + in + "</text></inputEntry><outputEntry><text>" + out +
         "</text></outputEntry></rule>\n";
  }
  return x + "</decisionTable></decision></definitions>";
}

feel::Value Score(int n) { return feel::Value::Context({{"Score", feel::Value::Number(n)}}); }

struct HitCase {
  std::string policy;
  int score;
  std::string expected;  // FEEL text of the result
};

class HitPolicyTest : public ::testing::TestWithParam<HitCase> {};

TEST_P(HitPolicyTest, GivesTheSpecifiedResult) {
  const HitCase& c = GetParam();
  // Rules: <10 -> "low"/1, <20 -> "mid"/2, <30 -> "high"/3, >=5 -> "any"/4
  bool numeric = c.policy.find("aggregation") != std::string::npos;
  std::vector<std::pair<std::string, std::string>> rules = {
      {"&lt;10", numeric ? "1" : "\"low\""},
      {"&lt;20", numeric ? "2" : "\"mid\""},
      {"&lt;30", numeric ? "3" : "\"high\""},
      {"&gt;=5", numeric ? "4" : "\"any\""}};
  auto model = LoadModel(Table(c.policy, rules, numeric ? "" : R"("high","mid","any","low")"), "t.dmn");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto r = (*model)->Evaluate("Result", Score(c.score));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), c.expected) << c.policy << " score " << c.score;
}

INSTANTIATE_TEST_SUITE_P(
    DecisionTableTest, HitPolicyTest,
    ::testing::Values(HitCase{"hitPolicy=\"UNIQUE\"", 35, "\"any\""},
                      HitCase{"hitPolicy=\"UNIQUE\"", 2, "null"},  // three rules match
                      HitCase{"hitPolicy=\"UNIQUE\"", 7, "null"},  // two rules match: error
                      HitCase{"hitPolicy=\"FIRST\"", 7, "\"low\""},
                      HitCase{"hitPolicy=\"FIRST\"", 99, "\"any\""},
                      HitCase{"hitPolicy=\"ANY\"", 7, "null"},  // different outputs
                      HitCase{"hitPolicy=\"PRIORITY\"", 7, "\"high\""},
                      HitCase{"hitPolicy=\"PRIORITY\"", 35, "\"any\""},
                      HitCase{"hitPolicy=\"RULE ORDER\"", 7, "[\"low\", \"mid\", \"high\", \"any\"]"},
                      HitCase{"hitPolicy=\"OUTPUT ORDER\"", 7, "[\"high\", \"mid\", \"any\", \"low\"]"},
                      HitCase{"hitPolicy=\"COLLECT\"", 15, "[\"mid\", \"high\", \"any\"]"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"SUM\"", 7, "10"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"MIN\"", 15, "2"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"MAX\"", 15, "4"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", 15, "3"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", -99, "3"},
                      HitCase{"hitPolicy=\"COLLECT\" aggregation=\"SUM\"", 40, "4"}));

TEST(DecisionTableTest, FirstHitStopsAtFirstMatchAndExplains) {
  auto model = LoadModel(Table("hitPolicy=\"FIRST\"", {{"&lt;10", "\"low\""}, {"&lt;20", "\"mid\""}, {"-", "\"other\""}}),
                         "t.dmn");
  ASSERT_TRUE(model.ok());
  auto r = (*model)->Evaluate("Result", Score(12));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), "\"mid\"");
  ASSERT_EQ(r->explanation.tables.size(), 1u);
  const TableHit& t = r->explanation.tables[0];
  EXPECT_EQ(t.element, "Result");
  EXPECT_EQ(t.table_id, "dt");
  EXPECT_EQ(t.hit_policy, "FIRST");
  EXPECT_EQ(t.matched_rules, std::vector<int>({2}));
  ASSERT_EQ(t.inputs.size(), 1u);
  EXPECT_EQ(t.inputs[0].first, "Score");
  EXPECT_EQ(t.inputs[0].second.ToString(), "12");
  EXPECT_EQ(t.deciding_inputs[0], std::vector<std::string>({"Score"}));
}

TEST(DecisionTableTest, NoMatchGivesDefaultOutput) {
  auto model = LoadModel(Table("", {{"&lt;10", "\"low\""}}, "", "\"none\""), "t.dmn");
  ASSERT_TRUE(model.ok());
  auto r = (*model)->Evaluate("Result", Score(50));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), "\"none\"");
}

TEST(DecisionTableTest, OutputOutsideOutputValuesIsAnError) {
  auto model = LoadModel(Table("", {{"-", "\"bogus\""}}, R"("a","b")"), "t.dmn");
  ASSERT_TRUE(model.ok());
  auto r = (*model)->Evaluate("Result", Score(1));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->value.is_null());
  ASSERT_FALSE(r->messages.empty());
  EXPECT_NE(r->messages[0].find("not among the output values"), std::string::npos);
}

TEST(LoadTest, MalformedXmlNamesTheLine) {
  auto model = LoadModel("<definitions>\n<decision name=\"x\">\n<oops>\n</definitions>", "bad.dmn");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("bad.dmn:"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("malformed XML"), std::string::npos);
}

TEST(LoadTest, FeelSyntaxErrorNamesElementAndLine) {
  std::string xml = Table("", {{"&lt;10", "\"low\""}, {"&lt;&lt;", "\"x\""}});
  auto model = LoadModel(xml, "t.dmn");
  ASSERT_FALSE(model.ok());
  const std::string& m = model.status().message();
  EXPECT_NE(m.find("t.dmn:9:"), std::string::npos) << m;
  EXPECT_NE(m.find("decision 'Result'"), std::string::npos) << m;
  EXPECT_NE(m.find("rule 2 input entry 1"), std::string::npos) << m;
  // Leniently, the model loads and the decision reports the error.
  LoadOptions lenient;
  lenient.strict = false;
  auto loose = LoadModel(xml, "t.dmn", lenient);
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ((*loose)->diagnostics().size(), 1u);
  auto r = (*loose)->Evaluate("Result", Score(1));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->value.is_null());
}

TEST(LoadTest, UnknownRequirementAndDuplicateRuleShapes) {
  auto a = LoadModel(R"(<definitions namespace="n"><decision id="d" name="D">
    <informationRequirement><requiredInput href="#nowhere"/></informationRequirement>
    <literalExpression><text>1</text></literalExpression></decision></definitions>)",
                     "a.dmn");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("a.dmn:1: decision 'D': refers to '#nowhere'"), std::string::npos)
      << a.status().message();
  auto b = LoadModel(R"(<definitions namespace="n"><decision id="d" name="D"><decisionTable>
    <input><inputExpression><text>1</text></inputExpression></input><output/>
    <rule><outputEntry><text>1</text></outputEntry></rule></decisionTable></decision></definitions>)",
                     "b.dmn");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("rule 1 has 0 input entries for 1 inputs"), std::string::npos)
      << b.status().message();
  auto c = LoadModel("<notdmn/>", "c.dmn");
  ASSERT_FALSE(c.ok());
}

constexpr const char* kGraph = R"(<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:g" name="g">
  <itemDefinition name="tCustomer">
    <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
    <itemComponent name="age"><typeRef>number</typeRef>
      <allowedValues><text>[0..150]</text></allowedValues></itemComponent>
  </itemDefinition>
  <inputData id="c" name="Customer"><variable name="Customer" typeRef="tCustomer"/></inputData>
  <businessKnowledgeModel id="greet" name="Greeting">
    <encapsulatedLogic>
      <formalParameter name="who" typeRef="string"/>
      <literalExpression><text>"Hello " + who</text></literalExpression>
    </encapsulatedLogic>
  </businessKnowledgeModel>
  <decision id="adult" name="Is Adult">
    <variable name="Is Adult" typeRef="boolean"/>
    <informationRequirement><requiredInput href="#c"/></informationRequirement>
    <literalExpression><text>Customer.age >= 18</text></literalExpression>
  </decision>
  <decision id="msg" name="Message">
    <variable name="Message" typeRef="string"/>
    <informationRequirement><requiredDecision href="#adult"/></informationRequirement>
    <informationRequirement><requiredInput href="#c"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="#greet"/></knowledgeRequirement>
    <context>
      <contextEntry><variable name="base"/>
        <invocation><literalExpression><text>Greeting</text></literalExpression>
          <binding><parameter name="who"/><literalExpression><text>Customer.name</text></literalExpression></binding>
        </invocation></contextEntry>
      <contextEntry>
        <conditional>
          <if><literalExpression><text>Is Adult</text></literalExpression></if>
          <then><literalExpression><text>base + ", welcome"</text></literalExpression></then>
          <else><literalExpression><text>base + ", ask a parent"</text></literalExpression></else>
        </conditional></contextEntry>
    </context>
  </decision>
  <decisionService id="svc" name="Greet Service">
    <outputDecision href="#msg"/><encapsulatedDecision href="#adult"/><inputData href="#c"/>
  </decisionService>
</definitions>)";

feel::Value Customer(const char* name, int age) {
  return feel::Value::Context({{"name", feel::Value::String(name)}, {"age", feel::Value::Number(age)}});
}

TEST(GraphTest, EvaluatesRequirementsBkmsContextsAndConditionals) {
  auto model = LoadModel(kGraph, "g.dmn");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto r = (*model)->Evaluate("Message", feel::Value::Context({{"Customer", Customer("Ann", 40)}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), "\"Hello Ann, welcome\"");
  ASSERT_NE(r->Find("Is Adult"), nullptr);
  EXPECT_EQ(r->Find("Is Adult")->value.ToString(), "true");
  auto kid = (*model)->Evaluate("msg", feel::Value::Context({{"Customer", Customer("Bo", 9)}}));
  ASSERT_TRUE(kid.ok());
  EXPECT_EQ(kid->value.ToString(), "\"Hello Bo, ask a parent\"");
  EXPECT_FALSE((*model)->Evaluate("Nope", feel::Value()).ok());
}

TEST(GraphTest, InputsOutsideTheirTypeBecomeNull) {
  auto model = LoadModel(kGraph, "g.dmn");
  ASSERT_TRUE(model.ok());
  auto r = (*model)->Evaluate("Is Adult", feel::Value::Context({{"Customer", Customer("Old", 400)}}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->value.is_null());
  ASSERT_FALSE(r->messages.empty());
  EXPECT_NE(r->messages[0].find("does not conform to type tCustomer"), std::string::npos) << r->messages[0];
}

TEST(GraphTest, DecisionServiceRunsWithItsParameters) {
  auto model = LoadModel(kGraph, "g.dmn");
  ASSERT_TRUE(model.ok());
  std::vector<NamedInput> in = {{"", "Customer", Customer("Cy", 30)}};
  auto r = (*model)->EvaluateService("Greet Service", in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), "\"Hello Cy, welcome\"");
}

// A service typed as a function item must return its output type, and a
// call must pass every parameter.
TEST(GraphTest, DecisionServiceChecksOutputTypeAndArity) {
  auto model = LoadModel(R"(<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:s" name="s">
  <itemDefinition name="tTextService"><functionItem outputTypeRef="string"/></itemDefinition>
  <inputData id="n" name="n"><variable name="n" typeRef="number"/></inputData>
  <decision id="twice" name="twice"><variable name="twice"/>
    <informationRequirement><requiredInput href="#n"/></informationRequirement>
    <literalExpression><text>n * 2</text></literalExpression>
  </decision>
  <decisionService id="svc" name="Twice Service">
    <variable name="Twice Service" typeRef="tTextService"/>
    <outputDecision href="#twice"/><inputData href="#n"/>
  </decisionService>
  <decisionService id="num" name="Twice Number">
    <outputDecision href="#twice"/><inputData href="#n"/>
  </decisionService>
  <decision id="calls" name="calls"><variable name="calls"/>
    <knowledgeRequirement><requiredKnowledge href="#num"/></knowledgeRequirement>
    <literalExpression><text>[Twice Number(4), Twice Number()]</text></literalExpression>
  </decision>
</definitions>)",
                         "s.dmn");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<NamedInput> in = {{"", "n", feel::Value::Number(4)}};
  auto typed = (*model)->EvaluateService("Twice Service", in);
  ASSERT_TRUE(typed.ok());
  EXPECT_TRUE(typed->value.is_null());
  ASSERT_FALSE(typed->messages.empty());
  EXPECT_NE(typed->messages.back().find("does not conform to its output type string"), std::string::npos)
      << typed->messages.back();
  auto untyped = (*model)->EvaluateService("Twice Number", in);
  ASSERT_TRUE(untyped.ok());
  EXPECT_EQ(untyped->value.ToString(), "8");
  auto calls = (*model)->Evaluate("calls", feel::Value::Context({}));
  ASSERT_TRUE(calls.ok());
  EXPECT_EQ(calls->value.ToString(), "[8, null]");
}

// Item definitions are types in FEEL text: `instance of` sees their
// structure (collection, components), not their allowed values.
TEST(GraphTest, InstanceOfNamesItemDefinitions) {
  auto model = LoadModel(R"(<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:i" name="i">
  <itemDefinition name="tPair">
    <itemComponent name="a"><typeRef>string</typeRef></itemComponent>
    <itemComponent name="b"><typeRef>string</typeRef></itemComponent>
  </itemDefinition>
  <itemDefinition name="tNumbers" isCollection="true"><typeRef>number</typeRef></itemDefinition>
  <itemDefinition name="tByte"><typeRef>number</typeRef><allowedValues><text>[0..255]</text></allowedValues></itemDefinition>
  <decision name="checks"><variable name="checks"/>
    <literalExpression><text>[{a: "x", b: "y", c: 1} instance of tPair, {a: "x"} instance of tPair,
      [1, 2] instance of tNumbers, [1, "2"] instance of tNumbers, 1 instance of tNumbers,
      256 instance of tByte, "1" instance of tByte, [{a: "x", b: "y"}] instance of list&lt;tPair&gt;]</text></literalExpression>
  </decision>
  <decision name="unknown"><variable name="unknown"/>
    <literalExpression><text>1 instance of tMissing</text></literalExpression>
  </decision>
</definitions>)",
                         "i.dmn", LoadOptions{.resolve_import = nullptr, .strict = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto r = (*model)->Evaluate("checks", feel::Value::Context({}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.ToString(), "[true, false, true, false, false, true, false, true]");
  ASSERT_EQ((*model)->diagnostics().size(), 1u);
  EXPECT_NE((*model)->diagnostics()[0].find("unknown type 'tMissing'"), std::string::npos)
      << (*model)->diagnostics()[0];
}

TEST(GraphTest, ManyThreadsShareOneModel) {
  auto model = LoadModel(kGraph, "g.dmn");
  ASSERT_TRUE(model.ok());
  const Model& m = **model;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int age = (i + t) % 40;
        auto r = m.Evaluate("Message", feel::Value::Context({{"Customer", Customer("Z", age)}}));
        std::string want = age >= 18 ? "\"Hello Z, welcome\"" : "\"Hello Z, ask a parent\"";
        if (!r.ok() || r->value.ToString() != want) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(JsonTest, RoundTripsDecimalsListsAndContexts) {
  auto v = ValueFromJson(R"({"a": 0.1, "b": [1, "x", true, null], "c": {"d": 12345678901234567890.5}})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->Get("a")->ToString(), "0.1");
  EXPECT_EQ(ValueToJson(*v), R"({"a":0.1,"b":[1,"x",true,null],"c":{"d":12345678901234567890.5}})");
  EXPECT_FALSE(ValueFromJson("{\"a\": }").ok());
}

TEST(CommandTest, EvalPrintsResultAndMatchedRules) {
  auto dir = std::filesystem::temp_directory_path() / "rapport_dmn_cmd_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "t.dmn") << Table("hitPolicy=\"FIRST\"", {{"&lt;10", "\"low\""}, {"-", "\"high\""}});
  std::ostringstream out;
  int rc = RunEvalCommand((dir / "t.dmn").string(), "Result", R"({"Score": 3})", out);
  EXPECT_EQ(rc, 0) << out.str();
  EXPECT_NE(out.str().find("\"low\"\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("rule 1 on Score"), std::string::npos) << out.str();
  std::ostringstream bad;
  EXPECT_EQ(RunEvalCommand((dir / "missing.dmn").string(), "Result", "{}", bad), 2);
  std::filesystem::remove_all(dir);
}

TEST(CommandTest, TckCommandEndsWithTotalsAndWritesCsv) {
  auto csv = std::filesystem::temp_directory_path() / "rapport_dmn_tck.csv";
  std::ostringstream out;
  int rc = RunTckCommand(RAPPORT_SHARED_DIR "/dmn-tck/compliance-level-2/0004-simpletable-U", csv.string(), out);
  EXPECT_EQ(rc, 0) << out.str();
  EXPECT_NE(out.str().find("3 passed, 0 failed\n"), std::string::npos) << out.str();
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, R"("compliance-level-2/0004-simpletable-U","0004-simpletable-U-test-01","001","SUCCESS","")");
  std::filesystem::remove(csv);
}

TEST(TckReaderTest, ReadsListsComponentsNilAndErrorResults) {
  auto f = ReadTckTestFile(R"(<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <modelName>m.dmn</modelName>
    <testCase id="1" type="decisionService" invocableName="svc">
      <inputNode name="a"><value xsi:type="xsd:decimal">1.50</value></inputNode>
      <inputNode name="d"><value xsi:type="xsd:date">2024-02-29</value></inputNode>
      <resultNode name="r"><expected><list><item><value xsi:type="xsd:string">x</value></item>
        <item><value xsi:nil="true"/></item></list></expected></resultNode>
      <resultNode name="s" errorResult="true"><expected><component name="k"><value xsi:type="xsd:duration">P1Y</value></component></expected></resultNode>
    </testCase></testCases>)",
                           "t.xml");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->model_name, "m.dmn");
  ASSERT_EQ(f->cases.size(), 1u);
  const TckTestCase& c = f->cases[0];
  EXPECT_EQ(c.kind, TckTestCase::Kind::kDecisionService);
  EXPECT_EQ(c.invocable_name, "svc");
  EXPECT_EQ(c.inputs[0].value.ToString(), "1.50");
  EXPECT_TRUE(c.inputs[1].value.is(feel::Type::kDate));
  EXPECT_EQ(c.results[0].expected.ToString(), "[\"x\", null]");
  EXPECT_TRUE(c.results[1].error_result);
  EXPECT_TRUE(c.results[1].expected.Get("k")->is(feel::Type::kYearsMonthsDuration));
  EXPECT_TRUE(TckValuesMatch(feel::Value::Number(feel::Decimal::FromInt(1)), feel::Value::Number(*feel::Decimal::Parse("1.000"))));
  EXPECT_FALSE(TckValuesMatch(feel::Value::Number(1), feel::Value::Number(2)));
  EXPECT_FALSE(TckValuesMatch(feel::Value::Number(1), feel::Value::String("1")));
}

TEST(TckReaderTest, KeepsStringsMadeOfSpaces) {
  auto f = ReadTckTestFile(R"(<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <modelName>m.dmn</modelName>
    <testCase id="1">
      <resultNode name="r"><expected><value xsi:type="xsd:string"> </value></expected></resultNode>
      <resultNode name="s"><expected>
        <value xsi:type="xsd:decimal"> 2 </value>
      </expected></resultNode>
    </testCase></testCases>)",
                           "t.xml");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->cases[0].results.size(), 2u);
  EXPECT_EQ(f->cases[0].results[0].expected.ToString(), "\" \"");
  EXPECT_EQ(f->cases[0].results[1].expected.ToString(), "2");
}

// A decision that would run away stops at the evaluation's budget and
// answers the limit's Status naming the decision; deep FEEL in a model is a
// load error.
std::string Literal(const std::string& feel) {
  return R"(<definitions namespace="n"><decision id="d" name="D"><literalExpression><text>)" + feel +
         "</text></literalExpression></decision></definitions>";
}

TEST(LimitsTest, RunawayDecisionStopsAtTheStepLimit) {
  auto model = LoadModel(Literal("count(for i in 1..100000000 return i)"), "t.dmn");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto r = (*model)->Evaluate("D", feel::Value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(r.status().message().find("decision 'D'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("step limit"), std::string::npos) << r.status().message();
}

TEST(LimitsTest, DeadlineAndCancellationAre503) {
  auto model = LoadModel(Literal("count(for i in 1..1000, j in 1..1000, k in 1..1000 return i)"), "t.dmn");
  ASSERT_TRUE(model.ok());
  EvaluateOptions o;
  o.limits.max_steps = uint64_t{1} << 40;
  o.limits = o.limits.WithTimeout(std::chrono::milliseconds(50));
  auto r = (*model)->Evaluate("D", feel::Value(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  std::atomic<bool> cancelled{true};
  EvaluateOptions c;
  c.limits.cancelled = &cancelled;
  auto rc = (*model)->Evaluate("D", feel::Value(), c);
  ASSERT_FALSE(rc.ok());
  EXPECT_EQ(rc.status().code(), StatusCode::kUnavailable);
}

TEST(LimitsTest, RecursiveBkmStopsAndDeepFeelIsALoadError) {
  auto ok = LoadModel(Literal("{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(100000)}.r"), "t.dmn");
  ASSERT_TRUE(ok.ok());
  auto r = (*ok)->Evaluate("D", feel::Value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnprocessable);
  std::string deep = "1";
  for (int i = 0; i < 20000; ++i) deep += " + 1";
  auto bad = LoadModel(Literal(deep), "t.dmn");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nested too deeply"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace rapport::dmn
