// The model configuration as JSON: strict, every error names its field.
#include <algorithm>
#include <cstdio>

#include "common/json.h"
#include "identity/identity.h"

namespace rapport::identity {
namespace {

using json::Need;
using json::ObjectReader;

Status ExpectArray(const rapidjson::Value* v, const std::string& pointer) {
  if (!v || !v->IsArray()) {
    return Status::InvalidArgument(std::string("expected an array, got ") +
                                       (v ? std::string(json::TypeName(*v)) : std::string("nothing")),
                                   pointer);
  }
  return Status::Ok();
}

std::string LevelLabel(const Level& l) {
  char buf[64];
  switch (l.kind) {
    case LevelKind::kExact: return l.term_frequency ? "exact (tf)" : "exact";
    case LevelKind::kJaroWinkler: std::snprintf(buf, sizeof buf, "jw>=%g", l.threshold); return buf;
    case LevelKind::kLevenshtein: std::snprintf(buf, sizeof buf, "lev<=%d", l.max_distance); return buf;
    case LevelKind::kDamerau: std::snprintf(buf, sizeof buf, "dl<=%d", l.max_distance); return buf;
    case LevelKind::kSoundex: return "soundex";
    case LevelKind::kDateWithin: std::snprintf(buf, sizeof buf, "date within %d days", l.max_days); return buf;
    case LevelKind::kNumberWithin:
      std::snprintf(buf, sizeof buf, "within %g or %g%%", l.max_difference, l.max_relative * 100);
      return buf;
    case LevelKind::kElse: return "else";
  }
  return "?";
}

Status ReadNormalizer(ObjectReader& r, Normalizer* out, bool* given = nullptr) {
  std::string name;
  RP_RETURN_IF_ERROR(r.String("normalizer", &name));
  if (given) *given = !name.empty();
  if (name.empty()) return Status::Ok();
  auto n = ParseNormalizer(name);
  if (!n.ok()) return Status::InvalidArgument(n.status().message(), r.Pointer("normalizer"));
  *out = *n;
  return Status::Ok();
}

Result<Level> ReadLevel(const rapidjson::Value& v, const std::string& pointer) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(v, pointer));
  std::string type;
  RP_RETURN_IF_ERROR(r.String("type", &type, Need::kRequired));
  Level l;
  auto need_positive = [&](std::string_view key, double x) -> Status {
    if (!(x > 0)) return Status::InvalidArgument("must be greater than 0", r.Pointer(key));
    return Status::Ok();
  };
  if (type == "exact") {
    l.kind = LevelKind::kExact;
    RP_RETURN_IF_ERROR(r.Bool("termFrequency", &l.term_frequency));
  } else if (type == "jaroWinkler") {
    l.kind = LevelKind::kJaroWinkler;
    RP_RETURN_IF_ERROR(r.Double("threshold", &l.threshold, Need::kRequired));
    if (!(l.threshold > 0 && l.threshold <= 1)) {
      return Status::InvalidArgument("must be in (0, 1]", r.Pointer("threshold"));
    }
  } else if (type == "levenshtein" || type == "damerauLevenshtein") {
    l.kind = type == "levenshtein" ? LevelKind::kLevenshtein : LevelKind::kDamerau;
    int64_t d = 0;
    RP_RETURN_IF_ERROR(r.Int64("maxDistance", &d, Need::kRequired));
    if (d < 1 || d > 16) return Status::InvalidArgument("must be between 1 and 16", r.Pointer("maxDistance"));
    l.max_distance = static_cast<int>(d);
  } else if (type == "soundex") {
    l.kind = LevelKind::kSoundex;
  } else if (type == "dateWithin") {
    l.kind = LevelKind::kDateWithin;
    int64_t d = 0;
    RP_RETURN_IF_ERROR(r.Int64("maxDays", &d, Need::kRequired));
    if (d < 0 || d > 366000) return Status::InvalidArgument("must be between 0 and 366000", r.Pointer("maxDays"));
    l.max_days = static_cast<int>(d);
  } else if (type == "numberWithin") {
    l.kind = LevelKind::kNumberWithin;
    RP_RETURN_IF_ERROR(r.Double("maxDifference", &l.max_difference));
    RP_RETURN_IF_ERROR(r.Double("maxRelative", &l.max_relative));
    if (l.max_difference < 0) return Status::InvalidArgument("must not be negative", r.Pointer("maxDifference"));
    if (l.max_relative < 0) return Status::InvalidArgument("must not be negative", r.Pointer("maxRelative"));
    if (l.max_difference == 0 && l.max_relative == 0) {
      RP_RETURN_IF_ERROR(need_positive("maxDifference", 0));
    }
  } else if (type == "else") {
    l.kind = LevelKind::kElse;
  } else {
    return Status::InvalidArgument("unknown level type \"" + type +
                                       "\"; expected exact, jaroWinkler, levenshtein, damerauLevenshtein, soundex, "
                                       "dateWithin, numberWithin or else",
                                   r.Pointer("type"));
  }
  RP_RETURN_IF_ERROR(r.String("label", &l.label));
  RP_RETURN_IF_ERROR(r.Finish());
  if (l.label.empty()) l.label = LevelLabel(l);
  return l;
}

Result<Comparison> ReadComparison(const rapidjson::Value& v, const std::string& pointer) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(v, pointer));
  Comparison c;
  std::string column;
  RP_RETURN_IF_ERROR(r.String("column", &column));
  RP_RETURN_IF_ERROR(r.Strings("columns", &c.columns));
  if (!column.empty() && !c.columns.empty()) {
    return Status::InvalidArgument("give either column or columns, not both", r.Pointer("columns"));
  }
  if (!column.empty()) c.columns.push_back(column);
  if (c.columns.empty()) return Status::InvalidArgument("a comparison needs a column", r.Pointer("column"));
  for (size_t i = 0; i < c.columns.size(); ++i) {
    if (c.columns[i].empty()) return Status::InvalidArgument("must not be empty", json::Child(r.Pointer("columns"), i));
  }
  RP_RETURN_IF_ERROR(r.String("name", &c.name));
  if (c.name.empty()) {
    for (const std::string& col : c.columns) c.name += (c.name.empty() ? "" : "+") + col;
  }
  RP_RETURN_IF_ERROR(ReadNormalizer(r, &c.normalizer));
  const rapidjson::Value* levels = r.Find("levels");
  RP_RETURN_IF_ERROR(ExpectArray(levels, r.Pointer("levels")));
  for (rapidjson::SizeType i = 0; i < levels->Size(); ++i) {
    std::string lp = json::Child(r.Pointer("levels"), i);
    RP_ASSIGN_OR_RETURN(Level l, ReadLevel((*levels)[i], lp));
    if (!c.levels.empty() && c.levels.back().kind == LevelKind::kElse) {
      return Status::InvalidArgument("\"else\" must be the last level", lp);
    }
    if (l.term_frequency && !c.levels.empty()) {
      // Term frequencies replace u of an exact match only where it is the
      // first (most similar) level, as in Splink.
      return Status::InvalidArgument("termFrequency is allowed on the first level only", lp + "/termFrequency");
    }
    c.levels.push_back(std::move(l));
  }
  if (c.levels.empty()) return Status::InvalidArgument("needs at least one level", r.Pointer("levels"));
  if (c.levels.back().kind != LevelKind::kElse) {
    Level e;
    e.kind = LevelKind::kElse;
    e.label = "else";
    c.levels.push_back(e);
  }
  if (c.levels.size() > 14) return Status::InvalidArgument("at most 13 levels", r.Pointer("levels"));
  RP_RETURN_IF_ERROR(r.Finish());
  return c;
}

Result<KeyPart> ReadKeyPart(const rapidjson::Value& v, const std::string& pointer) {
  KeyPart p;
  if (v.IsString()) {  // shorthand: just the column
    p.column = v.GetString();
    if (p.column.empty()) return Status::InvalidArgument("must not be empty", pointer);
    return p;
  }
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(v, pointer));
  RP_RETURN_IF_ERROR(r.String("column", &p.column, Need::kRequired));
  if (p.column.empty()) return Status::InvalidArgument("must not be empty", r.Pointer("column"));
  std::string transform;
  RP_RETURN_IF_ERROR(r.String("transform", &transform));
  if (transform.empty() || transform == "none") {
    p.transform = KeyPart::Transform::kNone;
  } else if (transform == "prefix") {
    p.transform = KeyPart::Transform::kPrefix;
    int64_t len = 0;
    RP_RETURN_IF_ERROR(r.Int64("length", &len, Need::kRequired));
    if (len < 1 || len > 64) return Status::InvalidArgument("must be between 1 and 64", r.Pointer("length"));
    p.length = static_cast<int>(len);
  } else if (transform == "soundex") {
    p.transform = KeyPart::Transform::kSoundex;
  } else if (transform == "year") {
    p.transform = KeyPart::Transform::kYear;
  } else {
    return Status::InvalidArgument("unknown transform \"" + transform + "\"; expected none, prefix, soundex or year",
                                   r.Pointer("transform"));
  }
  Normalizer n = Normalizer::kText;
  bool given = false;
  RP_RETURN_IF_ERROR(ReadNormalizer(r, &n, &given));
  if (given) p.normalizer = n;
  RP_RETURN_IF_ERROR(r.Finish());
  return p;
}

}  // namespace

std::string BlockingRule::Describe() const {
  std::string out;
  for (const KeyPart& p : parts) {
    if (!out.empty()) out += " & ";
    switch (p.transform) {
      case KeyPart::Transform::kNone: out += p.column; break;
      case KeyPart::Transform::kPrefix: out += "prefix" + std::to_string(p.length) + "(" + p.column + ")"; break;
      case KeyPart::Transform::kSoundex: out += "soundex(" + p.column + ")"; break;
      case KeyPart::Transform::kYear: out += "year(" + p.column + ")"; break;
    }
  }
  return out;
}

Result<ModelConfig> ParseModelConfig(std::string_view text) {
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(text));
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(*doc, ""));
  ModelConfig config;

  const rapidjson::Value* comparisons = r.Find("comparisons");
  RP_RETURN_IF_ERROR(ExpectArray(comparisons, "/comparisons"));
  for (rapidjson::SizeType i = 0; i < comparisons->Size(); ++i) {
    RP_ASSIGN_OR_RETURN(Comparison c, ReadComparison((*comparisons)[i], json::Child("/comparisons", i)));
    config.comparisons.push_back(std::move(c));
  }
  if (config.comparisons.empty()) return Status::InvalidArgument("needs at least one comparison", "/comparisons");
  if (config.comparisons.size() > 16) return Status::InvalidArgument("at most 16 comparisons", "/comparisons");

  const rapidjson::Value* blocking = r.Find("blocking");
  RP_RETURN_IF_ERROR(ExpectArray(blocking, "/blocking"));
  for (rapidjson::SizeType i = 0; i < blocking->Size(); ++i) {
    std::string bp = json::Child("/blocking", i);
    const rapidjson::Value& rule = (*blocking)[i];
    RP_RETURN_IF_ERROR(ExpectArray(&rule, bp));
    BlockingRule b;
    for (rapidjson::SizeType k = 0; k < rule.Size(); ++k) {
      RP_ASSIGN_OR_RETURN(KeyPart p, ReadKeyPart(rule[k], json::Child(bp, k)));
      b.parts.push_back(std::move(p));
    }
    if (b.parts.empty()) return Status::InvalidArgument("a blocking rule needs at least one column", bp);
    config.blocking.push_back(std::move(b));
  }
  if (config.blocking.empty()) {
    return Status::InvalidArgument("needs at least one blocking rule (comparing every pair does not scale)",
                                   "/blocking");
  }
  if (const rapidjson::Value* det = r.Find("deterministic")) {
    RP_RETURN_IF_ERROR(ExpectArray(det, "/deterministic"));
    for (rapidjson::SizeType i = 0; i < det->Size(); ++i) {
      std::string dp = json::Child("/deterministic", i);
      RP_ASSIGN_OR_RETURN(ObjectReader d, ObjectReader::Of((*det)[i], dp));
      DeterministicRule rule;
      RP_RETURN_IF_ERROR(d.String("column", &rule.column, Need::kRequired));
      if (rule.column.empty()) return Status::InvalidArgument("must not be empty", d.Pointer("column"));
      RP_RETURN_IF_ERROR(ReadNormalizer(d, &rule.normalizer));
      RP_RETURN_IF_ERROR(d.Finish());
      config.deterministic.push_back(std::move(rule));
    }
  }
  RP_RETURN_IF_ERROR(r.String("defaultCountryCode", &config.normalize.default_country_code));
  if (config.normalize.default_country_code.empty() || config.normalize.default_country_code.size() > 3 ||
      !std::all_of(config.normalize.default_country_code.begin(), config.normalize.default_country_code.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument("must be 1 to 3 digits (a calling code such as \"49\")", "/defaultCountryCode");
  }
  RP_RETURN_IF_ERROR(r.Int64("maxBlockSize", &config.max_block_size));
  if (config.max_block_size < 2) return Status::InvalidArgument("must be at least 2", "/maxBlockSize");

  if (const rapidjson::Value* t = r.Find("thresholds")) {
    RP_ASSIGN_OR_RETURN(ObjectReader tr, ObjectReader::Of(*t, "/thresholds"));
    RP_RETURN_IF_ERROR(tr.Double("autoMerge", &config.auto_merge_threshold));
    RP_RETURN_IF_ERROR(tr.Double("review", &config.review_threshold));
    RP_RETURN_IF_ERROR(tr.Finish());
    for (auto [key, v] : {std::pair{"autoMerge", config.auto_merge_threshold}, {"review", config.review_threshold}}) {
      if (!(v > 0 && v < 1)) return Status::InvalidArgument("must be a probability in (0, 1)", tr.Pointer(key));
    }
    if (config.review_threshold > config.auto_merge_threshold) {
      return Status::InvalidArgument("must not exceed autoMerge", "/thresholds/review");
    }
  }
  if (const rapidjson::Value* t = r.Find("training")) {
    RP_ASSIGN_OR_RETURN(ObjectReader tr, ObjectReader::Of(*t, "/training"));
    RP_RETURN_IF_ERROR(tr.Int64("uSamplePairs", &config.u_sample_pairs));
    int64_t iterations = config.em_max_iterations;
    RP_RETURN_IF_ERROR(tr.Int64("emMaxIterations", &iterations));
    RP_RETURN_IF_ERROR(tr.Double("emTolerance", &config.em_tolerance));
    int64_t seed = static_cast<int64_t>(config.seed);
    RP_RETURN_IF_ERROR(tr.Int64("seed", &seed));
    RP_RETURN_IF_ERROR(tr.Finish());
    if (config.u_sample_pairs < 1000 || config.u_sample_pairs > 1000000000) {
      return Status::InvalidArgument("must be between 1000 and 1000000000", "/training/uSamplePairs");
    }
    if (iterations < 1 || iterations > 1000) {
      return Status::InvalidArgument("must be between 1 and 1000", "/training/emMaxIterations");
    }
    if (!(config.em_tolerance > 0)) return Status::InvalidArgument("must be greater than 0", "/training/emTolerance");
    config.em_max_iterations = static_cast<int>(iterations);
    config.seed = static_cast<uint64_t>(seed);
  }
  if (const rapidjson::Value* sv = r.Find("survivorship")) {
    RP_ASSIGN_OR_RETURN(ObjectReader sr, ObjectReader::Of(*sv, "/survivorship"));
    RP_RETURN_IF_ERROR(sr.String("sourceColumn", &config.source_column));
    RP_RETURN_IF_ERROR(sr.String("timeColumn", &config.time_column));
    if (const rapidjson::Value* rules = sr.Find("rules")) {
      RP_RETURN_IF_ERROR(ExpectArray(rules, "/survivorship/rules"));
      for (rapidjson::SizeType i = 0; i < rules->Size(); ++i) {
        std::string rp = json::Child("/survivorship/rules", i);
        RP_ASSIGN_OR_RETURN(ObjectReader rr, ObjectReader::Of((*rules)[i], rp));
        SurvivorshipRule rule;
        std::string name;
        RP_RETURN_IF_ERROR(rr.String("column", &rule.column, Need::kRequired));
        if (rule.column.empty()) return Status::InvalidArgument("must not be empty", rr.Pointer("column"));
        RP_RETURN_IF_ERROR(rr.String("rule", &name, Need::kRequired));
        auto parsed = ParseSurvivorship(name);
        if (!parsed.ok()) return Status::InvalidArgument(parsed.status().message(), rr.Pointer("rule"));
        rule.rule = *parsed;
        RP_RETURN_IF_ERROR(rr.Strings("trustedSources", &rule.trusted_sources));
        if (rule.rule == Survivorship::kMostTrusted && rule.trusted_sources.empty()) {
          return Status::InvalidArgument("mostTrusted needs trustedSources, best first", rr.Pointer("trustedSources"));
        }
        RP_RETURN_IF_ERROR(rr.Finish());
        config.survivorship.push_back(std::move(rule));
      }
    }
    RP_RETURN_IF_ERROR(sr.Finish());
  }
  int64_t threads = config.threads;
  RP_RETURN_IF_ERROR(r.Int64("threads", &threads));
  if (threads < 1 || threads > 256) return Status::InvalidArgument("must be between 1 and 256", "/threads");
  config.threads = static_cast<int>(threads);
  RP_RETURN_IF_ERROR(r.Finish());
  return config;
}

std::vector<std::string> ConfigColumns(const ModelConfig& config) {
  std::vector<std::string> out;
  auto add = [&](const std::string& c) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  for (const Comparison& c : config.comparisons) {
    for (const std::string& col : c.columns) add(col);
  }
  for (const BlockingRule& b : config.blocking) {
    for (const KeyPart& p : b.parts) add(p.column);
  }
  for (const DeterministicRule& d : config.deterministic) add(d.column);
  return out;
}

}  // namespace rapport::identity
