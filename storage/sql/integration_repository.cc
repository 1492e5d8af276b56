#include "storage/sql/integration_repository.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "storage/sql/config_cache.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kPartnerColumns[] =
    "id, listing, create_time, update_time, revision";
constexpr char kIntegrationColumns[] =
    "account_id, id, partner_id, display_name, active, activation_values, "
    "signing_secret, signing_secret_create_time, endpoint_disabled_reason, "
    "create_time, update_time, revision, failing_since, failed_attempts";

std::string SortName(const PartnerRow& partner) {
  return absl::AsciiStrToLower(partner.listing.display_name());
}

absl::StatusOr<PartnerRow> ReadPartner(const Statement& row) {
  PartnerRow partner;
  partner.id = row.ColumnText(0);
  if (!ParseColumn(row, 1, &partner.listing)) {
    return absl::DataLossError(
        absl::StrCat("stored listing of partner ", partner.id, " is corrupt"));
  }
  partner.create_time = FromMicros(row.ColumnInt64(2));
  partner.update_time = FromMicros(row.ColumnInt64(3));
  partner.revision = row.ColumnInt64(4);
  return partner;
}

std::string EncodeValues(const std::map<std::string, std::string>& values) {
  google::protobuf::Struct encoded;
  for (const auto& [key, value] : values) {
    (*encoded.mutable_fields())[key].set_string_value(value);
  }
  return encoded.SerializeAsString();
}

}  // namespace

absl::StatusOr<IntegrationRow> SqlIntegrationRepository::ReadIntegration(
    const Statement& row) const {
  IntegrationRow integration;
  integration.account_id = row.ColumnText(0);
  integration.id = row.ColumnText(1);
  integration.partner_id = row.ColumnText(2);
  integration.display_name = row.ColumnText(3);
  integration.active = row.ColumnInt64(4) != 0;
  absl::StatusOr<std::string> encoded =
      OpenColumn(sealer_, kIntegrationActivationValues, integration.account_id,
                 integration.id, row.ColumnBlob(5));
  if (!encoded.ok()) return encoded.status();
  google::protobuf::Struct values;
  if (!values.ParseFromString(*encoded)) {
    return absl::DataLossError(absl::StrCat(
        "stored activation values of integration ", integration.id,
        " are corrupt"));
  }
  for (const auto& [key, value] : values.fields()) {
    integration.activation_values[key] = value.string_value();
  }
  absl::StatusOr<std::string> secret =
      OpenColumn(sealer_, kIntegrationSigningSecret, integration.account_id,
                 integration.id, row.ColumnBlob(6));
  if (!secret.ok()) return secret.status();
  integration.signing_secret = *std::move(secret);
  integration.signing_secret_create_time = FromMicros(row.ColumnInt64(7));
  integration.endpoint_disabled_reason = row.ColumnText(8);
  integration.create_time = FromMicros(row.ColumnInt64(9));
  integration.update_time = FromMicros(row.ColumnInt64(10));
  integration.revision = row.ColumnInt64(11);
  if (!row.ColumnIsNull(12)) {
    integration.failing_since = FromMicros(row.ColumnInt64(12));
  }
  integration.failed_attempts = row.ColumnInt64(13);
  return integration;
}

absl::Status SqlIntegrationRepository::BindIntegration(
    Statement& stmt, const IntegrationRow& integration) const {
  absl::StatusOr<std::string> values = SealColumn(
      sealer_, kIntegrationActivationValues, integration.account_id,
      integration.id, EncodeValues(integration.activation_values));
  if (!values.ok()) return values.status();
  absl::StatusOr<std::string> secret =
      SealColumn(sealer_, kIntegrationSigningSecret, integration.account_id,
                 integration.id, integration.signing_secret);
  if (!secret.ok()) return secret.status();
  stmt.Bind(1, integration.account_id)
      .Bind(2, integration.id)
      .Bind(3, integration.partner_id)
      .Bind(4, integration.display_name)
      .Bind(5, integration.active ? 1 : 0)
      .BindBlob(6, *values)
      .Bind(7, *secret)
      .Bind(8, ToMicros(integration.signing_secret_create_time))
      .Bind(9, integration.endpoint_disabled_reason)
      .Bind(10, ToMicros(integration.create_time))
      .Bind(11, ToMicros(integration.update_time))
      .Bind(12, integration.revision);
  if (integration.failing_since.has_value()) {
    stmt.Bind(13, ToMicros(*integration.failing_since));
  } else {
    stmt.BindNull(13);
  }
  stmt.Bind(14, integration.failed_attempts);
  return absl::OkStatus();
}

absl::Status SqlIntegrationRepository::InsertPartner(
    const PartnerRow& partner) {
  ConfigChanged(db_);
  return db_
      .Prepare("INSERT INTO partners (id, sort_name, category, listing, "
               "create_time, update_time, revision) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .Bind(1, partner.id)
      .Bind(2, SortName(partner))
      .Bind(3, static_cast<int64_t>(partner.listing.category()))
      .BindBlob(4, partner.listing.SerializeAsString())
      .Bind(5, ToMicros(partner.create_time))
      .Bind(6, ToMicros(partner.update_time))
      .Bind(7, partner.revision)
      .Run();
}

absl::Status SqlIntegrationRepository::UpdatePartner(
    const PartnerRow& partner) {
  ConfigChanged(db_);
  return RowChanged(
      db_,
      db_.Prepare("UPDATE partners SET sort_name = ?2, category = ?3, "
                  "listing = ?4, update_time = ?5, revision = ?6 WHERE id = ?1")
          .Bind(1, partner.id)
          .Bind(2, SortName(partner))
          .Bind(3, static_cast<int64_t>(partner.listing.category()))
          .BindBlob(4, partner.listing.SerializeAsString())
          .Bind(5, ToMicros(partner.update_time))
          .Bind(6, partner.revision)
          .Run(),
      "partner", partner.id);
}

absl::StatusOr<PartnerRow> SqlIntegrationRepository::GetPartner(
    std::string_view id) {
  return ReadThroughConfigCache<PartnerRow>(db_, "", id, [&] {
    static const std::string sql = absl::StrCat("SELECT ", kPartnerColumns,
                                                " FROM partners WHERE id = ?1");
    Statement& stmt = db_.Prepare(sql.c_str());
    stmt.Bind(1, id);
    return ReadOne<PartnerRow>(stmt, ReadPartner, RowNotFound("partner", id));
  });
}

absl::StatusOr<Page<PartnerRow>> SqlIntegrationRepository::ListPartners(
    ats::v1::PartnerCategory category, const PageRequest& page) {
  auto after = KeysetAfter(page);
  if (!after.ok()) return after.status();
  static const std::string sql = absl::StrCat(
      "SELECT ", kPartnerColumns, ", sort_name FROM partners "
      "WHERE (?1 = 0 OR category = ?1) "
      "AND (CAST(?2 AS TEXT) IS NULL OR (sort_name, id) > (?2, ?3)) "
      "ORDER BY sort_name, id LIMIT ?4");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, static_cast<int64_t>(category));
  BindKeysetAfter(stmt, 2, *after);
  stmt.Bind(4, page.limit + 1);
  // The stored sort name is read beside each partner for its cursor.
  using Named = std::pair<PartnerRow, std::string>;
  auto rows =
      ReadAll<Named>(stmt, [](const Statement& row) -> absl::StatusOr<Named> {
        absl::StatusOr<PartnerRow> partner = ReadPartner(row);
        if (!partner.ok()) return partner.status();
        return Named(*std::move(partner), row.ColumnText(5));
      });
  if (!rows.ok()) return rows.status();
  return WithoutSortKeys(
      MakePage(*std::move(rows), page.limit, [](const Named& row) {
        return std::vector<std::string>{row.second, row.first.id};
      }));
}

absl::Status SqlIntegrationRepository::InsertIntegration(
    const IntegrationRow& integration) {
  ConfigChanged(db_);
  static const std::string sql = absl::StrCat(
      "INSERT INTO integrations (", kIntegrationColumns,
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
      "?14)");
  known_.clear();
  Statement& stmt = db_.Prepare(sql.c_str());
  absl::Status bound = BindIntegration(stmt, integration);
  if (!bound.ok()) return bound;
  return stmt.Run();
}

absl::Status SqlIntegrationRepository::UpdateIntegration(
    const IntegrationRow& integration) {
  ConfigChanged(db_);
  known_.clear();
  Statement& stmt = db_.Prepare(
      "UPDATE integrations SET partner_id = ?3, display_name = ?4, "
      "active = ?5, activation_values = ?6, signing_secret = ?7, "
      "signing_secret_create_time = ?8, endpoint_disabled_reason = ?9, "
      "create_time = ?10, update_time = ?11, revision = ?12, "
      "failing_since = ?13, failed_attempts = ?14 "
      "WHERE account_id = ?1 AND id = ?2");
  absl::Status bound = BindIntegration(stmt, integration);
  if (!bound.ok()) return bound;
  return RowChanged(db_, stmt.Run(), "integration", integration.id);
}

absl::StatusOr<std::vector<IntegrationRow>>
SqlIntegrationRepository::ReadIntegrations(Statement& stmt) {
  return ReadAll<IntegrationRow>(
      stmt, [this](const Statement& row) { return ReadIntegration(row); });
}

absl::StatusOr<IntegrationRow> SqlIntegrationRepository::GetIntegration(
    std::string_view account_id, std::string_view id) {
  auto key = std::make_pair(std::string(account_id), std::string(id));
  auto known = known_.find(key);
  if (known != known_.end()) return known->second;
  static const std::string sql =
      absl::StrCat("SELECT ", kIntegrationColumns,
                   " FROM integrations WHERE account_id = ?1 AND id = ?2");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, id);
  auto row = ReadOptional<IntegrationRow>(
      stmt, [this](const Statement& row) { return ReadIntegration(row); });
  if (!row.ok()) return row.status();
  if (!row->has_value()) return RowNotFound("integration", id);
  return known_.emplace(std::move(key), **std::move(row)).first->second;
}

absl::StatusOr<IntegrationState> SqlIntegrationRepository::GetIntegrationState(
    std::string_view account_id, std::string_view id) {
  return ReadThroughConfigCache<IntegrationState>(db_, account_id, id, [&] {
    return SelectRow<IntegrationState>(
        db_,
        "SELECT id, partner_id, active, endpoint_disabled_reason "
        "FROM integrations WHERE account_id = ?1 AND id = ?2",
        "integration", account_id, id, [](const Statement& row) {
          IntegrationState state;
          state.id = row.ColumnText(0);
          state.partner_id = row.ColumnText(1);
          state.active = row.ColumnInt64(2) != 0;
          state.endpoint_disabled_reason = row.ColumnText(3);
          return state;
        });
  });
}

absl::StatusOr<std::optional<IntegrationRow>>
SqlIntegrationRepository::FindIntegrationByPartner(
    std::string_view account_id, std::string_view partner_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kIntegrationColumns,
      " FROM integrations WHERE account_id = ?1 AND partner_id = ?2");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, partner_id);
  return ReadOptional<IntegrationRow>(
      stmt, [this](const Statement& row) { return ReadIntegration(row); });
}

absl::StatusOr<Page<IntegrationRow>>
SqlIntegrationRepository::ListIntegrations(std::string_view account_id,
                                              std::optional<bool> active,
                                              const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  static const std::string sql = absl::StrCat(
      "SELECT ", kIntegrationColumns,
      " FROM integrations WHERE account_id = ?1 "
      "AND (CAST(?2 AS BIGINT) IS NULL OR active = ?2) "
      "AND (CAST(?3 AS BIGINT) IS NULL OR (create_time, id) > (?3, ?4)) "
      "ORDER BY create_time, id LIMIT ?5");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id);
  if (active.has_value()) {
    stmt.Bind(2, *active ? 1 : 0);
  } else {
    stmt.BindNull(2);
  }
  BindKeysetAfter(stmt, 3, *after);
  stmt.Bind(5, page.limit + 1);
  auto rows = ReadIntegrations(stmt);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const IntegrationRow& i) {
    return TimeCursor(i.create_time, i.id);
  });
}

}  // namespace ats::storage::sql
