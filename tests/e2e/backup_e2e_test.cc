// End to end, online backup and restore: the real ats-server under a load of
// MoveCandidate calls from several threads, backed up by the real ats-admin
// meanwhile. The backup must open, pass SQLite's integrity_check and hold
// every move acknowledged before it began (its stage entry and its event);
// a server started on it must serve that data; and without the secrets key
// file, which is not part of the backup, it must refuse to start.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "ats/v1/operations_service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/sqlite_file.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif
#ifndef ATS_ADMIN_BIN
#error "ATS_ADMIN_BIN must name the ats-admin binary"
#endif

namespace ats::testing {
namespace {

constexpr int kMovers = 4;
constexpr int kCandidatesPerMover = 5;
// Moves acknowledged before the backup starts, and after it ends, at least.
constexpr int kMovesBefore = 100;
constexpr int kMovesAfter = 20;
// Small, so that the backup comes in many messages (the rest of the calls
// are far smaller).
constexpr int kMaxMessageBytes = 65536;
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kLoadTimeout = absl::Seconds(120);
constexpr int kCallSeconds = 30;

// One acknowledged move: the stage entered and the events it created.
struct Move {
  std::string stage;
  std::vector<std::string> events;
};

// An application the load moves, with the moves acknowledged so far.
struct Application {
  std::string job_id;
  std::string candidate_id;
  std::string name;
  std::vector<Move> moves;
};

// The last path segment of a resource name: "jobs/j/stages/s" gives "s".
std::string IdOf(const std::string& name) {
  return std::vector<std::string>(absl::StrSplit(name, '/')).back();
}

class BackupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(ATS_SERVER_BIN, X_OK), 0);
    ASSERT_EQ(access(ATS_ADMIN_BIN, X_OK), 0);
  }
  void TearDown() override {
    stop_ = true;
    for (std::thread& mover : movers_) mover.join();
  }

  // Starts ats-server on `db` with `flags` besides the common ones; waits
  // until it listens on `*port`.
  std::optional<ChildProcess> StartServer(
      const std::string& db, int* port,
      const std::vector<std::string>& flags = {}) {
    *port = PickFreeLoopbackPort();
    std::vector<std::string> argv = {
        ATS_SERVER_BIN, absl::StrCat("--listen=127.0.0.1:", *port),
        "--db=" + db, "--log_level=warn", "--shutdown_grace=2s",
        // Events wait, PENDING: nothing leaves the machine.
        "--dispatch=false", "--rate_limit=0",
        "--allowed_destination_networks=127.0.0.0/8,::1/128"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto server = ChildProcess::StartListening(argv, *port, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << server.status();
      return std::nullopt;
    }
    return *std::move(server);
  }

  static std::shared_ptr<grpc::Channel> Channel(int port) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                               grpc::InsecureChannelCredentials());
  }

  // A job with stages A and B, each with a webhook trigger, and the
  // candidates the movers move, all in A.
  void CreateApplications(ats::v1::JobService::Stub& jobs) {
    ats::v1::CreateJobRequest create_job;
    create_job.set_skip_template(true);
    create_job.mutable_job()->set_title("Backed up");
    create_job.mutable_job()->set_state(ats::v1::JOB_STATE_OPEN);
    for (const char* name : {"A", "B"}) {
      ats::v1::Stage* stage = create_job.mutable_job()->add_stages();
      stage->set_display_name(name);
      stage->add_triggers()->mutable_webhook()->set_uri(
          "http://127.0.0.1:9/hooks");
    }
    grpc::Status status = jobs.CreateJob(
        KeyContext(admin_key_, kCallSeconds).get(), create_job, &job_);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (int i = 0; i < kMovers * kCandidatesPerMover; ++i) {
      ats::v1::CreateCandidateRequest create;
      create.mutable_candidate()->set_given_name(absl::StrCat("Candidate ", i));
      ats::v1::Candidate candidate;
      status = jobs.CreateCandidate(KeyContext(admin_key_, kCallSeconds).get(),
                                    create, &candidate);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ats::v1::AddCandidateToJobRequest add;
      add.set_job(job_.name());
      add.set_candidate(candidate.name());
      ats::v1::AddCandidateToJobResponse added;
      status = jobs.AddCandidateToJob(
          KeyContext(admin_key_, kCallSeconds).get(), add, &added);
      ASSERT_TRUE(status.ok()) << status.error_message();
      applications_.push_back({IdOf(job_.name()),
                               IdOf(candidate.name()),
                               added.application().name(),
                               {}});
    }
  }

  // Starts the movers: each moves its own applications between A and B,
  // one call at a time, and records every move acknowledged.
  void StartMoving(int port) {
    for (int m = 0; m < kMovers; ++m) {
      movers_.emplace_back([this, port, m] {
        auto jobs = ats::v1::JobService::NewStub(Channel(port));
        for (int round = 0; !stop_; ++round) {
          for (int c = 0; c < kCandidatesPerMover && !stop_; ++c) {
            Application& application =
                applications_[m * kCandidatesPerMover + c];
            ats::v1::MoveCandidateRequest move;
            move.set_name(application.name);
            move.set_stage(job_.stages(round % 2 == 0 ? 1 : 0).name());
            move.set_request_id(absl::StrCat("move-", m, "-", c, "-", round));
            ats::v1::MoveCandidateResponse moved;
            const grpc::Status status = jobs->MoveCandidate(
                KeyContext(admin_key_, kCallSeconds).get(), move, &moved);
            if (!status.ok()) {
              ADD_FAILURE() << "MoveCandidate: " << status.error_message();
              return;
            }
            Move acknowledged{move.stage(), {}};
            for (const ats::v1::Event& event : moved.events()) {
              acknowledged.events.push_back(event.name());
            }
            absl::MutexLock lock(&mu_);
            application.moves.push_back(std::move(acknowledged));
            ++acknowledged_;
          }
        }
      });
    }
  }

  // Waits until `count` moves are acknowledged in all; false on timeout or
  // once a mover has failed.
  bool WaitForMoves(int64_t count) {
    const absl::Time deadline = absl::Now() + kLoadTimeout;
    while (absl::Now() < deadline && !HasFailure()) {
      {
        absl::MutexLock lock(&mu_);
        if (acknowledged_ >= count) return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  // Each application's acknowledged moves so far.
  std::vector<std::vector<Move>> Acknowledged() {
    absl::MutexLock lock(&mu_);
    std::vector<std::vector<Move>> moves;
    for (const Application& application : applications_) {
      moves.push_back(application.moves);
    }
    return moves;
  }

  TempDir dir_;
  std::string admin_key_;
  ats::v1::Job job_;
  std::vector<Application> applications_;
  std::vector<std::thread> movers_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  int64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(BackupE2eTest, BackupUnderMovesHoldsEveryAcknowledgedMoveAndRestores) {
  int port = 0;
  std::optional<ChildProcess> server =
      StartServer(dir_.File("var/ats.db"), &port,
                  {absl::StrCat("--max_message_bytes=", kMaxMessageBytes)});
  ASSERT_TRUE(server.has_value());
  admin_key_ = ReadKey(dir_.File("var/ats.admin.key"));
  ASSERT_FALSE(admin_key_.empty());
  auto jobs = ats::v1::JobService::NewStub(Channel(port));
  // A sealed secret, which the restored server must be able to open.
  auto account_stub = ats::v1::AccountService::NewStub(Channel(port));
  ats::v1::ListAccountsResponse accounts;
  ASSERT_TRUE(
      account_stub
          ->ListAccounts(KeyContext(ReadKey(dir_.File("var/ats.operator.key")),
                                    kCallSeconds)
                             .get(),
                         {}, &accounts)
          .ok());
  ASSERT_EQ(accounts.accounts_size(), 1);
  const std::string account_name = accounts.accounts(0).name();
  ats::v1::RotateWebhookSigningSecretRequest rotate;
  rotate.set_name(account_name);
  ats::v1::RotateWebhookSigningSecretResponse rotated;
  ASSERT_TRUE(
      account_stub
          ->RotateWebhookSigningSecret(
              KeyContext(admin_key_, kCallSeconds).get(), rotate, &rotated)
          .ok());
  CreateApplications(*jobs);
  ASSERT_FALSE(HasFailure());

  StartMoving(port);
  ASSERT_TRUE(WaitForMoves(kMovesBefore));
  const std::vector<std::vector<Move>> before = Acknowledged();
  const std::string backup = dir_.File("ats-backup.db");
  const CommandResult taken =
      RunCommand({ATS_ADMIN_BIN, "--server", absl::StrCat("127.0.0.1:", port),
                  "--key-dir", dir_.File("var"), "backup", "--to", backup},
                 kLoadTimeout);
  ASSERT_EQ(taken.exit_code, 0) << taken.out << taken.err << server->Log();
  int64_t moves_before = 0;
  for (const auto& moves : before) moves_before += moves.size();
  {
    absl::MutexLock lock(&mu_);
    std::printf(
        "backup e2e: %lld moves acknowledged before the backup, "
        "%lld more while ats-admin took it\n",
        static_cast<long long>(moves_before),
        static_cast<long long>(acknowledged_ - moves_before));
  }
  // The load goes on after it.
  ASSERT_TRUE(WaitForMoves(moves_before + kMovesAfter + kMovers));
  stop_ = true;
  for (std::thread& mover : movers_) mover.join();
  movers_.clear();
  EXPECT_EQ(FileMode(backup), 0600);

  {
    SqliteFile file(backup);
    EXPECT_EQ(file.Column("PRAGMA integrity_check"),
              std::vector<std::string>{"ok"});
    for (size_t i = 0; i < applications_.size(); ++i) {
      const Application& application = applications_[i];
      SCOPED_TRACE(application.name);
      // Entry 1 is the candidate's addition to the job, in A.
      const std::vector<std::string> entered = file.Column(
          "SELECT to_stage_id FROM stage_transitions "
          "WHERE job_id = ? AND candidate_id = ? ORDER BY entry",
          {application.job_id, application.candidate_id});
      ASSERT_GE(entered.size(), before[i].size() + 1);
      for (size_t m = 0; m < before[i].size(); ++m) {
        EXPECT_EQ(entered[m + 1], IdOf(before[i][m].stage)) << "move " << m;
        ASSERT_FALSE(before[i][m].events.empty());
        for (const std::string& event : before[i][m].events) {
          EXPECT_EQ(file.Column("SELECT count(*) FROM events WHERE id = ?",
                                {IdOf(event)}),
                    std::vector<std::string>{"1"})
              << event;
        }
      }
    }
  }
  // The messages stay within the server's --max_message_bytes, each but
  // the last a multiple of 3 bytes.
  auto operations = ats::v1::OperationsService::NewStub(Channel(port));
  auto context =
      KeyContext(ReadKey(dir_.File("var/ats.operator.key")), kCallSeconds);
  auto reader = operations->BackupDatabase(context.get(), {});
  std::vector<size_t> sizes;
  for (ats::v1::BackupDatabaseResponse piece; reader->Read(&piece);) {
    sizes.push_back(piece.data().size());
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_GT(sizes.size(), 1u);
  for (size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_LT(sizes[i], static_cast<size_t>(kMaxMessageBytes));
    if (i + 1 < sizes.size()) {
      EXPECT_EQ(sizes[i] % 3, 0u) << "message " << i;
    }
  }
  EXPECT_EQ(server->Stop(), 0) << server->Log();

  // Without the secrets key file the backup's sealed secrets cannot open:
  // the server refuses to start, and says why.
  const std::string keyless = dir_.File("keyless/ats.db");
  std::filesystem::create_directories(dir_.File("keyless"));
  std::filesystem::copy_file(backup, keyless);
  const CommandResult refused =
      RunCommand({ATS_SERVER_BIN, "--listen=127.0.0.1:0", "--db=" + keyless},
                 kLoadTimeout);
  const std::string said = refused.out + refused.err;
  EXPECT_NE(refused.exit_code, 0) << said;
  EXPECT_NE(said.find("--secrets_key_file"), std::string::npos) << said;

  // Restore: start on the backup itself, with the key file.
  int restored_port = 0;
  std::optional<ChildProcess> restored =
      StartServer(backup, &restored_port,
                  {"--secrets_key_file=" + dir_.File("var/ats.secrets.key")});
  ASSERT_TRUE(restored.has_value());
  auto restored_jobs = ats::v1::JobService::NewStub(Channel(restored_port));
  for (size_t i = 0; i < applications_.size(); ++i) {
    const Application& application = applications_[i];
    SCOPED_TRACE(application.name);
    ats::v1::GetApplicationRequest get;
    get.set_name(application.name);
    ats::v1::Application served;
    const grpc::Status status = restored_jobs->GetApplication(
        KeyContext(admin_key_, kCallSeconds).get(), get, &served);
    ASSERT_TRUE(status.ok()) << status.error_message() << restored->Log();
    ASSERT_GE(served.history_size(), static_cast<int>(before[i].size()) + 1);
    for (size_t m = 0; m < before[i].size(); ++m) {
      EXPECT_EQ(served.history(static_cast<int>(m) + 1).to_stage(),
                before[i][m].stage);
    }
  }
  ats::v1::GetAccountRequest get_account;
  get_account.set_name(account_name);
  ats::v1::Account account;
  ASSERT_TRUE(ats::v1::AccountService::NewStub(Channel(restored_port))
                  ->GetAccount(KeyContext(admin_key_, kCallSeconds).get(),
                               get_account, &account)
                  .ok());
  EXPECT_TRUE(account.has_webhook_signing_secret_create_time());
  EXPECT_EQ(restored->Stop(), 0) << restored->Log();
}

}  // namespace
}  // namespace ats::testing
