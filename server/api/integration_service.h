#ifndef ATS_SERVER_API_INTEGRATION_SERVICE_H_
#define ATS_SERVER_API_INTEGRATION_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "server/api/call.h"
#include "server/engine/bulk_operations.h"

namespace ats::server {

// ats.v1.IntegrationService: the Marketplace and each account's integrations
// (integration_service_integrations.cc), events and partner results
// (integration_service_events.cc), manual triggers
// (integration_service_manual.cc) and bulk operations
// (integration_service_bulk.cc, run by the BulkRunner).
class IntegrationService final
    : public ats::v1::IntegrationService::CallbackService {
 public:
  // `bulk` runs bulk operations; it must outlive the service.
  IntegrationService(ServiceEnv env, BulkRunner& bulk)
      : env_(env), bulk_(bulk) {}

  grpc::ServerUnaryReactor* CreatePartner(
      grpc::CallbackServerContext* context,
      const ats::v1::CreatePartnerRequest* request,
      ats::v1::Partner* response) override;
  grpc::ServerUnaryReactor* GetPartner(
      grpc::CallbackServerContext* context,
      const ats::v1::GetPartnerRequest* request,
      ats::v1::Partner* response) override;
  grpc::ServerUnaryReactor* ListPartners(
      grpc::CallbackServerContext* context,
      const ats::v1::ListPartnersRequest* request,
      ats::v1::ListPartnersResponse* response) override;
  grpc::ServerUnaryReactor* UpdatePartner(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdatePartnerRequest* request,
      ats::v1::Partner* response) override;

  grpc::ServerUnaryReactor* ActivateIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::ActivateIntegrationRequest* request,
      ats::v1::ActivateIntegrationResponse* response) override;
  grpc::ServerUnaryReactor* GetIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::GetIntegrationRequest* request,
      ats::v1::Integration* response) override;
  grpc::ServerUnaryReactor* ListIntegrations(
      grpc::CallbackServerContext* context,
      const ats::v1::ListIntegrationsRequest* request,
      ats::v1::ListIntegrationsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateIntegrationRequest* request,
      ats::v1::Integration* response) override;
  grpc::ServerUnaryReactor* DeactivateIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::DeactivateIntegrationRequest* request,
      ats::v1::Integration* response) override;
  grpc::ServerUnaryReactor* ReactivateIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::ReactivateIntegrationRequest* request,
      ats::v1::Integration* response) override;
  grpc::ServerUnaryReactor* RotateSigningSecret(
      grpc::CallbackServerContext* context,
      const ats::v1::RotateSigningSecretRequest* request,
      ats::v1::RotateSigningSecretResponse* response) override;

  // Manual triggers: integration_service_manual.cc and
  // integration_service_bulk.cc.
  grpc::ServerUnaryReactor* TriggerIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::TriggerIntegrationRequest* request,
      ats::v1::TriggerIntegrationResponse* response) override;
  grpc::ServerWriteReactor<ats::v1::BulkOperation>* BulkTriggerIntegration(
      grpc::CallbackServerContext* context,
      const ats::v1::BulkTriggerIntegrationRequest* request) override;
  grpc::ServerUnaryReactor* GetBulkOperation(
      grpc::CallbackServerContext* context,
      const ats::v1::GetBulkOperationRequest* request,
      ats::v1::BulkOperation* response) override;
  grpc::ServerUnaryReactor* ListBulkOperations(
      grpc::CallbackServerContext* context,
      const ats::v1::ListBulkOperationsRequest* request,
      ats::v1::ListBulkOperationsResponse* response) override;
  grpc::ServerUnaryReactor* ListBulkOperationItems(
      grpc::CallbackServerContext* context,
      const ats::v1::ListBulkOperationItemsRequest* request,
      ats::v1::ListBulkOperationItemsResponse* response) override;
  grpc::ServerUnaryReactor* CancelBulkOperation(
      grpc::CallbackServerContext* context,
      const ats::v1::CancelBulkOperationRequest* request,
      ats::v1::BulkOperation* response) override;

  // Events and partner results: integration_service_events.cc.
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const ats::v1::GetEventRequest* request,
                                     ats::v1::Event* response) override;
  grpc::ServerUnaryReactor* ListEvents(
      grpc::CallbackServerContext* context,
      const ats::v1::ListEventsRequest* request,
      ats::v1::ListEventsResponse* response) override;
  grpc::ServerUnaryReactor* RetryEvent(
      grpc::CallbackServerContext* context,
      const ats::v1::RetryEventRequest* request,
      ats::v1::Event* response) override;
  grpc::ServerUnaryReactor* CancelEvent(
      grpc::CallbackServerContext* context,
      const ats::v1::CancelEventRequest* request,
      ats::v1::Event* response) override;
  grpc::ServerUnaryReactor* ReportPartnerResult(
      grpc::CallbackServerContext* context,
      const ats::v1::ReportPartnerResultRequest* request,
      ats::v1::Event* response) override;

 private:
  // Changes `row` (whose partner has `listing`) at time `now`; returns
  // whether anything changed, or the error that rolls the write back.
  using IntegrationChange = std::function<absl::StatusOr<bool>(
      const ats::v1::Partner& listing, absl::Time now,
      storage::IntegrationRow& row)>;

  // Serves an admin RPC whose request names an integration in `name` and
  // which applies `change` to it.
  grpc::ServerUnaryReactor* ServeChange(grpc::CallbackServerContext* context,
                                        std::string_view method,
                                        const std::string& name,
                                        IntegrationChange change,
                                        ats::v1::Integration* response);

  // Applies `change` to integration `id` of the caller's account in one
  // write, bumping revision and update_time when it changed anything, then
  // finishes the call with the integration as stored in `response`.
  void ChangeIntegration(const Caller& caller, std::string id,
                         IntegrationChange change,
                         ats::v1::Integration* response, const Finish& finish);

  // Changes `event` on behalf of `caller` at `now`, or returns the error
  // (e.g. a state that does not allow the change) that rolls the write back.
  using EventChange = std::function<absl::Status(
      const Caller& caller, absl::Time now, storage::EventRow& event)>;

  // Serves an admin or recruiter RPC whose request names an event in `name`:
  // applies `change` to it in one write and answers the event as stored.
  grpc::ServerUnaryReactor* ChangeEvent(grpc::CallbackServerContext* context,
                                        std::string_view method,
                                        const std::string& name,
                                        EventChange change,
                                        ats::v1::Event* response);

  ServiceEnv env_;
  BulkRunner& bulk_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_INTEGRATION_SERVICE_H_
