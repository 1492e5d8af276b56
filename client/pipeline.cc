#include "client/pipeline.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "client/args.h"
#include "client/errors.h"
#include "client/output.h"
#include "client/rule_syntax.h"
#include "google/protobuf/util/time_util.h"

namespace ats::client {

int FindStage(const Stages& stages, const std::string& stage) {
  for (int i = 0; i < stages.size(); ++i) {
    if (stages[i].name() == stage ||
        absl::EqualsIgnoreCase(stages[i].display_name(), stage)) {
      return i;
    }
  }
  throw RpcError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                              "no stage \"" + stage + "\" in the pipeline"));
}

std::string ResolveJobStage(Session& session, const std::string& job,
                            const std::string& stage) {
  if (stage.rfind("jobs/", 0) == 0) return stage;
  ats::v1::GetJobRequest request;
  request.set_name(Qualified("jobs", job));
  ats::v1::Job found;
  Check(ats::v1::JobService::NewStub(session.connection().channel())
            ->GetJob(session.Context().get(), request, &found));
  return found.stages(FindStage(found.stages(), stage)).name();
}

std::string TriggerSummary(const ats::v1::Trigger& trigger) {
  std::string summary;
  switch (trigger.action_case()) {
    case ats::v1::Trigger::kIntegrationEvent:
      summary = "partner " + trigger.integration_event().integration();
      if (!trigger.integration_event().option_values().empty()) {
        absl::StrAppend(&summary, " (",
                        MapText(trigger.integration_event().option_values()),
                        ")");
      }
      break;
    case ats::v1::Trigger::kAddTag:
      summary = "tag " + trigger.add_tag().tag();
      break;
    case ats::v1::Trigger::kWebhook:
      summary = "webhook " + trigger.webhook().uri();
      if (!trigger.webhook().candidate_fields().empty()) {
        absl::StrAppend(
            &summary, " (",
            absl::StrJoin(
                trigger.webhook().candidate_fields(), ", ",
                [](std::string* out, int field) {
                  absl::StrAppend(
                      out, absl::AsciiStrToLower(Label(
                               static_cast<ats::v1::CandidateField>(field))));
                }),
            ")");
      }
      break;
    case ats::v1::Trigger::ACTION_NOT_SET:
      summary = "nothing";
      break;
  }
  if (!trigger.rules().empty()) {
    absl::StrAppend(
        &summary, ", rules: ",
        absl::StrJoin(trigger.rules(), "; ",
                      [](std::string* out, const ats::v1::MovingRule& rule) {
                        absl::StrAppend(out, RuleText(rule));
                      }));
  }
  if (trigger.has_delay()) {
    absl::StrAppend(
        &summary, ", after ",
        google::protobuf::util::TimeUtil::ToString(trigger.delay()));
  }
  if (trigger.readiness() == ats::v1::TRIGGER_READINESS_WILL_SKIP) {
    absl::StrAppend(&summary, " [will skip: ", trigger.readiness_reason(), "]");
  }
  return summary;
}

void PrintPipeline(const Stages& stages, bool with_candidate_counts) {
  std::vector<std::string> headers = {"#", "STAGE", "NAME"};
  if (with_candidate_counts) headers.push_back("CANDIDATES");
  headers.insert(headers.end(), {"TRIGGER", "DOES"});
  std::vector<std::vector<std::string>> rows;
  for (const ats::v1::Stage& stage : stages) {
    std::vector<std::string> row = {absl::StrCat(stage.position()),
                                    stage.display_name(), stage.name()};
    if (with_candidate_counts)
      row.push_back(absl::StrCat(stage.candidate_count()));
    if (stage.triggers().empty()) {
      row.insert(row.end(), {"", ""});
      rows.push_back(row);
      continue;
    }
    // The stage's cells on its first trigger's line only.
    const size_t stage_cells = row.size();
    for (const ats::v1::Trigger& trigger : stage.triggers()) {
      std::vector<std::string> line = row;
      line.insert(line.end(), {trigger.name(), TriggerSummary(trigger)});
      rows.push_back(line);
      row.assign(stage_cells, "");
    }
  }
  PrintTable(headers, rows);
}

}  // namespace ats::client
