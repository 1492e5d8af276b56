#ifndef ATS_STORAGE_POSTGRES_SESSION_H_
#define ATS_STORAGE_POSTGRES_SESSION_H_

// sql::Session on a PostgreSQL connection, so the repositories' SQL runs
// there too: each SQL text is rewritten once into PostgreSQL's syntax, its
// values are sent as parameters whose types PostgreSQL infers from where
// they are used, and rows come back in text form.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "storage/postgres/connection.h"
#include "storage/sql/session.h"

namespace ats::storage::postgres {

// SQL in PostgreSQL's syntax.
struct PostgresSql {
  std::string text;
  // The highest parameter number `text` uses: how many values it takes.
  int parameters = 0;
};

// Rewrites `sql`, written for both backends (see storage/sql/session.h), for
// PostgreSQL: parameters `?N` (N from 1 to 65535) become `$N`, and SQLite's
// planner hints `INDEXED BY name`, `NOT INDEXED` and the unary `+` before a
// column that starts a term (`WHERE +account_id = ?1`) go. String literals,
// quoted identifiers and comments are left alone, and so is anything else
// PostgreSQL does not take (a bare `?`, `?0`): preparing it then fails.
PostgresSql ToPostgresSql(absl::string_view sql);

class SessionStatement;

// The statements of one user of `connection`, inside a transaction that
// user opened. Types of parameters are inferred by PostgreSQL when a SQL
// text is first prepared on the connection, so a parameter must appear
// where its type shows (`col = ?1` before `?1 IS NULL`, or `CAST(?1 AS
// bigint)`); one next to a bare number is an integer (int4). Rows are
// fetched whole when a statement runs: stepping reads them from memory.
// Not thread-safe.
class Session : public sql::Session {
 public:
  // `connection` must outlive the session.
  explicit Session(Connection& connection);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() override;

  sql::Statement& Prepare(const char* sql) override;
  int64_t changes() const override { return changes_; }
  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  void NoteEventsDue() override { events_due_ = true; }

  // Whether a statement since the session began noted events due.
  bool events_due() const { return events_due_; }
  // Rows inserted, updated or deleted since the session began.
  int64_t rows_written() const { return rows_written_; }

  // Frees the rows every statement holds, keeping their bindings; for the
  // end of a transaction, so that no rows outlive it.
  void Reset();

 private:
  friend class SessionStatement;

  Connection& connection_;
  // By the SQL text the repositories wrote.
  absl::flat_hash_map<std::string, std::unique_ptr<SessionStatement>>
      statements_;
  int64_t changes_ = 0;
  bool events_due_ = false;
  int64_t rows_written_ = 0;
};

}  // namespace ats::storage::postgres

#endif  // ATS_STORAGE_POSTGRES_SESSION_H_
