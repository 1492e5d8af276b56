// Calling the service from ats-bench: blocking calls for setting up, and
// callback-API calls for the load.
#ifndef ATS_TOOLS_ATS_BENCH_API_H_
#define ATS_TOOLS_ATS_BENCH_API_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace ats::bench {

// A client context carrying `key` as its bearer token (none when empty).
std::unique_ptr<grpc::ClientContext> Context(const std::string& key);

// `status` as an absl::Status naming `what` failed.
absl::Status ToStatus(const grpc::Status& status, const std::string& what);

// Starts one unary call through the callback API: `method(context, request,
// response, callback)` is the stub's async() method, e.g.
//   [stub](auto... args) { stub->async()->GetJob(args...); }
// `done` gets the status and the response once the call ends.
template <typename Request, typename Response, typename Method>
void CallAsync(const Method& method, const std::string& key, Request request,
               std::function<void(const grpc::Status&, Response&)> done) {
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
  };
  auto* call = new Call{Context(key), std::move(request), Response()};
  method(call->context.get(), &call->request, &call->response,
         [call, done = std::move(done)](grpc::Status status) {
           done(status, call->response);
           delete call;
         });
}

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_API_H_
