#include "server/internal/web_assets.h"

#include <string>

namespace rapport::server::internal {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// Calls fn with each comma-separated element of a header list, trimmed.
template <typename Fn>
void ForEachListItem(std::string_view header, Fn fn) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
}

// Accept-Encoding names gzip (or *) without q=0 (RFC 9110 12.5.3).
bool AcceptsGzip(std::string_view accept_encoding) {
  bool gzip = false;
  ForEachListItem(accept_encoding, [&](std::string_view item) {
    std::string_view coding = Trim(item.substr(0, item.find(';')));
    if (!EqualsIgnoreCase(coding, "gzip") && !EqualsIgnoreCase(coding, "x-gzip") && coding != "*") return;
    bool refused = false;
    if (size_t semi = item.find(';'); semi != std::string_view::npos) {
      std::string_view param = Trim(item.substr(semi + 1));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        std::string_view q = Trim(param.substr(2));
        refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (!refused) gzip = true;
  });
  return gzip;
}

// If-None-Match holds etag (weak comparison, RFC 9110 13.1.2) or "*".
bool Matches(std::string_view if_none_match, std::string_view etag) {
  bool match = false;
  ForEachListItem(if_none_match, [&](std::string_view tag) {
    if (tag == "*") match = true;
    if (tag.size() > 2 && tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) match = true;
  });
  return match;
}

// The ETag of the gzip-encoded representation: another validator than the
// identity one's, as RFC 9110 asks for different content codings.
std::string GzipEtag(std::string_view etag) {
  std::string out(etag.substr(0, etag.size() - 1));
  return out + "-gz\"";
}

bool UnderApi(std::string_view path) { return path == "/v1" || path.rfind("/v1/", 0) == 0; }

}  // namespace

WebWorkspace::WebWorkspace(std::span<const WebAsset> assets) {
  for (const WebAsset& a : assets) {
    by_path_[a.path] = &a;
    if (a.path == "/index.html") index_ = &a;
  }
}

Response WebWorkspace::Answer(const Request& req, const WebAsset& asset, bool immutable) const {
  const bool gzip = !asset.gzip.empty() && AcceptsGzip(req.accept_encoding);
  const std::string etag = gzip ? GzipEtag(asset.etag) : std::string(asset.etag);
  Response r;
  r.content_type = std::string(asset.content_type);
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!asset.gzip.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  if (asset.content_type.rfind("text/html", 0) == 0) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kWorkspaceCsp));
    r.headers.emplace_back("Referrer-Policy", "same-origin");
  }
  if (!req.if_none_match.empty() &&
      (Matches(req.if_none_match, asset.etag) || Matches(req.if_none_match, GzipEtag(asset.etag)))) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body.assign(asset.gzip);
  } else {
    r.body.assign(asset.body);
  }
  return r;
}

std::optional<Response> WebWorkspace::Serve(const Request& req) const {
  if (req.method != Method::kGet || index_ == nullptr || UnderApi(req.path)) return std::nullopt;
  if (req.path.rfind("/assets/", 0) == 0) {
    auto it = by_path_.find(req.path);
    if (it == by_path_.end()) {
      Response r;
      r.status = 404;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "no such file in the workspace; reload the page for the current version\n";
      r.headers.emplace_back("Cache-Control", "no-cache");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      return r;
    }
    return Answer(req, *it->second, true);
  }
  // Every other path is a page of the workspace: its router draws it.
  return Answer(req, *index_, false);
}

}  // namespace rapport::server::internal
