#ifndef ATS_SERVER_API_MALFORMED_REQUEST_H_
#define ATS_SERVER_API_MALFORMED_REQUEST_H_

// gRPC's callback API answers a request whose bytes do not parse as the
// method's request message with UNIMPLEMENTED and no message, before any
// handler runs (grpcpp's CallbackUnaryHandler::RunHandler), which sends the
// client looking for a missing method. This interceptor sees the failed
// parse (the received message is null) and turns that answer into
// INVALID_ARGUMENT naming the message type expected.

#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace ats::server {

// Creates a MalformedRequest interceptor for each call of a method whose
// client sends one message (unary and server-streaming); other calls get
// none, since there a missing message is the end of the stream.
class MalformedRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

// Returns what a client is told of a request to `method` ("/pkg.Service/Method")
// that does not parse: which message was expected.
std::string MalformedRequestMessage(const std::string& method);

}  // namespace ats::server

#endif  // ATS_SERVER_API_MALFORMED_REQUEST_H_
