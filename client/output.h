// Printing results: aligned tables and "field: value" views for people,
// proto3 JSON (`--output json`) or the same document as YAML (`--output
// yaml`) for scripts.
#ifndef ATS_CLIENT_OUTPUT_H_
#define ATS_CLIENT_OUTPUT_H_

#include <functional>
#include <string>
#include <vector>

#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "yaml-cpp/yaml.h"

namespace ats::client {

enum class Format { kTable, kJson, kYaml };

// One column of a table of T.
template <typename T>
struct Column {
  std::string header;
  std::function<std::string(const T&)> value;
};

// Writes `rows` under `headers` to stdout, each column as wide as its widest
// cell, two spaces apart; the header line itself only when `with_headers`.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows,
                bool with_headers = true);

template <typename T>
void PrintTable(const google::protobuf::RepeatedPtrField<T>& items,
                const std::vector<Column<T>>& columns,
                bool with_headers = true) {
  std::vector<std::string> headers;
  for (const Column<T>& column : columns) headers.push_back(column.header);
  std::vector<std::vector<std::string>> rows;
  for (const T& item : items) {
    std::vector<std::string>& row = rows.emplace_back();
    for (const Column<T>& column : columns) row.push_back(column.value(item));
  }
  PrintTable(headers, rows, with_headers);
}

// `message` as indented proto3 JSON, or on one line.
std::string JsonOf(const google::protobuf::Message& message,
                   bool indented = true);

// `document` as block YAML; strings (JSON's, or made by Text) are quoted
// wherever a YAML reader could take them for a number, a boolean, null or
// a date.
std::string YamlOf(const YAML::Node& document);

// Writes the fields of `message` that are set to stdout, one "field: value"
// per line, nested messages indented below their field.
void PrintFields(const google::protobuf::Message& message);

// What a command prints, in the format the user chose.
class Output {
 public:
  explicit Output(Format format) : format_(format) {}
  // Whether the output is a document for programs (JSON or YAML) rather
  // than text for people.
  bool structured() const { return format_ != Format::kTable; }
  void set_format(Format format) { format_ = format; }
  // Whether list tables start with their header line (--no-headers: not).
  void set_headers(bool headers) { headers_ = headers; }
  bool headers() const { return headers_; }

  // Writes `message` to stdout as a JSON document, or as YAML made from it
  // (as JSON when the output is for people).
  void Print(const google::protobuf::Message& message) const;
  // Writes `document`, a tree of maps, lists and scalars that is not a
  // message (such as the configuration), as JSON or YAML. Scalars made by
  // Text are strings; others are written as they are (true, 12).
  void Print(const YAML::Node& document) const;
  // Writes `message` as one of a stream of documents: a line of JSON, or a
  // YAML document after "---".
  void PrintInStream(const google::protobuf::Message& message) const;

  // One resource (or response): its document, or its fields.
  void Show(const google::protobuf::Message& message) const {
    structured() ? Print(message) : PrintFields(message);
  }

  // A list response: its document, or a table of its `items`.
  template <typename T>
  void List(const google::protobuf::Message& response,
            const google::protobuf::RepeatedPtrField<T>& items,
            const std::vector<Column<T>>& columns) const {
    structured() ? Print(response) : PrintTable(items, columns, headers_);
  }

 private:
  Format format_;
  bool headers_ = true;
};

// A string scalar of a document that is not a message (Output::Print,
// YamlOf): it stays a string in JSON and YAML whatever it holds ("true",
// "12").
YAML::Node Text(const std::string& text);

// An enum value's name without its type's prefix: JOB_STATE_OPEN is "OPEN".
std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value);

template <typename E>
std::string Label(E value) {
  return EnumLabel(google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(
      static_cast<int>(value)));
}

// RFC 3339 in UTC to the second, or "" when unset.
std::string TimeText(const google::protobuf::Timestamp& time);

// "k=v, k2=v2" in key order.
std::string MapText(const google::protobuf::Map<std::string, std::string>& map);

}  // namespace ats::client

#endif  // ATS_CLIENT_OUTPUT_H_
