// The LibTorch backend: Hub vectors through the frozen path, batching, concurrency, formats,
// failures, threads, memory measurement.
#include "engine/torch/torch_backend.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "models/network.h"
#include "test_data.h"

namespace seghub::engine {
namespace {

using seghub::testing::Compare;
using seghub::testing::HubDir;
using seghub::testing::ReadF32;

const nlohmann::json kSmall = {{"features", {6, 12, 24, 48, 96}}};

ModelConfig UnetConfigFor(nlohmann::json arch_params, std::string weights = "") {
  ModelConfig c;
  c.name = "unet_test";
  c.format = "seghub";
  c.architecture = "unet";
  c.arch_params = std::move(arch_params);
  c.weights = std::move(weights);
  c.dir = HubDir();
  c.threads_per_instance = 1;
  return c;
}

std::unique_ptr<LoadedModel> MustLoad(const ModelConfig& config, TorchBackendOptions opts = {}) {
  auto model = MakeTorchBackend(opts)->Load(config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

Tensor RandomTensor(Shape shape, uint32_t seed) {
  Tensor t = Tensor::Zeros(shape);
  for (size_t j = 0; j < t.data.size(); ++j) {
    t.data[j] = static_cast<float>(2.0 * models::FillUniform(seed, 0, static_cast<uint32_t>(j)));
  }
  return t;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

class TorchBackendFreezeTest : public ::testing::TestWithParam<bool> {};

TEST_P(TorchBackendFreezeTest, UnetMatchesHubTestVectors) {
  auto model =
      MustLoad(UnetConfigFor(kSmall, "unet_small_weights.safetensors"), {.freeze = GetParam()});
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->has_weights());
  EXPECT_EQ(model->weight_bytes(), 398827 * 4);
  EXPECT_EQ(model->device(), "cpu");
  auto instance = model->CreateInstance(0);
  ASSERT_TRUE(instance.ok());
  const struct {
    const char* input;
    const char* output;
    Shape shape;
  } cases[] = {
      {"shared_input_A_1x3x64x64.f32", "unet_small_output_A_1x1x64x64.f32", {1, 3, 64, 64}},
      {"shared_input_B_2x3x50x76.f32", "unet_small_output_B_2x1x50x76.f32", {2, 3, 50, 76}}};
  for (const auto& c : cases) {
    auto out = (*instance)->Run(Tensor(c.shape, ReadF32(HubDir() / c.input)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->shape, (Shape{c.shape[0], 1, c.shape[2], c.shape[3]}));
    auto a = Compare(out->data, ReadF32(HubDir() / c.output));
    ASSERT_TRUE(a.size_ok) << c.output;
    EXPECT_LE(a.max_abs, a.max_tol) << c.output;
    EXPECT_LE(a.mean_abs, 2e-5) << c.output;
    EXPECT_EQ(a.sign_flips, 0) << c.output;
  }
}

TEST(TorchBackendTest, BatchedOutputsEqualUnbatched) {
  auto model = MustLoad(UnetConfigFor({{"features", {16, 32, 64, 128, 256}}}));
  ASSERT_NE(model, nullptr);
  EXPECT_FALSE(model->has_weights());
  auto instance = std::move(model->CreateInstance(0)).value();
  std::vector<Tensor> samples;
  for (uint32_t s = 0; s < 4; ++s) samples.push_back(RandomTensor({3, 80, 112}, 200 + s));
  std::vector<const Tensor*> ptrs;
  for (const auto& s : samples) ptrs.push_back(&s);
  auto batched = instance->Run(StackBatch(ptrs));
  ASSERT_TRUE(batched.ok()) << batched.status().ToString();
  auto outputs = UnstackBatch(std::move(batched).value());
  ASSERT_EQ(outputs.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    auto single = instance->Run(StackBatch({&samples[i]}));
    ASSERT_TRUE(single.ok());
    EXPECT_LE(MaxAbsDiff(outputs[i].data, single->data), 1e-5f) << "sample " << i;
  }
  // Different samples must give different outputs, or the comparison above proves nothing.
  EXPECT_GT(MaxAbsDiff(outputs[0].data, outputs[1].data), 1e-3f);
}

TEST_P(TorchBackendFreezeTest, ConcurrentInstancesMatchSequentialRuns) {
  auto model =
      MustLoad(UnetConfigFor(kSmall, "unet_small_weights.safetensors"), {.freeze = GetParam()});
  ASSERT_NE(model, nullptr);
  auto a = std::move(model->CreateInstance(0)).value();
  auto b = std::move(model->CreateInstance(1)).value();
  const Tensor in_a = RandomTensor({1, 3, 96, 96}, 7), in_b = RandomTensor({2, 3, 64, 80}, 8);
  const Tensor ref_a = std::move(a->Run(in_a)).value(), ref_b = std::move(b->Run(in_b)).value();
  std::atomic<int> failures{0};
  auto loop = [&](ModelInstance* inst, const Tensor& in, const Tensor& ref) {
    for (int i = 0; i < 8; ++i) {
      auto out = inst->Run(in);
      if (!out.ok() || out->shape != ref.shape || MaxAbsDiff(out->data, ref.data) > 1e-6f) {
        ++failures;
      }
    }
  };
  std::thread ta(loop, a.get(), std::cref(in_a), std::cref(ref_a));
  std::thread tb(loop, b.get(), std::cref(in_b), std::cref(ref_b));
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(FrozenAndUnfrozen, TorchBackendFreezeTest, ::testing::Bool());

TEST(TorchBackendTest, TorchScriptFormatGivesSameOutputs) {
  auto net = models::BuildNetwork("unet", kSmall);
  ASSERT_TRUE(net.ok());
  models::RandomInit(&*net, 5);
  net->module.eval();
  const auto path = std::filesystem::temp_directory_path() / "seghub_backend_test.pt";
  net->module.save(path.string());
  const Tensor x = RandomTensor({1, 3, 64, 72}, 9);
  // Same thread count for both runs: the summation order depends on it.
  SetThreadIntraOpThreads(1);
  at::Tensor expected;
  {
    c10::InferenceMode guard;
    at::Tensor in = torch::from_blob(const_cast<float*>(x.data.data()), x.shape).clone();
    expected = net->module.forward({in}).toTensor().contiguous();
  }
  ModelConfig c;
  c.name = "ts";
  c.format = "torchscript";
  c.weights = path.filename().string();
  c.dir = path.parent_path();
  c.threads_per_instance = 1;
  const float* e = expected.data_ptr<float>();
  const std::vector<float> want(e, e + expected.numel());
  // Unfrozen: the same kernels as the module above. Frozen: oneDNN convolutions, which round
  // differently, so the Hub tolerance applies.
  for (bool freeze : {false, true}) {
    auto model = MustLoad(c, {.freeze = freeze});
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->weight_bytes(), 398827 * 4);
    auto out = std::move(model->CreateInstance(0)).value()->Run(x);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    auto a = Compare(out->data, want);
    ASSERT_TRUE(a.size_ok);
    EXPECT_LE(a.max_abs, freeze ? a.max_tol : 1e-6) << "freeze " << freeze;
  }
  std::filesystem::remove(path);
}

TEST(TorchBackendTest, BadWeightsAndConfigsGiveClearStatus) {
  auto backend = MakeTorchBackend();
  auto wrong_shapes = backend->Load(
      UnetConfigFor({{"features", {8, 16, 32, 64, 128}}}, "unet_small_weights.safetensors"));
  EXPECT_EQ(wrong_shapes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_shapes.status().message().find("init_conv.double_conv.0.weight"),
            std::string::npos)
      << wrong_shapes.status().message();
  EXPECT_EQ(backend->Load(UnetConfigFor(kSmall, "missing.safetensors")).status().code(),
            StatusCode::kNotFound);
  // torch.save checkpoints load too (models/checkpoint.h); a damaged one is a clear error.
  EXPECT_TRUE(backend->Load(UnetConfigFor(kSmall, "unet_small_ckpt_raw.pth")).ok());

  const auto dir = std::filesystem::temp_directory_path() / "seghub_backend_bad";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.safetensors", std::ios::binary) << "\x10\0\0\0\0\0\0\0{not json at all";
  std::ofstream(dir / "bad.pt", std::ios::binary) << "this is not a zip archive";
  ModelConfig corrupt = UnetConfigFor(kSmall, "bad.safetensors");
  corrupt.dir = dir;
  EXPECT_EQ(backend->Load(corrupt).status().code(), StatusCode::kInvalidArgument);
  ModelConfig bad_pth = UnetConfigFor(kSmall, "bad.pt");
  bad_pth.dir = dir;
  EXPECT_EQ(backend->Load(bad_pth).status().code(), StatusCode::kInvalidArgument);
  ModelConfig bad_ts = corrupt;
  bad_ts.format = "torchscript";
  bad_ts.weights = "bad.pt";
  auto ts = backend->Load(bad_ts);
  EXPECT_FALSE(ts.ok());
  EXPECT_NE(ts.status().message().find("bad.pt"), std::string::npos) << ts.status().message();
  std::filesystem::remove_all(dir);

  ModelConfig unknown = UnetConfigFor(kSmall);
  unknown.format = "onnx";
  EXPECT_EQ(backend->Load(unknown).status().code(), StatusCode::kInvalidArgument);
  unknown = UnetConfigFor(kSmall);
  unknown.architecture = "resnet9000";
  EXPECT_EQ(backend->Load(unknown).status().code(), StatusCode::kNotFound);
  ModelConfig half = UnetConfigFor(kSmall);
  half.precision = "bf16";
  auto bf16 = backend->Load(half);
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(bf16.status().code(), StatusCode::kFailedPrecondition);
  }

  auto model = MustLoad(UnetConfigFor(kSmall));
  auto instance = std::move(model->CreateInstance(0)).value();
  Tensor mismatched({1, 3, 8, 8}, std::vector<float>(10));
  EXPECT_EQ(instance->Run(mismatched).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(instance->Run(Tensor::Zeros({1, 3, 32, 32})).ok());
  EXPECT_EQ(instance->Run(Tensor::Zeros({1, 4, 32, 32})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(instance->Run(Tensor::Zeros({3, 32, 32})).status().code(),
            StatusCode::kInvalidArgument);
  // Too small for the bottleneck InstanceNorm (1 pixel): refused before forward, not a crash.
  EXPECT_EQ(instance->Run(Tensor::Zeros({1, 3, 8, 8})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(instance->Run(Tensor::Zeros({1, 3, 16, 32})).ok());  // 1x2 at the bottleneck
}

// Intra-op parallelism follows the calling thread's setting, independently per thread.
TEST(TorchBackendTest, ThreadCountIsPerCallingThread) {
  auto observed = [](int threads, std::atomic<int>* out) {
    SetThreadIntraOpThreads(threads);
    std::atomic<int> max_id{0};
    at::parallel_for(0, 64, 1, [&](int64_t, int64_t) {
      int id = at::get_thread_num();
      int cur = max_id.load();
      while (id > cur && !max_id.compare_exchange_weak(cur, id)) {
      }
    });
    out->store(ThreadIntraOpThreads() == threads ? max_id.load() + 1 : -1);
  };
  std::atomic<int> one{0}, two{0};
  std::thread t1(observed, 1, &one);
  std::thread t2(observed, 2, &two);
  t1.join();
  t2.join();
  EXPECT_EQ(one.load(), 1);
  EXPECT_EQ(two.load(), 2);
}

TEST(TorchBackendTest, MeasuresActivationMemory) {
  auto model = MustLoad(UnetConfigFor(kSmall, "unet_small_weights.safetensors"));
  ASSERT_TRUE(TorchCpuMemoryStats().tracking);
  auto small = model->MeasureSampleBytes({3, 64, 64});
  auto large = model->MeasureSampleBytes({3, 128, 128});
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  ASSERT_TRUE(large.ok());
  // At least the input and the widest activation (6 channels at full size) must be counted.
  EXPECT_GT(*small, 6 * 64 * 64 * 4);
  EXPECT_GT(*large, 3 * *small);  // activations scale with the pixel count
  EXPECT_GE(TorchCpuMemoryStats().peak_bytes, TorchCpuMemoryStats().current_bytes);
}

TEST(TorchBackendTest, BlasStatusFindsALibrary) {
  BlasInfo info = BlasStatus();
  EXPECT_NE(info.library, "none");
  EXPECT_FALSE(info.path.empty());
  EXPECT_EQ(ClassifyBlasPath("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), "openblas");
  EXPECT_EQ(ClassifyBlasPath("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"), "reference");
  EXPECT_EQ(ClassifyBlasPath("/opt/intel/lib/libmkl_rt.so.2"), "mkl");
}

}  // namespace
}  // namespace seghub::engine
