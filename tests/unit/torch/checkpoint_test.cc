// Reading the Hub's torch.save checkpoints without Python, and the weights-file dispatcher.
#include "models/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "hub_vectors.h"
#include "models/network.h"
#include "models/pickle_reader.h"
#include "test_data.h"

namespace seghub::models {
namespace {

using seghub::testing::Compare;
using seghub::testing::ForwardNet;
using seghub::testing::HubDir;
using seghub::testing::LoadF32Tensor;
using seghub::testing::ReadF32;

const nlohmann::json kSmall = {{"features", {6, 12, 24, 48, 96}}};
const char* const kWrappings[] = {"unet_small_ckpt_raw.pth", "unet_small_ckpt_state_dict.pth",
                                  "unet_small_ckpt_model_state_dict.pth",
                                  "unet_small_ckpt_extra_fields.pth"};

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

std::filesystem::path WriteTemp(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(CheckpointTest, AllFourWrappingsYieldTheSafetensorsTensorsBitwise) {
  auto expected = ReadSafetensorsTensors(HubDir() / "unet_small_weights.safetensors");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  for (const char* file : kWrappings) {
    auto got = ReadTorchCheckpoint(HubDir() / file);
    ASSERT_TRUE(got.ok()) << file << ": " << got.status().ToString();
    ASSERT_EQ(got->size(), 70u) << file;
    for (const auto& [name, t] : *expected) {
      ASSERT_TRUE(got->count(name)) << file << " lacks " << name;
      EXPECT_TRUE(torch::equal(got->at(name), t)) << file << " " << name;
    }
  }
}

TEST(CheckpointTest, EveryWrappingReproducesUnetSmallOutputA) {
  const at::Tensor x = LoadF32Tensor("shared_input_A_1x3x64x64.f32", {1, 3, 64, 64});
  const auto ref = ReadF32(HubDir() / "unet_small_output_A_1x1x64x64.f32");
  for (const char* file : kWrappings) {
    auto net = BuildNetwork("unet", kSmall);
    ASSERT_TRUE(net.ok());
    Status s = LoadWeightsFile(&*net, HubDir() / file);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto a = Compare(testing::ToFloatVector(ForwardNet(*net, x)), ref);
    ASSERT_TRUE(a.size_ok);
    EXPECT_LE(a.max_abs, a.max_tol) << file;
    EXPECT_EQ(a.sign_flips, 0) << file;
  }
}

TEST(CheckpointTest, DispatcherPicksFormatByExtension) {
  auto net = BuildNetwork("unet", kSmall);
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(LoadWeightsFile(&*net, HubDir() / "unet_small_weights.safetensors").ok());
  EXPECT_EQ(LoadWeightsFile(&*net, "/nonexistent/w.pth").code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadWeightsFile(&*net, "/nonexistent/w.safetensors").code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadWeightsFile(&*net, HubDir() / "unet_small_state_dict.tsv").code(),
            StatusCode::kInvalidArgument);
  // Right format, wrong architecture: the strict check names the file and the mismatch.
  auto wider = BuildNetwork("unet", {{"features", {8, 16, 32, 64, 128}}});
  ASSERT_TRUE(wider.ok());
  Status s = LoadWeightsFile(&*wider, HubDir() / "unet_small_ckpt_raw.pth");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unet_small_ckpt_raw.pth"), std::string::npos) << s.message();
}

TEST(CheckpointTest, TruncatedOrGarbageFilesGiveClearErrors) {
  const std::string bytes = ReadBytes(HubDir() / "unet_small_ckpt_extra_fields.pth");
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t keep : {size_t{0}, size_t{10}, size_t{100}, bytes.size() / 3, bytes.size() / 2,
                      bytes.size() - 100, bytes.size() - 1}) {
    const auto path = WriteTemp("seghub_ckpt_truncated.pth", bytes.substr(0, keep));
    auto r = ReadTorchCheckpoint(path);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << keep;
    EXPECT_NE(r.status().message().find("seghub_ckpt_truncated.pth"), std::string::npos)
        << r.status().message();
    std::filesystem::remove(path);
  }
  const auto junk = WriteTemp("seghub_ckpt_junk.pth", "this is not a zip archive");
  EXPECT_EQ(ReadTorchCheckpoint(junk).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove(junk);
}

// The unpickler itself, on the real data.pkl: every prefix and random byte flips must end in a
// value or an error, never a crash or a hang.
TEST(CheckpointTest, UnpicklerSurvivesTruncationAndCorruption) {
  caffe2::serialize::PyTorchStreamReader reader(
      (HubDir() / "unet_small_ckpt_extra_fields.pth").string());
  auto [data, size] = reader.getRecord("data.pkl");
  const std::string pkl(static_cast<const char*>(data.get()), size);
  PickleHooks hooks;
  hooks.persistent_load = [](const PyValue&) -> Result<PyValuePtr> {
    PyValuePtr v = PyValue::Make(PyValue::Kind::kTensor);
    v->tensor = torch::zeros({4});
    return v;
  };
  ASSERT_TRUE(Unpickle(pkl, hooks).ok());
  for (size_t keep = 0; keep < pkl.size(); keep += 7) {
    EXPECT_FALSE(Unpickle(std::string_view(pkl).substr(0, keep), hooks).ok()) << keep;
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = pkl;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    (void)Unpickle(bad, hooks);  // any outcome but a crash
  }
}

TEST(CheckpointTest, UnwrapRuleAndDataParallelPrefix) {
  auto str = [](const std::string& s) {
    PyValuePtr v = PyValue::Make(PyValue::Kind::kString);
    v->text = s;
    return v;
  };
  auto tensor = [](float x) {
    PyValuePtr v = PyValue::Make(PyValue::Kind::kTensor);
    v->tensor = torch::full({1}, x);
    return v;
  };
  PyValuePtr inner = PyValue::Make(PyValue::Kind::kDict);
  inner->entries = {{str("module.a.weight"), tensor(1)}, {str("module.b.bias"), tensor(2)}};
  PyValuePtr other = PyValue::Make(PyValue::Kind::kDict);
  other->entries = {{str("c.weight"), tensor(3)}};
  PyValuePtr top = PyValue::Make(PyValue::Kind::kDict);
  top->entries = {{str("state_dict"), other},
                  {str("model_state_dict"), inner},
                  {str("epoch"), PyValue::Make(PyValue::Kind::kInt)}};
  auto sd = StateDictFromPickle(*top);
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  ASSERT_EQ(sd->size(), 2u);  // model_state_dict wins, "module." stripped
  EXPECT_EQ(sd->at("a.weight").item<float>(), 1);
  EXPECT_EQ(sd->at("b.bias").item<float>(), 2);

  inner->entries.push_back({str("c.weight"), tensor(3)});  // mixed prefixes: kept as they are
  sd = StateDictFromPickle(*top);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(sd->count("module.a.weight"), 1u);

  EXPECT_FALSE(StateDictFromPickle(*PyValue::Make(PyValue::Kind::kList)).ok());
  EXPECT_FALSE(StateDictFromPickle(*PyValue::Make(PyValue::Kind::kDict)).ok());
}

}  // namespace
}  // namespace seghub::models
