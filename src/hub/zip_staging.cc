#include "hub/zip_staging.h"

#include <zip.h>

#include <fstream>
#include <random>

namespace seghub::hub {
namespace {

namespace fs = std::filesystem;

bool IsCancelled(const std::atomic<bool>* cancelled) {
  return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
}

struct ZipCallbackState {
  const ZipStaging::ZipProgressFn* progress;
  const std::atomic<bool>* cancelled;
};

}  // namespace

ZipStaging::ZipStaging(const fs::path& out_zip) : out_(out_zip) {
  const std::string tag = std::to_string(std::random_device()());
  dir_ = fs::path(out_zip.string() + ".staging-" + tag);
  tmp_ = fs::path(out_zip.string() + ".tmp-" + tag);
}

ZipStaging::~ZipStaging() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::remove(tmp_, ec);
}

Status ZipStaging::Add(const std::string& entry, std::string_view bytes, bool compress,
                       bool first) {
  std::error_code ec;
  if (entries_.empty() && !fs::create_directories(dir_, ec) && ec) {
    return Internal("cannot create " + dir_.string() + ": " + ec.message());
  }
  const fs::path file = dir_ / std::to_string(entries_.size());
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Internal("cannot write " + file.string());
  Entry e{entry, file, compress};
  entries_.insert(first ? entries_.begin() : entries_.end(), std::move(e));
  return Status::Ok();
}

Status ZipStaging::Zip(const ZipProgressFn& progress, const std::atomic<bool>* cancelled) {
  int code = 0;
  zip_t* za = zip_open(tmp_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (za == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Internal("libzip: cannot create " + tmp_.string() + ": " + text);
  }
  for (const Entry& e : entries_) {
    zip_source_t* src = zip_source_file(za, e.file.c_str(), 0, 0);
    const zip_int64_t index = src ? zip_file_add(za, e.name.c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (src) zip_source_free(src);
      const std::string text = zip_strerror(za);
      zip_discard(za);
      return Internal("libzip: " + e.name + ": " + text);
    }
    // Images are compressed already; deflating them again costs time for nothing.
    if (!e.compress)
      zip_set_file_compression(za, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  ZipCallbackState state{&progress, cancelled};
  zip_register_progress_callback_with_state(
      za, 0.01,
      [](zip_t*, double f, void* ud) {
        auto* s = static_cast<ZipCallbackState*>(ud);
        if (*s->progress) (*s->progress)(f);
      },
      nullptr, &state);
  zip_register_cancel_callback_with_state(
      za,
      [](zip_t*, void* ud) {
        return IsCancelled(static_cast<ZipCallbackState*>(ud)->cancelled) ? 1 : 0;
      },
      nullptr, &state);
  if (zip_close(za) != 0) {
    const bool was_cancelled = zip_error_code_zip(zip_get_error(za)) == ZIP_ER_CANCELLED;
    const std::string text = zip_strerror(za);
    zip_discard(za);
    if (was_cancelled || IsCancelled(cancelled)) return Cancelled("export cancelled");
    return Internal("libzip: cannot write " + tmp_.string() + ": " + text);
  }
  return Status::Ok();
}

Result<int64_t> ZipStaging::Commit(const ZipProgressFn& progress,
                                   const std::atomic<bool>* cancelled) {
  SEGHUB_RETURN_IF_ERROR(Zip(progress, cancelled));
  std::error_code ec;
  const auto size = fs::file_size(tmp_, ec);
  if (!ec) fs::rename(tmp_, out_, ec);
  if (ec) return Internal("cannot finish " + out_.string() + ": " + ec.message());
  return static_cast<int64_t>(size);
}

}  // namespace seghub::hub
