#pragma once
// Identity resolution: deciding which records, from whichever system, are the
// same customer. Deterministic rules (shared normalized e-mail, E.164 phone,
// external key) always link; everything else is scored with a Fellegi–Sunter
// model in the manner of Splink: per-field comparisons with ordered levels,
// blocking rules instead of comparing every pair, m probabilities estimated
// by EM without labels and u probabilities by random sampling, term-frequency
// adjustment for common values, then thresholds for auto-merge and review,
// union-find clustering with stable ids, and survivorship for the golden
// record. A MatchIndex keeps the blocking index in memory so one new record is
// matched against millions as it arrives.
//
// Records are rows of strings with named columns (a RecordTable); the module
// does not read files or the database itself: the CLI reads CSV, the store
// adapter (store.h) reads customers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rapport::identity {

// ---- normalizers -------------------------------------------------------------

enum class Normalizer {
  kNone,     // trimmed, as given
  kText,     // lower case, trimmed, inner whitespace collapsed
  kName,     // Unicode to ASCII (ICU Any-Latin; Latin-ASCII), lower case, letters/digits/spaces only
  kAddress,  // kName plus common abbreviations expanded ("st" -> "street", "rd" -> "road")
  kEmail,    // lower case, trimmed, "+tag" dropped from the local part; "" unless it has one '@'
  kPhone,    // E.164 ("+4917112345678"); national numbers get the default country code
  kDigits,   // digits only
  kDate,     // "YYYYMMDD" from "YYYY-MM-DD", "YYYYMMDD", "DD.MM.YYYY" or "YYYY/MM/DD"; "" if invalid
};
Result<Normalizer> ParseNormalizer(std::string_view name);  // "name", "email", ...
std::string_view NormalizerName(Normalizer n);

// Normalization options shared by all columns.
struct NormalizeOptions {
  // Calling code used for phone numbers written nationally ("0171 2345678"
  // with "49" becomes "+491712345678"). Digits only, no "+".
  std::string default_country_code = "49";
};

// Applies one normalizer. Thread-safe (ICU transliterators are kept per thread).
std::string Normalize(Normalizer n, std::string_view value, const NormalizeOptions& options = {});

// ---- string similarity (hand-written; no Debian package has them) -------------

// Jaro–Winkler similarity in [0, 1] on bytes (inputs are normalized ASCII),
// prefix scale 0.1 over at most 4 characters.
double JaroWinkler(std::string_view a, std::string_view b);
// Levenshtein edit distance; stops early and returns limit + 1 once the
// distance exceeds limit (limit < 0: no limit).
int Levenshtein(std::string_view a, std::string_view b, int limit = -1);
// Damerau (optimal string alignment) distance: transpositions cost 1.
int DamerauLevenshtein(std::string_view a, std::string_view b);
// American Soundex ("robert" -> "R163"); "" for input without letters.
std::string Soundex(std::string_view s);

// ---- survivorship -------------------------------------------------------------------------------

enum class Survivorship {
  kMostRecent,      // value of the member with the latest timestamp
  kMostTrusted,     // value from the first source in trusted_sources order
  kMostFrequent,    // most common value (ties: most recent)
};
Result<Survivorship> ParseSurvivorship(std::string_view name);

struct SurvivorshipRule {
  std::string column;
  Survivorship rule = Survivorship::kMostFrequent;
  std::vector<std::string> trusted_sources;  // kMostTrusted: best first
};

// One member's view of an attribute, for survivorship.
struct MemberValue {
  std::string value;      // empty values never survive
  std::string source;
  int64_t timestamp = 0;  // larger is more recent
};

// The surviving value of one attribute; "" when no member has one.
std::string Survive(const SurvivorshipRule& rule, const std::vector<MemberValue>& members);

// ---- the model -----------------------------------------------------------------

enum class LevelKind {
  kExact,         // equal normalized values
  kJaroWinkler,   // JaroWinkler >= threshold
  kLevenshtein,   // Levenshtein <= max_distance
  kDamerau,       // DamerauLevenshtein <= max_distance
  kSoundex,       // equal Soundex codes
  kDateWithin,    // both dates (YYYYMMDD), |difference| <= max_days, or the same year with day and month swapped
  kNumberWithin,  // both numbers, |a - b| <= max_difference (absolute) or <= max_relative * max(|a|,|b|)
  kElse,          // anything else (always the last level; added automatically)
};

// One level of a comparison, from most to least similar. Level 0 of every
// comparison is implicitly "null" (either side empty) with weight 0.
struct Level {
  LevelKind kind = LevelKind::kExact;
  double threshold = 0;       // kJaroWinkler
  int max_distance = 0;       // kLevenshtein, kDamerau
  int max_days = 0;           // kDateWithin
  double max_difference = 0;  // kNumberWithin
  double max_relative = 0;    // kNumberWithin
  bool term_frequency = false;  // kExact only: weight from how common the value is
  std::string label;          // "exact", "jw>=0.92": shown with the evidence
};

// A comparison of one column (the same name on both sides), or of several
// compared as one value (their normalized values joined by spaces): columns
// that say the same thing, like street, postcode and city, would otherwise
// count the same evidence several times over.
struct Comparison {
  std::string name;    // shown in evidence; defaults to the columns joined by "+"
  std::vector<std::string> columns;
  Normalizer normalizer = Normalizer::kText;
  std::vector<Level> levels;  // without the null level; kElse appended if missing
};

// Part of a blocking key: a normalized column, optionally reduced.
struct KeyPart {
  enum class Transform { kNone, kPrefix, kSoundex, kYear };
  std::string column;
  Transform transform = Transform::kNone;
  int length = 0;  // kPrefix
  // How the column is normalized for the key; unset: like the comparison of
  // the same column, or kText when none compares it.
  std::optional<Normalizer> normalizer;
};
// Records whose key parts are all non-empty and equal become candidate pairs.
struct BlockingRule {
  std::vector<KeyPart> parts;
  std::string Describe() const;  // "surname & soundex(given_name)"
};

// Columns (normalized as given) whose equality always links two records, e.g.
// e-mail, phone, or an external key.
struct DeterministicRule {
  std::string column;
  Normalizer normalizer = Normalizer::kText;
};

struct ModelConfig {
  std::vector<Comparison> comparisons;
  std::vector<BlockingRule> blocking;
  std::vector<DeterministicRule> deterministic;
  NormalizeOptions normalize;
  // Blocks (records sharing one key) larger than this are skipped: a key
  // that common ("smith") says little and would cost a quadratic number of
  // pairs. Other rules still pair those records.
  int64_t max_block_size = 1000;
  double auto_merge_threshold = 0.95;  // match probability at or above: link
  double review_threshold = 0.5;       // at or above (and below auto-merge): a steward decides
  // Training.
  int64_t u_sample_pairs = 1000000;  // random pairs for the u probabilities
  int em_max_iterations = 40;
  double em_tolerance = 1e-6;
  uint64_t seed = 42;
  int threads = 2;
  // Golden records: a rule per attribute (others: most recent), and for
  // files the columns naming each record's source system and its time
  // (dates or RFC 3339; without one, later rows are more recent).
  std::vector<SurvivorshipRule> survivorship;
  std::string source_column, time_column;
};

// Reads a model configuration from JSON (see docs/identity.md). Unknown or
// wrongly typed fields are errors naming the field as a JSON pointer.
Result<ModelConfig> ParseModelConfig(std::string_view json);
// The columns a configuration reads.
std::vector<std::string> ConfigColumns(const ModelConfig& config);

// ---- records ------------------------------------------------------------------------

// Rows of strings under named columns, one row per source record. ids are the
// records' own ids (unique within a table).
struct RecordTable {
  std::vector<std::string> columns;
  std::vector<std::string> ids;
  std::vector<std::vector<std::string>> rows;  // rows[i][c] for columns[c]
  int ColumnIndex(std::string_view name) const;  // -1 when absent
  size_t size() const { return ids.size(); }
};

// The records normalized for one configuration, column by column: values of
// every compared, blocked or deterministic column, plus derived values
// (Soundex codes, numbers) computed once. Built by Prepare; immutable after.
class PreparedRecords;

// ---- trained parameters ---------------------------------------------------------------

struct LevelParameters {
  double m = 0;  // P(level | records match)
  double u = 0;  // P(level | records do not match)
};

// The trained model: m and u for every level of every comparison, the prior,
// and term frequencies of the columns whose exact level uses them.
struct Parameters {
  // levels[c][l] for comparison c, level l (l = 0 is null and unused).
  std::vector<std::vector<LevelParameters>> levels;
  // Probability that two records drawn at random are the same entity.
  double prior = 1e-4;
  // Per comparison: value -> share of the records that have it, for the
  // comparisons whose exact level is term-frequency adjusted (else empty).
  std::vector<std::unordered_map<std::string, double>> term_frequency;
  int em_iterations = 0;
  bool em_converged = false;
  int64_t u_pairs_sampled = 0;
  int64_t candidate_pairs = 0;
};

// One comparison's contribution to a pair's score.
struct Evidence {
  int comparison = 0;
  int level = 0;       // 0: null
  double weight = 0;   // log2 Bayes factor, term-frequency adjusted
};

struct ScoredPair {
  int64_t left = 0, right = 0;  // row indexes (right indexes the other table in linkage)
  double weight = 0;            // match weight: log2 prior odds + sum of evidence weights
  double probability = 0;
  bool deterministic = false;   // linked by a deterministic rule
};

// ---- the pipeline -------------------------------------------------------------------------

// Normalizes the configured columns of records. InvalidArgument when a
// configured column is missing (field: the column name).
Result<std::shared_ptr<const PreparedRecords>> Prepare(const ModelConfig& config, const RecordTable& records);

// Trains the model on unlabeled records: u by comparing u_sample_pairs random
// pairs, m by EM over the candidate pairs of each blocking rule in turn (as
// Splink does: a rule's own columns keep their m from other rules), the prior
// from the expected number of matches among the candidates. Left and right
// may be the same object (deduplication).
Result<Parameters> Train(const ModelConfig& config, const PreparedRecords& left, const PreparedRecords& right);

// Candidate pairs under the blocking and deterministic rules, each pair once
// (for deduplication left < right), scored with params; only pairs with a
// probability >= min_probability are returned (deterministic ones always),
// ordered by (left, right). &left == &right means deduplication.
std::vector<ScoredPair> ScorePairs(const ModelConfig& config, const Parameters& params,
                                   const PreparedRecords& left, const PreparedRecords& right,
                                   double min_probability = 0);

// The evidence behind one pair's score, one entry per comparison.
std::vector<Evidence> Explain(const ModelConfig& config, const Parameters& params, const PreparedRecords& left,
                              int64_t l, const PreparedRecords& right, int64_t r);
// "given_name: jw>=0.92 (+6.1)" per comparison, for people.
std::string DescribeEvidence(const ModelConfig& config, const std::vector<Evidence>& evidence);

// ---- clustering -------------------------------------------------------------------------------

// Connected components of the records linked by pairs at or above threshold
// (deterministic pairs always). cluster[i] is the index of the cluster's
// oldest member, where age is order[i] (smaller is older; ties by index), so
// a cluster keeps the id of its oldest member across re-runs.
std::vector<int64_t> Cluster(int64_t n, const std::vector<ScoredPair>& pairs, double threshold,
                             const std::vector<int64_t>& order = {});

// Quality against a known truth, counted over pairs.
struct PairQuality {
  int64_t true_positives = 0, false_positives = 0, false_negatives = 0;
  double precision() const;
  double recall() const;
  double f1() const;
};
// Pairs (i < j) in the same predicted cluster vs. in the same true entity.
PairQuality ClusterQuality(const std::vector<int64_t>& predicted, const std::vector<std::string>& truth);

// ---- real time ------------------------------------------------------------------------------------

// A trained model with its blocking index in memory: records are added one by
// one and each new record is scored against the candidates its blocking keys
// find. Thread-compatible: concurrent Match calls are safe, Add needs
// exclusive access.
class MatchIndex {
 public:
  // columns: the layout of the records passed to Add and Match.
  static Result<std::unique_ptr<MatchIndex>> Create(ModelConfig config, Parameters params,
                                                    std::vector<std::string> columns);
  ~MatchIndex();

  // Adds a record (values in the columns' order) under id. Conflict when id is taken.
  Status Add(std::string id, const std::vector<std::string>& values);
  // Adds many records at once (faster than Add one by one).
  Status AddAll(const RecordTable& records);

  struct Match {
    std::string id;
    double weight = 0;
    double probability = 0;
    bool deterministic = false;
  };
  // The indexed records that score at or above min_probability against
  // values, best first, at most limit.
  std::vector<Match> Find(const std::vector<std::string>& values, double min_probability, size_t limit = 10) const;

  size_t size() const;

 private:
  struct State;
  explicit MatchIndex(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// ---- batch jobs -------------------------------------------------------------------------------------

struct DedupeResult {
  Parameters params;
  std::vector<ScoredPair> pairs;   // candidate pairs with probability >= review_threshold
  std::vector<int64_t> cluster;    // per record: index of its cluster's oldest member
  double seconds_prepare = 0, seconds_train = 0, seconds_score = 0, seconds_cluster = 0;
};
// Prepare, train, score, cluster at config.auto_merge_threshold.
Result<DedupeResult> Dedupe(const ModelConfig& config, const RecordTable& records);

struct LinkResult {
  Parameters params;
  std::vector<ScoredPair> pairs;  // pairs >= review_threshold; left indexes left, right indexes right
  double seconds = 0;
};
Result<LinkResult> Link(const ModelConfig& config, const RecordTable& left, const RecordTable& right);

}  // namespace rapport::identity
