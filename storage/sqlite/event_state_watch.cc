#include "storage/sqlite/event_state_watch.h"

#include <cstring>
#include <string>
#include <utility>

#include "storage/sql/values.h"

namespace ats::storage::sqlite {

absl::StatusOr<std::unique_ptr<EventStateWatch>> EventStateWatch::Start(
    Connection& connection) {
  // Found by name rather than assumed: migrations may add columns.
  struct Column {
    int position;
    std::string name;
  };
  auto columns = sql::ReadAll<Column>(
      connection.Prepare("SELECT cid, name FROM pragma_table_info('events')"),
      [](const sql::Statement& row) {
        return Column{static_cast<int>(row.ColumnInt64(0)), row.ColumnText(1)};
      });
  connection.ResetStatements();
  if (!columns.ok()) return columns.status();
  Columns found;
  for (const Column& column : *columns) {
    if (column.name == "state") found.state = column.position;
    if (column.name == "integration_id") {
      found.integration_id = column.position;
    }
    if (column.name == "due_time") found.due_time = column.position;
  }
  if (found.state < 0 || found.integration_id < 0 || found.due_time < 0) {
    return absl::FailedPreconditionError(
        "the events table lacks state, integration_id or due_time");
  }
  std::unique_ptr<EventStateWatch> watch(new EventStateWatch(found));
  connection.WatchRowWrites(
      [watch = watch.get()](const RowWrite& row) { watch->Saw(row); });
  return watch;
}

std::vector<EventStateChange> EventStateWatch::Take() {
  std::vector<EventStateChange> taken;
  taken.swap(changes_);
  return taken;
}

void EventStateWatch::Saw(const RowWrite& row) {
  if (std::strcmp(row.table(), "events") != 0) return;
  const auto to =
      static_cast<ats::v1::EventState>(row.NewInt64(columns_.state));
  const auto from =
      row.inserted()
          ? ats::v1::EVENT_STATE_UNSPECIFIED
          : static_cast<ats::v1::EventState>(row.OldInt64(columns_.state));
  if (from == to) return;
  changes_.push_back(
      EventStateChange{std::string(row.NewText(columns_.integration_id)), from,
                       to, sql::FromMicros(row.NewInt64(columns_.due_time))});
}

}  // namespace ats::storage::sqlite
