#include "storage/sqlite/account_repository.h"

#include "absl/strings/str_cat.h"
#include "storage/sqlite/values.h"

namespace ats::storage::sqlite {
namespace {

constexpr char kApiKeyColumns[] =
    "id, account_id, role, integration_id, display_name, secret_hash, "
    "secret_prefix, create_time, revoke_time";

AccountRow ReadAccount(const Statement& row) {
  return AccountRow{row.ColumnText(0), row.ColumnText(1),
                    FromMicros(row.ColumnInt64(2))};
}

ApiKeyRow ReadApiKey(const Statement& row) {
  ApiKeyRow key;
  key.id = row.ColumnText(0);
  key.account_id = row.ColumnText(1);
  key.role = static_cast<ats::v1::Role>(row.ColumnInt64(2));
  key.integration_id = row.ColumnText(3);
  key.display_name = row.ColumnText(4);
  key.secret_hash = row.ColumnBlob(5);
  key.secret_prefix = row.ColumnText(6);
  key.create_time = FromMicros(row.ColumnInt64(7));
  if (!row.ColumnIsNull(8)) key.revoke_time = FromMicros(row.ColumnInt64(8));
  return key;
}

std::vector<std::string> TimeCursor(absl::Time t, const std::string& id) {
  return {absl::StrCat(ToMicros(t)), id};
}

// Binds the optional (time, id) keyset to parameters `first` and `first`+1.
void BindTimeKeyset(Statement& stmt, int first,
                    const std::optional<std::pair<int64_t, std::string>>& after) {
  if (after.has_value()) {
    stmt.Bind(first, after->first).Bind(first + 1, after->second);
  } else {
    stmt.BindNull(first).BindNull(first + 1);
  }
}

absl::Status NotFoundError(std::string_view what, std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat(std::string(what), " ", std::string(id), " not found"));
}

}  // namespace

absl::Status SqliteAccountRepository::InsertAccount(const AccountRow& account) {
  return db_
      .Prepare("INSERT INTO accounts (id, display_name, create_time) "
               "VALUES (?1, ?2, ?3)")
      .Bind(1, account.id)
      .Bind(2, account.display_name)
      .Bind(3, ToMicros(account.create_time))
      .Run();
}

absl::StatusOr<AccountRow> SqliteAccountRepository::GetAccount(
    std::string_view id) {
  Statement& stmt = db_.Prepare(
      "SELECT id, display_name, create_time FROM accounts WHERE id = ?1");
  stmt.Bind(1, id);
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFoundError("account", id);
  return ReadAccount(stmt);
}

absl::StatusOr<Page<AccountRow>> SqliteAccountRepository::ListAccounts(
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  Statement& stmt = db_.Prepare(
      "SELECT id, display_name, create_time FROM accounts "
      "WHERE ?1 IS NULL OR (create_time, id) > (?1, ?2) "
      "ORDER BY create_time, id LIMIT ?3");
  BindTimeKeyset(stmt, 1, *after);
  stmt.Bind(3, page.limit + 1);
  std::vector<AccountRow> rows;
  for (;;) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    rows.push_back(ReadAccount(stmt));
  }
  return MakePage(std::move(rows), page.limit, [](const AccountRow& a) {
    return TimeCursor(a.create_time, a.id);
  });
}

absl::Status SqliteAccountRepository::InsertApiKey(const ApiKeyRow& key) {
  Statement& stmt = db_.Prepare(
      "INSERT INTO api_keys (id, account_id, role, integration_id, "
      "display_name, secret_hash, secret_prefix, create_time, revoke_time) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  stmt.Bind(1, key.id);
  if (key.account_id.empty()) {
    stmt.BindNull(2);
  } else {
    stmt.Bind(2, key.account_id);
  }
  stmt.Bind(3, static_cast<int64_t>(key.role));
  if (key.integration_id.empty()) {
    stmt.BindNull(4);
  } else {
    stmt.Bind(4, key.integration_id);
  }
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

absl::StatusOr<ApiKeyRow> SqliteAccountRepository::GetApiKey(
    std::string_view account_id, std::string_view id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE id = ?1 AND (?2 = '' OR account_id = ?2)");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, id).Bind(2, account_id);
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return NotFoundError("API key", id);
  return ReadApiKey(stmt);
}

absl::StatusOr<ApiKeyRow> SqliteAccountRepository::FindApiKeyBySecretHash(
    std::string_view secret_hash) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApiKeyColumns, " FROM api_keys WHERE secret_hash = ?1");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.BindBlob(1, secret_hash);
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("no API key has this secret");
  return ReadApiKey(stmt);
}

absl::StatusOr<Page<ApiKeyRow>> SqliteAccountRepository::ListApiKeys(
    std::string_view account_id, bool include_revoked,
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  // Two statements so that each can use its own index.
  static const std::string by_account = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE account_id = ?1 "
      "AND (?2 IS NULL OR (create_time, id) > (?2, ?3)) "
      "AND (?4 OR revoke_time IS NULL) ORDER BY create_time, id LIMIT ?5");
  static const std::string all = absl::StrCat(
      "SELECT ", kApiKeyColumns,
      " FROM api_keys WHERE ?1 = '' "
      "AND (?2 IS NULL OR (create_time, id) > (?2, ?3)) "
      "AND (?4 OR revoke_time IS NULL) ORDER BY create_time, id LIMIT ?5");
  Statement& stmt =
      db_.Prepare(account_id.empty() ? all.c_str() : by_account.c_str());
  stmt.Bind(1, account_id);
  BindTimeKeyset(stmt, 2, *after);
  stmt.Bind(4, include_revoked ? 1 : 0).Bind(5, page.limit + 1);
  std::vector<ApiKeyRow> rows;
  for (;;) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    rows.push_back(ReadApiKey(stmt));
  }
  return MakePage(std::move(rows), page.limit, [](const ApiKeyRow& k) {
    return TimeCursor(k.create_time, k.id);
  });
}

absl::Status SqliteAccountRepository::RevokeApiKey(std::string_view id,
                                                   absl::Time when) {
  absl::Status status =
      db_.Prepare("UPDATE api_keys SET revoke_time = coalesce(revoke_time, ?2) "
                  "WHERE id = ?1")
          .Bind(1, id)
          .Bind(2, ToMicros(when))
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFoundError("API key", id);
  return absl::OkStatus();
}

absl::StatusOr<bool> SqliteAccountRepository::AnyApiKeyExists() {
  Statement& stmt = db_.Prepare("SELECT EXISTS (SELECT 1 FROM api_keys)");
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  return *row && stmt.ColumnInt64(0) != 0;
}

}  // namespace ats::storage::sqlite
