#include "server/api/account_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/api/list_page.h"
#include "server/api/template_service.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/digests.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"

namespace ats::server {
namespace {

using ats::v1::Role;

// Characters of a key's secret kept to recognise it ("ats_" + 8).
constexpr size_t kSecretPrefixLength = 12;

void ToProto(const storage::AccountRow& row, ats::v1::Account* account) {
  account->set_name(absl::StrCat("accounts/", row.id));
  account->set_display_name(row.display_name);
  *account->mutable_create_time() = ToProtoTime(row.create_time);
  // Never the secret itself: it is shown once, by RotateWebhookSigningSecret.
  if (row.webhook_signing_secret_create_time.has_value()) {
    *account->mutable_webhook_signing_secret_create_time() =
        ToProtoTime(*row.webhook_signing_secret_create_time);
  }
  account->set_notification_uri(row.notification_uri);
}

void ToProto(const storage::ApiKeyRow& row, ats::v1::ApiKey* key) {
  key->set_name(absl::StrCat("apiKeys/", row.id));
  key->set_display_name(row.display_name);
  key->set_role(row.role);
  if (!row.account_id.empty()) {
    key->set_account(absl::StrCat("accounts/", row.account_id));
  }
  if (!row.integration_id.empty()) {
    key->set_integration(absl::StrCat("integrations/", row.integration_id));
  }
  key->set_secret_prefix(row.secret_prefix);
  *key->mutable_create_time() = ToProtoTime(row.create_time);
  if (row.revoke_time.has_value()) {
    *key->mutable_revoke_time() = ToProtoTime(*row.revoke_time);
  }
}

// Operators see every account; everyone else only their own, and another
// account is indistinguishable from a missing one.
bool CanSeeAccount(const Caller& caller, std::string_view account_id) {
  return caller.role == ats::v1::ROLE_OPERATOR ||
         caller.account_id == account_id;
}

absl::Status AccountNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("account accounts/", std::string(id), " not found"));
}

absl::Status IntegrationNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("integration integrations/", std::string(id), " not found"));
}

absl::Status ApiKeyNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("API key apiKeys/", std::string(id), " not found"));
}

// Scopes the key `row` that `caller` asks for: an admin creates keys of its
// own account only (the account it names, or its own when it names none),
// and never operator keys.
absl::Status ScopeNewKey(const Caller& caller, storage::ApiKeyRow& row) {
  if (caller.role != ats::v1::ROLE_ADMIN) return absl::OkStatus();
  if (row.role == ats::v1::ROLE_OPERATOR) {
    return absl::PermissionDeniedError(
        "only operator keys may create operator keys");
  }
  if (row.account_id.empty()) row.account_id = caller.account_id;
  if (row.account_id != caller.account_id) {
    return AccountNotFound(row.account_id);
  }
  return absl::OkStatus();
}

// Records the violations of how key `row` is bound: operator keys belong to
// no account, the others to one, and partner keys, only they, to an
// integration.
void CheckKeyBinding(const storage::ApiKeyRow& row, Validator& v) {
  if (row.role == ats::v1::ROLE_OPERATOR && !row.account_id.empty()) {
    v.Require(false, "api_key.account",
              "must be empty for operator keys, which belong to no account");
  }
  if (row.role != ats::v1::ROLE_OPERATOR && row.account_id.empty()) {
    v.Require(false, "api_key.account",
              "is required for admin, recruiter and partner keys");
  }
  if (row.role == ats::v1::ROLE_PARTNER && row.integration_id.empty()) {
    v.Require(false, "api_key.integration", "is required for partner keys");
  }
  if (row.role != ats::v1::ROLE_PARTNER && !row.integration_id.empty()) {
    v.Require(false, "api_key.integration",
              "must be empty except for partner keys");
  }
}

// NOT_FOUND, inside `txn`, if the account or integration key `row` names
// does not exist.
absl::Status CheckKeyTargetsExist(storage::Transaction& txn,
                                  const storage::ApiKeyRow& row) {
  if (!row.account_id.empty()) {
    auto account = txn.accounts().GetAccount(row.account_id);
    if (absl::IsNotFound(account.status())) {
      return AccountNotFound(row.account_id);
    }
    if (!account.ok()) return account.status();
  }
  if (!row.integration_id.empty()) {
    auto integration =
        txn.integrations().GetIntegration(row.account_id, row.integration_id);
    if (absl::IsNotFound(integration.status())) {
      return IntegrationNotFound(row.integration_id);
    }
    if (!integration.ok()) return integration.status();
  }
  return absl::OkStatus();
}

// The secret of a new key is shown once: a replay of CreateApiKey returns
// the key without it.
void RedactSecret(google::protobuf::Message* response) {
  static_cast<ats::v1::CreateApiKeyResponse*>(response)->clear_secret();
}

// Revokes key `id` inside `txn` at `now` (revoking twice is fine) and fills
// `response` with the key as revoked. `scope` is the account whose keys the
// caller may revoke, empty for every account; another account's key is
// NOT_FOUND.
absl::Status RevokeKeyIn(storage::Transaction& txn, const std::string& scope,
                         const std::string& id, absl::Time now,
                         ats::v1::ApiKey* response) {
  auto key = txn.accounts().GetApiKey(scope, id);
  if (absl::IsNotFound(key.status())) return ApiKeyNotFound(id);
  if (!key.ok()) return key.status();
  absl::Status status = txn.accounts().RevokeApiKey(id, now);
  if (!status.ok()) return status;
  key = txn.accounts().GetApiKey(scope, id);
  if (!key.ok()) return key.status();
  ToProto(*key, response);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<storage::AccountRow> CreateAccountIn(storage::Transaction& txn,
                                                    std::string display_name,
                                                    absl::Time now,
                                                    RandomSource& random) {
  storage::AccountRow account;
  account.id = NewResourceId(random);
  account.display_name = std::move(display_name);
  account.create_time = now;
  absl::Status status = txn.accounts().InsertAccount(account);
  if (!status.ok()) return status;
  status = CreateStarterTemplate(txn, account.id, now, random);
  if (!status.ok()) return status;
  return account;
}

absl::StatusOr<NewApiKey> CreateApiKeyIn(storage::Transaction& txn,
                                         storage::ApiKeyRow key, absl::Time now,
                                         RandomSource& random) {
  NewApiKey created;
  created.secret = NewSecret(random, "ats_");
  key.id = NewResourceId(random);
  key.secret_hash = Sha256(created.secret);
  key.secret_prefix = created.secret.substr(0, kSecretPrefixLength);
  key.create_time = now;
  key.revoke_time.reset();
  absl::Status status = txn.accounts().InsertApiKey(key);
  if (!status.ok()) return status;
  created.row = std::move(key);
  return created;
}

grpc::ServerUnaryReactor* AccountService::CreateAccount(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateAccountRequest* request, ats::v1::Account* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.Length("account.display_name", request->account().display_name(), 1, 200);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, request, response](storage::Transaction& txn, absl::Time now) {
        auto account = CreateAccountIn(txn, request->account().display_name(),
                                       now, env_.random);
        if (!account.ok()) return account.status();
        ToProto(*account, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AccountService::GetAccount(
    grpc::CallbackServerContext* context,
    const ats::v1::GetAccountRequest* request, ats::v1::Account* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), "accounts/{account}", &ids);
  if (!v.ok()) return call.Finish(v.status());
  if (!CanSeeAccount(call.caller(), ids[0])) {
    return call.Finish(AccountNotFound(ids[0]));
  }
  return call.Read([&](storage::Transaction& txn) {
    auto account = txn.accounts().GetAccount(ids[0]);
    if (absl::IsNotFound(account.status())) return AccountNotFound(ids[0]);
    if (!account.ok()) return account.status();
    ToProto(*account, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccountService::UpdateAccount(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateAccountRequest* request, ats::v1::Account* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  using google::protobuf::util::FieldMaskUtil;
  const ats::v1::Account& update = request->account();
  const google::protobuf::FieldMask& mask = request->update_mask();
  Validator v;
  std::vector<std::string> ids;
  v.Name("account.name", update.name(), "accounts/{account}", &ids);
  v.UpdateMask("update_mask", mask, {"display_name", "notification_uri"});
  const bool sets_name = FieldMaskUtil::IsPathInFieldMask("display_name", mask);
  const bool sets_uri =
      FieldMaskUtil::IsPathInFieldMask("notification_uri", mask);
  if (sets_name) {
    v.Length("account.display_name", update.display_name(), 1, 200);
  }
  if (sets_uri && !update.notification_uri().empty()) {
    v.Destination("account.notification_uri", update.notification_uri(),
                  env_.destinations);
  }
  if (!v.ok()) return call.Finish(v.status());
  if (!CanSeeAccount(call.caller(), ids[0])) {
    return call.Finish(AccountNotFound(ids[0]));
  }
  return call.Write([update, sets_name, sets_uri, response, id = ids[0]](
                        storage::Transaction& txn, absl::Time) {
    auto account = txn.accounts().GetAccount(id);
    if (absl::IsNotFound(account.status())) return AccountNotFound(id);
    if (!account.ok()) return account.status();
    if (sets_name) account->display_name = update.display_name();
    if (sets_uri) account->notification_uri = update.notification_uri();
    if (!account->notification_uri.empty() &&
        account->webhook_signing_secret.empty()) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "account accounts/", id,
              " has no webhook signing secret to sign its notifications "
              "with; create one with RotateWebhookSigningSecret first")),
          "WEBHOOK_SIGNING_SECRET_MISSING",
          {{"account", absl::StrCat("accounts/", id)}});
    }
    absl::Status status = txn.accounts().UpdateAccount(*account);
    if (!status.ok()) return status;
    ToProto(*account, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccountService::ListAccounts(
    grpc::CallbackServerContext* context,
    const ats::v1::ListAccountsRequest* request,
    ats::v1::ListAccountsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  auto paging = ListPage::Start(request->page_token(), request->page_size(),
                                QueryFingerprint({call.method()}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(txn.accounts().ListAccounts(paging->request()),
                        response, [&](const storage::AccountRow& row) {
                          ToProto(row, response->add_accounts());
                        });
  });
}

grpc::ServerUnaryReactor* AccountService::CreateApiKey(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateApiKeyRequest* request,
    ats::v1::CreateApiKeyResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const ats::v1::ApiKey& key = request->api_key();
  Validator v;
  v.Length("api_key.display_name", key.display_name(), 1, 200);
  v.EnumValue<Role>("api_key.role", key.role(), ats::v1::Role_IsValid,
                    /*allow_unspecified=*/false);
  std::vector<std::string> account_ids;
  v.Name("api_key.account", key.account(), "accounts/{account}", &account_ids,
         /*required=*/false);
  std::vector<std::string> integration_ids;
  v.Name("api_key.integration", key.integration(), "integrations/{integration}",
         &integration_ids,
         /*required=*/false);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());

  storage::ApiKeyRow row;
  row.display_name = key.display_name();
  row.role = key.role();
  row.account_id = account_ids.empty() ? "" : account_ids[0];
  row.integration_id = integration_ids.empty() ? "" : integration_ids[0];
  const absl::Status scoped = ScopeNewKey(call.caller(), row);
  if (!scoped.ok()) return call.Finish(scoped);
  CheckKeyBinding(row, v);
  if (!v.ok()) return call.Finish(v.status());

  return call.Write(
      [this, response, row = std::move(row)](storage::Transaction& txn,
                                             absl::Time now) {
        absl::Status status = CheckKeyTargetsExist(txn, row);
        if (!status.ok()) return status;
        auto created = CreateApiKeyIn(txn, row, now, env_.random);
        if (!created.ok()) return created.status();
        ToProto(created->row, response->mutable_api_key());
        response->set_secret(created->secret);
        return absl::OkStatus();
      },
      nullptr, RedactSecret);
}

grpc::ServerUnaryReactor* AccountService::ListApiKeys(
    grpc::CallbackServerContext* context,
    const ats::v1::ListApiKeysRequest* request,
    ats::v1::ListApiKeysResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("account", request->account(), "accounts/{account}", &ids,
         /*required=*/false);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  std::string account_id = ids.empty() ? "" : ids[0];
  if (call.caller().role != ats::v1::ROLE_OPERATOR) {
    if (!account_id.empty() && account_id != call.caller().account_id) {
      return call.Finish(AccountNotFound(account_id));
    }
    account_id = call.caller().account_id;
  }
  auto paging =
      ListPage::Start(request->page_token(), request->page_size(),
                      QueryFingerprint({call.method(), account_id,
                                        request->show_revoked() ? "1" : "0"}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.accounts().ListApiKeys(account_id, request->show_revoked(),
                                   paging->request()),
        response, [&](const storage::ApiKeyRow& row) {
          ToProto(row, response->add_api_keys());
        });
  });
}

grpc::ServerUnaryReactor* AccountService::RevokeApiKey(
    grpc::CallbackServerContext* context,
    const ats::v1::RevokeApiKeyRequest* request, ats::v1::ApiKey* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), "apiKeys/{api_key}", &ids);
  if (!v.ok()) return call.Finish(v.status());
  const std::string scope = call.caller().role == ats::v1::ROLE_OPERATOR
                                ? ""
                                : call.caller().account_id;
  // The authenticator remembers keys, so it forgets them once the
  // revocation is committed and before the caller hears of it. Inside the
  // write would be too early: a call authenticated before the commit would
  // read the key unrevoked and remember it again.
  return call.Write(
      [response, scope, id = ids[0]](storage::Transaction& txn,
                                     absl::Time now) {
        return RevokeKeyIn(txn, scope, id, now, response);
      },
      [this] { env_.auth.ForgetKeys(); });
}

grpc::ServerUnaryReactor* AccountService::RotateWebhookSigningSecret(
    grpc::CallbackServerContext* context,
    const ats::v1::RotateWebhookSigningSecretRequest* request,
    ats::v1::RotateWebhookSigningSecretResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), "accounts/{account}", &ids);
  if (!v.ok()) return call.Finish(v.status());
  if (!CanSeeAccount(call.caller(), ids[0])) {
    return call.Finish(AccountNotFound(ids[0]));
  }
  return call.Write(
      [this, response, id = ids[0]](storage::Transaction& txn, absl::Time now) {
        const std::string secret = NewWebhookSecret(env_.random);
        absl::Status status =
            txn.accounts().SetWebhookSigningSecret(id, secret, now);
        if (absl::IsNotFound(status)) return AccountNotFound(id);
        if (!status.ok()) return status;
        auto account = txn.accounts().GetAccount(id);
        if (!account.ok()) return account.status();
        ToProto(*account, response->mutable_account());
        response->set_signing_secret(secret);
        return absl::OkStatus();
      });
}

}  // namespace ats::server
