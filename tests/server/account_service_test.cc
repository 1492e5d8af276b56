#include "gtest/gtest.h"
#include "tests/server/test_server.h"

namespace ats::testing {
namespace {

TEST(AccountServiceTest, OperatorCreatesAccount) {
  TestServer server;
  ats::v1::CreateAccountRequest request;
  request.mutable_account()->set_display_name("Acme");
  ats::v1::Account account;
  grpc::Status status = server.accounts()->CreateAccount(
      TestServer::Context(server.operator_key()).get(), request, &account);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(account.display_name(), "Acme");
  EXPECT_TRUE(account.name().rfind("accounts/", 0) == 0);
}

}  // namespace
}  // namespace ats::testing
