#include "client/connection.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "client/errors.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/contract/private_files.h"

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

// The first line of key file `path`, or "" when it cannot be read; warns,
// as the server does about its own files, when others may read it.
std::string ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key)) return "";
  for (const std::string& open : server::OpenToOthers({path})) {
    std::cerr << "warning: " << open
              << " is readable or writable by other users; it holds an API "
                 "key: chmod 600 it\n";
  }
  return key;
}

std::string ResolveToken(const ConnectionOptions& options, KeyFile key_file) {
  if (!options.token.empty()) return options.token;
  if (!options.key_file.empty()) {
    std::string key = ReadKeyFile(options.key_file);
    if (key.empty()) {
      throw NoKeyError("no API key: cannot read key file " + options.key_file);
    }
    return key;
  }
  const std::string path =
      options.key_dir +
      (key_file == KeyFile::kOperator ? "/ats.operator.key" : "/ats.admin.key");
  std::string key = ReadKeyFile(path);
  if (key.empty()) {
    throw NoKeyError(
        "no API key: pass --token or --key-file, set ATS_TOKEN, choose a "
        "context (ats-admin config --help), or run from where the server "
        "wrote " +
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

ConnectionOptions Resolve(const std::vector<ConnectionSettings>& sources) {
  ConnectionOptions options;
  // From the last source to the first, so that earlier sources win.
  for (auto source = sources.rbegin(); source != sources.rend(); ++source) {
    if (source->server) options.server = *source->server;
    if (source->token || source->key_file || source->key_dir) {
      // A source's key replaces a later source's whole: a context's key file
      // does not outrank ATS_TOKEN.
      options.token = source->token.value_or("");
      options.key_file = source->key_file.value_or("");
      options.key_dir = source->key_dir.value_or(ConnectionOptions().key_dir);
    }
    if (source->tls) options.tls = *source->tls;
    if (source->ca_cert) options.ca_cert = *source->ca_cert;
  }
  return options;
}

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
