#ifndef ATS_SERVER_API_INTEGRATION_SERVICE_H_
#define ATS_SERVER_API_INTEGRATION_SERVICE_H_

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
  grpc::ServerWriteReactor<ats::v1::BulkOperation>* RecoverEvents(
      grpc::CallbackServerContext* context,
      const ats::v1::RecoverEventsRequest* request) override;

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
  ServiceEnv env_;
  BulkRunner& bulk_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_INTEGRATION_SERVICE_H_
