#include "client/session.h"

#include <cstdlib>
#include <map>

#include "client/config_file.h"
#include "client/errors.h"

namespace ats::client {

namespace {

// The settings the environment gives: ATS_SERVER, ATS_TOKEN, ATS_KEY_DIR.
ConnectionSettings EnvironmentSettings() {
  ConnectionSettings settings;
  const auto take = [](const char* name, std::optional<std::string>* field) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') *field = value;
  };
  take("ATS_SERVER", &settings.server);
  take("ATS_TOKEN", &settings.token);
  take("ATS_KEY_DIR", &settings.key_dir);
  return settings;
}

}  // namespace

void Session::AddGlobalFlags(CLI::App& app) {
  context_flag_ = app.add_option(
      "--context", context_,
      "Connect as this context of the configuration file says, instead of "
      "the current one (see ats-admin config)");
  server_flag_ = app.add_option(
      "--server", server_,
      "Server address, host:port (env ATS_SERVER; else the context's; "
      "default 127.0.0.1:50051)");
  token_flag_ = app.add_option(
      "--token", token_,
      "API key (env ATS_TOKEN; else the context's key file; default: "
      "ats.operator.key or ats.admin.key in --key-dir, as the command needs)");
  key_file_flag_ =
      app.add_option("--key-file", key_file_,
                     "File whose first line is the API key (keep it 0600)")
          ->excludes(token_flag_);
  key_dir_flag_ =
      app.add_option("--key-dir", key_dir_,
                     "Where the server wrote its first-start keys (env "
                     "ATS_KEY_DIR; default var)")
          ->excludes(token_flag_)
          ->excludes(key_file_flag_);
  tls_flag_ = app.add_flag("--tls", tls_,
                           "Connect with TLS (--tls=false: plaintext, whatever "
                           "the context says)");
  ca_cert_flag_ =
      app.add_option("--ca-cert", ca_cert_,
                     "PEM roots to verify the server with (implies --tls)")
          ->check(CLI::ExistingFile);
  app.add_option("--timeout", timeout_seconds_,
                 "Seconds each call may take; with --wait, also the most "
                 "the whole wait may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  static const std::map<std::string, Format> kFormats = {
      {"table", Format::kTable},
      {"json", Format::kJson},
      {"yaml", Format::kYaml}};
  app.add_option_function<std::string>(
         "-o,--output",
         [this](const std::string& name) {
           output_.set_format(kFormats.at(name));
         },
         "table (default), or json (proto3 JSON) or yaml (the same "
         "document), for scripts")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  app.add_flag_function(
      "--no-headers", [this](int64_t) { output_.set_headers(false); },
      "List tables without their header line, for scripts");
}

const Connection& Session::connection(KeyFile key_file) {
  if (connection_ == nullptr) {
    ConnectionOptions options =
        Resolve({FlagSettings(), EnvironmentSettings(), ContextSettings()});
    options.rpc_timeout = std::chrono::seconds(timeout_seconds_);
    connection_ = std::make_unique<Connection>(options, key_file);
  }
  return *connection_;
}

ConnectionSettings Session::FlagSettings() const {
  ConnectionSettings settings;
  const auto take = [](const CLI::Option* flag, const std::string& value,
                       std::optional<std::string>* field) {
    if (flag->count() > 0) *field = value;
  };
  take(server_flag_, server_, &settings.server);
  take(token_flag_, token_, &settings.token);
  take(key_file_flag_, key_file_, &settings.key_file);
  take(key_dir_flag_, key_dir_, &settings.key_dir);
  take(ca_cert_flag_, ca_cert_, &settings.ca_cert);
  if (tls_flag_->count() > 0) {
    settings.tls = tls_;
    // --tls=false means plaintext, even to a context with a CA file.
    if (!tls_ && !settings.ca_cert) settings.ca_cert = "";
  }
  return settings;
}

ConnectionSettings Session::ContextSettings() const {
  const std::string path = ConfigPath();
  const Config config = LoadConfig(path);
  const std::string name =
      context_flag_->count() > 0 ? context_ : config.current_context;
  if (name.empty()) return {};
  const client::Context& context = FindContext(config, name, path);
  ConnectionSettings settings;
  if (!context.server.empty()) settings.server = context.server;
  if (!context.key_file.empty()) settings.key_file = context.key_file;
  settings.tls = context.tls;
  if (!context.ca_cert.empty()) settings.ca_cert = context.ca_cert;
  return settings;
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name,
                     const std::string& description,
                     const std::string& example) {
  CLI::App* command = parent.add_subcommand(name, description);
  command->footer("Example:\n  " + example);
  return command;
}

CLI::App* AddGroup(CLI::App& parent, const std::string& name,
                   const std::string& description, const std::string& example) {
  CLI::App* group = AddCommand(parent, name, description, example);
  group->require_subcommand(1);
  return group;
}

void AddLimitFlag(CLI::App* command, int* limit) {
  command->add_option("--limit", *limit, "Most items to list, across pages")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace ats::client
