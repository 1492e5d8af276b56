#include "server/common/etag.h"

#include <string>

#include "gtest/gtest.h"

namespace ats::server {
namespace {

TEST(EtagTest, Format) {
  EXPECT_EQ(EtagOf(0), "r0");
  EXPECT_EQ(EtagOf(42), "r42");
}

TEST(EtagTest, EmptySkipsTheCheck) { EXPECT_TRUE(CheckEtag("", 7).ok()); }

TEST(EtagTest, MatchingEtagPasses) {
  EXPECT_TRUE(CheckEtag(EtagOf(7), 7).ok());
  EXPECT_TRUE(CheckEtag("\"r7\"", 7).ok());
  EXPECT_TRUE(CheckEtag("W/\"r7\"", 7).ok());
}

TEST(EtagTest, StaleEtagIsAbortedWithReason) {
  absl::Status status = CheckEtag("r3", 5);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(status.message(),
            "the resource changed since it was read (etag r3, now r5); read "
            "it again and reapply your change");
  std::optional<ErrorInfo> info = ErrorInfoOf(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, "ETAG_MISMATCH");
  EXPECT_EQ(info->domain, "ats.v1");
  EXPECT_EQ(info->metadata.at("currentEtag"), "r5");
  EXPECT_EQ(info->metadata.at("givenEtag"), "r3");
}

TEST(EtagTest, GarbageEtagIsAbortedAndQuotedSafely) {
  EXPECT_EQ(CheckEtag("r", 1).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CheckEtag("\"r1", 1).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CheckEtag("r1 ", 1).code(), absl::StatusCode::kAborted);
  absl::Status status = CheckEtag(std::string(1000, '\x01'), 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_LT(status.message().size(), 400u);
  EXPECT_EQ(status.message().find('\x01'), std::string::npos);
}

}  // namespace
}  // namespace ats::server
