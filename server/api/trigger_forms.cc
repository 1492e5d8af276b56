#include "server/api/trigger_forms.h"

#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/validation.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_spec.h"
#include "server/engine/pipeline_access.h"
#include "storage/failure.h"

namespace ats::server {
namespace {

// The fetches of one call, and what they came to so far.
struct Gathering {
  Gathering(UnaryCall call, size_t count,
            std::function<grpc::ServerUnaryReactor*(const FetchedForms&)> then)
      : call(std::move(call)), remaining(count), then(std::move(then)) {}

  const UnaryCall call;
  absl::Mutex mu;
  size_t remaining ABSL_GUARDED_BY(mu);
  FetchedForms forms ABSL_GUARDED_BY(mu);
  absl::Status first_error ABSL_GUARDED_BY(mu);
  const std::function<grpc::ServerUnaryReactor*(const FetchedForms&)> then;
};

// One form to fetch, with what identifies it.
struct Planned {
  FormKey key;
  TriggerFormFetch fetch;
};

}  // namespace

FormKey KeyOf(const FormNeed& need) {
  const FormStage& stage = need.stage;
  if (!stage.job_id.empty()) {
    return {need.integration_id, StageName(stage.job_id, stage.stage_id)};
  }
  if (!stage.new_job_title.empty()) {
    return {need.integration_id, "new job stage " + stage.stage_display_name};
  }
  return {need.integration_id,
          FormatName(kTemplateStagePattern,
                     {stage.template_id, stage.stage_id.empty()
                                             ? stage.stage_display_name
                                             : stage.stage_id})};
}

const FetchedTriggerForm* FindForm(const FetchedForms& forms,
                                   const FormNeed& need) {
  auto found = forms.find(KeyOf(need));
  return found == forms.end() ? nullptr : &found->second;
}

absl::Status ReadTemplateStage(storage::Transaction& txn,
                               const std::string& account_id,
                               FormStage* stage) {
  const std::string template_name = JobTemplateName(stage->template_id);
  auto row = txn.templates().GetTemplate(account_id, stage->template_id);
  if (absl::IsNotFound(row.status())) {
    return absl::NotFoundError(absl::StrCat(template_name, " not found"));
  }
  if (!row.ok()) return row.status();
  const std::string name =
      FormatName(kTemplateStagePattern, {stage->template_id, stage->stage_id});
  for (const ats::v1::Stage& stored : row->pipeline.stages()) {
    if (stored.name() != name) continue;
    stage->template_display_name = row->display_name;
    stage->stage_display_name = stored.display_name();
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(name, " not found"));
}

absl::StatusOr<bool> ReadTriggerForm(storage::Transaction& txn,
                                     const std::string& account_id,
                                     const std::string& integration_id,
                                     const FormStage& stage,
                                     TriggerFormFetch* fetch,
                                     ats::v1::TriggerForm* form) {
  ats::v1::TriggerFormRequest& request = fetch->request;
  if (!stage.job_id.empty()) {
    auto job = LoadJob(txn, account_id, stage.job_id);
    if (!job.ok()) return job.status();
    auto row = LoadStage(txn, account_id, stage.job_id, stage.stage_id);
    if (!row.ok()) return row.status();
    request.set_job_title(job->title);
    request.set_stage_display_name(row->display_name);
  }
  auto target = LoadIntegrationTarget(txn, account_id, integration_id,
                                      "showing its trigger form");
  if (!target.ok()) return target.status();
  const ats::v1::Partner& listing = target->partner.listing;
  if (listing.trigger_form_uri().empty()) {
    *form = StaticTriggerForm(listing);
    return false;
  }
  request.set_integration(IntegrationName(integration_id));
  request.set_partner(PartnerName(target->partner.id));
  request.set_account(absl::StrCat("accounts/", account_id));
  if (!stage.job_id.empty()) {
    request.set_job(JobName(stage.job_id));
    request.set_stage(StageName(stage.job_id, stage.stage_id));
  } else {
    if (!stage.template_id.empty()) {
      request.set_job_template(JobTemplateName(stage.template_id));
      if (!stage.stage_id.empty()) {
        request.set_stage(FormatName(kTemplateStagePattern,
                                     {stage.template_id, stage.stage_id}));
      }
    }
    request.set_job_title(stage.new_job_title);
    request.set_job_template_display_name(stage.template_display_name);
    request.set_stage_display_name(stage.stage_display_name);
  }
  for (const auto& [key, value] : target->integration.activation_values) {
    (*request.mutable_activation_values())[key] = value;
  }
  fetch->uri = listing.trigger_form_uri();
  fetch->partner_display_name = listing.display_name();
  fetch->signing_secret = target->integration.signing_secret;
  return true;
}

grpc::ServerUnaryReactor* WithTriggerForms(
    const UnaryCall& call, const ServiceEnv& env, std::vector<FormNeed> needs,
    std::function<grpc::ServerUnaryReactor*(const FetchedForms&)> then) {
  std::vector<Planned> planned;
  const absl::Status read = env.store.Read([&](storage::Transaction& txn) {
    std::set<FormKey> seen;
    for (const FormNeed& need : needs) {
      if (need.integration_id.empty()) continue;
      FormKey key = KeyOf(need);
      if (!seen.insert(key).second) continue;
      TriggerFormFetch fetch;
      ats::v1::TriggerForm static_form;
      auto fetching =
          ReadTriggerForm(txn, call.caller().account_id, need.integration_id,
                          need.stage, &fetch, &static_form);
      // What is missing or inactive, the write reports.
      if (storage::IsStorageFailure(fetching.status())) {
        return fetching.status();
      }
      if (fetching.ok() && *fetching) {
        planned.push_back({std::move(key), std::move(fetch)});
      }
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return call.Finish(read);
  if (planned.empty()) return then(FetchedForms());
  if (env.trigger_forms == nullptr) {
    return call.Finish(absl::UnavailableError(
        "this server does not fetch partners' trigger forms"));
  }
  auto gathering =
      std::make_shared<Gathering>(call, planned.size(), std::move(then));
  for (Planned& next : planned) {
    FetchedTriggerForm fetched;
    fetched.integration_id = next.key.first;
    fetched.uri = next.fetch.uri;
    env.trigger_forms->Fetch(
        std::move(next.fetch),
        [gathering, key = next.key, fetched = std::move(fetched)](
            absl::StatusOr<ats::v1::TriggerForm> form) mutable {
          Gathering& g = *gathering;
          absl::Status error;
          FetchedForms forms;
          {
            absl::MutexLock lock(&g.mu);
            if (form.ok()) {
              fetched.form = *std::move(form);
              g.forms.emplace(key, std::move(fetched));
            } else if (g.first_error.ok()) {
              g.first_error = form.status();
            }
            if (--g.remaining > 0) return;
            // The last fetch: no other thread touches the gathering now.
            error = g.first_error;
            forms = std::move(g.forms);
          }
          if (!error.ok()) {
            g.call.Finish(error);
          } else {
            g.then(forms);
          }
        });
  }
  return call.Pending();
}

grpc::ServerUnaryReactor* WriteWithTriggerForms(const UnaryCall& call,
                                                const ServiceEnv& env,
                                                std::vector<FormNeed> needs,
                                                WriteWithFormsFn write) {
  return WithTriggerForms(
      call, env, std::move(needs),
      [call, write = std::move(write)](const FetchedForms& fetched) {
        // Shared: a write may run more than once.
        auto forms = std::make_shared<const FetchedForms>(fetched);
        return call.Write(
            [write, forms](storage::Transaction& txn, absl::Time now) {
              return write(txn, now, *forms);
            });
      });
}

}  // namespace ats::server
