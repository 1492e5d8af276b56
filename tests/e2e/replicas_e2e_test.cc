// End to end, three replicas of the real ats-server on one PostgreSQL (the
// `postgres` fixture's cluster), delivering to the real partner-sink:
//   - a bulk trigger over 5,000 candidates survives a SIGKILL of the replica
//     creating its events and then of another mid-delivery: exactly one
//     event per candidate, every one delivered and verified, and no more
//     repeated deliveries than the killed replicas had under way;
//   - a rolling restart of all three under a move load loses no
//     acknowledged move;
//   - PostgreSQL itself stopped and started again under a move load: calls
//     fail UNAVAILABLE meanwhile, the replicas recover by themselves, and
//     no acknowledged move is lost.

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/delivery/sink_process.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif

namespace ats::testing {
namespace {

constexpr char kServerBin[] = ATS_SERVER_BIN;
constexpr int kReplicas = 3;
// Deliveries one replica may have under way (--dispatch_in_flight, plus the
// one each destination may always start); a kill may leave these to repeat,
// and as many answered ones whose record had not committed.
constexpr int kInFlight = 32;
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kFinishTimeout = absl::Seconds(240);
constexpr int kCallSeconds = 60;

// One replica: its process, and stubs on its port.
struct Replica {
  std::optional<ChildProcess> process;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations;
  // Shared with the calls of a move load, which go on while the replica
  // restarts and gets a new one (see ReplicasE2eTest::JobsOf).
  std::shared_ptr<ats::v1::JobService::Stub> jobs;
};

class ReplicasE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    absl::StatusOr<std::string> uri = CreateTestDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
    replicas_.resize(kReplicas);
  }

  // Starts replica `i` on the shared database: small bulk batches (so an
  // operation takes many writes), short leases and quick retries.
  void Start(int i) {
    const int port = PickFreeLoopbackPort();
    auto process = ChildProcess::StartListening(
        {kServerBin, absl::StrCat("--listen=127.0.0.1:", port),
         "--db=" + uri_, "--key_dir=" + dir_.path(),
         "--secrets_key_file=" + dir_.File("ats.secrets.key"),
         "--db_connections=4", "--shutdown_grace=5s", "--log_level=warn",
         "--bulk_batch_size=25", absl::StrCat("--dispatch_in_flight=", kInFlight),
         "--retry_schedule=0s,100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s",
         "--dispatch_lease=2s", "--delivery_timeout=1s", "--rate_limit=0",
         "--allowed_destination_networks=127.0.0.0/8,::1/128"},
        port, kStartTimeout);
    ASSERT_TRUE(process.ok()) << "cannot start replica " << i << ": "
                              << process.status();
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    Replica& replica = replicas_[i];
    replica.process = *std::move(process);
    replica.integrations = ats::v1::IntegrationService::NewStub(channel);
    absl::MutexLock lock(&stubs_mu_);
    replica.jobs = ats::v1::JobService::NewStub(channel);
  }

  // Replica `i`'s JobService stub, for a thread that calls it while the
  // replica may restart: the stub, and its channel, outlive the call.
  std::shared_ptr<ats::v1::JobService::Stub> JobsOf(int i) {
    absl::MutexLock lock(&stubs_mu_);
    return replicas_[i].jobs;
  }

  // Starts the partner sink and every replica, and connects the sink's
  // partner (integration_).
  void StartAll() {
    auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
    ASSERT_TRUE(sink.ok()) << sink.status();
    partner_ = *std::move(sink);
    // The first bootstraps the database (and writes the key files); the
    // others find it done.
    for (int i = 0; i < kReplicas; ++i) {
      Start(i);
      if (::testing::Test::HasFatalFailure()) return;
    }
    operator_key_ = ReadKey("ats.operator.key");
    admin_key_ = ReadKey("ats.admin.key");
    const absl::StatusOr<std::string> integration = ConnectSinkPartner(
        *replicas_[0].integrations, operator_key_, admin_key_, *partner_);
    ASSERT_TRUE(integration.ok()) << integration.status();
    integration_ = *integration;
  }

  // Stops every replica with SIGTERM, expecting each to exit cleanly.
  void StopAll() {
    for (Replica& replica : replicas_) {
      EXPECT_EQ(replica.process->Stop(SIGTERM, absl::Seconds(20)), 0) << Logs();
    }
  }

  std::string ReadKey(const std::string& name) {
    std::ifstream in(dir_.File(name));
    std::string key;
    std::getline(in, key);
    return key;
  }

  std::string Logs() {
    std::string logs;
    for (int i = 0; i < kReplicas; ++i) {
      if (replicas_[i].process.has_value()) {
        absl::StrAppend(&logs, "--- replica ", i, ":\n",
                        replicas_[i].process->Log());
      }
    }
    return logs;
  }

  // Creates `count` candidates, spread over the replicas by 12 clients.
  std::vector<std::string> CreateCandidates(int count) {
    std::vector<std::string> names(count);
    std::vector<std::thread> clients;
    std::atomic<int> next{0};
    for (int c = 0; c < 12; ++c) {
      clients.emplace_back([&, c] {
        ats::v1::JobService::Stub& jobs = *replicas_[c % kReplicas].jobs;
        for (int i = next++; i < count; i = next++) {
          ats::v1::CreateCandidateRequest create;
          create.mutable_candidate()->set_given_name(
              absl::StrCat("Candidate ", i));
          create.set_request_id(absl::StrCat("create-", i));
          ats::v1::Candidate candidate;
          grpc::Status status = jobs.CreateCandidate(
              KeyContext(admin_key_, kCallSeconds).get(), create, &candidate);
          EXPECT_TRUE(status.ok()) << status.error_message() << Logs();
          if (!status.ok()) continue;
          names[i] = candidate.name();
        }
      });
    }
    for (std::thread& client : clients) client.join();
    return names;
  }

  // Waits until the sink has accepted `events` distinct events; returns
  // what it received.
  SinkReceived AwaitDeliveries(SinkProcess& sink, int64_t events) {
    SinkReceived received;
    const absl::Time deadline = absl::Now() + kFinishTimeout;
    while (absl::Now() < deadline) {
      auto now = sink.Received();
      EXPECT_TRUE(now.ok()) << now.status();
      if (!now.ok()) break;
      received = *std::move(now);
      if (received.accepted >= events) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return received;
  }

  // Creates job_, whose Assessment stage notifies integration_, and
  // `count` candidates_ in its Inbox.
  void SeedJob(int count) {
    absl::StatusOr<ats::v1::Job> created =
        CreateJobNotifying(*replicas_[0].jobs, admin_key_, integration_);
    ASSERT_TRUE(created.ok()) << created.status();
    job_ = *std::move(created);
    candidates_ = CreateCandidates(count);
    for (const std::string& candidate : candidates_) {
      ats::v1::AddCandidateToJobRequest add;
      add.set_job(job_.name());
      add.set_candidate(candidate);
      ats::v1::AddCandidateToJobResponse added;
      grpc::Status status = replicas_[0].jobs->AddCandidateToJob(
          KeyContext(admin_key_, kCallSeconds).get(), add, &added);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  // Four clients moving every candidate of a job into its Assessment
  // stage, each move sent to the next replica; a move that fails is sent
  // again, with its request_id, to the next one.
  class MoveLoad {
   public:
    MoveLoad(ReplicasE2eTest& test, const ats::v1::Job& job,
             const std::vector<std::string>& candidates)
        : assessment_(job.stages(1).name()) {
      for (int c = 0; c < 4; ++c) {
        clients_.emplace_back([&test, &job, &candidates, c, this] {
          int replica = c;
          for (size_t i = next_++; i < candidates.size(); i = next_++) {
            ats::v1::MoveCandidateRequest move;
            const std::string& candidate = candidates[i];
            move.set_name(absl::StrCat(job.name(), "/applications/",
                                       candidate.substr(candidate.find('/') + 1)));
            move.set_stage(assessment_);
            move.set_request_id(absl::StrCat("move-", i));
            Send(test, move, replica);
            absl::SleepFor(absl::Milliseconds(5));
          }
        });
      }
    }

    ~MoveLoad() { Finish(); }

    // Waits until every move was acknowledged (or given up on).
    void Finish() {
      for (std::thread& client : clients_) {
        if (client.joinable()) client.join();
      }
    }

    const std::string& assessment() const { return assessment_; }
    std::set<std::string> acknowledged() {
      absl::MutexLock lock(&mu_);
      return acknowledged_;
    }
    int retries() const { return retries_; }
    // Failures other than UNAVAILABLE and DEADLINE_EXCEEDED.
    int other_failures() {
      absl::MutexLock lock(&mu_);
      return other_failures_;
    }
    std::string first_other_failure() {
      absl::MutexLock lock(&mu_);
      return first_other_failure_;
    }

   private:
    void Send(ReplicasE2eTest& test, const ats::v1::MoveCandidateRequest& move,
              int& replica) {
      const absl::Time give_up = absl::Now() + kFinishTimeout;
      while (absl::Now() < give_up) {
        ats::v1::MoveCandidateResponse moved;
        grpc::Status status =
            test.JobsOf(replica++ % kReplicas)->MoveCandidate(
                KeyContext(test.admin_key_, 10).get(), move, &moved);
        if (status.ok()) {
          absl::MutexLock lock(&mu_);
          acknowledged_.insert(move.name());
          return;
        }
        ++retries_;
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
            status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
          absl::MutexLock lock(&mu_);
          if (other_failures_++ == 0) {
            first_other_failure_ = absl::StrCat(status.error_code(), ": ",
                                                status.error_message());
          }
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
    }

    const std::string assessment_;
    std::atomic<size_t> next_{0};
    std::atomic<int> retries_{0};
    absl::Mutex mu_;
    int other_failures_ ABSL_GUARDED_BY(mu_) = 0;
    std::set<std::string> acknowledged_ ABSL_GUARDED_BY(mu_);
    std::string first_other_failure_ ABSL_GUARDED_BY(mu_);
    std::vector<std::thread> clients_;
  };

  // Every move of `load`, one per candidate, was acknowledged, is there on
  // the last replica, and fired once at the partner.
  void ExpectEveryMoveKept(MoveLoad& load) {
    const size_t moves = candidates_.size();
    const std::set<std::string> acknowledged = load.acknowledged();
    EXPECT_EQ(acknowledged.size(), moves);
    for (const std::string& application : acknowledged) {
      ats::v1::GetApplicationRequest get;
      get.set_name(application);
      ats::v1::Application found;
      grpc::Status status = replicas_[kReplicas - 1].jobs->GetApplication(
          KeyContext(admin_key_, kCallSeconds).get(), get, &found);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(found.stage(), load.assessment()) << application;
    }
    const SinkReceived received =
        AwaitDeliveries(*partner_, static_cast<int64_t>(moves));
    EXPECT_EQ(received.accepted, static_cast<int64_t>(moves)) << Logs();
  }

  TempDir dir_;
  std::string uri_;
  std::vector<Replica> replicas_;
  // Guards each replica's `jobs` stub, which Start replaces.
  absl::Mutex stubs_mu_;
  std::string operator_key_;
  std::string admin_key_;
  std::unique_ptr<SinkProcess> partner_;
  std::string integration_;
  ats::v1::Job job_;
  std::vector<std::string> candidates_;
};

TEST_F(ReplicasE2eTest, BulkTriggerSurvivesKilledReplicasWithOneEventPerCandidate) {
  constexpr int kCandidates = 5000;
  StartAll();
  ASSERT_FALSE(HasFatalFailure());
  SinkProcess& partner = *partner_;
  const std::vector<std::string> created = CreateCandidates(kCandidates);
  const std::set<std::string> candidates(created.begin(), created.end());
  ASSERT_EQ(candidates.size(), static_cast<size_t>(kCandidates));

  // Replica 0 starts the operation and dies while it creates events.
  ats::v1::BulkTriggerIntegrationRequest bulk;
  bulk.set_integration(integration_);
  bulk.mutable_selection()->set_all_candidates(true);
  bulk.set_request_id("everyone");
  ats::v1::BulkOperation progress;
  {
    auto context = KeyContext(admin_key_, kCallSeconds);
    auto reader =
        replicas_[0].integrations->BulkTriggerIntegration(context.get(), bulk);
    while (reader->Read(&progress) && progress.created_count() == 0) {
    }
    replicas_[0].process->Kill();
    reader->Finish();
  }
  ASSERT_GT(progress.created_count(), 0) << Logs();
  EXPECT_LT(progress.created_count(), kCandidates)
      << "the operation ended before the kill; the test proves little";

  // Replica 1 dies mid-delivery, once the partner has part of the events.
  const absl::Time deadline = absl::Now() + kFinishTimeout;
  while (absl::Now() < deadline) {
    auto received = partner.Received();
    ASSERT_TRUE(received.ok()) << received.status();
    if (received->accepted > 200) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  replicas_[1].process->Kill();

  // Replica 2 takes the operation over and finishes it...
  ats::v1::GetBulkOperationRequest get;
  get.set_name(progress.name());
  ats::v1::BulkOperation done;
  while (absl::Now() < deadline) {
    grpc::Status status = replicas_[2].integrations->GetBulkOperation(
        KeyContext(admin_key_, kCallSeconds).get(), get, &done);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (done.state() != ats::v1::BULK_OPERATION_STATE_RUNNING) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason() << Logs();
  EXPECT_EQ(done.total_count(), kCandidates);
  EXPECT_EQ(done.created_count(), kCandidates);

  // ...and delivers every event, including those the dead left leased.
  const SinkReceived received = AwaitDeliveries(partner, kCandidates);
  EXPECT_EQ(received.rejected, 0) << partner.Log();
  ASSERT_EQ(received.accepted, kCandidates) << Logs();
  std::map<std::string, int> events_per_candidate;
  for (const auto& [event_id, body] : received.bodies) {
    ats::v1::PartnerEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &event).ok())
        << body;
    ++events_per_candidate[event.candidate().name()];
  }
  std::set<std::string> reached;
  for (const auto& [candidate, events] : events_per_candidate) {
    EXPECT_EQ(events, 1) << candidate << " got several events";
    reached.insert(candidate);
  }
  EXPECT_EQ(reached, candidates);
  // Each killed replica may leave to repeat its deliveries under way (up to
  // kInFlight, one more for a destination with none) and those answered
  // whose record had not committed (fewer than kInFlight before it claims
  // again).
  EXPECT_LE(received.duplicates, 2 * (2 * kInFlight + 1));
  std::printf(
      "replicas: %lld of %d events created before the first kill; %zu "
      "candidates reached, %zu events received (distinct ids), %lld "
      "deliveries, %lld of them repeated\n",
      static_cast<long long>(progress.created_count()), kCandidates,
      reached.size(), received.bodies.size(),
      static_cast<long long>(received.accepted + received.duplicates),
      static_cast<long long>(received.duplicates));
  EXPECT_EQ(replicas_[2].process->Stop(SIGTERM, absl::Seconds(20)), 0)
      << Logs();
}

TEST_F(ReplicasE2eTest, RollingRestartUnderMovesLosesNoAcknowledgedMove) {
  StartAll();
  ASSERT_FALSE(HasFatalFailure());
  SeedJob(300);
  ASSERT_FALSE(HasFatalFailure());

  MoveLoad load(*this, job_, candidates_);
  // Meanwhile each replica in turn stops (SIGTERM: it drains its calls) and
  // starts again.
  for (int i = 0; i < kReplicas; ++i) {
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_EQ(replicas_[i].process->Stop(SIGTERM, absl::Seconds(20)), 0)
        << Logs();
    Start(i);
    ASSERT_FALSE(HasFatalFailure());
  }
  load.Finish();
  ExpectEveryMoveKept(load);
  std::printf("rolling restart: %zu moves, %d sent again after a refusal\n",
              candidates_.size(), load.retries());
  StopAll();
}

TEST_F(ReplicasE2eTest, PostgresOutageUnderMovesLosesNoAcknowledgedMove) {
  // A cluster of the test's own: stopping the shared one would stop others.
  auto cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto uri = (*cluster)->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status();
  uri_ = *uri;
  StartAll();
  ASSERT_FALSE(HasFatalFailure());
  SeedJob(200);
  ASSERT_FALSE(HasFatalFailure());

  MoveLoad load(*this, job_, candidates_);
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE((*cluster)->StopServer().ok());
  absl::SleepFor(absl::Seconds(2));
  ASSERT_TRUE((*cluster)->StartServer().ok());
  load.Finish();
  ExpectEveryMoveKept(load);
  // What clients saw while the database was down: UNAVAILABLE (or their
  // deadline), never an error that would tell them not to retry.
  EXPECT_EQ(load.other_failures(), 0) << load.first_other_failure();
  std::printf("outage: %zu moves, %d sent again after UNAVAILABLE\n",
              candidates_.size(), load.retries());
  StopAll();
}

}  // namespace
}  // namespace ats::testing
