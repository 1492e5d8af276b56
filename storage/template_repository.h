#ifndef ATS_STORAGE_TEMPLATE_REPOSITORY_H_
#define ATS_STORAGE_TEMPLATE_REPOSITORY_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/template_service.pb.h"
#include "storage/page.h"

namespace ats::storage {

struct TemplateRow {
  std::string account_id;
  std::string id;
  std::string display_name;
  std::string description;
  // Only `stages` is set: stage and trigger names are full resource names
  // (jobTemplates/{t}/stages/{s}[/triggers/{tr}]), output-only fields unset.
  ats::v1::JobTemplate pipeline;
  bool is_default = false;
  absl::Time create_time;
  absl::Time update_time;
  int64_t revision = 1;
};

// Job templates of each account.
class TemplateRepository {
 public:
  virtual ~TemplateRepository() = default;

  // Stores a new template; ALREADY_EXISTS if the account has one with the
  // same display name (case-insensitive) or, when `is_default`, a default.
  virtual absl::Status InsertTemplate(const TemplateRow& row) = 0;
  // Replaces template `row.id` of `row.account_id`; NOT_FOUND if absent.
  virtual absl::Status UpdateTemplate(const TemplateRow& row) = 0;
  // Returns template `id` of `account_id`, or NOT_FOUND.
  virtual absl::StatusOr<TemplateRow> GetTemplate(std::string_view account_id,
                                                  std::string_view id) = 0;
  // Returns the account's default template, or NOT_FOUND if it has none.
  virtual absl::StatusOr<TemplateRow> GetDefaultTemplate(
      std::string_view account_id) = 0;
  // Returns the account's templates ordered by display name.
  virtual absl::StatusOr<Page<TemplateRow>> ListTemplates(
      std::string_view account_id, const PageRequest& page) = 0;
  // Makes template `id` the account's only default; NOT_FOUND if absent.
  virtual absl::Status SetDefaultTemplate(std::string_view account_id,
                                          std::string_view id,
                                          absl::Time when) = 0;
  // Deletes template `id` of `account_id`; NOT_FOUND if absent.
  virtual absl::Status DeleteTemplate(std::string_view account_id,
                                      std::string_view id) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_TEMPLATE_REPOSITORY_H_
