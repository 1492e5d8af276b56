#include "client/bulk_progress.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

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
  const int64_t done = operation.created_count() + operation.skipped_count() +
                       operation.failed_count();
  const std::string counts = absl::StrCat(
      done, "/", operation.total_count(), "  created ",
      operation.created_count(), "  skipped ", operation.skipped_count(),
      "  failed ", operation.failed_count(), "  ", Label(operation.state()));
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
