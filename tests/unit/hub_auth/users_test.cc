#include "hub/users.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <memory>
#include <string>

#include "common/clock.h"
#include "hub/schema.h"
#include "hub/tokens.h"
#include "storage/migrations.h"
#include "support/database_fixture.h"

namespace seghub::hub {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kPassword = "correct horse battery";

class UsersTest : public seghub::testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(storage::Migrate(*db(), HubMigrations()).ok());
    service_ = std::make_unique<UserService>(db(), &signer_, &clock_,
                                             AuthOptions{minutes(15), std::chrono::hours(24)});
  }

  User MustRegister(const std::string& email) {
    Result<User> user = service_->Register(email, kPassword, "");
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    return user.ok() ? *user : User{};
  }

  Session MustLogin(const std::string& email) {
    Result<Session> session = service_->Login(email, kPassword);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? *session : Session{};
  }

  ManualClock clock_;
  TokenSigner signer_{std::string(32, 's')};
  std::unique_ptr<UserService> service_;
};

void ExpectCode(const Status& status, StatusCode code) {
  EXPECT_EQ(status.code(), code) << status.ToString();
}

TEST_P(UsersTest, RegisterNormalisesEmailAndDefaultsName) {
  Result<User> user = service_->Register("  Alice@Example.ORG ", kPassword, "");
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(user->email, "alice@example.org");
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(user->id.size(), 32u);
  EXPECT_GT(user->created_at_ms, 0);

  Result<User> found = service_->FindByEmail("ALICE@example.org");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, user->id);
  Result<User> got = service_->GetUser(user->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->email, "alice@example.org");
  ExpectCode(service_->GetUser("nope").status(), StatusCode::kNotFound);
  ExpectCode(service_->FindByEmail("bob@example.org").status(), StatusCode::kNotFound);
}

TEST_P(UsersTest, RegisterRejectsDuplicatesAndBadInput) {
  MustRegister("alice@example.org");
  Result<User> dup = service_->Register("ALICE@example.org", kPassword, "Other");
  ExpectCode(dup.status(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "email already registered");

  for (const char* bad :
       {"", "alice", "a@b", "a@@b.org", "@example.org", "a@.org", "a@org.", "a b@example.org"}) {
    ExpectCode(service_->Register(bad, kPassword, "").status(), StatusCode::kInvalidArgument);
  }
  ExpectCode(service_->Register(std::string(250, 'a') + "@x.org", kPassword, "").status(),
             StatusCode::kInvalidArgument);
  ExpectCode(service_->Register("bob@example.org", "short", "").status(),
             StatusCode::kInvalidArgument);
  ExpectCode(service_->Register("bob@example.org", kPassword, std::string(201, 'n')).status(),
             StatusCode::kInvalidArgument);
  Result<User> named = service_->Register("bob@example.org", kPassword, "  Bob B. ");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "Bob B.");
}

TEST_P(UsersTest, LoginIssuesWorkingTokens) {
  User alice = MustRegister("alice@example.org");
  Session session = MustLogin(" Alice@example.org");
  EXPECT_EQ(session.user.id, alice.id);
  EXPECT_TRUE(session.access_token.starts_with("v1."));
  EXPECT_FALSE(session.refresh_token.empty());
  EXPECT_GT(session.refresh_expires_at_ms, session.access_expires_at_ms);

  Result<User> authed = service_->Authenticate(session.access_token);
  ASSERT_TRUE(authed.ok()) << authed.status().ToString();
  EXPECT_EQ(authed->id, alice.id);
  // The refresh token is not a bearer credential.
  ExpectCode(service_->Authenticate(session.refresh_token).status(), StatusCode::kUnauthenticated);
}

TEST_P(UsersTest, WrongPasswordAndUnknownEmailLookTheSame) {
  MustRegister("alice@example.org");
  Result<Session> wrong = service_->Login("alice@example.org", "wrong password");
  Result<Session> unknown = service_->Login("nobody@example.org", kPassword);
  Result<Session> malformed = service_->Login("not-an-email", kPassword);
  for (const Result<Session>* r : {&wrong, &unknown, &malformed}) {
    ExpectCode(r->status(), StatusCode::kUnauthenticated);
    EXPECT_EQ(r->status().message(), "invalid email or password");
  }
}

TEST_P(UsersTest, RefreshRotatesAndDetectsReuse) {
  User alice = MustRegister("alice@example.org");
  Session first = MustLogin("alice@example.org");
  Session other_device = MustLogin("alice@example.org");

  Result<Session> second = service_->Refresh(first.refresh_token);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->refresh_token, first.refresh_token);
  EXPECT_EQ(second->user.id, alice.id);
  EXPECT_TRUE(service_->Authenticate(second->access_token).ok());

  // The rotated-out token is presented again: treated as stolen, every session ends.
  Result<Session> reuse = service_->Refresh(first.refresh_token);
  ExpectCode(reuse.status(), StatusCode::kUnauthenticated);
  ExpectCode(service_->Refresh(second->refresh_token).status(), StatusCode::kUnauthenticated);
  ExpectCode(service_->Refresh(other_device.refresh_token).status(), StatusCode::kUnauthenticated);
  // Logging in again starts a fresh, working session.
  Session again = MustLogin("alice@example.org");
  EXPECT_TRUE(service_->Refresh(again.refresh_token).ok());

  ExpectCode(service_->Refresh("").status(), StatusCode::kUnauthenticated);
  ExpectCode(service_->Refresh("made-up").status(), StatusCode::kUnauthenticated);
}

TEST_P(UsersTest, RefreshTokenExpires) {
  MustRegister("alice@example.org");
  Session session = MustLogin("alice@example.org");
  clock_.Advance(std::chrono::hours(25));
  Result<Session> r = service_->Refresh(session.refresh_token);
  ExpectCode(r.status(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "refresh token expired");
}

TEST_P(UsersTest, LogoutIsIdempotent) {
  MustRegister("alice@example.org");
  Session session = MustLogin("alice@example.org");
  EXPECT_TRUE(service_->Logout(session.refresh_token).ok());
  EXPECT_TRUE(service_->Logout(session.refresh_token).ok());
  EXPECT_TRUE(service_->Logout("never-issued").ok());
  ExpectCode(service_->Refresh(session.refresh_token).status(), StatusCode::kUnauthenticated);
}

TEST_P(UsersTest, AccessTokenExpiresWithTheClock) {
  MustRegister("alice@example.org");
  Session session = MustLogin("alice@example.org");
  clock_.Advance(minutes(14));
  EXPECT_TRUE(service_->Authenticate(session.access_token).ok());
  clock_.Advance(minutes(2));
  Result<User> r = service_->Authenticate(session.access_token);
  ExpectCode(r.status(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "token expired");
  // The refresh token still works and yields a fresh access token.
  Result<Session> renewed = service_->Refresh(session.refresh_token);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(service_->Authenticate(renewed->access_token).ok());
}

TEST_P(UsersTest, TamperedOrForeignTokensAreRejected) {
  MustRegister("alice@example.org");
  Session session = MustLogin("alice@example.org");
  std::string tampered = session.access_token;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {tampered, std::string(""), std::string("Bearer ") + session.access_token,
        std::string("shk_not-a-token"), std::string("v1.x.y"),
        TokenSigner(std::string(32, 'x'))
            .Sign({session.user.id, "sid", 0, std::numeric_limits<int64_t>::max()})}) {
    ExpectCode(service_->Authenticate(bad).status(), StatusCode::kUnauthenticated);
  }
}

TEST_P(UsersTest, ApiTokensCreateAuthenticateListRevoke) {
  User alice = MustRegister("alice@example.org");
  User bob = MustRegister("bob@example.org");
  Result<UserService::CreatedApiToken> created = service_->CreateApiToken(alice.id, " ci ");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->token.starts_with("shk_"));
  EXPECT_EQ(created->info.name, "ci");
  EXPECT_FALSE(created->info.last_used_at_ms.has_value());
  clock_.Advance(seconds(1));
  ASSERT_TRUE(service_->CreateApiToken(alice.id, "laptop").ok());
  ExpectCode(service_->CreateApiToken(alice.id, "").status(), StatusCode::kInvalidArgument);
  ExpectCode(service_->CreateApiToken("no-such-user", "x").status(), StatusCode::kNotFound);

  Result<User> authed = service_->Authenticate(created->token);
  ASSERT_TRUE(authed.ok()) << authed.status().ToString();
  EXPECT_EQ(authed->id, alice.id);

  Result<std::vector<ApiTokenInfo>> list = service_->ListApiTokens(alice.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, created->info.id);
  EXPECT_EQ((*list)[1].name, "laptop");
  ASSERT_TRUE((*list)[0].last_used_at_ms.has_value());
  int64_t first_use = *(*list)[0].last_used_at_ms;
  EXPECT_FALSE((*list)[1].last_used_at_ms.has_value());
  EXPECT_TRUE(service_->ListApiTokens(bob.id)->empty());

  // last_used_at moves at most once a minute.
  clock_.Advance(seconds(30));
  ASSERT_TRUE(service_->Authenticate(created->token).ok());
  EXPECT_EQ(*(*service_->ListApiTokens(alice.id))[0].last_used_at_ms, first_use);
  clock_.Advance(seconds(31));
  ASSERT_TRUE(service_->Authenticate(created->token).ok());
  EXPECT_EQ(*(*service_->ListApiTokens(alice.id))[0].last_used_at_ms, first_use + 61'000);

  // Only the owner can revoke; a revoked token stops working.
  ExpectCode(service_->RevokeApiToken(bob.id, created->info.id), StatusCode::kNotFound);
  EXPECT_TRUE(service_->RevokeApiToken(alice.id, created->info.id).ok());
  ExpectCode(service_->RevokeApiToken(alice.id, created->info.id), StatusCode::kNotFound);
  ExpectCode(service_->Authenticate(created->token).status(), StatusCode::kUnauthenticated);
  EXPECT_EQ(service_->ListApiTokens(alice.id)->size(), 1u);
}

SEGHUB_INSTANTIATE_DATABASE_TEST(UsersTest);

}  // namespace
}  // namespace seghub::hub
