#include "engine/batch_policy.h"

#include <gtest/gtest.h>

namespace seghub::engine {
namespace {

using Kind = BatchDecision::Kind;
const SteadyTime kT0 = SteadyTime{} + std::chrono::seconds(100);

BatchPolicy Policy(int max, std::vector<int> preferred, int delay_us) {
  BatchPolicy p;
  p.max_batch_size = max;
  p.preferred_batch_sizes = std::move(preferred);
  p.max_queue_delay = Micros(delay_us);
  return p;
}

QueueSnapshot Snap(int n, SteadyTime oldest, bool only_shape = true) {
  QueueSnapshot s;
  s.batchable = n;
  s.oldest_enqueue = oldest;
  s.only_shape = only_shape;
  return s;
}

TEST(BatchPolicyTest, EmptyQueueIsIdle) {
  EXPECT_EQ(DecideBatch(Snap(0, kT0), kT0, Policy(8, {}, 1000)).kind, Kind::kIdle);
}

TEST(BatchPolicyTest, FullBatchRunsAtOnce) {
  auto d = DecideBatch(Snap(20, kT0), kT0, Policy(8, {}, 1000));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 8);
}

TEST(BatchPolicyTest, LargestPreferredSizeCountsAsFull) {
  auto d = DecideBatch(Snap(5, kT0), kT0, Policy(8, {2, 4}, 1000));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 4);
}

TEST(BatchPolicyTest, WaitsForCompanyUntilDelayRunsOut) {
  auto p = Policy(8, {}, 1000);
  auto d = DecideBatch(Snap(3, kT0), kT0 + Micros(200), p);
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.wake_at, kT0 + Micros(1000));
  d = DecideBatch(Snap(3, kT0), kT0 + Micros(1000), p);
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 3);
}

TEST(BatchPolicyTest, ExpiredDelayPrefersLargestPreferredThatFits) {
  auto d = DecideBatch(Snap(7, kT0), kT0 + Micros(5000), Policy(16, {2, 4, 8}, 1000));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 4);
  // Fewer than the smallest preferred size: run what there is rather than starve.
  d = DecideBatch(Snap(1, kT0), kT0 + Micros(5000), Policy(16, {2, 4, 8}, 1000));
  EXPECT_EQ(d.batch_size, 1);
}

TEST(BatchPolicyTest, OtherShapesWaitingMeansNoWaiting) {
  auto d = DecideBatch(Snap(2, kT0, /*only_shape=*/false), kT0, Policy(8, {}, 100000));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 2);
}

TEST(BatchPolicyTest, BatchOfOneNeverWaits) {
  // What the tuner picks on CPUs where batching does not pay.
  auto d = DecideBatch(Snap(1, kT0), kT0, Policy(1, {}, 100000));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 1);
}

TEST(BatchPolicyTest, ZeroDelayRunsImmediately) {
  auto d = DecideBatch(Snap(3, kT0), kT0, Policy(8, {}, 0));
  EXPECT_EQ(d.kind, Kind::kRun);
  EXPECT_EQ(d.batch_size, 3);
}

}  // namespace
}  // namespace seghub::engine
