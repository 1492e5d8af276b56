// Showing a bulk operation's progress as it runs: a bar redrawn in place on
// a terminal, plain lines (one per change) otherwise, nothing with JSON
// output; and Ctrl-C as "stop watching" rather than "stop the operation".
#ifndef ATS_CLIENT_BULK_PROGRESS_H_
#define ATS_CLIENT_BULK_PROGRESS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ats/v1/integration_service.grpc.pb.h"
#include "client/output.h"
#include "client/session.h"
#include "grpcpp/support/sync_stream.h"

namespace ats::client {

class BulkProgress {
 public:
  // Draws on stderr when it is a terminal, else prints lines to stdout;
  // prints nothing when `output` is JSON.
  explicit BulkProgress(const Output& output);

  // Shows `operation`'s counters if they changed since the last call.
  void Update(const ats::v1::BulkOperation& operation);

  // Ends the bar's line, if one is drawn.
  void Done();

 private:
  enum class Mode { kBar, kLines, kSilent };
  Mode mode_;
  std::string last_;
};

// Tells the user how to follow an operation they stopped watching.
void PrintDetached(const std::string& name);

// Starts a bulk operation with `start` (a BulkTriggerIntegration or
// RecoverEvents call on the context it is given) and shows its progress from
// the stream until it ends, or until Ctrl-C, which stops watching but not
// the operation; then shows the operation.
void FollowBulkStream(
    Session& session,
    const std::function<
        std::unique_ptr<grpc::ClientReader<ats::v1::BulkOperation>>(
            grpc::ClientContext* context)>& start);

// While alive, Ctrl-C (SIGINT) calls `on_interrupt` once, from a thread of
// its own, instead of killing the process; the previous handling comes back
// after. interrupted() says whether it happened.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(std::function<void()> on_interrupt);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  bool interrupted() const;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace ats::client

#endif  // ATS_CLIENT_BULK_PROGRESS_H_
