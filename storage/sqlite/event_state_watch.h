#ifndef ATS_STORAGE_SQLITE_EVENT_STATE_WATCH_H_
#define ATS_STORAGE_SQLITE_EVENT_STATE_WATCH_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/sqlite/connection.h"
#include "storage/store_observer.h"

namespace ats::storage::sqlite {

// Sees every event state change made on one connection, whichever
// statement makes it (an insert, a claim, a settle, a cancellation), through
// SQLite's preupdate hook: the row before and after, so an update that
// leaves the state as it was is not a change. What it sees is not yet
// committed: its owner takes the changes of each write and reports them once
// the write commits. Used only on the connection's thread.
class EventStateWatch {
 public:
  // Starts watching `connection` (see Connection::WatchRowWrites), whose
  // schema must be current. The watch must outlive the connection: it is
  // never unhooked.
  static absl::StatusOr<std::unique_ptr<EventStateWatch>> Start(
      Connection& connection);

  EventStateWatch(const EventStateWatch&) = delete;
  EventStateWatch& operator=(const EventStateWatch&) = delete;

  // Returns the changes seen since the last call, in order, and forgets
  // them.
  std::vector<EventStateChange> Take();

 private:
  // Positions of the columns read in the events table.
  struct Columns {
    int state = -1;
    int integration_id = -1;
    int due_time = -1;
  };

  explicit EventStateWatch(const Columns& columns) : columns_(columns) {}

  void Saw(const RowWrite& row);

  const Columns columns_;
  std::vector<EventStateChange> changes_;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_EVENT_STATE_WATCH_H_
