#include "client/bulk_progress.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/errors.h"

namespace ats::client {
namespace {

constexpr int kBarWidth = 30;

// Set by the SIGINT handler; a signal handler may do nothing more.
volatile sig_atomic_t interrupt_signalled = 0;

extern "C" void OnSigint(int) { interrupt_signalled = 1; }

struct sigaction previous_sigint;

}  // namespace

BulkProgress::BulkProgress(const Output& output)
    : mode_(output.structured()          ? Mode::kSilent
            : isatty(STDERR_FILENO) == 1 ? Mode::kBar
                                         : Mode::kLines) {}

void BulkProgress::Update(const ats::v1::BulkOperation& operation) {
  const bool recover = operation.kind() == ats::v1::BULK_OPERATION_KIND_RECOVER;
  const int64_t handled =
      recover ? operation.requeued_count() : operation.created_count();
  const int64_t done =
      handled + operation.skipped_count() + operation.failed_count();
  const std::string counts =
      absl::StrCat(done, "/", operation.total_count(),
                   recover ? "  requeued " : "  created ", handled,
                   "  skipped ", operation.skipped_count(), "  failed ",
                   operation.failed_count(), "  ", Label(operation.state()));
  if (counts == last_) return;
  last_ = counts;
  if (mode_ == Mode::kLines) {
    std::cout << operation.name() << "  " << counts << std::endl;
  } else if (mode_ == Mode::kBar) {
    const int64_t total = operation.total_count();
    const int filled =
        total > 0 ? static_cast<int>(done * kBarWidth / total) : 0;
    std::cerr << "\r[" << std::string(filled, '#')
              << std::string(kBarWidth - filled, '.') << "] " << counts << "   "
              << std::flush;
  }
}

void BulkProgress::Done() {
  if (mode_ == Mode::kBar && !last_.empty()) std::cerr << "\n";
}

void PrintDetached(const std::string& name) {
  std::cerr << "\nStopped watching; the operation goes on";
  if (name.empty()) {
    std::cerr
        << " if the server started it. Find it with: ats-admin bulk-ops list\n";
  } else {
    std::cerr << ". Follow it with: ats-admin bulk-ops watch " << name
              << "\nCancel it with:  ats-admin bulk-ops cancel " << name
              << "\n";
  }
}

void FollowBulkStream(
    Session& session,
    const std::function<
        std::unique_ptr<grpc::ClientReader<ats::v1::BulkOperation>>(
            grpc::ClientContext* context)>& start) {
  auto context = session.connection().NewStreamContext();
  BulkProgress progress(session.output());
  InterruptWatcher interrupt([&context] { context->TryCancel(); });
  auto reader = start(context.get());
  ats::v1::BulkOperation operation;
  for (ats::v1::BulkOperation update; reader->Read(&update);) {
    operation = update;
    progress.Update(operation);
  }
  const grpc::Status status = reader->Finish();
  progress.Done();
  if (interrupt.interrupted()) return PrintDetached(operation.name());
  Check(status);
  session.output().Show(operation);
}

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt) {
  interrupt_signalled = 0;
  struct sigaction action = {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_sigint);
  thread_ = std::thread([this, on_interrupt = std::move(on_interrupt)] {
    while (!stop_.load()) {
      if (interrupt_signalled != 0) {
        fired_ = true;
        on_interrupt();
        return;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  });
}

InterruptWatcher::~InterruptWatcher() {
  stop_ = true;
  thread_.join();
  sigaction(SIGINT, &previous_sigint, nullptr);
}

bool InterruptWatcher::interrupted() const { return fired_.load(); }

}  // namespace ats::client
