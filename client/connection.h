// Where ats-admin connects and with which API key: each setting from the
// command line, else the environment, else a context of the configuration
// file, else the default; the key from its token, a key file, or the key
// files the server wrote on its first start.
#ifndef ATS_CLIENT_CONNECTION_H_
#define ATS_CLIENT_CONNECTION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace ats::client {

// Which of the server's first-start key files a command falls back to when
// no key is given: ats.operator.key for the platform's commands (accounts,
// the Marketplace catalogue), ats.admin.key for the rest (the names the
// server gives the key files of its default database, var/ats.db).
enum class KeyFile { kAdmin, kOperator };

// Connection settings from one source: the command line, the environment
// or a context. Unset fields leave the choice to the next source.
struct ConnectionSettings {
  std::optional<std::string> server;
  // The key itself, a file whose first line it is, or the directory of the
  // server's first-start key files: the first source that names any of the
  // three decides, in that order, where the key comes from.
  std::optional<std::string> token;
  std::optional<std::string> key_file;
  std::optional<std::string> key_dir;
  std::optional<bool> tls;
  // PEM roots to verify the server with (implies TLS).
  std::optional<std::string> ca_cert;
};

// Where to connect, resolved.
struct ConnectionOptions {
  std::string server = "127.0.0.1:50051";
  // Where the key comes from: `token` if set, else `key_file`, else the
  // KeyFile of the command in `key_dir`.
  std::string token;
  std::string key_file;
  std::string key_dir = "var";
  bool tls = false;
  // PEM roots to verify the server with; empty uses the system's roots.
  std::string ca_cert;
  // Deadline of each RPC.
  std::chrono::seconds rpc_timeout{30};
};

// Each setting from the first of `sources` (in precedence order) that sets
// it, else ConnectionOptions' default.
ConnectionOptions Resolve(const std::vector<ConnectionSettings>& sources);

// A channel to the server plus the key every call carries.
class Connection {
 public:
  // Opens a channel per `options` with the key from `options.token`, else
  // the first line of `options.key_file`, else of `key_file` in
  // `options.key_dir`; warns on stderr when a key file is open to other
  // users. Throws NoKeyError when there is no key, UsageError when the CA
  // file cannot be read.
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
