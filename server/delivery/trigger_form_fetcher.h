#ifndef ATS_SERVER_DELIVERY_TRIGGER_FORM_FETCHER_H_
#define ATS_SERVER_DELIVERY_TRIGGER_FORM_FETCHER_H_

// The TriggerFormSource of the server: partners' config endpoints asked over
// a Connector (an HttpConnector made with TriggerFormConnectorOptions), and
// their forms kept for a short while.

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "server/delivery/connector.h"
#include "server/delivery/http_connector.h"
#include "server/domain/trigger_form.h"

namespace ats::server {

// The options of the HttpConnector that asks config endpoints: 5 s for the
// whole request, answers of up to kMaxTriggerFormBytes (a longer one is
// refused unread), to the addresses `destinations` allows.
HttpConnectorOptions TriggerFormConnectorOptions(
    const DestinationPolicy& destinations);

// Fetches each form as one signed POST through a Connector (see
// TriggerFormSource::Fetch for the outcomes), and keeps every form it got
// for `cache_ttl` per (form URI, integration, job or template, stage): a
// fetch of a kept form answers at once, without asking the partner. Errors
// are not kept. Thread-safe.
class TriggerFormFetcher final : public TriggerFormSource {
 public:
  // `connector`, `clock` and `random` must outlive the fetcher; a zero
  // `cache_ttl` keeps nothing.
  TriggerFormFetcher(Connector& connector, const Clock& clock,
                     RandomSource& random, absl::Duration cache_ttl);

  void Fetch(TriggerFormFetch fetch, Done done) override;

 private:
  struct Kept {
    ats::v1::TriggerForm form;
    absl::Time expiry;
  };

  // Keeps `form` under `key` until the clock's now plus the TTL.
  void Keep(const std::string& key, const ats::v1::TriggerForm& form);

  Connector& connector_;
  const Clock& clock_;
  RandomSource& random_;
  const absl::Duration cache_ttl_;
  absl::Mutex mu_;
  std::map<std::string, Kept> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_TRIGGER_FORM_FETCHER_H_
