#ifndef ATS_SERVER_CONTRACT_TIMESTAMPS_H_
#define ATS_SERVER_CONTRACT_TIMESTAMPS_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace ats::server {

// Returns `t` as a google.protobuf.Timestamp (microsecond precision, which is
// what storage keeps).
inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(t));
}

// Returns `t` as an absl::Time, to the microsecond (as storage keeps it).
inline absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}

// Returns `d` as an absl::Duration.
inline absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Returns `d` as a google.protobuf.Duration (microsecond precision).
inline google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  return google::protobuf::util::TimeUtil::MicrosecondsToDuration(
      absl::ToInt64Microseconds(d));
}

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_TIMESTAMPS_H_
