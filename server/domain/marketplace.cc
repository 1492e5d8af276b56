#include "server/domain/marketplace.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ats/v1/partner_event.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/common/etag.h"
#include "server/common/string_view.h"
#include "server/domain/field_paths.h"
#include "server/contract/timestamps.h"
#include "server/domain/moving_rules.h"

namespace ats::server {
namespace {

using google::protobuf::RepeatedField;
using google::protobuf::RepeatedPtrField;

// Limits documented on ats.v1.Partner and ActivateIntegrationRequest.
constexpr size_t kMaxLabelLength = 200;
constexpr size_t kMaxDescriptionLength = 2000;
constexpr int kMaxListingEntries = 20;
constexpr int kMaxAllowedValues = 100;
constexpr size_t kMaxAllowedValueLength = 256;
constexpr size_t kMaxActivationValueLength = 1024;
// Longest client-chosen key echoed as is in a violation's field path.
constexpr size_t kMaxKeyShown = 64;

// A map entry's path, `field[key]`; a key no listing could have is shortened
// and escaped, since the path ends up in messages and logs.
std::string Keyed(std::string_view field, std::string_view key) {
  bool plain = key.size() <= kMaxKeyShown;
  for (char c : key) plain = plain && absl::ascii_isprint(c) && c != ']';
  if (plain) return absl::StrCat(AbslView(field), "[", AbslView(key), "]");
  return absl::StrCat(AbslView(field), "[",
                      absl::CHexEscape(AbslView(key.substr(0, kMaxKeyShown))),
                      key.size() > kMaxKeyShown ? "..." : "", "]");
}

// Checks a list of activation fields or trigger options: what the two share
// (a valid key unique in the list, a label, help text), plus `check_more` on
// each entry with its path.
template <typename Entry, typename CheckMore>
void ValidateKeyedList(Validator& v, std::string_view field,
                       const RepeatedPtrField<Entry>& entries,
                       CheckMore check_more) {
  if (!CheckCount(v, field, entries.size(), kMaxListingEntries)) return;
  std::set<std::string> keys;
  for (int i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    const std::string path = Indexed(field, i);
    if (v.Key(Child(path, "key"), entry.key())) {
      v.Require(keys.insert(entry.key()).second, Child(path, "key"),
                absl::StrCat("repeats key \"", entry.key(),
                             "\"; keys must be unique in the listing"));
    }
    v.Length(Child(path, "display_name"), entry.display_name(), 1,
             kMaxLabelLength);
    v.MultilineLength(Child(path, "description"), entry.description(), 0,
                      kMaxDescriptionLength);
    check_more(path, entry);
  }
}

void ValidateAllowedValues(Validator& v, std::string_view field,
                           const RepeatedPtrField<std::string>& values) {
  if (!CheckCount(v, field, values.size(), kMaxAllowedValues)) return;
  std::set<std::string_view> seen;
  for (int i = 0; i < values.size(); ++i) {
    const std::string path = Indexed(field, i);
    if (v.Length(path, values[i], 1, kMaxAllowedValueLength)) {
      v.Require(seen.insert(values[i]).second, path,
                absl::StrCat("repeats \"", values[i],
                             "\"; allowed values must be unique"));
    }
  }
}

const ats::v1::ActivationField* FindActivationField(
    const ats::v1::Partner& listing, std::string_view key) {
  for (const ats::v1::ActivationField& field : listing.activation_fields()) {
    if (field.key() == key) return &field;
  }
  return nullptr;
}

// What a client may send, for the violation of an unknown key.
std::string ActivationKeysOf(const ats::v1::Partner& listing) {
  if (listing.activation_fields().empty()) return "it asks for none";
  return absl::StrCat(
      "its fields are: ",
      absl::StrJoin(listing.activation_fields(), ", ",
                    [](std::string* out, const ats::v1::ActivationField& f) {
                      absl::StrAppend(out, f.key());
                    }));
}

}  // namespace

void ValidateCandidateFields(Validator& v, std::string_view field,
                             const RepeatedField<int>& fields) {
  // Each known field at most once.
  if (!CheckCount(v, field, fields.size(),
                  ats::v1::CandidateField_ARRAYSIZE - 1)) {
    return;
  }
  std::set<int> seen;
  for (int i = 0; i < fields.size(); ++i) {
    const std::string path = Indexed(field, i);
    if (v.EnumValue<ats::v1::CandidateField>(path, fields[i],
                                             ats::v1::CandidateField_IsValid,
                                             /*allow_unspecified=*/false)) {
      v.Require(
          seen.insert(fields[i]).second, path,
          absl::StrCat("repeats ", ats::v1::CandidateField_Name(fields[i]),
                       "; list each candidate field once"));
    }
  }
}

std::string PartnerName(std::string_view id) {
  return absl::StrCat("partners/", AbslView(id));
}

std::string IntegrationName(std::string_view id) {
  return absl::StrCat("integrations/", AbslView(id));
}

ats::v1::Partner ListingOf(const ats::v1::Partner& partner) {
  ats::v1::Partner listing = partner;
  listing.clear_name();
  listing.clear_account_integration();
  listing.clear_account_integration_active();
  listing.clear_create_time();
  listing.clear_update_time();
  listing.clear_etag();
  return listing;
}

void ValidateListing(Validator& v, std::string_view field,
                     const ats::v1::Partner& listing,
                     const DestinationPolicy& destinations) {
  v.Length(Child(field, "display_name"), listing.display_name(), 1,
           kMaxLabelLength);
  v.EnumValue<ats::v1::PartnerCategory>(
      Child(field, "category"), listing.category(),
      ats::v1::PartnerCategory_IsValid, /*allow_unspecified=*/false);
  v.MultilineLength(Child(field, "description"), listing.description(), 0,
                    kMaxDescriptionLength);
  v.Destination(Child(field, "webhook_uri"), listing.webhook_uri(),
                destinations);
  if (!listing.trigger_form_uri().empty()) {
    v.Destination(Child(field, "trigger_form_uri"), listing.trigger_form_uri(),
                  destinations);
  }
  ValidateKeyedList(v, Child(field, "activation_fields"),
                    listing.activation_fields(),
                    [](const std::string&, const ats::v1::ActivationField&) {});
  ValidateKeyedList(
      v, Child(field, "trigger_options"), listing.trigger_options(),
      [&v](const std::string& path, const ats::v1::TriggerOption& option) {
        ValidateAllowedValues(v, Child(path, "allowed_values"),
                              option.allowed_values());
      });
  ValidateCandidateFields(v, Child(field, "candidate_fields"),
                          listing.candidate_fields());
  ValidateCriteria(v, Child(field, "criteria"), listing.criteria());
}

void ValidatePartnerMask(Validator& v, std::string_view field,
                         const google::protobuf::FieldMask& mask) {
  v.UpdateMask(field, mask,
               {"display_name", "category", "description", "webhook_uri",
                "activation_fields", "trigger_options", "candidate_fields",
                "criteria", "trigger_form_uri"});
}

void ApplyPartnerMask(const google::protobuf::FieldMask& mask,
                      const ats::v1::Partner& update,
                      ats::v1::Partner* listing) {
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(update, mask, options,
                                                        listing);
}

void PartnerToProto(const storage::PartnerRow& row, ats::v1::Partner* partner) {
  *partner = row.listing;
  partner->set_name(PartnerName(row.id));
  *partner->mutable_create_time() = ToProtoTime(row.create_time);
  *partner->mutable_update_time() = ToProtoTime(row.update_time);
  partner->set_etag(EtagOf(row.revision));
}

std::map<std::string, std::string> SortedValues(
    const google::protobuf::Map<std::string, std::string>& values) {
  return std::map<std::string, std::string>(values.begin(), values.end());
}

void ValidateActivationValues(Validator& v, std::string_view field,
                              const std::map<std::string, std::string>& values,
                              const ats::v1::Partner& listing) {
  // A listing has at most that many fields, so more values must include
  // unknown keys; one violation says so instead of one per key.
  if (!CheckCount(v, field, static_cast<int>(values.size()),
                  kMaxListingEntries)) {
    return;
  }
  for (const auto& [key, value] : values) {
    const ats::v1::ActivationField* known = FindActivationField(listing, key);
    const std::string path = Keyed(field, key);
    if (!v.Require(known != nullptr, path,
                   absl::StrCat("is not an activation field of partner \"",
                                listing.display_name(), "\"; ",
                                ActivationKeysOf(listing)))) {
      continue;
    }
    v.Length(path, value, known->required() ? 1 : 0,
             kMaxActivationValueLength);
  }
  for (const ats::v1::ActivationField& known : listing.activation_fields()) {
    if (!known.required() || values.count(known.key()) != 0) continue;
    v.Require(false, Keyed(field, known.key()),
              absl::StrCat("is required: ", known.display_name()));
  }
}

std::map<std::string, std::string> MergeActivationValues(
    std::map<std::string, std::string> requested,
    const std::map<std::string, std::string>& stored,
    const ats::v1::Partner& listing) {
  for (const ats::v1::ActivationField& known : listing.activation_fields()) {
    if (!known.secret() || requested.count(known.key()) != 0) continue;
    auto kept = stored.find(known.key());
    if (kept != stored.end()) requested.insert(*kept);
  }
  return requested;
}

void IntegrationToProto(const storage::IntegrationRow& row,
                        const ats::v1::Partner& listing,
                        ats::v1::Integration* integration) {
  integration->set_name(IntegrationName(row.id));
  integration->set_partner(PartnerName(row.partner_id));
  integration->set_display_name(row.display_name);
  integration->set_state(row.active ? ats::v1::INTEGRATION_STATE_ACTIVE
                                    : ats::v1::INTEGRATION_STATE_INACTIVE);
  for (const ats::v1::ActivationField& known : listing.activation_fields()) {
    auto value = row.activation_values.find(known.key());
    if (value == row.activation_values.end()) continue;
    if (!known.secret()) {
      (*integration->mutable_activation_values())[value->first] =
          value->second;
    } else if (!value->second.empty()) {
      integration->add_secret_fields_set(known.key());
    }
  }
  integration->set_endpoint_disabled_reason(row.endpoint_disabled_reason);
  if (row.failing_since.has_value()) {
    *integration->mutable_failing_since() = ToProtoTime(*row.failing_since);
  }
  integration->set_failed_attempts(row.failed_attempts);
  *integration->mutable_signing_secret_create_time() =
      ToProtoTime(row.signing_secret_create_time);
  *integration->mutable_create_time() = ToProtoTime(row.create_time);
  *integration->mutable_update_time() = ToProtoTime(row.update_time);
  integration->set_etag(EtagOf(row.revision));
}

}  // namespace ats::server
