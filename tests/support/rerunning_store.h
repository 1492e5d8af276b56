// A Store that runs every write twice, rolling the first run back, as a store
// that other servers share does when a concurrent write conflicts with one
// (see Store::Write). Code that keeps to that contract behaves the same on it
// as on the store it wraps, so tests run on it show where code does not.
#ifndef ATS_TESTS_SUPPORT_RERUNNING_STORE_H_
#define ATS_TESTS_SUPPORT_RERUNNING_STORE_H_

#include <memory>

#include "storage/store.h"

namespace ats::testing {

class RerunningStore final : public storage::Store {
 public:
  explicit RerunningStore(std::unique_ptr<storage::Store> store)
      : store_(std::move(store)) {}

  using Store::WriteAndWait;

  void Write(const storage::WriteScope& scope, WorkFn work,
             DoneFn done) override;
  void Claim(WorkFn work, DoneFn done) override;
  absl::Status WriteAndWait(const storage::WriteScope& scope,
                            WorkFn work) override;
  absl::Status Read(const WorkFn& work) override { return store_->Read(work); }
  storage::StoreStats Stats() const override { return store_->Stats(); }
  absl::StatusOr<storage::BackupCopy> Backup(
      const std::function<bool()>& cancelled) override {
    return store_->Backup(cancelled);
  }
  void WatchEventsDue(std::function<void()> wake) override {
    store_->WatchEventsDue(std::move(wake));
  }

 private:
  const std::unique_ptr<storage::Store> store_;
};

// Whether the environment variable ATS_TEST_RERUN_WRITES asks the test
// servers to run on a RerunningStore.
bool RerunWritesOfEnvironment();

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_RERUNNING_STORE_H_
