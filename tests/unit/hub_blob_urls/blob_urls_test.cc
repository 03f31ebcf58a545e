// BlobUrlSigner: signed paths verify, and tampering, another secret or expiry are refused.
#include "hub/blob_urls.h"

#include <gtest/gtest.h>

#include <map>

#include "storage/blob_store.h"

namespace seghub::hub {
namespace {

using std::chrono::seconds;

const std::string kSecret(32, 'k');

struct Parsed {
  std::string key, expires, sig;
};

// Splits "/internal/blobs/<key>?expires=<t>&sig=<hex>".
Parsed Parse(const std::string& path) {
  Parsed p;
  EXPECT_EQ(path.rfind(std::string(kBlobUrlPrefix), 0), 0u) << path;
  const size_t q = path.find('?');
  p.key = path.substr(kBlobUrlPrefix.size(), q - kBlobUrlPrefix.size());
  const size_t amp = path.find('&', q);
  EXPECT_EQ(path.substr(q + 1, 8), "expires=");
  p.expires = path.substr(q + 9, amp - q - 9);
  EXPECT_EQ(path.substr(amp + 1, 4), "sig=");
  p.sig = path.substr(amp + 5);
  return p;
}

TEST(BlobUrlSignerTest, RoundTrip) {
  ManualClock clock;
  BlobUrlSigner signer(kSecret, &clock);
  const std::string key = storage::Sha256Hex("image bytes");
  Parsed p = Parse(signer.SignedPath(key, seconds(60)));
  EXPECT_EQ(p.key, key);
  EXPECT_EQ(p.expires, std::to_string(clock.NowUnixMs() / 1000 + 60));
  EXPECT_EQ(p.sig.size(), 64u);
  EXPECT_TRUE(signer.VerifyNow(p.key, p.expires, p.sig).ok());
  EXPECT_TRUE(signer.Verify(p.key, p.expires, p.sig, clock.NowUnixMs()).ok());
}

TEST(BlobUrlSignerTest, TamperingIsRefused) {
  ManualClock clock;
  BlobUrlSigner signer(kSecret, &clock);
  const std::string key = storage::Sha256Hex("a");
  Parsed p = Parse(signer.SignedPath(key, seconds(60)));
  auto refused = [&](const std::string& k, const std::string& e, const std::string& s) {
    Status st = signer.VerifyNow(k, e, s);
    return st.code() == StatusCode::kUnauthenticated;
  };
  EXPECT_TRUE(refused(storage::Sha256Hex("b"), p.expires, p.sig));                 // another blob
  EXPECT_TRUE(refused(key, std::to_string(std::stoll(p.expires) + 3600), p.sig));  // longer life
  std::string flipped = p.sig;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  EXPECT_TRUE(refused(key, p.expires, flipped));
  EXPECT_TRUE(refused(key, p.expires, p.sig.substr(0, 62)));  // truncated
  EXPECT_TRUE(refused(key, p.expires, ""));
  EXPECT_TRUE(refused(key, p.expires, std::string(64, 'z')));  // not hex
  EXPECT_TRUE(refused(key, "", p.sig));
  EXPECT_TRUE(refused(key, "-5", p.sig));
  EXPECT_TRUE(refused(key, p.expires + " ", p.sig));
  // Another secret signs differently.
  BlobUrlSigner other(std::string(32, 'x'), &clock);
  EXPECT_TRUE(refused(key, p.expires, Parse(other.SignedPath(key, seconds(60))).sig));
}

TEST(BlobUrlSignerTest, ExpiresAtTheDeadline) {
  ManualClock clock;
  BlobUrlSigner signer(kSecret, &clock);
  const std::string key = storage::Sha256Hex("x");
  Parsed p = Parse(signer.SignedPath(key, seconds(30)));
  clock.Advance(seconds(29));
  EXPECT_TRUE(signer.VerifyNow(key, p.expires, p.sig).ok());
  clock.Advance(seconds(1));
  Status expired = signer.VerifyNow(key, p.expires, p.sig);
  EXPECT_EQ(expired.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired.ToString();
}

TEST(BlobUrlSignerDeathTest, ShortSecretAborts) {
  EXPECT_DEATH(BlobUrlSigner(std::string(16, 'k')), "blob URL secret");
}

}  // namespace
}  // namespace seghub::hub
