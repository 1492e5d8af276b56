#ifndef ATS_STORAGE_STORE_OBSERVER_H_
#define ATS_STORAGE_STORE_OBSERVER_H_

// What a store tells about its work as it goes, for monitoring: the layers
// above pass these callbacks down when they open the store, so that storage
// knows nothing of who listens (the server's metrics).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ats/v1/event.pb.h"

namespace ats::storage {

// One event entering a state, as a committed write left it.
struct EventStateChange {
  // Empty for a webhook trigger's event.
  std::string integration_id;
  // The state before; EVENT_STATE_UNSPECIFIED for an event the write
  // created.
  ats::v1::EventState from = ats::v1::EVENT_STATE_UNSPECIFIED;
  ats::v1::EventState to = ats::v1::EVENT_STATE_UNSPECIFIED;
  // The event's due_time as the write left it.
  absl::Time due_time;
};

// Callbacks a store makes; each may be empty. They run on the store's
// threads, so they must be quick, must not block and must not use the store.
struct StoreObserver {
  // After each group commit, with the number of writes that shared it.
  std::function<void(int64_t writes)> batch_committed;
  // After a group commit was rolled back to run again, each write in a
  // savepoint of its own, because one of its writes failed outside one
  // (SQLite's store; see storage/sqlite/write_queue.h).
  std::function<void()> batch_run_again;
  // After a write that changed the state of events (creating them
  // included) has committed: each change, in the order made. A write that
  // rolled back reports nothing; an update that leaves an event in the
  // state it had is no change.
  std::function<void(const std::vector<EventStateChange>& changes)>
      events_changed;
};

// What a store is doing, read on demand.
struct StoreStats {
  // Writes submitted and not yet started.
  int64_t queued_writes = 0;
  // Bytes in the write-ahead log after the latest commit (it starts over
  // once a checkpoint has copied all of it into the database); 0 for a
  // backend without one.
  int64_t wal_bytes = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_STORE_OBSERVER_H_
