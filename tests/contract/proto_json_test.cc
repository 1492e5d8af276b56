// MessageToJson against protobuf's own printer: the same bytes for what
// webhooks carry, the same value for any string, and protobuf's answer
// for what it leaves to protobuf.

#include "server/contract/proto_json.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/partner_event.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "tests/support/property.h"

namespace ats::server {
namespace {

using ats::v1::PartnerEvent;
using google::protobuf::util::MessageDifferencer;

std::string ProtobufJson(const google::protobuf::Message& message) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &json).ok());
  return json;
}

std::string OurJson(const google::protobuf::Message& message) {
  std::string json = "left over";
  EXPECT_TRUE(MessageToJson(message, &json).ok());
  return json;
}

// Every field a webhook body can carry, set.
PartnerEvent FullEvent() {
  PartnerEvent event;
  event.set_event_id("events/2345abcdefghijkl");
  event.set_account("accounts/abcdefghijklmnop");
  event.set_integration("integrations/abcdefghijklmnop");
  event.set_partner("partners/testlab");
  event.set_source(ats::v1::EVENT_SOURCE_STAGE_TRIGGER);
  event.mutable_stage_trigger()->set_trigger("jobs/j/stages/s/triggers/t");
  event.mutable_stage_trigger()->set_stage("jobs/j/stages/s");
  event.mutable_stage_trigger()->set_stage_display_name("Phone screen");
  event.set_job("jobs/abcdefghijklmnop");
  event.set_job_title("Senior \"platform\" engineer <remote>\\\t\n");
  event.set_triggered_by("apiKeys/abcdefghijklmnop");
  (*event.mutable_option_values())["test"] = "logic-1";
  ats::v1::CandidateSnapshot* candidate = event.mutable_candidate();
  candidate->set_name("candidates/abcdefghijklmnop");
  candidate->set_given_name("Ada");
  candidate->set_family_name("Lovelace");
  candidate->set_email("ada@example.com");
  candidate->set_phone("+44 20 7946 0000");
  candidate->add_tags("analytical");
  candidate->add_tags("engines");
  event.mutable_create_time()->set_seconds(1700000000);
  event.mutable_create_time()->set_nanos(120000000);
  event.mutable_result_reporting()->set_method("POST");
  event.mutable_result_reporting()->set_event("events/2345abcdefghijkl");
  return event;
}

TEST(ProtoJsonTest, WritesAWebhookBodyAsProtobufDoes) {
  const PartnerEvent event = FullEvent();
  EXPECT_EQ(OurJson(event), ProtobufJson(event));
  EXPECT_EQ(OurJson(PartnerEvent()), "{}");
}

TEST(ProtoJsonTest, WritesNotificationsAsProtobufDoes) {
  PartnerEvent dead;
  dead.set_source(ats::v1::EVENT_SOURCE_NOTIFICATION);
  dead.mutable_notification()->set_type("event.dead");
  auto* details = dead.mutable_notification()->mutable_event_dead();
  details->set_event("events/e");
  details->set_attempt_count(7);
  details->set_reason("HTTP 500");
  EXPECT_EQ(OurJson(dead), ProtobufJson(dead));

  PartnerEvent finished;
  auto* bulk =
      finished.mutable_notification()->mutable_bulk_operation_finished();
  bulk->set_total_count(9007199254740993);  // beyond a JavaScript number
  bulk->set_failed_count(-1);
  bulk->mutable_create_time()->set_seconds(-62135596800);  // 0001-01-01
  bulk->mutable_create_time()->set_nanos(1);
  EXPECT_EQ(OurJson(finished), ProtobufJson(finished));
}

TEST(ProtoJsonTest, EscapesEveryAsciiCharacterAsProtobufDoes) {
  PartnerEvent event;
  std::string every;
  for (int c = 1; c < 0x80; ++c) every.push_back(static_cast<char>(c));
  event.set_job_title(every);
  (*event.mutable_option_values())[every] = every;
  EXPECT_EQ(OurJson(event), ProtobufJson(event));
}

TEST(ProtoJsonTest, WritesAnEnumNumberItDoesNotKnowAsTheNumber) {
  PartnerEvent event;
  event.set_source(static_cast<ats::v1::EventSource>(99));
  EXPECT_EQ(OurJson(event), ProtobufJson(event));
  EXPECT_EQ(OurJson(event), R"({"source":99})");
}

TEST(ProtoJsonTest, LeavesWhatItDoesNotWriteToProtobuf) {
  // Doubles inside a google.protobuf.Struct.
  ats::v1::PartnerResult result;
  (*result.mutable_details()->mutable_fields())["score"].set_number_value(0.1);
  EXPECT_EQ(OurJson(result), ProtobufJson(result));

  // A string that is not UTF-8.
  PartnerEvent invalid;
  invalid.set_job_title("\xff\xfe");
  EXPECT_EQ(OurJson(invalid), ProtobufJson(invalid));

  // A time proto3 JSON cannot write: protobuf's error, and no partial body.
  PartnerEvent out_of_range;
  out_of_range.mutable_create_time()->set_seconds(253402300800);
  std::string json = "left over";
  const absl::Status status = MessageToJson(out_of_range, &json);
  std::string expected;
  const auto protobuf_status =
      google::protobuf::util::MessageToJsonString(out_of_range, &expected);
  ASSERT_FALSE(protobuf_status.ok());
  EXPECT_EQ(static_cast<int>(status.code()),
            static_cast<int>(protobuf_status.code()));
  EXPECT_EQ(std::string(status.message()),
            std::string(protobuf_status.message()));
  EXPECT_EQ(json, "");
}

TEST(ProtoJsonTest, WritesAWholeBodyItselfNotThroughProtobuf) {
  // Protobuf's printer escapes U+00AD; this writer leaves it as it is, so
  // the bytes tell which wrote the body. U+2028 is escaped by both.
  PartnerEvent event = FullEvent();
  event.set_job_title(
      "Data\xc2\xad"
      "base \xe2\x80\xa8"
      "admin");
  const std::string ours = OurJson(event);
  EXPECT_NE(ours, ProtobufJson(event));
  EXPECT_NE(ours.find("Data\xc2\xad"
                      "base \\u2028admin"),
            std::string::npos)
      << ours;
  PartnerEvent read;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, &read).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(read, event));
}

// A message type that holds itself, built at run time: no webhook message
// nests, but the writer must still agree with protobuf on deep ones.
class NestedMessages {
 public:
  NestedMessages() {
    google::protobuf::FileDescriptorProto file;
    file.set_name("nested_test.proto");
    file.set_package("nested");
    file.set_syntax("proto3");
    google::protobuf::DescriptorProto* node = file.add_message_type();
    node->set_name("Node");
    google::protobuf::FieldDescriptorProto* child = node->add_field();
    child->set_name("child");
    child->set_number(1);
    child->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    child->set_type(google::protobuf::FieldDescriptorProto::TYPE_MESSAGE);
    child->set_type_name(".nested.Node");
    google::protobuf::FieldDescriptorProto* name = node->add_field();
    name->set_name("name");
    name->set_number(2);
    name->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    name->set_type(google::protobuf::FieldDescriptorProto::TYPE_STRING);
    EXPECT_NE(pool_.BuildFile(file), nullptr);
  }

  // A chain of `depth` nodes, each named after its depth.
  std::unique_ptr<google::protobuf::Message> Chain(int depth) {
    const google::protobuf::Descriptor* node =
        pool_.FindMessageTypeByName("nested.Node");
    std::unique_ptr<google::protobuf::Message> root(
        factory_.GetPrototype(node)->New());
    google::protobuf::Message* at = root.get();
    for (int i = 1; i <= depth; ++i) {
      at->GetReflection()->SetString(at, node->FindFieldByName("name"),
                                     absl::StrCat("n", i));
      if (i < depth) {
        at = at->GetReflection()->MutableMessage(
            at, node->FindFieldByName("child"), &factory_);
      }
    }
    return root;
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
};

TEST(ProtoJsonTest, DeepMessagesGetProtobufsAnswer) {
  NestedMessages nested;
  for (int depth : {1, 10, 31, 32, 33, 64, 65, 100}) {
    const std::unique_ptr<google::protobuf::Message> chain =
        nested.Chain(depth);
    std::string expected;
    const auto protobuf_status =
        google::protobuf::util::MessageToJsonString(*chain, &expected);
    std::string json;
    const absl::Status status = MessageToJson(*chain, &json);
    EXPECT_EQ(status.ok(), protobuf_status.ok()) << "depth " << depth;
    if (protobuf_status.ok()) {
      EXPECT_EQ(json, expected) << "depth " << depth;
    } else {
      EXPECT_EQ(json, "") << "depth " << depth;
    }
  }
}

// Any text: code points from every plane except surrogates, as UTF-8.
std::string AnyText() {
  const int length = testing::Pick(0, 12);
  std::string text;
  for (int i = 0; i < length; ++i) {
    const int range = testing::Pick(0, 4);
    uint32_t point = 0;
    if (range == 0) point = testing::Pick(0, 0x80);
    if (range == 1) point = testing::Pick(0x80, 0xd800);
    if (range == 2) point = testing::Pick(0xe000, 0x10000);
    if (range == 3) point = testing::Pick(0x10000, 0x110000);
    if (point < 0x80) {
      text.push_back(static_cast<char>(point));
    } else if (point < 0x800) {
      text.push_back(static_cast<char>(0xc0 | (point >> 6)));
      text.push_back(static_cast<char>(0x80 | (point & 0x3f)));
    } else if (point < 0x10000) {
      text.push_back(static_cast<char>(0xe0 | (point >> 12)));
      text.push_back(static_cast<char>(0x80 | ((point >> 6) & 0x3f)));
      text.push_back(static_cast<char>(0x80 | (point & 0x3f)));
    } else {
      text.push_back(static_cast<char>(0xf0 | (point >> 18)));
      text.push_back(static_cast<char>(0x80 | ((point >> 12) & 0x3f)));
      text.push_back(static_cast<char>(0x80 | ((point >> 6) & 0x3f)));
      text.push_back(static_cast<char>(0x80 | (point & 0x3f)));
    }
  }
  return text;
}

TEST(ProtoJsonTest, AnyEventReadsBackAsItself) {
  testing::CheckProperty("MessageToJson reads back", 300, [] {
    PartnerEvent event;
    event.set_event_id(AnyText());
    event.set_job_title(AnyText());
    event.set_source(static_cast<ats::v1::EventSource>(testing::Pick(0, 6)));
    const int options = testing::Pick(0, 4);
    for (int i = 0; i < options; ++i) {
      (*event.mutable_option_values())[AnyText()] = AnyText();
    }
    const int tags = testing::Pick(0, 4);
    for (int i = 0; i < tags; ++i)
      event.mutable_candidate()->add_tags(AnyText());
    if (testing::Pick(0, 2) == 1)
      event.mutable_candidate()->set_email(AnyText());
    event.mutable_create_time()->set_seconds(testing::Pick(0, 2000000000));
    event.mutable_create_time()->set_nanos(testing::Pick(0, 1000000000));
    if (testing::Pick(0, 2) == 1) {
      event.mutable_notification()
          ->mutable_integration_disabled()
          ->set_failed_attempts(testing::Pick(-1000, 1000) * 1000000007LL);
    }

    std::string json;
    RC_ASSERT(MessageToJson(event, &json).ok());
    PartnerEvent read;
    RC_ASSERT(google::protobuf::util::JsonStringToMessage(json, &read).ok());
    RC_ASSERT(MessageDifferencer::Equals(read, event));
  });
}

}  // namespace
}  // namespace ats::server
