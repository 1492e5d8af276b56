#ifndef ATS_SERVER_API_OPERATIONS_SERVICE_H_
#define ATS_SERVER_API_OPERATIONS_SERVICE_H_

#include <cstddef>

#include "ats/v1/operations_service.grpc.pb.h"
#include "server/api/call.h"

namespace ats::server {

// ats.v1.OperationsService: running the deployment itself (backups). The
// roles each RPC admits are declared in operations_service.proto.
class OperationsService final
    : public ats::v1::OperationsService::CallbackService {
 public:
  // Streams backups in messages of at most `max_message_bytes`, the most the
  // server sends.
  OperationsService(ServiceEnv env, int max_message_bytes);

  grpc::ServerWriteReactor<ats::v1::BackupDatabaseResponse>* BackupDatabase(
      grpc::CallbackServerContext* context,
      const ats::v1::BackupDatabaseRequest* request) override;

 private:
  ServiceEnv env_;
  // Bytes of the backup file per message: a multiple of 3 (see
  // BackupDatabaseResponse.data).
  const size_t chunk_bytes_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_OPERATIONS_SERVICE_H_
