#pragma once
// The browser workspace (web/, bundled by esbuild when the server is built)
// as files compiled into the binary, and how they are served: index.html for
// "/" and every client-side route (/customers/42), the content-hashed files
// under /assets/ cached for a year, each sent gzip-compressed when the client
// accepts it, with ETags, and HTML under a strict Content-Security-Policy.
// The files are public (the sign-in page must load); every piece of data
// stays behind /v1/ and its authentication. Thread-safe (immutable).

#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "server/internal/http.h"

namespace rapport::server::internal {

struct WebAsset {
  std::string_view path;          // "/index.html", "/assets/main-IRL7GX2P.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view gzip;  // the body gzip-compressed at build time; empty when that was not smaller
  std::string_view etag;  // a strong validator of body: "\"<sha-256 prefix>\""
};

// The files embedded by src/server/embed_web.py (web_assets_embed.cc).
std::span<const WebAsset> EmbeddedWebAssets();

// The Content-Security-Policy of every HTML answer: scripts, styles and
// connections from this origin only, no inline code, no framing.
inline constexpr std::string_view kWorkspaceCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

class WebWorkspace {
 public:
  explicit WebWorkspace(std::span<const WebAsset> assets);

  // The answer to a request no API route matched: GET of a path outside
  // /v1/ is the workspace's (a file under /assets/, else index.html); 404
  // for an /assets/ file that does not exist (a page must not load HTML as
  // a script). nullopt for every other request, which the API answers.
  std::optional<Response> Serve(const Request& req) const;

  size_t size() const { return by_path_.size(); }

 private:
  Response Answer(const Request& req, const WebAsset& asset, bool immutable) const;

  std::unordered_map<std::string_view, const WebAsset*> by_path_;
  const WebAsset* index_ = nullptr;
};

}  // namespace rapport::server::internal
