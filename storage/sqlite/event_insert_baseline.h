#ifndef ATS_STORAGE_SQLITE_EVENT_INSERT_BASELINE_H_
#define ATS_STORAGE_SQLITE_EVENT_INSERT_BASELINE_H_

// A yardstick for creating events in bulk: how fast plain SQLite inserts the
// rows a bulk operation writes, with none of the server's work around them.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ats::storage::sqlite {

// Returns the average size in bytes of the payloads of the events in the
// database at `path` (opened read-only), or 0 when it holds no events.
absl::StatusOr<int64_t> AverageEventPayloadBytes(const std::string& path);

// Creates a database at `path` (a new file) with the server's schema, then
// inserts `rows` event rows with payloads of `payload_bytes` bytes in one
// transaction through one prepared statement, and returns how long that
// transaction took, commit included.
absl::StatusOr<absl::Duration> TimeEventInserts(const std::string& path,
                                                int rows, int64_t payload_bytes,
                                                bool synchronous_full);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_EVENT_INSERT_BASELINE_H_
