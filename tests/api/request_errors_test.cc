// Errors a client gets for what no handler sees: request bytes that do not
// parse, and failures of the storage engine, whose details stay in the log.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "ats/v1/account_service.pb.h"
#include "ats/v1/job_service.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

// Sends `bytes` as the request of `method` ("/pkg.Service/Method"), as a
// client with another (or a broken) copy of the contract would, and returns
// the status.
grpc::Status CallWithBytes(TestServer& server, const std::string& method,
                           const std::string& bytes, const std::string& key) {
  grpc::GenericStub stub(server.channel());
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  auto context = TestServer::Context(key);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request,
                 &response, [&](grpc::Status result) {
                   status = std::move(result);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

// Bytes that are not a protobuf message of any type.
const std::vector<std::string>& Garbage() {
  static const auto* garbage = new std::vector<std::string>{
      // A varint that never ends.
      std::string(5, '\xff'),
      // Field 1, length-delimited, announcing 5 bytes but carrying 2.
      std::string("\x0a\x05" "ab", 4),
      // Wire type 7 does not exist.
      std::string("\x0f", 1),
  };
  return *garbage;
}

TEST(MalformedRequestTest, IsInvalidArgumentNamingTheExpectedMessage) {
  TestServer server;
  for (const std::string& bytes : Garbage()) {
    SCOPED_TRACE(absl::CHexEscape(bytes));
    grpc::Status status = CallWithBytes(
        server, "/ats.v1.AccountService/GetAccount", bytes, server.admin_key());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_code() << ": " << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(),
                                  "not a valid ats.v1.GetAccountRequest"))
        << status.error_message();
  }
  // The same path with bytes that parse is served: the method exists.
  ats::v1::GetAccountRequest valid;
  valid.set_name(server.account());
  grpc::Status status =
      CallWithBytes(server, "/ats.v1.AccountService/GetAccount",
                    valid.SerializeAsString(), server.admin_key());
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(MalformedRequestTest, StreamingAndHealthMethodsSaySoToo) {
  TestServer server;
  grpc::Status status = CallWithBytes(
      server, "/ats.v1.IntegrationService/BulkTriggerIntegration",
      Garbage()[0], server.admin_key());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(
      status.error_message(), "not a valid ats.v1.BulkTriggerIntegrationRequest"))
      << status.error_message();

  status = CallWithBytes(server, "/grpc.health.v1.Health/Check", Garbage()[0],
                         "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(),
                                "grpc.health.v1.HealthCheckRequest"))
      << status.error_message();
}

TEST(MalformedRequestTest, AnUnknownMethodIsStillUnimplemented) {
  TestServer server;
  grpc::Status status = CallWithBytes(server, "/ats.v1.AccountService/Nope",
                                      "", server.admin_key());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << status.error_message();
}

// Another process holds the database's write lock longer than the server's
// busy timeout: the write fails, and the client is told what to do, in its
// terms, not which SQL statement failed.
TEST(StorageFailureTest, ClientsGetAMessageWithoutSql) {
  TestServer server;
  auto db = storage::sqlite::Connection::Open(
      absl::StrCat(server.dir(), "/ats.db"), {});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("BEGIN IMMEDIATE").ok());

  ats::v1::CreateJobRequest request;
  request.mutable_job()->set_title("Locked out");
  ats::v1::Job job;
  grpc::Status status = server.jobs()->CreateJob(
      TestServer::Context(server.recruiter_key()).get(), request, &job);
  EXPECT_TRUE((*db)->Exec("COMMIT").ok());

  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_EQ(status.error_message(), "storage is busy; retry later");
  for (const char* detail : {"sqlite", "`", "BEGIN", "INSERT", "locked"}) {
    EXPECT_FALSE(absl::StrContains(status.error_message(), detail))
        << status.error_message();
  }
  EXPECT_TRUE(status.error_details().empty());

  // Once the lock is gone the same request succeeds.
  status = server.jobs()->CreateJob(
      TestServer::Context(server.recruiter_key()).get(), request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace ats::testing
