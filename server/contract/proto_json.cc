#include "server/contract/proto_json.h"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ats::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The range proto3 JSON allows a Timestamp: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

// Appends `c` as \u00XX.
void AppendUnicodeEscape(unsigned char c, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append("\\u00");
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

// Appends what stands for the ASCII character `c` inside a JSON string:
// itself, or the escape protobuf's printer writes for it (control
// characters, quote and backslash as JSON requires; <, > and DEL as well).
void AppendAscii(unsigned char c, std::string& out) {
  if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != 0x7f) {
    out.push_back(static_cast<char>(c));
    return;
  }
  static constexpr std::pair<char, std::string_view> kShortEscapes[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\b', "\\b"}, {'\f', "\\f"},
      {'\n', "\\n"}, {'\r', "\\r"},  {'\t', "\\t"}};
  for (const auto& [plain, escaped] : kShortEscapes) {
    if (c == static_cast<unsigned char>(plain)) {
      out.append(escaped);
      return;
    }
  }
  AppendUnicodeEscape(c, out);
}

// Writes one message's JSON into `out`. Each method returns false, having
// written part of it, when the message holds something left to protobuf's
// printer.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  bool WriteMessage(const Message& message) {
    // Deeper messages are left to protobuf's printer, which refuses those
    // nested beyond its own limit (64).
    if (depth_ == kMaxDepth) return false;
    ++depth_;
    const bool written = WriteFields(message);
    --depth_;
    return written;
  }

 private:
  static constexpr int kMaxDepth = 32;

  bool WriteFields(const Message& message) {
    const Descriptor* type = message.GetDescriptor();
    if (type->file()->name().rfind("google/protobuf/", 0) == 0) {
      return type->full_name() == "google.protobuf.Timestamp" &&
             WriteTimestamp(message);
    }
    const Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);
    out_.push_back('{');
    for (size_t i = 0; i < fields.size(); ++i) {
      const FieldDescriptor* field = fields[i];
      if (field->is_extension()) return false;
      if (i > 0) out_.push_back(',');
      out_.push_back('"');
      out_.append(field->json_name());
      out_.append("\":");
      if (!WriteField(message, field)) return false;
    }
    out_.push_back('}');
    return true;
  }

  bool WriteField(const Message& message, const FieldDescriptor* field) {
    if (!field->is_repeated()) return WriteValue(message, field, -1);
    const Reflection* reflection = message.GetReflection();
    const int size = reflection->FieldSize(message, field);
    if (field->is_map()) {
      const FieldDescriptor* key = field->message_type()->map_key();
      const FieldDescriptor* value = field->message_type()->map_value();
      if (key->type() != FieldDescriptor::TYPE_STRING) return false;
      out_.push_back('{');
      for (int i = 0; i < size; ++i) {
        const Message& entry =
            reflection->GetRepeatedMessage(message, field, i);
        if (i > 0) out_.push_back(',');
        if (!WriteValue(entry, key, -1)) return false;
        out_.push_back(':');
        if (!WriteValue(entry, value, -1)) return false;
      }
      out_.push_back('}');
      return true;
    }
    out_.push_back('[');
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_.push_back(',');
      if (!WriteValue(message, field, i)) return false;
    }
    out_.push_back(']');
    return true;
  }

  // Writes `field`'s value in `message`: element `index` of a repeated
  // field, or the singular field's value when `index` is -1.
  bool WriteValue(const Message& message, const FieldDescriptor* field,
                  int index) {
    const Reflection* r = message.GetReflection();
    const bool one = index < 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == FieldDescriptor::TYPE_BYTES) return false;
        return WriteString(
            one ? r->GetStringReference(message, field, &scratch_)
                : r->GetRepeatedStringReference(message, field, index,
                                                &scratch_));
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return WriteMessage(one ? r->GetMessage(message, field)
                                : r->GetRepeatedMessage(message, field, index));
      case FieldDescriptor::CPPTYPE_ENUM: {
        if (field->enum_type()->full_name() == "google.protobuf.NullValue") {
          return false;
        }
        const int number = one ? r->GetEnumValue(message, field)
                               : r->GetRepeatedEnumValue(message, field, index);
        const auto* value = field->enum_type()->FindValueByNumber(number);
        // A number this build does not know is written as the number.
        if (value == nullptr) {
          absl::StrAppend(&out_, number);
        } else {
          absl::StrAppend(&out_, "\"", value->name(), "\"");
        }
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(&out_,
                        one ? r->GetInt32(message, field)
                            : r->GetRepeatedInt32(message, field, index));
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(&out_,
                        one ? r->GetUInt32(message, field)
                            : r->GetRepeatedUInt32(message, field, index));
        return true;
      // 64-bit integers are strings in proto3 JSON: JavaScript's numbers
      // cannot hold them.
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(&out_, "\"",
                        one ? r->GetInt64(message, field)
                            : r->GetRepeatedInt64(message, field, index),
                        "\"");
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(&out_, "\"",
                        one ? r->GetUInt64(message, field)
                            : r->GetRepeatedUInt64(message, field, index),
                        "\"");
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_.append((one ? r->GetBool(message, field)
                         : r->GetRepeatedBool(message, field, index))
                        ? "true"
                        : "false");
        return true;
      default:  // Floating point: protobuf's shortest round-trip digits.
        return false;
    }
  }

  bool WriteString(std::string_view text) {
    bool ascii = true;
    for (const char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (!ascii && !google::protobuf::internal::IsStructurallyValidUTF8(
                      text.data(), static_cast<int>(text.size()))) {
      return false;
    }
    out_.push_back('"');
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        AppendAscii(c, out_);
        continue;
      }
      // U+2028 and U+2029 end a line in JavaScript: escaped, as protobuf's
      // printer does, so the body is also a valid JavaScript literal.
      if (c == 0xe2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
          (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
        out_.append(text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029");
        i += 2;
        continue;
      }
      out_.push_back(static_cast<char>(c));
    }
    out_.push_back('"');
    return true;
  }

  bool WriteTimestamp(const Message& message) {
    const Descriptor* type = message.GetDescriptor();
    const Reflection* r = message.GetReflection();
    google::protobuf::Timestamp timestamp;
    timestamp.set_seconds(r->GetInt64(message, type->FindFieldByNumber(1)));
    timestamp.set_nanos(r->GetInt32(message, type->FindFieldByNumber(2)));
    // Out of range: protobuf's printer refuses it with its own error.
    if (timestamp.seconds() < kMinTimestampSeconds ||
        timestamp.seconds() > kMaxTimestampSeconds || timestamp.nanos() < 0 ||
        timestamp.nanos() > 999999999) {
      return false;
    }
    absl::StrAppend(&out_, "\"",
                    google::protobuf::util::TimeUtil::ToString(timestamp),
                    "\"");
    return true;
  }

  std::string& out_;
  int depth_ = 0;
  std::string scratch_;
};

}  // namespace

absl::Status MessageToJson(const Message& message, std::string* json) {
  json->clear();
  if (Writer(*json).WriteMessage(message)) return absl::OkStatus();
  json->clear();
  const auto printed =
      google::protobuf::util::MessageToJsonString(message, json);
  if (printed.ok()) return absl::OkStatus();
  json->clear();  // What protobuf wrote before it failed.
  return absl::Status(static_cast<absl::StatusCode>(printed.code()),
                      std::string(printed.message()));
}

}  // namespace ats::server
