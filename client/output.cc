#include "client/output.h"

#include <algorithm>
#include <iostream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ats::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// "JobState" -> "JOB_STATE_".
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type) {
  std::string prefix;
  for (char c : type->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  return prefix + "_";
}

// A Timestamp or Duration as one value, or "" for other messages.
std::string WellKnownText(const Message& message) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    return TimeText(static_cast<const google::protobuf::Timestamp&>(message));
  }
  if (type == "google.protobuf.Duration") {
    google::protobuf::Duration duration;
    duration.CopyFrom(message);
    return google::protobuf::util::TimeUtil::ToString(duration);
  }
  return "";
}

bool IsWellKnownValue(const FieldDescriptor* field) {
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return true;
  const std::string& type = field->message_type()->full_name();
  return type == "google.protobuf.Timestamp" ||
         type == "google.protobuf.Duration";
}

// A scalar, enum or well-known field's value (element `index` if repeated).
std::string ValueText(const Message& message, const FieldDescriptor* field,
                      int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? r->GetRepeatedString(message, field, index)
                      : r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumLabel(repeated ? r->GetRepeatedEnum(message, field, index)
                                : r->GetEnum(message, field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return WellKnownText(repeated
                               ? r->GetRepeatedMessage(message, field, index)
                               : r->GetMessage(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r->GetRepeatedBool(message, field, index)
                       : r->GetBool(message, field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? r->GetRepeatedInt32(message, field, index)
                                   : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? r->GetRepeatedInt64(message, field, index)
                                   : r->GetInt64(message, field));
    default:
      // Our contracts use no other field types.
      return "?";
  }
}

void PrintFieldsIndented(const Message& message, const std::string& indent) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);  // Set fields, in number order.
  size_t width = 0;
  for (const FieldDescriptor* field : fields) {
    width = std::max(width, field->name().size());
  }
  for (const FieldDescriptor* field : fields) {
    const std::string label = indent + field->name() + ":";
    const std::string padded =
        label + std::string(width + indent.size() + 2 - label.size(), ' ');
    if (field->is_map()) {
      // Map entries are messages of key and value; show them as key: value.
      std::map<std::string, std::string> entries;
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const Message& entry =
            reflection->GetRepeatedMessage(message, field, i);
        const google::protobuf::Descriptor* type = entry.GetDescriptor();
        entries[ValueText(entry, type->map_key(), 0)] =
            ValueText(entry, type->map_value(), 0);
      }
      std::cout << label << "\n";
      for (const auto& [key, value] : entries) {
        std::cout << indent << "  " << key << ": " << value << "\n";
      }
    } else if (IsWellKnownValue(field)) {
      if (!field->is_repeated()) {
        std::cout << padded << ValueText(message, field, 0) << "\n";
        continue;
      }
      std::vector<std::string> values;
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        values.push_back(ValueText(message, field, i));
      }
      std::cout << padded << absl::StrJoin(values, ", ") << "\n";
    } else if (field->is_repeated()) {
      std::cout << label << "\n";
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        std::cout << indent << "-\n";
        PrintFieldsIndented(reflection->GetRepeatedMessage(message, field, i),
                            indent + "  ");
      }
    } else {
      std::cout << label << "\n";
      PrintFieldsIndented(reflection->GetMessage(message, field),
                          indent + "  ");
    }
  }
}

}  // namespace

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows,
                bool with_headers) {
  std::vector<size_t> widths;
  for (const std::string& header : headers) widths.push_back(header.size());
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) {
        line += std::string(widths[i] - cells[i].size() + 2, ' ');
      }
    }
    // Empty cells at the end of a row leave no trailing blanks.
    line.erase(line.find_last_not_of(' ') + 1);
    std::cout << line << "\n";
  };
  if (with_headers) print_row(headers);
  for (const auto& row : rows) print_row(row);
}

void PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
  if (json.empty() || json.back() != '\n') std::cout << "\n";
}

void PrintFields(const google::protobuf::Message& message) {
  PrintFieldsIndented(message, "");
}

std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value) {
  if (value == nullptr) return "?";
  const std::string prefix = EnumPrefix(value->type());
  return absl::StartsWith(value->name(), prefix)
             ? value->name().substr(prefix.size())
             : value->name();
}

std::string TimeText(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  google::protobuf::Timestamp seconds;
  seconds.set_seconds(time.seconds());
  return google::protobuf::util::TimeUtil::ToString(seconds);
}

std::string MapText(
    const google::protobuf::Map<std::string, std::string>& map) {
  const std::map<std::string, std::string> sorted(map.begin(), map.end());
  return absl::StrJoin(sorted, ", ", absl::PairFormatter("="));
}

}  // namespace ats::client
