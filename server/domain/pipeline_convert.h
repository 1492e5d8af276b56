#ifndef ATS_SERVER_DOMAIN_PIPELINE_CONVERT_H_
#define ATS_SERVER_DOMAIN_PIPELINE_CONVERT_H_

// Pure helpers of the JobService RPCs: resource names of jobs, stages,
// triggers, candidates and applications, and conversions between storage
// rows and their protos. Nothing here touches storage.

#include <string>
#include <string_view>
#include <vector>

#include "ats/v1/job_service.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "storage/application_repository.h"
#include "storage/candidate_repository.h"
#include "storage/job_repository.h"

namespace ats::server {

// Resource name patterns, as Validator::Name takes them.
inline constexpr char kJobPattern[] = "jobs/{job}";
inline constexpr char kStagePattern[] = "jobs/{job}/stages/{stage}";
inline constexpr char kTriggerPattern[] =
    "jobs/{job}/stages/{stage}/triggers/{trigger}";
inline constexpr char kCandidatePattern[] = "candidates/{candidate}";
inline constexpr char kApplicationPattern[] =
    "jobs/{job}/applications/{candidate}";
inline constexpr char kJobTemplatePattern[] = "jobTemplates/{template}";
// A job template's stage.
inline constexpr char kTemplateStagePattern[] =
    "jobTemplates/{template}/stages/{stage}";

// Limits documented in job_service.proto and pipeline.proto.
inline constexpr int kMaxStagesPerJob = 30;
inline constexpr int kMaxTriggersPerStage = 10;
inline constexpr size_t kMaxJobTitleLength = 200;
inline constexpr size_t kMaxJobDescriptionLength = 10'000;
inline constexpr size_t kMaxStageNameLength = 100;
inline constexpr size_t kMaxPersonNameLength = 100;
inline constexpr int kMaxCandidateTags = 50;
inline constexpr int kMaxBatchMoveCandidates = 1000;

// Returns `jobs/{job_id}`.
std::string JobName(std::string_view job_id);
// Returns `jobs/{job_id}/stages/{stage_id}`.
std::string StageName(std::string_view job_id, std::string_view stage_id);
// Returns `jobs/{job_id}/stages/{stage_id}/triggers/{trigger_id}`.
std::string TriggerName(std::string_view job_id, std::string_view stage_id,
                        std::string_view trigger_id);
// Returns `candidates/{candidate_id}`.
std::string CandidateName(std::string_view candidate_id);
// Returns `jobs/{job_id}/applications/{candidate_id}`.
std::string ApplicationName(std::string_view job_id,
                            std::string_view candidate_id);
// Returns `jobTemplates/{template_id}`.
std::string JobTemplateName(std::string_view template_id);

// Returns the key under which stage display names are compared: names are
// unique per pipeline case-insensitively.
std::string DisplayNameKey(std::string_view display_name);

// Returns whether `mask` names `path`.
bool Masks(const google::protobuf::FieldMask& mask, std::string_view path);

// Returns `trigger` as storage keeps it: delay and action only.
ats::v1::Trigger TriggerSpecOf(const ats::v1::Trigger& trigger);

// Returns the integration id an integration-event trigger names, or "" for
// other triggers (and names that do not parse).
std::string TriggerIntegrationId(const ats::v1::Trigger& trigger);

// Returns `tags` sorted and without duplicates, as candidates keep them.
std::vector<std::string> NormalizedTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags);

// Fills the job's own fields from `row` (not its stages).
void JobToProto(const storage::JobRow& row, ats::v1::Job* job);

// Fills `stage` from `row` (not its triggers).
void StageToProto(const storage::StageRow& row, ats::v1::Stage* stage);

// Fills `trigger` from `row` of job `job_id` (not its readiness).
void TriggerToProto(const storage::TriggerRow& row, std::string_view job_id,
                    ats::v1::Trigger* trigger);

// Fills `candidate` from `row`.
void CandidateToProto(const storage::CandidateRow& row,
                      ats::v1::Candidate* candidate);

// Fills `application` from `row` (not its history).
void ApplicationToProto(const storage::ApplicationRow& row,
                        ats::v1::Application* application);

// Fills `transition` from `row`.
void TransitionToProto(const storage::TransitionRow& row,
                       ats::v1::StageTransition* transition);

// Returns the number of candidates in a job: the sum over its `stages`.
int64_t TotalCandidates(const std::vector<storage::StageRow>& stages);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_PIPELINE_CONVERT_H_
