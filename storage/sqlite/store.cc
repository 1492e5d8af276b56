#include <utility>

#include "storage/sqlite/account_repository.h"
#include "storage/sqlite/application_repository.h"
#include "storage/sqlite/bulk_operation_repository.h"
#include "storage/sqlite/candidate_repository.h"
#include "storage/sqlite/database.h"
#include "storage/sqlite/event_repository.h"
#include "storage/sqlite/integration_repository.h"
#include "storage/sqlite/job_repository.h"
#include "storage/sqlite/request_log.h"
#include "storage/sqlite/template_repository.h"
#include "storage/store.h"

namespace ats::storage {
namespace {

// The repositories of one SQLite transaction, all on its connection.
class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(sqlite::Connection& db)
      : accounts_(db),
        integrations_(db),
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
  sqlite::SqliteAccountRepository accounts_;
  sqlite::SqliteIntegrationRepository integrations_;
  sqlite::SqliteRequestLog requests_;
  sqlite::SqliteTemplateRepository templates_;
  sqlite::SqliteJobRepository jobs_;
  sqlite::SqliteCandidateRepository candidates_;
  sqlite::SqliteApplicationRepository applications_;
  sqlite::SqliteEventRepository events_;
  sqlite::SqliteBulkOperationRepository bulk_operations_;
};

sqlite::Database::WriteFn OnConnection(Store::WorkFn work) {
  return [work = std::move(work)](sqlite::Connection& db) {
    SqliteTransaction transaction(db);
    return work(transaction);
  };
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<sqlite::Database> db)
      : db_(std::move(db)) {}

  void Write(WorkFn work, DoneFn done) override {
    db_->Write(OnConnection(std::move(work)), std::move(done));
  }

  absl::Status WriteAndWait(WorkFn work) override {
    return db_->WriteAndWait(OnConnection(std::move(work)));
  }

  absl::Status Read(const WorkFn& work) override {
    return db_->Read([&work](sqlite::Connection& db) {
      SqliteTransaction transaction(db);
      return work(transaction);
    });
  }

 private:
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteStoreOptions& options) {
  sqlite::DatabaseOptions db_options;
  db_options.path = options.path;
  db_options.reader_connections = options.reader_count;
  db_options.synchronous_full = options.synchronous_full;
  db_options.busy_timeout_ms = options.busy_timeout_ms;
  absl::StatusOr<std::unique_ptr<sqlite::Database>> db =
      sqlite::Database::Open(db_options);
  if (!db.ok()) return db.status();
  return std::make_unique<SqliteStore>(*std::move(db));
}

}  // namespace ats::storage
