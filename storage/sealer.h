#ifndef ATS_STORAGE_SEALER_H_
#define ATS_STORAGE_SEALER_H_

// Secrets sealed at rest: AES-256-GCM under a master key kept outside the
// database, each value bound to the row and column that hold it. Every
// storage backend seals on write and opens on read, so the rest of the
// server only ever sees plaintext.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ats::storage {

// Size of a master key: AES-256.
inline constexpr size_t kSealingKeyBytes = 32;

// One master key and the id that sealed values carry to name it.
struct SealingKey {
  // 16 hex digits derived from the key bytes (not secret: a one-way hash).
  std::string id;
  std::string bytes;
};

// Returns the key made of `bytes` (kSealingKeyBytes of them) with its id.
SealingKey MakeSealingKey(std::string bytes);

// Returns the key stored in the file at `path`: exactly kSealingKeyBytes raw
// bytes. NOT_FOUND when there is no such file; FAILED_PRECONDITION when it
// cannot be read or has another size.
absl::StatusOr<SealingKey> ReadSealingKeyFile(const std::string& path);

// Creates the file at `path` (mode 0600, never replacing an existing file)
// holding a new random key, and returns that key. FAILED_PRECONDITION when
// the file exists or cannot be written.
absl::StatusOr<SealingKey> CreateSealingKeyFile(const std::string& path);

// Returns the associated data that binds a sealed value to where it is
// stored: `column` ("table.column") of row `id` of account `account_id`.
// A value copied to another row, account or column then fails to open.
std::string SealContext(std::string_view column, std::string_view account_id,
                        std::string_view id);

// Seals and opens values. Sealed values are ASCII text,
// "sealed:v1:<key id>:<base64 of nonce, ciphertext and tag>", so they fit
// text and blob columns alike and never look like a plaintext secret.
// Thread-safe (immutable after construction).
class Sealer {
 public:
  // Seals with `current`; opens values sealed with it or any of `old`
  // (earlier keys kept while their values are re-sealed).
  Sealer(SealingKey current, std::vector<SealingKey> old);

  // Returns the id of the key new values are sealed with.
  const std::string& current_key_id() const { return current_.id; }

  // Returns `plaintext` sealed with the current key and a fresh random
  // nonce, bound to `context` (see SealContext). INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Seal(std::string_view plaintext,
                                   std::string_view context) const;

  // Returns the plaintext of `sealed`. DATA_LOSS when it is malformed, was
  // sealed for another context or has been altered; FAILED_PRECONDITION when
  // its key is none of this sealer's.
  absl::StatusOr<std::string> Open(std::string_view sealed,
                                   std::string_view context) const;

  // Returns whether this sealer holds the key with id `key_id`.
  bool HasKey(std::string_view key_id) const;

  // Returns whether `value` has the sealed form (under whatever key).
  static bool IsSealed(std::string_view value);

  // Returns the id of the key a sealed `value` names; empty unless
  // IsSealed(value).
  static std::string_view KeyIdOf(std::string_view value);

 private:
  const SealingKey* FindKey(std::string_view key_id) const;

  SealingKey current_;
  std::vector<SealingKey> old_;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_SEALER_H_
