#ifndef ATS_STORAGE_POSTGRES_WRITE_LANES_H_
#define ATS_STORAGE_POSTGRES_WRITE_LANES_H_

// Which writes of a PostgreSQL store may run at the same time. Each account
// belongs to one of a fixed number of lanes, the same on every server; a
// write holds the advisory locks of its accounts' lanes, so writes of one
// lane run one at a time across every replica and writes of different
// lanes run at once.

#include <bitset>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "storage/postgres/pool.h"
#include "storage/store.h"

namespace ats::storage::postgres {

// Every server of a deployment must agree on this, and on AccountLane: a
// change takes a restart of every replica at once.
constexpr int kWriteLanes = 16;

using WriteLanes = std::bitset<kWriteLanes>;

// The lane of `account_id`: a hash that is the same on every server and
// every build.
int AccountLane(absl::string_view account_id);

// The lanes a write of `scope` holds: all of them for the whole deployment.
WriteLanes LanesOf(const WriteScope& scope);

// The advisory locks a batch of writes holding `lanes` takes, in the order
// every batch takes them: a deployment-wide lock, shared by batches of some
// lanes and held alone by a batch of all of them (a whole-deployment write),
// then each lane's lock in the lanes' order.
std::vector<AdvisoryLock> LocksOf(const WriteLanes& lanes);

}  // namespace ats::storage::postgres

#endif  // ATS_STORAGE_POSTGRES_WRITE_LANES_H_
