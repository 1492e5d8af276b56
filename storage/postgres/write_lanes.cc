#include "storage/postgres/write_lanes.h"

namespace ats::storage::postgres {
namespace {

// The deployment-wide write lock, "atswrite"; lane i's lock is the next
// key but i.
constexpr int64_t kWriteLock = 0x6174737772697465;

}  // namespace

int AccountLane(absl::string_view account_id) {
  // 32-bit FNV-1a.
  uint32_t hash = 2166136261u;
  for (unsigned char c : account_id) {
    hash ^= c;
    hash *= 16777619u;
  }
  return static_cast<int>(hash % kWriteLanes);
}

WriteLanes LanesOf(const WriteScope& scope) {
  WriteLanes lanes;
  if (scope.whole_deployment()) return lanes.set();
  for (const std::string& account_id : scope.account_ids) {
    lanes.set(AccountLane(account_id));
  }
  return lanes;
}

std::vector<AdvisoryLock> LocksOf(const WriteLanes& lanes) {
  if (lanes.all()) return {{kWriteLock, /*shared=*/false}};
  std::vector<AdvisoryLock> locks = {{kWriteLock, /*shared=*/true}};
  for (int lane = 0; lane < kWriteLanes; ++lane) {
    if (lanes.test(lane)) locks.push_back({kWriteLock + 1 + lane, false});
  }
  return locks;
}

}  // namespace ats::storage::postgres
