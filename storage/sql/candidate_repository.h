#ifndef ATS_STORAGE_SQL_CANDIDATE_REPOSITORY_H_
#define ATS_STORAGE_SQL_CANDIDATE_REPOSITORY_H_

#include "storage/candidate_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// CandidateRepository on one SQL session, inside its open transaction.
// Tags live in candidate_tags; writes replace the candidate's whole set.
// Emails compare after ASCII lower-casing; an empty email never clashes.
class SqlCandidateRepository final : public CandidateRepository {
 public:
  explicit SqlCandidateRepository(Session& db) : db_(db) {}

  absl::Status InsertCandidate(const CandidateRow& candidate) override;
  absl::Status UpdateCandidate(const CandidateRow& candidate) override;
  absl::StatusOr<CandidateRow> GetCandidate(std::string_view account_id,
                                            std::string_view id) override;
  absl::StatusOr<Page<CandidateRow>> ListCandidates(
      std::string_view account_id, const CandidateFilter& filter,
      const PageRequest& page) override;
  absl::Status AddTag(std::string_view account_id, std::string_view id,
                      std::string_view tag, absl::Time when) override;
  absl::Status DeleteCandidate(std::string_view account_id,
                               std::string_view id) override;
  absl::StatusOr<std::optional<int64_t>> ChangeCount(
      std::string_view account_id) override;

 private:
  // Returns ALREADY_EXISTS, naming the candidate that has it, when another
  // candidate of the account has the email of `candidate`. Checked before
  // writing, so no statement fails (see InsertedOrAlreadyExists).
  absl::Status CheckEmailFree(const CandidateRow& candidate);
  // Makes the stored tags of `candidate` exactly `candidate.tags`.
  absl::Status ReplaceTags(const CandidateRow& candidate);
  // Inserts `tag` for the candidate unless present; sets `*added`.
  absl::Status InsertTag(std::string_view account_id,
                         std::string_view candidate_id, std::string_view tag,
                         bool* added);
  // Reads the stored tags of `candidate`, sorted.
  absl::Status ReadTags(CandidateRow& candidate);

  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_CANDIDATE_REPOSITORY_H_
