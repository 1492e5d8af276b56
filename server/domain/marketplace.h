#ifndef ATS_SERVER_DOMAIN_MARKETPLACE_H_
#define ATS_SERVER_DOMAIN_MARKETPLACE_H_

// Pure helpers of the Marketplace and integration RPCs: the rules a partner
// listing and an integration's activation values must follow, and the
// conversions between storage rows and their protos. Nothing here touches
// storage, so every rule is testable on plain messages.

#include <map>
#include <string>
#include <string_view>

#include "ats/v1/integration_service.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_field.h"
#include "server/common/validation.h"
#include "storage/integration_repository.h"

namespace ats::server {

// Resource name patterns, as Validator::Name takes them.
inline constexpr char kPartnerPattern[] = "partners/{partner}";
inline constexpr char kIntegrationPattern[] = "integrations/{integration}";

// Returns `partners/{id}`.
std::string PartnerName(std::string_view id);

// Returns `integrations/{id}`.
std::string IntegrationName(std::string_view id);

// Returns the operator-written part of `partner`: its name and output-only
// fields cleared, as storage keeps a listing.
ats::v1::Partner ListingOf(const ats::v1::Partner& partner);

// Records in `v` every rule of the Marketplace that `listing` breaks, naming
// fields below `field` (e.g. "partner.activation_fields[2].key"); its
// webhook_uri, and trigger_form_uri when set, must be destinations
// `destinations` allows.
void ValidateListing(Validator& v, std::string_view field,
                     const ats::v1::Partner& listing,
                     const DestinationPolicy& destinations);

// Records in `v` what is wrong with `fields`, a list of candidate fields (a
// listing's or a webhook trigger's) named `field`: an unknown or
// unspecified value, or one listed twice.
void ValidateCandidateFields(
    Validator& v, std::string_view field,
    const google::protobuf::RepeatedField<int>& fields);

// Records in `v` every path of `mask` that UpdatePartner may not change.
void ValidatePartnerMask(Validator& v, std::string_view field,
                         const google::protobuf::FieldMask& mask);

// Replaces the fields of `*listing` named by the (validated) `mask` with
// their values in `update`; repeated fields are replaced, not appended to.
void ApplyPartnerMask(const google::protobuf::FieldMask& mask,
                      const ats::v1::Partner& update,
                      ats::v1::Partner* listing);

// Fills `partner` from `row`; the account_integration fields are left for
// the caller, since they depend on who asks.
void PartnerToProto(const storage::PartnerRow& row, ats::v1::Partner* partner);

// Returns `values` as an ordered map, so violations come out in a stable
// order whatever the hash order of the proto map.
std::map<std::string, std::string> SortedValues(
    const google::protobuf::Map<std::string, std::string>& values);

// Records in `v` every way `values` misfit the activation fields of
// `listing`: a key the listing does not ask for, a required field without a
// value, a value over 1024 characters. Violations name `field[<key>]`.
void ValidateActivationValues(Validator& v, std::string_view field,
                              const std::map<std::string, std::string>& values,
                              const ats::v1::Partner& listing);

// Returns `requested` (a whole replacement map) plus the `stored` values of
// the listing's secret fields that `requested` leaves out: clients cannot
// read secrets back, so they cannot be expected to resend them.
std::map<std::string, std::string> MergeActivationValues(
    std::map<std::string, std::string> requested,
    const std::map<std::string, std::string>& stored,
    const ats::v1::Partner& listing);

// Fills `integration` from `row`, whose partner has `listing`. Only values of
// the listing's non-secret fields are returned: secret ones are merely listed
// in secret_fields_set, and values of fields the listing no longer has are
// hidden too, since whether they were secret is no longer known.
void IntegrationToProto(const storage::IntegrationRow& row,
                        const ats::v1::Partner& listing,
                        ats::v1::Integration* integration);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_MARKETPLACE_H_
