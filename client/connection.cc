#include "client/connection.h"

#include <fstream>
#include <sstream>

#include "client/errors.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace ats::client {
namespace {

// The whole file, or a UsageError naming `what` it was for.
std::string ReadFileOrThrow(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + what + " " + path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string ResolveToken(const ConnectionOptions& options, KeyFile key_file) {
  if (!options.token.empty()) return options.token;
  const std::string path =
      options.key_dir +
      (key_file == KeyFile::kOperator ? "/ats.operator.key" : "/ats.admin.key");
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key) || key.empty()) {
    throw NoKeyError(
        "no API key: pass --token, set ATS_TOKEN, or run from "
        "where the server wrote " +
        path);
  }
  return key;
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const ConnectionOptions& options) {
  if (!options.tls && options.ca_cert.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_cert.empty()) {
    ssl.pem_root_certs = ReadFileOrThrow(options.ca_cert, "CA certificate");
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

Connection::Connection(const ConnectionOptions& options, KeyFile key_file)
    : authorization_("Bearer " + ResolveToken(options, key_file)),
      rpc_timeout_(options.rpc_timeout) {
  channel_ = grpc::CreateChannel(options.server, Credentials(options));
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  auto context = NewStreamContext();
  context->set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  return context;
}

std::unique_ptr<grpc::ClientContext> Connection::NewStreamContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", authorization_);
  return context;
}

}  // namespace ats::client
