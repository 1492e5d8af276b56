#ifndef ATS_SERVER_API_TEMPLATE_SERVICE_H_
#define ATS_SERVER_API_TEMPLATE_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/template_service.grpc.pb.h"
#include "server/api/call.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// Creates, inside `txn`, the default template every new account starts with:
// "Standard pipeline", stages Inbox, Screening, Interview, Offer and Hired,
// no triggers. ALREADY_EXISTS if the account already has a default.
absl::Status CreateStarterTemplate(storage::Transaction& txn,
                                   const std::string& account_id,
                                   absl::Time now, RandomSource& random);

// ats.v1.TemplateService: the job templates of each account. Reads need an
// admin or recruiter key, changes an admin key, as template_service.proto
// declares; another account's template is NOT_FOUND.
class TemplateService final : public ats::v1::TemplateService::CallbackService {
 public:
  explicit TemplateService(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateJobTemplateRequest* request,
      ats::v1::JobTemplate* response) override;
  grpc::ServerUnaryReactor* GetJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::GetJobTemplateRequest* request,
      ats::v1::JobTemplate* response) override;
  grpc::ServerUnaryReactor* ListJobTemplates(
      grpc::CallbackServerContext* context,
      const ats::v1::ListJobTemplatesRequest* request,
      ats::v1::ListJobTemplatesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateJobTemplateRequest* request,
      ats::v1::JobTemplate* response) override;
  grpc::ServerUnaryReactor* DeleteJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::DeleteJobTemplateRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* GetDefaultJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::GetDefaultJobTemplateRequest* request,
      ats::v1::JobTemplate* response) override;
  grpc::ServerUnaryReactor* SetDefaultJobTemplate(
      grpc::CallbackServerContext* context,
      const ats::v1::SetDefaultJobTemplateRequest* request,
      ats::v1::JobTemplate* response) override;

 private:
  ServiceEnv env_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_TEMPLATE_SERVICE_H_
