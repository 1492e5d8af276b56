#include "server/delivery/trigger_form_fetcher.h"

#include <iterator>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace ats::server {
namespace {

// Most forms kept; past it, expired ones are dropped, then all.
constexpr size_t kMaxKeptForms = 10000;

// The cache key of `fetch`: the form's URI and what the partner is told
// about the stage.
std::string KeyOf(const TriggerFormFetch& fetch) {
  const ats::v1::TriggerFormRequest& r = fetch.request;
  return absl::StrJoin(
      {fetch.uri, r.integration(), r.job(), r.job_title(), r.job_template(),
       r.job_template_display_name(), r.stage(), r.stage_display_name()},
      "\n");
}

// Returns what `outcome`, the answer of partner `partner`'s config
// endpoint, comes to.
absl::StatusOr<ats::v1::TriggerForm> FormOf(const DeliveryOutcome& outcome,
                                            const std::string& partner) {
  if (outcome.refused_destination || outcome.body_too_long) {
    return TriggerFormUnusable(partner, outcome.error);
  }
  const int status = outcome.http_status;
  if (status == 0 || status >= 500 || status == 429 || status == 408) {
    return absl::UnavailableError(absl::StrCat(
        "partner \"", partner,
        "\" did not serve its trigger form (its config endpoint failed: ",
        outcome.error, "); try again later"));
  }
  if (status < 200 || status > 299) {
    return TriggerFormUnusable(
        partner, absl::StrCat("its config endpoint refused the request: ",
                              outcome.error));
  }
  return ParseTriggerForm(outcome.response_body, partner);
}

}  // namespace

HttpConnectorOptions TriggerFormConnectorOptions(
    const DestinationPolicy& destinations) {
  HttpConnectorOptions options;
  options.connect_timeout = absl::Seconds(5);
  options.total_timeout = absl::Seconds(5);
  options.max_response_body_bytes = kMaxTriggerFormBytes;
  options.refuse_longer_bodies = true;
  options.destinations = destinations;
  options.max_idle_connections = 16;
  return options;
}

TriggerFormFetcher::TriggerFormFetcher(Connector& connector, const Clock& clock,
                                       RandomSource& random,
                                       absl::Duration cache_ttl)
    : connector_(connector),
      clock_(clock),
      random_(random),
      cache_ttl_(cache_ttl) {}

void TriggerFormFetcher::Fetch(TriggerFormFetch fetch, Done done) {
  std::string key = KeyOf(fetch);
  std::optional<ats::v1::TriggerForm> kept;
  {
    absl::MutexLock lock(&mu_);
    auto found = kept_.find(key);
    if (found != kept_.end() && found->second.expiry > clock_.Now()) {
      kept = found->second.form;
    }
  }
  if (kept.has_value()) {
    done(*std::move(kept));
    return;
  }
  Delivery delivery;
  delivery.url = fetch.uri;
  delivery.webhook_id = absl::StrCat("form_", NewResourceId(random_));
  delivery.signing_secret = fetch.signing_secret;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = false;
  const auto printed = google::protobuf::util::MessageToJsonString(
      fetch.request, &delivery.body, print);
  if (!printed.ok()) {
    done(absl::InternalError(absl::StrCat(
        "could not write the trigger form request: ", printed.ToString())));
    return;
  }
  connector_.Send(
      std::move(delivery), [this, key = std::move(key),
                            partner = std::move(fetch.partner_display_name),
                            done = std::move(done)](DeliveryOutcome outcome) {
        absl::StatusOr<ats::v1::TriggerForm> form = FormOf(outcome, partner);
        if (form.ok()) Keep(key, *form);
        done(std::move(form));
      });
}

void TriggerFormFetcher::Keep(const std::string& key,
                              const ats::v1::TriggerForm& form) {
  if (cache_ttl_ <= absl::ZeroDuration()) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (kept_.size() >= kMaxKeptForms) {
    for (auto it = kept_.begin(); it != kept_.end();) {
      it = it->second.expiry <= now ? kept_.erase(it) : std::next(it);
    }
    if (kept_.size() >= kMaxKeptForms) kept_.clear();
  }
  kept_[key] = Kept{form, now + cache_ttl_};
}

}  // namespace ats::server
