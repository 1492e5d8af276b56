#include "server/request_log_janitor.h"

#include <pthread.h>

#include "server/api/idempotency.h"
#include "server/contract/errors.h"
#include "spdlog/spdlog.h"

namespace ats::server {

RequestLogJanitor::RequestLogJanitor(storage::Store& store, const Clock& clock,
                                     absl::Duration interval)
    : store_(store), clock_(clock), interval_(interval) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "request-janitor");
    Run();
  });
}

RequestLogJanitor::~RequestLogJanitor() {
  stop_.Notify();
  thread_.join();
}

void RequestLogJanitor::Run() {
  do {
    int64_t purged = 0;
    absl::Status status = store_.WriteAndWait([&](storage::Transaction& txn) {
      auto deleted = txn.requests().DeleteOlderThan(clock_.Now() -
                                                    kRequestIdRetention);
      if (!deleted.ok()) return deleted.status();
      purged = *deleted;
      return absl::OkStatus();
    });
    if (!status.ok()) {
      spdlog::warn("request log purge failed: {}", LogText(status));
    } else if (purged > 0) {
      spdlog::info("forgot {} request ids older than the retention window",
                   purged);
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval_));
}

}  // namespace ats::server
