// config: named contexts in ats-admin's configuration file (config_file.h).

#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>

#include "client/commands.h"
#include "client/config_file.h"

namespace ats::client {
namespace {

// The configuration file's path; a UsageError when there is none.
std::string RequiredConfigPath() {
  std::string path = ConfigPath();
  if (path.empty()) {
    throw UsageError(
        "no configuration file: set ATS_ADMIN_CONFIG, XDG_CONFIG_HOME or "
        "HOME");
  }
  return path;
}

// Adds command `name` taking an existing context's name that changes the
// configuration with `change` (given the configuration and the context),
// saves it, then prints what `change` returns.
void AddContextChange(
    CLI::App& config, const std::string& name, const std::string& description,
    const std::string& example,
    std::function<std::string(Config&, const std::string&)> change) {
  auto context = std::make_shared<std::string>();
  auto* command = AddCommand(config, name, description, example);
  command->add_option("name", *context, "The context's name")->required();
  command->callback([context, change] {
    const std::string path = RequiredConfigPath();
    Config config = LoadConfig(path);
    FindContext(config, *context, path);
    const std::string done = change(config, *context);
    SaveConfig(path, config);
    std::cout << done << "\n";
  });
}

void AddSetContext(CLI::App& config) {
  struct SetArgs {
    std::string name, server, key_file, ca_cert;
    bool tls = false;
    CLI::Option* server_flag = nullptr;
    CLI::Option* key_file_flag = nullptr;
    CLI::Option* tls_flag = nullptr;
    CLI::Option* ca_cert_flag = nullptr;
  };
  auto args = std::make_shared<SetArgs>();
  auto* set = AddCommand(
      config, "set-context",
      "Create a context, or change the settings given of an existing one",
      "ats-admin config set-context staging --server ats.staging:443 --tls "
      "--key-file ~/.config/ats-admin/staging.key\n"
      "  ats-admin config set-context local --server 127.0.0.1:50051 "
      "--key-file var/ats.admin.key");
  set->add_option("name", args->name, "The context's name")->required();
  args->server_flag =
      set->add_option("--server", args->server, "Server address, host:port");
  args->key_file_flag =
      set->add_option("--key-file", args->key_file,
                      "File whose first line is the API key (kept as an "
                      "absolute path; keep the file 0600)")
          ->check(CLI::ExistingFile);
  args->tls_flag = set->add_flag("--tls", args->tls,
                                 "Connect with TLS (--tls=false: plaintext)");
  args->ca_cert_flag =
      set->add_option("--ca-cert", args->ca_cert,
                      "PEM roots to verify the server with (implies TLS; "
                      "kept as an absolute path)")
          ->check(CLI::ExistingFile);
  set->callback([args] {
    const std::string path = RequiredConfigPath();
    Config config = LoadConfig(path);
    const bool created = config.contexts.count(args->name) == 0;
    Context& context = config.contexts[args->name];
    if (args->server_flag->count() > 0) context.server = args->server;
    if (args->key_file_flag->count() > 0) {
      context.key_file = std::filesystem::absolute(args->key_file).string();
    }
    if (args->tls_flag->count() > 0) context.tls = args->tls;
    if (args->ca_cert_flag->count() > 0) {
      context.ca_cert = std::filesystem::absolute(args->ca_cert).string();
    }
    SaveConfig(path, config);
    std::cout << "Context \"" << args->name << "\" "
              << (created ? "created" : "modified") << " in " << path << ".\n";
  });
}

}  // namespace

void AddConfigCommands(CLI::App& app, Session& session) {
  CLI::App* config = AddGroup(
      app, "config",
      "Named contexts: a server, the key file to call it with, TLS. Commands "
      "connect as the current context; --context NAME picks another, and "
      "flags and the environment (ATS_SERVER, ATS_TOKEN, ATS_KEY_DIR) "
      "override it. The file is $ATS_ADMIN_CONFIG, else "
      "$XDG_CONFIG_HOME/ats-admin/config.yaml (~/.config/ats-admin/"
      "config.yaml)",
      "ats-admin config set-context prod --server ats.example:443 --tls "
      "--key-file ~/.config/ats-admin/prod.key\n"
      "  ats-admin config use-context prod");

  AddSetContext(*config);

  AddContextChange(*config, "use-context", "Make a context the current one",
                   "ats-admin config use-context staging",
                   [](Config& config, const std::string& context) {
                     config.current_context = context;
                     return "Switched to context \"" + context + "\".";
                   });

  auto* list = AddCommand(
      *config, "get-contexts",
      "List the contexts, the current one marked with *",
      "ats-admin config get-contexts\n  ats-admin config get-contexts -o yaml");
  list->callback([&session] {
    const Config config = LoadConfig(RequiredConfigPath());
    if (session.output().structured()) {
      return session.output().Print(ConfigDocument(config));
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, context] : config.contexts) {
      rows.push_back({name == config.current_context ? "*" : "", name,
                      context.server, context.key_file,
                      context.tls || !context.ca_cert.empty() ? "yes" : "",
                      context.ca_cert});
    }
    PrintTable({"CURRENT", "NAME", "SERVER", "KEY FILE", "TLS", "CA CERT"},
               rows, session.output().headers());
  });

  auto* current =
      AddCommand(*config, "current-context", "Print the current context's name",
                 "ats-admin config current-context");
  current->callback([] {
    const std::string path = RequiredConfigPath();
    const Config config = LoadConfig(path);
    if (config.current_context.empty()) {
      throw CommandError(kExitNotFound,
                         "no current context in " + path +
                             " (ats-admin config use-context NAME sets one)");
    }
    std::cout << config.current_context << "\n";
  });

  AddContextChange(*config, "delete-context", "Delete a context",
                   "ats-admin config delete-context staging",
                   [](Config& config, const std::string& context) {
                     config.contexts.erase(context);
                     if (config.current_context != context) {
                       return "Deleted context \"" + context + "\".";
                     }
                     config.current_context.clear();
                     return "Deleted context \"" + context +
                            "\", the current one: none is current now "
                            "(ats-admin config use-context NAME).";
                   });
}

}  // namespace ats::client
