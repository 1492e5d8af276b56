// What every command shares: the global flags, the output format, and the
// connection, opened on first use with the key file the command falls back
// to; plus how commands are declared.
#ifndef ATS_CLIENT_SESSION_H_
#define ATS_CLIENT_SESSION_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "client/connection.h"
#include "client/output.h"

namespace ats::client {

class Session {
 public:
  // Adds the global flags (--context, --server, --token, --key-file,
  // --key-dir, --tls, --ca-cert, --timeout, --output, --no-headers) to
  // `app`.
  void AddGlobalFlags(CLI::App& app);

  // The connection, opened on first use with the settings of the flags,
  // else the environment, else the context (--context, else the current
  // one), else the defaults; the key from those or from `key_file` in the
  // key directory. Throws NoKeyError without a key, CommandError for a
  // context that does not exist.
  const Connection& connection(KeyFile key_file = KeyFile::kAdmin);

  // A stub of `Service` on the connection (opening it with `key_file`).
  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub(
      KeyFile key_file = KeyFile::kAdmin) {
    return Service::NewStub(connection(key_file).channel());
  }

  // A context for one call on the connection (see Connection::NewContext).
  std::unique_ptr<grpc::ClientContext> Context() {
    return connection().NewContext();
  }
  const Output& output() const { return output_; }
  // --timeout: how long each call may take, and a --wait in all.
  int timeout_seconds() const { return timeout_seconds_; }

 private:
  // The connection settings given on the command line.
  ConnectionSettings FlagSettings() const;
  // The settings of the context --context names, else of the current
  // context of the configuration file; none when neither is set.
  ConnectionSettings ContextSettings() const;

  // The global flags' values, and their options, which say whether they
  // were given.
  std::string context_, server_, token_, key_file_, key_dir_, ca_cert_;
  bool tls_ = false;
  CLI::Option* context_flag_ = nullptr;
  CLI::Option* server_flag_ = nullptr;
  CLI::Option* token_flag_ = nullptr;
  CLI::Option* key_file_flag_ = nullptr;
  CLI::Option* key_dir_flag_ = nullptr;
  CLI::Option* tls_flag_ = nullptr;
  CLI::Option* ca_cert_flag_ = nullptr;
  int timeout_seconds_ = 30;
  Output output_{Format::kTable};
  std::unique_ptr<Connection> connection_;
};

// Adds subcommand `name` to `parent` with a one-line `description` and a
// help footer showing `example` (one or more command lines).
CLI::App* AddCommand(CLI::App& parent, const std::string& name,
                     const std::string& description,
                     const std::string& example);

// Adds a command group (`jobs`, `events`...) that needs one of its
// subcommands, with `example` in its help footer like AddCommand.
CLI::App* AddGroup(CLI::App& parent, const std::string& name,
                   const std::string& description, const std::string& example);

// Adds `--limit` (how many items a list command fetches, across pages).
void AddLimitFlag(CLI::App* command, int* limit);

}  // namespace ats::client

#endif  // ATS_CLIENT_SESSION_H_
