#ifndef ATS_STORAGE_POSTGRES_MIGRATIONS_H_
#define ATS_STORAGE_POSTGRES_MIGRATIONS_H_

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "storage/migration.h"
#include "storage/postgres/connection.h"

namespace ats::storage::postgres {

// Returns the migrations built from storage/postgres/migrations/NNNN_name.sql,
// ordered by version (the definition is generated at build time).
absl::Span<const Migration> EmbeddedMigrations();

// Brings the database on `connection` (not in a transaction) up to the
// newest embedded migration.
absl::Status ApplyMigrations(Connection& connection);

// Applies each of `migrations` newer than the database's version (recorded
// in table ats_schema_migrations), each in its own transaction that also
// records it, stopping at the first failure, whose transaction leaves no
// trace. A migration whose SQL starts with the line "-- ats:no-transaction"
// runs instead one statement at a time outside a transaction (as CREATE
// INDEX CONCURRENTLY must), and is recorded after its last statement; a
// failure leaves the statements before it done, so each must be safe to run
// again. Replicas starting together take turns: each migration runs under an
// advisory lock, asked for again every 50 ms rather than waited on, and
// re-reads the version under it.
// Returns FAILED_PRECONDITION if the database is newer than every
// migration, since a newer schema must not be written by older code.
absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const Migration> migrations);

}  // namespace ats::storage::postgres

#endif  // ATS_STORAGE_POSTGRES_MIGRATIONS_H_
