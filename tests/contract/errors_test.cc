#include "server/contract/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "storage/failure.h"

namespace ats::server {
namespace {

TEST(InvalidArgumentTest, MessageListsEveryViolation) {
  absl::Status status =
      InvalidArgument({{"job.title", "must be 1 to 200 characters"},
                       {"page_size", "must not be negative"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "invalid request: job.title: must be 1 to 200 characters; "
            "page_size: must not be negative");
}

TEST(InvalidArgumentTest, CarriesBadRequestPayload) {
  absl::Status status = InvalidArgument({{"a", "x"}, {"b.c", "y"}});
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  ASSERT_TRUE(payload.has_value());
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(bad_request.ParseFromString(std::string(*payload)));
  ASSERT_EQ(bad_request.field_violations_size(), 2);
  EXPECT_EQ(bad_request.field_violations(1).field(), "b.c");
  EXPECT_EQ(bad_request.field_violations(1).description(), "y");

  std::vector<FieldViolation> expected = {{"a", "x"}, {"b.c", "y"}};
  EXPECT_EQ(FieldViolationsOf(status), expected);
}

TEST(InvalidArgumentTest, NoViolationsStillInvalid) {
  absl::Status status = InvalidArgument({});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid request");
  EXPECT_TRUE(FieldViolationsOf(status).empty());
}

TEST(FieldViolationsOfTest, NoneWithoutOrWithCorruptPayload) {
  EXPECT_TRUE(FieldViolationsOf(absl::OkStatus()).empty());
  EXPECT_TRUE(FieldViolationsOf(absl::NotFoundError("x")).empty());
  absl::Status corrupt = absl::InvalidArgumentError("x");
  corrupt.SetPayload(kBadRequestTypeUrl, absl::Cord("\xff\xff\xff"));
  EXPECT_TRUE(FieldViolationsOf(corrupt).empty());
}

TEST(WithErrorInfoTest, AttachesReasonDomainAndMetadata) {
  absl::Status status =
      WithErrorInfo(absl::FailedPreconditionError("stage has candidates"),
                    "STAGE_NOT_EMPTY", {{"candidateCount", "3"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "stage has candidates");
  std::optional<ErrorInfo> info = ErrorInfoOf(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "STAGE_NOT_EMPTY");
  EXPECT_EQ(info->domain, "ats.v1");
  EXPECT_EQ(info->metadata.at("candidateCount"), "3");
}

TEST(WithErrorInfoTest, OkStaysOk) {
  EXPECT_TRUE(WithErrorInfo(absl::OkStatus(), "X").ok());
  EXPECT_FALSE(ErrorInfoOf(absl::OkStatus()).has_value());
  EXPECT_FALSE(ErrorInfoOf(absl::InternalError("x")).has_value());
}

TEST(ToGrpcStatusTest, Ok) {
  grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(status.error_details().empty());
}

TEST(ToGrpcStatusTest, PlainErrorHasNoDetails) {
  grpc::Status status = ToGrpcStatus(absl::NotFoundError("job not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "job not found");
  EXPECT_TRUE(status.error_details().empty());
}

TEST(ToGrpcStatusTest, EveryCanonicalCodeMapsToItself) {
  for (int code = 1; code <= 16; ++code) {
    grpc::Status status =
        ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(code), "m"));
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
  }
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(99), "m"))
                .error_code(),
            grpc::StatusCode::UNKNOWN);
}

TEST(ToGrpcStatusTest, DetailsParseAsGoogleRpcStatusWithBadRequest) {
  absl::Status original = WithErrorInfo(
      InvalidArgument({{"job.title", "must be 1 to 200 characters"}}),
      "SOME_REASON");
  grpc::Status status = ToGrpcStatus(original);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), original.message());

  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(details.message(), original.message());
  ASSERT_EQ(details.details_size(), 2);

  bool saw_bad_request = false;
  bool saw_error_info = false;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::BadRequest bad_request;
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::BadRequest>()) {
      ASSERT_TRUE(any.UnpackTo(&bad_request));
      ASSERT_EQ(bad_request.field_violations_size(), 1);
      EXPECT_EQ(bad_request.field_violations(0).field(), "job.title");
      saw_bad_request = true;
    } else if (any.Is<google::rpc::ErrorInfo>()) {
      ASSERT_TRUE(any.UnpackTo(&info));
      EXPECT_EQ(info.reason(), "SOME_REASON");
      EXPECT_EQ(info.domain(), "ats.v1");
      saw_error_info = true;
    }
  }
  EXPECT_TRUE(saw_bad_request);
  EXPECT_TRUE(saw_error_info);
}

TEST(FromGrpcStatusTest, RoundTripRestoresPayloads) {
  absl::Status original = WithErrorInfo(InvalidArgument({{"a", "x"}}),
                                        "ETAG_MISMATCH", {{"k", "v"}});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back, original);
  EXPECT_EQ(FieldViolationsOf(back), FieldViolationsOf(original));
  ASSERT_TRUE(ErrorInfoOf(back).has_value());
  EXPECT_EQ(ErrorInfoOf(back)->metadata.at("k"), "v");
}

TEST(FromGrpcStatusTest, OkAndGarbageDetails) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "down", "\xff\xfe garbage"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "down");
  EXPECT_TRUE(FieldViolationsOf(status).empty());
}

TEST(WithRetryInfoTest, TravelsAsGoogleRpcRetryInfo) {
  absl::Status status = WithRetryInfo(absl::ResourceExhaustedError("slow down"),
                                      absl::Milliseconds(1500));
  grpc::Status sent = ToGrpcStatus(status);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(sent.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::RetryInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.retry_delay().seconds(), 1);
  EXPECT_EQ(info.retry_delay().nanos(), 500000000);
  EXPECT_EQ(RetryDelayOf(FromGrpcStatus(sent)), absl::Milliseconds(1500));
}

TEST(WithRetryInfoTest, RoundsUpToWholeMilliseconds) {
  absl::Status status = WithRetryInfo(absl::ResourceExhaustedError("wait"),
                                      absl::Microseconds(2001));
  EXPECT_EQ(RetryDelayOf(status), absl::Milliseconds(3));
  EXPECT_TRUE(WithRetryInfo(absl::OkStatus(), absl::Seconds(1)).ok());
  EXPECT_EQ(RetryDelayOf(absl::ResourceExhaustedError("no detail")),
            std::nullopt);
}

TEST(WithoutStorageDetailTest, ReplacesTheMessageOfStorageFailuresOnly) {
  const absl::Status full = storage::MarkStorageFailure(
      absl::ResourceExhaustedError("step `COMMIT`: database or disk is full "
                                   "(sqlite code 13)"));
  const absl::Status shown = storage::WithoutStorageDetail(full);
  EXPECT_EQ(shown.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(shown.message(), "storage is full; retry later");
  // The marker stays in the server: the client gets no details at all.
  EXPECT_TRUE(ToGrpcStatus(shown).error_details().empty());

  EXPECT_EQ(storage::WithoutStorageDetail(storage::MarkStorageFailure(
                                     absl::UnavailableError("locked")))
                .message(),
            "storage is busy; retry later");
  const absl::Status corrupt = storage::WithoutStorageDetail(
      storage::MarkStorageFailure(absl::InternalError("malformed page")));
  EXPECT_EQ(corrupt.code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(absl::StrContains(corrupt.message(), "page"));

  // Errors written for clients pass unchanged.
  const absl::Status ours = absl::NotFoundError("job jobs/1 not found");
  EXPECT_EQ(storage::WithoutStorageDetail(ours), ours);
}

}  // namespace
}  // namespace ats::server
