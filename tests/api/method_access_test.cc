// Every RPC of every ats.v1 service, called through the real server by a key
// of each role and by a call without a key: each is served, and admits
// exactly the roles its (ats.v1.access) option declares. The calls are
// generic (method paths and serialized requests), so this holds however the
// handlers are written, and covers an RPC as soon as its proto declares it.

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "ats/v1/access.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
#include "gtest/gtest.h"
#include "server/api/method_policy.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::DynamicMessageFactory;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The gRPC path of `method`, e.g. "/ats.v1.JobService/GetJob".
std::string PathOf(const MethodDescriptor& method) {
  return "/" + method.service()->full_name() + "/" + method.name();
}

// `message` as the payload of one gRPC message.
grpc::ByteBuffer ToBuffer(const Message& message) {
  grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

// Calls the unary RPC at `path` with `request` and returns its status;
// `response` gets the response bytes.
grpc::Status CallUnary(TestServer& server, const std::string& path,
                       const grpc::ByteBuffer& request, const std::string& key,
                       grpc::ByteBuffer* response) {
  grpc::GenericStub stub(server.channel());
  auto context = TestServer::Context(key);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(context.get(), path, grpc::StubOptions(), &request, response,
                 [&](grpc::Status result) {
                   status = std::move(result);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

// A streaming call that sends one request, closes its side, reads every
// response and keeps them: what a server-streaming RPC expects of a client,
// through a generic stub.
class OneRequestStream
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Runs the call to `path`; returns its status.
  grpc::Status Run(TestServer& server, const std::string& path,
                   grpc::ByteBuffer request, const std::string& key) {
    request_ = std::move(request);
    grpc::GenericStub stub(server.channel());
    auto context = TestServer::Context(key);
    stub.PrepareBidiStreamingCall(context.get(), path, grpc::StubOptions(),
                                  this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&next_);
    StartCall();
    done_.WaitForNotification();
    return status_;
  }

  const std::vector<grpc::ByteBuffer>& responses() const { return responses_; }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    responses_.push_back(next_);
    StartRead(&next_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer next_;
  std::vector<grpc::ByteBuffer> responses_;
  grpc::Status status_;
  absl::Notification done_;
};

// Calls `method` with an empty request of its input type, as a client that
// sets no field would, authenticated with `key` (none when empty).
grpc::Status CallWithEmptyRequest(TestServer& server,
                                  const MethodDescriptor& method,
                                  const std::string& key) {
  DynamicMessageFactory factory;
  std::unique_ptr<Message> request(
      factory.GetPrototype(method.input_type())->New());
  if (method.client_streaming() || method.server_streaming()) {
    OneRequestStream stream;
    return stream.Run(server, PathOf(method), ToBuffer(*request), key);
  }
  grpc::ByteBuffer response;
  return CallUnary(server, PathOf(method), ToBuffer(*request), key, &response);
}

// "CODE: message", for failure messages.
std::string Describe(const grpc::Status& status) {
  return std::to_string(status.error_code()) + ": " + status.error_message();
}

// The roles an RPC's (ats.v1.access) option lists, read from its descriptor
// here rather than through MethodPolicies, so that a policy the server
// misreads is caught too.
std::set<ats::v1::Role> DeclaredRoles(const MethodDescriptor& method) {
  const ats::v1::Access& access =
      method.options().GetExtension(ats::v1::access);
  std::set<ats::v1::Role> roles;
  for (int role : access.roles()) roles.insert(ats::v1::Role(role));
  return roles;
}

class MethodAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policies = server::MethodPolicies::FromGeneratedPool();
    ASSERT_TRUE(policies.ok()) << policies.status();
    policies_.emplace(*std::move(policies));
    const ats::v1::Integration integration =
        MustActivateNewPartner(server_, server_.admin_key(), "Access check");
    keys_ = {
        {ats::v1::ROLE_OPERATOR, server_.operator_key()},
        {ats::v1::ROLE_ADMIN, server_.admin_key()},
        {ats::v1::ROLE_RECRUITER, server_.recruiter_key()},
        {ats::v1::ROLE_PARTNER,
         server_.CreateKey(ats::v1::ROLE_PARTNER, server_.account(),
                           integration.name())},
    };
  }

  // The ats.v1 RPCs whose generated code is linked in, as the server reads
  // them at start; this binary links every service the server serves.
  const std::vector<server::MethodPolicy>& methods() const {
    return policies_->all();
  }

  TestServer server_;
  std::optional<server::MethodPolicies> policies_;
  // A key of every role there is.
  std::vector<std::pair<ats::v1::Role, std::string>> keys_;
};

TEST_F(MethodAccessTest, EveryRoleIsTestedWithAKey) {
  const google::protobuf::EnumDescriptor* roles = ats::v1::Role_descriptor();
  std::set<ats::v1::Role> with_key;
  for (const auto& [role, key] : keys_) with_key.insert(role);
  for (int i = 0; i < roles->value_count(); ++i) {
    const auto role = ats::v1::Role(roles->value(i)->number());
    if (role == ats::v1::ROLE_UNSPECIFIED) continue;
    EXPECT_EQ(with_key.count(role), 1u) << ats::v1::Role_Name(role);
  }
}

// An empty request from an admitted role gets past admission and fails
// validation, finds nothing, or succeeds: anything but PERMISSION_DENIED.
// Every other role is refused before its request is looked at.
TEST_F(MethodAccessTest, EveryMethodAdmitsExactlyTheRolesItDeclares) {
  size_t walked = 0;
  for (const server::MethodPolicy& policy : methods()) {
    const MethodDescriptor& method = *policy.method;
    const std::set<ats::v1::Role> admitted = DeclaredRoles(method);
    EXPECT_FALSE(admitted.empty()) << policy.name << " declares no role";
    for (const auto& [role, key] : keys_) {
      SCOPED_TRACE(policy.name + " as " + ats::v1::Role_Name(role));
      const grpc::Status status = CallWithEmptyRequest(server_, method, key);
      EXPECT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
          << Describe(status);
      EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << Describe(status);
      if (admitted.count(role) > 0) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << Describe(status);
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << Describe(status);
      }
    }
    ++walked;
  }
  // Every RPC the descriptors hold, and there are dozens: an empty walk
  // would prove nothing.
  EXPECT_EQ(walked, methods().size());
  EXPECT_GT(walked, 60u);
}

TEST_F(MethodAccessTest, EveryMethodWithoutAKeyIsUnauthenticated) {
  size_t walked = 0;
  for (const server::MethodPolicy& policy : methods()) {
    SCOPED_TRACE(policy.name);
    const grpc::Status status =
        CallWithEmptyRequest(server_, *policy.method, /*key=*/"");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Describe(status);
    ++walked;
  }
  EXPECT_GT(walked, 60u);
}

// The walks above cover the services in this binary's descriptors; the
// server's reflection service lists those it serves. They must be the same
// ats.v1 services, so that no served service escapes the walks.
TEST_F(MethodAccessTest, TheWalkCoversEveryAtsV1ServiceTheServerServes) {
  // The reflection service's messages come with gRPC's reflection library,
  // which the server links; they are built dynamically from its descriptors.
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  const Descriptor* request_type = pool.FindMessageTypeByName(
      "grpc.reflection.v1alpha.ServerReflectionRequest");
  const Descriptor* response_type = pool.FindMessageTypeByName(
      "grpc.reflection.v1alpha.ServerReflectionResponse");
  ASSERT_NE(request_type, nullptr);
  ASSERT_NE(response_type, nullptr);
  DynamicMessageFactory factory;
  std::unique_ptr<Message> request(factory.GetPrototype(request_type)->New());
  request->GetReflection()->SetString(
      request.get(), request_type->FindFieldByName("list_services"), "*");

  OneRequestStream stream;
  const grpc::Status status =
      stream.Run(server_,
                 "/grpc.reflection.v1alpha.ServerReflection/"
                 "ServerReflectionInfo",
                 ToBuffer(*request), "");
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(stream.responses().size(), 1u);
  std::unique_ptr<Message> response(factory.GetPrototype(response_type)->New());
  grpc::Slice bytes;
  ASSERT_TRUE(stream.responses()[0].DumpToSingleSlice(&bytes).ok());
  ASSERT_TRUE(response->ParseFromArray(bytes.begin(), bytes.size()));

  // ListServiceResponse.service[].name, read by field name.
  const Message& list = response->GetReflection()->GetMessage(
      *response, response_type->FindFieldByName("list_services_response"));
  const auto* service_field = list.GetDescriptor()->FindFieldByName("service");
  std::set<std::string> served;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, service_field);
       ++i) {
    const Message& service =
        list.GetReflection()->GetRepeatedMessage(list, service_field, i);
    const std::string name = service.GetReflection()->GetString(
        service, service.GetDescriptor()->FindFieldByName("name"));
    if (name.rfind("ats.v1.", 0) == 0) served.insert(name);
  }

  std::set<std::string> walked;
  for (const server::MethodPolicy& policy : methods()) {
    walked.insert(policy.method->service()->full_name());
  }
  EXPECT_EQ(served, walked);
}

}  // namespace
}  // namespace ats::testing
