// ats-admin's configuration file: named contexts (a server, the key to call
// it with, TLS) and the current one, as YAML, like kubectl's contexts:
//
//   current-context: staging
//   contexts:
//     - name: staging
//       server: ats.staging.example:443
//       key-file: /home/ada/.config/ats-admin/staging.key
//       tls: true
//       ca-cert: /etc/ssl/staging-ca.pem
#ifndef ATS_CLIENT_CONFIG_FILE_H_
#define ATS_CLIENT_CONFIG_FILE_H_

#include <map>
#include <string>

#include "yaml-cpp/yaml.h"

namespace ats::client {

// Where to connect and with which key. Empty fields leave the choice to the
// defaults.
struct Context {
  std::string server;
  // A file whose first line is the API key.
  std::string key_file;
  bool tls = false;
  // PEM roots to verify the server with (implies TLS).
  std::string ca_cert;
};

struct Config {
  // The context commands use without --context; empty for none.
  std::string current_context;
  std::map<std::string, Context> contexts;  // By name.
};

// The file's path: $ATS_ADMIN_CONFIG, else
// $XDG_CONFIG_HOME/ats-admin/config.yaml, else
// $HOME/.config/ats-admin/config.yaml; empty when none of them is set.
std::string ConfigPath();

// The configuration in `path`: empty when there is no such file. Throws
// UsageError naming the file, and the line, when it is not one.
Config LoadConfig(const std::string& path);

// The context `name` of `config` (read from `path`); CommandError (not
// found) when there is none.
const Context& FindContext(const Config& config, const std::string& name,
                           const std::string& path);

// The document the file holds: the current context, and each context's
// name and the settings it has.
YAML::Node ConfigDocument(const Config& config);

// Replaces the file at `path` (or the file it links to) with `config`
// atomically: readers see the old file or the new one, whole, never part.
// The file gets mode 0600, and a directory made for it 0700. Throws
// CommandError when it cannot be written.
void SaveConfig(const std::string& path, const Config& config);

}  // namespace ats::client

#endif  // ATS_CLIENT_CONFIG_FILE_H_
