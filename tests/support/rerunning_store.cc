#include "tests/support/rerunning_store.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace ats::testing {
namespace {

// What the first run returns, whatever `work` returned, so that it rolls
// back.
absl::Status RolledBack() {
  return absl::AbortedError("the first run of every write is rolled back");
}

// `work` run once for nothing: it rolls back.
storage::Store::WorkFn FirstRun(storage::Store::WorkFn work) {
  return [work = std::move(work)](storage::Transaction& txn) {
    work(txn).IgnoreError();
    return RolledBack();
  };
}

}  // namespace

void RerunningStore::Write(const storage::WriteScope& scope, WorkFn work,
                           DoneFn done) {
  store_->Write(scope, FirstRun(work),
                [this, scope, work, done = std::move(done)](
                    absl::Status) mutable {
                  store_->Write(scope, std::move(work), std::move(done));
                });
}

void RerunningStore::Claim(WorkFn work, DoneFn done) {
  store_->Claim(FirstRun(work), [this, work, done = std::move(done)](
                                    absl::Status) mutable {
    store_->Claim(std::move(work), std::move(done));
  });
}

absl::Status RerunningStore::WriteAndWait(const storage::WriteScope& scope,
                                          WorkFn work) {
  store_->WriteAndWait(scope, FirstRun(work)).IgnoreError();
  return store_->WriteAndWait(scope, std::move(work));
}

bool RerunWritesOfEnvironment() {
  const char* value = std::getenv("ATS_TEST_RERUN_WRITES");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

}  // namespace ats::testing
