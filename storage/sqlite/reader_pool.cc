#include "storage/sqlite/reader_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ats::storage::sqlite {

absl::StatusOr<std::unique_ptr<ReaderPool>> ReaderPool::Open(
    const std::string& path, const ReaderPoolOptions& options) {
  if (options.connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("reader pool needs at least one connection, got ",
                     options.connections));
  }
  ConnectionOptions connection_options;
  connection_options.read_only = true;
  connection_options.synchronous_full = options.synchronous_full;
  connection_options.busy_timeout_ms = options.busy_timeout_ms;
  connection_options.cache_kib = options.cache_kib;
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < options.connections; ++i) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Open(path, connection_options);
    if (!connection.ok()) return connection.status();
    connections.push_back(*std::move(connection));
  }
  return std::unique_ptr<ReaderPool>(new ReaderPool(std::move(connections)));
}

ReaderPool::ReaderPool(std::vector<std::unique_ptr<Connection>> connections)
    : connections_(std::move(connections)) {
  absl::MutexLock lock(&mu_);
  for (const std::unique_ptr<Connection>& connection : connections_) {
    idle_.push_back(connection.get());
  }
}

Connection* ReaderPool::Borrow() {
  absl::MutexLock lock(&mu_);
  while (idle_.empty()) returned_.Wait(&mu_);
  Connection* connection = idle_.back();
  idle_.pop_back();
  return connection;
}

void ReaderPool::GiveBack(Connection* connection) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(connection);
  returned_.Signal();
}

absl::Status ReaderPool::Read(const ReadFn& fn) {
  Connection* connection = Borrow();
  // A deferred BEGIN takes its snapshot at the first read and keeps it until
  // COMMIT; without the transaction each statement would see a newer state.
  absl::Status status = connection->Prepare("BEGIN").Run();
  if (status.ok()) {
    status = fn ? fn(*connection)
                : absl::InvalidArgumentError("empty read function");
  }
  // An abandoned cursor would pin the snapshot (and block WAL checkpoints).
  connection->ResetStatements();
  if (connection->in_transaction()) {
    absl::Status end =
        connection->Prepare(status.ok() ? "COMMIT" : "ROLLBACK").Run();
    if (status.ok()) status = end;
    connection->ResetStatements();
  }
  GiveBack(connection);
  return status;
}

}  // namespace ats::storage::sqlite
