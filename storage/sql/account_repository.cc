#include "storage/sql/account_repository.h"

#include "absl/strings/str_cat.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kAccountColumns[] =
    "id, display_name, create_time, webhook_signing_secret, "
    "webhook_signing_secret_create_time, notification_uri";

constexpr char kApiKeyColumns[] =
    "id, account_id, role, integration_id, display_name, secret_hash, "
    "secret_prefix, create_time, revoke_time";

ApiKeyRow ReadApiKey(const Statement& row) {
  ApiKeyRow key;
  key.id = row.ColumnText(0);
  key.account_id = row.ColumnText(1);
  key.role = static_cast<ats::v1::Role>(row.ColumnInt64(2));
  key.integration_id = row.ColumnText(3);
  key.display_name = row.ColumnText(4);
  key.secret_hash = std::string(row.ColumnBlob(5));
  key.secret_prefix = row.ColumnText(6);
  key.create_time = FromMicros(row.ColumnInt64(7));
  if (!row.ColumnIsNull(8)) key.revoke_time = FromMicros(row.ColumnInt64(8));
  return key;
}

}  // namespace

absl::StatusOr<AccountRow> SqlAccountRepository::ReadAccount(
    const Statement& row) const {
  AccountRow account;
  account.id = row.ColumnText(0);
  account.display_name = row.ColumnText(1);
  account.create_time = FromMicros(row.ColumnInt64(2));
  absl::StatusOr<std::string> secret =
      OpenColumn(sealer_, kAccountWebhookSecret, account.id, account.id,
                 row.ColumnBlob(3));
  if (!secret.ok()) return secret.status();
  account.webhook_signing_secret = *std::move(secret);
  if (!row.ColumnIsNull(4)) {
    account.webhook_signing_secret_create_time = FromMicros(row.ColumnInt64(4));
  }
  account.notification_uri = row.ColumnText(5);
  return account;
}

absl::Status SqlAccountRepository::InsertAccount(const AccountRow& account) {
  absl::StatusOr<std::string> secret =
      SealColumn(sealer_, kAccountWebhookSecret, account.id, account.id,
                 account.webhook_signing_secret);
  if (!secret.ok()) return secret.status();
  Statement& stmt = db_.Prepare(
      "INSERT INTO accounts (id, display_name, create_time, "
      "webhook_signing_secret, webhook_signing_secret_create_time, "
      "notification_uri) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  stmt.Bind(1, account.id)
      .Bind(2, account.display_name)
      .Bind(3, ToMicros(account.create_time))
      .Bind(4, *secret)
      .Bind(6, account.notification_uri);
  if (account.webhook_signing_secret_create_time.has_value()) {
    stmt.Bind(5, ToMicros(*account.webhook_signing_secret_create_time));
  } else {
    stmt.BindNull(5);
  }
  return stmt.Run();
}

absl::StatusOr<AccountRow> SqlAccountRepository::GetAccount(
    std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kAccountColumns, " FROM accounts WHERE id = ?1");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, id);
  return ReadOne<AccountRow>(
      stmt, [this](const Statement& row) { return ReadAccount(row); },
      RowNotFound("account", id));
}

absl::StatusOr<Page<AccountRow>> SqlAccountRepository::ListAccounts(
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  static const std::string sql = absl::StrCat(
      "SELECT ", kAccountColumns,
      " FROM accounts WHERE CAST(?1 AS BIGINT) IS NULL OR (create_time, id) > (?1, ?2) "
      "ORDER BY create_time, id LIMIT ?3");
  Statement& stmt = db_.Prepare(sql.c_str());
  BindKeysetAfter(stmt, 1, *after);
  stmt.Bind(3, page.limit + 1);
  auto rows = ReadAll<AccountRow>(
      stmt, [this](const Statement& row) { return ReadAccount(row); });
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const AccountRow& a) {
    return TimeCursor(a.create_time, a.id);
  });
}

absl::Status SqlAccountRepository::UpdateAccount(const AccountRow& account) {
  return RowChanged(db_,
                    db_.Prepare("UPDATE accounts SET display_name = ?2, "
                                "notification_uri = ?3 WHERE id = ?1")
                        .Bind(1, account.id)
                        .Bind(2, account.display_name)
                        .Bind(3, account.notification_uri)
                        .Run(),
                    "account", account.id);
}

absl::Status SqlAccountRepository::SetWebhookSigningSecret(
    std::string_view account_id, std::string_view secret, absl::Time when) {
  absl::StatusOr<std::string> sealed =
      SealColumn(sealer_, kAccountWebhookSecret, account_id, account_id,
                 secret);
  if (!sealed.ok()) return sealed.status();
  return RowChanged(
      db_,
      db_.Prepare("UPDATE accounts SET webhook_signing_secret = ?2, "
                  "webhook_signing_secret_create_time = ?3 WHERE id = ?1")
          .Bind(1, account_id)
          .Bind(2, *sealed)
          .Bind(3, ToMicros(when))
          .Run(),
      "account", account_id);
}

absl::Status SqlAccountRepository::InsertApiKey(const ApiKeyRow& key) {
  Statement& stmt = db_.Prepare(
      "INSERT INTO api_keys (id, account_id, role, integration_id, "
      "display_name, secret_hash, secret_prefix, create_time, revoke_time) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  stmt.Bind(1, key.id);
  BindTextOrNull(stmt, 2, key.account_id);
  stmt.Bind(3, static_cast<int64_t>(key.role));
  BindTextOrNull(stmt, 4, key.integration_id);
  stmt.Bind(5, key.display_name)
      .BindBlob(6, key.secret_hash)
      .Bind(7, key.secret_prefix)
      .Bind(8, ToMicros(key.create_time));
  if (key.revoke_time.has_value()) {
    stmt.Bind(9, ToMicros(*key.revoke_time));
  } else {
    stmt.BindNull(9);
  }
  return stmt.Run();
}

absl::StatusOr<ApiKeyRow> SqlAccountRepository::GetApiKey(
    std::string_view account_id, std::string_view id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE id = ?1 AND (?2 = '' OR account_id = ?2)");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, id).Bind(2, account_id);
  return ReadOne<ApiKeyRow>(stmt, ReadApiKey, RowNotFound("API key", id));
}

absl::StatusOr<ApiKeyRow> SqlAccountRepository::FindApiKeyBySecretHash(
    std::string_view secret_hash) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApiKeyColumns, " FROM api_keys WHERE secret_hash = ?1");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.BindBlob(1, secret_hash);
  return ReadOne<ApiKeyRow>(stmt, ReadApiKey,
                            absl::NotFoundError("no API key has this secret"));
}

absl::StatusOr<Page<ApiKeyRow>> SqlAccountRepository::ListApiKeys(
    std::string_view account_id, bool include_revoked,
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  // Two statements so that each can use its own index.
  static const std::string by_account = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE account_id = ?1 "
      "AND (CAST(?2 AS BIGINT) IS NULL OR (create_time, id) > (?2, ?3)) "
      "AND (?4 OR revoke_time IS NULL) ORDER BY create_time, id LIMIT ?5");
  static const std::string all = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE ?1 = '' "
      "AND (CAST(?2 AS BIGINT) IS NULL OR (create_time, id) > (?2, ?3)) "
      "AND (?4 OR revoke_time IS NULL) ORDER BY create_time, id LIMIT ?5");
  Statement& stmt =
      db_.Prepare(account_id.empty() ? all.c_str() : by_account.c_str());
  stmt.Bind(1, account_id);
  BindKeysetAfter(stmt, 2, *after);
  stmt.Bind(4, include_revoked ? 1 : 0).Bind(5, page.limit + 1);
  auto rows = ReadAll<ApiKeyRow>(stmt, ReadApiKey);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const ApiKeyRow& k) {
    return TimeCursor(k.create_time, k.id);
  });
}

absl::Status SqlAccountRepository::RevokeApiKey(std::string_view id,
                                                   absl::Time when) {
  return RowChanged(
      db_,
      db_.Prepare("UPDATE api_keys SET revoke_time = coalesce(revoke_time, ?2) "
                  "WHERE id = ?1")
          .Bind(1, id)
          .Bind(2, ToMicros(when))
          .Run(),
      "API key", id);
}

absl::StatusOr<bool> SqlAccountRepository::AnyApiKeyExists() {
  return ReadFlag(db_.Prepare("SELECT EXISTS (SELECT 1 FROM api_keys)"));
}

}  // namespace ats::storage::sql
