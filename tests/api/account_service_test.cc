// AccountService against the real server: accounts, API keys, webhook
// signing secrets, validation, idempotency and tenant isolation.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::Account;
using ats::v1::ApiKey;
using ats::v1::CreateAccountRequest;
using ats::v1::CreateApiKeyRequest;
using ats::v1::CreateApiKeyResponse;
using ats::v1::ListAccountsRequest;
using ats::v1::ListAccountsResponse;
using ats::v1::ListApiKeysRequest;
using ats::v1::ListApiKeysResponse;
using google::protobuf::util::MessageDifferencer;

class AccountServiceTest : public ::testing::Test {
 protected:
  grpc::Status CreateAccount(const std::string& key,
                             const CreateAccountRequest& request,
                             Account* account) {
    return server_.accounts()->CreateAccount(TestServer::Context(key).get(),
                                             request, account);
  }

  grpc::Status CreateAccount(const std::string& key,
                             const std::string& display_name, Account* account,
                             const std::string& request_id = "") {
    CreateAccountRequest request;
    request.mutable_account()->set_display_name(display_name);
    request.set_request_id(request_id);
    return CreateAccount(key, request, account);
  }

  grpc::Status GetAccount(const std::string& key, const std::string& name,
                          Account* account) {
    ats::v1::GetAccountRequest request;
    request.set_name(name);
    return server_.accounts()->GetAccount(TestServer::Context(key).get(),
                                          request, account);
  }

  grpc::Status ListAccounts(const std::string& key,
                            const ListAccountsRequest& request,
                            ListAccountsResponse* response) {
    return server_.accounts()->ListAccounts(TestServer::Context(key).get(),
                                            request, response);
  }

  // Every account, read with the operator key in one page.
  std::vector<std::string> AllAccountNames() {
    ListAccountsRequest request;
    request.set_page_size(1000);
    ListAccountsResponse response;
    grpc::Status status =
        ListAccounts(server_.operator_key(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.next_page_token(), "");
    std::vector<std::string> names;
    for (const Account& account : response.accounts()) {
      names.push_back(account.name());
    }
    return names;
  }

  grpc::Status CreateApiKey(const std::string& key,
                            const CreateApiKeyRequest& request,
                            CreateApiKeyResponse* response) {
    return server_.accounts()->CreateApiKey(TestServer::Context(key).get(),
                                            request, response);
  }

  static CreateApiKeyRequest KeyRequest(
      ats::v1::Role role, const std::string& account,
      const std::string& integration = "",
      const std::string& display_name = "a key") {
    CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name(display_name);
    request.mutable_api_key()->set_role(role);
    request.mutable_api_key()->set_account(account);
    request.mutable_api_key()->set_integration(integration);
    return request;
  }

  grpc::Status ListApiKeys(const std::string& key,
                           const ListApiKeysRequest& request,
                           ListApiKeysResponse* response) {
    return server_.accounts()->ListApiKeys(TestServer::Context(key).get(),
                                           request, response);
  }

  // Names of the keys `key` lists with `account` and `show_revoked`, all
  // pages.
  std::vector<std::string> KeyNames(const std::string& key,
                                    const std::string& account,
                                    bool show_revoked) {
    ListApiKeysRequest request;
    request.set_account(account);
    request.set_show_revoked(show_revoked);
    request.set_page_size(1000);
    ListApiKeysResponse response;
    grpc::Status status = ListApiKeys(key, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.next_page_token(), "");
    std::vector<std::string> names;
    for (const ApiKey& api_key : response.api_keys()) {
      names.push_back(api_key.name());
    }
    return names;
  }

  // The key `name` as the operator lists it (revoked ones included).
  ApiKey FindKey(const std::string& name) {
    ListApiKeysRequest request;
    request.set_show_revoked(true);
    request.set_page_size(1000);
    ListApiKeysResponse response;
    grpc::Status status =
        ListApiKeys(server_.operator_key(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const ApiKey& api_key : response.api_keys()) {
      if (api_key.name() == name) return api_key;
    }
    ADD_FAILURE() << "no key " << name;
    return {};
  }

  // The single key of `account` with role `role` (as the operator lists it).
  ApiKey OnlyKeyOf(const std::string& account, ats::v1::Role role) {
    ListApiKeysRequest request;
    request.set_account(account);
    ListApiKeysResponse response;
    grpc::Status status =
        ListApiKeys(server_.operator_key(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    ApiKey found;
    int count = 0;
    for (const ApiKey& api_key : response.api_keys()) {
      if (api_key.role() == role) {
        found = api_key;
        ++count;
      }
    }
    EXPECT_EQ(count, 1) << "keys of role " << ats::v1::Role_Name(role) << " in "
                        << account;
    return found;
  }

  grpc::Status RevokeApiKey(const std::string& key, const std::string& name,
                            ApiKey* response) {
    ats::v1::RevokeApiKeyRequest request;
    request.set_name(name);
    return server_.accounts()->RevokeApiKey(TestServer::Context(key).get(),
                                            request, response);
  }

  grpc::Status RotateWebhookSigningSecret(
      const std::string& key, const std::string& name,
      ats::v1::RotateWebhookSigningSecretResponse* response) {
    ats::v1::RotateWebhookSigningSecretRequest request;
    request.set_name(name);
    return server_.accounts()->RotateWebhookSigningSecret(
        TestServer::Context(key).get(), request, response);
  }

  // Lists a partner in the Marketplace and has `admin_key` activate it;
  // returns the integration's name.
  std::string ActivateIntegration(const std::string& admin_key,
                                  const std::string& partner_name) {
    const std::string name =
        MustActivateNewPartner(server_, admin_key, partner_name).name();
    EXPECT_TRUE(absl::StartsWith(name, "integrations/")) << name;
    return name;
  }

  // Whether `key` authenticates (GetAccount of `account` is open to every
  // role of that account).
  grpc::StatusCode GetAccountCode(const std::string& key,
                                  const std::string& account) {
    Account ignored;
    return GetAccount(key, account, &ignored).error_code();
  }

  TestServer server_;
};

// --- Accounts -------------------------------------------------------------

TEST_F(AccountServiceTest, CreateAccountThenGetIt) {
  server_.clock().Advance(absl::Hours(1));
  Account created;
  grpc::Status status =
      CreateAccount(server_.operator_key(), "Acme Hiring", &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(created.name(), "accounts/")) << created.name();
  EXPECT_GT(created.name().size(), std::string("accounts/").size());
  EXPECT_NE(created.name(), server_.account());
  EXPECT_NE(created.name(), server_.other_account());
  EXPECT_EQ(created.display_name(), "Acme Hiring");
  EXPECT_EQ(created.create_time().seconds(),
            absl::ToUnixSeconds(server_.clock().Now()));

  Account got;
  status = GetAccount(server_.operator_key(), created.name(), &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(got, created))
      << got.DebugString() << " vs " << created.DebugString();
}

TEST_F(AccountServiceTest, AccountKeysGetTheirOwnAccount) {
  for (const std::string& key :
       {server_.admin_key(), server_.recruiter_key()}) {
    Account got;
    grpc::Status status = GetAccount(key, server_.account(), &got);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(got.name(), server_.account());
    EXPECT_EQ(got.display_name(), "Default account");
  }
  Account other;
  grpc::Status status =
      GetAccount(server_.other_admin_key(), server_.other_account(), &other);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(other.display_name(), "Other company");
}

TEST_F(AccountServiceTest, GetMissingAccountIsNotFound) {
  Account got;
  grpc::Status status =
      GetAccount(server_.operator_key(), "accounts/no-such-account", &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  // The message names the resource as the client spelled it.
  EXPECT_TRUE(
      absl::StrContains(status.error_message(), "accounts/no-such-account"))
      << status.error_message();
}

TEST_F(AccountServiceTest, DisplayNameOfExactly200CharactersIsAccepted) {
  Account created;
  // 200 characters of two bytes each: the limit counts characters.
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";  // é
  grpc::Status status = CreateAccount(server_.operator_key(), name, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.display_name(), name);
}

TEST_F(AccountServiceTest, ListAccountsOldestFirstAcrossPagesOfOne) {
  // A and B were created at the fake clock's start; these come later, in
  // this order.
  std::vector<std::string> created;
  for (const char* name : {"Third", "Fourth", "Fifth"}) {
    server_.clock().Advance(absl::Minutes(1));
    Account account;
    grpc::Status status = CreateAccount(server_.operator_key(), name, &account);
    ASSERT_TRUE(status.ok()) << status.error_message();
    created.push_back(account.name());
  }

  const std::vector<std::string> all = AllAccountNames();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(all.begin() + 2, all.end()), created);
  EXPECT_TRUE(
      (all[0] == server_.account() && all[1] == server_.other_account()) ||
      (all[1] == server_.account() && all[0] == server_.other_account()));

  std::vector<std::string> paged;
  ListAccountsRequest request;
  request.set_page_size(1);
  for (int page = 0; page < 10; ++page) {
    ListAccountsResponse response;
    grpc::Status status =
        ListAccounts(server_.operator_key(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.accounts_size(), 1) << "page " << page;
    paged.push_back(response.accounts(0).name());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(paged, all);
}

TEST_F(AccountServiceTest, ListAccountsDefaultPageHoldsEveryAccount) {
  ListAccountsResponse response;
  grpc::Status status =
      ListAccounts(server_.operator_key(), ListAccountsRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accounts_size(), 2);
  EXPECT_EQ(response.next_page_token(), "");
}

TEST_F(AccountServiceTest, PageSizeAboveTheMaximumIsServedClamped) {
  ListAccountsRequest request;
  request.set_page_size(5000);
  ListAccountsResponse response;
  grpc::Status status =
      ListAccounts(server_.operator_key(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accounts_size(), 2);
}

TEST_F(AccountServiceTest, GarbagePageTokenIsInvalid) {
  ListAccountsRequest request;
  request.set_page_token("not-a-token");
  ListAccountsResponse response;
  ExpectInvalid(ListAccounts(server_.operator_key(), request, &response),
                {"page_token"});
}

TEST_F(AccountServiceTest, PageTokenOfAnotherQueryIsRejected) {
  // Three keys of account A (admin, recruiter, one more) give two pages of 2.
  server_.CreateKey(ats::v1::ROLE_RECRUITER, server_.account());
  ListApiKeysRequest request;
  request.set_account(server_.account());
  request.set_page_size(2);
  ListApiKeysResponse first;
  grpc::Status status = ListApiKeys(server_.operator_key(), request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(first.api_keys_size(), 2);
  ASSERT_NE(first.next_page_token(), "");

  // The same token with the same filters works, and a new page_size is fine.
  ListApiKeysRequest next = request;
  next.set_page_token(first.next_page_token());
  next.set_page_size(5);
  ListApiKeysResponse second;
  status = ListApiKeys(server_.operator_key(), next, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(second.api_keys_size(), 1);
  EXPECT_EQ(second.next_page_token(), "");

  ListApiKeysRequest changed = next;
  changed.set_show_revoked(true);
  ListApiKeysResponse ignored;
  ExpectInvalid(ListApiKeys(server_.operator_key(), changed, &ignored),
                {"page_token"});

  changed = next;
  changed.set_account(server_.other_account());
  ExpectInvalid(ListApiKeys(server_.operator_key(), changed, &ignored),
                {"page_token"});

  changed = next;
  changed.clear_account();
  ExpectInvalid(ListApiKeys(server_.operator_key(), changed, &ignored),
                {"page_token"});

  // Nor does a ListApiKeys token page ListAccounts.
  ListAccountsRequest accounts;
  accounts.set_page_token(first.next_page_token());
  ListAccountsResponse accounts_response;
  ExpectInvalid(
      ListAccounts(server_.operator_key(), accounts, &accounts_response),
      {"page_token"});
}

// --- API keys -------------------------------------------------------------

TEST_F(AccountServiceTest, CreateApiKeyOfEveryRoleAndUseIt) {
  const std::string integration =
      ActivateIntegration(server_.admin_key(), "Skill Tests Inc");
  struct Case {
    ats::v1::Role role;
    std::string account;
    std::string integration;
  };
  const std::vector<Case> cases = {
      {ats::v1::ROLE_OPERATOR, "", ""},
      {ats::v1::ROLE_ADMIN, server_.account(), ""},
      {ats::v1::ROLE_RECRUITER, server_.account(), ""},
      {ats::v1::ROLE_PARTNER, server_.account(), integration},
  };
  std::vector<std::string> secrets;
  for (const Case& c : cases) {
    SCOPED_TRACE(ats::v1::Role_Name(c.role));
    CreateApiKeyResponse created;
    grpc::Status status = CreateApiKey(
        server_.operator_key(),
        KeyRequest(c.role, c.account, c.integration, "my key"), &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const ApiKey& key = created.api_key();
    EXPECT_TRUE(absl::StartsWith(key.name(), "apiKeys/")) << key.name();
    EXPECT_EQ(key.display_name(), "my key");
    EXPECT_EQ(key.role(), c.role);
    EXPECT_EQ(key.account(), c.account);
    EXPECT_EQ(key.integration(), c.integration);
    EXPECT_TRUE(key.has_create_time());
    EXPECT_FALSE(key.has_revoke_time());
    ASSERT_TRUE(absl::StartsWith(created.secret(), "ats_")) << created.secret();
    EXPECT_GE(created.secret().size(), 32u);
    EXPECT_FALSE(key.secret_prefix().empty());
    EXPECT_LT(key.secret_prefix().size(), created.secret().size());
    EXPECT_TRUE(absl::StartsWith(created.secret(), key.secret_prefix()));
    for (const std::string& earlier : secrets) {
      EXPECT_NE(created.secret(), earlier);
    }
    secrets.push_back(created.secret());

    // The key as listed matches the key as created.
    EXPECT_TRUE(MessageDifferencer::Equals(FindKey(key.name()), key));
  }

  // Each secret authenticates with its role.
  ListAccountsResponse accounts;
  grpc::Status status =
      ListAccounts(secrets[0], ListAccountsRequest(), &accounts);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(accounts.accounts_size(), 2);

  ListApiKeysResponse keys;
  status = ListApiKeys(secrets[1], ListApiKeysRequest(), &keys);
  EXPECT_TRUE(status.ok()) << status.error_message();
  for (const ApiKey& key : keys.api_keys()) {
    EXPECT_EQ(key.account(), server_.account());
  }

  EXPECT_EQ(GetAccountCode(secrets[2], server_.account()),
            grpc::StatusCode::OK);
  status = ListApiKeys(secrets[2], ListApiKeysRequest(), &keys);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  EXPECT_EQ(GetAccountCode(secrets[3], server_.account()),
            grpc::StatusCode::OK);
  EXPECT_EQ(GetAccountCode(secrets[3], server_.other_account()),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AccountServiceTest, AdminCreatesKeysOfItsOwnAccount) {
  // An admin may leave the account empty: it defaults to the admin's.
  CreateApiKeyResponse created;
  grpc::Status status = CreateApiKey(
      server_.admin_key(), KeyRequest(ats::v1::ROLE_RECRUITER, ""), &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.api_key().account(), server_.account());
  EXPECT_EQ(GetAccountCode(created.secret(), server_.account()),
            grpc::StatusCode::OK);

  status = CreateApiKey(server_.admin_key(),
                        KeyRequest(ats::v1::ROLE_ADMIN, server_.account()),
                        &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.api_key().role(), ats::v1::ROLE_ADMIN);
  EXPECT_EQ(created.api_key().account(), server_.account());

  const std::string integration =
      ActivateIntegration(server_.admin_key(), "HRIS Corp");
  status = CreateApiKey(server_.admin_key(),
                        KeyRequest(ats::v1::ROLE_PARTNER, "", integration),
                        &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.api_key().account(), server_.account());
  EXPECT_EQ(created.api_key().integration(), integration);
}

TEST_F(AccountServiceTest, ListApiKeysScopesAndRevokedFilter) {
  const ApiKey admin_a = OnlyKeyOf(server_.account(), ats::v1::ROLE_ADMIN);
  const ApiKey recruiter_a =
      OnlyKeyOf(server_.account(), ats::v1::ROLE_RECRUITER);
  const ApiKey admin_b =
      OnlyKeyOf(server_.other_account(), ats::v1::ROLE_ADMIN);

  // The operator lists every key: its own (no account) and both accounts'.
  const std::vector<std::string> everything =
      KeyNames(server_.operator_key(), "", false);
  EXPECT_EQ(everything.size(), 4u);
  int operator_keys = 0;
  {
    ListApiKeysResponse response;
    ASSERT_TRUE(
        ListApiKeys(server_.operator_key(), ListApiKeysRequest(), &response)
            .ok());
    for (const ApiKey& key : response.api_keys()) {
      if (key.role() == ats::v1::ROLE_OPERATOR) {
        ++operator_keys;
        EXPECT_EQ(key.account(), "");
      }
    }
  }
  EXPECT_EQ(operator_keys, 1);

  EXPECT_EQ(KeyNames(server_.operator_key(), server_.other_account(), false),
            std::vector<std::string>{admin_b.name()});
  const std::vector<std::string> of_a =
      KeyNames(server_.operator_key(), server_.account(), false);
  EXPECT_EQ(of_a.size(), 2u);

  // An admin sees its own account's keys, with or without naming it.
  EXPECT_EQ(KeyNames(server_.admin_key(), "", false), of_a);
  EXPECT_EQ(KeyNames(server_.admin_key(), server_.account(), false), of_a);
  EXPECT_EQ(KeyNames(server_.other_admin_key(), "", false),
            std::vector<std::string>{admin_b.name()});

  // Revoked keys show only with show_revoked.
  ApiKey revoked;
  ASSERT_TRUE(
      RevokeApiKey(server_.admin_key(), recruiter_a.name(), &revoked).ok());
  EXPECT_EQ(KeyNames(server_.admin_key(), "", false),
            std::vector<std::string>{admin_a.name()});
  EXPECT_EQ(KeyNames(server_.admin_key(), "", true), of_a);
  EXPECT_EQ(KeyNames(server_.operator_key(), "", false).size(), 3u);
  EXPECT_EQ(KeyNames(server_.operator_key(), "", true), everything);
  EXPECT_TRUE(FindKey(recruiter_a.name()).has_revoke_time());
}

TEST_F(AccountServiceTest, ListApiKeysPagesOfOne) {
  for (int i = 0; i < 3; ++i) {
    server_.clock().Advance(absl::Seconds(1));
    server_.CreateKey(ats::v1::ROLE_RECRUITER, server_.other_account());
  }
  const std::vector<std::string> all =
      KeyNames(server_.operator_key(), server_.other_account(), false);
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::string> paged;
  ListApiKeysRequest request;
  request.set_account(server_.other_account());
  request.set_page_size(1);
  for (int page = 0; page < 10; ++page) {
    ListApiKeysResponse response;
    grpc::Status status =
        ListApiKeys(server_.other_admin_key(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.api_keys_size(), 1);
    paged.push_back(response.api_keys(0).name());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(paged, all);
}

TEST_F(AccountServiceTest, RevokedKeyIsUnauthenticatedAndRevokingTwiceIsFine) {
  const ApiKey recruiter =
      OnlyKeyOf(server_.account(), ats::v1::ROLE_RECRUITER);
  ASSERT_EQ(GetAccountCode(server_.recruiter_key(), server_.account()),
            grpc::StatusCode::OK);

  server_.clock().Advance(absl::Hours(2));
  const absl::Time revoked_at = server_.clock().Now();
  ApiKey revoked;
  grpc::Status status =
      RevokeApiKey(server_.admin_key(), recruiter.name(), &revoked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(revoked.name(), recruiter.name());
  EXPECT_EQ(revoked.role(), ats::v1::ROLE_RECRUITER);
  ASSERT_TRUE(revoked.has_revoke_time());
  EXPECT_EQ(revoked.revoke_time().seconds(), absl::ToUnixSeconds(revoked_at));

  EXPECT_EQ(GetAccountCode(server_.recruiter_key(), server_.account()),
            grpc::StatusCode::UNAUTHENTICATED);

  // Again, later and by the operator: OK, and the first revocation stands.
  server_.clock().Advance(absl::Hours(1));
  ApiKey again;
  status = RevokeApiKey(server_.operator_key(), recruiter.name(), &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(again, revoked))
      << again.DebugString() << " vs " << revoked.DebugString();
  EXPECT_EQ(GetAccountCode(server_.recruiter_key(), server_.account()),
            grpc::StatusCode::UNAUTHENTICATED);

  // Other keys are untouched.
  EXPECT_EQ(GetAccountCode(server_.admin_key(), server_.account()),
            grpc::StatusCode::OK);
}

TEST_F(AccountServiceTest, OperatorRevokesAnyKey) {
  const ApiKey admin_b =
      OnlyKeyOf(server_.other_account(), ats::v1::ROLE_ADMIN);
  ApiKey revoked;
  grpc::Status status =
      RevokeApiKey(server_.operator_key(), admin_b.name(), &revoked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(revoked.account(), server_.other_account());
  EXPECT_EQ(GetAccountCode(server_.other_admin_key(), server_.other_account()),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccountServiceTest, RevokeMissingKeyIsNotFound) {
  ApiKey revoked;
  grpc::Status status =
      RevokeApiKey(server_.operator_key(), "apiKeys/no-such-key", &revoked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
}

// --- Validation -----------------------------------------------------------

TEST_F(AccountServiceTest, CreateAccountRejectsBadDisplayNames) {
  Account ignored;
  ExpectInvalid(CreateAccount(server_.operator_key(), "", &ignored),
                {"account.display_name"});
  ExpectInvalid(
      CreateAccount(server_.operator_key(), std::string(201, 'x'), &ignored),
      {"account.display_name"});
  ExpectInvalid(CreateAccount(server_.operator_key(), "two\nlines", &ignored),
                {"account.display_name"});
  CreateAccountRequest no_account;
  ExpectInvalid(CreateAccount(server_.operator_key(), no_account, &ignored),
                {"account.display_name"});
  // Nothing was created.
  EXPECT_EQ(AllAccountNames().size(), 2u);
}

TEST_F(AccountServiceTest, BadRequestIdsAreRejected) {
  Account account;
  ExpectInvalid(
      CreateAccount(server_.operator_key(), "Acme", &account, "has space"),
      {"request_id"});
  ExpectInvalid(CreateAccount(server_.operator_key(), "Acme", &account,
                              std::string(65, 'a')),
                {"request_id"});
  // Every bad field is reported at once.
  ExpectInvalid(CreateAccount(server_.operator_key(), "", &account, "bad/id"),
                {"account.display_name", "request_id"});

  CreateApiKeyRequest request =
      KeyRequest(ats::v1::ROLE_RECRUITER, server_.account());
  request.set_request_id("not ok!");
  CreateApiKeyResponse created;
  ExpectInvalid(CreateApiKey(server_.operator_key(), request, &created),
                {"request_id"});

  // 64 characters of the allowed alphabet are fine.
  ASSERT_TRUE(CreateAccount(server_.operator_key(), "Acme", &account,
                            std::string(60, 'a') + "-_.:")
                  .ok());
}

TEST_F(AccountServiceTest, GetAccountRejectsMalformedNames) {
  Account ignored;
  for (const std::string& name :
       {std::string(""), std::string("accounts/"),
        std::string("accounts/UPPER"), std::string("jobs/abc"),
        std::string("accounts/a/b"),
        server_.account().substr(std::string("accounts/").size())}) {
    SCOPED_TRACE(name);
    ExpectInvalid(GetAccount(server_.operator_key(), name, &ignored), {"name"});
  }
}

TEST_F(AccountServiceTest, NegativePageSizesAreRejected) {
  ListAccountsRequest accounts;
  accounts.set_page_size(-1);
  ListAccountsResponse accounts_response;
  ExpectInvalid(
      ListAccounts(server_.operator_key(), accounts, &accounts_response),
      {"page_size"});

  ListApiKeysRequest keys;
  keys.set_page_size(-5);
  ListApiKeysResponse keys_response;
  ExpectInvalid(ListApiKeys(server_.operator_key(), keys, &keys_response),
                {"page_size"});
}

TEST_F(AccountServiceTest, ListApiKeysRejectsMalformedAccount) {
  ListApiKeysRequest request;
  request.set_account("account/abc");
  ListApiKeysResponse response;
  ExpectInvalid(ListApiKeys(server_.operator_key(), request, &response),
                {"account"});
}

TEST_F(AccountServiceTest, RevokeApiKeyRejectsMalformedNames) {
  ApiKey ignored;
  ExpectInvalid(RevokeApiKey(server_.operator_key(), "", &ignored), {"name"});
  ExpectInvalid(
      RevokeApiKey(server_.operator_key(), server_.account(), &ignored),
      {"name"});
}

TEST_F(AccountServiceTest, CreateApiKeyRejectsBadKeys) {
  const std::string integration =
      ActivateIntegration(server_.admin_key(), "Video Interviews Ltd");
  struct Case {
    std::string what;
    CreateApiKeyRequest request;
    std::vector<std::string> fields;
  };
  CreateApiKeyRequest no_name =
      KeyRequest(ats::v1::ROLE_RECRUITER, server_.account(), "", "");
  CreateApiKeyRequest long_name = KeyRequest(
      ats::v1::ROLE_RECRUITER, server_.account(), "", std::string(201, 'k'));
  CreateApiKeyRequest invalid_role =
      KeyRequest(ats::v1::ROLE_RECRUITER, server_.account());
  invalid_role.mutable_api_key()->set_role(static_cast<ats::v1::Role>(42));
  const std::vector<Case> cases = {
      {"empty display_name", no_name, {"api_key.display_name"}},
      {"display_name over 200", long_name, {"api_key.display_name"}},
      {"unspecified role",
       KeyRequest(ats::v1::ROLE_UNSPECIFIED, server_.account()),
       {"api_key.role"}},
      {"unknown role", invalid_role, {"api_key.role"}},
      {"malformed account",
       KeyRequest(ats::v1::ROLE_RECRUITER, "accounts/Not_Valid"),
       {"api_key.account"}},
      {"account of another collection",
       KeyRequest(ats::v1::ROLE_RECRUITER, "jobs/abc"),
       {"api_key.account"}},
      {"malformed integration",
       KeyRequest(ats::v1::ROLE_PARTNER, server_.account(), "integration/x"),
       {"api_key.integration"}},
      {"partner key without integration",
       KeyRequest(ats::v1::ROLE_PARTNER, server_.account()),
       {"api_key.integration"}},
      {"operator key with account",
       KeyRequest(ats::v1::ROLE_OPERATOR, server_.account()),
       {"api_key.account"}},
      {"admin key with integration",
       KeyRequest(ats::v1::ROLE_ADMIN, server_.account(), integration),
       {"api_key.integration"}},
      {"recruiter key with integration",
       KeyRequest(ats::v1::ROLE_RECRUITER, server_.account(), integration),
       {"api_key.integration"}},
      {"operator key with integration",
       KeyRequest(ats::v1::ROLE_OPERATOR, "", integration),
       {"api_key.integration"}},
      {"admin key without account",
       KeyRequest(ats::v1::ROLE_ADMIN, ""),
       {"api_key.account"}},
      {"recruiter key without account",
       KeyRequest(ats::v1::ROLE_RECRUITER, ""),
       {"api_key.account"}},
      {"partner key without account",
       KeyRequest(ats::v1::ROLE_PARTNER, "", integration),
       {"api_key.account"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    CreateApiKeyResponse created;
    ExpectInvalid(CreateApiKey(server_.operator_key(), c.request, &created),
                  c.fields);
  }
  // None of them made a key.
  EXPECT_EQ(KeyNames(server_.operator_key(), "", true).size(), 4u);
}

// --- Idempotency ----------------------------------------------------------

TEST_F(AccountServiceTest, CreateAccountRetryReturnsTheSameAccount) {
  Account first;
  grpc::Status status =
      CreateAccount(server_.operator_key(), "Retry Co", &first, "req-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  server_.clock().Advance(absl::Minutes(5));
  Account second;
  status = CreateAccount(server_.operator_key(), "Retry Co", &second, "req-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(first, second))
      << first.DebugString() << " vs " << second.DebugString();

  const std::vector<std::string> all = AllAccountNames();
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(std::count(all.begin(), all.end(), first.name()), 1);

  // A new request_id is a new account.
  Account third;
  status = CreateAccount(server_.operator_key(), "Retry Co", &third, "req-2");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(third.name(), first.name());
  EXPECT_EQ(AllAccountNames().size(), 4u);
}

TEST_F(AccountServiceTest, RequestIdReusedForAnotherBodyIsInvalid) {
  Account first;
  ASSERT_TRUE(
      CreateAccount(server_.operator_key(), "Original", &first, "same-id")
          .ok());
  Account second;
  ExpectInvalid(
      CreateAccount(server_.operator_key(), "Different", &second, "same-id"),
      {"request_id"});
  EXPECT_EQ(AllAccountNames().size(), 3u);
}

TEST_F(AccountServiceTest, CreateApiKeyRetryReturnsTheKeyWithoutItsSecret) {
  CreateApiKeyRequest request =
      KeyRequest(ats::v1::ROLE_RECRUITER, server_.account(), "", "importer");
  request.set_request_id("key-request-1");
  CreateApiKeyResponse first;
  grpc::Status status = CreateApiKey(server_.admin_key(), request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(first.secret().empty());

  CreateApiKeyResponse retry;
  status = CreateApiKey(server_.admin_key(), request, &retry);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retry.secret(), "");
  EXPECT_TRUE(MessageDifferencer::Equals(retry.api_key(), first.api_key()))
      << retry.api_key().DebugString() << " vs "
      << first.api_key().DebugString();

  // One key was made, and the secret shown first works.
  EXPECT_EQ(KeyNames(server_.operator_key(), server_.account(), true).size(),
            3u);
  EXPECT_EQ(GetAccountCode(first.secret(), server_.account()),
            grpc::StatusCode::OK);

  // Another body under the same request_id is refused.
  CreateApiKeyRequest other = request;
  other.mutable_api_key()->set_display_name("exporter");
  CreateApiKeyResponse ignored;
  ExpectInvalid(CreateApiKey(server_.admin_key(), other, &ignored),
                {"request_id"});
}

TEST_F(AccountServiceTest, RequestIdsOfDifferentAccountsDoNotCollide) {
  // The same request from admins of two accounts: two keys, each in its own
  // account; B must not get A's logged response.
  CreateApiKeyRequest request =
      KeyRequest(ats::v1::ROLE_RECRUITER, "", "", "same request");
  request.set_request_id("shared-id");
  CreateApiKeyResponse of_a;
  ASSERT_TRUE(CreateApiKey(server_.admin_key(), request, &of_a).ok());
  CreateApiKeyResponse of_b;
  grpc::Status status = CreateApiKey(server_.other_admin_key(), request, &of_b);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(of_a.api_key().account(), server_.account());
  EXPECT_EQ(of_b.api_key().account(), server_.other_account());
  EXPECT_NE(of_a.api_key().name(), of_b.api_key().name());
  EXPECT_FALSE(of_b.secret().empty());
}

TEST_F(AccountServiceTest, FailedRequestDoesNotUseUpItsRequestId) {
  CreateApiKeyRequest request = KeyRequest(
      ats::v1::ROLE_PARTNER, server_.account(), "integrations/missing");
  request.set_request_id("failing");
  CreateApiKeyResponse created;
  grpc::Status status = CreateApiKey(server_.operator_key(), request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  status = CreateApiKey(server_.operator_key(), request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
}

// --- Tenants and roles ----------------------------------------------------

TEST_F(AccountServiceTest, AdminCannotGetAnotherAccount) {
  for (const std::string& key :
       {server_.admin_key(), server_.recruiter_key()}) {
    Account got;
    grpc::Status status = GetAccount(key, server_.other_account(), &got);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << status.error_message();
    EXPECT_EQ(got.name(), "");
  }
  Account got;
  grpc::Status status =
      GetAccount(server_.other_admin_key(), server_.account(), &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AccountServiceTest, AdminCannotCreateKeysForAnotherAccount) {
  for (ats::v1::Role role : {ats::v1::ROLE_ADMIN, ats::v1::ROLE_RECRUITER}) {
    SCOPED_TRACE(ats::v1::Role_Name(role));
    CreateApiKeyResponse created;
    grpc::Status status =
        CreateApiKey(server_.admin_key(),
                     KeyRequest(role, server_.other_account()), &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << status.error_message();
    EXPECT_EQ(created.secret(), "");
  }
  EXPECT_EQ(
      KeyNames(server_.operator_key(), server_.other_account(), true).size(),
      1u);
}

TEST_F(AccountServiceTest, AdminCannotRevokeKeysOfAnotherAccount) {
  const ApiKey admin_b =
      OnlyKeyOf(server_.other_account(), ats::v1::ROLE_ADMIN);
  ApiKey revoked;
  grpc::Status status =
      RevokeApiKey(server_.admin_key(), admin_b.name(), &revoked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_EQ(GetAccountCode(server_.other_admin_key(), server_.other_account()),
            grpc::StatusCode::OK);
  EXPECT_FALSE(FindKey(admin_b.name()).has_revoke_time());

  // Nor the operator's key, which belongs to no account.
  ListApiKeysResponse all;
  ASSERT_TRUE(
      ListApiKeys(server_.operator_key(), ListApiKeysRequest(), &all).ok());
  for (const ApiKey& key : all.api_keys()) {
    if (key.role() != ats::v1::ROLE_OPERATOR) continue;
    status = RevokeApiKey(server_.admin_key(), key.name(), &revoked);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(GetAccountCode(server_.operator_key(), server_.account()),
            grpc::StatusCode::OK);
}

TEST_F(AccountServiceTest, AdminCannotListKeysOfAnotherAccount) {
  ListApiKeysRequest request;
  request.set_account(server_.other_account());
  ListApiKeysResponse response;
  grpc::Status status = ListApiKeys(server_.admin_key(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_EQ(response.api_keys_size(), 0);
}

TEST_F(AccountServiceTest, AdminCannotCreateOperatorKeys) {
  for (const std::string& account : {std::string(""), server_.account()}) {
    CreateApiKeyResponse created;
    grpc::Status status =
        CreateApiKey(server_.admin_key(),
                     KeyRequest(ats::v1::ROLE_OPERATOR, account), &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
    EXPECT_EQ(created.secret(), "");
  }
}

TEST_F(AccountServiceTest, PartnerKeyNeedsAnExistingIntegrationOfItsAccount) {
  CreateApiKeyResponse created;
  grpc::Status status =
      CreateApiKey(server_.operator_key(),
                   KeyRequest(ats::v1::ROLE_PARTNER, server_.account(),
                              "integrations/does-not-exist"),
                   &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_TRUE(
      absl::StrContains(status.error_message(), "integrations/does-not-exist"))
      << status.error_message();

  // An integration of account B does not exist for account A.
  const std::string of_b =
      ActivateIntegration(server_.other_admin_key(), "Background Checks");
  status = CreateApiKey(
      server_.operator_key(),
      KeyRequest(ats::v1::ROLE_PARTNER, server_.account(), of_b), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  status = CreateApiKey(server_.admin_key(),
                        KeyRequest(ats::v1::ROLE_PARTNER, "", of_b), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();

  // For its own account it works.
  status = CreateApiKey(server_.other_admin_key(),
                        KeyRequest(ats::v1::ROLE_PARTNER, "", of_b), &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AccountServiceTest, KeyForMissingAccountIsNotFound) {
  CreateApiKeyResponse created;
  grpc::Status status = CreateApiKey(
      server_.operator_key(),
      KeyRequest(ats::v1::ROLE_ADMIN, "accounts/no-such-account"), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_TRUE(
      absl::StrContains(status.error_message(), "accounts/no-such-account"))
      << status.error_message();
}

// --- Webhook signing secrets ------------------------------------------------

TEST_F(AccountServiceTest, RotateWebhookSigningSecretShowsANewSecretOnce) {
  Account before;
  grpc::Status status =
      GetAccount(server_.admin_key(), server_.account(), &before);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(before.has_webhook_signing_secret_create_time());

  server_.clock().Advance(absl::Hours(1));
  ats::v1::RotateWebhookSigningSecretResponse first;
  status = RotateWebhookSigningSecret(server_.admin_key(), server_.account(),
                                      &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(first.signing_secret(), "whsec_"))
      << first.signing_secret();
  EXPECT_GT(first.signing_secret().size(), std::string("whsec_").size());
  EXPECT_EQ(first.account().name(), server_.account());
  EXPECT_EQ(first.account().display_name(), "Default account");
  ASSERT_TRUE(first.account().has_webhook_signing_secret_create_time());
  EXPECT_EQ(first.account().webhook_signing_secret_create_time().seconds(),
            absl::ToUnixSeconds(server_.clock().Now()));

  // GetAccount and ListAccounts show when, never the secret.
  Account got;
  status = GetAccount(server_.admin_key(), server_.account(), &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(got, first.account()))
      << got.DebugString() << " vs " << first.account().DebugString();
  EXPECT_FALSE(absl::StrContains(got.SerializeAsString(),
                                 first.signing_secret()));
  ListAccountsResponse listed;
  status = ListAccounts(server_.operator_key(), {}, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  bool found = false;
  for (const Account& account : listed.accounts()) {
    EXPECT_FALSE(absl::StrContains(account.SerializeAsString(),
                                   first.signing_secret()));
    if (account.name() != server_.account()) {
      EXPECT_FALSE(account.has_webhook_signing_secret_create_time())
          << account.name();
      continue;
    }
    found = true;
    EXPECT_TRUE(MessageDifferencer::Equals(account, first.account()))
        << account.DebugString();
  }
  EXPECT_TRUE(found);

  // Rotating again replaces it with another secret.
  server_.clock().Advance(absl::Minutes(5));
  ats::v1::RotateWebhookSigningSecretResponse second;
  status = RotateWebhookSigningSecret(server_.operator_key(), server_.account(),
                                      &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(second.signing_secret(), "whsec_"));
  EXPECT_NE(second.signing_secret(), first.signing_secret());
  EXPECT_EQ(second.account().webhook_signing_secret_create_time().seconds(),
            absl::ToUnixSeconds(server_.clock().Now()));
}

TEST_F(AccountServiceTest, RotateWebhookSigningSecretRoles) {
  ats::v1::RotateWebhookSigningSecretResponse response;
  // Recruiters and partners may not, even for their own account.
  grpc::Status status = RotateWebhookSigningSecret(
      server_.recruiter_key(), server_.account(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  const std::string integration =
      ActivateIntegration(server_.admin_key(), "Assessments");
  CreateApiKeyResponse partner;
  status = CreateApiKey(
      server_.admin_key(),
      KeyRequest(ats::v1::ROLE_PARTNER, "", integration), &partner);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = RotateWebhookSigningSecret(partner.secret(), server_.account(),
                                      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();

  // Another account's admin sees no such account, and changes nothing.
  status = RotateWebhookSigningSecret(server_.other_admin_key(),
                                      server_.account(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_EQ(response.signing_secret(), "");
  Account got;
  ASSERT_TRUE(GetAccount(server_.admin_key(), server_.account(), &got).ok());
  EXPECT_FALSE(got.has_webhook_signing_secret_create_time());

  // Operators may, for any account.
  status = RotateWebhookSigningSecret(server_.operator_key(),
                                      server_.other_account(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(response.signing_secret(), "whsec_"));
  EXPECT_EQ(response.account().name(), server_.other_account());
}

TEST_F(AccountServiceTest, RotateWebhookSigningSecretOfMissingOrMalformed) {
  ats::v1::RotateWebhookSigningSecretResponse response;
  grpc::Status status = RotateWebhookSigningSecret(
      server_.operator_key(), "accounts/no-such-account", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  ExpectInvalid(
      RotateWebhookSigningSecret(server_.operator_key(), "", &response),
      {"name"});
  ExpectInvalid(RotateWebhookSigningSecret(server_.operator_key(),
                                           "apiKeys/x", &response),
                {"name"});
}

// --- Notification endpoint ---------------------------------------------------

class UpdateAccountTest : public AccountServiceTest {
 protected:
  grpc::Status Update(const std::string& key, const Account& account,
                      const std::vector<std::string>& paths, Account* updated) {
    ats::v1::UpdateAccountRequest request;
    *request.mutable_account() = account;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    return server_.accounts()->UpdateAccount(TestServer::Context(key).get(),
                                             request, updated);
  }

  // Account A with `notification_uri`.
  Account WithUri(const std::string& notification_uri) {
    Account account;
    account.set_name(server_.account());
    account.set_notification_uri(notification_uri);
    return account;
  }
};

TEST_F(UpdateAccountTest, SetsTheNotificationEndpointOnceTheAccountCanSign) {
  // Nothing to sign notifications with yet: refused, and nothing changes.
  Account updated;
  grpc::Status status =
      Update(server_.admin_key(), WithUri("https://ops.example.com/ats"),
             {"notification_uri"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_TRUE(
      absl::StrContains(status.error_message(), "RotateWebhookSigningSecret"))
      << status.error_message();
  Account got;
  ASSERT_TRUE(GetAccount(server_.admin_key(), server_.account(), &got).ok());
  EXPECT_EQ(got.notification_uri(), "");

  ats::v1::RotateWebhookSigningSecretResponse rotated;
  ASSERT_TRUE(RotateWebhookSigningSecret(server_.admin_key(), server_.account(),
                                         &rotated)
                  .ok());
  status = Update(server_.admin_key(), WithUri("https://ops.example.com/ats"),
                  {"notification_uri"}, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.notification_uri(), "https://ops.example.com/ats");
  // The mask decides: the display name, left out of it, stays.
  EXPECT_EQ(updated.display_name(), "Default account");
  ASSERT_TRUE(GetAccount(server_.admin_key(), server_.account(), &got).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(got, updated)) << got.DebugString();

  // Both fields at once, by an operator.
  Account both = WithUri("https://ops.example.com/v2");
  both.set_display_name("Acme");
  status = Update(server_.operator_key(), both,
                  {"display_name", "notification_uri"}, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.display_name(), "Acme");
  EXPECT_EQ(updated.notification_uri(), "https://ops.example.com/v2");

  // Empty turns notifications off.
  status =
      Update(server_.admin_key(), WithUri(""), {"notification_uri"}, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.notification_uri(), "");
}

TEST_F(UpdateAccountTest, BadUpdatesAreInvalidAndChangeNothing) {
  ats::v1::RotateWebhookSigningSecretResponse rotated;
  ASSERT_TRUE(RotateWebhookSigningSecret(server_.admin_key(), server_.account(),
                                         &rotated)
                  .ok());
  Account updated;
  ExpectInvalid(
      Update(server_.admin_key(), WithUri("https://a.example/x"), {}, &updated),
      {"update_mask"});
  ExpectInvalid(Update(server_.admin_key(), WithUri("https://a.example/x"),
                       {"create_time"}, &updated),
                {"update_mask"});
  // Not a URL; a private address, refused on save without connecting.
  for (const char* bad : {"not a url", "ftp://ops.example.com/x",
                          "http://10.0.0.1/ats", "http://169.254.169.254/"}) {
    ExpectInvalid(Update(server_.admin_key(), WithUri(bad),
                         {"notification_uri"}, &updated),
                  {"account.notification_uri"});
  }
  Account renamed = WithUri("");
  renamed.set_display_name("");
  ExpectInvalid(
      Update(server_.admin_key(), renamed, {"display_name"}, &updated),
      {"account.display_name"});
  Account unnamed;
  unnamed.set_display_name("Acme");
  ExpectInvalid(
      Update(server_.admin_key(), unnamed, {"display_name"}, &updated),
      {"account.name"});
  Account got;
  ASSERT_TRUE(GetAccount(server_.admin_key(), server_.account(), &got).ok());
  EXPECT_EQ(got.notification_uri(), "");
  EXPECT_EQ(got.display_name(), "Default account");
}

TEST_F(UpdateAccountTest, OnlyAdminsOfTheAccountAndOperatorsMayUpdate) {
  Account updated;
  grpc::Status status = Update(server_.recruiter_key(), WithUri(""),
                               {"notification_uri"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Another account's admin cannot tell the account exists.
  status = Update(server_.other_admin_key(), WithUri(""), {"notification_uri"},
                  &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  Account missing = WithUri("");
  missing.set_name("accounts/nosuchaccount");
  status =
      Update(server_.operator_key(), missing, {"notification_uri"}, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
}

}  // namespace
}  // namespace ats::testing
