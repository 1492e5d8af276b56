// OperationsService: backups. BackupDatabase copies the database through
// the store (Store::Backup) and streams the copy, all on a thread of the
// call's own.

#include "server/api/operations_service.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/logging.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

// The most bytes of the file one message carries: 768 KiB, a multiple of 3
// (see BackupDatabaseResponse.data).
constexpr size_t kMaxChunkBytes = 768 * 1024;
// Room in a message for its other field and the framing of both.
constexpr int kMessageOverheadBytes = 64;

// The bytes of the file per message within `max_message_bytes`: a multiple
// of 3, and at least 3.
size_t ChunkBytes(int max_message_bytes) {
  const int room = std::max(max_message_bytes - kMessageOverheadBytes, 3);
  return std::min(kMaxChunkBytes, static_cast<size_t>(room / 3 * 3));
}

// One BackupDatabase call. A thread of its own takes the copy, which can
// take minutes for a large database, then reads it one piece at a time and
// sends each piece once the one before is written: no gRPC thread waits for
// the disk, and a slow client holds up one piece of memory, not the file.
class BackupStream final
    : public grpc::ServerWriteReactor<ats::v1::BackupDatabaseResponse> {
 public:
  // `method` names the RPC in the call's log line and outlives the call.
  BackupStream(storage::Store& store, size_t chunk_bytes,
               const std::string& method)
      : store_(store), chunk_bytes_(chunk_bytes), method_(method) {}

  // Takes and streams the backup for `caller`.
  void Start(const Caller& caller) {
    caller_ = caller;
    worker_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "operations");
      Run();
    });
  }

  // Ends the call with `status` without taking a backup.
  void Fail(const absl::Status& status) { End(status); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_ok_ = ok;
    writing_ = false;
  }

  void OnCancel() override { cancelled_ = true; }

  void OnDone() override {
    // gRPC runs OnDone on a thread of its own once Finish is done, which
    // the worker calls last: it has nothing left to do but return.
    if (worker_.joinable()) worker_.join();
    delete this;
  }

 private:
  void Run() {
    absl::StatusOr<storage::BackupCopy> copy =
        store_.Backup([this] { return cancelled_.load(); });
    if (!copy.ok()) return End(copy.status());
    response_.set_total_bytes(copy->size);
    while (bytes_sent_ < copy->size) {
      std::string* data = response_.mutable_data();
      data->resize(static_cast<size_t>(std::min<int64_t>(
          static_cast<int64_t>(chunk_bytes_), copy->size - bytes_sent_)));
      if (!copy->bytes->read(data->data(),
                             static_cast<std::streamsize>(data->size()))) {
        return End(absl::InternalError(
            absl::StrCat("cannot read the backup copy at byte ", bytes_sent_)));
      }
      if (!Send()) return End(absl::CancelledError("the client went away"));
      bytes_sent_ += static_cast<int64_t>(data->size());
    }
    End(absl::OkStatus());
  }

  // Writes response_ and waits until it is written; false when the client
  // went away.
  bool Send() {
    {
      absl::MutexLock lock(&mu_);
      writing_ = true;
    }
    StartWrite(&response_);
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* writing) { return !*writing; }, &writing_));
    return write_ok_;
  }

  // Logs the call and finishes it with `outcome`.
  void End(const absl::Status& outcome) {
    const absl::Status status = ForClient(outcome, method_);
    CallLog log = CallLogOf(method_, status, start_, caller_);
    log.bytes = static_cast<int64_t>(bytes_sent_);
    LogCall(log);
    Finish(ToGrpcStatus(status));
  }

  storage::Store& store_;
  const size_t chunk_bytes_;
  const std::string& method_;
  const absl::Time start_ = absl::Now();
  Caller caller_;
  std::thread worker_;
  std::atomic<bool> cancelled_{false};
  // Only the worker touches these once it runs.
  ats::v1::BackupDatabaseResponse response_;
  int64_t bytes_sent_ = 0;

  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

OperationsService::OperationsService(ServiceEnv env, int max_message_bytes)
    : env_(env), chunk_bytes_(ChunkBytes(max_message_bytes)) {}

grpc::ServerWriteReactor<ats::v1::BackupDatabaseResponse>*
OperationsService::BackupDatabase(
    grpc::CallbackServerContext* context,
    const ats::v1::BackupDatabaseRequest* request) {
  const MethodPolicy* policy =
      env_.methods.ForRequest(*request->GetDescriptor());
  auto* stream =
      new BackupStream(env_.store, chunk_bytes_, MethodName(policy, *request));
  absl::StatusOr<Caller> caller = Admit(env_, *context, *request, policy);
  if (!caller.ok()) {
    stream->Fail(caller.status());
  } else {
    stream->Start(*caller);
  }
  return stream;
}

}  // namespace ats::server
