#include "client/output.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "yaml-cpp/yaml.h"

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

// Whether a YAML reader could take the plain scalar `text` for something
// other than a string: a number, a boolean, null, a date or a YAML 1.1
// special (as PyYAML and other 1.1 readers resolve them).
bool ReadsAsNonString(const std::string& text) {
  static const std::regex kNotAString(
      "y|n|yes|no|true|false|on|off|null|~|=|<<|"
      "[-+.]?[0-9].*|[-+]?\\.(inf|nan)",
      std::regex::icase | std::regex::optimize);
  return std::regex_match(text, kNotAString);
}

// Writes `node` (a document parsed from JSON) to `out` in block style.
void EmitYaml(const YAML::Node& node, YAML::Emitter* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      *out << YAML::BeginMap;
      for (const auto& entry : node) {
        *out << YAML::Key;
        EmitYaml(entry.first, out);
        *out << YAML::Value;
        EmitYaml(entry.second, out);
      }
      *out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      *out << YAML::BeginSeq;
      for (const YAML::Node& element : node) EmitYaml(element, out);
      *out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      // JSON's strings were quoted ("!" tag); its numbers and booleans are
      // plain, and stay so.
      if (node.Tag() == "!" && ReadsAsNonString(node.Scalar())) {
        *out << YAML::DoubleQuoted;
      }
      *out << node.Scalar();
      break;
    default:
      *out << YAML::Null;
  }
}

// Appends `text` to `out` as a JSON string, escaped as protobuf does.
void AppendJsonString(const std::string& text, std::string* out) {
  google::protobuf::Value value;
  value.set_string_value(text);
  std::string json = JsonOf(value, /*indented=*/false);
  json.pop_back();  // The line's end.
  out->append(json);
}

// Appends `node` (see Output::Print(YAML::Node)) to `out` as JSON, laid out
// as protobuf lays out messages, one more space per level.
void EmitJson(const YAML::Node& node, const std::string& indent,
              std::string* out) {
  const bool map = node.IsMap();
  if (!map && !node.IsSequence()) {
    if (!node.IsScalar()) {
      out->append("null");
    } else if (node.Tag() == "!") {
      AppendJsonString(node.Scalar(), out);
    } else {
      out->append(node.Scalar());
    }
    return;
  }
  if (node.size() == 0) {
    out->append(map ? "{}" : "[]");
    return;
  }
  out->append(map ? "{\n" : "[\n");
  const std::string inner = indent + " ";
  bool first = true;
  for (const auto& entry : node) {
    out->append(first ? "" : ",\n").append(inner);
    first = false;
    if (map) {
      AppendJsonString(entry.first.Scalar(), out);  // Keys are strings.
      out->append(": ");
    }
    EmitJson(map ? entry.second : entry, inner, out);
  }
  out->append("\n").append(indent).append(map ? "}" : "]");
}

// The proto3 JSON `json` as block YAML.
std::string YamlOfJson(const std::string& json) {
  return YamlOf(YAML::Load(json));  // Protobuf's JSON always parses.
}

}  // namespace

std::string YamlOf(const YAML::Node& document) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitYaml(document, &out);
  return std::string(out.c_str()) + "\n";
}

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

std::string JsonOf(const google::protobuf::Message& message, bool indented) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = indented;
  std::string json;
  // Only a message holding an Any of an unknown type fails; ours hold none.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

void Output::Print(const google::protobuf::Message& message) const {
  const std::string json = JsonOf(message);
  std::cout << (format_ == Format::kYaml ? YamlOfJson(json) : json);
}

void Output::Print(const YAML::Node& document) const {
  if (format_ == Format::kYaml) {
    std::cout << YamlOf(document);
  } else {
    std::string json;
    EmitJson(document, "", &json);
    std::cout << json << "\n";
  }
}

YAML::Node Text(const std::string& text) {
  YAML::Node node(text);
  node.SetTag("!");
  return node;
}

void Output::PrintInStream(const google::protobuf::Message& message) const {
  if (format_ == Format::kYaml) {
    std::cout << "---\n" << YamlOfJson(JsonOf(message));
  } else {
    std::cout << JsonOf(message, /*indented=*/false);
  }
  std::cout.flush();
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
