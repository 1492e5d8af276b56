// Reading CSV files for `candidates import`.
#ifndef ATS_CLIENT_CSV_H_
#define ATS_CLIENT_CSV_H_

#include <istream>
#include <map>
#include <string>
#include <vector>

namespace ats::client {

// One data row, by the header's column names.
struct CsvRow {
  int line = 0;  // 1-based line number in the file, for messages.
  std::map<std::string, std::string> fields;

  // The value in column `name`, or "" when the file has no such column.
  std::string Get(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? "" : it->second;
  }
};

// Reads CSV (RFC 4180 fields: separated by commas, optionally in double
// quotes with "" for a quote; one record per line) whose first line names the
// columns (trimmed, lower-cased). Blank lines are skipped. Throws UsageError
// for a missing header or an unterminated quote.
std::vector<CsvRow> ReadCsvWithHeader(std::istream& in);

}  // namespace ats::client

#endif  // ATS_CLIENT_CSV_H_
