#ifndef ATS_STORAGE_SQL_TRANSACTION_H_
#define ATS_STORAGE_SQL_TRANSACTION_H_

#include "storage/sealer.h"
#include "storage/sql/account_repository.h"
#include "storage/sql/application_repository.h"
#include "storage/sql/bulk_operation_repository.h"
#include "storage/sql/candidate_repository.h"
#include "storage/sql/event_repository.h"
#include "storage/sql/integration_repository.h"
#include "storage/sql/job_repository.h"
#include "storage/sql/request_log.h"
#include "storage/sql/session.h"
#include "storage/sql/template_repository.h"
#include "storage/store.h"

namespace ats::storage::sql {

// The repositories of one transaction, all on the session its backend
// opened it on.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(Session& db, const Sealer& sealer)
      : accounts_(db, sealer),
        integrations_(db, sealer),
        requests_(db),
        templates_(db),
        jobs_(db),
        candidates_(db),
        applications_(db),
        events_(db),
        bulk_operations_(db) {}

  AccountRepository& accounts() override { return accounts_; }
  IntegrationRepository& integrations() override { return integrations_; }
  RequestLog& requests() override { return requests_; }
  TemplateRepository& templates() override { return templates_; }
  JobRepository& jobs() override { return jobs_; }
  CandidateRepository& candidates() override { return candidates_; }
  ApplicationRepository& applications() override { return applications_; }
  EventRepository& events() override { return events_; }
  BulkOperationRepository& bulk_operations() override {
    return bulk_operations_;
  }

 private:
  SqlAccountRepository accounts_;
  SqlIntegrationRepository integrations_;
  SqlRequestLog requests_;
  SqlTemplateRepository templates_;
  SqlJobRepository jobs_;
  SqlCandidateRepository candidates_;
  SqlApplicationRepository applications_;
  SqlEventRepository events_;
  SqlBulkOperationRepository bulk_operations_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_TRANSACTION_H_
