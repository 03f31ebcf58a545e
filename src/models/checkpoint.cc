#include "models/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <system_error>
#include <tuple>
#include <unordered_map>

#include "models/pickle_reader.h"

namespace seghub::models {
namespace {

using Kind = PyValue::Kind;

// torch.<Name>Storage as pickled by torch.save (the legacy typed names, still written by 2.x).
std::optional<at::ScalarType> StorageDType(const std::string& global) {
  static const std::pair<const char*, at::ScalarType> kTypes[] = {
      {"torch.FloatStorage", at::kFloat}, {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},   {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},   {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort}, {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},   {"torch.BoolStorage", at::kBool},
  };
  for (const auto& [name, type] : kTypes) {
    if (global == name) return type;
  }
  return std::nullopt;
}

bool IsInt(const PyValuePtr& v) { return v && (v->kind == Kind::kInt || v->kind == Kind::kBool); }

Result<std::vector<int64_t>> IntTuple(const PyValuePtr& v, const char* what) {
  if (!v || (v->kind != Kind::kTuple && v->kind != Kind::kList)) {
    return InvalidArgument(std::string("tensor ") + what + " is not a tuple");
  }
  std::vector<int64_t> out;
  for (const auto& item : v->items) {
    if (!IsInt(item) || item->int_value < 0) {
      return InvalidArgument(std::string("tensor ") + what + " holds a non-index value");
    }
    out.push_back(item->int_value);
  }
  return out;
}

// Reads the archive's storages on demand and rebuilds tensors for the pickle hooks.
class CheckpointArchive {
 public:
  explicit CheckpointArchive(caffe2::serialize::PyTorchStreamReader* reader) : reader_(reader) {}

  // ('storage', torch.FloatStorage, '<key>', '<location>', numel): the location is ignored,
  // everything is loaded to the CPU.
  Result<PyValuePtr> Storage(const PyValue& pid) {
    const auto& t = pid.items;
    if (pid.kind != Kind::kTuple || t.size() < 5 || !t[0]->IsString() || t[0]->text != "storage" ||
        t[1]->kind != Kind::kGlobal || !t[2]->IsString() || !IsInt(t[4])) {
      return InvalidArgument("unsupported persistent id in checkpoint");
    }
    auto cached = storages_.find(t[2]->text);
    if (cached != storages_.end()) return cached->second;
    std::optional<at::ScalarType> dtype = StorageDType(t[1]->text);
    if (!dtype) return InvalidArgument("unsupported storage type " + t[1]->text);
    const std::string record = "data/" + t[2]->text;
    if (!reader_->hasRecord(record)) return InvalidArgument("checkpoint lacks record " + record);
    at::DataPtr data;
    size_t size = 0;
    try {
      std::tie(data, size) = reader_->getRecord(record);
    } catch (const c10::Error& e) {
      return InvalidArgument("cannot read " + record + " (damaged archive)");
    }
    const int64_t numel = t[4]->int_value;
    const size_t element = c10::elementSize(*dtype);
    if (numel < 0 || size / element < static_cast<size_t>(numel)) {
      return InvalidArgument("storage " + record + " is shorter than its " + std::to_string(numel) +
                             " elements");
    }
    PyValuePtr v = PyValue::Make(Kind::kTensor);
    v->tensor = torch::empty({numel}, *dtype);
    if (numel > 0) std::memcpy(v->tensor.data_ptr(), data.get(), numel * element);
    storages_.emplace(t[2]->text, v);
    return v;
  }

  Result<std::optional<PyValuePtr>> Reduce(const std::string& global,
                                           const std::vector<PyValuePtr>& args) {
    if (global == "torch._utils._rebuild_tensor_v2" || global == "torch._utils._rebuild_tensor") {
      return RebuildTensor(args);
    }
    if (global == "collections.OrderedDict" && args.empty()) {
      return std::optional<PyValuePtr>(PyValue::Make(Kind::kDict));
    }
    // An nn.Parameter saved as such: the tensor is its first argument.
    if ((global == "torch._utils._rebuild_parameter" ||
         global == "torch._utils._rebuild_parameter_with_state") &&
        !args.empty() && args[0]->kind == Kind::kTensor) {
      return std::optional<PyValuePtr>(args[0]);
    }
    return std::optional<PyValuePtr>();  // anything else stays an opaque object
  }

 private:
  // (storage, storage_offset, size, stride, ...): a contiguous copy of the strided view, after
  // checking that the view stays inside the storage (as_strided itself does not).
  Result<std::optional<PyValuePtr>> RebuildTensor(const std::vector<PyValuePtr>& args) {
    if (args.size() < 4 || args[0]->kind != Kind::kTensor || !IsInt(args[1])) {
      return InvalidArgument("malformed tensor in checkpoint");
    }
    SEGHUB_ASSIGN_OR_RETURN(std::vector<int64_t> size, IntTuple(args[2], "size"));
    SEGHUB_ASSIGN_OR_RETURN(std::vector<int64_t> stride, IntTuple(args[3], "stride"));
    if (size.size() != stride.size()) return InvalidArgument("tensor size/stride rank differ");
    const at::Tensor& storage = args[0]->tensor;
    const int64_t offset = args[1]->int_value;
    if (offset < 0) return InvalidArgument("negative tensor storage offset");
    const int64_t numel = storage.numel();
    const bool empty = std::find(size.begin(), size.end(), 0) != size.end();
    int64_t last = offset;  // highest element index the view touches, kept below numel
    for (size_t i = 0; i < size.size() && !empty; ++i) {
      // Division first: a hostile size * stride could overflow int64.
      if (last >= numel || (stride[i] > 0 && size[i] - 1 > (numel - 1 - last) / stride[i])) {
        return InvalidArgument("tensor view exceeds its storage");
      }
      last += (size[i] - 1) * stride[i];
    }
    if (!empty && last >= numel) return InvalidArgument("tensor view exceeds its storage");
    PyValuePtr v = PyValue::Make(Kind::kTensor);
    v->tensor = empty
                    ? torch::empty(size, storage.scalar_type())
                    : storage.as_strided(size, stride, offset).clone(at::MemoryFormat::Contiguous);
    return std::optional<PyValuePtr>(v);
  }

  caffe2::serialize::PyTorchStreamReader* reader_;
  std::unordered_map<std::string, PyValuePtr> storages_;
};

Result<PyValuePtr> ReadArchive(const std::filesystem::path& path) {
  auto reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
  if (reader->hasRecord("byteorder")) {
    auto [data, size] = reader->getRecord("byteorder");
    if (std::string(static_cast<const char*>(data.get()), size).rfind("little", 0) != 0) {
      return InvalidArgument("big-endian checkpoints are not supported");
    }
  }
  if (!reader->hasRecord("data.pkl")) {
    return InvalidArgument("not a torch.save checkpoint (no data.pkl)");
  }
  auto [pkl, pkl_size] = reader->getRecord("data.pkl");
  CheckpointArchive archive(reader.get());
  PickleHooks hooks;
  hooks.persistent_load = [&](const PyValue& pid) { return archive.Storage(pid); };
  hooks.reduce = [&](const std::string& g, const std::vector<PyValuePtr>& a) {
    return archive.Reduce(g, a);
  };
  return Unpickle(std::string_view(static_cast<const char*>(pkl.get()), pkl_size), hooks);
}

}  // namespace

Result<std::map<std::string, at::Tensor>> StateDictFromPickle(const PyValue& top) {
  const PyValue* sd = &top;
  if (PyValuePtr v = top.Get("model_state_dict")) {
    sd = v.get();
  } else if (PyValuePtr w = top.Get("state_dict")) {
    sd = w.get();
  }
  if (sd->kind != Kind::kDict) return InvalidArgument("checkpoint holds no state dict");
  std::map<std::string, at::Tensor> out;
  for (const auto& [key, value] : sd->entries) {
    if (key->IsString() && value->kind == Kind::kTensor) out[key->text] = value->tensor;
  }
  if (out.empty()) return InvalidArgument("checkpoint state dict holds no tensors");
  // DataParallel saves every key as "module.<name>".
  const bool data_parallel = std::all_of(
      out.begin(), out.end(), [](const auto& kv) { return kv.first.rfind("module.", 0) == 0; });
  if (!data_parallel) return out;
  std::map<std::string, at::Tensor> stripped;
  for (auto& [key, t] : out) stripped[key.substr(7)] = std::move(t);
  return stripped;
}

namespace {

bool HasExtension(const std::filesystem::path& path, std::initializer_list<const char*> exts) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::any_of(exts.begin(), exts.end(), [&](const char* e) { return ext == e; });
}

}  // namespace

Result<std::map<std::string, at::Tensor>> ReadTorchCheckpoint(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("checkpoint not found: " + path.string());
  }
  Result<PyValuePtr> top = InvalidArgument("unread");
  try {
    top = ReadArchive(path);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory reading " + path.string());
  } catch (const std::exception& e) {
    // PyTorchStreamReader reports a damaged ZIP container through c10::Error.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return InvalidArgument(path.string() + ": not a readable torch.save checkpoint (" + what + ")");
  }
  if (!top.ok()) return Status(top.status().code(), path.string() + ": " + top.status().message());
  Result<std::map<std::string, at::Tensor>> sd = StateDictFromPickle(**top);
  if (!sd.ok()) return Status(sd.status().code(), path.string() + ": " + sd.status().message());
  return sd;
}

Status LoadWeightsFile(NetworkSpec* net, const std::filesystem::path& path, bool grow_outputs) {
  const bool safetensors = HasExtension(path, {".safetensors"});
  if (!safetensors && !HasExtension(path, {".pth", ".pt", ".ckpt"})) {
    return InvalidArgument("unknown weights format '" + path.extension().string() + "' of " +
                           path.string() + " (expected .safetensors, .pth, .pt or .ckpt)");
  }
  SEGHUB_ASSIGN_OR_RETURN(auto tensors,
                          safetensors ? ReadSafetensorsTensors(path) : ReadTorchCheckpoint(path));
  if (grow_outputs) GrowOutputs(*net, &tensors);
  Status s = LoadStateDict(net, tensors);
  if (!s.ok()) return Status(s.code(), path.string() + ": " + s.message());
  return s;
}

}  // namespace seghub::models
