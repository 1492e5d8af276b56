// ats-admin: the admin command-line client of the ATS Trigger Service.

#include <iostream>

#include "CLI/CLI.hpp"
#include "client/commands.h"
#include "client/errors.h"
#include "client/session.h"

int main(int argc, char** argv) {
  using namespace ats::client;
  CLI::App app(
      "ats-admin: administer the ATS Trigger Service (accounts, the "
      "Marketplace, templates, jobs, candidates, triggers, events and "
      "backups).");
  app.name("ats-admin");
  app.footer(std::string("Example:\n  ats-admin jobs list --output json\n"
                         "  ATS_SERVER=10.0.0.5:50051 ATS_TOKEN=... ats-admin "
                         "events list --state dead\n"
                         "  ats-admin --context staging move jobs/9a1f "
                         "candidates/51aa Screening --wait\n\n") +
             kExitCodesHelp);
  app.set_version_flag("--version", std::string("ats-admin ") + ATS_VERSION);
  app.require_subcommand(1);
  // Global flags are accepted after the subcommand as well.
  app.fallthrough();
  Session session;
  session.AddGlobalFlags(app);
  AddAccountCommands(app, session);
  AddIntegrationCommands(app, session);
  AddTemplateCommands(app, session);
  AddJobCommands(app, session);
  AddCandidateCommands(app, session);
  AddEventCommands(app, session);
  AddManualTriggerCommands(app, session);
  AddOperationsCommands(app, session);
  AddConfigCommands(app, session);
  AddCompletionCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help prints and succeeds; other parse errors are usage errors.
    return app.exit(error) == 0 ? kExitOk : kExitUsage;
  } catch (const RpcError& error) {
    return ReportRpcError(error.status());
  } catch (const CommandError& error) {
    std::cerr << "error: " << error.what() << "\n";
    return error.code();
  }
  return kExitOk;
}
