#include "tools/ats-bench/seed.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ats/v1/account_service.grpc.pb.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/load.h"

namespace ats::bench {
namespace {

// The stages of the default job template that get the triggers.
constexpr std::array<const char*, 2> kTriggerStageNames = {"Screening",
                                                           "Interview"};

}  // namespace

absl::StatusOr<std::string> CreateIntegration(const Target& target,
                                              const SinkControl& sink,
                                              int index,
                                              const std::string& path) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::CreatePartnerRequest create;
  const std::string json = absl::StrCat(
      R"({"partner": {"displayName": "Bench assessments )", index, " at ",
      target.sink(), R"(", "category": "PARTNER_CATEGORY_ASSESSMENT",
          "description": "Plays a partner for ats-bench",
          "webhookUri": "http://)", target.sink(), path, R"(",
          "triggerOptions": [{"key": ")", kTestPackageOption, R"(",
            "displayName": "Test package", "required": true,
            "allowedValues": [")", kTestPackages[0], R"(", ")",
      kTestPackages[1], R"("]}],
          "candidateFields": ["CANDIDATE_FIELD_GIVEN_NAME",
                              "CANDIDATE_FIELD_EMAIL"]}})");
  if (!google::protobuf::util::JsonStringToMessage(json, &create).ok()) {
    return absl::InternalError("the bench partner listing is no valid JSON");
  }
  ats::v1::Partner partner;
  grpc::Status status = integrations->CreatePartner(
      Context(target.operator_key()).get(), create, &partner);
  if (!status.ok()) return ToStatus(status, "CreatePartner");

  ats::v1::ActivateIntegrationRequest activate;
  activate.set_partner(partner.name());
  ats::v1::ActivateIntegrationResponse activated;
  status = integrations->ActivateIntegration(
      Context(target.admin_key()).get(), activate, &activated);
  if (!status.ok()) return ToStatus(status, "ActivateIntegration");
  absl::Status added = sink.AddSecret(activated.signing_secret());
  if (!added.ok()) return added;
  return activated.integration().name();
}

namespace {

absl::StatusOr<std::string> CreateRecruiterKey(const Target& target) {
  auto accounts = ats::v1::AccountService::NewStub(target.channel());
  ats::v1::CreateApiKeyRequest request;
  request.mutable_api_key()->set_display_name("ats-bench");
  request.mutable_api_key()->set_role(ats::v1::ROLE_RECRUITER);
  ats::v1::CreateApiKeyResponse response;
  grpc::Status status = accounts->CreateApiKey(
      Context(target.admin_key()).get(), request, &response);
  if (!status.ok()) return ToStatus(status, "CreateApiKey");
  return response.secret();
}

// Creates a job from the default template and puts one trigger per
// integration on its two trigger stages.
absl::Status CreateJob(const Target& target, const Seeded& seeded, int index,
                       std::string* job_name,
                       std::array<std::string, 2>* trigger_stages) {
  auto jobs = ats::v1::JobService::NewStub(target.channel());
  ats::v1::CreateJobRequest create;
  create.mutable_job()->set_title(absl::StrCat("Bench job ", index));
  create.mutable_job()->set_state(ats::v1::JOB_STATE_OPEN);
  ats::v1::Job job;
  grpc::Status status =
      jobs->CreateJob(Context(seeded.recruiter_key).get(), create, &job);
  if (!status.ok()) return ToStatus(status, "CreateJob");
  *job_name = job.name();
  for (size_t s = 0; s < kTriggerStageNames.size(); ++s) {
    for (const ats::v1::Stage& stage : job.stages()) {
      if (stage.display_name() == kTriggerStageNames[s]) {
        (*trigger_stages)[s] = stage.name();
      }
    }
    if ((*trigger_stages)[s].empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the default job template has no stage named ",
          kTriggerStageNames[s]));
    }
    for (size_t i = 0; i < seeded.integrations.size(); ++i) {
      ats::v1::CreateTriggerRequest trigger;
      trigger.set_parent((*trigger_stages)[s]);
      auto* action = trigger.mutable_trigger()->mutable_integration_event();
      action->set_integration(seeded.integrations[i]);
      (*action->mutable_option_values())[kTestPackageOption] =
          kTestPackages[i % 2];
      ats::v1::Trigger created;
      status = jobs->CreateTrigger(Context(seeded.recruiter_key).get(),
                                   trigger, &created);
      if (!status.ok()) return ToStatus(status, "CreateTrigger");
    }
  }
  return absl::OkStatus();
}

// Creates the candidates (and their applications) with calls in flight.
absl::Status CreateCandidates(const Target& target, const SeedOptions& options,
                              Seeded* seeded) {
  auto jobs = std::shared_ptr<ats::v1::JobService::Stub>(
      ats::v1::JobService::NewStub(target.channel()));
  const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  seeded->candidates.resize(options.candidates);
  if (options.add_to_jobs) seeded->applications.resize(options.candidates);
  const std::string& key = seeded->recruiter_key;

  CallKind create{"CreateCandidate", 1, nullptr};
  create.start = [&](int, CallDone done) {
    const int i = next.fetch_add(1);
    ats::v1::CreateCandidateRequest request;
    ats::v1::Candidate* candidate = request.mutable_candidate();
    candidate->set_given_name(absl::StrCat("Candidate ", i));
    candidate->set_family_name("Bench");
    candidate->set_email(absl::StrCat("c", i, "-", run, "@bench.example"));
    if (!options.tag.empty()) candidate->add_tags(options.tag);
    auto fail = [&mu, &first_error, done](const grpc::Status& status,
                                          const char* what) {
      absl::MutexLock lock(&mu);
      if (first_error.ok()) first_error = ToStatus(status, what);
      done(status);
    };
    CallAsync<ats::v1::CreateCandidateRequest, ats::v1::Candidate>(
        [jobs](auto... args) { jobs->async()->CreateCandidate(args...); }, key,
        std::move(request),
        [&, i, done, fail](const grpc::Status& status,
                           ats::v1::Candidate& created) {
          if (!status.ok()) return fail(status, "CreateCandidate");
          seeded->candidates[i] = created.name();
          if (!options.add_to_jobs) return done(status);
          const int job = i % static_cast<int>(seeded->jobs.size());
          ats::v1::AddCandidateToJobRequest add;
          add.set_job(seeded->jobs[job]);
          add.set_candidate(created.name());
          CallAsync<ats::v1::AddCandidateToJobRequest,
                    ats::v1::AddCandidateToJobResponse>(
              [jobs](auto... args) { jobs->async()->AddCandidateToJob(args...); },
              key, std::move(add),
              [&, i, job, done, fail](
                  const grpc::Status& status,
                  ats::v1::AddCandidateToJobResponse& response) {
                if (!status.ok()) return fail(status, "AddCandidateToJob");
                seeded->applications[i] = {response.application().name(), job};
                done(status);
              });
        });
  };
  LoadOptions load;
  load.in_flight = std::min(options.in_flight, std::max(1, options.candidates));
  load.duration = absl::InfiniteDuration();
  load.max_calls = options.candidates;
  std::vector<KindResult> results = RunLoad({create}, load);
  absl::MutexLock lock(&mu);
  if (!first_error.ok()) return first_error;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Seeded> Seed(const Target& target, const SinkControl& sink,
                            const SeedOptions& options) {
  Seeded seeded;
  for (int i = 0; i < kIntegrations; ++i) {
    auto integration = CreateIntegration(target, sink, i + 1, "/webhooks");
    if (!integration.ok()) return integration.status();
    seeded.integrations.push_back(*integration);
  }
  auto key = CreateRecruiterKey(target);
  if (!key.ok()) return key.status();
  seeded.recruiter_key = *key;
  for (int i = 0; i < std::max(1, options.jobs); ++i) {
    std::string job;
    std::array<std::string, 2> stages;
    absl::Status status = CreateJob(target, seeded, i, &job, &stages);
    if (!status.ok()) return status;
    seeded.jobs.push_back(job);
    seeded.trigger_stages.push_back(stages);
  }
  if (options.candidates > 0) {
    absl::Status status = CreateCandidates(target, options, &seeded);
    if (!status.ok()) return status;
  }
  return seeded;
}

absl::StatusOr<SeededTarget> OpenSeeded(const TargetOptions& target_options,
                                        const SeedOptions& seed_options) {
  auto target = Target::Open(target_options);
  if (!target.ok()) return target.status();
  SinkControl sink((*target)->sink());
  const absl::Time start = absl::Now();
  absl::StatusOr<Seeded> seeded = Seed(**target, sink, seed_options);
  if (!seeded.ok()) {
    return absl::Status(seeded.status().code(),
                        absl::StrCat("seeding failed: ",
                                     seeded.status().message()));
  }
  return SeededTarget{*std::move(target), std::move(sink), *std::move(seeded),
                      absl::Now() - start};
}

}  // namespace ats::bench
