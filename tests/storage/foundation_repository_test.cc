// Accounts, API keys, the Marketplace, integrations and the request log on
// every backend: round trips, constraints and tenant scoping.

#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "storage/sql/session.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

using ::ats::testing::Backend;

class FoundationRepositoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto database = ::ats::testing::TestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    auto store = database_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(Write([](Transaction& txn) {
                  absl::Status status = txn.accounts().InsertAccount(
                      {"acct-a", "A", kT0, "", std::nullopt, ""});
                  if (!status.ok()) return status;
                  return txn.accounts().InsertAccount({"acct-b", "B",
                                                       kT0 + absl::Seconds(1),
                                                       "", std::nullopt, ""});
                }).ok());
  }

  absl::Status Write(const Store::WorkFn& work) {
    return store_->WriteAndWait(work);
  }
  absl::Status Read(const Store::WorkFn& work) { return store_->Read(work); }

  std::optional<::ats::testing::TestDatabase> database_;

  PartnerRow Partner(const std::string& id, const std::string& name) {
    PartnerRow row;
    row.id = id;
    row.listing.set_display_name(name);
    row.listing.set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
    row.listing.set_webhook_uri("https://partner.example/hook");
    row.listing.add_trigger_options()->set_key("test_package");
    row.create_time = row.update_time = kT0;
    return row;
  }

  // A key of `account` ("" for none) with `role`, created at kT0.
  ApiKeyRow ApiKey(const std::string& id, const std::string& account,
                   ats::v1::Role role, const std::string& secret_hash) {
    ApiKeyRow key;
    key.id = id;
    key.account_id = account;
    key.role = role;
    key.display_name = id;
    key.secret_hash = secret_hash;
    key.secret_prefix = "ats_" + id;
    key.create_time = kT0;
    return key;
  }

  IntegrationRow Integration(const std::string& account,
                             const std::string& id,
                             const std::string& partner) {
    IntegrationRow row;
    row.account_id = account;
    row.id = id;
    row.partner_id = partner;
    row.display_name = "Assess";
    row.activation_values = {{"api_key", "s3cret"}, {"region", "eu"}};
    row.signing_secret = "whsec_x";
    row.signing_secret_create_time = row.create_time = row.update_time = kT0;
    return row;
  }

  // Lists partner p1 ("Assessly") and gives acct-a integration int-a with
  // it.
  void AddAssesslyToAccountA() {
    ASSERT_TRUE(Write([&](Transaction& txn) {
                  absl::Status status = txn.integrations().InsertPartner(
                      Partner("p1", "Assessly"));
                  if (!status.ok()) return status;
                  return txn.integrations().InsertIntegration(
                      Integration("acct-a", "int-a", "p1"));
                }).ok());
  }

  ::ats::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(FoundationRepositoryTest, AccountsListOldestFirstAcrossPages) {
  std::vector<std::string> seen;
  PageRequest page{{}, 1};
  for (;;) {
    Page<AccountRow> result;
    ASSERT_TRUE(Read([&](Transaction& txn) {
                  auto listed = txn.accounts().ListAccounts(page);
                  if (!listed.ok()) return listed.status();
                  result = *std::move(listed);
                  return absl::OkStatus();
                }).ok());
    for (const auto& row : result.rows) seen.push_back(row.id);
    if (result.next.empty()) break;
    page.after = result.next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"acct-a", "acct-b"}));
}

TEST_P(FoundationRepositoryTest, WebhookSigningSecretIsSetAndReplaced) {
  absl::StatusOr<AccountRow> account;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                account = txn.accounts().GetAccount("acct-a");
                return account.status();
              }).ok());
  EXPECT_EQ(account->webhook_signing_secret, "");
  EXPECT_FALSE(account->webhook_signing_secret_create_time.has_value());

  for (const char* secret : {"whsec_first", "whsec_second"}) {
    ASSERT_TRUE(Write([&](Transaction& txn) {
                  return txn.accounts().SetWebhookSigningSecret(
                      "acct-a", secret, kT0 + absl::Hours(1));
                }).ok());
    ASSERT_TRUE(Read([&](Transaction& txn) {
                  account = txn.accounts().GetAccount("acct-a");
                  return account.status();
                }).ok());
    EXPECT_EQ(account->webhook_signing_secret, secret);
    EXPECT_EQ(account->webhook_signing_secret_create_time,
              kT0 + absl::Hours(1));
  }
  // Listing reads it too; the other account still has none.
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto listed = txn.accounts().ListAccounts(PageRequest{{}, 10});
                if (!listed.ok()) return listed.status();
                EXPECT_EQ(listed->rows.size(), 2u);
                EXPECT_EQ(listed->rows[0].webhook_signing_secret,
                          "whsec_second");
                EXPECT_EQ(listed->rows[1].webhook_signing_secret, "");
                EXPECT_FALSE(listed->rows[1]
                                 .webhook_signing_secret_create_time
                                 .has_value());
                return absl::OkStatus();
              }).ok());
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& txn) {
    return txn.accounts().SetWebhookSigningSecret("missing", "whsec_x", kT0);
  })));
}

TEST_P(FoundationRepositoryTest, UpdateAccountChangesNameAndEndpointOnly) {
  ASSERT_TRUE(Write([&](Transaction& txn) {
                return txn.accounts().SetWebhookSigningSecret(
                    "acct-a", "whsec_kept", kT0 + absl::Hours(1));
              }).ok());
  AccountRow changed{"acct-a",      "Acme",       kT0 + absl::Hours(5),
                     "whsec_other", std::nullopt, "https://ops.example/ats"};
  ASSERT_TRUE(Write([&](Transaction& txn) {
                return txn.accounts().UpdateAccount(changed);
              }).ok());
  absl::StatusOr<AccountRow> account;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                account = txn.accounts().GetAccount("acct-a");
                return account.status();
              }).ok());
  EXPECT_EQ(account->display_name, "Acme");
  EXPECT_EQ(account->notification_uri, "https://ops.example/ats");
  EXPECT_EQ(account->create_time, kT0);
  EXPECT_EQ(account->webhook_signing_secret, "whsec_kept");
  EXPECT_EQ(account->webhook_signing_secret_create_time, kT0 + absl::Hours(1));
  // The other account is untouched; a missing one is NOT_FOUND.
  ASSERT_TRUE(Read([&](Transaction& txn) {
                account = txn.accounts().GetAccount("acct-b");
                return account.status();
              }).ok());
  EXPECT_EQ(account->notification_uri, "");
  changed.id = "missing";
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& txn) {
    return txn.accounts().UpdateAccount(changed);
  })));
}

TEST_P(FoundationRepositoryTest, ApiKeysAreScopedByAccountAndUniqueBySecret) {
  const ApiKeyRow key = ApiKey("key-a", "acct-a", ats::v1::ROLE_ADMIN,
                               std::string("\x01\x02hash", 6));
  ASSERT_TRUE(Write([&](Transaction& txn) {
                return txn.accounts().InsertApiKey(key);
              }).ok());

  ApiKeyRow clash = key;
  clash.id = "key-b";
  EXPECT_TRUE(absl::IsAlreadyExists(Write([&](Transaction& txn) {
    return txn.accounts().InsertApiKey(clash);
  })));

  EXPECT_TRUE(Read([&](Transaction& txn) {
                return txn.accounts().GetApiKey("acct-a", "key-a").status();
              }).ok());
  EXPECT_TRUE(absl::IsNotFound(Read([&](Transaction& txn) {
    return txn.accounts().GetApiKey("acct-b", "key-a").status();
  })));
  ApiKeyRow found;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto row = txn.accounts().FindApiKeyBySecretHash(key.secret_hash);
                if (!row.ok()) return row.status();
                found = *row;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(found.id, "key-a");
  EXPECT_EQ(found.role, ats::v1::ROLE_ADMIN);
  EXPECT_FALSE(found.revoke_time.has_value());
}

TEST_P(FoundationRepositoryTest, RevokeKeepsTheFirstRevocationTime) {
  const ApiKeyRow key =
      ApiKey("key-r", "acct-a", ats::v1::ROLE_RECRUITER, "hash-r");
  ASSERT_TRUE(Write([&](Transaction& txn) {
                absl::Status status = txn.accounts().InsertApiKey(key);
                if (!status.ok()) return status;
                status = txn.accounts().RevokeApiKey("key-r", kT0 + absl::Hours(1));
                if (!status.ok()) return status;
                return txn.accounts().RevokeApiKey("key-r", kT0 + absl::Hours(2));
              }).ok());
  std::vector<ApiKeyRow> active;
  std::vector<ApiKeyRow> all;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto row = txn.accounts().GetApiKey("", "key-r");
                if (!row.ok()) return row.status();
                EXPECT_EQ(row->revoke_time, kT0 + absl::Hours(1));
                auto listed = txn.accounts().ListApiKeys("acct-a", false, {{}, 10});
                if (!listed.ok()) return listed.status();
                active = listed->rows;
                listed = txn.accounts().ListApiKeys("acct-a", true, {{}, 10});
                if (!listed.ok()) return listed.status();
                all = listed->rows;
                return absl::OkStatus();
              }).ok());
  EXPECT_TRUE(active.empty());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& txn) {
    return txn.accounts().RevokeApiKey("missing", kT0);
  })));
}

TEST_P(FoundationRepositoryTest, KeyRoleConstraintsAreEnforcedByTheSchema) {
  // An admin key without an account.
  const ApiKeyRow orphan = ApiKey("key-o", "", ats::v1::ROLE_ADMIN, "hash-o");
  EXPECT_TRUE(absl::IsFailedPrecondition(Write([&](Transaction& txn) {
    return txn.accounts().InsertApiKey(orphan);
  })));
}

TEST_P(FoundationRepositoryTest, PartnerNamesAreUniqueIgnoringCase) {
  ASSERT_TRUE(Write([&](Transaction& txn) {
                return txn.integrations().InsertPartner(Partner("p1", "Assessly"));
              }).ok());
  absl::Status clash = Write([&](Transaction& txn) {
    return txn.integrations().InsertPartner(Partner("p2", "ASSESSLY"));
  });
  EXPECT_TRUE(absl::IsAlreadyExists(clash)) << clash;
  PartnerRow read;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto row = txn.integrations().GetPartner("p1");
                if (!row.ok()) return row.status();
                read = *row;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(read.listing.trigger_options(0).key(), "test_package");
}

TEST_P(FoundationRepositoryTest, IntegrationsAreScopedByAccount) {
  AddAssesslyToAccountA();
  // One integration per partner per account.
  EXPECT_TRUE(absl::IsAlreadyExists(Write([&](Transaction& txn) {
    return txn.integrations().InsertIntegration(
        Integration("acct-a", "int-dup", "p1"));
  })));

  IntegrationRow read;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto row = txn.integrations().GetIntegration("acct-a", "int-a");
                if (!row.ok()) return row.status();
                read = *row;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(read.activation_values.at("api_key"), "s3cret");
  EXPECT_EQ(read.activation_values.at("region"), "eu");

  EXPECT_TRUE(absl::IsNotFound(Read([&](Transaction& txn) {
    return txn.integrations().GetIntegration("acct-b", "int-a").status();
  })));
  bool b_sees_it = true;
  size_t b_count = 1;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto found = txn.integrations().FindIntegrationByPartner("acct-b", "p1");
                if (!found.ok()) return found.status();
                b_sees_it = found->has_value();
                auto listed = txn.integrations().ListIntegrations("acct-b", std::nullopt, {{}, 10});
                if (!listed.ok()) return listed.status();
                b_count = listed->rows.size();
                return absl::OkStatus();
              }).ok());
  EXPECT_FALSE(b_sees_it);
  EXPECT_EQ(b_count, 0u);

  IntegrationRow foreign = read;
  foreign.account_id = "acct-b";
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& txn) {
    return txn.integrations().UpdateIntegration(foreign);
  })));
}

TEST_P(FoundationRepositoryTest, RequestLogFindsByKeyAndForgetsOldEntries) {
  LoggedRequest logged{"acct-a", "m", "req-1", "hash", "response", kT0};
  ASSERT_TRUE(Write([&](Transaction& txn) {
                return txn.requests().Insert(logged);
              }).ok());
  std::optional<LoggedRequest> found;
  std::optional<LoggedRequest> other_account;
  ASSERT_TRUE(Read([&](Transaction& txn) {
                auto row = txn.requests().Find("acct-a", "m", "req-1");
                if (!row.ok()) return row.status();
                found = *row;
                row = txn.requests().Find("acct-b", "m", "req-1");
                if (!row.ok()) return row.status();
                other_account = *row;
                return absl::OkStatus();
              }).ok());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->response, "response");
  EXPECT_FALSE(other_account.has_value());

  int64_t deleted = -1;
  ASSERT_TRUE(Write([&](Transaction& txn) {
                auto count = txn.requests().DeleteOlderThan(kT0 + absl::Seconds(1));
                if (!count.ok()) return count.status();
                deleted = *count;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(deleted, 1);
}

// Writes read integrations' states and partners' listings (SQLite's
// writer keeps them between transactions) and must see every change: made
// by an earlier write, undone by a write that failed, or made behind the
// repositories' back by another connection.
TEST_P(FoundationRepositoryTest,
       WritesSeeEveryChangeToIntegrationsAndPartners) {
  AddAssesslyToAccountA();
  // What a write reads now, as "partner name, active, disabled reason".
  const auto seen = [&] {
    std::string text;
    EXPECT_TRUE(Write([&](Transaction& txn) {
                  auto state =
                      txn.integrations().GetIntegrationState("acct-a", "int-a");
                  if (!state.ok()) return state.status();
                  auto partner =
                      txn.integrations().GetPartner(state->partner_id);
                  if (!partner.ok()) return partner.status();
                  text = partner->listing.display_name() +
                         (state->active ? ", active, " : ", inactive, ") +
                         state->endpoint_disabled_reason;
                  return absl::OkStatus();
                }).ok());
    return text;
  };
  EXPECT_EQ(seen(), "Assessly, active, ");
  EXPECT_EQ(seen(), "Assessly, active, ");

  ASSERT_TRUE(Write([&](Transaction& txn) {
                IntegrationRow row = Integration("acct-a", "int-a", "p1");
                row.endpoint_disabled_reason = "410 Gone";
                absl::Status status = txn.integrations().UpdateIntegration(row);
                if (!status.ok()) return status;
                PartnerRow partner = Partner("p1", "Assessly 2");
                partner.revision = 2;
                return txn.integrations().UpdatePartner(partner);
              }).ok());
  EXPECT_EQ(seen(), "Assessly 2, active, 410 Gone");

  // Changed and read inside a write that then fails: rolled back.
  EXPECT_TRUE(absl::IsAborted(Write([&](Transaction& txn) {
    IntegrationRow row = Integration("acct-a", "int-a", "p1");
    row.active = false;
    absl::Status status = txn.integrations().UpdateIntegration(row);
    if (!status.ok()) return status;
    auto state = txn.integrations().GetIntegrationState("acct-a", "int-a");
    if (!state.ok()) return state.status();
    if (state->active) return absl::InternalError("did not see itself");
    return absl::AbortedError("rolled back on purpose");
  })));
  EXPECT_EQ(seen(), "Assessly 2, active, 410 Gone");

  ASSERT_TRUE(database_
                  ->WithSession([](sql::Session& db) {
                    return db
                        .Prepare(
                            "UPDATE integrations SET active = 0 "
                            "WHERE id = 'int-a'")
                        .Run();
                  })
                  .ok());
  EXPECT_EQ(seen(), "Assessly 2, inactive, 410 Gone");
}

INSTANTIATE_TEST_SUITE_P(Backends, FoundationRepositoryTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);

}  // namespace
}  // namespace ats::storage
