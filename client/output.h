// Printing results: aligned tables and "field: value" views for people,
// proto3 JSON (`--output json`) for scripts.
#ifndef ATS_CLIENT_OUTPUT_H_
#define ATS_CLIENT_OUTPUT_H_

#include <functional>
#include <string>
#include <vector>

#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"

namespace ats::client {

enum class Format { kTable, kJson };

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

// Writes `message` to stdout as indented proto3 JSON.
void PrintJson(const google::protobuf::Message& message);

// Writes the fields of `message` that are set to stdout, one "field: value"
// per line, nested messages indented below their field.
void PrintFields(const google::protobuf::Message& message);

// What a command prints, in the format the user chose.
class Output {
 public:
  explicit Output(Format format) : format_(format) {}
  bool json() const { return format_ == Format::kJson; }
  void set_format(Format format) { format_ = format; }
  // Whether list tables start with their header line (--no-headers: not).
  void set_headers(bool headers) { headers_ = headers; }

  // One resource (or response): its JSON, or its fields.
  void Show(const google::protobuf::Message& message) const {
    json() ? PrintJson(message) : PrintFields(message);
  }

  // A list response: its JSON, or a table of its `items`.
  template <typename T>
  void List(const google::protobuf::Message& response,
            const google::protobuf::RepeatedPtrField<T>& items,
            const std::vector<Column<T>>& columns) const {
    json() ? PrintJson(response) : PrintTable(items, columns, headers_);
  }

 private:
  Format format_;
  bool headers_ = true;
};

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
