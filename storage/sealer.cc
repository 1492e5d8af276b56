#include "storage/sealer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/files.h"

namespace ats::storage {
namespace {

constexpr std::string_view kSealedPrefix = "sealed:v1:";
constexpr size_t kKeyIdHexDigits = 16;
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* context) const {
    EVP_CIPHER_CTX_free(context);
  }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

// Debian's Abseil has its own string_view, which std::string_view does not
// convert to implicitly.
absl::string_view View(std::string_view s) { return {s.data(), s.size()}; }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* Bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

// The text before the base64 part; it is authenticated with the context, so
// the key id a value names cannot be altered either.
std::string Header(std::string_view key_id) {
  return absl::StrCat(View(kSealedPrefix), View(key_id), ":");
}

absl::Status CannotRead(const std::string& path, std::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot read secrets key file ", path, ": ", View(why)));
}

}  // namespace

SealingKey MakeSealingKey(std::string bytes) {
  // Domain-separated so the id says nothing usable about the key itself.
  const std::string input = absl::StrCat("ats sealing key id", bytes);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(Bytes(input), input.size(), digest);
  SealingKey key;
  key.id = absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), kKeyIdHexDigits / 2));
  key.bytes = std::move(bytes);
  return key;
}

absl::StatusOr<SealingKey> ReadSealingKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("secrets key file ", path, " does not exist"));
    }
    return CannotRead(path, std::strerror(errno));
  }
  // One byte more than a key, to tell a longer file from a key.
  std::string bytes(kSealingKeyBytes + 1, '\0');
  size_t size = 0;
  ssize_t n = 0;
  while (size < bytes.size() &&
         (n = ::read(fd, bytes.data() + size, bytes.size() - size)) > 0) {
    size += static_cast<size_t>(n);
  }
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) return CannotRead(path, std::strerror(read_errno));
  if (size != kSealingKeyBytes) {
    return CannotRead(
        path, absl::StrCat("it must hold exactly ", kSealingKeyBytes,
                           " bytes (a key written by ats-server or by "
                           "`openssl rand -out FILE 32`), not ",
                           size > kSealingKeyBytes ? "more" : "fewer"));
  }
  bytes.resize(kSealingKeyBytes);
  return MakeSealingKey(std::move(bytes));
}

absl::StatusOr<SealingKey> CreateSealingKeyFile(const std::string& path) {
  std::string bytes(kSealingKeyBytes, '\0');
  if (RAND_bytes(Bytes(bytes), static_cast<int>(bytes.size())) != 1) {
    return absl::InternalError("OpenSSL could not make a random key");
  }
  // Never replaced, since values sealed under the old key would be lost
  // with it.
  absl::Status written = WritePrivateFileOnce(path, bytes);
  if (!written.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create secrets key file ", path, ": ", written.message()));
  }
  return MakeSealingKey(std::move(bytes));
}

std::string SealContext(std::string_view column, std::string_view account_id,
                        std::string_view id) {
  // Length-prefixed, so no two different triples give the same bytes.
  return absl::StrCat(column.size(), ":", View(column), account_id.size(), ":",
                      View(account_id), id.size(), ":", View(id));
}

Sealer::Sealer(SealingKey current, std::vector<SealingKey> old)
    : current_(std::move(current)), old_(std::move(old)) {}

absl::StatusOr<std::string> Sealer::Seal(std::string_view plaintext,
                                         std::string_view context) const {
  const std::string header = Header(current_.id);
  const std::string associated = absl::StrCat(header, View(context));
  // nonce | ciphertext (as long as the plaintext) | tag
  std::string box(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  unsigned char* nonce = Bytes(box);
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext.size();
  CipherContext cipher(EVP_CIPHER_CTX_new());
  int length = 0;
  const bool sealed =
      cipher != nullptr && RAND_bytes(nonce, kNonceBytes) == 1 &&
      EVP_EncryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr,
                         Bytes(current_.bytes), nonce) == 1 &&
      EVP_EncryptUpdate(cipher.get(), nullptr, &length, Bytes(associated),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_EncryptUpdate(cipher.get(), ciphertext, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(cipher.get(), ciphertext + length, &length) == 1 &&
      EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          tag) == 1;
  if (!sealed) return absl::InternalError("OpenSSL could not seal a secret");
  return absl::StrCat(header, absl::Base64Escape(box));
}

absl::StatusOr<std::string> Sealer::Open(std::string_view sealed,
                                         std::string_view context) const {
  if (!IsSealed(sealed)) {
    return absl::DataLossError("stored secret is not in the sealed form");
  }
  const std::string_view key_id = KeyIdOf(sealed);
  const SealingKey* key = FindKey(key_id);
  if (key == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stored secret is sealed under key ", View(key_id),
        ", which is neither --secrets_key_file nor one of "
        "--secrets_old_key_files"));
  }
  const std::string header = Header(key_id);
  std::string box;
  if (!absl::Base64Unescape(View(sealed.substr(header.size())), &box) ||
      box.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("stored secret is corrupt");
  }
  const std::string associated = absl::StrCat(header, View(context));
  const size_t plaintext_size = box.size() - kNonceBytes - kTagBytes;
  unsigned char* nonce = Bytes(box);
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext_size;
  std::string plaintext(plaintext_size, '\0');
  CipherContext cipher(EVP_CIPHER_CTX_new());
  int length = 0;
  const bool opened =
      cipher != nullptr &&
      EVP_DecryptInit_ex(cipher.get(), EVP_aes_256_gcm(), nullptr,
                         Bytes(key->bytes), nonce) == 1 &&
      EVP_DecryptUpdate(cipher.get(), nullptr, &length, Bytes(associated),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_DecryptUpdate(cipher.get(), Bytes(plaintext), &length, ciphertext,
                        static_cast<int>(plaintext_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(cipher.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          tag) == 1 &&
      EVP_DecryptFinal_ex(cipher.get(), Bytes(plaintext) + length, &length) ==
          1;
  if (!opened) {
    // GCM cannot tell these apart, and neither should an attacker.
    return absl::DataLossError(
        "stored secret does not open: it was altered or belongs to another "
        "row");
  }
  return plaintext;
}

bool Sealer::HasKey(std::string_view key_id) const {
  return FindKey(key_id) != nullptr;
}

bool Sealer::IsSealed(std::string_view value) {
  return absl::StartsWith(View(value), View(kSealedPrefix)) &&
         value.size() > kSealedPrefix.size() + kKeyIdHexDigits &&
         value[kSealedPrefix.size() + kKeyIdHexDigits] == ':';
}

std::string_view Sealer::KeyIdOf(std::string_view value) {
  if (!IsSealed(value)) return {};
  return value.substr(kSealedPrefix.size(), kKeyIdHexDigits);
}

const SealingKey* Sealer::FindKey(std::string_view key_id) const {
  if (key_id == current_.id) return &current_;
  for (const SealingKey& key : old_) {
    if (key_id == key.id) return &key;
  }
  return nullptr;
}

}  // namespace ats::storage
