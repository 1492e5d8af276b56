#include "tools/ats-bench/replay.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "tools/ats-bench/target.h"

namespace ats::bench {

class ReplayServer::Service : public grpc::CallbackGenericService {
 public:
  explicit Service(std::map<std::string, grpc::ByteBuffer> responses)
      : responses_(std::move(responses)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    auto response = responses_.find(context->method());
    if (response == responses_.end()) {
      return grpc::CallbackGenericService::CreateReactor(context);
    }
    return new Replay(response->second);
  }

 private:
  // One unary call: read the request, answer with the recorded bytes.
  class Replay : public grpc::ServerGenericBidiReactor {
   public:
    // Copying a ByteBuffer shares its slices: the bytes are not copied.
    explicit Replay(const grpc::ByteBuffer& response) : response_(response) {
      StartRead(&request_);
    }

    void OnReadDone(bool ok) override {
      if (!ok)
        return Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "no request message"));
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }

    void OnDone() override { delete this; }

   private:
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  // Serialized once, shared by every call.
  const std::map<std::string, grpc::ByteBuffer> responses_;
};

absl::StatusOr<std::unique_ptr<ReplayServer>> ReplayServer::Start(
    const std::map<std::string, const google::protobuf::Message*>& responses,
    int channels) {
  std::map<std::string, grpc::ByteBuffer> serialized;
  for (const auto& [method, response] : responses) {
    grpc::Slice slice(response->SerializeAsString());
    serialized[method] = grpc::ByteBuffer(&slice, 1);
  }
  std::unique_ptr<ReplayServer> replay(new ReplayServer());
  replay->service_ = std::make_unique<Service>(std::move(serialized));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterCallbackGenericService(replay->service_.get());
  replay->server_ = builder.BuildAndStart();
  if (replay->server_ == nullptr || port == 0) {
    return absl::UnavailableError("the replay server did not start");
  }
  replay->channels_ = OpenChannels(absl::StrCat("127.0.0.1:", port), channels);
  return replay;
}

ReplayServer::~ReplayServer() {
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace ats::bench
