#ifndef ATS_STORAGE_DELIVERY_DESTINATION_H_
#define ATS_STORAGE_DELIVERY_DESTINATION_H_

#include <string>
#include <string_view>

namespace ats::storage {

// Returns the key that delivery concurrency is limited and shared by: the
// integration id for a partner event, and for a webhook event (no
// integration) the account with the lowercased host[:port] of `webhook_uri`,
// so that one account's slow webhook host never holds another's deliveries.
// Stored with each event, so that a claim passes over a destination's whole
// backlog at once.
std::string DeliveryDestination(std::string_view account_id,
                                std::string_view integration_id,
                                std::string_view webhook_uri);

}  // namespace ats::storage

#endif  // ATS_STORAGE_DELIVERY_DESTINATION_H_
