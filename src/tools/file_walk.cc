#include "tools/file_walk.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace seghub::tools {
namespace fs = std::filesystem;
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// FNV-1a, 32 bits: short and stable across builds and platforms (std::hash is neither).
std::string PathHash(const std::string& path) {
  uint32_t h = 2166136261u;
  for (unsigned char c : path) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

Status CollectFolder(const fs::path& dir, bool recursive, std::vector<std::string>* out) {
  std::error_code ec;
  std::vector<std::string> found;
  auto add = [&](const fs::directory_entry& e) {
    std::error_code file_ec;
    if (e.is_regular_file(file_ec) && HasImageExtension(e.path().string())) {
      found.push_back(e.path().string());
    }
  };
  if (recursive) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      add(*it);
    }
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) add(*it);
  }
  if (ec) return InvalidArgument("cannot list " + dir.string() + ": " + ec.message());
  std::sort(found.begin(), found.end());
  out->insert(out->end(), found.begin(), found.end());
  return Status::Ok();
}

}  // namespace

bool HasImageExtension(const std::string& path) {
  static const std::set<std::string> kExtensions = {".png",  ".jpg", ".jpeg", ".tif",
                                                    ".tiff", ".bmp", ".webp"};
  return kExtensions.count(Lower(fs::path(path).extension().string())) > 0;
}

Result<std::vector<std::string>> CollectImageFiles(const std::vector<std::string>& paths,
                                                   bool recursive) {
  std::vector<std::string> all;
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return NotFound("no such file or folder: " + p);
    if (fs::is_directory(st)) {
      SEGHUB_RETURN_IF_ERROR(CollectFolder(p, recursive, &all));
    } else {
      all.push_back(p);
    }
  }
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (std::string& f : all) {
    // Lexical, not canonical: symlinks with their own names are separate images to the user.
    std::error_code ec;
    const fs::path absolute = fs::absolute(f, ec).lexically_normal();
    if (seen.insert(ec ? f : absolute.string()).second) unique.push_back(std::move(f));
  }
  return unique;
}

std::vector<std::string> AssignOutputNames(const std::vector<std::string>& files,
                                           const std::vector<std::string>& reserved) {
  std::map<std::string, int> stem_count;
  for (const std::string& r : reserved) stem_count[r] += 2;  // always treated as a collision
  for (const std::string& f : files) ++stem_count[fs::path(f).stem().string()];
  std::vector<std::string> names;
  names.reserve(files.size());
  for (const std::string& f : files) {
    std::string stem = fs::path(f).stem().string();
    if (stem_count[stem] > 1) {
      std::error_code ec;
      fs::path absolute = fs::absolute(f, ec);
      // append(), not "-" + hash: GCC 12 gives a false -Wrestrict warning for the latter.
      stem.append("-").append(PathHash(ec ? f : absolute.lexically_normal().string()));
    }
    names.push_back(std::move(stem));
  }
  return names;
}

Result<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return InvalidArgument("cannot read " + path);
  return std::move(buf).str();
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Internal("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace seghub::tools
