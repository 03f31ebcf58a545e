// Input discovery for the batch subcommands (`segment`, `eval`): image files named on the command
// line or found in folders, and the output names their results are stored under.
#ifndef SEGHUB_TOOLS_FILE_WALK_H_
#define SEGHUB_TOOLS_FILE_WALK_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace seghub::tools {

// png jpg jpeg tif tiff bmp webp, case-insensitive.
bool HasImageExtension(const std::string& path);

// Files are taken as given (whatever their extension: the user named them); folders contribute
// their image files in name order, subfolders too with `recursive`. Duplicates (the same path
// reached twice, e.g. a file and its folder) are dropped, first occurrence kept. NotFound for a
// path that does not exist.
Result<std::vector<std::string>> CollectImageFiles(const std::vector<std::string>& paths,
                                                   bool recursive);

// One output name per file, unique and stable across runs (resuming depends on it): the file's
// stem, or, when stems collide or name a dataset-level file in `reserved`, the stem plus a hash
// of the file's absolute path.
std::vector<std::string> AssignOutputNames(const std::vector<std::string>& files,
                                           const std::vector<std::string>& reserved);

// The whole file; kNotFound / kInvalidArgument with the path in the message.
Result<std::string> ReadFileBytes(const std::string& path);
// Writes `path` through a temporary file and a rename, so a crash never leaves a partial file
// under the final name (resuming treats an existing per-image JSON as done).
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace seghub::tools

#endif  // SEGHUB_TOOLS_FILE_WALK_H_
