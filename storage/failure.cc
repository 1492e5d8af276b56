#include "storage/failure.h"

namespace ats::storage {
namespace {

// What a client is told of a storage failure with `code`: what happened in
// its terms, and what to do next.
const char* StorageFailureMessage(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kResourceExhausted:
      return "storage is full; retry later";
    case absl::StatusCode::kUnavailable:
      return "storage is busy; retry later";
    case absl::StatusCode::kAborted:
      return "the change kept conflicting with concurrent changes; retry it";
    case absl::StatusCode::kAlreadyExists:
      return "the change clashes with a stored resource of the same identity";
    case absl::StatusCode::kFailedPrecondition:
      return "the change conflicts with the stored data; the server's log "
             "has the details";
    default:
      return "internal storage error; the server's log has the details";
  }
}

}  // namespace

absl::Status WithoutStorageDetail(const absl::Status& status) {
  if (!storage::IsStorageFailure(status)) return status;
  // A fresh status: the marker, and anything else attached, stay here.
  return absl::Status(status.code(), StorageFailureMessage(status.code()));
}

std::string AbbreviateSql(std::string_view sql) {
  constexpr size_t kMaxLength = 80;
  std::string out;
  bool pending_space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
    if (out.size() >= kMaxLength) {
      out.append("...");
      break;
    }
  }
  return out;
}

}  // namespace ats::storage
