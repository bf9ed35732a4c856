#!/usr/bin/env python3
"""Writes the large seeds of the fuzz corpora into OUT_DIR/<target>/:
long flat and/or chains, huge lists and `in` lists, deep nesting and
runaway loops (issue #12: a 15,000-term condition and a 50,000-item
postcode list crashed the server). Generated at build time rather than
kept in git, so the repository stays small; the replay tests and
`make fuzz` read both the committed and the generated seeds.

usage: make_seeds.py OUT_DIR
"""
import json
import os
import sys


def chain(term, op, n):
    return (" " + op + " ").join([term] * n)


def strings(n, prefix=""):
    return ", ".join('"%s%05d"' % (prefix, i) for i in range(n))


def feel_seeds():
    return {
        "and_chain_15000": chain("x > 1", "and", 15000),
        "or_chain_15000": chain("x = 1", "or", 15000),
        "plus_chain_20000": chain("1", "+", 20000),
        "in_list_50000": "s in (" + strings(50000) + ")",
        "list_50000": "count([" + ", ".join(str(i) for i in range(50000)) + "])",
        "parens_5000": "(" * 5000 + "1" + ")" * 5000,
        "lists_3000": "[" * 3000 + "]" * 3000,
        "negate_5000": "-" * 5000 + "1",
        "path_5000": "x" + ".a" * 5000,
        "filter_3000": "[1]" + "[1]" * 3000,
        "for_1e8": "count(for i in 1..100000000 return i) > 0",
        "for_1e5": "count(for i in 1..100000 return i) > 0",
        "nested_for": "count(for i in 1..1000, j in 1..1000, k in 1..1000 return i)",
        "recursion": "{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(1000000)}.r",
        "string_doubling": "{f: function(s, n) if n = 0 then s else f(s + s, n - 1), r: f(\"ab\", 40)}.r",
        "partial": "for i in 0..20000 return if i < 2 then i else partial[-1] + partial[-2]",
        "types_3000": "1 instance of " + "list<" * 3000 + "number" + ">" * 3000,
    }


def condition_seeds():
    return {
        "and_chain_15000": chain("revenue > 1", "and", 15000),
        "or_chain_15000": chain("orders = 1", "or", 15000),
        "mixed_chain_5000": chain("abs(revenue) > 1", "and", 5000),
        "region_in_50000": "region in (" + strings(50000, "r") + ")",
        "region_in_list_50000": "region in [" + strings(50000, "r") + "]",
        "parens_5000": "(" * 5000 + "vip" + ")" * 5000,
        "not_3000": "not(" * 3000 + "vip" + ")" * 3000,
        "for_1e8": "count(for i in 1..100000000 return i) > 0",
        "per_row_runaway": "count(for i in 1..100000 return i + revenue) > 0",
    }


def dmn_literal(name, text):
    return ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" namespace="fuzz" name="%s">'
            '<decision id="d" name="d"><literalExpression><text>%s</text></literalExpression></decision>'
            '</definitions>' % (name, text))


def dmn_seeds():
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = {}
    for key in ["for_1e8", "recursion", "nested_for", "plus_chain_20000", "parens_5000"]:
        text = feel_seeds()[key]
        if len(text) < 60000:
            out[key + ".dmn"] = dmn_literal(key, esc(text))
    out["nested_contexts.dmn"] = ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" namespace="fuzz" '
                                  'name="n"><decision id="d" name="d">' +
                                  '<context><contextEntry><variable name="a"/>' * 400 +
                                  '<literalExpression><text>1</text></literalExpression>' +
                                  '</contextEntry></context>' * 400 + '</decision></definitions>')
    return out


def request_seeds():
    chain15000 = chain("age > 1", "and", 15000)
    postcodes = "postcode in (" + strings(50000) + ")"
    bodies = {
        "preview_and_chain": (0, {"condition": chain15000}),
        "preview_postcodes": (0, {"condition": postcodes}),
        "preview_runaway": (0, {"condition": "count(for i in 1..100000 return i + age) > 0"}),
        "segment_and_chain": (1, {"name": "x", "condition": chain15000}),
        "segment_union": (1, {"name": "u", "operation": "union", "segments": [1, 2]}),
        "query_and_chain": (2, {"measures": ["count"], "filter": chain15000}),
        "query_postcodes": (2, {"measures": ["count", "sum(revenue)"], "dimensions": ["region"],
                                "filter": postcodes}),
        "query_runaway": (2, {"measures": ["count"], "filter": "count(for i in 1..100000000 return i) > 0"}),
    }
    return {k: chr(ord("0") + which) + json.dumps(body) for k, (which, body) in bodies.items()}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for target, seeds in [("feel", feel_seeds()), ("profile_condition", condition_seeds()),
                          ("dmn", dmn_seeds()), ("segment_request", request_seeds())]:
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, text in seeds.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)


if __name__ == "__main__":
    main()
