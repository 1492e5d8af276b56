#ifndef ATS_STORAGE_FAILURE_H_
#define ATS_STORAGE_FAILURE_H_

// Statuses that report a failure of the storage engine itself (a full disk,
// a lock held too long, a corrupt page) rather than a fact about the data.
// Their messages quote SQL and engine codes: they are for the operator's log,
// and the server replaces them before a client sees them.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace ats::storage {

// The payload that marks such a status. Not a google.rpc type: it never
// leaves the server.
inline constexpr char kStorageFailurePayload[] = "ats.storage/failure";

// Returns `status` marked as a storage failure; OK is returned unchanged.
inline absl::Status MarkStorageFailure(absl::Status status) {
  if (!status.ok()) status.SetPayload(kStorageFailurePayload, absl::Cord());
  return status;
}

// Returns whether `status` is marked as a storage failure.
inline bool IsStorageFailure(const absl::Status& status) {
  return status.GetPayload(kStorageFailurePayload).has_value();
}

// Returns `status`, or, when it is a storage failure, a fresh status with the
// same code and a message for clients that says what to do ("storage is
// full; retry later") instead of quoting SQL.
absl::Status WithoutStorageDetail(const absl::Status& status);

// Returns the start of `sql` on one line, short enough to quote in an error.
std::string AbbreviateSql(std::string_view sql);

}  // namespace ats::storage

#endif  // ATS_STORAGE_FAILURE_H_
