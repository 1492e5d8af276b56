#include "storage/sqlite/move_ceiling.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "storage/delivery_destination.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"

namespace ats::storage::sqlite {
namespace {

// The ids of the seeded rows: 16 characters, like the server's.
constexpr char kAccount[] = "ceilingaccount00";
constexpr char kJob[] = "ceilingjob000000";
constexpr char kFirstStage[] = "ceilingstage0000";
constexpr std::array<const char*, 2> kTriggerStages = {"ceilingstage0001",
                                                       "ceilingstage0002"};
constexpr std::array<const char*, 2> kIntegrations = {"ceilingintegr001",
                                                      "ceilingintegr002"};
constexpr char kApiKey[] = "ceilingapikey000";
// Moves per transaction: what the server's writer commits at once under a
// load of 64 moves in flight.
constexpr int kMovesPerCommit = 64;

// Everything but the applications; fixed rows, so fixed SQL. The trigger
// specs and listings are opaque bytes here: only the server parses them.
constexpr char kSeedSql[] = R"sql(
INSERT INTO accounts (id, display_name, create_time)
  VALUES ('ceilingaccount00', 'Ceiling', 0);
INSERT INTO partners (id, sort_name, category, listing, create_time,
                      update_time, revision)
  VALUES ('ceilingpartner01', 'ceiling partner 1', 1, x'', 0, 0, 1),
         ('ceilingpartner02', 'ceiling partner 2', 1, x'', 0, 0, 1);
INSERT INTO integrations (account_id, id, partner_id, display_name, active,
                          activation_values, signing_secret,
                          signing_secret_create_time, create_time,
                          update_time, revision)
  VALUES ('ceilingaccount00', 'ceilingintegr001', 'ceilingpartner01',
          'Ceiling 1', 1, x'', 'whsec_ceiling', 0, 0, 0, 1),
         ('ceilingaccount00', 'ceilingintegr002', 'ceilingpartner02',
          'Ceiling 2', 1, x'', 'whsec_ceiling', 0, 0, 0, 1);
INSERT INTO jobs (account_id, id, title, description, state, template_id,
                  create_time, update_time, revision)
  VALUES ('ceilingaccount00', 'ceilingjob000000', 'Ceiling', '', 2, '', 0, 0,
          1);
INSERT INTO stages (account_id, id, job_id, display_name, position,
                    create_time)
  VALUES ('ceilingaccount00', 'ceilingstage0000', 'ceilingjob000000',
          'Applied', 0, 0),
         ('ceilingaccount00', 'ceilingstage0001', 'ceilingjob000000',
          'Screening', 1, 0),
         ('ceilingaccount00', 'ceilingstage0002', 'ceilingjob000000',
          'Interview', 2, 0);
INSERT INTO stage_triggers (account_id, id, stage_id, position,
                            integration_id, spec, create_time)
  VALUES ('ceilingaccount00', 'ceilingtrigger11', 'ceilingstage0001', 0,
          'ceilingintegr001', x'', 0),
         ('ceilingaccount00', 'ceilingtrigger12', 'ceilingstage0001', 1,
          'ceilingintegr002', x'', 0),
         ('ceilingaccount00', 'ceilingtrigger21', 'ceilingstage0002', 0,
          'ceilingintegr001', x'', 0),
         ('ceilingaccount00', 'ceilingtrigger22', 'ceilingstage0002', 1,
          'ceilingintegr002', x'', 0);
)sql";

std::string CandidateId(int index) {
  return absl::StrCat("ceilingc", absl::Dec(index, absl::kZeroPad8));
}

// Adds `count` candidates to the job's first stage, as AddCandidate leaves
// them: the candidate, its application and its first transition.
absl::Status SeedApplications(Connection& db, int count) {
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  for (int i = 0; i < count && status.ok(); ++i) {
    const std::string id = CandidateId(i);
    const std::string email = id + "@example.com";
    status = db.Prepare(
                   "INSERT INTO candidates (account_id, id, given_name, "
                   "family_name, email, email_key, phone, create_time, "
                   "update_time, revision) "
                   "VALUES (?1, ?2, 'Ada', 'Ceiling', ?3, ?3, '', 0, 0, 1)")
                 .Bind(1, kAccount)
                 .Bind(2, id)
                 .Bind(3, email)
                 .Run();
    if (status.ok()) {
      status = db.Prepare(
                     "INSERT INTO applications (account_id, job_id, "
                     "candidate_id, stage_id, stage_enter_time, entry_count, "
                     "create_time) VALUES (?1, ?2, ?3, ?4, 0, 1, 0)")
                   .Bind(1, kAccount)
                   .Bind(2, kJob)
                   .Bind(3, id)
                   .Bind(4, kFirstStage)
                   .Run();
    }
    if (status.ok()) {
      status = db.Prepare(
                     "INSERT INTO stage_transitions (account_id, job_id, "
                     "candidate_id, entry, from_stage_id, to_stage_id, time, "
                     "moved_by) VALUES (?1, ?2, ?3, 1, '', ?4, 0, ?5)")
                   .Bind(1, kAccount)
                   .Bind(2, kJob)
                   .Bind(3, id)
                   .Bind(4, kFirstStage)
                   .Bind(5, kApiKey)
                   .Run();
    }
  }
  if (status.ok()) status = db.Exec("COMMIT");
  return status;
}

// What MoveCandidate writes for one move of candidate `candidate` from
// stage `from` into trigger stage `to` (0 or 1), its entry number `entry`,
// at `now` (Unix microseconds). `sequence`
// numbers the events: their ids grow like the server's time-ordered ids,
// so the primary key index grows at its end as it does there.
absl::Status WriteMove(Connection& db, const std::string& candidate,
                       const char* from, int to, int64_t entry, int64_t now,
                       int64_t& sequence, const std::string& payload,
                       CeilingRows rows) {
  absl::Status status =
      db.Prepare(
            "UPDATE applications SET stage_id = ?4, stage_enter_time = ?5, "
            "entry_count = ?6 "
            "WHERE account_id = ?1 AND job_id = ?2 AND candidate_id = ?3")
          .Bind(1, kAccount)
          .Bind(2, kJob)
          .Bind(3, candidate)
          .Bind(4, kTriggerStages[to])
          .Bind(5, now)
          .Bind(6, entry)
          .Run();
  if (!status.ok()) return status;
  status = db.Prepare(
                 "INSERT INTO stage_transitions (account_id, job_id, "
                 "candidate_id, entry, from_stage_id, to_stage_id, time, "
                 "moved_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
               .Bind(1, kAccount)
               .Bind(2, kJob)
               .Bind(3, candidate)
               .Bind(4, entry)
               .Bind(5, from)
               .Bind(6, kTriggerStages[to])
               .Bind(7, now)
               .Bind(8, kApiKey)
               .Run();
  for (int i = 0; i < 2 && status.ok(); ++i) {
    // The trigger ids of the seed: ceilingtrigger{stage}{integration}.
    const std::string trigger = absl::StrCat("ceilingtrigger", to + 1, i + 1);
    const std::string id =
        absl::StrCat("ceil", absl::Dec(sequence++, absl::kZeroPad12));
    // A PENDING (2) stage-trigger (source 1) event for a partner: no webhook
    // URI, no bulk operation, no lease and no result yet.
    status =
        db.Prepare(
              "INSERT INTO events (account_id, id, state, state_reason, "
              "integration_id, webhook_uri, candidate_id, job_id, source, "
              "trigger_id, stage_id, stage_entry, bulk_operation_id, "
              "triggered_by, payload, create_time, due_time, update_time, "
              "attempt_count, lease_expire_time, result, destination) "
              "VALUES (?1, ?2, 2, '', ?3, '', ?4, ?5, 1, ?6, ?7, ?8, '', ?9, "
              "?10, ?11, ?11, ?11, 0, NULL, NULL, ?12)")
            .Bind(1, kAccount)
            .Bind(2, id)
            .Bind(3, kIntegrations[i])
            .Bind(4, candidate)
            .Bind(5, kJob)
            .Bind(6, trigger)
            .Bind(7, kTriggerStages[to])
            .Bind(8, entry)
            .Bind(9, kApiKey)
            .BindBlob(10, payload)
            .Bind(11, now)
            .Bind(12, DeliveryDestination(kAccount, kIntegrations[i], ""))
            .Run();
    if (!status.ok() || rows != CeilingRows::kMoveAndDelivery) continue;
    // Delivered at once: SENT (4) after one attempt, and the attempt.
    status = db.Prepare(
                   "UPDATE events SET state = 4, attempt_count = 1, "
                   "update_time = ?3 WHERE account_id = ?1 AND id = ?2")
                 .Bind(1, kAccount)
                 .Bind(2, id)
                 .Bind(3, now)
                 .Run();
    if (!status.ok()) break;
    status = db.Prepare(
                   "INSERT INTO delivery_attempts (account_id, event_id, "
                   "number, attempt_time, http_status, latency_micros, error, "
                   "partner_message) VALUES (?1, ?2, 1, ?3, 200, 1000, '', '')")
                 .Bind(1, kAccount)
                 .Bind(2, id)
                 .Bind(3, now)
                 .Run();
  }
  return status;
}

}  // namespace

absl::StatusOr<double> MeasureMoveCeiling(const std::string& path,
                                          int applications, int moves,
                                          int64_t payload_bytes,
                                          bool synchronous_full,
                                          CeilingRows rows) {
  if (applications < 1 || moves < 1) {
    return absl::InvalidArgumentError(
        "the ceiling needs applications and moves");
  }
  ConnectionOptions options;
  options.synchronous_full = synchronous_full;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(path, options);
  if (!opened.ok()) return opened.status();
  Connection& db = **opened;
  absl::Status status = ApplyMigrations(db);
  if (status.ok()) status = db.Exec("BEGIN IMMEDIATE");
  if (status.ok()) status = db.Exec(kSeedSql);
  if (status.ok()) status = db.Exec("COMMIT");
  if (status.ok()) status = SeedApplications(db, applications);
  if (!status.ok()) return status;

  const std::string payload(payload_bytes, 'x');
  std::vector<int64_t> entries(applications, 1);
  int64_t sequence = 0;
  const absl::Time start = absl::Now();
  for (int move = 0; move < moves && status.ok(); ++move) {
    if (move % kMovesPerCommit == 0) {
      if (move > 0) status = db.Exec("COMMIT");
      if (status.ok()) status = db.Exec("BEGIN IMMEDIATE");
      if (!status.ok()) break;
    }
    const int app = move % applications;
    const int64_t entry = ++entries[app];
    // Entry 2 goes into the first trigger stage, then back and forth.
    const int to = entry % 2;
    const char* from = entry == 2 ? kFirstStage : kTriggerStages[1 - to];
    status =
        WriteMove(db, CandidateId(app), from, to, entry,
                  absl::ToUnixMicros(absl::Now()), sequence, payload, rows);
  }
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok()) return status;
  return moves / absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace ats::storage::sqlite
