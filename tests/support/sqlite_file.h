// Looking into a SQLite database file with SQLite itself, as an operator
// would, rather than through the store's code under test.
#ifndef ATS_TESTS_SUPPORT_SQLITE_FILE_H_
#define ATS_TESTS_SUPPORT_SQLITE_FILE_H_

#include <string>
#include <vector>

struct sqlite3;

namespace ats::testing {

// One connection to a database file, open while the object lives.
class SqliteFile {
 public:
  // Opens the existing database file `path` (a test failure if it cannot).
  explicit SqliteFile(const std::string& path);
  ~SqliteFile();
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  // Returns the first column of every row `sql` yields, as text (NULL as
  // ""), with `args` bound to its parameters in order; a test failure if
  // `sql` does not compile.
  std::vector<std::string> Column(const std::string& sql,
                                  const std::vector<std::string>& args = {});

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_SQLITE_FILE_H_
