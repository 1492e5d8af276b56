// accounts and keys: AccountService.

#include <memory>

#include "ats/v1/account_service.grpc.pb.h"
#include "client/args.h"
#include "client/commands.h"

namespace ats::client {
namespace {

using ats::v1::AccountService;

const std::vector<Column<ats::v1::Account>> kAccountColumns = {
    {"NAME", [](const auto& a) { return a.name(); }},
    {"DISPLAY NAME", [](const auto& a) { return a.display_name(); }},
    {"CREATED", [](const auto& a) { return TimeText(a.create_time()); }},
    {"NOTIFICATIONS", [](const auto& a) { return a.notification_uri(); }},
};

const std::vector<Column<ats::v1::ApiKey>> kKeyColumns = {
    {"NAME", [](const auto& k) { return k.name(); }},
    {"DISPLAY NAME", [](const auto& k) { return k.display_name(); }},
    {"ROLE", [](const auto& k) { return Label(k.role()); }},
    {"ACCOUNT", [](const auto& k) { return k.account(); }},
    {"PREFIX", [](const auto& k) { return k.secret_prefix(); }},
    {"REVOKED", [](const auto& k) { return TimeText(k.revoke_time()); }},
};

void AddAccounts(CLI::App& app, Session& session) {
  CLI::App* accounts = AddGroup(
      app, "accounts",
      "Accounts, the companies using the ATS (operator key, ats.operator.key)",
      "ats-admin accounts list");

  struct CreateArgs {
    std::string display_name, request_id;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = AddCommand(*accounts, "create", "Create an account",
                            "ats-admin accounts create \"Acme Corp\"");
  create->add_option("display_name", create_args->display_name, "Company name")
      ->required();
  create->add_option("--request-id", create_args->request_id,
                     "Idempotency key");
  create->callback([&session, args = create_args] {
    ats::v1::CreateAccountRequest request;
    request.mutable_account()->set_display_name(args->display_name);
    request.set_request_id(args->request_id);
    ats::v1::Account account;
    Check(session.Stub<AccountService>(KeyFile::kOperator)
              ->CreateAccount(session.Context().get(), request, &account));
    session.output().Show(account);
  });

  auto limit = std::make_shared<int>(100);
  auto* list = AddCommand(*accounts, "list", "List accounts, oldest first",
                          "ats-admin accounts list --output json");
  AddLimitFlag(list, limit.get());
  list->callback([&session, limit] {
    auto response = ListAll<AccountService>(
        session, ats::v1::ListAccountsRequest(), *limit,
        &AccountService::Stub::ListAccounts,
        &ats::v1::ListAccountsResponse::mutable_accounts, KeyFile::kOperator);
    session.output().List(response, response.accounts(), kAccountColumns);
  });

  AddNameCommand<AccountService>(*accounts, session, "show", "Show an account",
                                 "ats-admin accounts show accounts/8f3a",
                                 "accounts", &AccountService::Stub::GetAccount,
                                 KeyFile::kOperator);
  struct UpdateArgs {
    std::string name, display_name, notification_uri;
    CLI::Option* notification_uri_flag = nullptr;
  };
  auto update_args = std::make_shared<UpdateArgs>();
  auto* update = AddCommand(
      *accounts, "update",
      "Change the display name or the notification endpoint, which is told "
      "when events die, integrations are disabled and bulk operations end "
      "(admin key)",
      "ats-admin accounts update accounts/8f3a --notification-uri "
      "https://ops.example.com/ats\n"
      "  ats-admin accounts update accounts/8f3a --notification-uri \"\"");
  update->add_option("name", update_args->name, "accounts/ID or ID")
      ->required();
  update->add_option("--display-name", update_args->display_name, "New name");
  update_args->notification_uri_flag = update->add_option(
      "--notification-uri", update_args->notification_uri,
      "Where notifications go, signed with the webhook signing secret; \"\" "
      "for nowhere");
  update->callback([&session, args = update_args] {
    ats::v1::UpdateAccountRequest request;
    ats::v1::Account* account = request.mutable_account();
    account->set_name(Qualified("accounts", args->name));
    if (!args->display_name.empty()) {
      account->set_display_name(args->display_name);
      request.mutable_update_mask()->add_paths("display_name");
    }
    if (args->notification_uri_flag->count() > 0) {
      account->set_notification_uri(args->notification_uri);
      request.mutable_update_mask()->add_paths("notification_uri");
    }
    if (request.update_mask().paths().empty()) {
      throw UsageError(
          "nothing to update: give --display-name or --notification-uri");
    }
    ats::v1::Account updated;
    Check(session.Stub<AccountService>()->UpdateAccount(session.Context().get(),
                                                        request, &updated));
    session.output().Show(updated);
  });

  AddNameCommand<AccountService>(
      *accounts, session, "rotate-webhook-secret",
      "Create or replace the account's signing secret for webhook triggers "
      "(shown once; admin key)",
      "ats-admin accounts rotate-webhook-secret accounts/8f3a", "accounts",
      &AccountService::Stub::RotateWebhookSigningSecret);
}

void AddKeys(CLI::App& app, Session& session) {
  CLI::App* keys =
      AddGroup(app, "keys", "API keys (admin key, or operator with --token)",
               "ats-admin keys list");

  struct CreateArgs {
    std::string display_name, role, account, integration, request_id;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = AddCommand(
      *keys, "create", "Create an API key; its secret is shown only once",
      "ats-admin keys create \"recruiting team\" --role recruiter\n"
      "  ats-admin keys create importer --role recruiter -o json | jq -r "
      ".secret");
  create
      ->add_option("display_name", create_args->display_name,
                   "What the key is for")
      ->required();
  create->add_option("--role", create_args->role, EnumChoices<ats::v1::Role>())
      ->required();
  create->add_option("--account", create_args->account,
                     "accounts/ID (operators; admins default to their own)");
  create->add_option("--integration", create_args->integration,
                     "integrations/ID, for partner keys");
  create->add_option("--request-id", create_args->request_id,
                     "Idempotency key");
  create->callback([&session, args = create_args] {
    ats::v1::CreateApiKeyRequest request;
    ats::v1::ApiKey* key = request.mutable_api_key();
    key->set_display_name(args->display_name);
    key->set_role(ParseEnum<ats::v1::Role>(args->role, "--role"));
    if (!args->account.empty()) {
      key->set_account(Qualified("accounts", args->account));
    }
    if (!args->integration.empty()) {
      key->set_integration(Qualified("integrations", args->integration));
    }
    request.set_request_id(args->request_id);
    ats::v1::CreateApiKeyResponse response;
    Check(session.Stub<AccountService>()->CreateApiKey(session.Context().get(),
                                                       request, &response));
    session.output().Show(response);
  });

  struct ListArgs {
    std::string account;
    bool revoked = false;
    int limit = 100;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = AddCommand(*keys, "list", "List API keys (never their secrets)",
                          "ats-admin keys list --revoked");
  list->add_option("--account", list_args->account,
                   "Only this account's (operators)");
  list->add_flag("--revoked", list_args->revoked, "Include revoked keys");
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, args = list_args] {
    ats::v1::ListApiKeysRequest request;
    if (!args->account.empty()) {
      request.set_account(Qualified("accounts", args->account));
    }
    request.set_show_revoked(args->revoked);
    auto response = ListAll<AccountService>(
        session, request, args->limit, &AccountService::Stub::ListApiKeys,
        &ats::v1::ListApiKeysResponse::mutable_api_keys);
    session.output().List(response, response.api_keys(), kKeyColumns);
  });

  AddNameCommand<AccountService>(*keys, session, "revoke", "Revoke an API key",
                                 "ats-admin keys revoke apiKeys/5c1e",
                                 "apiKeys",
                                 &AccountService::Stub::RevokeApiKey);
}

}  // namespace

void AddAccountCommands(CLI::App& app, Session& session) {
  AddAccounts(app, session);
  AddKeys(app, session);
}

}  // namespace ats::client
