#ifndef ATS_SERVER_DOMAIN_TRIGGER_FORM_H_
#define ATS_SERVER_DOMAIN_TRIGGER_FORM_H_

// Trigger forms (ats.v1.TriggerForm): the option fields a partner's stage
// triggers fill in. A partner with a config endpoint
// (Partner.trigger_form_uri) serves its form per stage; the form of any
// other partner is made from its static trigger_options. Trigger option
// values are checked against the form either way (CheckFormValues). The
// fetch itself is a TriggerFormSource's, which the server implements over
// HTTP in server/delivery and hands to the API layer.

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/trigger_form.pb.h"
#include "google/protobuf/map.h"

namespace ats::server {

// Largest config endpoint answer read; a longer one is refused unread.
inline constexpr size_t kMaxTriggerFormBytes = 256 * 1024;
// Most fields of a form, and most choices of one field.
inline constexpr int kMaxTriggerFormFields = 20;
inline constexpr int kMaxTriggerFormOptions = 100;

// ErrorInfo reason of a partner's form that cannot be used.
inline constexpr char kTriggerFormUnusable[] = "TRIGGER_FORM_UNUSABLE";

// Returns the form of `json`, a config endpoint's answer for partner
// `partner` (its display name, for messages): the proto3 JSON of an
// ats.v1.TriggerForm that follows every rule its proto states. Otherwise
// FAILED_PRECONDITION (ErrorInfo reason TRIGGER_FORM_UNUSABLE) naming the
// partner and the first few faults.
absl::StatusOr<ats::v1::TriggerForm> ParseTriggerForm(
    std::string_view json, const std::string& partner);

// Returns FAILED_PRECONDITION (ErrorInfo reason TRIGGER_FORM_UNUSABLE) saying
// that partner `partner` (its display name) served no usable form, and
// `why`.
absl::Status TriggerFormUnusable(const std::string& partner,
                                 const std::string& why);

// Returns the form of `listing`'s static trigger_options: a `select` for an
// option with allowed values, a `text` of up to 256 characters otherwise.
ats::v1::TriggerForm StaticTriggerForm(const ats::v1::Partner& listing);

// Returns OK when `values` fit `form`, the form of partner `partner` (its
// display name); otherwise INVALID_ARGUMENT with every violation under
// `<field>.option_values[<key>]` (`option_values[<key>]` when `field` is
// empty): a key that is no field of the form, a required field absent (or
// empty, but for a checkbox), a value that does not fit its field's type
// (see ats.v1.TriggerFormField), or is over 256 characters.
absl::Status CheckFormValues(
    const ats::v1::TriggerForm& form, const std::string& partner,
    const google::protobuf::Map<std::string, std::string>& values,
    const std::string& field);

// One form to fetch from a partner's config endpoint.
struct TriggerFormFetch {
  // The listing's trigger_form_uri.
  std::string uri;
  // The partner's display name, for messages.
  std::string partner_display_name;
  // The integration's Standard Webhooks signing secret.
  std::string signing_secret;
  // The body, as the partner reads it.
  ats::v1::TriggerFormRequest request;
};

// A form fetched for a trigger of one integration.
struct FetchedTriggerForm {
  // The integration the form was fetched for.
  std::string integration_id;
  // The URI it came from: a listing changed since makes it stale.
  std::string uri;
  ats::v1::TriggerForm form;
};

// Fetches partners' trigger forms. Implementations are thread-safe and
// bound every fetch by a timeout.
class TriggerFormSource {
 public:
  using Done = std::function<void(absl::StatusOr<ats::v1::TriggerForm>)>;

  virtual ~TriggerFormSource() = default;

  // Starts fetching the form `fetch` describes and returns without waiting;
  // calls `done` exactly once, on a thread of the source's (or on this one
  // when the fetch cannot start), with the form (ParseTriggerForm's), or
  // UNAVAILABLE when the partner did not answer, timed out or answered
  // 5xx/429, or FAILED_PRECONDITION (ErrorInfo reason TRIGGER_FORM_UNUSABLE)
  // when it answered otherwise, its answer is unusable, or its address is
  // refused; each error names the partner. `done` must be quick and must
  // not block.
  virtual void Fetch(TriggerFormFetch fetch, Done done) = 0;
};

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_TRIGGER_FORM_H_
