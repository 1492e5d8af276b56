// OperationsService.BackupDatabase through the real server: the streamed
// bytes are the whole database, sealed secrets stay sealed in them, and a
// cancelled call leaves nothing behind. The backup under a move load, and
// restoring one, are tests/e2e/backup_e2e_test.cc.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"
#include "tests/support/files.h"
#include "tests/support/sqlite_file.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {
namespace {

// What a BackupDatabase call returned.
struct Backup {
  grpc::Status status;
  std::vector<ats::v1::BackupDatabaseResponse> messages;
  std::string bytes;
};

Backup TakeBackup(TestServer& server, const std::string& key) {
  auto context = TestServer::Context(key);
  auto reader = server.operations()->BackupDatabase(
      context.get(), ats::v1::BackupDatabaseRequest());
  Backup backup;
  for (ats::v1::BackupDatabaseResponse message; reader->Read(&message);) {
    backup.bytes += message.data();
    backup.messages.push_back(std::move(message));
  }
  backup.status = reader->Finish();
  return backup;
}

// Names of the files in `dir` that a backup would create.
std::vector<std::string> BackupFilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".backup-") != std::string::npos) names.push_back(name);
  }
  return names;
}

TEST(OperationsServiceTest, BackupStreamsTheWholeDatabase) {
  TestServer server;
  ats::v1::CreateCandidateRequest create;
  create.mutable_candidate()->set_given_name("Backed");
  create.mutable_candidate()->set_family_name("Up");
  ats::v1::Candidate candidate;
  ASSERT_TRUE(
      server.jobs()
          ->CreateCandidate(TestServer::Context(server.recruiter_key()).get(),
                            create, &candidate)
          .ok());

  const Backup backup = TakeBackup(server, server.operator_key());
  ASSERT_TRUE(backup.status.ok()) << backup.status.error_message();
  ASSERT_FALSE(backup.messages.empty());
  for (size_t i = 0; i < backup.messages.size(); ++i) {
    const ats::v1::BackupDatabaseResponse& message = backup.messages[i];
    EXPECT_EQ(message.total_bytes(), static_cast<int64_t>(backup.bytes.size()));
    EXPECT_LE(message.data().size(), 768u * 1024u);
    if (i + 1 < backup.messages.size()) {
      EXPECT_EQ(message.data().size() % 3, 0u) << "message " << i;
    }
  }

  TempDir dir;
  const std::string path = dir.File("backup.db");
  std::ofstream(path, std::ios::binary) << backup.bytes;
  SqliteFile file(path);
  EXPECT_EQ(file.Column("PRAGMA integrity_check"),
            std::vector<std::string>{"ok"});
  EXPECT_EQ(file.Column("SELECT 'candidates/' || id FROM candidates "
                        "WHERE given_name = 'Backed'"),
            std::vector<std::string>{candidate.name()});
  EXPECT_EQ(BackupFilesIn(server.dir()), std::vector<std::string>());
}

TEST(OperationsServiceTest, SealedSecretsStaySealedInTheBackup) {
  TestServer server;
  ats::v1::RotateWebhookSigningSecretRequest rotate;
  rotate.set_name(server.account());
  ats::v1::RotateWebhookSigningSecretResponse rotated;
  ASSERT_TRUE(
      server.accounts()
          ->RotateWebhookSigningSecret(
              TestServer::Context(server.admin_key()).get(), rotate, &rotated)
          .ok());
  const std::string secret = rotated.signing_secret();
  ASSERT_GT(secret.size(), 20u);

  const Backup backup = TakeBackup(server, server.operator_key());
  ASSERT_TRUE(backup.status.ok()) << backup.status.error_message();
  // Neither the secret, nor its base64 body, nor the key that seals it.
  EXPECT_EQ(backup.bytes.find(secret), std::string::npos);
  EXPECT_EQ(backup.bytes.find(secret.substr(secret.find('_') + 1)),
            std::string::npos);
  const std::string key = ReadFile(server.dir() + "/ats.secrets.key");
  ASSERT_EQ(key.size(), 32u);
  EXPECT_EQ(backup.bytes.find(key), std::string::npos);
}

TEST(OperationsServiceTest, CancelledBackupLeavesNothingBehind) {
  TestServer server;
  auto context = TestServer::Context(server.operator_key());
  auto reader = server.operations()->BackupDatabase(
      context.get(), ats::v1::BackupDatabaseRequest());
  context->TryCancel();
  for (ats::v1::BackupDatabaseResponse message; reader->Read(&message);) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The next backup works, whatever the cancelled one is still doing.
  EXPECT_TRUE(TakeBackup(server, server.operator_key()).status.ok());

  // The server ends a cancelled call on a thread of its own: once every call
  // has ended, no copy is left behind.
  server.Shutdown();
  EXPECT_EQ(BackupFilesIn(server.dir()), std::vector<std::string>());
}

TEST(OperationsServiceTest, OnlyOperatorsTakeBackups) {
  TestServer server;
  const Backup backup = TakeBackup(server, server.admin_key());
  EXPECT_EQ(backup.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(backup.bytes.empty());
}

TEST(OperationsServiceTest, HealthServiceReportsOnIt) {
  TestServer server;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("ats.v1.OperationsService");
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      grpc::health::v1::Health::NewStub(server.channel())
          ->Check(TestServer::Context("").get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace ats::testing
