#ifndef ATS_STORAGE_INTEGRATION_REPOSITORY_H_
#define ATS_STORAGE_INTEGRATION_REPOSITORY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.pb.h"
#include "storage/page.h"

namespace ats::storage {

struct PartnerRow {
  std::string id;
  // The listing as operators wrote it; name and output-only fields unset.
  ats::v1::Partner listing;
  absl::Time create_time;
  absl::Time update_time;
  // Bumped by every update; the etag is derived from it.
  int64_t revision = 1;
};

struct IntegrationRow {
  std::string account_id;
  std::string id;
  std::string partner_id;
  std::string display_name;
  bool active = true;
  // Every activation value, secret ones included.
  std::map<std::string, std::string> activation_values;
  std::string signing_secret;
  absl::Time signing_secret_create_time;
  // Non-empty once the partner answered 410 Gone, or every delivery failed
  // for too long: deliveries stop.
  std::string endpoint_disabled_reason;
  // Since when every delivery attempt has failed (unset after a success),
  // and how many attempts failed since then.
  std::optional<absl::Time> failing_since;
  int64_t failed_attempts = 0;
  absl::Time create_time;
  absl::Time update_time;
  int64_t revision = 1;
};

// What firing a trigger needs of an integration: the partner it sends to and
// whether it may. Reading it opens no secret.
struct IntegrationState {
  std::string id;
  std::string partner_id;
  bool active = true;
  // As IntegrationRow::endpoint_disabled_reason.
  std::string endpoint_disabled_reason;
};

// The Marketplace (partner listings, shared by all accounts) and each
// account's integrations with partners.
class IntegrationRepository {
 public:
  virtual ~IntegrationRepository() = default;

  // Stores a new listing; ALREADY_EXISTS if its display name is taken
  // (case-insensitive).
  virtual absl::Status InsertPartner(const PartnerRow& partner) = 0;
  // Replaces listing `partner.id`; ALREADY_EXISTS on a display name clash,
  // NOT_FOUND if absent.
  virtual absl::Status UpdatePartner(const PartnerRow& partner) = 0;
  // Returns listing `id`, or NOT_FOUND.
  virtual absl::StatusOr<PartnerRow> GetPartner(std::string_view id) = 0;
  // Returns listings ordered by display name, of `category` unless it is
  // unspecified.
  virtual absl::StatusOr<Page<PartnerRow>> ListPartners(
      ats::v1::PartnerCategory category, const PageRequest& page) = 0;

  // Stores a new integration; ALREADY_EXISTS if the account already has one
  // for that partner.
  virtual absl::Status InsertIntegration(const IntegrationRow& integration) = 0;
  // Replaces integration `integration.id` of `integration.account_id`;
  // NOT_FOUND if absent.
  virtual absl::Status UpdateIntegration(const IntegrationRow& integration) = 0;
  // Returns integration `id` of `account_id`, or NOT_FOUND.
  virtual absl::StatusOr<IntegrationRow> GetIntegration(
      std::string_view account_id, std::string_view id) = 0;
  // Returns the state of integration `id` of `account_id`, or NOT_FOUND;
  // unlike GetIntegration it leaves the secrets sealed, which is what makes
  // it cheap enough for every trigger fired.
  virtual absl::StatusOr<IntegrationState> GetIntegrationState(
      std::string_view account_id, std::string_view id) = 0;
  // Returns the account's integration with `partner_id`, if any.
  virtual absl::StatusOr<std::optional<IntegrationRow>> FindIntegrationByPartner(
      std::string_view account_id, std::string_view partner_id) = 0;
  // Returns the account's integrations oldest first; only active (or only
  // inactive) ones when `active` is set.
  virtual absl::StatusOr<Page<IntegrationRow>> ListIntegrations(
      std::string_view account_id, std::optional<bool> active,
      const PageRequest& page) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_INTEGRATION_REPOSITORY_H_
