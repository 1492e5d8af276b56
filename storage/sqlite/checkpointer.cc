#include "storage/sqlite/checkpointer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace ats::storage::sqlite {

Checkpointer::Checkpointer(std::unique_ptr<Connection> connection,
                           int threshold_pages)
    : connection_(std::move(connection)), threshold_pages_(threshold_pages) {
  absl::MutexLock lock(&join_mu_);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wal-checkpoint");
    Run();
  });
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Committed(Connection& writer, int wal_pages) {
  wal_pages_.store(wal_pages, std::memory_order_relaxed);
  if (wal_pages < threshold_pages_) return;
  {
    absl::MutexLock lock(&mu_);
    due_ = true;
  }
  if (wal_pages >= 2 * threshold_pages_) Checkpoint(writer);
}

void Checkpointer::Checkpoint(Connection& connection) {
  absl::MutexLock lock(&checkpoint_mu_);
  absl::Status status = connection.CheckpointPassive();
  // The next commit asks again; a failure (an I/O error) must not stop the
  // writer, only let the WAL grow until a checkpoint succeeds.
  if (!status.ok()) {
    spdlog::warn("storage: WAL checkpoint failed: {}", status.ToString());
  }
}

void Checkpointer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

bool Checkpointer::ShouldWake() const { return due_ || stopping_; }

void Checkpointer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Checkpointer::ShouldWake));
      if (stopping_) return;
      due_ = false;
    }
    Checkpoint(*connection_);
  }
}

}  // namespace ats::storage::sqlite
