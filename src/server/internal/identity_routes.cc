// Identity routes: merge customers, undo a merge, the review queue of pairs
// awaiting a data steward, and the golden record. Registered by App from
// RegisterIdentityRoutes; the decisions live in identity::IdentityStore.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "identity/store.h"
#include "server/internal/app.h"

namespace rapport::server::internal {
namespace {

using customer::CustomerId;
using identity::Merge;
using identity::ReviewItem;

Response Json(int status, json::Writer& w) { return Response::Json(status, w.Take()); }

// The store names a body field; for this route the value came from the path.
Status PathField(Status s, const std::string& param) {
  if (s.ok()) return s;
  if (s.field() == "id" || s.field().empty()) return Status(s.code(), s.message(), param);
  return s;
}

void WriteMerge(json::Writer& w, const Merge& m) {
  w.StartObject()
      .Field("id", m.id)
      .Field("survivorId", m.survivor)
      .Field("mergedId", m.merged)
      .Field("actor", m.actor)
      .Field("reason", m.reason);
  w.Key("probability");
  if (m.probability) {
    w.Double(*m.probability);
  } else {
    w.Null();
  }
  w.Key("evidence").Raw(m.evidence_json);
  w.Key("reviewId");
  if (m.review_id) {
    w.Int(*m.review_id);
  } else {
    w.Null();
  }
  w.TimeField("createdAt", m.created_at).TimeField("undoneAt", m.undone_at);
  if (m.undone_at) w.Field("undoneBy", m.undone_by);
  w.EndObject();
}

void WriteReview(json::Writer& w, const ReviewItem& v) {
  w.StartObject()
      .Field("id", v.id)
      .Field("leftId", v.left)
      .Field("rightId", v.right)
      .Field("weight", v.weight)
      .Field("probability", v.probability)
      .Field("status", std::string(identity::ReviewStatusName(v.status)));
  w.Key("evidence").Raw(v.evidence_json);
  w.TimeField("createdAt", v.created_at).TimeField("decidedAt", v.decided_at);
  if (v.decided_at) w.Field("decidedBy", v.decided_by);
  if (v.merge_id) w.Field("mergeId", *v.merge_id);
  w.EndObject();
}

// The actor recorded with a decision: the API key that made it.
std::string Actor(const Call& c) { return c.who().Actor(); }

void WriteOutcome(json::Writer& w, const identity::MatchOutcome& o) {
  const char* action = o.action == identity::MatchOutcome::Action::kMerged   ? "merged"
                       : o.action == identity::MatchOutcome::Action::kQueued ? "queued"
                                                                             : "none";
  w.StartObject().Field("action", action).Field("goldenId", o.golden);
  if (o.best) {
    w.Key("bestMatch")
        .StartObject()
        .Field("customerId", static_cast<int64_t>(std::stoll(o.best->id)))
        .Field("weight", o.best->weight)
        .Field("probability", o.best->probability)
        .Field("deterministic", o.best->deterministic)
        .EndObject();
  }
  if (o.merge_id) w.Field("mergeId", *o.merge_id);
  if (o.review_id) w.Field("reviewId", *o.review_id);
  w.EndObject();
}

}  // namespace

void App::MatchArrival(CustomerId id) {
  if (!identity_ || !identity_->has_index()) return;
  auto outcome = identity_->Match(id);
  if (!outcome.ok()) {
    spdlog::warn("identity.match_failed customer={} error={}", id, outcome.status().ToString());
  }
}

// The "identity" feed subscriber: customers created or changed are matched
// against the loaded model, whoever wrote them (an API call, a bulk source
// upsert, an import, tracking). Matching again is harmless: an indexed
// customer is a re-match, an open review pair is not queued twice.
Status App::MatchChanged(const std::vector<storage::Change>& batch) {
  if (!identity_) return Status::Ok();
  std::vector<CustomerId> ids;
  for (const storage::Change& c : batch) {
    if (c.customer_id > 0 && (c.kind == "customer.created" || c.kind == "customer.updated")) {
      ids.push_back(c.customer_id);
    }
  }
  if (ids.empty()) return Status::Ok();
  if (!identity_->has_index()) {
    // The saved model is still being trained at start: come back to these.
    if (identity_loading_.load()) return Status::Unavailable("the identity model is still being indexed");
    return Status::Ok();
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (CustomerId id : ids) MatchArrival(id);
  return Status::Ok();
}

void App::RegisterIdentityRoutes() {
  using P = Permission;
  auto must = [](P p, Handler h) { return Endpoint{p, std::move(h)}; };
  auto& r = router_;
  auto opened = identity::IdentityStore::Open(store_);
  if (opened.ok()) {
    identity_ = std::shared_ptr<identity::IdentityStore>(std::move(*opened));
    // The 360 view says which golden customer this one is part of, with
    // the customers merged together and the merges that made it.
    std::weak_ptr<identity::IdentityStore> weak = identity_;
    store_->RegisterViewSection("identity", [weak](CustomerId id, const customer::ReadOptions&) -> Result<std::string> {
      auto s = weak.lock();
      if (!s) return std::string("null");
      RP_ASSIGN_OR_RETURN(CustomerId golden, s->Resolve(id));
      RP_ASSIGN_OR_RETURN(std::vector<CustomerId> members, s->Members(golden));
      RP_ASSIGN_OR_RETURN(std::vector<identity::Merge> merges, s->MergesOf(golden));
      json::Writer w;
      w.StartObject().Field("goldenId", golden).Key("members").StartArray();
      for (CustomerId m : members) w.Int(m);
      w.EndArray().Key("merges").StartArray();
      for (const identity::Merge& m : merges) {
        if (m.undone_at) continue;
        w.StartObject()
            .Field("id", m.id)
            .Field("survivor", m.survivor)
            .Field("merged", m.merged)
            .Field("reason", m.reason)
            .Field("at", FormatRfc3339(m.created_at))
            .EndObject();
      }
      w.EndArray().EndObject();
      return w.Take();
    });
  } else {
    spdlog::error("identity.open_failed error={}", opened.status().ToString());
  }
  // A model saved by POST /v1/identity/model is trained and indexed again
  // in the background, so real-time matching survives a restart.
  if (identity_) {
    auto saved = identity_->SavedModel();
    if (saved.ok() && *saved) {
      identity_loading_ = true;
      identity_loader_ = std::thread([this, s = identity_, text = **saved] {
        auto config = identity::ParseModelConfig(text);
        Status st = config.ok() ? s->TrainAndIndex(*config).status() : config.status();
        if (st.ok()) {
          spdlog::info("identity.model_loaded");
        } else {
          spdlog::error("identity.model_load_failed error={}", st.ToString());
        }
        identity_loading_ = false;
      });
    }
  }
  auto ids = [this]() -> Result<identity::IdentityStore*> {
    if (!identity_) return Status::Unavailable("identity resolution is not available (its tables did not open)");
    return identity_.get();
  };

  r.Post("/v1/customers/{id}/merge", must(P::kCustomersWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(json::ObjectReader o, json::ObjectReader::Of(*body, ""));
           int64_t other = 0;
           RP_RETURN_IF_ERROR(o.Int64("customerId", &other, json::Need::kRequired));
           if (other <= 0) return Status::InvalidArgument("expected a positive customer id", "/customerId");
           identity::MergeRequest req;
           req.actor = Actor(c);
           if (const rapidjson::Value* ev = o.Find("evidence")) {
             if (!ev->IsObject()) return Status::InvalidArgument("expected an object", "/evidence");
             json::Writer w;
             w.Value(*ev);
             req.evidence_json = w.Take();
           }
           RP_RETURN_IF_ERROR(o.Finish());
           auto m = s->MergeCustomers(id, other, req);
           if (!m.ok()) return PathField(m.status(), "id");
           json::Writer w;
           WriteMerge(w, *m);
           Response res = Json(201, w);
           res.headers.emplace_back("Location", UrlPath({"v1", "merges", std::to_string(m->id)}));
           return res;
         }));

  r.Get("/v1/merges/{id}", must(P::kCustomersRead, [ids](Call& c) -> Result<Response> {
          RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(Merge m, s->GetMerge(id));
          json::Writer w;
          WriteMerge(w, m);
          return Json(200, w);
        }));

  r.Post("/v1/merges/{id}/undo", must(P::kCustomersWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
           auto m = s->Undo(id, Actor(c));
           if (!m.ok()) return m.status();
           json::Writer w;
           WriteMerge(w, *m);
           return Json(200, w);
         }));

  r.Get("/v1/identity/review", must(P::kCustomersRead, [ids](Call& c) -> Result<Response> {
          RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit"}));
          int limit = 50;
          if (const std::string* l = c.Query("limit")) {
            char* end = nullptr;
            long v = std::strtol(l->c_str(), &end, 10);
            if (l->empty() || *end != '\0' || v < 1 || v > 1000) {
              return Status::InvalidArgument("expected an integer from 1 to 1000", "limit");
            }
            limit = static_cast<int>(v);
          }
          const std::string* cursor = c.Query("cursor");
          auto page = s->ListReview(cursor ? *cursor : "", limit);
          if (!page.ok()) {
            const Status& st = page.status();
            return Status(st.code(), st.message(), st.field() == "/cursor" ? "cursor" : st.field());
          }
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const ReviewItem& v : page->items) WriteReview(w, v);
          w.EndArray();
          w.Key("nextCursor");
          if (page->next_cursor.empty()) {
            w.Null();
          } else {
            w.String(page->next_cursor);
          }
          w.EndObject();
          return Json(200, w);
        }));

  r.Post("/v1/identity/review/{id}/accept", must(P::kCustomersWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
           auto m = s->AcceptReview(id, Actor(c));
           if (!m.ok()) return m.status();
           json::Writer w;
           WriteMerge(w, *m);
           return Json(201, w);
         }));

  r.Post("/v1/identity/review/{id}/reject", must(P::kCustomersWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
           auto v = s->RejectReview(id, Actor(c));
           if (!v.ok()) return v.status();
           json::Writer w;
           WriteReview(w, *v);
           return Json(200, w);
         }));

  r.Post("/v1/identity/model", Heavy(must(P::kCatalogWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_RETURN_IF_ERROR(c.Body().status());
           RP_ASSIGN_OR_RETURN(identity::ModelConfig config, identity::ParseModelConfig(c.request().body));
           RP_ASSIGN_OR_RETURN(identity::Parameters p, s->TrainAndIndex(config));
           RP_RETURN_IF_ERROR(s->SaveModel(c.request().body));
           json::Writer w;
           w.StartObject()
               .Field("candidatePairs", p.candidate_pairs)
               .Field("randomPairs", p.u_pairs_sampled)
               .Field("emIterations", p.em_iterations)
               .Field("emConverged", p.em_converged)
               .Field("prior", p.prior)
               .Key("comparisons")
               .StartArray();
           for (size_t i = 0; i < config.comparisons.size(); ++i) {
             w.StartObject().Field("name", config.comparisons[i].name).Key("levels").StartArray();
             for (size_t l = 1; l < p.levels[i].size(); ++l) {
               w.StartObject()
                   .Field("label", config.comparisons[i].levels[l - 1].label)
                   .Field("m", p.levels[i][l].m)
                   .Field("u", p.levels[i][l].u)
                   .EndObject();
             }
             w.EndArray().EndObject();
           }
           w.EndArray().EndObject();
           return Json(200, w);
         })));

  r.Post("/v1/customers/{id}/match", must(P::kCustomersWrite, [ids](Call& c) -> Result<Response> {
           RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
           RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
           auto o = s->Match(id);
           if (!o.ok()) {
             // The only customer this route names is the path's.
             if (o.status().IsNotFound()) return Status(o.status().code(), o.status().message(), "id");
             return o.status();
           }
           json::Writer w;
           WriteOutcome(w, *o);
           return Json(200, w);
         }));

  r.Get("/v1/identity/households", Heavy(must(P::kCustomersRead, [this, ids](Call& c) -> Result<Response> {
          RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
          RP_RETURN_IF_ERROR(c.AllowQuery({"surnameSimilarity", "minMembers"}));
          identity::HouseholdRule rule;
          if (const std::string* v = c.Query("surnameSimilarity")) {
            char* end = nullptr;
            double x = std::strtod(v->c_str(), &end);
            if (v->empty() || *end != '\0' || !(x > 0 && x <= 1)) {
              return Status::InvalidArgument("expected a number in (0, 1]", "surnameSimilarity");
            }
            rule.surname_similarity = x;
          }
          if (const std::string* v = c.Query("minMembers")) {
            char* end = nullptr;
            long x = std::strtol(v->c_str(), &end, 10);
            if (v->empty() || *end != '\0' || x < 2 || x > 100) {
              return Status::InvalidArgument("expected an integer from 2 to 100", "minMembers");
            }
            rule.min_members = static_cast<int>(x);
          }
          RP_ASSIGN_OR_RETURN(auto proposals, s->ProposeHouseholds(rule));
          RP_ASSIGN_OR_RETURN(Mask mask, MaskFor(c.who()));
          bool hide = mask.Hides("street") || mask.Hides("lastName");
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& p : proposals) {
            w.StartObject()
                .Field("address", hide ? std::string(kMasked) : p.address)
                .Field("surname", hide ? std::string(kMasked) : p.surname)
                .Key("members")
                .StartArray();
            for (CustomerId m : p.members) w.Int(m);
            w.EndArray().EndObject();
          }
          w.EndArray().EndObject();
          return Json(200, w);
        })));

  r.Get("/v1/customers/{id}/golden", must(P::kCustomersRead, [this, ids](Call& c) -> Result<Response> {
          RP_ASSIGN_OR_RETURN(identity::IdentityStore * s, ids());
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(CustomerId id, c.PathId("id"));
          auto g = s->Golden(id);
          if (!g.ok()) return PathField(g.status(), "id");
          auto merges = s->MergesOf(id);
          if (!merges.ok()) return merges.status();
          RP_ASSIGN_OR_RETURN(Mask mask, MaskFor(c.who()));
          json::Writer w;
          w.StartObject().Field("id", g->id).Key("members").StartArray();
          for (CustomerId m : g->members) w.Int(m);
          w.EndArray().Key("attributes").StartObject();
          for (const auto& [name, value] : g->attributes) {
            w.Key(name).String(mask.Hides(name) ? std::string(kMasked) : value);
          }
          w.EndObject().Key("attributeSources").StartObject();
          for (const auto& [name, from] : g->attribute_from) w.Key(name).Int(from);
          w.EndObject().Key("identifiers").StartArray();
          for (const auto& i : g->identifiers) {
            bool hidden = mask.Hides(i.scheme);
            w.String(hidden ? i.scheme + ":" + std::string(kMasked) : i.ToString());
          }
          w.EndArray().Key("merges").StartArray();
          for (const Merge& m : *merges) WriteMerge(w, m);
          w.EndArray().EndObject();
          return Json(200, w);
        }));
}

}  // namespace rapport::server::internal
