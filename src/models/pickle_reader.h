// A tolerant reader for Python pickles (protocols 2-5) as written by torch.save.
//
// LibTorch 1.13's own unpickler cannot read the Hub's checkpoints: it turns the
// collections.OrderedDict of every state dict into None (pytorch/pytorch#100741) and rejects
// classes it does not know (argparse.Namespace in training checkpoints). This reader builds a
// generic value tree instead: known structure (dicts, lists, tuples, scalars, strings) is kept,
// any other class instance becomes an opaque kObject, and the caller decides through hooks what
// persistent ids (tensor storages) and REDUCE calls of known globals (tensor rebuilds) mean.
//
// Every read is bounds-checked and every stack access validated: a corrupt or hostile pickle gives
// an error Status, never a crash. Nothing is executed.
#ifndef SEGHUB_MODELS_PICKLE_READER_H_
#define SEGHUB_MODELS_PICKLE_READER_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace seghub::models {

struct PyValue;
using PyValuePtr = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,  // str (UTF-8) and bytes alike
    kTuple,
    kList,
    kDict,
    kSet,
    kGlobal,  // a class or function reference, `text` = "module.name"
    kObject,  // an instance of a class the reader does not model, `text` = "module.name"
    kTensor,  // a storage or tensor produced by a hook
  };
  Kind kind = Kind::kNone;
  int64_t int_value = 0;  // kBool, kInt
  double float_value = 0;
  std::string text;                                        // kString, kGlobal, kObject
  std::vector<PyValuePtr> items;                           // kTuple, kList, kSet, kObject args
  std::vector<std::pair<PyValuePtr, PyValuePtr>> entries;  // kDict, in insertion order
  at::Tensor tensor;                                       // kTensor

  bool IsString() const { return kind == Kind::kString; }
  // Dict lookup by string key; nullptr if absent or not a dict.
  PyValuePtr Get(std::string_view key) const;
  static PyValuePtr Make(Kind kind);
};

struct PickleHooks {
  // BINPERSID/PERSID: the persistent id (a tuple for torch.save) to a value.
  std::function<Result<PyValuePtr>(const PyValue& pid)> persistent_load;
  // REDUCE of a global with the given argument tuple: a value, or nullopt to keep an opaque
  // kObject (unknown callables are tolerated, not errors).
  std::function<Result<std::optional<PyValuePtr>>(const std::string& global,
                                                  const std::vector<PyValuePtr>& args)>
      reduce;
};

// Parses one pickle (up to STOP) and returns its top-level value.
Result<PyValuePtr> Unpickle(std::string_view data, const PickleHooks& hooks);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_PICKLE_READER_H_
