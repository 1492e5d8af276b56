#include "server/domain/pipeline_convert.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/etag.h"
#include "server/common/validation.h"
#include "server/contract/timestamps.h"
#include "server/domain/marketplace.h"

namespace ats::server {

std::string JobName(std::string_view job_id) {
  return FormatName(kJobPattern, {job_id});
}

std::string StageName(std::string_view job_id, std::string_view stage_id) {
  return FormatName(kStagePattern, {job_id, stage_id});
}

std::string TriggerName(std::string_view job_id, std::string_view stage_id,
                        std::string_view trigger_id) {
  return FormatName(kTriggerPattern, {job_id, stage_id, trigger_id});
}

std::string CandidateName(std::string_view candidate_id) {
  return FormatName(kCandidatePattern, {candidate_id});
}

std::string ApplicationName(std::string_view job_id,
                            std::string_view candidate_id) {
  return FormatName(kApplicationPattern, {job_id, candidate_id});
}

std::string JobTemplateName(std::string_view template_id) {
  return FormatName(kJobTemplatePattern, {template_id});
}

std::string DisplayNameKey(std::string_view display_name) {
  return absl::AsciiStrToLower(std::string(display_name));
}

bool Masks(const google::protobuf::FieldMask& mask, std::string_view path) {
  return std::any_of(mask.paths().begin(), mask.paths().end(),
                     [path](const std::string& p) { return p == path; });
}

ats::v1::Trigger TriggerSpecOf(const ats::v1::Trigger& trigger) {
  ats::v1::Trigger spec = trigger;
  spec.clear_name();
  spec.clear_readiness();
  spec.clear_readiness_reason();
  return spec;
}

std::string TriggerIntegrationId(const ats::v1::Trigger& trigger) {
  if (!trigger.has_integration_event()) return "";
  std::vector<std::string> ids;
  if (!ParseResourceName(trigger.integration_event().integration(),
                         kIntegrationPattern, &ids)) {
    return "";
  }
  return ids[0];
}

std::vector<std::string> NormalizedTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags) {
  std::vector<std::string> sorted(tags.begin(), tags.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return sorted;
}

void JobToProto(const storage::JobRow& row, ats::v1::Job* job) {
  job->set_name(JobName(row.id));
  job->set_title(row.title);
  job->set_description(row.description);
  job->set_state(row.state);
  if (!row.template_id.empty()) {
    job->set_template_(JobTemplateName(row.template_id));
  }
  *job->mutable_create_time() = ToProtoTime(row.create_time);
  *job->mutable_update_time() = ToProtoTime(row.update_time);
  job->set_etag(EtagOf(row.revision));
}

void StageToProto(const storage::StageRow& row, ats::v1::Stage* stage) {
  stage->set_name(StageName(row.job_id, row.id));
  stage->set_display_name(row.display_name);
  stage->set_position(row.position);
  stage->set_candidate_count(static_cast<int32_t>(row.candidate_count));
}

void TriggerToProto(const storage::TriggerRow& row, std::string_view job_id,
                    ats::v1::Trigger* trigger) {
  *trigger = TriggerSpecOf(row.spec);
  trigger->set_name(TriggerName(job_id, row.stage_id, row.id));
}

void CandidateToProto(const storage::CandidateRow& row,
                      ats::v1::Candidate* candidate) {
  candidate->set_name(CandidateName(row.id));
  candidate->set_given_name(row.given_name);
  candidate->set_family_name(row.family_name);
  candidate->set_email(row.email);
  candidate->set_phone(row.phone);
  for (const std::string& tag : row.tags) candidate->add_tags(tag);
  *candidate->mutable_create_time() = ToProtoTime(row.create_time);
  *candidate->mutable_update_time() = ToProtoTime(row.update_time);
  candidate->set_etag(EtagOf(row.revision));
}

void ApplicationToProto(const storage::ApplicationRow& row,
                        ats::v1::Application* application) {
  application->set_name(ApplicationName(row.job_id, row.candidate_id));
  application->set_candidate(CandidateName(row.candidate_id));
  application->set_stage(StageName(row.job_id, row.stage_id));
  *application->mutable_stage_enter_time() = ToProtoTime(row.stage_enter_time);
  *application->mutable_create_time() = ToProtoTime(row.create_time);
}

void TransitionToProto(const storage::TransitionRow& row,
                       ats::v1::StageTransition* transition) {
  if (!row.from_stage_id.empty()) {
    transition->set_from_stage(StageName(row.job_id, row.from_stage_id));
  }
  transition->set_to_stage(StageName(row.job_id, row.to_stage_id));
  *transition->mutable_transition_time() = ToProtoTime(row.time);
  transition->set_moved_by(absl::StrCat("apiKeys/", row.moved_by));
  if (row.moved_by_rule.has_value()) {
    *transition->mutable_moved_by_rule() = *row.moved_by_rule;
  }
}

int64_t TotalCandidates(const std::vector<storage::StageRow>& stages) {
  int64_t total = 0;
  for (const storage::StageRow& stage : stages) total += stage.candidate_count;
  return total;
}

}  // namespace ats::server
