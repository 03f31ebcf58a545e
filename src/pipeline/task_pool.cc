#include "pipeline/task_pool.h"

#include <algorithm>
#include <chrono>

namespace seghub::pipeline {

TaskPool::TaskPool(int threads, int max_queue) : max_queue_(std::max(1, max_queue)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

TaskPool::~TaskPool() { Stop(); }

Status TaskPool::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the processing pool is shutting down");
    if (static_cast<int>(queue_.size()) >= max_queue_) {
      Status s = ResourceExhausted("the image processing queue is full (" +
                                   std::to_string(max_queue_) + " pending); try again shortly");
      s.WithRetryAfter(std::chrono::seconds(1));
      return s;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return Status::Ok();
}

Status TaskPool::PostAdmitted(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the processing pool is shutting down");
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return Status::Ok();
}

void TaskPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

int TaskPool::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

void TaskPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace seghub::pipeline
