#include "server/api/idempotency.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/contract/digests.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

// Map fields make plain serialization order-dependent; fingerprints must not
// be.
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace

absl::Status RunOnce(
    storage::Transaction& txn, const Caller& caller, std::string_view method,
    std::string_view request_id, const google::protobuf::Message& request,
    google::protobuf::Message* response, absl::Time now,
    const std::function<absl::Status()>& work,
    const std::function<void(google::protobuf::Message*)>& redact) {
  if (request_id.empty()) return work();
  const std::string fingerprint = Sha256(DeterministicBytes(request));
  auto logged = txn.requests().Find(caller.account_id, method, request_id);
  if (!logged.ok()) return logged.status();
  // An entry past the retention window may linger until the janitor's next
  // purge; it no longer counts.
  if (logged->has_value() &&
      (*logged)->create_time >= now - kRequestIdRetention) {
    if ((*logged)->request_hash != fingerprint) {
      return InvalidArgument({{"request_id",
                               "was already used for a different request; "
                               "use a new request_id for a new request"}});
    }
    if (!response->ParseFromString((*logged)->response)) {
      return absl::DataLossError(
          absl::StrCat("logged response of request ", std::string(request_id),
                       " is corrupt"));
    }
    return absl::OkStatus();
  }
  absl::Status status = work();
  if (!status.ok()) return status;
  std::unique_ptr<google::protobuf::Message> logged_response(response->New());
  logged_response->CopyFrom(*response);
  if (redact) redact(logged_response.get());
  return txn.requests().Insert(storage::LoggedRequest{
      caller.account_id, std::string(method), std::string(request_id),
      fingerprint, DeterministicBytes(*logged_response), now});
}

}  // namespace ats::server
