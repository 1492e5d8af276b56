#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/integration_service.h"
#include "server/api/list_page.h"
#include "server/common/etag.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {
namespace {

constexpr size_t kMaxDisplayNameLength = 200;

absl::Status PartnerNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("partner ", PartnerName(id), " not found"));
}

absl::Status IntegrationNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("integration ", IntegrationName(id), " not found"));
}

// Storage reports a taken display name as a bare constraint failure; the
// operator needs to know which name clashed.
absl::Status NameTakenOr(absl::Status status, const std::string& display_name) {
  if (!absl::IsAlreadyExists(status)) return status;
  return absl::AlreadyExistsError(
      absl::StrCat("a partner named \"", display_name,
                   "\" is already in the Marketplace (names are compared "
                   "case-insensitively); choose another display_name"));
}

absl::Status AlreadyActivated(const storage::IntegrationRow& existing,
                              const std::string& partner_display_name) {
  const std::string name = IntegrationName(existing.id);
  return WithErrorInfo(
      absl::AlreadyExistsError(absl::StrCat(
          "the account already has integration ", name, " with partner \"",
          partner_display_name, "\" (", existing.active ? "active" : "inactive",
          "); use ReactivateIntegration to turn it back on, or "
          "UpdateIntegration to change its activation values")),
      "INTEGRATION_ALREADY_EXISTS", {{"integration", name}});
}

absl::StatusOr<storage::PartnerRow> LoadPartner(storage::Transaction& txn,
                                                std::string_view id) {
  auto row = txn.integrations().GetPartner(id);
  if (absl::IsNotFound(row.status())) return PartnerNotFound(id);
  return row;
}

// A partner key sees its own integration only; any other is as absent to it
// as another account's integration is to everyone.
absl::StatusOr<storage::IntegrationRow> LoadIntegration(
    storage::Transaction& txn, const Caller& caller, std::string_view id) {
  if (caller.role == ats::v1::ROLE_PARTNER && caller.integration_id != id) {
    return IntegrationNotFound(id);
  }
  auto row = txn.integrations().GetIntegration(caller.account_id, id);
  if (absl::IsNotFound(row.status())) return IntegrationNotFound(id);
  return row;
}

// Fills `partner` from `row` as `caller` sees it: account keys also learn
// their account's integration with the partner.
absl::Status PartnerForCaller(storage::Transaction& txn, const Caller& caller,
                              const storage::PartnerRow& row,
                              ats::v1::Partner* partner) {
  PartnerToProto(row, partner);
  if (caller.account_id.empty()) return absl::OkStatus();
  auto integration =
      txn.integrations().FindIntegrationByPartner(caller.account_id, row.id);
  if (!integration.ok()) return integration.status();
  if (integration->has_value()) {
    partner->set_account_integration(IntegrationName((*integration)->id));
    partner->set_account_integration_active((*integration)->active);
  }
  return absl::OkStatus();
}

// Creates the account's integration with `partner_id` as `request` asks,
// inside `txn`; the response carries the signing secret.
absl::Status ActivateIn(storage::Transaction& txn, const Caller& caller,
                        const std::string& partner_id,
                        const ats::v1::ActivateIntegrationRequest& request,
                        absl::Time now, RandomSource& random,
                        ats::v1::ActivateIntegrationResponse* response) {
  auto partner = LoadPartner(txn, partner_id);
  if (!partner.ok()) return partner.status();
  const ats::v1::Partner& listing = partner->listing;
  auto existing = txn.integrations().FindIntegrationByPartner(caller.account_id,
                                                              partner_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return AlreadyActivated(**existing, listing.display_name());
  }
  storage::IntegrationRow row;
  row.activation_values = SortedValues(request.activation_values());
  Validator v;
  ValidateActivationValues(v, "activation_values", row.activation_values,
                           listing);
  if (!v.ok()) return v.status();

  row.account_id = caller.account_id;
  row.id = NewResourceId(random);
  row.partner_id = partner_id;
  row.display_name = request.display_name().empty() ? listing.display_name()
                                                    : request.display_name();
  row.active = true;
  row.signing_secret = NewWebhookSecret(random);
  row.signing_secret_create_time = now;
  row.create_time = now;
  row.update_time = now;
  row.revision = 1;
  absl::Status status = txn.integrations().InsertIntegration(row);
  if (!status.ok()) return status;
  IntegrationToProto(row, listing, response->mutable_integration());
  response->set_signing_secret(row.signing_secret);
  return absl::OkStatus();
}

// Changes `row` (whose partner has `listing`) at `now`; returns whether
// anything changed, or the error that rolls the write back.
using IntegrationChange = std::function<absl::StatusOr<bool>(
    const ats::v1::Partner& listing, absl::Time now,
    storage::IntegrationRow& row)>;

// Applies `change` to integration `id` as `caller` sees it, bumping revision
// and update_time to `now` when it changed anything, and fills `response`
// with the integration as stored.
absl::Status ChangeIntegration(storage::Transaction& txn, const Caller& caller,
                               const std::string& id, absl::Time now,
                               const IntegrationChange& change,
                               ats::v1::Integration* response) {
  auto row = LoadIntegration(txn, caller, id);
  if (!row.ok()) return row.status();
  auto partner = LoadPartner(txn, row->partner_id);
  if (!partner.ok()) return partner.status();
  absl::StatusOr<bool> changed = change(partner->listing, now, *row);
  if (!changed.ok()) return changed.status();
  if (*changed) {
    row->revision += 1;
    row->update_time = now;
    absl::Status status = txn.integrations().UpdateIntegration(*row);
    if (!status.ok()) return status;
  }
  IntegrationToProto(*row, partner->listing, response);
  return absl::OkStatus();
}

// Turns `row` off; already off is no change.
absl::StatusOr<bool> Deactivate(const ats::v1::Partner&, absl::Time,
                                storage::IntegrationRow& row) {
  if (!row.active) return false;
  row.active = false;
  return true;
}

// Turns `row` back on, also clearing an endpoint the dispatcher disabled;
// already on and enabled is no change.
absl::StatusOr<bool> Reactivate(const ats::v1::Partner&, absl::Time,
                                storage::IntegrationRow& row) {
  if (row.active && row.endpoint_disabled_reason.empty()) return false;
  row.active = true;
  row.endpoint_disabled_reason.clear();
  // A fresh start: the failures before it no longer count toward disabling.
  row.failing_since.reset();
  row.failed_attempts = 0;
  return true;
}

// Applies the masked fields of `request` to `row`, whose partner has
// `listing`; the merged activation values are checked as a whole.
absl::StatusOr<bool> ApplyIntegrationUpdate(
    const ats::v1::UpdateIntegrationRequest& request,
    const ats::v1::Partner& listing, storage::IntegrationRow& row) {
  absl::Status status = CheckEtag(request.etag(), row.revision);
  if (!status.ok()) return status;
  const ats::v1::Integration& update = request.integration();
  const google::protobuf::FieldMask& mask = request.update_mask();
  if (Masks(mask, "display_name")) row.display_name = update.display_name();
  if (Masks(mask, "activation_values")) {
    row.activation_values =
        MergeActivationValues(SortedValues(update.activation_values()),
                              row.activation_values, listing);
    Validator values_check;
    ValidateActivationValues(values_check, "integration.activation_values",
                             row.activation_values, listing);
    if (!values_check.ok()) return values_check.status();
  }
  return true;
}

// Serves `call`, whose request names an integration in `name`: applies
// `change` to it in one write and answers the integration as stored, in the
// message `answer` returns. Asked on every run of the write: a run again
// starts from a cleared response.
grpc::ServerUnaryReactor* ChangeNamedIntegration(
    const UnaryCall& call, const std::string& name, IntegrationChange change,
    std::function<ats::v1::Integration*()> answer) {
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", name, kIntegrationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [answer = std::move(answer), caller = call.caller(), id = ids[0],
       change = std::move(change)](storage::Transaction& txn, absl::Time now) {
        return ChangeIntegration(txn, caller, id, now, change, answer());
      });
}

}  // namespace

grpc::ServerUnaryReactor* IntegrationService::CreatePartner(
    grpc::CallbackServerContext* context,
    const ats::v1::CreatePartnerRequest* request, ats::v1::Partner* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  ats::v1::Partner listing = ListingOf(request->partner());
  Validator v;
  ValidateListing(v, "partner", listing, env_.destinations);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([this, response, listing = std::move(listing)](
                        storage::Transaction& txn, absl::Time now) {
    const storage::PartnerRow row{NewResourceId(env_.random), listing, now, now,
                                  /*revision=*/1};
    absl::Status status = NameTakenOr(txn.integrations().InsertPartner(row),
                                      listing.display_name());
    if (!status.ok()) return status;
    PartnerToProto(row, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntegrationService::GetPartner(
    grpc::CallbackServerContext* context,
    const ats::v1::GetPartnerRequest* request, ats::v1::Partner* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kPartnerPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto row = LoadPartner(txn, ids[0]);
    if (!row.ok()) return row.status();
    return PartnerForCaller(txn, call.caller(), *row, response);
  });
}

grpc::ServerUnaryReactor* IntegrationService::ListPartners(
    grpc::CallbackServerContext* context,
    const ats::v1::ListPartnersRequest* request,
    ats::v1::ListPartnersResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.EnumValue<ats::v1::PartnerCategory>("category", request->category(),
                                        ats::v1::PartnerCategory_IsValid,
                                        /*allow_unspecified=*/true);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  // The Marketplace is shared, so the token does not depend on the account;
  // the account's integrations are looked up per page.
  auto paging = ListPage::Start(
      request->page_token(), request->page_size(),
      QueryFingerprint({call.method(), absl::StrCat(request->category())}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.integrations().ListPartners(request->category(), paging->request()),
        response, [&](const storage::PartnerRow& row) {
          return PartnerForCaller(txn, call.caller(), row,
                                  response->add_partners());
        });
  });
}

grpc::ServerUnaryReactor* IntegrationService::UpdatePartner(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdatePartnerRequest* request, ats::v1::Partner* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("partner.name", request->partner().name(), kPartnerPattern, &ids);
  ValidatePartnerMask(v, "update_mask", request->update_mask());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([this, request, response, id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    auto row = LoadPartner(txn, id);
    if (!row.ok()) return row.status();
    absl::Status status = CheckEtag(request->etag(), row->revision);
    if (!status.ok()) return status;
    ApplyPartnerMask(request->update_mask(), ListingOf(request->partner()),
                     &row->listing);
    // Fields depend on each other (unique keys across the whole list), so
    // the result is checked as a whole.
    Validator listing_check;
    ValidateListing(listing_check, "partner", row->listing, env_.destinations);
    if (!listing_check.ok()) return listing_check.status();
    row->revision += 1;
    row->update_time = now;
    status = NameTakenOr(txn.integrations().UpdatePartner(*row),
                         row->listing.display_name());
    if (!status.ok()) return status;
    PartnerToProto(*row, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntegrationService::ActivateIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::ActivateIntegrationRequest* request,
    ats::v1::ActivateIntegrationResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("partner", request->partner(), kPartnerPattern, &ids);
  if (!request->display_name().empty()) {
    v.Length("display_name", request->display_name(), 1, kMaxDisplayNameLength);
  }
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  // Activation values are checked inside the write, against the listing as
  // it is when the integration is created.
  return call.Write(
      [this, request, response, caller = call.caller(), partner_id = ids[0]](
          storage::Transaction& txn, absl::Time now) {
        return ActivateIn(txn, caller, partner_id, *request, now, env_.random,
                          response);
      },
      nullptr,
      // The secret is shown once: a replay does not show it again.
      [](google::protobuf::Message* logged) {
        static_cast<ats::v1::ActivateIntegrationResponse*>(logged)
            ->clear_signing_secret();
      });
}

grpc::ServerUnaryReactor* IntegrationService::GetIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::GetIntegrationRequest* request,
    ats::v1::Integration* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kIntegrationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto row = LoadIntegration(txn, call.caller(), ids[0]);
    if (!row.ok()) return row.status();
    auto partner = LoadPartner(txn, row->partner_id);
    if (!partner.ok()) return partner.status();
    IntegrationToProto(*row, partner->listing, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntegrationService::ListIntegrations(
    grpc::CallbackServerContext* context,
    const ats::v1::ListIntegrationsRequest* request,
    ats::v1::ListIntegrationsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.EnumValue<ats::v1::IntegrationState>("state", request->state(),
                                         ats::v1::IntegrationState_IsValid,
                                         /*allow_unspecified=*/true);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  std::optional<bool> active;
  if (request->state() != ats::v1::INTEGRATION_STATE_UNSPECIFIED) {
    active = request->state() == ats::v1::INTEGRATION_STATE_ACTIVE;
  }
  const std::string& account_id = call.caller().account_id;
  auto paging =
      ListPage::Start(request->page_token(), request->page_size(),
                      QueryFingerprint({call.method(), account_id,
                                        absl::StrCat(request->state())}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    // Which values are secret comes from each partner's listing.
    std::map<std::string, ats::v1::Partner> listings;
    return paging->Fill(
        txn.integrations().ListIntegrations(account_id, active,
                                            paging->request()),
        response, [&](const storage::IntegrationRow& row) -> absl::Status {
          auto listing = listings.find(row.partner_id);
          if (listing == listings.end()) {
            auto partner = LoadPartner(txn, row.partner_id);
            if (!partner.ok()) return partner.status();
            listing = listings.emplace(row.partner_id, partner->listing).first;
          }
          IntegrationToProto(row, listing->second,
                             response->add_integrations());
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* IntegrationService::UpdateIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateIntegrationRequest* request,
    ats::v1::Integration* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const ats::v1::Integration& update = request->integration();
  const google::protobuf::FieldMask& mask = request->update_mask();
  Validator v;
  std::vector<std::string> ids;
  v.Name("integration.name", update.name(), kIntegrationPattern, &ids);
  if (v.UpdateMask("update_mask", mask,
                   {"display_name", "activation_values"}) &&
      Masks(mask, "display_name")) {
    v.Length("integration.display_name", update.display_name(), 1,
             kMaxDisplayNameLength);
  }
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([request, response, caller = call.caller(), id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    return ChangeIntegration(
        txn, caller, id, now,
        [request](const ats::v1::Partner& listing, absl::Time,
                  storage::IntegrationRow& row) {
          return ApplyIntegrationUpdate(*request, listing, row);
        },
        response);
  });
}

grpc::ServerUnaryReactor* IntegrationService::DeactivateIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::DeactivateIntegrationRequest* request,
    ats::v1::Integration* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  return ChangeNamedIntegration(call, request->name(), Deactivate,
                                [response] { return response; });
}

grpc::ServerUnaryReactor* IntegrationService::ReactivateIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::ReactivateIntegrationRequest* request,
    ats::v1::Integration* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  return ChangeNamedIntegration(call, request->name(), Reactivate,
                                [response] { return response; });
}

grpc::ServerUnaryReactor* IntegrationService::RotateSigningSecret(
    grpc::CallbackServerContext* context,
    const ats::v1::RotateSigningSecretRequest* request,
    ats::v1::RotateSigningSecretResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  return ChangeNamedIntegration(
      call, request->name(),
      [this, response](const ats::v1::Partner&, absl::Time now,
                       storage::IntegrationRow& row) -> absl::StatusOr<bool> {
        row.signing_secret = NewWebhookSecret(env_.random);
        row.signing_secret_create_time = now;
        response->set_signing_secret(row.signing_secret);
        return true;
      },
      [response] { return response->mutable_integration(); });
}

}  // namespace ats::server
