#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/casts.h"
#include "absl/strings/str_cat.h"
#include "ats/v1/partner_event.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "ats/v1/template_service.pb.h"
#include "gtest/gtest.h"
#include "storage/delivery_destination.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/sql/values.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

constexpr Migration kTwoMigrations[] = {
    {1, "create_notes",
     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"},
    {2, "seed_notes", "INSERT INTO notes (body) VALUES ('first');"},
};

constexpr Migration kThreeMigrations[] = {
    kTwoMigrations[0],
    kTwoMigrations[1],
    {3, "add_tags",
     "CREATE TABLE tags (note_id INTEGER REFERENCES notes (id));"},
};

// Returns the integer the first row of `sql` starts with.
int64_t QueryInt(Connection& connection, const char* sql) {
  Statement& statement = connection.Prepare(sql);
  absl::StatusOr<bool> row = statement.Step();
  EXPECT_TRUE(row.ok() && *row) << sql << ": " << row.status();
  int64_t value = statement.ColumnInt64(0);
  connection.ResetStatements();
  return value;
}

class MigrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> Open() {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Open(dir_.File("db.sqlite"), ConnectionOptions());
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  int64_t UserVersion(Connection& connection) {
    return QueryInt(connection, "PRAGMA user_version");
  }

  int64_t TableCount(Connection& connection, const char* table) {
    Statement& statement = connection.Prepare(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
    statement.Bind(1, table);
    absl::StatusOr<bool> row = statement.Step();
    EXPECT_TRUE(row.ok() && *row) << row.status();
    int64_t value = statement.ColumnInt64(0);
    connection.ResetStatements();
    return value;
  }

  TempDir dir_;
};

TEST_F(MigrationsTest, AppliesAllToEmptyDatabase) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_EQ(UserVersion(*connection), 0);
  absl::Status status = ApplyMigrations(*connection, kTwoMigrations);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(UserVersion(*connection), 2);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(MigrationsTest, ReopeningAppliesOnlyNewMigrations) {
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
  }
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
    // The seed would have inserted a second row had it run again.
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
    EXPECT_EQ(UserVersion(*connection), 2);
  }
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kThreeMigrations).ok());
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
    EXPECT_EQ(TableCount(*connection, "tags"), 1);
    EXPECT_EQ(UserVersion(*connection), 3);
  }
}

TEST_F(MigrationsTest, RefusesDatabaseNewerThanServer) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(ApplyMigrations(*connection, kThreeMigrations).ok());
  absl::Status status = ApplyMigrations(*connection, kTwoMigrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "database schema version 3 is newer than this server (2); "
            "upgrade ats-server");
  EXPECT_EQ(UserVersion(*connection), 3);
}

TEST_F(MigrationsTest, RejectsNonContiguousVersions) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration gap[] = {{1, "a", "SELECT 1;"}, {3, "c", "SELECT 1;"}};
  const Migration not_from_one[] = {{2, "b", "SELECT 1;"}};
  const Migration duplicate[] = {{1, "a", "SELECT 1;"}, {1, "b", "SELECT 1;"}};
  const Migration out_of_order[] = {{2, "b", "SELECT 1;"},
                                    {1, "a", "SELECT 1;"}};
  for (absl::Span<const Migration> migrations :
       {absl::Span<const Migration>(gap),
        absl::Span<const Migration>(not_from_one),
        absl::Span<const Migration>(duplicate),
        absl::Span<const Migration>(out_of_order)}) {
    absl::Status status = ApplyMigrations(*connection, migrations);
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  }
  // Nothing was applied.
  EXPECT_EQ(UserVersion(*connection), 0);
}

TEST_F(MigrationsTest, FailingMigrationLeavesNoTrace) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      kTwoMigrations[0],
      {2, "broken",
       "CREATE TABLE half_done (x INTEGER);"
       "INSERT INTO notes (body) VALUES ('from broken');"
       "INSERT INTO no_such_table VALUES (1);"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("migration 2 (broken)"),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("no such table: no_such_table"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(UserVersion(*connection), 1);
  EXPECT_EQ(TableCount(*connection, "half_done"), 0);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 0);
  EXPECT_FALSE(connection->in_transaction());

  // Fixed in a later build, the migration applies.
  ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
  EXPECT_EQ(UserVersion(*connection), 2);
}

TEST_F(MigrationsTest, MigrationLeavingDanglingReferencesFails) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      {1, "parents", "CREATE TABLE parent (id INTEGER PRIMARY KEY);"},
      {2, "dangling",
       "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));"
       "INSERT INTO child VALUES (42);"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("foreign key violation in table child"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(UserVersion(*connection), 1);
  EXPECT_EQ(TableCount(*connection, "child"), 0);
  // Enforcement is back on for everything after the migrations.
  EXPECT_EQ(QueryInt(*connection, "PRAGMA foreign_keys"), 1);
}

TEST_F(MigrationsTest, MigrationCanRebuildReferencedTable) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      {1, "tables",
       "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
       "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) "
       "                    ON DELETE CASCADE);"
       "INSERT INTO parent VALUES (1);"
       "INSERT INTO child VALUES (1);"},
      // SQLite's recipe for schema changes ALTER TABLE cannot make.
      {2, "rebuild_parent",
       "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, label TEXT "
       "                         NOT NULL DEFAULT '');"
       "INSERT INTO parent_new (id) SELECT id FROM parent;"
       "DROP TABLE parent;"
       "ALTER TABLE parent_new RENAME TO parent;"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  ASSERT_TRUE(status.ok()) << status;
  // The cascade did not fire when the old parent table was dropped.
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM child"), 1);
  EXPECT_EQ(QueryInt(*connection, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(UserVersion(*connection), 2);
}

TEST(EmbeddedMigrationsTest, AreContiguousAndApplyToEmptyDatabase) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_TRUE(ValidateMigrations(migrations).ok());
  EXPECT_STREQ(migrations[0].name, "foundation");

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(connection.ok()) << connection.status();
  absl::Status status = ApplyMigrations(**connection);
  ASSERT_TRUE(status.ok()) << status;
  Statement& version = (*connection)->Prepare("PRAGMA user_version");
  ASSERT_EQ(version.Step().value_or(false), true);
  EXPECT_EQ(version.ColumnInt64(0), static_cast<int64_t>(migrations.size()));
}

// The index of the embedded migration named `name`, or their count if none.
size_t IndexOfMigration(absl::Span<const Migration> migrations,
                        const std::string& name) {
  size_t index = 0;
  while (index < migrations.size() &&
         std::string(migrations[index].name) != name) {
    ++index;
  }
  return index;
}

TEST(EmbeddedMigrationsTest, StageCandidateCountsStartFromTheApplications) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t counts = IndexOfMigration(migrations, "stage_candidate_counts");
  ASSERT_LT(counts, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(counts)).ok());
  for (const char* insert : {
           "INSERT INTO accounts (id, display_name, create_time) "
           "VALUES ('a', 'A', 1)",
           "INSERT INTO jobs (account_id, id, title, description, state, "
           "template_id, create_time, update_time, revision) "
           "VALUES ('a', 'j', 'Job', '', 1, '', 1, 1, 1)",
           "INSERT INTO stages (account_id, id, job_id, display_name, "
           "position, create_time) VALUES ('a', 's1', 'j', 'One', 0, 1), "
           "('a', 's2', 'j', 'Two', 1, 1), ('a', 's3', 'j', 'Three', 2, 1)",
           "INSERT INTO candidates (account_id, id, given_name, family_name, "
           "email, email_key, phone, create_time, update_time, revision) "
           "VALUES ('a', 'c1', '', '', '', '', '', 1, 1, 1), "
           "('a', 'c2', '', '', '', '', '', 1, 1, 1), "
           "('a', 'c3', '', '', '', '', '', 1, 1, 1)",
           "INSERT INTO applications (account_id, job_id, candidate_id, "
           "stage_id, stage_enter_time, entry_count, create_time) "
           "VALUES ('a', 'j', 'c1', 's1', 1, 1, 1), "
           "('a', 'j', 'c2', 's1', 1, 1, 1), ('a', 'j', 'c3', 's3', 1, 1, 1)",
       }) {
    ASSERT_TRUE(db.Exec(insert).ok()) << insert;
  }

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(counts + 1)).ok());
  Statement& read = db.Prepare(
      "SELECT group_concat(id || '=' || candidate_count, ' ') "
      "FROM (SELECT id, candidate_count FROM stages ORDER BY id)");
  ASSERT_EQ(read.Step().value_or(false), true);
  EXPECT_EQ(read.ColumnText(0), "s1=2 s2=0 s3=1");
}

TEST(EmbeddedMigrationsTest, EventsGetTheDestinationTheCodeComputes) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t destinations =
      IndexOfMigration(migrations, "delivery_destinations");
  ASSERT_LT(destinations, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(destinations)).ok());
  // Webhook events of two accounts, one URL with user info, port, path,
  // query and upper case; and an event with an integration.
  const std::vector<std::array<const char*, 4>> events = {
      {"a", "e1", nullptr, "https://user:pw@Hooks.Example:8443/x?y#z"},
      {"b", "e2", nullptr, "http://hooks.example/other"},
      {"a", "e3", "int-1", ""},
  };
  ASSERT_TRUE(db.Exec("INSERT INTO accounts (id, display_name, create_time) "
                      "VALUES ('a', 'A', 1), ('b', 'B', 1); "
                      "INSERT INTO partners (id, sort_name, category, listing, "
                      "create_time, update_time, revision) "
                      "VALUES ('p', 'p', 1, X'', 1, 1, 1); "
                      "INSERT INTO integrations (account_id, id, partner_id, "
                      "display_name, active, activation_values, "
                      "signing_secret, signing_secret_create_time, "
                      "endpoint_disabled_reason, create_time, update_time, "
                      "revision) VALUES ('a', 'int-1', 'p', 'P', 1, X'', "
                      "'s', 1, '', 1, 1, 1)")
                  .ok());
  for (const auto& [account, id, integration, uri] : events) {
    ASSERT_TRUE(
        db.Prepare("INSERT INTO events (account_id, id, state, state_reason, "
                   "integration_id, webhook_uri, candidate_id, job_id, "
                   "source, trigger_id, stage_id, stage_entry, "
                   "bulk_operation_id, triggered_by, payload, create_time, "
                   "due_time, update_time, attempt_count) VALUES (?1, ?2, 2, "
                   "'', ?3, ?4, 'c', '', 2, '', '', 0, '', 'k', X'', 1, 1, "
                   "1, 0)")
            .Bind(1, std::string(account))
            .Bind(2, std::string(id))
            .Bind(3, integration == nullptr
                         ? std::optional<std::string>()
                         : std::optional<std::string>(integration))
            .Bind(4, std::string(uri))
            .Run()
            .ok())
        << id;
  }
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(destinations + 1)).ok());

  for (const auto& [account, id, integration, uri] : events) {
    Statement& read =
        db.Prepare("SELECT destination FROM events WHERE id = ?1");
    read.Bind(1, std::string(id));
    ASSERT_TRUE(read.Step().value_or(false)) << id;
    EXPECT_EQ(read.ColumnText(0),
              DeliveryDestination(account,
                                  integration == nullptr ? "" : integration,
                                  uri))
        << id;
    db.ResetStatements();
  }
}

TEST(EmbeddedMigrationsTest, StoredResultsKeepTheirScoreInTheWrapper) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t wrapper =
      IndexOfMigration(migrations, "partner_result_score_wrapper");
  ASSERT_LT(wrapper, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(wrapper)).ok());
  // A result as the server stored it while score was a proto3 optional
  // double: field 2 as a bare fixed64, which today's message does not know.
  ats::v1::PartnerResult legacy;
  legacy.set_status(ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
  legacy.set_summary("passed");
  legacy.GetReflection()->MutableUnknownFields(&legacy)->AddFixed64(
      2, absl::bit_cast<uint64_t>(87.5));
  ats::v1::PartnerResult unscored;
  unscored.set_status(ats::v1::PARTNER_RESULT_STATUS_PENDING);
  const std::vector<std::pair<const char*, std::optional<std::string>>>
      events = {{"scored", legacy.SerializeAsString()},
                {"unscored", unscored.SerializeAsString()},
                {"none", std::nullopt}};
  ASSERT_TRUE(db.Exec("INSERT INTO accounts (id, display_name, create_time) "
                      "VALUES ('a', 'A', 1)")
                  .ok());
  for (const auto& [id, result] : events) {
    Statement& insert = db.Prepare(
        "INSERT INTO events (account_id, id, state, state_reason, "
        "integration_id, webhook_uri, candidate_id, job_id, source, "
        "trigger_id, stage_id, stage_entry, bulk_operation_id, triggered_by, "
        "payload, create_time, due_time, update_time, attempt_count, result) "
        "VALUES ('a', ?1, 3, '', NULL, 'https://h.example/x', 'c', '', 2, '', "
        "'', 0, '', 'k', X'', 1, 1, 1, 1, ?2)");
    insert.Bind(1, std::string(id));
    if (result.has_value()) insert.BindBlob(2, *result);
    ASSERT_TRUE(insert.Run().ok()) << id;
    db.ResetStatements();
  }
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(wrapper + 1)).ok());

  auto read = [&db](const char* id) -> std::optional<ats::v1::PartnerResult> {
    Statement& select = db.Prepare("SELECT result FROM events WHERE id = ?1");
    select.Bind(1, std::string(id));
    EXPECT_TRUE(select.Step().value_or(false)) << id;
    std::optional<ats::v1::PartnerResult> result;
    if (!select.ColumnIsNull(0)) {
      const std::string_view blob = select.ColumnBlob(0);
      result.emplace();
      EXPECT_TRUE(
          result->ParseFromArray(blob.data(), static_cast<int>(blob.size())));
    }
    db.ResetStatements();
    return result;
  };
  const std::optional<ats::v1::PartnerResult> scored = read("scored");
  ASSERT_TRUE(scored.has_value());
  ASSERT_TRUE(scored->has_score());
  EXPECT_EQ(scored->score().value(), 87.5);
  EXPECT_EQ(scored->summary(), "passed");
  EXPECT_TRUE(scored->GetReflection()->GetUnknownFields(*scored).empty());
  const std::optional<ats::v1::PartnerResult> plain = read("unscored");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->has_score());
  EXPECT_EQ(plain->status(), ats::v1::PARTNER_RESULT_STATUS_PENDING);
  EXPECT_FALSE(read("none").has_value());
}

TEST(EmbeddedMigrationsTest, EventsKeepEveryColumnAndTheirListOrder) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t in_order =
      IndexOfMigration(migrations, "events_in_insertion_order");
  ASSERT_LT(in_order, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(in_order)).ok());
  // Inserted out of list order: (create_time, id) decided the order then.
  ASSERT_TRUE(
      db.Exec("INSERT INTO accounts (id, display_name, create_time) "
              "VALUES ('a', 'A', 1); "
              "INSERT INTO events (account_id, id, state, state_reason, "
              "integration_id, webhook_uri, candidate_id, job_id, source, "
              "trigger_id, stage_id, stage_entry, bulk_operation_id, "
              "triggered_by, payload, create_time, due_time, update_time, "
              "attempt_count, lease_expire_time, result, destination) VALUES "
              "('a', 'e-b', 3, 'r', NULL, 'https://h.example/x', 'c1', 'j1', "
              "1, 't1', 's1', 2, 'op', 'k', X'0102', 20, 25, 26, 1, 90, X'03', "
              "'d1'), "
              "('a', 'e-a', 4, '', NULL, 'https://h.example/y', 'c2', '', 2, "
              "'', '', 0, '', 'k', X'', 20, 21, 22, 0, NULL, NULL, 'd2'), "
              "('a', 'e-c', 2, '', NULL, 'https://h.example/z', 'c1', 'j1', 1, "
              "'t1', 's1', 1, '', 'k', X'04', 10, 11, 12, 0, NULL, NULL, "
              "'d1'); "
              "INSERT INTO delivery_attempts (account_id, event_id, number, "
              "attempt_time, http_status, latency_micros, error) VALUES "
              "('a', 'e-b', 1, 24, 500, 7, 'HTTP 500')")
          .ok());
  const std::string columns =
      "account_id, id, state, state_reason, integration_id, webhook_uri, "
      "candidate_id, job_id, source, trigger_id, stage_id, stage_entry, "
      "bulk_operation_id, triggered_by, hex(payload), create_time, due_time, "
      "update_time, attempt_count, lease_expire_time, hex(result), destination";
  // Every column of every row as one text, in list order (oldest first).
  auto dump = [&](const std::string& order) {
    std::vector<std::string> rows;
    Statement& select = db.Prepare(
        absl::StrCat("SELECT ", columns, " FROM events ORDER BY ", order)
            .c_str());
    while (select.Step().value_or(false)) {
      std::string row;
      for (int i = 0; i < 22; ++i) {
        absl::StrAppend(&row, select.ColumnIsNull(i) ? "NULL"
                                                     : select.ColumnText(i),
                        "|");
      }
      rows.push_back(row);
    }
    db.ResetStatements();
    return rows;
  };
  const std::vector<std::string> before = dump("create_time, id");
  ASSERT_EQ(before.size(), 3u);

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(in_order + 1)).ok());
  EXPECT_EQ(dump("seq"), before);
  // Attempts still belong to their event, and go with it.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM delivery_attempts "
                         "JOIN events ON events.id = event_id"),
            1);
  ASSERT_TRUE(db.Exec("DELETE FROM events WHERE id = 'e-b'").ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM delivery_attempts"), 0);
  // New events come after the copied ones.
  ASSERT_TRUE(
      db.Exec("INSERT INTO events (account_id, id, state, state_reason, "
              "webhook_uri, candidate_id, job_id, source, trigger_id, "
              "stage_id, stage_entry, bulk_operation_id, triggered_by, "
              "payload, create_time, due_time, update_time, attempt_count, "
              "destination) VALUES ('a', 'e-0', 2, '', 'https://h.example/x', "
              "'c1', '', 2, '', '', 0, '', 'k', X'', 1, 1, 1, 0, 'd1')")
          .ok());
  EXPECT_EQ(QueryInt(db, "SELECT seq > (SELECT max(seq) FROM events "
                         "WHERE id <> 'e-0') FROM events WHERE id = 'e-0'"),
            1);
}

TEST(EmbeddedMigrationsTest, CandidatesKeyedByIdKeepEveryColumnAndTheirTags) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t keyed = IndexOfMigration(migrations, "candidates_keyed_by_id");
  ASSERT_LT(keyed, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(keyed)).ok());
  // Inserted out of id order.
  ASSERT_TRUE(
      db.Exec("INSERT INTO accounts (id, display_name, create_time) "
              "VALUES ('a', 'A', 1); "
              "INSERT INTO candidates (account_id, id, given_name, "
              "family_name, email, email_key, phone, create_time, "
              "update_time, revision) VALUES "
              "('a', 'c2', 'Grace', 'Hopper', 'G@x.example', 'g@x.example', "
              "'+1', 5, 6, 2), "
              "('a', 'c1', 'Ada', 'Lovelace', '', '', '', 3, 4, 1); "
              "INSERT INTO candidate_tags (account_id, candidate_id, tag) "
              "VALUES ('a', 'c2', 'navy'), ('a', 'c2', 'cobol')")
          .ok());
  auto dump = [&] {
    std::vector<std::string> rows;
    Statement& select = db.Prepare(
        "SELECT account_id, id, given_name, family_name, email, email_key, "
        "phone, create_time, update_time, revision FROM candidates "
        "ORDER BY id");
    while (select.Step().value_or(false)) {
      std::string row;
      for (int i = 0; i < 10; ++i)
        absl::StrAppend(&row, select.ColumnText(i), "|");
      rows.push_back(row);
    }
    db.ResetStatements();
    return rows;
  };
  const std::vector<std::string> before = dump();
  ASSERT_EQ(before.size(), 2u);

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(keyed + 1)).ok());
  EXPECT_EQ(dump(), before);
  // Stored by id: there is no rowid any more.
  EXPECT_FALSE(db.Exec("SELECT rowid FROM candidates").ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM candidate_tags"), 2);
  // The email stays unique in its account.
  EXPECT_FALSE(db.Exec("INSERT INTO candidates (account_id, id, given_name, "
                       "family_name, email, email_key, phone, create_time, "
                       "update_time, revision) VALUES ('a', 'c3', '', '', "
                       "'g@x.example', 'g@x.example', '', 7, 7, 1)")
                   .ok());
  // Tags still go with their candidate.
  ASSERT_TRUE(db.Exec("DELETE FROM candidates WHERE id = 'c2'").ok());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM candidate_tags"), 0);
  Statement& check = db.Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.Step().value_or(false));
  EXPECT_EQ(check.ColumnText(0), "ok");
  db.ResetStatements();
}

TEST(EmbeddedMigrationsTest,
     BulkOperationsBecomeTriggersAndItemsKeyedByCandidate) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t recover = IndexOfMigration(migrations, "recover_events");
  ASSERT_LT(recover, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(recover)).ok());
  ASSERT_TRUE(
      db.Exec("INSERT INTO accounts (id, display_name, create_time) "
              "VALUES ('a', 'A', 1); "
              "INSERT INTO partners (id, sort_name, category, listing, "
              "create_time, update_time, revision) VALUES "
              "('p', 'p', 1, X'', 1, 1, 1); "
              "INSERT INTO integrations (account_id, id, partner_id, "
              "display_name, active, activation_values, signing_secret, "
              "signing_secret_create_time, create_time, update_time, "
              "revision) VALUES ('a', 'i', 'p', 'P', 1, X'', '', 1, 1, 1, 1); "
              "INSERT INTO bulk_operations (account_id, id, integration_id, "
              "spec, state, state_reason, total_count, created_count, "
              "skipped_count, failed_count, created_by, resolved, "
              "resolve_cursor, process_cursor, create_time, update_time, "
              "end_time) VALUES ('a', 'op', 'i', X'0a01', 1, '', 2, 1, 0, 0, "
              "'k', 1, '', 'c1', 1, 2, NULL); "
              "INSERT INTO bulk_operation_items (account_id, operation_id, "
              "candidate_id, outcome, event_id, reason) VALUES "
              "('a', 'op', 'c2', 4, '', ''), ('a', 'op', 'c1', 1, 'e1', '')")
          .ok());

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(recover + 1)).ok());
  EXPECT_EQ(QueryInt(db, "SELECT kind FROM bulk_operations WHERE id = 'op'"),
            1);
  std::vector<std::string> items;
  Statement& select = db.Prepare(
      "SELECT item_key || '|' || candidate_id || '|' || outcome || '|' || "
      "event_id FROM bulk_operation_items ORDER BY item_key");
  while (select.Step().value_or(false)) items.push_back(select.ColumnText(0));
  db.ResetStatements();
  EXPECT_EQ(items, (std::vector<std::string>{"c1|c1|1|e1", "c2|c2|4|"}));
  // A recover's items: several per candidate, and REQUEUED.
  EXPECT_TRUE(
      db.Exec("INSERT INTO bulk_operation_items (account_id, operation_id, "
              "item_key, candidate_id, outcome, event_id, reason) VALUES "
              "('a', 'op', 'k1', 'c1', 5, 'e2', ''), "
              "('a', 'op', 'k2', 'c1', 5, 'e3', '')")
          .ok());
}

TEST(EmbeddedMigrationsTest, WebhookTriggersKeepTheFieldsTheyWereSent) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t declared =
      IndexOfMigration(migrations, "webhook_candidate_fields");
  ASSERT_LT(declared, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(declared)).ok());

  // Triggers as they were stored before: a webhook (one with a delay too),
  // a tag, and a template holding both kinds.
  ats::v1::Trigger webhook;
  webhook.mutable_webhook()->set_uri("https://hooks.example/a");
  ats::v1::Trigger delayed = webhook;
  delayed.mutable_delay()->set_seconds(60);
  ats::v1::Trigger tag;
  tag.mutable_add_tag()->set_tag("screened");
  ats::v1::JobTemplate with_webhook;
  ats::v1::Stage* stage = with_webhook.add_stages();
  stage->set_display_name("Inbox");
  *stage->add_triggers() = tag;
  *stage->add_triggers() = webhook;
  with_webhook.add_stages()->set_display_name("Offer");
  ats::v1::JobTemplate without_webhook;
  *without_webhook.add_stages()->add_triggers() = tag;
  for (const char* insert : {
           "INSERT INTO accounts (id, display_name, create_time) "
           "VALUES ('a', 'A', 1)",
           "INSERT INTO jobs (account_id, id, title, description, state, "
           "template_id, create_time, update_time, revision) "
           "VALUES ('a', 'j', 'Job', '', 1, '', 1, 1, 1)",
           "INSERT INTO stages (account_id, id, job_id, display_name, "
           "position, create_time) VALUES ('a', 's', 'j', 'One', 0, 1)",
       }) {
    ASSERT_TRUE(db.Exec(insert).ok()) << insert;
  }
  int position = 0;
  for (const auto& [id, trigger] :
       std::vector<std::pair<std::string, ats::v1::Trigger>>{
           {"hook", webhook}, {"late", delayed}, {"tag", tag}}) {
    Statement& insert = db.Prepare(
        "INSERT INTO stage_triggers (account_id, id, stage_id, position, "
        "integration_id, spec, create_time) VALUES ('a', ?1, 's', ?2, NULL, "
        "?3, 1)");
    ASSERT_TRUE(insert.Bind(1, id)
                    .Bind(2, position++)
                    .BindBlob(3, trigger.SerializeAsString())
                    .Run()
                    .ok());
  }
  for (const auto& [id, stages] :
       std::vector<std::pair<std::string, ats::v1::JobTemplate>>{
           {"t1", with_webhook}, {"t2", without_webhook}}) {
    Statement& insert = db.Prepare(
        "INSERT INTO job_templates (account_id, id, display_name, sort_name, "
        "description, stages, is_default, create_time, update_time, "
        "revision) VALUES ('a', ?1, ?1, ?1, '', ?2, 0, 1, 1, 3)");
    ASSERT_TRUE(
        insert.Bind(1, id).BindBlob(2, stages.SerializeAsString()).Run().ok());
  }

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(declared + 1)).ok());
  const std::vector<int> every_field = {
      ats::v1::CANDIDATE_FIELD_GIVEN_NAME, ats::v1::CANDIDATE_FIELD_FAMILY_NAME,
      ats::v1::CANDIDATE_FIELD_EMAIL, ats::v1::CANDIDATE_FIELD_PHONE,
      ats::v1::CANDIDATE_FIELD_TAGS};
  const auto fields_of = [](const ats::v1::Trigger& trigger) {
    return std::vector<int>(trigger.webhook().candidate_fields().begin(),
                            trigger.webhook().candidate_fields().end());
  };
  std::map<std::string, ats::v1::Trigger> triggers;
  Statement& read_triggers =
      db.Prepare("SELECT id, spec FROM stage_triggers ORDER BY id");
  while (read_triggers.Step().value_or(false)) {
    ASSERT_TRUE(
        ParseColumn(read_triggers, 1, &triggers[read_triggers.ColumnText(0)]));
  }
  ASSERT_EQ(triggers.size(), 3u);
  EXPECT_EQ(fields_of(triggers["hook"]), every_field);
  EXPECT_EQ(triggers["hook"].webhook().uri(), "https://hooks.example/a");
  EXPECT_EQ(fields_of(triggers["late"]), every_field);
  EXPECT_EQ(triggers["late"].delay().seconds(), 60);
  EXPECT_EQ(triggers["tag"].SerializeAsString(), tag.SerializeAsString());

  std::map<std::string, std::pair<ats::v1::JobTemplate, int64_t>> templates;
  Statement& read_templates =
      db.Prepare("SELECT id, stages, revision FROM job_templates");
  while (read_templates.Step().value_or(false)) {
    auto& [stages, revision] = templates[read_templates.ColumnText(0)];
    ASSERT_TRUE(ParseColumn(read_templates, 1, &stages));
    revision = read_templates.ColumnInt64(2);
  }
  ASSERT_EQ(templates.size(), 2u);
  const ats::v1::JobTemplate& migrated = templates["t1"].first;
  ASSERT_EQ(migrated.stages_size(), 2);
  ASSERT_EQ(migrated.stages(0).triggers_size(), 2);
  EXPECT_FALSE(migrated.stages(0).triggers(0).has_webhook());
  EXPECT_EQ(fields_of(migrated.stages(0).triggers(1)), every_field);
  EXPECT_EQ(migrated.stages(1).display_name(), "Offer");
  // Changed, so a new revision; the other is untouched.
  EXPECT_EQ(templates["t1"].second, 4);
  EXPECT_EQ(templates["t2"].second, 3);
  EXPECT_EQ(templates["t2"].first.SerializeAsString(),
            without_webhook.SerializeAsString());
}

TEST(EmbeddedMigrationsTest, AStoredTriggerThatDoesNotParseStopsTheMigration) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  const size_t declared =
      IndexOfMigration(migrations, "webhook_candidate_fields");
  ASSERT_LT(declared, migrations.size());
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(declared)).ok());
  for (const char* insert : {
           "INSERT INTO accounts (id, display_name, create_time) "
           "VALUES ('a', 'A', 1)",
           "INSERT INTO jobs (account_id, id, title, description, state, "
           "template_id, create_time, update_time, revision) "
           "VALUES ('a', 'j', 'Job', '', 1, '', 1, 1, 1)",
           "INSERT INTO stages (account_id, id, job_id, display_name, "
           "position, create_time) VALUES ('a', 's', 'j', 'One', 0, 1)",
           "INSERT INTO stage_triggers (account_id, id, stage_id, position, "
           "integration_id, spec, create_time) "
           "VALUES ('a', 'x', 's', 0, NULL, X'2AFF', 1)",
       }) {
    ASSERT_TRUE(db.Exec(insert).ok()) << insert;
  }
  absl::Status status = ApplyMigrations(db, migrations.first(declared + 1));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("does not parse"), std::string::npos)
      << status;
  // Nothing was changed, and the version stays.
  Statement& version = db.Prepare("PRAGMA user_version");
  ASSERT_TRUE(version.Step().value_or(false));
  EXPECT_EQ(version.ColumnInt64(0), static_cast<int64_t>(declared));
}

}  // namespace
}  // namespace ats::storage::sqlite
