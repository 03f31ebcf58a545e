#include "hub/tokens.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hub/ids.h"

namespace seghub::hub {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

AccessClaims Claims() { return {"user-1", "session-1", kNow, kNow + 60'000}; }

std::string Key(char c) { return std::string(32, c); }

void ExpectInvalid(const Result<AccessClaims>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "invalid token");
}

TEST(TokenSignerTest, RoundTrip) {
  TokenSigner signer(Key('k'));
  std::string token = signer.Sign(Claims());
  EXPECT_TRUE(token.starts_with("v1."));
  Result<AccessClaims> claims = signer.Verify(token, kNow + 1000);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->user_id, "user-1");
  EXPECT_EQ(claims->session_id, "session-1");
  EXPECT_EQ(claims->issued_at_ms, kNow);
  EXPECT_EQ(claims->expires_at_ms, kNow + 60'000);
}

TEST(TokenSignerTest, Expired) {
  TokenSigner signer(Key('k'));
  Result<AccessClaims> r = signer.Verify(signer.Sign(Claims()), kNow + 60'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "token expired");
}

TEST(TokenSignerTest, TamperedPayloadIsRejected) {
  TokenSigner signer(Key('k'));
  std::string token = signer.Sign(Claims());
  size_t dot = token.rfind('.');
  // Re-encode claims for another user under the original signature.
  AccessClaims other = Claims();
  other.user_id = "admin";
  std::string forged = signer.Sign(other);
  ExpectInvalid(signer.Verify(forged.substr(0, forged.rfind('.')) + token.substr(dot), kNow));
  std::string flipped = token;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  ExpectInvalid(signer.Verify(flipped, kNow));
}

TEST(TokenSignerTest, TamperedSignatureIsRejected) {
  TokenSigner signer(Key('k'));
  std::string token = signer.Sign(Claims());
  std::string flipped = token;
  flipped[token.size() - 3] = flipped[token.size() - 3] == 'A' ? 'B' : 'A';
  ExpectInvalid(signer.Verify(flipped, kNow));
  ExpectInvalid(signer.Verify(token.substr(0, token.size() - 2), kNow));
}

TEST(TokenSignerTest, WrongKeyIsRejected) {
  TokenSigner a(Key('a'));
  TokenSigner b(Key('b'));
  ExpectInvalid(b.Verify(a.Sign(Claims()), kNow));
}

TEST(TokenSignerTest, MalformedStringsAreRejected) {
  TokenSigner signer(Key('k'));
  std::string good = signer.Sign(Claims());
  for (std::string bad :
       {std::string(), std::string("v1."), std::string("v1.."), std::string("v1.abc"),
        std::string("v2") + good.substr(2), std::string("shk_abc"), good + ".", good + "x",
        std::string("v1.!!!.") + good.substr(good.rfind('.') + 1)}) {
    ExpectInvalid(signer.Verify(bad, kNow));
  }
}

TEST(TokenSignerTest, SignedPayloadThatIsNotClaimsIsRejected) {
  // Correctly signed with the right key, but not a claims object: must fail cleanly, not throw.
  std::string key = Key('k');
  TokenSigner signer(key);
  for (std::string json : {"[1,2,3]", "{}", "not json", R"({"sub":1,"sid":"s","iat":1,"exp":2})",
                           R"({"sub":"u","sid":"s","iat":1,"exp":"99999999999999"})",
                           R"({"sub":"","sid":"s","iat":1,"exp":99999999999999})"}) {
    std::string signed_part = "v1." + Base64UrlEncode(json);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signed_part.data()),
                           signed_part.size(), reinterpret_cast<const unsigned char*>(key.data()));
    std::string token =
        signed_part + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), sizeof(mac)));
    ExpectInvalid(signer.Verify(token, kNow));
  }
  // The same construction with real claims verifies, so the rejections above are about content.
  std::string json = R"({"sub":"u","sid":"s","iat":1,"exp":99999999999999})";
  std::string signed_part = "v1." + Base64UrlEncode(json);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signed_part.data()),
                         signed_part.size(), reinterpret_cast<const unsigned char*>(key.data()));
  std::string token =
      signed_part + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), sizeof(mac)));
  EXPECT_TRUE(signer.Verify(token, kNow).ok());
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("seghub-tokens-test-" + NewId());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretFileTest, CreatedWithMode0600AndReused) {
  std::filesystem::path file = dir_ / "sub" / "token.key";
  Result<std::string> first = LoadOrCreateSecret(file);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  Result<std::string> second = LoadOrCreateSecret(file);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  // Tokens signed before a "restart" verify after it.
  std::string token = TokenSigner(*first).Sign(Claims());
  EXPECT_TRUE(TokenSigner(*second).Verify(token, kNow).ok());
  // No temporary files left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(SecretFileTest, ShortFileIsAnError) {
  std::filesystem::create_directories(dir_);
  std::filesystem::path file = dir_ / "token.key";
  std::ofstream(file) << "short";
  Result<std::string> r = LoadOrCreateSecret(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace seghub::hub
