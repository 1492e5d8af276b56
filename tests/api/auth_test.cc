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
#include "server/contract/errors.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

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

// --- Limits -----------------------------------------------------------------

// A server whose limits are on, small enough to reach in a few calls. Its
// clock only moves when a test moves it, so every figure is exact.
class LimitsTest : public ::testing::Test {
 protected:
  static constexpr double kCallsPerSecond = 10;
  static constexpr int kBurst = 5;
  static constexpr int kAuthFailuresPerMinute = 3;

  static server::RateLimitOptions Limits() {
    server::RateLimitOptions limits;
    limits.key_calls_per_second = kCallsPerSecond;
    limits.key_burst = kBurst;
    limits.auth_failures_per_minute = kAuthFailuresPerMinute;
    return limits;
  }

  // GetAccount of account A with `key` (any role may call it).
  grpc::Status GetAccount(const std::string& key) {
    ats::v1::GetAccountRequest request;
    request.set_name(server_.account());
    ats::v1::Account account;
    return server_.accounts()->GetAccount(TestServer::Context(key).get(),
                                          request, &account);
  }

  // Expects RESOURCE_EXHAUSTED whose RetryInfo asks for `delay` and whose
  // ErrorInfo has `reason`.
  static void ExpectExhausted(const grpc::Status& status,
                                      absl::Duration delay,
                                      const std::string& reason) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << status.error_message();
    const absl::Status detailed = server::FromGrpcStatus(status);
    const std::optional<absl::Duration> retry = server::RetryDelayOf(detailed);
    EXPECT_TRUE(retry.has_value()) << "no RetryInfo: " << status.error_message();
    if (retry.has_value()) {
      EXPECT_EQ(*retry, delay);
    }
    const std::optional<server::ErrorInfo> info = server::ErrorInfoOf(detailed);
    EXPECT_TRUE(info.has_value() && info->reason == reason)
        << status.error_message();
  }

  TestServer server_{Limits()};
};

TEST_F(LimitsTest, KeyGetsItsBurstThenResourceExhaustedWithRetryInfo) {
  for (int i = 0; i < kBurst; ++i) {
    grpc::Status status = GetAccount(server_.recruiter_key());
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
  grpc::Status over = GetAccount(server_.recruiter_key());
  // The bucket is empty and gains 10 tokens/s: the next one is 100 ms away.
  ExpectExhausted(over, absl::Milliseconds(100), "RATE_LIMITED");
  // The message tells a person what happened and what to do.
  EXPECT_TRUE(absl::StrContains(over.error_message(), "rate limit"))
      << over.error_message();
  EXPECT_TRUE(absl::StrContains(over.error_message(), "retry in 100ms"))
      << over.error_message();
  ExpectNoSecret(over, server_.recruiter_key());
}

TEST_F(LimitsTest, CallsThatMayNotRunStillCount) {
  // The recruiter may not list accounts: PERMISSION_DENIED, but the call
  // was made and spends the key's budget.
  for (int i = 0; i < kBurst; ++i) {
    ats::v1::ListAccountsResponse accounts;
    grpc::Status status = server_.accounts()->ListAccounts(
        TestServer::Context(server_.recruiter_key()).get(), {}, &accounts);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
  }
  ExpectExhausted(GetAccount(server_.recruiter_key()), absl::Milliseconds(100),
                  "RATE_LIMITED");
}

TEST_F(LimitsTest, BucketRefillsAsTheClockAdvances) {
  for (int i = 0; i < kBurst; ++i) {
    ASSERT_TRUE(GetAccount(server_.recruiter_key()).ok());
  }
  ASSERT_EQ(GetAccount(server_.recruiter_key()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Waiting what RetryInfo said earns exactly one call.
  server_.clock().Advance(absl::Milliseconds(100));
  EXPECT_TRUE(GetAccount(server_.recruiter_key()).ok());
  ExpectExhausted(GetAccount(server_.recruiter_key()), absl::Milliseconds(100),
                  "RATE_LIMITED");

  // Half of that earns nothing yet, and the wait shrinks accordingly.
  server_.clock().Advance(absl::Milliseconds(50));
  ExpectExhausted(GetAccount(server_.recruiter_key()), absl::Milliseconds(50),
                  "RATE_LIMITED");

  // A long idle time refills the bucket to its size, no further.
  server_.clock().Advance(absl::Hours(1));
  for (int i = 0; i < kBurst; ++i) {
    grpc::Status status = GetAccount(server_.recruiter_key());
    EXPECT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
  EXPECT_EQ(GetAccount(server_.recruiter_key()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(LimitsTest, KeysAreLimitedIndependently) {
  for (int i = 0; i < kBurst; ++i) {
    ASSERT_TRUE(GetAccount(server_.recruiter_key()).ok());
  }
  ASSERT_EQ(GetAccount(server_.recruiter_key()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another key of the same account, and a key of another account, keep
  // their whole burst.
  for (int i = 0; i < kBurst; ++i) {
    grpc::Status status = GetAccount(server_.admin_key());
    EXPECT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
    ats::v1::GetAccountRequest request;
    request.set_name(server_.other_account());
    ats::v1::Account account;
    status = server_.accounts()->GetAccount(
        TestServer::Context(server_.other_admin_key()).get(), request,
        &account);
    EXPECT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
}

TEST_F(LimitsTest, FailedAuthenticationsAreThrottledPerClientAddress) {
  const std::string wrong = "ats_not_a_key_at_all";
  for (int i = 0; i < kAuthFailuresPerMinute; ++i) {
    grpc::Status status = GetAccount(wrong);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "attempt " << i << ": " << status.error_message();
  }
  // Three failures a minute: the next attempt is allowed in 20 s. Until
  // then every call from this address is refused, a valid key's too, since
  // keys are not even looked at.
  grpc::Status refused = GetAccount(wrong);
  ExpectExhausted(refused, absl::Seconds(20), "TOO_MANY_AUTH_FAILURES");
  EXPECT_TRUE(absl::StrContains(refused.error_message(),
                                "too many failed authentications from "
                                "127.0.0.1"))
      << refused.error_message();
  ExpectNoSecret(refused, wrong);
  ExpectExhausted(GetAccount(server_.admin_key()), absl::Seconds(20),
                  "TOO_MANY_AUTH_FAILURES");
  // A missing header is a failed authentication like any other.
  ExpectExhausted(GetAccount(""), absl::Seconds(20), "TOO_MANY_AUTH_FAILURES");

  server_.clock().Advance(absl::Seconds(20));
  EXPECT_TRUE(GetAccount(server_.admin_key()).ok());
  // One attempt was earned and the valid call did not spend it: a wrong key
  // is judged once more, then the address waits again.
  EXPECT_EQ(GetAccount(wrong).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ExpectExhausted(GetAccount(server_.admin_key()), absl::Seconds(20),
                  "TOO_MANY_AUTH_FAILURES");
}

// Probes and reflection hold no key and never pass through the
// Authenticator: neither an address's failures nor a key's limit stops them.
TEST_F(LimitsTest, HealthIsExempt) {
  for (int i = 0; i < kAuthFailuresPerMinute; ++i) GetAccount("");
  ASSERT_EQ(GetAccount(server_.admin_key()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto health = grpc::health::v1::Health::NewStub(server_.channel());
  for (int i = 0; i < 3 * kBurst; ++i) {
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status =
        health->Check(TestServer::Context("").get(), {}, &response);
    ASSERT_TRUE(status.ok()) << "check " << i << ": " << status.error_message();
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

}  // namespace
}  // namespace ats::testing
