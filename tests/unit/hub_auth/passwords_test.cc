#include "hub/passwords.h"

#include <gtest/gtest.h>

#include <string>

namespace seghub::hub {
namespace {

TEST(PasswordsTest, HashIsArgon2idAndVerifies) {
  Result<std::string> hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_NE(*hash, "correct horse battery");
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordsTest, SamePasswordHashesDifferently) {
  Result<std::string> a = HashPassword("password123");
  Result<std::string> b = HashPassword("password123");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);  // random salt
}

TEST(PasswordsTest, MalformedHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("", "password123"));
  EXPECT_FALSE(VerifyPassword("password123", "password123"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$garbage", "password123"));
  EXPECT_FALSE(VerifyPassword(std::string(1000, 'x'), "password123"));
}

TEST(PasswordsTest, ValidatePasswordLength) {
  EXPECT_EQ(ValidatePassword("short").code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ValidatePassword("short").message().find("at least 8"), std::string::npos);
  EXPECT_TRUE(ValidatePassword("12345678").ok());
  EXPECT_TRUE(ValidatePassword(std::string(1024, 'a')).ok());
  EXPECT_EQ(ValidatePassword(std::string(1025, 'a')).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seghub::hub
