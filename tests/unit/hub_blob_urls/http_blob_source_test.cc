// HttpBlobSource against a real HttpServer serving RegisterBlobRoutes over a temporary
// BlobStore: large blobs, signatures, unknown keys, corrupt answers, failover and size limits.
#include "hub/http_blob_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "api/blob_routes.h"
#include "api/http_server.h"
#include "http_client.h"
#include "pipeline/task_pool.h"
#include "storage/blob_store.h"

namespace seghub::hub {
namespace {

const std::string kSecret(32, 's');

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::unique_ptr<api::HttpServer> StartServer(const api::Router* router) {
  api::HttpServerOptions options;
  options.port = 0;
  options.shutdown_grace = std::chrono::milliseconds(200);
  auto server = api::HttpServer::Start(options, router);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::string BaseUrl(const api::HttpServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

class HttpBlobSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("seghub_blob_urls_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto store = storage::BlobStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(api::RegisterBlobRoutes(&router_, store_.get(), &signer_, &pool_).ok());
    server_ = StartServer(&router_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(root_);
  }

  std::unique_ptr<HttpBlobSource> Source(std::vector<std::string> urls,
                                         const BlobUrlSigner* signer = nullptr,
                                         HttpBlobSourceOptions options = {}) {
    auto source = HttpBlobSource::Create(std::move(urls), signer ? signer : &signer_, options);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  std::filesystem::path root_;
  std::unique_ptr<storage::BlobStore> store_;
  BlobUrlSigner signer_{kSecret};
  pipeline::TaskPool pool_{2, 16};
  api::Router router_;
  std::unique_ptr<api::HttpServer> server_;
};

TEST_F(HttpBlobSourceTest, FetchesALargeBlob) {
  const std::string bytes = RandomBytes(3 << 20);
  auto key = store_->Put(bytes);
  ASSERT_TRUE(key.ok());
  auto source = Source({BaseUrl(*server_)});
  for (int i = 0; i < 2; ++i) {
    Result<std::string> got = source->Get(*key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == bytes);
  }
}

TEST_F(HttpBlobSourceTest, RouteChecksKeyAndSignature) {
  auto key = store_->Put("hello");
  ASSERT_TRUE(key.ok());
  const std::string good = signer_.SignedPath(*key, std::chrono::seconds(60));
  auto fetch = [&](const std::string& target) {
    auto reply = testing::Fetch("127.0.0.1", server_->port(), "GET", target);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : testing::HttpReply{};
  };
  testing::HttpReply ok = fetch(good);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello");
  EXPECT_EQ(ok.Header("Content-Type"), "application/octet-stream");

  std::string tampered = good;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(fetch(tampered).status, 401);
  EXPECT_EQ(fetch(std::string(kBlobUrlPrefix) + *key).status, 401);  // unsigned
  EXPECT_EQ(fetch(std::string(kBlobUrlPrefix) + "not-a-key?expires=1&sig=00").status, 400);
  const std::string unknown = storage::Sha256Hex("absent");
  EXPECT_EQ(fetch(signer_.SignedPath(unknown, std::chrono::seconds(60))).status, 404);
}

TEST_F(HttpBlobSourceTest, WrongSecretIsUnauthenticated) {
  auto key = store_->Put("data");
  ASSERT_TRUE(key.ok());
  BlobUrlSigner other(std::string(32, 'o'));
  auto source = Source({BaseUrl(*server_)}, &other);
  EXPECT_EQ(source->Get(*key).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(HttpBlobSourceTest, UnknownKeyIsNotFound) {
  auto source = Source({BaseUrl(*server_)});
  EXPECT_EQ(source->Get(storage::Sha256Hex("nothing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(source->Get("not-a-key").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpBlobSourceTest, AlteredBytesAreDetected) {
  // A server that answers every key with bytes that do not hash to it.
  api::Router liar;
  ASSERT_TRUE(liar.AddSync("GET", "/internal/blobs/{key}",
                           [](const api::HttpRequest&) {
                             return api::HttpResponse::Text(200, "altered",
                                                            "application/octet-stream");
                           })
                  .ok());
  auto liar_server = StartServer(&liar);
  ASSERT_NE(liar_server, nullptr);
  auto key = store_->Put("original");
  ASSERT_TRUE(key.ok());
  auto source = Source({BaseUrl(*liar_server)});
  EXPECT_EQ(source->Get(*key).status().code(), StatusCode::kInternal);
  // With an honest server next to it, every Get succeeds whichever server it starts at.
  auto both = Source({BaseUrl(*liar_server), BaseUrl(*server_)});
  for (int i = 0; i < 4; ++i) {
    Result<std::string> got = both->Get(*key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, "original");
  }
}

TEST_F(HttpBlobSourceTest, FailsOverWhenAServerIsDown) {
  api::Router empty;
  auto gone = StartServer(&empty);
  ASSERT_NE(gone, nullptr);
  const std::string down = BaseUrl(*gone);
  gone.reset();  // its port now refuses connections
  auto key = store_->Put("survives");
  ASSERT_TRUE(key.ok());
  auto source = Source({down, BaseUrl(*server_) + "/"});
  for (int i = 0; i < 4; ++i) {
    Result<std::string> got = source->Get(*key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, "survives");
  }
  auto only_down = Source({down});
  EXPECT_EQ(only_down->Get(*key).status().code(), StatusCode::kUnavailable);
}

TEST_F(HttpBlobSourceTest, EnforcesTheSizeLimit) {
  auto key = store_->Put(RandomBytes(3 << 20));
  ASSERT_TRUE(key.ok());
  HttpBlobSourceOptions options;
  options.max_bytes = 1 << 20;
  auto source = Source({BaseUrl(*server_)}, nullptr, options);
  Result<std::string> got = source->Get(*key);
  EXPECT_EQ(got.status().code(), StatusCode::kPayloadTooLarge)
      << got.status().ToString() << " size " << (got.ok() ? got->size() : 0);
}

TEST(HttpBlobSourceCreateTest, RejectsBadUrls) {
  BlobUrlSigner signer(kSecret);
  EXPECT_FALSE(HttpBlobSource::Create({}, &signer).ok());
  EXPECT_FALSE(HttpBlobSource::Create({"https://a:1"}, &signer).ok());
  EXPECT_FALSE(HttpBlobSource::Create({"http://a:1/prefix"}, &signer).ok());
  EXPECT_FALSE(HttpBlobSource::Create({"http://a:x"}, &signer).ok());
  EXPECT_FALSE(HttpBlobSource::Create({"http://:80"}, &signer).ok());
  EXPECT_TRUE(
      HttpBlobSource::Create({"http://a", "http://[::1]:8080/", "http://b:1"}, &signer).ok());
}

}  // namespace
}  // namespace seghub::hub
