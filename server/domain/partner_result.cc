#include "server/domain/partner_result.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/string_view.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/field_paths.h"
#include "server/domain/moving_rules.h"

namespace ats::server {
namespace {

// Limits of a partner result, documented in partner_event.proto.
constexpr size_t kMaxSummaryLength = 2000;
constexpr int kMaxAttachments = 20;
constexpr size_t kMaxAttachmentNameLength = 200;
constexpr size_t kMaxContentTypeLength = 100;
constexpr size_t kMaxDetailsJsonBytes = 64 * 1024;

}  // namespace

void ValidateResult(Validator& v, std::string_view field,
                    const ats::v1::PartnerResult& result) {
  auto at = [&field](std::string_view child) {
    return absl::StrCat(AbslView(field), ".", AbslView(child));
  };
  v.EnumValue<ats::v1::PartnerResultStatus>(
      at("status"), result.status(), ats::v1::PartnerResultStatus_IsValid,
      /*allow_unspecified=*/false);
  if (result.has_score()) {
    v.Require(std::isfinite(result.score().value()), at("score"),
              "must be a finite number");
  }
  v.MultilineLength(at("summary"), result.summary(), 0, kMaxSummaryLength);
  v.Uri(at("link"), result.link(), /*required=*/false);
  if (v.Require(
          result.attachments_size() <= kMaxAttachments, at("attachments"),
          absl::StrCat("must have at most ", kMaxAttachments, " entries (got ",
                       result.attachments_size(), ")"))) {
    for (int i = 0; i < result.attachments_size(); ++i) {
      const ats::v1::Attachment& attachment = result.attachments(i);
      const std::string path = Indexed(at("attachments"), i);
      v.Length(path + ".display_name", attachment.display_name(), 1,
               kMaxAttachmentNameLength);
      v.Uri(path + ".uri", attachment.uri(), /*required=*/true);
      v.Length(path + ".content_type", attachment.content_type(), 0,
               kMaxContentTypeLength);
    }
  }
  if (result.has_details()) {
    std::string json;
    const bool encoded =
        google::protobuf::util::MessageToJsonString(result.details(), &json)
            .ok();
    v.Require(encoded, at("details"), "must be encodable as JSON");
    if (encoded) {
      v.Require(json.size() <= kMaxDetailsJsonBytes, at("details"),
                absl::StrCat("must be at most 64 KiB in JSON form (got ",
                             json.size(), " bytes)"));
    }
  }
  if (!v.Require(
          result.criteria().size() <= kMaxResultCriteria, at("criteria"),
          absl::StrCat("must have at most ", kMaxResultCriteria, " entries"))) {
    return;
  }
  for (const auto& [id, value] : result.criteria()) {
    const std::string path = absl::StrCat(at("criteria"), "[", id, "]");
    if (!v.Key(path, id)) continue;
    v.Require(value.value_case() != ats::v1::CriterionResult::VALUE_NOT_SET,
              path, "must give an outcome or a score");
    if (value.has_score()) {
      v.Require(std::isfinite(value.score()), path, "must be a finite number");
    }
  }
}

namespace {

// The event state a result with `status` puts its event in. The event's
// state and its result's status never disagree: SENT and PENDING (the
// partner has the event and is at work) go with SENT, COMPLETED and FAILED
// with themselves.
ats::v1::EventState StateOfResult(ats::v1::PartnerResultStatus status) {
  switch (status) {
    case ats::v1::PARTNER_RESULT_STATUS_COMPLETED:
      return ats::v1::EVENT_STATE_COMPLETED;
    case ats::v1::PARTNER_RESULT_STATUS_FAILED:
      return ats::v1::EVENT_STATE_FAILED;
    default:
      return ats::v1::EVENT_STATE_SENT;
  }
}

}  // namespace

absl::Status ApplyResult(const ats::v1::PartnerResult& result, absl::Time now,
                         storage::EventRow& event) {
  switch (event.state) {
    case ats::v1::EVENT_STATE_SENDING:
    case ats::v1::EVENT_STATE_SENT:
    case ats::v1::EVENT_STATE_RETRYING:
      break;
    case ats::v1::EVENT_STATE_COMPLETED:
    case ats::v1::EVENT_STATE_FAILED:
      // A final result may be amended, never overturned.
      if (StateOfResult(result.status()) != event.state) {
        return StateMismatch(
            event,
            absl::StrCat("its result is final and may only be amended with "
                         "the same status, not ",
                         ats::v1::PartnerResultStatus_Name(result.status())));
      }
      break;
    default:
      return WrongState(event, "results are accepted",
                        "SENDING, SENT, RETRYING, COMPLETED or FAILED");
  }
  const ats::v1::EventState state = StateOfResult(result.status());
  event.result =
      event.result.has_value() ? MergeCriteria(*event.result, result) : result;
  *event.result->mutable_report_time() = ToProtoTime(now);
  if (state == ats::v1::EVENT_STATE_FAILED) {
    event.state_reason = result.summary().empty()
                             ? "the partner reported a failure"
                             : result.summary();
  } else {
    event.state_reason.clear();
  }
  if (state != event.state) {
    event.state = state;
    event.update_time = now;
    // The partner has the event: a delivery still under way must not settle
    // it again, nor a scheduled retry send it again.
    event.lease_expire_time.reset();
  }
  return absl::OkStatus();
}

absl::Status StateMismatch(const storage::EventRow& event,
                           const std::string& why) {
  const std::string state = ats::v1::EventState_Name(event.state);
  return WithErrorInfo(
      absl::FailedPreconditionError(absl::StrCat("event ", EventName(event.id),
                                                 " is ", state, "; ", why)),
      "EVENT_STATE_MISMATCH",
      {{"event", EventName(event.id)}, {"state", state}});
}

absl::Status WrongState(const storage::EventRow& event, const std::string& what,
                        const std::string& allowed) {
  return StateMismatch(event, absl::StrCat(what, " only in state ", allowed));
}

}  // namespace ats::server
