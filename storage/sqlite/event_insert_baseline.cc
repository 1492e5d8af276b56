#include "storage/sqlite/event_insert_baseline.h"

#include <memory>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/delivery_destination.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"

namespace ats::storage::sqlite {
namespace {

constexpr char kWebhookUri[] = "http://127.0.0.1:8090/webhooks";

// An id in the form of the server's resource ids: 16 characters of [a-z2-7].
// Nobody has to guess these, so a fast generator will do.
std::string RandomId(std::mt19937_64& random) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string id(16, 'a');
  for (char& c : id) c = kAlphabet[random() % 32];
  return id;
}

// An event id as the server makes them (NewTimeOrderedId): later ids sort
// later, so the index on them grows at its end. `sequence` stands in for
// the time.
std::string OrderedId(int sequence, std::mt19937_64& random) {
  std::string id = RandomId(random);
  const std::string prefix = absl::StrCat(absl::Dec(sequence, absl::kZeroPad9));
  return id.replace(0, prefix.size(), prefix);
}

}  // namespace

absl::StatusOr<int64_t> AverageEventPayloadBytes(const std::string& path) {
  ConnectionOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, options);
  if (!db.ok()) return db.status();
  Statement& average = (*db)->Prepare(
      "SELECT CAST(avg(length(payload)) AS INTEGER) FROM events");
  absl::StatusOr<bool> row = average.Step();
  if (!row.ok()) return row.status();
  // avg() over no rows is NULL, which reads as 0.
  return *row ? average.ColumnInt64(0) : 0;
}

absl::StatusOr<absl::Duration> TimeEventInserts(const std::string& path,
                                                int rows, int64_t payload_bytes,
                                                bool synchronous_full) {
  ConnectionOptions options;
  options.synchronous_full = synchronous_full;
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, options);
  if (!db.ok()) return db.status();
  absl::Status status = ApplyMigrations(**db);
  // The rows reference no account or integration rows.
  if (status.ok()) status = (*db)->Exec("PRAGMA foreign_keys = OFF");
  if (!status.ok()) return status;
  std::mt19937_64 random{std::random_device{}()};
  const std::string account = RandomId(random);
  const std::string integration = RandomId(random);
  const std::string candidate = RandomId(random);
  const std::string payload(payload_bytes, 'x');
  const std::string destination =
      DeliveryDestination(account, integration, kWebhookUri);

  const absl::Time start = absl::Now();
  status = (*db)->Exec("BEGIN IMMEDIATE");
  for (int i = 0; i < rows && status.ok(); ++i) {
    const int64_t now = absl::ToUnixMicros(absl::Now());
    status =
        (*db)
            ->Prepare(
                "INSERT INTO events (account_id, id, state, state_reason, "
                "integration_id, webhook_uri, candidate_id, job_id, source, "
                "trigger_id, stage_id, stage_entry, bulk_operation_id, "
                "triggered_by, payload, create_time, due_time, update_time, "
                "attempt_count, destination) VALUES (?1, ?2, 2, '', ?3, ?9, "
                "?4, '', 2, '', '', 0, ?5, ?6, ?7, ?8, ?8, ?8, 0, ?10)")
            .Bind(1, account)
            .Bind(2, OrderedId(i, random))
            .Bind(3, integration)
            .Bind(4, candidate)
            .Bind(5, integration)
            .Bind(6, account)
            .BindBlob(7, payload)
            .Bind(8, now)
            .Bind(9, kWebhookUri)
            .Bind(10, destination)
            .Run();
  }
  if (status.ok()) status = (*db)->Exec("COMMIT");
  if (!status.ok()) return status;
  return absl::Now() - start;
}

}  // namespace ats::storage::sqlite
