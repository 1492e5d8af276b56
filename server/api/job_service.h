#ifndef ATS_SERVER_API_JOB_SERVICE_H_
#define ATS_SERVER_API_JOB_SERVICE_H_

#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/empty.pb.h"
#include "server/api/call.h"

namespace ats::server {

// ats.v1.JobService: jobs and their pipelines (stages, stage triggers), the
// candidate database, and applications (candidates moving through a job's
// stages). Every RPC admits admin and recruiter keys (as job_service.proto
// declares) and sees the caller's account only; each change is one store
// write, so nothing is half-written.
class JobService final : public ats::v1::JobService::CallbackService {
 public:
  explicit JobService(ServiceEnv env) : env_(env) {}

  // Jobs: job_service_jobs.cc; stages: job_service_stages.cc; triggers:
  // job_service_triggers.cc.
  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* context,
                                      const ats::v1::CreateJobRequest* request,
                                      ats::v1::Job* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const ats::v1::GetJobRequest* request,
                                   ats::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(
      grpc::CallbackServerContext* context,
      const ats::v1::ListJobsRequest* request,
      ats::v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateJob(grpc::CallbackServerContext* context,
                                      const ats::v1::UpdateJobRequest* request,
                                      ats::v1::Job* response) override;
  grpc::ServerUnaryReactor* DeleteJob(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteJobRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* CreateStage(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateStageRequest* request,
      ats::v1::Stage* response) override;
  grpc::ServerUnaryReactor* GetStage(grpc::CallbackServerContext* context,
                                     const ats::v1::GetStageRequest* request,
                                     ats::v1::Stage* response) override;
  grpc::ServerUnaryReactor* UpdateStage(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateStageRequest* request,
      ats::v1::Stage* response) override;
  grpc::ServerUnaryReactor* ReorderStages(
      grpc::CallbackServerContext* context,
      const ats::v1::ReorderStagesRequest* request,
      ats::v1::Job* response) override;
  grpc::ServerUnaryReactor* DeleteStage(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteStageRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* CreateTrigger(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateTriggerRequest* request,
      ats::v1::Trigger* response) override;
  grpc::ServerUnaryReactor* GetTrigger(
      grpc::CallbackServerContext* context,
      const ats::v1::GetTriggerRequest* request,
      ats::v1::Trigger* response) override;
  grpc::ServerUnaryReactor* ListTriggers(
      grpc::CallbackServerContext* context,
      const ats::v1::ListTriggersRequest* request,
      ats::v1::ListTriggersResponse* response) override;
  grpc::ServerUnaryReactor* UpdateTrigger(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateTriggerRequest* request,
      ats::v1::Trigger* response) override;
  grpc::ServerUnaryReactor* DeleteTrigger(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteTriggerRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* GetTriggerForm(
      grpc::CallbackServerContext* context,
      const ats::v1::GetTriggerFormRequest* request,
      ats::v1::TriggerForm* response) override;

  // Candidates: job_service_candidates.cc.
  grpc::ServerUnaryReactor* CreateCandidate(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateCandidateRequest* request,
      ats::v1::Candidate* response) override;
  grpc::ServerUnaryReactor* GetCandidate(
      grpc::CallbackServerContext* context,
      const ats::v1::GetCandidateRequest* request,
      ats::v1::Candidate* response) override;
  grpc::ServerUnaryReactor* ListCandidates(
      grpc::CallbackServerContext* context,
      const ats::v1::ListCandidatesRequest* request,
      ats::v1::ListCandidatesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCandidate(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateCandidateRequest* request,
      ats::v1::Candidate* response) override;
  grpc::ServerUnaryReactor* DeleteCandidate(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteCandidateRequest* request,
      google::protobuf::Empty* response) override;

  // Applications: job_service_applications.cc.
  grpc::ServerUnaryReactor* AddCandidateToJob(
      grpc::CallbackServerContext* context,
      const ats::v1::AddCandidateToJobRequest* request,
      ats::v1::AddCandidateToJobResponse* response) override;
  grpc::ServerUnaryReactor* GetApplication(
      grpc::CallbackServerContext* context,
      const ats::v1::GetApplicationRequest* request,
      ats::v1::Application* response) override;
  grpc::ServerUnaryReactor* ListApplications(
      grpc::CallbackServerContext* context,
      const ats::v1::ListApplicationsRequest* request,
      ats::v1::ListApplicationsResponse* response) override;
  grpc::ServerUnaryReactor* MoveCandidate(
      grpc::CallbackServerContext* context,
      const ats::v1::MoveCandidateRequest* request,
      ats::v1::MoveCandidateResponse* response) override;
  grpc::ServerUnaryReactor* BatchMoveCandidates(
      grpc::CallbackServerContext* context,
      const ats::v1::BatchMoveCandidatesRequest* request,
      ats::v1::BatchMoveCandidatesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteApplication(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteApplicationRequest* request,
      google::protobuf::Empty* response) override;

 private:
  ServiceEnv env_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_JOB_SERVICE_H_
