#include "hub/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace seghub::hub {
namespace {

TEST(IdsTest, NewIdIs32LowercaseHexAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = NewId();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(IdsTest, RandomTokenIsBase64UrlWithoutPadding) {
  std::string token = RandomToken();
  EXPECT_EQ(token.size(), 43u);  // 32 bytes
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(RandomToken(3).size(), 4u);
  EXPECT_NE(RandomToken(), RandomToken());
}

TEST(IdsTest, Sha256HexKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(IdsTest, Base64UrlRoundTripAndRejectsGarbage) {
  std::string data("\x00\xff\xfe binary", 10);
  std::string decoded;
  ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(data), &decoded));
  EXPECT_EQ(decoded, data);
  EXPECT_FALSE(Base64UrlDecode("ab+/", &decoded));  // standard alphabet, not url-safe
  EXPECT_FALSE(Base64UrlDecode("abc=", &decoded));  // padding
  EXPECT_FALSE(Base64UrlDecode("a", &decoded));     // impossible length
  EXPECT_TRUE(decoded.empty());
}

}  // namespace
}  // namespace seghub::hub
