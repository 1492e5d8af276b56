#include "tests/support/sqlite_file.h"

#include <sqlite3.h>

#include "gtest/gtest.h"

namespace ats::testing {

SqliteFile::SqliteFile(const std::string& path) {
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK)
      << path << ": " << sqlite3_errmsg(db_);
}

SqliteFile::~SqliteFile() { sqlite3_close(db_); }

std::vector<std::string> SqliteFile::Column(
    const std::string& sql, const std::vector<std::string>& args) {
  std::vector<std::string> values;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    return values;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(statement, static_cast<int>(i + 1), args[i].c_str(), -1,
                      SQLITE_TRANSIENT);
  }
  while (sqlite3_step(statement) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(statement, 0);
    values.emplace_back(text == nullptr ? ""
                                        : reinterpret_cast<const char*>(text));
  }
  sqlite3_finalize(statement);
  return values;
}

}  // namespace ats::testing
