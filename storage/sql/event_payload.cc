#include "storage/sql/event_payload.h"

#include <cstdint>
#include <string>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/wire_format_lite.h"

namespace ats::storage::sql {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr uint32_t LengthDelimitedTag(int field_number) {
  return WireFormatLite::MakeTag(field_number,
                                 WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

constexpr uint32_t kStageTriggerTag =
    LengthDelimitedTag(ats::v1::PartnerEvent::kStageTriggerFieldNumber);
constexpr uint32_t kOptionValuesTag =
    LengthDelimitedTag(ats::v1::PartnerEvent::kOptionValuesFieldNumber);
constexpr uint32_t kNotificationTag =
    LengthDelimitedTag(ats::v1::PartnerEvent::kNotificationFieldNumber);
// A map field's entries are messages with the key in field 1 and the value
// in field 2.
constexpr uint32_t kMapKeyTag = LengthDelimitedTag(1);
constexpr uint32_t kMapValueTag = LengthDelimitedTag(2);

// Reads a proto3 `string` field's value: valid UTF-8, as the generated
// parser insists.
bool ReadUtf8(CodedInputStream& input, std::string* value) {
  return WireFormatLite::ReadString(&input, value) &&
         google::protobuf::internal::IsStructurallyValidUTF8(*value);
}

// Reads one option_values entry (its length first) into `values`.
bool ReadOptionValue(CodedInputStream& input,
                     google::protobuf::Map<std::string, std::string>* values) {
  int length = 0;
  if (!input.ReadVarintSizeAsInt(&length)) return false;
  const CodedInputStream::Limit limit = input.PushLimit(length);
  std::string key;
  std::string value;
  for (uint32_t tag; (tag = input.ReadTag()) != 0;) {
    switch (tag) {
      case kMapKeyTag:
        if (!ReadUtf8(input, &key)) return false;
        break;
      case kMapValueTag:
        if (!ReadUtf8(input, &value)) return false;
        break;
      default:
        if (!WireFormatLite::SkipField(&input, tag)) return false;
    }
  }
  if (!input.ConsumedEntireMessage()) return false;
  input.PopLimit(limit);
  // A later entry with the same key wins, as with the generated parser.
  (*values)[key] = std::move(value);
  return true;
}

// Decodes stage_trigger, option_values and notification; steps over every
// other field.
bool DecodeShownParts(std::string_view stored, ats::v1::PartnerEvent* payload) {
  CodedInputStream input(reinterpret_cast<const uint8_t*>(stored.data()),
                         static_cast<int>(stored.size()));
  for (uint32_t tag; (tag = input.ReadTag()) != 0;) {
    switch (tag) {
      case kStageTriggerTag:
        // Merges, as parsers do with a message field that comes twice.
        if (!WireFormatLite::ReadMessage(&input,
                                         payload->mutable_stage_trigger())) {
          return false;
        }
        break;
      case kOptionValuesTag:
        if (!ReadOptionValue(input, payload->mutable_option_values())) {
          return false;
        }
        break;
      case kNotificationTag:
        if (!WireFormatLite::ReadMessage(&input,
                                         payload->mutable_notification())) {
          return false;
        }
        break;
      default:
        if (!WireFormatLite::SkipField(&input, tag)) return false;
    }
  }
  return input.ConsumedEntireMessage();
}

}  // namespace

bool DecodeEventPayload(std::string_view stored, PayloadParts parts,
                        ats::v1::PartnerEvent* payload) {
  switch (parts) {
    case PayloadParts::kAll:
      return payload->ParseFromArray(stored.data(),
                                     static_cast<int>(stored.size()));
    case PayloadParts::kShown:
      return DecodeShownParts(stored, payload);
    case PayloadParts::kNone:
      return true;
  }
  return false;
}

}  // namespace ats::storage::sql
