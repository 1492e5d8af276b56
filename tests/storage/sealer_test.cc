// Sealing values with AES-256-GCM: bound to their row, opened only with
// their key, and key files that are private and never replaced.

#include "storage/sealer.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

SealingKey KeyOf(char fill) {
  return MakeSealingKey(std::string(kSealingKeyBytes, fill));
}

const std::string kContext =
    SealContext("integrations.signing_secret", "acct-a", "int-1");

TEST(SealerTest, OpensWhatItSealed) {
  Sealer sealer(KeyOf('a'), {});
  absl::StatusOr<std::string> sealed = sealer.Seal("whsec_abc", kContext);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_TRUE(Sealer::IsSealed(*sealed));
  EXPECT_EQ(Sealer::KeyIdOf(*sealed), sealer.current_key_id());
  EXPECT_EQ(sealed->find("whsec_abc"), std::string::npos);
  absl::StatusOr<std::string> opened = sealer.Open(*sealed, kContext);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "whsec_abc");
}

TEST(SealerTest, EachSealUsesAFreshNonce) {
  Sealer sealer(KeyOf('a'), {});
  EXPECT_NE(*sealer.Seal("same", kContext), *sealer.Seal("same", kContext));
}

TEST(SealerTest, EmptyPlaintextRoundTrips) {
  Sealer sealer(KeyOf('a'), {});
  absl::StatusOr<std::string> sealed = sealer.Seal("", kContext);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*sealer.Open(*sealed, kContext), "");
}

TEST(SealerTest, DoesNotOpenInAnotherRowAccountOrColumn) {
  Sealer sealer(KeyOf('a'), {});
  const std::string sealed = *sealer.Seal("whsec_abc", kContext);
  for (const std::string& elsewhere :
       {SealContext("integrations.signing_secret", "acct-a", "int-2"),
        SealContext("integrations.signing_secret", "acct-b", "int-1"),
        SealContext("integrations.activation_values", "acct-a", "int-1"),
        // Length prefixes keep shifted boundaries apart.
        SealContext("integrations.signing_secret", "acct-ai", "nt-1")}) {
    absl::StatusOr<std::string> opened = sealer.Open(sealed, elsewhere);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss)
        << opened.status();
  }
}

TEST(SealerTest, DoesNotOpenWithAnotherKey) {
  const std::string sealed = *Sealer(KeyOf('a'), {}).Seal("x", kContext);
  absl::StatusOr<std::string> opened =
      Sealer(KeyOf('b'), {}).Open(sealed, kContext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find(KeyOf('a').id), std::string::npos)
      << opened.status();
}

TEST(SealerTest, OpensWithAnOldKey) {
  const std::string sealed = *Sealer(KeyOf('a'), {}).Seal("x", kContext);
  Sealer rotated(KeyOf('b'), {KeyOf('a')});
  EXPECT_EQ(*rotated.Open(sealed, kContext), "x");
  EXPECT_TRUE(rotated.HasKey(KeyOf('a').id));
  EXPECT_NE(Sealer::KeyIdOf(*rotated.Seal("x", kContext)), KeyOf('a').id);
}

TEST(SealerTest, RefusesAlteredValues) {
  Sealer sealer(KeyOf('a'), {});
  const std::string sealed = *sealer.Seal("whsec_abc", kContext);
  // Change one character early in the base64 body: every bit of it is
  // data (the last characters may carry padding bits a decoder ignores).
  std::string altered = sealed;
  char& changed = altered[sealed.rfind(':') + 5];
  changed = changed == 'A' ? 'B' : 'A';
  EXPECT_EQ(sealer.Open(altered, kContext).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(sealer.Open("whsec_abc", kContext).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(sealer.Open(sealed.substr(0, 30), kContext).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(SealerTest, KeyIdsDifferByKeyAndAreStable) {
  EXPECT_EQ(KeyOf('a').id, KeyOf('a').id);
  EXPECT_NE(KeyOf('a').id, KeyOf('b').id);
  EXPECT_EQ(KeyOf('a').id.size(), 16u);
}

TEST(SealingKeyFileTest, CreatesAPrivateKeyAndNeverReplacesIt) {
  ::ats::testing::TempDir dir;
  const std::string path = dir.File("ats.secrets.key");
  absl::StatusOr<SealingKey> created = CreateSealingKeyFile(path);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, static_cast<off_t>(kSealingKeyBytes));

  absl::StatusOr<SealingKey> read = ReadSealingKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->id, created->id);
  EXPECT_EQ(read->bytes, created->bytes);

  absl::StatusOr<SealingKey> again = CreateSealingKeyFile(path);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadSealingKeyFile(path)->bytes, created->bytes);
}

TEST(SealingKeyFileTest, RefusesFilesOfAnotherSize) {
  ::ats::testing::TempDir dir;
  const std::string path = dir.File("short.key");
  std::ofstream(path) << "not a key\n";
  absl::StatusOr<SealingKey> read = ReadSealingKeyFile(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(read.status().message().find("exactly 32 bytes"),
            std::string::npos)
      << read.status();
  EXPECT_EQ(ReadSealingKeyFile(dir.File("missing.key")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ats::storage
