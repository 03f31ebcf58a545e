#include "engine/test_backend.h"

#include <map>
#include <thread>

namespace seghub::engine {
namespace {

struct TestParams {
  std::string architecture;
  float scale = 1.0f;
  float offset = 0.0f;
  int64_t weight_bytes = 1 << 20;
  int64_t sample_bytes = -1;
  int64_t delay_us = 0;
  int64_t per_sample_us = 0;
  int oom_above = 0;
  std::string gate;
};

class TestInstance final : public ModelInstance {
 public:
  explicit TestInstance(const TestParams& p) : p_(p) {}

  Result<Tensor> Run(const Tensor& batch) override {
    if (!p_.gate.empty()) TestGate::Get(p_.gate).Pass();
    const int64_t n = batch.shape.empty() ? 0 : batch.shape[0];
    if (p_.oom_above > 0 && n > p_.oom_above) {
      return ResourceExhausted("test backend: batch of " + std::to_string(n) + " > oom_above");
    }
    const int64_t sleep_us = p_.delay_us + p_.per_sample_us * n;
    if (sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    Tensor out = batch;
    if (p_.architecture == "affine") {
      for (float& v : out.data) v = v * p_.scale + p_.offset;
    }
    return out;
  }

 private:
  const TestParams p_;
};

class TestModel final : public LoadedModel {
 public:
  TestModel(TestParams p, const ModelConfig& c) : p_(std::move(p)), input_bytes_(0) {
    input_bytes_ = NumElements(c.reference_shape) * static_cast<int64_t>(sizeof(float));
  }
  Result<std::unique_ptr<ModelInstance>> CreateInstance(int) override {
    return std::unique_ptr<ModelInstance>(std::make_unique<TestInstance>(p_));
  }
  int64_t weight_bytes() const override { return p_.weight_bytes; }
  Result<int64_t> MeasureSampleBytes(const Shape& shape) override {
    if (p_.sample_bytes >= 0) return p_.sample_bytes;
    return 4 * NumElements(shape) * static_cast<int64_t>(sizeof(float));
  }
  std::string device() const override { return "cpu"; }
  bool has_weights() const override { return true; }

 private:
  const TestParams p_;
  int64_t input_bytes_;
};

class TestBackend final : public Backend {
 public:
  std::string_view name() const override { return "test"; }

  Result<std::unique_ptr<LoadedModel>> Load(const ModelConfig& c) override {
    TestParams p;
    p.architecture = c.architecture.empty() ? "identity" : c.architecture;
    if (p.architecture != "identity" && p.architecture != "affine") {
      return InvalidArgument("test backend: unknown architecture '" + p.architecture + "'");
    }
    const auto& a = c.arch_params;
    try {
      p.scale = a.value("scale", 1.0f);
      p.offset = a.value("offset", 0.0f);
      p.weight_bytes = a.value("weight_bytes", int64_t{1} << 20);
      p.sample_bytes = a.value("sample_bytes", int64_t{-1});
      p.delay_us = a.value("delay_us", int64_t{0});
      p.per_sample_us = a.value("per_sample_us", int64_t{0});
      p.oom_above = a.value("oom_above", 0);
      p.gate = a.value("gate", std::string());
    } catch (const std::exception& e) {
      return InvalidArgument("test backend: bad arch_params: " + std::string(e.what()));
    }
    return std::unique_ptr<LoadedModel>(std::make_unique<TestModel>(std::move(p), c));
  }
};

}  // namespace

std::unique_ptr<Backend> MakeTestBackend() { return std::make_unique<TestBackend>(); }

TestGate& TestGate::Get(const std::string& name) {
  static std::mutex mu;
  static auto* gates = new std::map<std::string, std::unique_ptr<TestGate>>();  // never freed
  std::lock_guard<std::mutex> lock(mu);
  auto& g = (*gates)[name];
  if (!g) g = std::make_unique<TestGate>();
  return *g;
}

void TestGate::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  open_ = false;
  permits_ = 0;
}

void TestGate::Open() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
  }
  cv_.notify_all();
}

void TestGate::Allow(int n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    permits_ += n;
  }
  cv_.notify_all();
}

bool TestGate::WaitForWaiters(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
}

void TestGate::Pass() {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_;
  cv_.notify_all();
  cv_.wait(lock, [this] { return open_ || permits_ > 0; });
  if (!open_) --permits_;
  --waiting_;
  cv_.notify_all();
}

}  // namespace seghub::engine
