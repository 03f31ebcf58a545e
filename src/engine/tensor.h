// Tensor: the engine's host-side value type. Row-major float32 with a shape. Backends convert to
// their own representation (LibTorch, OpenCV) at the boundary; nothing above the engine needs a
// framework header. Value semantics; thread-compatible.
#ifndef SEGHUB_ENGINE_TENSOR_H_
#define SEGHUB_ENGINE_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace seghub::engine {

using Shape = std::vector<int64_t>;

int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);  // "[1, 3, 256, 256]"

struct Tensor {
  Shape shape;
  std::vector<float> data;  // NumElements(shape) values

  Tensor() = default;
  Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
  static Tensor Zeros(Shape s);
  int64_t numel() const { return NumElements(shape); }
  int64_t bytes() const { return numel() * static_cast<int64_t>(sizeof(float)); }
};

// Stacks samples of identical shape into one batch tensor [N, ...shape]. Caller guarantees the
// shapes match (the scheduler only batches same-shape requests).
Tensor StackBatch(const std::vector<const Tensor*>& samples);

// Splits a batch [N, ...] into N tensors of shape [...].
std::vector<Tensor> UnstackBatch(Tensor&& batch);

}  // namespace seghub::engine

#endif  // SEGHUB_ENGINE_TENSOR_H_
