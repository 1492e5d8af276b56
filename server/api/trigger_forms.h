#ifndef ATS_SERVER_API_TRIGGER_FORMS_H_
#define ATS_SERVER_API_TRIGGER_FORMS_H_

// Fetching partners' trigger forms for the RPCs that save triggers or show a
// form. A fetch takes seconds at worst, so it runs neither inside a write
// transaction nor on a gRPC thread: the RPC reads what the fetch needs, the
// TriggerFormSource fetches on its own thread, and the write (or answer)
// follows from there with the forms in hand.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ats/v1/pipeline.pb.h"
#include "grpcpp/support/server_callback.h"
#include "server/api/call.h"
#include "server/domain/trigger_form.h"
#include "storage/store.h"

namespace ats::server {

// The stage a trigger is on, or is to be put on: a job's or a template's.
struct FormStage {
  // For a job stage: the job and stage ids; the job's title and the stage's
  // display name are read from storage.
  std::string job_id;
  // For a stage of a job being created (no ids yet): the job's title, and
  // the stage's display name below.
  std::string new_job_title;
  // For a template stage: the template's id (empty while it is being
  // created) and display name.
  std::string template_id;
  std::string template_display_name;
  // The stage's id (empty for a template stage being created) and, for a
  // template stage, its display name.
  std::string stage_id;
  std::string stage_display_name;
};

// One form a call needs: the integration's, for one stage.
struct FormNeed {
  std::string integration_id;
  FormStage stage;
};

// Identifies a FormNeed among a call's: its integration and stage.
using FormKey = std::pair<std::string, std::string>;
FormKey KeyOf(const FormNeed& need);

// The forms a call fetched, by FormKey; partners without a config endpoint
// have none.
using FetchedForms = std::map<FormKey, FetchedTriggerForm>;

// Returns the form fetched for `need`, or null when none was.
const FetchedTriggerForm* FindForm(const FetchedForms& forms,
                                   const FormNeed& need);

// Runs `then` with the forms of `needs` whose partners have a config
// endpoint: reads what the fetches need in one snapshot (needs whose
// integration or job stage is missing or inactive are skipped, for the
// write to report), starts them all, and calls `then` on the thread of the
// last to finish; or finishes `call` with the first error (see
// TriggerFormSource::Fetch). Calls `then` at once when nothing is to be
// fetched. Returns `call`'s reactor.
grpc::ServerUnaryReactor* WithTriggerForms(
    const UnaryCall& call, const ServiceEnv& env, std::vector<FormNeed> needs,
    std::function<grpc::ServerUnaryReactor*(const FetchedForms&)> then);

// The write of a call that saves triggers, with the forms fetched for them.
using WriteWithFormsFn = std::function<absl::Status(
    storage::Transaction& txn, absl::Time now, const FetchedForms& forms)>;

// WithTriggerForms, then `call.Write` of `write` with the forms fetched.
// Returns `call`'s reactor.
grpc::ServerUnaryReactor* WriteWithTriggerForms(const UnaryCall& call,
                                                const ServiceEnv& env,
                                                std::vector<FormNeed> needs,
                                                WriteWithFormsFn write);

// Reads, inside `txn`, the display names of template stage `*stage` (its
// template_id and stage_id set) into it: NOT_FOUND naming what is missing.
absl::Status ReadTemplateStage(storage::Transaction& txn,
                               const std::string& account_id, FormStage* stage);

// Reads, inside `txn`, the form of integration `integration_id` of
// `account_id` for `stage`: the one to fetch (`*fetch` set, true returned)
// when its partner has a config endpoint, or `*form` from its static
// trigger options (false returned). LoadIntegrationTarget's errors, with
// "showing its trigger form" as purpose, and NOT_FOUND for a job stage.
absl::StatusOr<bool> ReadTriggerForm(storage::Transaction& txn,
                                     const std::string& account_id,
                                     const std::string& integration_id,
                                     const FormStage& stage,
                                     TriggerFormFetch* fetch,
                                     ats::v1::TriggerForm* form);

}  // namespace ats::server

#endif  // ATS_SERVER_API_TRIGGER_FORMS_H_
