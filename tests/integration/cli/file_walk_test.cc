// Input discovery and output naming for `seghub segment` / `seghub eval` (tools/file_walk.h):
// resuming depends on names that are unique and the same on every run.
#include "tools/file_walk.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"

namespace seghub::tools {
namespace {
namespace fs = std::filesystem;

TEST(FileWalkTest, ExtensionsAreCaseInsensitive) {
  for (const char* p : {"a.png", "b.JPG", "c.jpeg", "d.Tif", "e.tiff", "f.bmp", "g.WEBP"}) {
    EXPECT_TRUE(HasImageExtension(p)) << p;
  }
  for (const char* p : {"a.txt", "b.json", "png", "c.png.bak"}) EXPECT_FALSE(HasImageExtension(p));
}

TEST(FileWalkTest, FoldersSortedRecursiveOnRequestDuplicatesDropped) {
  const fs::path root = testing::FreshTempDir("walk");
  fs::create_directories(root / "sub");
  for (const char* f : {"b.png", "a.TIF", "notes.txt", "sub/c.jpg"}) {
    std::ofstream(root / f) << "x";
  }
  auto flat = CollectImageFiles({root.string()}, false);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  ASSERT_EQ(flat->size(), 2u);
  EXPECT_EQ(fs::path((*flat)[0]).filename(), "a.TIF");
  EXPECT_EQ(fs::path((*flat)[1]).filename(), "b.png");
  // The same file named twice (directly and through its folder) is segmented once.
  auto deep = CollectImageFiles({(root / "b.png").string(), root.string()}, true);
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->size(), 3u);
  EXPECT_EQ(CollectImageFiles({(root / "missing").string()}, false).status().code(),
            StatusCode::kNotFound);
  fs::remove_all(root);
}

TEST(FileWalkTest, CollidingAndReservedStemsGetStableDistinctNames) {
  const std::vector<std::string> files = {"x/img.png", "y/img.png", "z/coco.png", "z/other.tif"};
  const auto names = AssignOutputNames(files, {"coco", "metrics"});
  ASSERT_EQ(names.size(), 4u);
  EXPECT_NE(names[0], names[1]);
  EXPECT_EQ(names[0].rfind("img-", 0), 0u) << names[0];
  EXPECT_EQ(names[2].rfind("coco-", 0), 0u) << names[2];
  EXPECT_EQ(names[3], "other");
  // Same inputs, same names: what resuming relies on.
  EXPECT_EQ(AssignOutputNames(files, {"coco", "metrics"}), names);
}

TEST(FileWalkTest, AtomicWriteReplacesAndLeavesNoTemporary) {
  const fs::path root = testing::FreshTempDir("atomic");
  const std::string path = (root / "f.json").string();
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  auto read = ReadFileBytes(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "two");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_FALSE(WriteFileAtomically((root / "no" / "dir.json").string(), "x").ok());
  fs::remove_all(root);
}

}  // namespace
}  // namespace seghub::tools
