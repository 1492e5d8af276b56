#ifndef ATS_STORAGE_SQL_CONFIG_CACHE_H_
#define ATS_STORAGE_SQL_CONFIG_CACHE_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
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
  // Returns the row of type Row (one of the four above; a stage's triggers
  // are one std::vector<TriggerRow>) kept under `key`, or nullptr.
  template <typename Row>
  const Row* Find(const std::string& key) const {
    const Rows<Row>& rows = std::get<Rows<Row>>(tables_);
    auto it = rows.find(key);
    return it == rows.end() ? nullptr : &it->second;
  }

  // Keeps `row`, as read from the database by the owning connection.
  template <typename Row>
  void Keep(const std::string& key, const Row& row) {
    if (size_ >= kMaxRows) Clear();
    if (std::get<Rows<Row>>(tables_).insert_or_assign(key, row).second) {
      ++size_;
    }
  }

  // Forgets every row.
  void Clear() {
    std::apply([](auto&... rows) { (rows.clear(), ...); }, tables_);
    size_ = 0;
  }

 private:
  // Rows kept before the cache starts over: enough for every stage of the
  // jobs a busy server moves candidates in, small next to the page cache.
  static constexpr size_t kMaxRows = 20000;

  template <typename Row>
  using Rows = std::map<std::string, Row>;

  std::tuple<Rows<std::vector<TriggerRow>>, Rows<JobRow>,
             Rows<IntegrationState>, Rows<PartnerRow>>
      tables_;
  size_t size_ = 0;
};

// Returns the Row of `id` (in account `account_id`; "" for rows of no
// account) from the rows `db` keeps between transactions, or else what
// `read` (returning absl::StatusOr<Row>) reads, kept when found.
template <typename Row, typename Read>
absl::StatusOr<Row> ReadThroughConfigCache(Session& db,
                                           std::string_view account_id,
                                           std::string_view id, Read read) {
  ConfigCache* cache = db.config_cache();
  if (cache == nullptr) return read();
  std::string key(account_id);
  key.push_back('\0');
  key.append(id);
  if (const Row* row = cache->Find<Row>(key)) return *row;
  absl::StatusOr<Row> row = read();
  if (row.ok()) cache->Keep(key, *row);
  return row;
}

// Drops the rows `db` keeps between transactions, if any: for every write
// to the tables they come from.
inline void ConfigChanged(Session& db) {
  if (ConfigCache* cache = db.config_cache()) cache->Clear();
}

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_CONFIG_CACHE_H_
