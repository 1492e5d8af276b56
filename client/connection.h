// Where ats-admin connects and with which API key: flags, then environment,
// then the key files the server wrote on its first start.
#ifndef ATS_CLIENT_CONNECTION_H_
#define ATS_CLIENT_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace ats::client {

// Which of the server's first-start key files a command falls back to when
// no key is given: ats.operator.key for the platform's commands (accounts,
// the Marketplace catalogue), ats.admin.key for the rest (the names the
// server gives the key files of its default database, var/ats.db).
enum class KeyFile { kAdmin, kOperator };

// The global connection flags (see main.cc for their names and defaults).
struct ConnectionOptions {
  std::string server = "127.0.0.1:50051";
  // The API key; empty reads it from `key_dir`.
  std::string token;
  std::string key_dir = "var";
  bool tls = false;
  // PEM roots to verify the server with; empty uses the system's roots.
  std::string ca_cert;
  // Deadline of each RPC.
  std::chrono::seconds rpc_timeout{30};
};

// A channel to the server plus the key every call carries.
class Connection {
 public:
  // Opens a channel per `options` with the key from `options.token` or, if
  // that is empty, the first line of `key_file` in `options.key_dir`. Throws
  // UsageError when there is no key or the CA file cannot be read.
  Connection(const ConnectionOptions& options, KeyFile key_file);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context for one RPC: the key as `authorization: Bearer` metadata and
  // the RPC deadline.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // The same without a deadline, for streams that last as long as they need.
  std::unique_ptr<grpc::ClientContext> NewStreamContext() const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string authorization_;
  std::chrono::seconds rpc_timeout_;
};

}  // namespace ats::client

#endif  // ATS_CLIENT_CONNECTION_H_
