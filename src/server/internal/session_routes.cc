// People and sign-in (docs/api.md, "People and sign-in"): the session
// cookie and its CSRF check in the authentication hook, the sign-in routes
// under /v1/session, and the Admin page's users and API keys routes.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/text.h"
#include "server/internal/app.h"
#include "server/internal/problem.h"

namespace rapport::server::internal {
namespace {

constexpr std::string_view kCookieName = "rapport_session";

bool ChangesSomething(Method m) { return m != Method::kGet; }

// The value of the first rapport_session cookie in a Cookie header, or "".
std::string CookieValue(std::string_view header) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = text::Trim(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (text::Trim(pair.substr(0, eq)) != kCookieName) continue;
    std::string_view value = text::Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return "";
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WriteUser(json::Writer& w, const UserInfo& u) {
  w.StartObject()
      .Field("id", u.id)
      .Field("email", u.email)
      .Field("name", u.name)
      .Field("department", u.department)
      .Key("roles")
      .StartArray();
  for (Role r : u.roles) w.String(RoleName(r));
  w.EndArray().Field("disabled", u.disabled).TimeField("createdAt", u.created_at).EndObject();
}

// {"user", "permissions", "csrfToken", "expiresAt"}: what the workspace
// needs to show only what the user may do.
Response SessionResponse(int status, const UserInfo& user, const std::string& csrf, Timestamp expires_at) {
  Principal p;
  p.roles = user.roles;
  json::Writer w;
  w.StartObject().Key("user");
  WriteUser(w, user);
  w.Key("permissions").StartArray();
  for (Permission perm : AllPermissions()) {
    if (p.Can(perm)) w.String(PermissionName(perm));
  }
  w.EndArray().Field("csrfToken", csrf).TimeField("expiresAt", expires_at).EndObject();
  Response r = Response::Json(status, w.Take());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Locked(int64_t retry_after_seconds, const std::string& instance) {
  Response r = Problem(429, "Too Many Requests",
                       "too many failed sign-ins for this e-mail; try again in " +
                           std::to_string(retry_after_seconds) + " seconds",
                       "", instance);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

// A required, non-empty string member: Unprocessable naming it when
// missing or empty, InvalidArgument when not a string.
Status RequiredText(json::ObjectReader& r, std::string_view key, std::string* out) {
  RP_RETURN_IF_ERROR(r.String(key, out));
  if (out->empty()) return Status::Unprocessable("required field is missing or empty", r.Pointer(key));
  return Status::Ok();
}

Result<std::vector<Role>> ReadRoles(json::ObjectReader& r, bool* present) {
  std::vector<std::string> names;
  RP_RETURN_IF_ERROR(r.Strings("roles", &names));
  *present = r.Has("roles") && r.Find("roles") != nullptr;
  std::vector<Role> roles;
  for (size_t i = 0; i < names.size(); ++i) {
    auto role = ParseRole(names[i]);
    if (!role.ok()) return Status::Unprocessable(role.status().message(), json::Child("/roles", i));
    roles.push_back(*role);
  }
  return roles;
}

Response NoContent() {
  Response r;
  r.status = 204;
  return r;
}

void WriteKey(json::Writer& w, const ApiKeyInfo& k) {
  w.StartObject()
      .Field("prefix", k.prefix)
      .Field("role", RoleName(k.role))
      .Field("name", k.name)
      .TimeField("createdAt", k.created_at)
      .TimeField("revokedAt", k.revoked_at)
      .EndObject();
}

}  // namespace

std::string App::SessionCookie(const std::string& token, bool clear) const {
  std::string c = std::string(kCookieName) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
  if (clear) c += "; Max-Age=0";
  if (secure_cookies_) c += "; Secure";
  return c;
}

Result<Principal> App::Authenticate(const Request& req, bool* stale_cookie) {
  // A system's key wins over a cookie the same client may carry.
  if (!req.authorization.empty()) return keys_.Verify(req.authorization);
  std::string token = CookieValue(req.cookie);
  if (token.empty()) {
    return Status::Unauthenticated(
        "this route needs an API key (send 'Authorization: Bearer <key>') or a signed-in session (POST /v1/session)");
  }
  auto session = users_->Verify(token);
  if (!session.ok()) {
    *stale_cookie = session.status().code() == StatusCode::kUnauthenticated;
    return session.status();
  }
  // The cookie goes with every request the browser makes, whoever's page
  // starts it; the CSRF token only with those the workspace's own script
  // makes, since only it can read it.
  if (ChangesSomething(req.method)) {
    if (req.csrf_token.empty()) {
      return Status::PermissionDenied("a signed-in request that changes something needs the X-CSRF-Token header, "
                                      "set to the csrfToken of the session");
    }
    if (!SameSecret(req.csrf_token, session->csrf_token)) {
      return Status::PermissionDenied("the X-CSRF-Token header does not match the csrfToken of this session");
    }
  }
  return Principal::ForSession(std::move(*session));
}

void App::RegisterSessionRoutes() {
  using P = Permission;
  auto must = [](P p, Handler h) { return Endpoint{p, std::move(h)}; };
  auto signed_in = [](Handler h) {
    Endpoint e{std::nullopt, std::move(h)};
    e.signed_in = true;
    return e;
  };
  auto& r = router_;

  // ---- the session ----
  // Public: the handler authenticates by e-mail and password.
  r.Post("/v1/session", Endpoint{std::nullopt, [this](Call& c) -> Result<Response> {
                                   RP_RETURN_IF_ERROR(c.AllowQuery({}));
                                   RP_ASSIGN_OR_RETURN(auto body, c.Body());
                                   RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
                                   std::string email, password;
                                   RP_RETURN_IF_ERROR(RequiredText(reader, "email", &email));
                                   RP_RETURN_IF_ERROR(RequiredText(reader, "password", &password));
                                   RP_RETURN_IF_ERROR(reader.Finish());
                                   RP_ASSIGN_OR_RETURN(SignInResult result, users_->SignIn(email, password));
                                   sodium_memzero(password.data(), password.size());
                                   if (result.retry_after_seconds > 0) {
                                     return Locked(result.retry_after_seconds, c.request().path);
                                   }
                                   const NewSession& s = *result.session;
                                   // The access log shows who signed in.
                                   c.request().key_prefix = "user:" + std::to_string(s.user.id);
                                   Response res = SessionResponse(201, s.user, s.csrf_token, s.expires_at);
                                   res.headers.emplace_back("Set-Cookie", SessionCookie(s.token, false));
                                   return res;
                                 }});

  r.Get("/v1/session", signed_in([](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          const ActiveSession& s = *c.who().session;
          return SessionResponse(200, s.user, s.csrf_token, s.expires_at);
        }));

  r.Delete("/v1/session", signed_in([this](Call& c) -> Result<Response> {
             RP_RETURN_IF_ERROR(c.AllowQuery({}));
             RP_RETURN_IF_ERROR(users_->SignOut(*c.who().session));
             Response res = NoContent();
             res.headers.emplace_back("Set-Cookie", SessionCookie("", true));
             return res;
           }));

  r.Put("/v1/session/password", signed_in([this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto body, c.Body());
          RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
          std::string current, next;
          RP_RETURN_IF_ERROR(RequiredText(reader, "currentPassword", &current));
          RP_RETURN_IF_ERROR(RequiredText(reader, "newPassword", &next));
          RP_RETURN_IF_ERROR(reader.Finish());
          int64_t retry_after = 0;
          Status s = users_->ChangeOwnPassword(*c.who().session, current, next, &retry_after);
          sodium_memzero(current.data(), current.size());
          sodium_memzero(next.data(), next.size());
          RP_RETURN_IF_ERROR(s);
          if (retry_after > 0) return Locked(retry_after, c.request().path);
          return NoContent();
        }));

  // ---- users (the Admin page) ----
  r.Get("/v1/users", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit"}));
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 500, 50));
          RP_ASSIGN_OR_RETURN(auto users, users_->List(after, static_cast<int>(limit) + 1));
          bool more = users.size() > static_cast<size_t>(limit);
          if (more) users.resize(static_cast<size_t>(limit));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& u : users) WriteUser(w, u);
          w.EndArray().Key("nextCursor");
          if (more) {
            w.String(std::to_string(users.back().id));
          } else {
            w.Null();
          }
          w.EndObject();
          return Response::Json(200, w.Take());
        }));

  r.Post("/v1/users", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
           NewUser u;
           RP_RETURN_IF_ERROR(RequiredText(reader, "email", &u.email));
           RP_RETURN_IF_ERROR(RequiredText(reader, "name", &u.name));
           RP_RETURN_IF_ERROR(reader.String("department", &u.department));
           bool has_roles = false;
           RP_ASSIGN_OR_RETURN(u.roles, ReadRoles(reader, &has_roles));
           if (!has_roles) return Status::Unprocessable("required field is missing", "/roles");
           RP_RETURN_IF_ERROR(RequiredText(reader, "password", &u.password));
           RP_RETURN_IF_ERROR(reader.Finish());
           auto created = users_->Create(u);
           sodium_memzero(u.password.data(), u.password.size());
           RP_RETURN_IF_ERROR(created.status());
           spdlog::info("server.user_added user={} by={}", created->id, c.who().Actor());
           json::Writer w;
           WriteUser(w, *created);
           Response res = Response::Json(201, w.Take());
           res.headers.emplace_back("Location", UrlPath({"v1", "users", std::to_string(created->id)}));
           return res;
         }));

  r.Get("/v1/users/{id}", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(UserInfo u, users_->Get(id));
          json::Writer w;
          WriteUser(w, u);
          return Response::Json(200, w.Take());
        }));

  r.Patch("/v1/users/{id}", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
            RP_RETURN_IF_ERROR(c.AllowQuery({}));
            RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
            RP_ASSIGN_OR_RETURN(auto body, c.Body());
            RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
            UserPatch patch;
            if (reader.Has("name")) {
              std::string name;
              RP_RETURN_IF_ERROR(reader.String("name", &name, json::Need::kRequired));
              patch.name = std::move(name);
            }
            if (reader.Has("department")) {
              std::string department;
              RP_RETURN_IF_ERROR(reader.String("department", &department, json::Need::kRequired));
              patch.department = std::move(department);
            }
            bool has_roles = false;
            RP_ASSIGN_OR_RETURN(auto roles, ReadRoles(reader, &has_roles));
            if (has_roles) patch.roles = std::move(roles);
            if (reader.Has("disabled")) {
              bool disabled = false;
              RP_RETURN_IF_ERROR(reader.Bool("disabled", &disabled, json::Need::kRequired));
              patch.disabled = disabled;
            }
            RP_RETURN_IF_ERROR(reader.Finish());
            RP_ASSIGN_OR_RETURN(UserInfo u, users_->Update(id, patch));
            spdlog::info("server.user_changed user={} by={}{}", id, c.who().Actor(),
                         patch.disabled ? (*patch.disabled ? " disabled=true" : " disabled=false") : "");
            json::Writer w;
            WriteUser(w, u);
            return Response::Json(200, w.Take());
          }));

  r.Put("/v1/users/{id}/password", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto body, c.Body());
          RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
          std::string password;
          RP_RETURN_IF_ERROR(RequiredText(reader, "password", &password));
          RP_RETURN_IF_ERROR(reader.Finish());
          Status s = users_->SetPassword(id, password);
          sodium_memzero(password.data(), password.size());
          RP_RETURN_IF_ERROR(s);
          spdlog::info("server.user_password_reset user={} by={}", id, c.who().Actor());
          return NoContent();
        }));

  // ---- API keys (the Admin page) ----
  r.Get("/v1/api-keys", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto keys, ListKeys(*db_));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& k : keys) WriteKey(w, k);
          w.EndArray().Key("nextCursor").Null().EndObject();
          return Response::Json(200, w.Take());
        }));

  r.Post("/v1/api-keys", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(json::ObjectReader reader, json::ObjectReader::Of(*body, ""));
           std::string role_name, name;
           RP_RETURN_IF_ERROR(RequiredText(reader, "role", &role_name));
           RP_RETURN_IF_ERROR(reader.String("name", &name));
           RP_RETURN_IF_ERROR(reader.Finish());
           auto role = ParseRole(role_name);
           if (!role.ok()) return Status::Unprocessable(role.status().message(), "/role");
           if (name.size() > 200) return Status::Unprocessable("a key's name is at most 200 bytes", "/name");
           {
             Status s = text::CheckIdentifier(name, "/name");
             if (!s.ok()) return Status::Unprocessable(s.message(), "/name");
           }
           Timestamp now = SystemClock::Default()->Now();
           RP_ASSIGN_OR_RETURN(CreatedKey k, CreateKey(*db_, *role, now, name));
           spdlog::info("server.api_key_created prefix={} role={} by={}", k.prefix, RoleName(k.role), c.who().Actor());
           json::Writer w;
           w.StartObject()
               .Field("key", k.key)
               .Field("prefix", k.prefix)
               .Field("role", RoleName(k.role))
               .Field("name", name)
               .TimeField("createdAt", now)
               .EndObject();
           Response res = Response::Json(201, w.Take());
           res.headers.emplace_back("Cache-Control", "no-store");
           return res;
         }));

  r.Delete("/v1/api-keys/{prefix}", must(P::kUsersAdmin, [this](Call& c) -> Result<Response> {
             RP_RETURN_IF_ERROR(c.AllowQuery({}));
             const std::string& prefix = c.PathText("prefix");
             RP_RETURN_IF_ERROR(RevokeKey(*db_, prefix, SystemClock::Default()->Now()));
             keys_.Forget(prefix);
             spdlog::info("server.api_key_revoked prefix={} by={}", prefix, c.who().Actor());
             return NoContent();
           }));
}

}  // namespace rapport::server::internal
