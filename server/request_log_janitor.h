#ifndef ATS_SERVER_REQUEST_LOG_JANITOR_H_
#define ATS_SERVER_REQUEST_LOG_JANITOR_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "storage/store.h"

namespace ats::server {

// Forgets logged requests older than the request_id retention window, at
// start and then every `interval`, on a thread of its own.
class RequestLogJanitor {
 public:
  RequestLogJanitor(storage::Store& store, const Clock& clock,
                    absl::Duration interval = absl::Minutes(10));
  // Stops the thread; a purge under way finishes first.
  ~RequestLogJanitor();

  RequestLogJanitor(const RequestLogJanitor&) = delete;
  RequestLogJanitor& operator=(const RequestLogJanitor&) = delete;

 private:
  void Run();

  storage::Store& store_;
  const Clock& clock_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_REQUEST_LOG_JANITOR_H_
