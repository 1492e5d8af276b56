// Secrets sealed at rest in a real SQLite store: nothing readable in the
// database file, its WAL or a copy; plaintext databases migrated in place;
// wrong or missing keys refused; keys rotated.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "storage/files.h"
#include "storage/sealer.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
// Known secrets, long and unusual enough that a match cannot be chance.
const std::string kAccountSecret =
    "whsec_QWNjb3VudFNlY3JldEtub3duVG9UaGVUZXN0MTIzNDU2Nzg=";
const std::string kIntegrationSecret =
    "whsec_SW50ZWdyYXRpb25TZWNyZXRLbm93blRvVGhlVGVzdDEyMzQ=";
const std::string kActivationSecret = "partner-api-key-7f3a9c1e5b2d8046";

std::string FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Returns the files among `paths` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::vector<std::string>& paths,
                                         const std::string& needle) {
  std::vector<std::string> found;
  for (const std::string& path : paths) {
    if (FileContents(path).find(needle) != std::string::npos) {
      found.push_back(path);
    }
  }
  return found;
}

unsigned ModeOf(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

PartnerRow Partner() {
  PartnerRow row;
  row.id = "partner-1";
  row.listing.set_display_name("Assess");
  row.listing.set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
  row.listing.set_webhook_uri("https://partner.example/hook");
  row.create_time = row.update_time = kT0;
  return row;
}

IntegrationRow Integration(const std::string& account, const std::string& id) {
  IntegrationRow row;
  row.account_id = account;
  row.id = id;
  row.partner_id = "partner-1";
  row.display_name = "Assess";
  row.activation_values = {{"api_key", kActivationSecret}, {"region", "eu"}};
  row.signing_secret = kIntegrationSecret;
  row.signing_secret_create_time = row.create_time = row.update_time = kT0;
  return row;
}

class SealedSecretsTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.File("var/ats.db"); }
  std::string default_key_path() const {
    return dir_.File("var/ats.secrets.key");
  }

  absl::StatusOr<std::unique_ptr<Store>> Open(
      const std::string& key_file = "",
      const std::vector<std::string>& old_key_files = {}) {
    SqliteStoreOptions options;
    options.path = db_path();
    options.secrets_key_file = key_file;
    options.secrets_old_key_files = old_key_files;
    return OpenSqliteStore(options);
  }

  // Two accounts with a webhook secret each, and an integration each.
  void AddSecrets(Store& store) {
    ASSERT_TRUE(store
                    .WriteAndWait([](Transaction& txn) {
                      absl::Status status = txn.accounts().InsertAccount(
                          {"acct-a", "A", kT0, kAccountSecret, kT0, ""});
                      if (status.ok()) {
                        status = txn.accounts().InsertAccount(
                            {"acct-b", "B", kT0, "", std::nullopt, ""});
                      }
                      if (status.ok()) {
                        status = txn.accounts().SetWebhookSigningSecret(
                            "acct-b", kAccountSecret + "b", kT0);
                      }
                      if (status.ok()) {
                        status = txn.integrations().InsertPartner(Partner());
                      }
                      if (status.ok()) {
                        status = txn.integrations().InsertIntegration(
                            Integration("acct-a", "int-a"));
                      }
                      if (!status.ok()) return status;
                      return txn.integrations().InsertIntegration(
                          Integration("acct-b", "int-b"));
                    })
                    .ok());
  }

  // Expects every secret AddSecrets (or WritePlaintextDatabase) stored to
  // read back as plaintext.
  void ExpectSecretsOpen(Store& store) {
    absl::Status status = store.Read([](Transaction& txn) {
      absl::StatusOr<AccountRow> a = txn.accounts().GetAccount("acct-a");
      if (!a.ok()) return a.status();
      EXPECT_EQ(a->webhook_signing_secret, kAccountSecret);
      absl::StatusOr<AccountRow> b = txn.accounts().GetAccount("acct-b");
      if (!b.ok()) return b.status();
      EXPECT_EQ(b->webhook_signing_secret, kAccountSecret + "b");
      absl::StatusOr<IntegrationRow> integration =
          txn.integrations().GetIntegration("acct-a", "int-a");
      if (!integration.ok()) return integration.status();
      EXPECT_EQ(integration->signing_secret, kIntegrationSecret);
      EXPECT_EQ(integration->activation_values,
                (std::map<std::string, std::string>{
                    {"api_key", kActivationSecret}, {"region", "eu"}}));
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
  }

  // Every file holding the database's bytes, plus a copy of the database
  // file taken while it is open.
  std::vector<std::string> DatabaseBytes() {
    const std::string copy = dir_.File("copy-of-ats.db");
    std::filesystem::copy_file(
        db_path(), copy, std::filesystem::copy_options::overwrite_existing);
    std::vector<std::string> files = DatabaseFiles(db_path());
    files.push_back(copy);
    return files;
  }

  void ExpectNoPlaintextIn(const std::vector<std::string>& files) {
    for (const std::string& secret :
         {kAccountSecret, kIntegrationSecret, kActivationSecret}) {
      EXPECT_EQ(FilesContaining(files, secret), std::vector<std::string>{})
          << secret;
    }
  }

  // Writes, as a server that did not seal would have, a database holding
  // AddSecrets's secrets in plaintext, and `replaced_secret` as a signing
  // secret since replaced and in a deleted integration (so only freed space
  // holds it).
  void WritePlaintextDatabase(const std::string& replaced_secret) {
    std::filesystem::create_directories(dir_.File("var"));
    auto db = sqlite::Connection::Open(db_path(), sqlite::ConnectionOptions());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(sqlite::ApplyMigrations(**db).ok());
    sqlite::Connection& c = **db;
    // As SQLite's default build: freed cells keep their bytes.
    ASSERT_TRUE(c.Exec("PRAGMA secure_delete = OFF").ok());
    const std::string partner = Partner().listing.SerializeAsString();
    ASSERT_TRUE(c.Prepare("INSERT INTO accounts (id, display_name, "
                          "create_time, webhook_signing_secret) VALUES "
                          "('acct-a', 'A', 1, ?1), ('acct-b', 'B', 2, ?2)")
                    .Bind(1, kAccountSecret)
                    .Bind(2, kAccountSecret + "b")
                    .Run()
                    .ok());
    ASSERT_TRUE(c.Prepare("INSERT INTO partners (id, sort_name, category, "
                          "listing, create_time, update_time, revision) "
                          "VALUES ('partner-1', 'assess', 1, ?1, 1, 1, 1)")
                    .BindBlob(1, partner)
                    .Run()
                    .ok());
    google::protobuf::Struct values;
    (*values.mutable_fields())["api_key"].set_string_value(kActivationSecret);
    (*values.mutable_fields())["region"].set_string_value("eu");
    for (const char* account : {"acct-a", "acct-b"}) {
      ASSERT_TRUE(
          c.Prepare("INSERT INTO integrations (account_id, id, partner_id, "
                    "display_name, active, activation_values, signing_secret, "
                    "signing_secret_create_time, create_time, update_time, "
                    "revision) VALUES (?1, ?2, 'partner-1', 'Assess', 1, ?3, "
                    "?4, 1, 1, 1, 1)")
              .Bind(1, std::string(account))
              .Bind(2, std::string(account) == "acct-a" ? "int-a" : "int-b")
              .BindBlob(3, values.SerializeAsString())
              .Bind(4, std::string(account) == "acct-a" ? replaced_secret
                                                        : kIntegrationSecret)
              .Run()
              .ok());
    }
    ASSERT_TRUE(c.Prepare("UPDATE integrations SET signing_secret = ?1 "
                          "WHERE id = 'int-a'")
                    .Bind(1, kIntegrationSecret)
                    .Run()
                    .ok());
    // An integration, long enough to take pages of its own, that was
    // deleted: its pages are free but keep their bytes.
    google::protobuf::Struct gone;
    (*gone.mutable_fields())["api_key"].set_string_value(
        replaced_secret + std::string(20000, '.'));
    ASSERT_TRUE(
        c.Prepare("INSERT INTO accounts (id, display_name, create_time) "
                  "VALUES ('acct-c', 'C', 3)")
            .Run()
            .ok());
    ASSERT_TRUE(
        c.Prepare("INSERT INTO integrations (account_id, id, partner_id, "
                  "display_name, active, activation_values, signing_secret, "
                  "signing_secret_create_time, create_time, update_time, "
                  "revision) VALUES ('acct-c', 'int-c', 'partner-1', 'A', 1, "
                  "?1, ?2, 1, 1, 1, 1)")
            .BindBlob(1, gone.SerializeAsString())
            .Bind(2, replaced_secret)
            .Run()
            .ok());
    ASSERT_TRUE(c.Exec("DELETE FROM integrations WHERE id = 'int-c'").ok());
  }

  // Returns the stored (sealed) values of the secret columns, but for empty
  // ones ("none").
  std::vector<std::string> StoredValues() {
    std::vector<std::string> values;
    auto db = sqlite::Connection::Open(db_path(), sqlite::ConnectionOptions());
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return values;
    for (const char* sql :
         {"SELECT webhook_signing_secret FROM accounts",
          "SELECT signing_secret FROM integrations",
          "SELECT activation_values FROM integrations"}) {
      sqlite::Statement& stmt = (*db)->Prepare(sql);
      while (*stmt.Step()) {
        if (!stmt.ColumnBlob(0).empty()) values.emplace_back(stmt.ColumnBlob(0));
      }
    }
    return values;
  }

  ::ats::testing::TempDir dir_;
};

TEST_F(SealedSecretsTest, NoSecretIsReadableInTheFileItsWalOrACopy) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  AddSecrets(**store);
  ExpectSecretsOpen(**store);
  // Open: the writes are in the WAL.
  ASSERT_GT(std::filesystem::file_size(db_path() + "-wal"), 0u);
  ExpectNoPlaintextIn(DatabaseBytes());
  store->reset();
  ExpectNoPlaintextIn(DatabaseBytes());
  for (const std::string& value : StoredValues()) {
    EXPECT_TRUE(Sealer::IsSealed(value)) << value;
  }
}

TEST_F(SealedSecretsTest, CreatesAPrivateKeyFileBesideTheDatabase) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ModeOf(default_key_path()), 0600u);
  EXPECT_EQ(std::filesystem::file_size(default_key_path()), kSealingKeyBytes);
}

TEST_F(SealedSecretsTest, AValueCopiedToAnotherRowDoesNotOpen) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    AddSecrets(**store);
  }
  {
    auto db = sqlite::Connection::Open(db_path(), sqlite::ConnectionOptions());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE integrations SET signing_secret = "
                            "(SELECT signing_secret FROM integrations "
                            "WHERE id = 'int-a') WHERE id = 'int-b'; "
                            "UPDATE accounts SET webhook_signing_secret = "
                            "(SELECT webhook_signing_secret FROM accounts "
                            "WHERE id = 'acct-a') WHERE id = 'acct-b'")
                    .ok());
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  absl::Status status = (*store)->Read([](Transaction& txn) {
    auto integration = txn.integrations().GetIntegration("acct-b", "int-b");
    EXPECT_EQ(integration.status().code(), absl::StatusCode::kDataLoss)
        << integration.status();
    auto account = txn.accounts().GetAccount("acct-b");
    EXPECT_EQ(account.status().code(), absl::StatusCode::kDataLoss)
        << account.status();
    // The rows they came from still open.
    EXPECT_TRUE(txn.integrations().GetIntegration("acct-a", "int-a").ok());
    EXPECT_TRUE(txn.accounts().GetAccount("acct-a").ok());
    // Reading an integration's state opens no secret, so firing triggers is
    // not stopped by one that does not open (its deliveries are).
    auto state = txn.integrations().GetIntegrationState("acct-b", "int-b");
    EXPECT_TRUE(state.ok()) << state.status();
    if (state.ok()) {
      EXPECT_EQ(state->id, "int-b");
      EXPECT_EQ(state->partner_id, "partner-1");
      EXPECT_TRUE(state->active);
      EXPECT_EQ(state->endpoint_disabled_reason, "");
    }
    EXPECT_EQ(txn.integrations()
                  .GetIntegrationState("acct-a", "int-b")
                  .status()
                  .code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(SealedSecretsTest, MigratesAPlaintextDatabaseAndLeavesNoOldBytes) {
  const std::string replaced = "whsec_UmVwbGFjZWRTZWNyZXRPbmx5SW5BRnJlZVBhZ2U=";
  WritePlaintextDatabase(replaced);
  // The fixture really wrote plaintext, in the file or its WAL.
  ASSERT_FALSE(FilesContaining(DatabaseFiles(db_path()), kActivationSecret)
                   .empty());
  ASSERT_FALSE(
      FilesContaining(DatabaseFiles(db_path()), replaced).empty());

  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectSecretsOpen(**store);
  std::vector<std::string> files = DatabaseBytes();
  ExpectNoPlaintextIn(files);
  EXPECT_EQ(FilesContaining(files, replaced), std::vector<std::string>{});
  store->reset();
  ExpectNoPlaintextIn(DatabaseBytes());
  for (const std::string& value : StoredValues()) {
    EXPECT_TRUE(Sealer::IsSealed(value)) << value;
  }
}

TEST_F(SealedSecretsTest, AWrongKeyFailsToOpenWithAClearMessage) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    AddSecrets(**store);
  }
  const std::string other = dir_.File("other.key");
  ASSERT_TRUE(CreateSealingKeyFile(other).ok());
  auto store = Open(other);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("sealed under key"),
            std::string::npos)
      << store.status();
  EXPECT_NE(store.status().message().find(other), std::string::npos)
      << store.status();
}

TEST_F(SealedSecretsTest, AMissingKeyFailsToOpenAndCreatesNoNewKey) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    AddSecrets(**store);
  }
  ASSERT_TRUE(std::filesystem::remove(default_key_path()));
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("does not exist"), std::string::npos)
      << store.status();
  EXPECT_FALSE(std::filesystem::exists(default_key_path()));
}

TEST_F(SealedSecretsTest, RotatesToANewKeyAndResealsEveryValue) {
  const std::string key_a = dir_.File("a.key");
  const std::string key_b = dir_.File("b.key");
  {
    auto store = Open(key_a);
    ASSERT_TRUE(store.ok()) << store.status();
    AddSecrets(**store);
  }
  const std::string id_a = ReadSealingKeyFile(key_a)->id;
  {
    // b.key does not exist yet: it is created, since a.key opens everything.
    auto store = Open(key_b, {key_a});
    ASSERT_TRUE(store.ok()) << store.status();
    ExpectSecretsOpen(**store);
  }
  const std::string id_b = ReadSealingKeyFile(key_b)->id;
  ASSERT_NE(id_a, id_b);
  for (const std::string& value : StoredValues()) {
    EXPECT_EQ(Sealer::KeyIdOf(value), id_b) << value;
  }
  {
    auto store = Open(key_b);
    ASSERT_TRUE(store.ok()) << store.status();
    ExpectSecretsOpen(**store);
  }
  EXPECT_FALSE(Open(key_a).ok());
}

TEST_F(SealedSecretsTest, AMissingOldKeyFileFailsToOpen) {
  auto store = Open("", {dir_.File("retired.key")});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("--secrets_old_key_files"),
            std::string::npos)
      << store.status();
}

TEST_F(SealedSecretsTest, DatabaseFilesAndDirectoriesArePrivate) {
  const std::string path = dir_.File("new/nested/ats.db");
  SqliteStoreOptions options;
  options.path = path;
  auto store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  AddSecrets(**store);
  EXPECT_EQ(ModeOf(dir_.File("new")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("new/nested")), 0700u);
  for (const std::string& file : DatabaseFiles(path)) {
    EXPECT_EQ(ModeOf(file), 0600u) << file;
  }
  EXPECT_EQ(ModeOf(dir_.File("new/nested/ats.secrets.key")), 0600u);
}

TEST(FilesTest, CompanionFilesAreNamedAfterTheDatabase) {
  EXPECT_EQ(CompanionFile("var/ats.db", "", "secrets.key"),
            "var/ats.secrets.key");
  EXPECT_EQ(CompanionFile("var/b.db", "", "operator.key"),
            "var/b.operator.key");
  EXPECT_EQ(CompanionFile("var/ats.db", "/etc/ats", "admin.key"),
            "/etc/ats/ats.admin.key");
  EXPECT_EQ(CompanionFile("ats.db", "", "admin.key"), "ats.admin.key");
}

}  // namespace
}  // namespace ats::storage
