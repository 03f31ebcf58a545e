#include "storage/blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>
#include <vector>

namespace seghub::storage {
namespace {
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "seghub-blobs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    auto store = BlobStore::Open(root_ / "blobs");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  size_t CountFiles(const fs::path& dir) {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
    return n;
  }

  fs::path root_;
  std::unique_ptr<BlobStore> store_;
};

TEST(Sha256HexTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(BlobStoreTest, PutGetRoundTripWithLayout) {
  std::string bytes("binary\0data\xff", 12);
  auto key = store_->Put(bytes);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, Sha256Hex(bytes));
  EXPECT_TRUE(store_->Contains(*key));
  auto got = store_->Get(*key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, bytes);
  auto path = store_->PathFor(*key);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, root_ / "blobs" / key->substr(0, 2) / key->substr(2, 2) / *key);
  EXPECT_TRUE(fs::is_regular_file(*path));
  EXPECT_EQ(store_->total_bytes(), 12);
}

TEST_F(BlobStoreTest, IdenticalContentIsStoredOnce) {
  auto a = store_->Put("same");
  auto b = store_->Put("same");
  auto c = store_->Put("other");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(CountFiles(root_ / "blobs"), 2u);
}

TEST_F(BlobStoreTest, ConcurrentPutsLeaveNoTempFiles) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 20; ++k) {
        ASSERT_TRUE(store_->Put("blob " + std::to_string(k % 10)).ok());  // overlapping content
        ASSERT_TRUE(store_->Put(std::string(1000, 'a' + t)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(CountFiles(root_ / "blobs" / "tmp"), 0u);
  EXPECT_EQ(CountFiles(root_ / "blobs"), 18u);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(*store_->Get(Sha256Hex("blob " + std::to_string(k))), "blob " + std::to_string(k));
  }
}

TEST_F(BlobStoreTest, MalformedKeysAreRejected) {
  const std::string good = Sha256Hex("x");
  for (const std::string& key :
       {std::string("../../etc/passwd"), std::string(""), good.substr(1), good + "0",
        "../" + good.substr(3), std::string(64, 'g'), std::string(64, 'A'), "/" + good.substr(1)}) {
    EXPECT_EQ(store_->Get(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Remove(key).code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->PathFor(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_FALSE(store_->Contains(key)) << key;
  }
}

TEST_F(BlobStoreTest, MissingAndRemovedKeysAreNotFound) {
  const std::string missing = Sha256Hex("never stored");
  EXPECT_EQ(store_->Get(missing).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Remove(missing).code(), StatusCode::kNotFound);
  auto key = store_->Put("gone soon");
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(store_->Remove(*key).ok());
  EXPECT_FALSE(store_->Contains(*key));
  EXPECT_EQ(store_->Get(*key).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace seghub::storage
