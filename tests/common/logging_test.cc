// The log's two forms: every JSON line parses (with protobuf's strict JSON
// parser) and carries a call's fields; the text form is the one operators
// know.

#include "server/common/logging.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

using google::protobuf::Struct;

// Points spdlog's default logger at a string for the test's length.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("", sink));
    spdlog::set_level(spdlog::level::info);
  }
  void TearDown() override {
    SetLogFormat(LogFormat::kText);
    spdlog::set_default_logger(previous_);
  }

  std::vector<std::string> Lines() {
    return absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  }

  static CallLog FailedCall() {
    CallLog call;
    call.method = "ats.v1.JobService.GetJob";
    call.code = absl::StatusCode::kNotFound;
    call.error = "job \"jobs/x\" not found";
    call.latency = absl::Microseconds(1500);
    call.account = "acc1";
    call.key = "key1";
    return call;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

Struct ParseJson(const std::string& line) {
  Struct parsed;
  const auto status =
      google::protobuf::util::JsonStringToMessage(line, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << line;
  return parsed;
}

TEST_F(LoggingTest, TextIsTheFamiliarLine) {
  SetLogFormat(LogFormat::kText);
  LogCall(FailedCall());
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u) << out_.str();
  EXPECT_TRUE(
      absl::EndsWith(lines[0],
                     "] [info] rpc ats.v1.JobService.GetJob code=NOT_FOUND "
                     "latency_ms=1.500 account=acc1 key=key1 "
                     "error=\"job \"jobs/x\" not found\""))
      << lines[0];
}

TEST_F(LoggingTest, JsonLinesCarryTheCallsFields) {
  SetLogFormat(LogFormat::kJson);
  LogCall(FailedCall());
  CallLog malformed;
  malformed.method = "ats.v1.JobService/GetJob";
  malformed.code = absl::StatusCode::kInvalidArgument;
  malformed.error = "malformed request";
  LogCall(malformed);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u) << out_.str();

  const Struct call = ParseJson(lines[0]);
  const auto& fields = call.fields();
  EXPECT_EQ(fields.at("level").string_value(), "info");
  EXPECT_EQ(fields.at("msg").string_value(), "rpc");
  EXPECT_EQ(fields.at("method").string_value(), "ats.v1.JobService.GetJob");
  EXPECT_EQ(fields.at("code").string_value(), "NOT_FOUND");
  EXPECT_DOUBLE_EQ(fields.at("latency_ms").number_value(), 1.5);
  EXPECT_EQ(fields.at("account").string_value(), "acc1");
  EXPECT_EQ(fields.at("key").string_value(), "key1");
  EXPECT_EQ(fields.at("error").string_value(), "job \"jobs/x\" not found");
  // RFC 3339 in UTC.
  EXPECT_TRUE(absl::EndsWith(fields.at("time").string_value(), "Z"))
      << lines[0];

  const Struct refused = ParseJson(lines[1]);
  EXPECT_EQ(refused.fields().at("code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(refused.fields().count("latency_ms"), 0u) << lines[1];
  EXPECT_EQ(refused.fields().count("key"), 0u) << lines[1];
}

TEST_F(LoggingTest, JsonEscapesAnyMessage) {
  SetLogFormat(LogFormat::kJson);
  spdlog::warn("quote \" backslash \\ tab \t newline \n bell \a");
  spdlog::error("caf\xc3\xa9 stray \xff byte, cut \xe2\x82");
  spdlog::info("{{braces}} are {}", "kept");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  const Struct warned = ParseJson(lines[0]);
  EXPECT_EQ(warned.fields().at("level").string_value(), "warning");
  EXPECT_EQ(warned.fields().at("msg").string_value(),
            "quote \" backslash \\ tab \t newline \n bell \a");
  EXPECT_EQ(
      ParseJson(lines[1]).fields().at("msg").string_value(),
      "caf\xc3\xa9 stray \xef\xbf\xbd byte, cut \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ParseJson(lines[2]).fields().at("msg").string_value(),
            "{braces} are kept");
}

TEST_F(LoggingTest, LevelStillDecides) {
  SetLogFormat(LogFormat::kJson);
  spdlog::set_level(spdlog::level::warn);
  LogCall(FailedCall());
  spdlog::info("not shown");
  EXPECT_EQ(out_.str(), "");
}

TEST(LogFormatTest, ParsesTheTwoNames) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("JSON").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLogFormat("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ats::server
