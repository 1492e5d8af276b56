// The authentication and role matrix: for a representative RPC of each role
// class, every way of presenting (or not presenting) a key gives the code the
// proto comments promise, and no error ever echoes the secret presented.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/server/fixtures.h"
#include "tests/server/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::Role;

// The keys of the fixture, one per role; partner is account A's partner key
// of `integration`.
struct Keys {
  std::map<Role, std::string> by_role;
  std::string integration;
  std::string partner;
};

// One RPC under test: `call` sends a request that is valid for every role
// the RPC admits, with `context`'s metadata.
struct RpcCase {
  std::string name;
  std::set<Role> admitted;
  std::function<grpc::Status(TestServer&, const Keys&, grpc::ClientContext*)>
      call;
};

std::ostream& operator<<(std::ostream& out, const RpcCase& rpc) {
  return out << rpc.name;
}

const std::set<Role> kAnyRole = {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN,
                                 ats::v1::ROLE_RECRUITER,
                                 ats::v1::ROLE_PARTNER};

int NextSerial() {
  static int serial = 0;
  return ++serial;
}

std::vector<RpcCase> Rpcs() {
  return {
      {"ListAccounts",
       {ats::v1::ROLE_OPERATOR},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::ListAccountsResponse response;
         return server.accounts()->ListAccounts(context, {}, &response);
       }},
      {"CreateAccount",
       {ats::v1::ROLE_OPERATOR},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::CreateAccountRequest request;
         request.mutable_account()->set_display_name(
             absl::StrCat("Company ", NextSerial()));
         ats::v1::Account response;
         return server.accounts()->CreateAccount(context, request, &response);
       }},
      {"CreateApiKey",
       {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::CreateApiKeyRequest request;
         request.mutable_api_key()->set_display_name("matrix");
         request.mutable_api_key()->set_role(ats::v1::ROLE_RECRUITER);
         request.mutable_api_key()->set_account(server.account());
         ats::v1::CreateApiKeyResponse response;
         return server.accounts()->CreateApiKey(context, request, &response);
       }},
      {"ListApiKeys",
       {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::ListApiKeysResponse response;
         return server.accounts()->ListApiKeys(context, {}, &response);
       }},
      {"RevokeApiKey",
       {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN},
       [](TestServer& server, const Keys& keys, grpc::ClientContext* context) {
         // A fresh key of account A to revoke, made with the operator key.
         ats::v1::CreateApiKeyRequest create;
         create.mutable_api_key()->set_display_name("to revoke");
         create.mutable_api_key()->set_role(ats::v1::ROLE_RECRUITER);
         create.mutable_api_key()->set_account(server.account());
         ats::v1::CreateApiKeyResponse created;
         grpc::Status status = server.accounts()->CreateApiKey(
             TestServer::Context(keys.by_role.at(ats::v1::ROLE_OPERATOR)).get(),
             create, &created);
         if (!status.ok()) return status;
         ats::v1::RevokeApiKeyRequest request;
         request.set_name(created.api_key().name());
         ats::v1::ApiKey response;
         return server.accounts()->RevokeApiKey(context, request, &response);
       }},
      {"RotateWebhookSigningSecret",
       {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::RotateWebhookSigningSecretRequest request;
         request.set_name(server.account());
         ats::v1::RotateWebhookSigningSecretResponse response;
         return server.accounts()->RotateWebhookSigningSecret(context, request,
                                                              &response);
       }},
      {"GetAccount", kAnyRole,
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::GetAccountRequest request;
         request.set_name(server.account());
         ats::v1::Account response;
         return server.accounts()->GetAccount(context, request, &response);
       }},
      {"ListPartners", kAnyRole,
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::ListPartnersResponse response;
         return server.integrations()->ListPartners(context, {}, &response);
       }},
      {"CreatePartner",
       {ats::v1::ROLE_OPERATOR},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::CreatePartnerRequest request;
         request.mutable_partner()->set_display_name(
             absl::StrCat("Partner ", NextSerial()));
         request.mutable_partner()->set_category(
             ats::v1::PARTNER_CATEGORY_HRIS);
         request.mutable_partner()->set_webhook_uri(
             "https://partner.example/events");
         ats::v1::Partner response;
         return server.integrations()->CreatePartner(context, request,
                                                     &response);
       }},
      {"ListIntegrations",
       {ats::v1::ROLE_ADMIN, ats::v1::ROLE_RECRUITER},
       [](TestServer& server, const Keys&, grpc::ClientContext* context) {
         ats::v1::ListIntegrationsResponse response;
         return server.integrations()->ListIntegrations(context, {}, &response);
       }},
      {"GetIntegration",
       {ats::v1::ROLE_ADMIN, ats::v1::ROLE_RECRUITER, ats::v1::ROLE_PARTNER},
       [](TestServer& server, const Keys& keys, grpc::ClientContext* context) {
         ats::v1::GetIntegrationRequest request;
         request.set_name(keys.integration);
         ats::v1::Integration response;
         return server.integrations()->GetIntegration(context, request,
                                                      &response);
       }},
  };
}

// A context carrying `value` as its authorization header, verbatim.
std::unique_ptr<grpc::ClientContext> ContextWithHeader(
    const std::string& value) {
  auto context = TestServer::Context("");
  context->AddMetadata("authorization", value);
  return context;
}

// Expects that neither the message nor the details of `status` contain
// `secret` or any 12-character piece of it.
void ExpectNoSecret(const grpc::Status& status, const std::string& secret) {
  const std::string everything =
      status.error_message() + "\n" + status.error_details();
  EXPECT_FALSE(absl::StrContains(everything, secret))
      << "error echoes the secret: " << status.error_message();
  for (size_t i = 0; i + 12 <= secret.size(); ++i) {
    EXPECT_FALSE(absl::StrContains(everything, secret.substr(i, 12)))
        << "error contains part of the secret: " << status.error_message();
  }
}

class AuthMatrixTest : public ::testing::TestWithParam<RpcCase> {
 protected:
  void SetUp() override {
    keys_.by_role[ats::v1::ROLE_OPERATOR] = server_.operator_key();
    keys_.by_role[ats::v1::ROLE_ADMIN] = server_.admin_key();
    keys_.by_role[ats::v1::ROLE_RECRUITER] = server_.recruiter_key();

    keys_.integration = MustActivateNewPartner(server_, server_.admin_key(),
                                               "Assessments Unlimited")
                            .name();
    ASSERT_FALSE(keys_.integration.empty());
    keys_.by_role[ats::v1::ROLE_PARTNER] = server_.CreateKey(
        ats::v1::ROLE_PARTNER, server_.account(), keys_.integration);
  }

  grpc::Status Call(grpc::ClientContext* context) {
    return GetParam().call(server_, keys_, context);
  }

  grpc::Status CallWithKey(const std::string& key) {
    return Call(TestServer::Context(key).get());
  }

  // Creates a key of `role` (account A; the fixture's integration for
  // partners), revokes it with the operator key and returns its secret.
  std::string RevokedKey(Role role) {
    ats::v1::CreateApiKeyRequest create;
    create.mutable_api_key()->set_display_name("soon revoked");
    create.mutable_api_key()->set_role(role);
    if (role != ats::v1::ROLE_OPERATOR) {
      create.mutable_api_key()->set_account(server_.account());
    }
    if (role == ats::v1::ROLE_PARTNER) {
      create.mutable_api_key()->set_integration(keys_.integration);
    }
    ats::v1::CreateApiKeyResponse created;
    grpc::Status status = server_.accounts()->CreateApiKey(
        TestServer::Context(server_.operator_key()).get(), create, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    ats::v1::RevokeApiKeyRequest revoke;
    revoke.set_name(created.api_key().name());
    ats::v1::ApiKey revoked;
    status = server_.accounts()->RevokeApiKey(
        TestServer::Context(server_.operator_key()).get(), revoke, &revoked);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(revoked.has_revoke_time());
    return created.secret();
  }

  TestServer server_;
  Keys keys_;
};

TEST_P(AuthMatrixTest, NoAuthorizationHeaderIsUnauthenticated) {
  grpc::Status status = Call(TestServer::Context("").get());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  // The message tells the caller what to send.
  EXPECT_TRUE(absl::StrContains(status.error_message(), "authorization"))
      << status.error_message();
}

TEST_P(AuthMatrixTest, KeyInAnotherHeaderIsUnauthenticated) {
  auto context = TestServer::Context("");
  context->AddMetadata("x-api-key", server_.operator_key());
  grpc::Status status = Call(context.get());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  ExpectNoSecret(status, server_.operator_key());
}

TEST_P(AuthMatrixTest, UnknownBearerKeyIsUnauthenticated) {
  const std::vector<std::string> garbage = {
      "garbage",
      "ats_0000000000000000000000000000000000000000000",
      // A real key with one character changed.
      server_.operator_key().substr(0, server_.operator_key().size() - 1) +
          (server_.operator_key().back() == 'x' ? "y" : "x"),
      // A real key with something appended.
      server_.operator_key() + "extra",
  };
  for (const std::string& secret : garbage) {
    SCOPED_TRACE(secret);
    grpc::Status status = Call(ContextWithHeader("Bearer " + secret).get());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << status.error_message();
    ExpectNoSecret(status, secret);
  }
}

TEST_P(AuthMatrixTest, MalformedHeadersAreUnauthenticated) {
  const std::string& key = server_.operator_key();
  const std::vector<std::string> headers = {
      "Basic xyz",
      "Basic " + key,  // a valid key under the wrong scheme
      "Token " + key,
      key,  // no scheme at all
      "Bearer",
      "Bearer ",
      "Bearer    ",
      "Bearer" + key,  // no space after the scheme
  };
  for (const std::string& header : headers) {
    SCOPED_TRACE(header);
    grpc::Status status = Call(ContextWithHeader(header).get());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << status.error_message();
    ExpectNoSecret(status, key);
  }
}

TEST_P(AuthMatrixTest, RevokedKeysAreUnauthenticated) {
  // Revocation wins over the role: a revoked key is UNAUTHENTICATED whether
  // or not its role could call the RPC.
  for (Role role : {ats::v1::ROLE_OPERATOR, ats::v1::ROLE_ADMIN,
                    ats::v1::ROLE_RECRUITER, ats::v1::ROLE_PARTNER}) {
    SCOPED_TRACE(ats::v1::Role_Name(role));
    const std::string secret = RevokedKey(role);
    grpc::Status status = CallWithKey(secret);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << status.error_message();
    ExpectNoSecret(status, secret);
  }
}

TEST_P(AuthMatrixTest, EachRoleGetsWhatTheProtoPromises) {
  for (const auto& [role, key] : keys_.by_role) {
    SCOPED_TRACE(ats::v1::Role_Name(role));
    grpc::Status status = CallWithKey(key);
    if (GetParam().admitted.count(role) > 0) {
      EXPECT_TRUE(status.ok())
          << status.error_code() << ": " << status.error_message();
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << status.error_message();
      ExpectNoSecret(status, key);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rpcs, AuthMatrixTest, ::testing::ValuesIn(Rpcs()),
                         [](const ::testing::TestParamInfo<RpcCase>& info) {
                           return info.param.name;
                         });

// Authentication and the role check come before validation, so a caller
// without the right key learns nothing from the shape of its request.
TEST(AuthOrderTest, AuthenticationPrecedesValidation) {
  TestServer server;
  ats::v1::GetAccountRequest request;
  request.set_name("not a name");
  ats::v1::Account account;
  grpc::Status status = server.accounts()->GetAccount(
      TestServer::Context("").get(), request, &account);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();

  ats::v1::ListAccountsRequest list;
  list.set_page_size(-1);
  ats::v1::ListAccountsResponse accounts;
  status = server.accounts()->ListAccounts(
      TestServer::Context(server.recruiter_key()).get(), list, &accounts);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();

  // With the right key the same request is judged on its content.
  status = server.accounts()->ListAccounts(
      TestServer::Context(server.operator_key()).get(), list, &accounts);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
}

TEST(AuthOrderTest, RevokedKeyMessageNamesTheKeyNotTheSecret) {
  TestServer server;
  ats::v1::ListApiKeysRequest list;
  list.set_account(server.account());
  ats::v1::ListApiKeysResponse keys;
  ASSERT_TRUE(
      server.accounts()
          ->ListApiKeys(TestServer::Context(server.operator_key()).get(), list,
                        &keys)
          .ok());
  std::string recruiter_name;
  for (const ats::v1::ApiKey& key : keys.api_keys()) {
    if (key.role() == ats::v1::ROLE_RECRUITER) recruiter_name = key.name();
  }
  ASSERT_FALSE(recruiter_name.empty());
  ats::v1::RevokeApiKeyRequest revoke;
  revoke.set_name(recruiter_name);
  ats::v1::ApiKey revoked;
  ASSERT_TRUE(server.accounts()
                  ->RevokeApiKey(TestServer::Context(server.admin_key()).get(),
                                 revoke, &revoked)
                  .ok());

  ats::v1::GetAccountRequest get;
  get.set_name(server.account());
  ats::v1::Account account;
  grpc::Status status = server.accounts()->GetAccount(
      TestServer::Context(server.recruiter_key()).get(), get, &account);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "revoked"))
      << status.error_message();
  ExpectNoSecret(status, server.recruiter_key());
}

// The health service is for load balancers and probes, which hold no key.
TEST(AuthOrderTest, HealthCheckNeedsNoKey) {
  TestServer server;
  auto health = grpc::health::v1::Health::NewStub(server.channel());
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      health->Check(TestServer::Context("").get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace ats::testing
