#include "server/api/malformed_request.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "server/common/logging.h"

namespace ats::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class MalformedRequestInterceptor final
    : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (malformed_ && methods->QueryInterceptionHookPoint(
                          InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::string message = MalformedRequestMessage(method_);
      CallLog log;
      log.method = absl::StripPrefix(method_, "/");
      log.code = absl::StatusCode::kInvalidArgument;
      log.error = message;
      LogCall(log);
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message));
    }
    methods->Proceed();
  }

 private:
  // Owned by the server, which outlives its calls.
  const char* method_;
  bool malformed_ = false;
};

}  // namespace

grpc::experimental::Interceptor*
MalformedRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) {
    return nullptr;
  }
  return new MalformedRequestInterceptor(info->method());
}

std::string MalformedRequestMessage(const std::string& method) {
  // "/ats.v1.JobService/CreateJob" is "ats.v1.JobService.CreateJob" to the
  // descriptor pool.
  const std::string full_name = absl::StrReplaceAll(
      absl::StripPrefix(method, "/"), {{"/", "."}});
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          full_name);
  if (descriptor == nullptr) {
    return "the request does not parse as the method's protobuf message";
  }
  return absl::StrCat("the request is not a valid ",
                      descriptor->input_type()->full_name(),
                      ": its bytes do not parse as that protobuf message");
}

}  // namespace ats::server
