#ifndef ATS_STORAGE_SQL_TEMPLATE_REPOSITORY_H_
#define ATS_STORAGE_SQL_TEMPLATE_REPOSITORY_H_

#include "storage/sql/session.h"
#include "storage/template_repository.h"

namespace ats::storage::sql {

// TemplateRepository on one SQL session, inside its open transaction.
// A template's stages (with their triggers) are one serialized JobTemplate.
// UpdateTemplate leaves `is_default` and `create_time` as they are: only
// SetDefaultTemplate moves the default, so an update can never leave the
// account without one.
class SqlTemplateRepository final : public TemplateRepository {
 public:
  explicit SqlTemplateRepository(Session& db) : db_(db) {}

  absl::Status InsertTemplate(const TemplateRow& row) override;
  absl::Status UpdateTemplate(const TemplateRow& row) override;
  absl::StatusOr<TemplateRow> GetTemplate(std::string_view account_id,
                                          std::string_view id) override;
  absl::StatusOr<TemplateRow> GetDefaultTemplate(
      std::string_view account_id) override;
  absl::StatusOr<Page<TemplateRow>> ListTemplates(
      std::string_view account_id, const PageRequest& page) override;
  absl::Status SetDefaultTemplate(std::string_view account_id,
                                  std::string_view id,
                                  absl::Time when) override;
  absl::Status DeleteTemplate(std::string_view account_id,
                              std::string_view id) override;

 private:
  // Returns ALREADY_EXISTS, naming the value that clashes, when another
  // template of the account has the name of `row` or, if `row` is the
  // default, when another is. Checked before writing, so no statement fails
  // (see InsertedOrAlreadyExists).
  absl::Status CheckClash(const TemplateRow& row);
  // Returns whether the account has a template with this id.
  absl::StatusOr<bool> Exists(std::string_view account_id,
                              std::string_view id);

  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_TEMPLATE_REPOSITORY_H_
