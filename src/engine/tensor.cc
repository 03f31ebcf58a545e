#include "engine/tensor.h"

#include <algorithm>
#include <numeric>

namespace seghub::engine {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor Tensor::Zeros(Shape s) {
  const int64_t n = NumElements(s);
  return Tensor(std::move(s), std::vector<float>(static_cast<size_t>(n), 0.0f));
}

Tensor StackBatch(const std::vector<const Tensor*>& samples) {
  Tensor out;
  if (samples.empty()) return out;
  out.shape.push_back(static_cast<int64_t>(samples.size()));
  out.shape.insert(out.shape.end(), samples[0]->shape.begin(), samples[0]->shape.end());
  out.data.resize(static_cast<size_t>(out.numel()));
  float* dst = out.data.data();
  for (const Tensor* t : samples) dst = std::copy(t->data.begin(), t->data.end(), dst);
  return out;
}

std::vector<Tensor> UnstackBatch(Tensor&& batch) {
  std::vector<Tensor> out;
  if (batch.shape.empty()) return out;
  const int64_t n = batch.shape[0];
  Shape sample_shape(batch.shape.begin() + 1, batch.shape.end());
  const int64_t per = NumElements(sample_shape);
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto first = batch.data.begin() + i * per;
    out.emplace_back(sample_shape, std::vector<float>(first, first + per));
  }
  return out;
}

}  // namespace seghub::engine
