// The command families of ats-admin; each adds its commands to the root app.
// Commands run when parsing succeeds, and report failure by throwing
// RpcError or UsageError (errors.h), which main turns into an exit code.
#ifndef ATS_CLIENT_COMMANDS_H_
#define ATS_CLIENT_COMMANDS_H_

#include <algorithm>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "client/args.h"
#include "client/errors.h"
#include "client/session.h"

namespace ats::client {

// accounts, keys (account_commands.cc).
void AddAccountCommands(CLI::App& app, Session& session);
// partners, integrations (integration_commands.cc).
void AddIntegrationCommands(CLI::App& app, Session& session);
// templates (template_commands.cc).
void AddTemplateCommands(CLI::App& app, Session& session);
// jobs, with their stages and triggers (job_commands.cc).
void AddJobCommands(CLI::App& app, Session& session);
// candidates, move (candidate_commands.cc).
void AddCandidateCommands(CLI::App& app, Session& session);
// events (event_commands.cc).
void AddEventCommands(CLI::App& app, Session& session);
// trigger, bulk-trigger, bulk-ops (manual_trigger_commands.cc).
void AddManualTriggerCommands(CLI::App& app, Session& session);
// backup (operations_commands.cc).
void AddOperationsCommands(CLI::App& app, Session& session);
// config: the configuration file's contexts (config_commands.cc).
void AddConfigCommands(CLI::App& app, Session& session);
// completion: shell completion scripts for every command of `app`, added
// last (completion.cc).
void AddCompletionCommand(CLI::App& app);

// Calls List RPC `method` page after page and returns one response holding
// the items (`items` of each page) of every page, up to `limit` in all, and
// the token of the page after them (empty when all were read).
template <typename Service, typename Request, typename Response, typename Item>
Response ListAll(Session& session, Request request, int limit,
                 grpc::Status (Service::Stub::*method)(grpc::ClientContext*,
                                                       const Request&,
                                                       Response*),
                 google::protobuf::RepeatedPtrField<Item>* (Response::*items)(),
                 KeyFile key_file = KeyFile::kAdmin) {
  auto stub = session.Stub<Service>(key_file);
  Response all;
  for (;;) {
    request.set_page_size(std::min(limit - (all.*items)()->size(), 1000));
    Response page;
    Check(((*stub).*method)(session.Context().get(), request, &page));
    for (Item& item : *(page.*items)()) (all.*items)()->Add()->Swap(&item);
    all.set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty() || (all.*items)()->size() >= limit) {
      return all;
    }
    request.set_page_token(page.next_page_token());
  }
}

// Adds command `name` taking one resource name (`jobs/ID`, or just ID, in
// `collection`) that calls `method` with a request of that `name` and shows
// the response: the shape of every show, cancel, revoke... command.
template <typename Service, typename Request, typename Response>
CLI::App* AddNameCommand(
    CLI::App& parent, Session& session, const std::string& name,
    const std::string& description, const std::string& example,
    const std::string& collection,
    grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Request&,
                                          Response*),
    KeyFile key_file = KeyFile::kAdmin) {
  CLI::App* command = AddCommand(parent, name, description, example);
  auto id = std::make_shared<std::string>();
  command->add_option("name", *id, collection + "/ID or ID")->required();
  command->callback([&session, id, collection, method, key_file] {
    Request request;
    request.set_name(Qualified(collection, *id));
    Response response;
    auto stub = session.Stub<Service>(key_file);
    Check(((*stub).*method)(session.Context().get(), request, &response));
    session.output().Show(response);
  });
  return command;
}

}  // namespace ats::client

#endif  // ATS_CLIENT_COMMANDS_H_
