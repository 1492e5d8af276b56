#ifndef ATS_STORAGE_SQLITE_MOVE_CEILING_H_
#define ATS_STORAGE_SQLITE_MOVE_CEILING_H_

// A yardstick for MoveCandidate: how fast plain SQLite writes the rows one
// move into a stage with two partner triggers writes, with none of the
// server's work (reads, checks, protos, gRPC) around them.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ats::storage::sqlite {

// Creates a database at `path` (a new file) with the server's schema, seeds
// it with an account, two partner integrations and a job whose two trigger
// stages each carry one trigger per integration, with `applications`
// candidates added to the job, then makes `moves` moves (each application in
// turn, back and forth between the trigger stages) committing every 64, and
// returns the moves per second of those commits.
//
// A move writes what MoveCandidate writes there, through plain prepared
// statements: the application's update, one stage transition, and two
// PENDING events with payloads of `payload_bytes` bytes and every column the
// server fills, the delivery destination included. With
// CeilingRows::kMoveAndDelivery it also writes, in the same commit, the
// least that delivering those two events writes: each event settled SENT
// and one attempt row for it. Nothing that records every attempt and
// settles every event on SQLite's one writer writes less for a move with
// delivery on (the server also claims each event first).
enum class CeilingRows { kMove, kMoveAndDelivery };
absl::StatusOr<double> MeasureMoveCeiling(
    const std::string& path, int applications, int moves, int64_t payload_bytes,
    bool synchronous_full, CeilingRows rows = CeilingRows::kMove);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_MOVE_CEILING_H_
