#pragma once
// The next-best-action model both decision benches use: 100 rules over
// region, age and revenue naming 50 actions a00..a49.

#include <cstdio>
#include <string>

namespace rapport::bench {

inline constexpr const char* kRegions[] = {"north", "south", "east", "west", "central"};

// Rule i: region kRegions[i % 5], age band (i / 5) % 5 (14 years each from
// 18), revenue at least one of four thresholds; output action a(i % 50).
// A customer matches up to 4 rules; all 100 are tested (COLLECT).
inline std::string NbaModel() {
  std::string x = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:rapport:bench:nba" name="nba" id="nba">
  <inputData id="i1" name="region"><variable name="region" typeRef="string"/></inputData>
  <inputData id="i2" name="age"><variable name="age" typeRef="number"/></inputData>
  <inputData id="i3" name="revenue"><variable name="revenue" typeRef="number"/></inputData>
  <decision id="d" name="Next Best Actions">
    <informationRequirement><requiredInput href="#i1"/></informationRequirement>
    <informationRequirement><requiredInput href="#i2"/></informationRequirement>
    <informationRequirement><requiredInput href="#i3"/></informationRequirement>
    <decisionTable id="t" hitPolicy="COLLECT">
      <input><inputExpression typeRef="string"><text>region</text></inputExpression></input>
      <input><inputExpression typeRef="number"><text>age</text></inputExpression></input>
      <input><inputExpression typeRef="number"><text>revenue</text></inputExpression></input>
      <output name="action" typeRef="string"/>
)";
  const int thresholds[] = {0, 100, 500, 1000};
  for (int i = 0; i < 100; ++i) {
    int lo = 18 + ((i / 5) % 5) * 14;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "      <rule id=\"r%d\"><inputEntry><text>\"%s\"</text></inputEntry><inputEntry><text>[%d..%d)</text>"
                  "</inputEntry><inputEntry><text>&gt;= %d</text></inputEntry><outputEntry><text>\"a%02d\"</text>"
                  "</outputEntry></rule>\n",
                  i, kRegions[i % 5], lo, lo + 14, thresholds[(i / 25) % 4], i % 50);
    x += buf;
  }
  x += "    </decisionTable>\n  </decision>\n</definitions>\n";
  return x;
}

}  // namespace rapport::bench
