// TaskPool: a fixed set of CPU threads for pre- and post-processing (decode, resize, tiling,
// contours, metrics), so that neither HTTP io threads nor engine instance threads do that work.
//
// The queue is bounded: Post() refuses with kResourceExhausted and a retry-after hint instead of
// growing without limit. Tasks run in FIFO order. Thread-safe; the destructor drains nothing: it
// runs the tasks already queued, then joins.
#ifndef SEGHUB_PIPELINE_TASK_POOL_H_
#define SEGHUB_PIPELINE_TASK_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace seghub::pipeline {

class TaskPool {
 public:
  // `threads` >= 1; `max_queue` >= 1 pending tasks (running ones not counted).
  TaskPool(int threads, int max_queue);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`. kResourceExhausted (retry-after set) when the queue is full, kUnavailable
  // after Stop(). Any thread, including pool threads.
  Status Post(std::function<void()> task);
  // Like Post but never refuses while running: for continuations of work already admitted (a
  // request whose inference finished must get its post-processing, or it would be lost).
  Status PostAdmitted(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();
  int pending() const;
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Loop();

  const int max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace seghub::pipeline

#endif  // SEGHUB_PIPELINE_TASK_POOL_H_
