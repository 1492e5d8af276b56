#include "client/csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/errors.h"

namespace ats::client {
namespace {

std::vector<std::string> SplitRecord(const std::string& text, int line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted)
    throw UsageError(absl::StrCat("CSV line ", line, ": unterminated quote"));
  return fields;
}

}  // namespace

std::vector<CsvRow> ReadCsvWithHeader(std::istream& in) {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    std::vector<std::string> fields = SplitRecord(text, line);
    if (header.empty()) {
      for (std::string& name : fields) {
        header.push_back(
            absl::AsciiStrToLower(absl::StripAsciiWhitespace(name)));
      }
      continue;
    }
    CsvRow& row = rows.emplace_back();
    row.line = line;
    for (size_t i = 0; i < fields.size() && i < header.size(); ++i) {
      row.fields[header[i]] =
          std::string(absl::StripAsciiWhitespace(fields[i]));
    }
  }
  if (header.empty()) throw UsageError("the CSV file has no header line");
  return rows;
}

}  // namespace ats::client
