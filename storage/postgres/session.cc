#include "storage/postgres/session.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/failure.h"

namespace ats::storage::postgres {
namespace {

// The most parameters one statement can take in PostgreSQL's protocol.
constexpr int kMaxParameters = 65535;

bool IsWordChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '$';
}

// Returns the index of the first character of `sql` at or after `i` that is
// not white space.
size_t SkipSpace(absl::string_view sql, size_t i) {
  while (i < sql.size() &&
         absl::ascii_isspace(static_cast<unsigned char>(sql[i]))) {
    ++i;
  }
  return i;
}

// Returns the word (letters, digits, `_`, `$`) that starts at `i`; empty
// when there is none.
absl::string_view WordAt(absl::string_view sql, size_t i) {
  size_t end = i;
  while (end < sql.size() && IsWordChar(sql[end])) ++end;
  return sql.substr(i, end - i);
}

// Returns the index just past the quoted text that opens at `i` with
// sql[i]; a doubled quote inside reads as two adjacent quoted texts, which
// scans the same.
size_t QuotedEnd(absl::string_view sql, size_t i) {
  const size_t close = sql.find(sql[i], i + 1);
  return close == absl::string_view::npos ? sql.size() : close + 1;
}

// Returns the index just past the string literal, quoted identifier or
// comment that opens at `i`, or `i` when none does: text to copy as it is.
size_t VerbatimEnd(absl::string_view sql, size_t i) {
  if (sql[i] == '\'' || sql[i] == '"') return QuotedEnd(sql, i);
  const absl::string_view rest = sql.substr(i);
  size_t close = absl::string_view::npos;
  if (absl::StartsWith(rest, "--")) {
    close = sql.find('\n', i);
  } else if (absl::StartsWith(rest, "/*")) {
    close = sql.find("*/", i + 2);
    if (close != absl::string_view::npos) close += 2;
  } else {
    return i;
  }
  return close == absl::string_view::npos ? sql.size() : close;
}

// Returns N when a parameter `?N` that PostgreSQL can take starts at `i`,
// else 0.
int ParameterAt(absl::string_view sql, size_t i) {
  int number = 0;
  if (sql[i] != '?' || !absl::SimpleAtoi(WordAt(sql, i + 1), &number) ||
      number > kMaxParameters) {
    return 0;
  }
  return number;  // Digits only: never negative.
}

// Returns the index just past the planner hint whose first word, `word`,
// ends at `i` (`INDEXED BY name`, `NOT INDEXED`), or `i` when it starts no
// hint.
size_t HintEnd(absl::string_view sql, absl::string_view word, size_t i) {
  const size_t next = SkipSpace(sql, i);
  const absl::string_view next_word = WordAt(sql, next);
  if (absl::EqualsIgnoreCase(word, "NOT") &&
      absl::EqualsIgnoreCase(next_word, "INDEXED")) {
    return next + next_word.size();
  }
  if (!absl::EqualsIgnoreCase(word, "INDEXED") ||
      !absl::EqualsIgnoreCase(next_word, "BY")) {
    return i;
  }
  const size_t name = SkipSpace(sql, next + next_word.size());
  if (name < sql.size() && sql[name] == '"') return QuotedEnd(sql, name);
  const size_t name_end = name + WordAt(sql, name).size();
  return name_end == name ? i : name_end;
}

// Whether the `+` at `i` is SQLite's unary-plus hint on a column (`WHERE
// +account_id = ?1`, which keeps SQLite's planner off that column's
// indexes): it starts a term, after `written` so far, and a name follows.
bool IsUnaryPlusHint(absl::string_view written, absl::string_view sql,
                     size_t i) {
  if (sql[i] != '+' || i + 1 >= sql.size() ||
      !(absl::ascii_isalpha(static_cast<unsigned char>(sql[i + 1])) ||
        sql[i + 1] == '_')) {
    return false;
  }
  size_t end = written.size();
  while (end > 0 &&
         absl::ascii_isspace(static_cast<unsigned char>(written[end - 1]))) {
    --end;
  }
  if (end > 0 && written[end - 1] == '(') return true;
  size_t start = end;
  while (start > 0 && IsWordChar(written[start - 1])) --start;
  const absl::string_view word = written.substr(start, end - start);
  for (absl::string_view keyword : {"WHERE", "AND", "OR", "ON", "NOT"}) {
    if (absl::EqualsIgnoreCase(word, keyword)) return true;
  }
  return false;
}

}  // namespace

PostgresSql ToPostgresSql(absl::string_view sql) {
  PostgresSql out;
  out.text.reserve(sql.size());
  size_t i = 0;
  while (i < sql.size()) {
    if (const size_t end = VerbatimEnd(sql, i); end != i) {
      absl::StrAppend(&out.text, sql.substr(i, end - i));
      i = end;
    } else if (const int number = ParameterAt(sql, i); number > 0) {
      absl::StrAppend(&out.text, "$", number);
      out.parameters = std::max(out.parameters, number);
      i += 1 + WordAt(sql, i + 1).size();
    } else if (IsWordChar(sql[i])) {
      const absl::string_view word = WordAt(sql, i);
      i += word.size();
      const size_t hint_end = HintEnd(sql, word, i);
      if (hint_end == i) {
        absl::StrAppend(&out.text, word);
        continue;
      }
      // The space before the hint goes too; the one after stays.
      while (!out.text.empty() &&
             absl::ascii_isspace(static_cast<unsigned char>(out.text.back()))) {
        out.text.pop_back();
      }
      i = hint_end;
    } else if (IsUnaryPlusHint(out.text, sql, i)) {
      ++i;
    } else {
      out.text.push_back(sql[i++]);
    }
  }
  return out;
}

// A statement of a Session: its parameters are kept as Params until it
// runs, then its rows until they are read.
class SessionStatement : public sql::Statement {
 public:
  SessionStatement(Session& session, std::string sql)
      : session_(session),
        sql_(std::move(sql)),
        postgres_(ToPostgresSql(sql_)),
        params_(postgres_.parameters, Param(std::nullopt)) {}

  // Makes the statement ready for a new user: no rows, no bindings, no
  // remembered bind error.
  void ResetForReuse() {
    DropRows();
    std::fill(params_.begin(), params_.end(), Param(std::nullopt));
    status_ = absl::OkStatus();
  }

  // Frees the rows of the latest run; the next Step runs the statement
  // again.
  void DropRows() {
    result_.reset();
    row_ = -1;
    blobs_.clear();
  }

  using sql::Statement::Bind;
  Statement& Bind(int index, int64_t value) override {
    return Set(index, Param(value));
  }
  Statement& Bind(int index, double value) override {
    return Set(index, Param(value));
  }
  Statement& Bind(int index, std::string_view value) override {
    return Set(index, Param(absl::string_view(value.data(), value.size())));
  }
  Statement& BindNull(int index) override {
    return Set(index, Param(std::nullopt));
  }
  Statement& BindBlob(int index, std::string_view value) override {
    return Set(index,
               Param::Bytes(absl::string_view(value.data(), value.size())));
  }

  absl::StatusOr<bool> Step() override {
    if (!status_.ok()) return status_;
    if (!result_.has_value()) {
      absl::StatusOr<Result> result =
          session_.connection_.Query(postgres_.text, params_);
      if (!result.ok()) return result.status();
      if (result->is_write()) {
        session_.changes_ = result->affected_rows();
        session_.rows_written_ += session_.changes_;
      }
      result_ = *std::move(result);
    }
    blobs_.clear();
    if (++row_ < result_->rows()) return true;
    DropRows();
    return false;
  }

  absl::Status Run() override {
    while (true) {
      absl::StatusOr<bool> row = Step();
      if (!row.ok()) return row.status();
      if (!*row) return absl::OkStatus();
    }
  }

  int64_t ColumnInt64(int column) const override {
    return HasValue(column) ? result_->Int64(row_, column) : 0;
  }
  double ColumnDouble(int column) const override {
    return HasValue(column) ? result_->Double(row_, column) : 0;
  }
  std::string ColumnText(int column) const override {
    return HasValue(column) ? std::string(result_->Text(row_, column))
                            : std::string();
  }
  std::string_view ColumnBlob(int column) const override {
    if (!HasValue(column)) return std::string_view();
    // Sized once per row, so earlier columns' bytes stay where they are.
    if (blobs_.empty()) blobs_.resize(result_->columns());
    if (!blobs_[column].has_value()) {
      blobs_[column] = result_->Bytes(row_, column);
    }
    return *blobs_[column];
  }
  bool ColumnIsNull(int column) const override {
    return !HasValue(column) || result_->IsNull(row_, column);
  }

  const std::string& sql() const override { return sql_; }

 private:
  // Binds `param` to parameter `index`, or remembers why it cannot.
  Statement& Set(int index, Param param) {
    if (!status_.ok()) return *this;
    std::string problem;
    if (index < 1 || index > postgres_.parameters) {
      problem = absl::StrCat("it has parameters 1 to ", postgres_.parameters);
    } else if (result_.has_value()) {
      // As SQLite: new values while rows are being read are a mistake.
      problem = "its rows are being read";
    } else {
      params_[index - 1] = std::move(param);
      return *this;
    }
    status_ = MarkStorageFailure(absl::InternalError(
        absl::StrCat("bind parameter ", index, " of `",
                     AbbreviateSql(sql_), "`: ", problem)));
    return *this;
  }

  // Whether the current row has a value (maybe NULL) at `column`.
  bool HasValue(int column) const {
    return result_.has_value() && row_ >= 0 && row_ < result_->rows() &&
           column >= 0 && column < result_->columns();
  }

  Session& session_;
  const std::string sql_;
  const PostgresSql postgres_;
  std::vector<Param> params_;
  // The first bind error since the statement was handed out.
  absl::Status status_;
  // The rows of the latest run, while they are being stepped through.
  std::optional<Result> result_;
  int row_ = -1;
  // The current row's bytes decoded by ColumnBlob, by column.
  mutable std::vector<std::optional<std::string>> blobs_;
};

Session::Session(Connection& connection) : connection_(connection) {}

Session::~Session() = default;

sql::Statement& Session::Prepare(const char* sql) {
  auto it = statements_.find(absl::string_view(sql));
  if (it == statements_.end()) {
    auto statement = std::make_unique<SessionStatement>(*this, sql);
    it = statements_.emplace(statement->sql(), std::move(statement)).first;
  } else {
    it->second->ResetForReuse();
  }
  return *it->second;
}

void Session::Reset() {
  for (auto& [sql, statement] : statements_) statement->DropRows();
}

}  // namespace ats::storage::postgres
