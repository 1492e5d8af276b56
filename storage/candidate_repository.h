#ifndef ATS_STORAGE_CANDIDATE_REPOSITORY_H_
#define ATS_STORAGE_CANDIDATE_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/page.h"

namespace ats::storage {

struct CandidateRow {
  std::string account_id;
  std::string id;
  std::string given_name;
  std::string family_name;
  std::string email;
  std::string phone;
  // Sorted, no duplicates.
  std::vector<std::string> tags;
  absl::Time create_time;
  absl::Time update_time;
  int64_t revision = 1;
};

// Filters of ListCandidates; empty fields do not filter.
struct CandidateFilter {
  std::string tag;
  // Exact match, case-insensitive.
  std::string email;
  // Case-insensitive substring of the given or family name.
  std::string name_contains;
};

// The candidate database of each account.
class CandidateRepository {
 public:
  virtual ~CandidateRepository() = default;

  // Stores a new candidate with its tags; ALREADY_EXISTS if the account has
  // a candidate with the same email (case-insensitive).
  virtual absl::Status InsertCandidate(const CandidateRow& candidate) = 0;
  // Replaces candidate `candidate.id`, tags included; ALREADY_EXISTS on an
  // email clash; NOT_FOUND if absent.
  virtual absl::Status UpdateCandidate(const CandidateRow& candidate) = 0;
  // Returns candidate `id`, or NOT_FOUND.
  virtual absl::StatusOr<CandidateRow> GetCandidate(
      std::string_view account_id, std::string_view id) = 0;
  // Returns candidates newest first.
  virtual absl::StatusOr<Page<CandidateRow>> ListCandidates(
      std::string_view account_id, const CandidateFilter& filter,
      const PageRequest& page) = 0;
  // Adds `tag` to candidate `id` unless it has it; NOT_FOUND if absent.
  virtual absl::Status AddTag(std::string_view account_id, std::string_view id,
                              std::string_view tag, absl::Time when) = 0;
  // Deletes candidate `id` with its tags and applications; NOT_FOUND if
  // absent.
  virtual absl::Status DeleteCandidate(std::string_view account_id,
                                       std::string_view id) = 0;
  // Returns how many writes changed a candidate of `account_id` or its tags
  // (deletes and cascades included): the same count read in a snapshot and
  // in a later transaction means none committed in between. nullopt when
  // the store keeps no count (PostgreSQL's, whose servers would all write
  // one row per account and wait for each other's commits to do it).
  virtual absl::StatusOr<std::optional<int64_t>> ChangeCount(
      std::string_view account_id) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_CANDIDATE_REPOSITORY_H_
