// A stand-in server that answers every call from memory with a response
// recorded from the real ats-server: it reads the request and writes stored
// bytes, nothing else. Loading it with the same calls measures what gRPC and
// the messages alone cost on this machine, the most any server could reach
// with them, next to the real server's figures.
#ifndef ATS_TOOLS_ATS_BENCH_REPLAY_H_
#define ATS_TOOLS_ATS_BENCH_REPLAY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"

namespace ats::bench {

class ReplayServer {
 public:
  // Serves `responses` (full method name, e.g. "/ats.v1.JobService/GetJob",
  // to the response to give every call) on a free loopback port. Calls to
  // other methods fail with UNIMPLEMENTED.
  static absl::StatusOr<std::unique_ptr<ReplayServer>> Start(
      const std::map<std::string, const google::protobuf::Message*>& responses,
      int channels);

  ~ReplayServer();

  // `channels` connections to it, as Stubs() spreads load slots over them.
  const std::vector<std::shared_ptr<grpc::Channel>>& channels() const {
    return channels_;
  }

 private:
  class Service;

  ReplayServer() = default;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_REPLAY_H_
