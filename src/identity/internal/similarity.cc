// String similarity measures, written by hand: Debian has no maintained C++
// library with Jaro-Winkler and friends. Inputs are normalized ASCII, so they
// work on bytes.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "identity/identity.h"

namespace rapport::identity {

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return 1.0;
  if (a.empty() || b.empty()) return 0.0;
  if (a == b) return 1.0;
  if (a.size() > b.size()) std::swap(a, b);
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int window = std::max(0, lb / 2 - 1);
  // Inputs are names and addresses: stack flags for the common case.
  bool a_flag_small[64], b_flag_small[64];
  bool* af = a_flag_small;
  bool* bf = b_flag_small;
  std::unique_ptr<bool[]> af_heap, bf_heap;
  if (lb > 64) {
    af_heap.reset(new bool[la]());
    bf_heap.reset(new bool[lb]());
    af = af_heap.get();
    bf = bf_heap.get();
  } else {
    std::memset(a_flag_small, 0, sizeof a_flag_small);
    std::memset(b_flag_small, 0, sizeof b_flag_small);
  }
  int matches = 0;
  for (int i = 0; i < la; ++i) {
    int lo = std::max(0, i - window), hi = std::min(lb - 1, i + window);
    for (int j = lo; j <= hi; ++j) {
      if (!bf[j] && a[i] == b[j]) {
        af[i] = bf[j] = true;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0.0;
  int transpositions = 0;
  for (int i = 0, j = 0; i < la; ++i) {
    if (!af[i]) continue;
    while (!bf[j]) ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  double m = matches;
  double jaro = (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < la && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

int Levenshtein(std::string_view a, std::string_view b, int limit) {
  if (a.size() > b.size()) std::swap(a, b);
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  if (limit >= 0 && lb - la > limit) return limit + 1;
  int small[65];
  std::unique_ptr<int[]> heap;
  int* row = small;
  if (la + 1 > 65) {
    heap.reset(new int[la + 1]);
    row = heap.get();
  }
  for (int i = 0; i <= la; ++i) row[i] = i;
  for (int j = 1; j <= lb; ++j) {
    int diag = row[0];
    row[0] = j;
    int best = row[0];
    for (int i = 1; i <= la; ++i) {
      int up = row[i];
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[i] = std::min({row[i] + 1, row[i - 1] + 1, diag + cost});
      diag = up;
      best = std::min(best, row[i]);
    }
    if (limit >= 0 && best > limit) return limit + 1;
  }
  int d = row[la];
  return limit >= 0 && d > limit ? limit + 1 : d;
}

int DamerauLevenshtein(std::string_view a, std::string_view b) {
  const size_t la = a.size(), lb = b.size();
  std::vector<int> prev2(lb + 1), prev(lb + 1), cur(lb + 1);
  for (size_t j = 0; j <= lb; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= la; ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= lb; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[lb];
}

std::string Soundex(std::string_view s) {
  // Codes for a..z; '0' = vowel-like (separates), '-' = h/w (does not separate).
  static constexpr char kCode[] = "01230120022455012623010202";
  std::string out;
  char last = 0;
  for (char raw : s) {
    char c = raw;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c < 'a' || c > 'z') continue;
    char code = kCode[c - 'a'];
    if (out.empty()) {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
      last = code;
      continue;
    }
    if (c == 'h' || c == 'w') continue;  // keep `last`: letters either side merge
    if (code == '0') {
      last = '0';
      continue;
    }
    if (code != last) out.push_back(code);
    last = code;
    if (out.size() == 4) break;
  }
  if (out.empty()) return out;
  out.resize(4, '0');
  return out;
}

}  // namespace rapport::identity
