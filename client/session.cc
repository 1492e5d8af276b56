#include "client/session.h"

#include <map>

#include "client/errors.h"

namespace ats::client {

void Session::AddGlobalFlags(CLI::App& app) {
  app.add_option("--server", options_.server, "Server address, host:port")
      ->envname("ATS_SERVER")
      ->capture_default_str();
  app.add_option("--token", options_.token,
                 "API key (default: ats.operator.key or ats.admin.key in "
                 "--key-dir, as the command needs)")
      ->envname("ATS_TOKEN");
  app.add_option("--key-dir", options_.key_dir,
                 "Where the server wrote its first-start keys")
      ->envname("ATS_KEY_DIR")
      ->capture_default_str();
  app.add_flag("--tls", options_.tls, "Connect with TLS");
  app.add_option("--ca-cert", options_.ca_cert,
                 "PEM roots to verify the server with (implies --tls)")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout", timeout_seconds_, "Seconds each call may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  static const std::map<std::string, Format> kFormats = {
      {"table", Format::kTable}, {"json", Format::kJson}};
  app.add_option_function<std::string>(
         "-o,--output",
         [this](const std::string& name) {
           output_.set_format(kFormats.at(name));
         },
         "table (default) or json (proto3 JSON, for scripts)")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_flag_function(
      "--no-headers", [this](int64_t) { output_.set_headers(false); },
      "List tables without their header line, for scripts");
}

const Connection& Session::connection(KeyFile key_file) {
  if (connection_ == nullptr) {
    options_.rpc_timeout = std::chrono::seconds(timeout_seconds_);
    connection_ = std::make_unique<Connection>(options_, key_file);
  }
  return *connection_;
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
