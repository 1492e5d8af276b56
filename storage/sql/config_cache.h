#ifndef ATS_STORAGE_SQL_CONFIG_CACHE_H_
#define ATS_STORAGE_SQL_CONFIG_CACHE_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/integration_repository.h"
#include "storage/job_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// The rows every move reads and operators rarely change (a stage's
// triggers, its job, the integrations the triggers fire and their
// partners' listings), kept between transactions by the one connection
// that writes, so that moves read them from memory instead of the
// database.
//
// It holds only while that connection sees every change to those rows. So
// it is dropped whole by every write to their tables through the
// repositories, by every write that is rolled back (it may have undone one
// of those), and by every commit of another connection (which may have made
// one without the repositories knowing). The session that owns it says so
// through Session::config_cache(); only a backend whose one connection
// writes everything may offer one.
//
// Not thread-safe: used by its connection's thread alone.
class ConfigCache {
 public:
  // Returns the cached row or rows, or nullptr when not cached.
  const std::vector<TriggerRow>* Triggers(std::string_view account_id,
                                          std::string_view stage_id) const {
    return Find(triggers_, AccountKey(account_id, stage_id));
  }
  const JobRow* Job(std::string_view account_id, std::string_view id) const {
    return Find(jobs_, AccountKey(account_id, id));
  }
  const IntegrationState* Integration(std::string_view account_id,
                                      std::string_view id) const {
    return Find(integrations_, AccountKey(account_id, id));
  }
  const PartnerRow* Partner(std::string_view id) const {
    return Find(partners_, std::string(id));
  }

  // Keeps `rows`, as read from the database by the owning connection.
  void KeepTriggers(std::string_view account_id, std::string_view stage_id,
                    const std::vector<TriggerRow>& rows) {
    Keep(triggers_, AccountKey(account_id, stage_id), rows);
  }
  void KeepJob(const JobRow& job) {
    Keep(jobs_, AccountKey(job.account_id, job.id), job);
  }
  void KeepIntegration(std::string_view account_id,
                       const IntegrationState& state) {
    Keep(integrations_, AccountKey(account_id, state.id), state);
  }
  void KeepPartner(const PartnerRow& partner) {
    Keep(partners_, partner.id, partner);
  }

  // Forgets every row.
  void Clear() {
    triggers_.clear();
    jobs_.clear();
    integrations_.clear();
    partners_.clear();
    size_ = 0;
  }

 private:
  // Rows kept before the cache starts over: enough for every stage of the
  // jobs a busy server moves candidates in, small next to the page cache.
  static constexpr size_t kMaxRows = 20000;

  static std::string AccountKey(std::string_view account_id,
                                std::string_view id) {
    std::string key(account_id);
    key.push_back('\0');
    key.append(id);
    return key;
  }

  template <typename Row>
  static const Row* Find(const std::map<std::string, Row, std::less<>>& rows,
                         const std::string& key) {
    auto it = rows.find(key);
    return it == rows.end() ? nullptr : &it->second;
  }

  template <typename Row>
  void Keep(std::map<std::string, Row, std::less<>>& rows, std::string key,
            const Row& row) {
    if (size_ >= kMaxRows) Clear();
    if (rows.insert_or_assign(std::move(key), row).second) ++size_;
  }

  std::map<std::string, std::vector<TriggerRow>, std::less<>> triggers_;
  std::map<std::string, JobRow, std::less<>> jobs_;
  std::map<std::string, IntegrationState, std::less<>> integrations_;
  std::map<std::string, PartnerRow, std::less<>> partners_;
  size_t size_ = 0;
};

// Drops the rows `db` keeps between transactions, if any: for every write
// to the tables they come from.
inline void ConfigChanged(Session& db) {
  if (ConfigCache* cache = db.config_cache()) cache->Clear();
}

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_CONFIG_CACHE_H_
