// Stages and triggers as both jobs and templates have them: finding a stage
// by its display name, and printing a pipeline.
#ifndef ATS_CLIENT_PIPELINE_H_
#define ATS_CLIENT_PIPELINE_H_

#include <string>

#include "ats/v1/pipeline.pb.h"
#include "client/session.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace ats::client {

using Stages = google::protobuf::RepeatedPtrField<ats::v1::Stage>;

// The position in `stages` of the stage that `stage` names, by resource name
// or display name (case-insensitive). Throws RpcError(NOT_FOUND) when none
// does.
int FindStage(const Stages& stages, const std::string& stage);

// The resource name of the stage of job `job` that `stage` names: a
// resource name is taken as it is, a display name is looked up in the job.
std::string ResolveJobStage(Session& session, const std::string& job,
                            const std::string& stage);

// One line saying what a trigger does: "partner integrations/x
// (test_package=java-senior), after 2h".
std::string TriggerSummary(const ats::v1::Trigger& trigger);

// A table of the stages in order with their triggers, one line per trigger,
// and (for jobs) their candidate counts.
void PrintPipeline(const Stages& stages, bool with_candidate_counts);

}  // namespace ats::client

#endif  // ATS_CLIENT_PIPELINE_H_
