// What the end-to-end tests against a real partner-sink share: a partner in
// the Marketplace whose webhook is the sink, and an account's active
// integration with it whose signing secret the sink knows.
#ifndef ATS_TESTS_E2E_PARTNER_SETUP_H_
#define ATS_TESTS_E2E_PARTNER_SETUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "tests/delivery/sink_process.h"

namespace ats::testing {

// A client context authenticating with `key`, with a deadline `seconds`
// from now.
std::unique_ptr<grpc::ClientContext> KeyContext(const std::string& key,
                                                int seconds);

// Lists a partner "Assessly" (an assessment vendor asking for candidates'
// given names) that posts to `sink` (at `webhook_url` when given, its
// webhook_url() otherwise), with `operator_key`; activates the integration
// with it of the account of `admin_key`; gives `sink` the integration's
// signing secret. Returns the integration's name.
absl::StatusOr<std::string> ConnectSinkPartner(
    ats::v1::IntegrationService::Stub& integrations,
    const std::string& operator_key, const std::string& admin_key,
    SinkProcess& sink, const std::string& webhook_url = "");

// Creates with `key` an open job without a template whose two stages,
// Inbox and Assessment, are in that order, and whose Assessment stage
// notifies `integration` (a name); returns the job.
absl::StatusOr<ats::v1::Job> CreateJobNotifying(ats::v1::JobService::Stub& jobs,
                                                const std::string& key,
                                                const std::string& integration);

// Reads event `name` with `key` until it is in one of `states` or `timeout`
// has passed (checking every 20 ms); returns it as last read, or the status
// of a read that failed.
absl::StatusOr<ats::v1::Event> AwaitEventState(
    ats::v1::IntegrationService::Stub& integrations, const std::string& key,
    const std::string& name, const std::vector<ats::v1::EventState>& states,
    absl::Duration timeout);

}  // namespace ats::testing

#endif  // ATS_TESTS_E2E_PARTNER_SETUP_H_
