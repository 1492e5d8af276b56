#include "storage/sqlite/database.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/files.h"
#include "storage/sql/values.h"

namespace ats::storage::sqlite {
namespace {

// A group commit of a few hundred moves dirties a few MiB of pages.
constexpr int kWriterCacheKib = 64 * 1024;
// Each reader keeps the hot index pages of a large events table.
constexpr int kReaderCacheKib = 16 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const DatabaseOptions& options) {
  return Open(options, EmbeddedMigrations());
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const DatabaseOptions& options, absl::Span<const Migration> migrations) {
  if (options.path.empty() || options.path == ":memory:") {
    // Readers must reach the writer's data through a shared file.
    return absl::InvalidArgumentError("database path must name a file, got '" +
                                      options.path + "'");
  }
  if (options.reader_connections < 1 || options.writes.max_batch_ops < 1 ||
      options.checkpoint_threshold_pages < 1) {
    return absl::InvalidArgumentError(
        "database needs at least one reader connection, and a batch size and "
        "checkpoint threshold of at least one");
  }
  // Only the service's user may read the data: a new directory is 0700 and
  // a new database file 0600 (its -wal and -shm follow the file's mode).
  absl::Status status = CreatePrivateDirectories(
      std::filesystem::path(options.path).parent_path().string());
  if (!status.ok()) return status;
  status = CreatePrivateFileIfMissing(options.path);
  if (!status.ok()) return status;

  ConnectionOptions writer_options;
  writer_options.synchronous_full = options.synchronous_full;
  writer_options.busy_timeout_ms = options.busy_timeout_ms;
  writer_options.cache_kib = kWriterCacheKib;
  absl::StatusOr<std::unique_ptr<Connection>> writer =
      Connection::Open(options.path, writer_options);
  if (!writer.ok()) return writer.status();
  // Readers open afterwards so they never see a half-migrated schema (and a
  // new file exists, in WAL mode, before a read-only open needs it).
  status = ApplyMigrations(**writer, migrations);
  if (!status.ok()) return status;
  if (options.after_migrations) {
    status = options.after_migrations(**writer);
    if (!status.ok()) return status;
  }
  absl::StatusOr<int64_t> page_bytes = sql::ReadOne<int64_t>(
      (*writer)->Prepare("PRAGMA page_size"),
      [](const sql::Statement& row) { return row.ColumnInt64(0); },
      absl::InternalError("PRAGMA page_size returned nothing"));
  (*writer)->ResetStatements();
  if (!page_bytes.ok()) return page_bytes.status();
  // Every write of the process goes through this connection from here on.
  (*writer)->CacheConfig();

  ConnectionOptions checkpoint_options;
  checkpoint_options.synchronous_full = options.synchronous_full;
  checkpoint_options.busy_timeout_ms = options.busy_timeout_ms;
  absl::StatusOr<std::unique_ptr<Connection>> checkpoint_connection =
      Connection::Open(options.path, checkpoint_options);
  if (!checkpoint_connection.ok()) return checkpoint_connection.status();
  auto checkpointer = std::make_unique<Checkpointer>(
      *std::move(checkpoint_connection), options.checkpoint_threshold_pages);
  Connection* writer_connection = writer->get();
  (*writer)->HandOffCheckpoints(
      [checkpointer = checkpointer.get(), writer_connection](int wal_pages) {
        checkpointer->Committed(*writer_connection, wal_pages);
      });

  ReaderPoolOptions reader_options;
  reader_options.connections = options.reader_connections;
  reader_options.synchronous_full = options.synchronous_full;
  reader_options.busy_timeout_ms = options.busy_timeout_ms;
  reader_options.cache_kib = kReaderCacheKib;
  absl::StatusOr<std::unique_ptr<ReaderPool>> readers =
      ReaderPool::Open(options.path, reader_options);
  if (!readers.ok()) return readers.status();

  auto queue = std::make_unique<WriteQueue>(*std::move(writer), options.writes);
  return std::unique_ptr<Database>(
      new Database(std::move(queue), std::move(checkpointer),
                   *std::move(readers), *page_bytes));
}

Database::Database(std::unique_ptr<WriteQueue> writer,
                   std::unique_ptr<Checkpointer> checkpointer,
                   std::unique_ptr<ReaderPool> readers, int64_t page_bytes)
    : page_bytes_(page_bytes),
      writer_(std::move(writer)),
      checkpointer_(std::move(checkpointer)),
      readers_(std::move(readers)) {}

Database::~Database() {
  // Drain first: DoneFns of queued writes may still read, and commits may
  // still notify the checkpointer. The writer closes last so, as the final
  // connection, it checkpoints and removes the WAL.
  writer_->Shutdown();
  checkpointer_.reset();
  readers_.reset();
  writer_.reset();
}

void Database::Write(WriteFn work, DoneFn done) {
  writer_->Submit(std::move(work), std::move(done));
}

absl::Status Database::WriteAndWait(WriteFn work) {
  return writer_->SubmitAndWait(std::move(work));
}

absl::Status Database::Read(const ReadFn& fn) { return readers_->Read(fn); }

WriteQueueStats Database::write_stats() const { return writer_->stats(); }

int64_t Database::wal_bytes() const {
  return checkpointer_->wal_pages() * page_bytes_;
}

void Database::ShutdownWrites() { writer_->Shutdown(); }

}  // namespace ats::storage::sqlite
