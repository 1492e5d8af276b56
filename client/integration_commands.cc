// partners (the Marketplace) and integrations: IntegrationService.

#include <memory>

#include "ats/v1/integration_service.grpc.pb.h"
#include "client/commands.h"

namespace ats::client {
namespace {

using ats::v1::IntegrationService;

const std::vector<Column<ats::v1::Partner>> kPartnerColumns = {
    {"NAME", [](const auto& p) { return p.name(); }},
    {"DISPLAY NAME", [](const auto& p) { return p.display_name(); }},
    {"CATEGORY", [](const auto& p) { return Label(p.category()); }},
    {"INTEGRATION", [](const auto& p) { return p.account_integration(); }},
    {"ACTIVE",
     [](const auto& p) {
       return p.account_integration().empty()
                  ? std::string()
                  : (p.account_integration_active() ? "yes" : "no");
     }},
};

const std::vector<Column<ats::v1::Integration>> kIntegrationColumns = {
    {"NAME", [](const auto& i) { return i.name(); }},
    {"DISPLAY NAME", [](const auto& i) { return i.display_name(); }},
    {"PARTNER", [](const auto& i) { return i.partner(); }},
    {"STATE", [](const auto& i) { return Label(i.state()); }},
    {"ENDPOINT DISABLED",
     [](const auto& i) { return i.endpoint_disabled_reason(); }},
};

void AddPartners(CLI::App& app, Session& session) {
  CLI::App* partners = AddGroup(
      app, "partners", "The Marketplace of partners an account can activate",
      "ats-admin partners list --category assessment");

  struct CreateArgs {
    std::string file, display_name, category, description, webhook_uri,
        request_id;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = AddCommand(
      *partners, "create",
      "List a partner in the Marketplace (operator key). --file gives the "
      "whole ats.v1.Partner as JSON (activation fields, trigger options, "
      "candidate fields); flags override its fields",
      "ats-admin partners create --file assessly.json\n"
      "  ats-admin partners create --display-name Assessly --category "
      "assessment --webhook-uri https://assessly.example/hooks");
  create->add_option("--file", create_args->file, "ats.v1.Partner as JSON")
      ->check(CLI::ExistingFile);
  create->add_option("--display-name", create_args->display_name,
                     "Partner name");
  create->add_option("--category", create_args->category,
                     EnumChoices<ats::v1::PartnerCategory>());
  create->add_option("--description", create_args->description, "Description");
  create->add_option("--webhook-uri", create_args->webhook_uri,
                     "Where events are POSTed");
  create->add_option("--request-id", create_args->request_id,
                     "Idempotency key");
  create->callback([&session, args = create_args] {
    ats::v1::CreatePartnerRequest request;
    ats::v1::Partner* partner = request.mutable_partner();
    if (!args->file.empty()) ReadJsonFile(args->file, partner);
    if (!args->display_name.empty())
      partner->set_display_name(args->display_name);
    if (!args->category.empty()) {
      partner->set_category(
          ParseEnum<ats::v1::PartnerCategory>(args->category, "--category"));
    }
    if (!args->description.empty()) partner->set_description(args->description);
    if (!args->webhook_uri.empty()) partner->set_webhook_uri(args->webhook_uri);
    request.set_request_id(args->request_id);
    ats::v1::Partner created;
    Check(session.Stub<IntegrationService>(KeyFile::kOperator)
              ->CreatePartner(session.Context().get(), request, &created));
    session.output().Show(created);
  });

  struct ListArgs {
    std::string category;
    int limit = 100;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = AddCommand(
      *partners, "list",
      "Browse the Marketplace, with the account's integration with each",
      "ats-admin partners list --category assessment");
  list->add_option("--category", list_args->category,
                   EnumChoices<ats::v1::PartnerCategory>());
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, args = list_args] {
    ats::v1::ListPartnersRequest request;
    if (!args->category.empty()) {
      request.set_category(
          ParseEnum<ats::v1::PartnerCategory>(args->category, "--category"));
    }
    auto response = ListAll<IntegrationService>(
        session, request, args->limit, &IntegrationService::Stub::ListPartners,
        &ats::v1::ListPartnersResponse::mutable_partners);
    session.output().List(response, response.partners(), kPartnerColumns);
  });

  AddNameCommand<IntegrationService>(
      *partners, session, "show",
      "Show a listing: activation fields, trigger options, candidate fields",
      "ats-admin partners show partners/41d2", "partners",
      &IntegrationService::Stub::GetPartner);
}

void AddIntegrations(CLI::App& app, Session& session) {
  CLI::App* integrations =
      AddGroup(app, "integrations", "The account's activated partners",
               "ats-admin integrations activate partners/41d2 --value "
               "api_key=ak_live_123");

  struct ActivateArgs {
    std::string partner, display_name, request_id;
    std::vector<std::string> values;
  };
  auto activate_args = std::make_shared<ActivateArgs>();
  auto* activate = AddCommand(
      *integrations, "activate",
      "Activate a partner for the account; prints the webhook signing "
      "secret, shown only once",
      "ats-admin integrations activate partners/41d2 --value "
      "api_key=ak_live_123");
  activate->add_option("partner", activate_args->partner, "partners/ID or ID")
      ->required();
  activate->add_option("--value", activate_args->values,
                       "An activation field, key=value (repeatable)");
  activate->add_option("--display-name", activate_args->display_name,
                       "Name shown to recruiters (default: the partner's)");
  activate->add_option("--request-id", activate_args->request_id,
                       "Idempotency key");
  activate->callback([&session, args = activate_args] {
    ats::v1::ActivateIntegrationRequest request;
    request.set_partner(Qualified("partners", args->partner));
    request.set_display_name(args->display_name);
    PutKeyValues(args->values, "--value", request.mutable_activation_values());
    request.set_request_id(args->request_id);
    ats::v1::ActivateIntegrationResponse response;
    Check(session.Stub<IntegrationService>()->ActivateIntegration(
        session.Context().get(), request, &response));
    session.output().Show(response);
  });

  struct ListArgs {
    std::string state;
    int limit = 100;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list =
      AddCommand(*integrations, "list", "List the account's integrations",
                 "ats-admin integrations list --state active");
  list->add_option("--state", list_args->state,
                   EnumChoices<ats::v1::IntegrationState>());
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, args = list_args] {
    ats::v1::ListIntegrationsRequest request;
    if (!args->state.empty()) {
      request.set_state(
          ParseEnum<ats::v1::IntegrationState>(args->state, "--state"));
    }
    auto response = ListAll<IntegrationService>(
        session, request, args->limit,
        &IntegrationService::Stub::ListIntegrations,
        &ats::v1::ListIntegrationsResponse::mutable_integrations);
    session.output().List(response, response.integrations(),
                          kIntegrationColumns);
  });

  AddNameCommand<IntegrationService>(
      *integrations, session, "show",
      "Show an integration (secret values are never shown)",
      "ats-admin integrations show integrations/7b90", "integrations",
      &IntegrationService::Stub::GetIntegration);

  struct UpdateArgs {
    std::string name, display_name;
    std::vector<std::string> values;
  };
  auto update_args = std::make_shared<UpdateArgs>();
  auto* update = AddCommand(
      *integrations, "update",
      "Change the display name or the activation values (--value replaces "
      "them all; secret fields left out keep their value)",
      "ats-admin integrations update integrations/7b90 --display-name "
      "\"Assessly (EU)\"");
  update->add_option("name", update_args->name, "integrations/ID or ID")
      ->required();
  update->add_option("--display-name", update_args->display_name, "New name");
  update->add_option("--value", update_args->values,
                     "An activation field, key=value (repeatable)");
  update->callback([&session, args = update_args] {
    ats::v1::UpdateIntegrationRequest request;
    ats::v1::Integration* integration = request.mutable_integration();
    integration->set_name(Qualified("integrations", args->name));
    if (!args->display_name.empty()) {
      integration->set_display_name(args->display_name);
      request.mutable_update_mask()->add_paths("display_name");
    }
    if (!args->values.empty()) {
      PutKeyValues(args->values, "--value",
                   integration->mutable_activation_values());
      request.mutable_update_mask()->add_paths("activation_values");
    }
    if (request.update_mask().paths().empty()) {
      throw UsageError("nothing to update: give --display-name or --value");
    }
    ats::v1::Integration updated;
    Check(session.Stub<IntegrationService>()->UpdateIntegration(
        session.Context().get(), request, &updated));
    session.output().Show(updated);
  });

  AddNameCommand<IntegrationService>(
      *integrations, session, "deactivate",
      "Deactivate: triggers using it produce SKIPPED events from then on",
      "ats-admin integrations deactivate integrations/7b90", "integrations",
      &IntegrationService::Stub::DeactivateIntegration);
  AddNameCommand<IntegrationService>(
      *integrations, session, "reactivate",
      "Reactivate, also re-enabling an endpoint disabled by a 410 answer",
      "ats-admin integrations reactivate integrations/7b90", "integrations",
      &IntegrationService::Stub::ReactivateIntegration);
  AddNameCommand<IntegrationService>(
      *integrations, session, "rotate-secret",
      "Replace the webhook signing secret; prints the new one, shown once",
      "ats-admin integrations rotate-secret integrations/7b90", "integrations",
      &IntegrationService::Stub::RotateSigningSecret);
}

}  // namespace

void AddIntegrationCommands(CLI::App& app, Session& session) {
  AddPartners(app, session);
  AddIntegrations(app, session);
}

}  // namespace ats::client
