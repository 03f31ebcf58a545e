#include "engine/fair_queue.h"

#include <gtest/gtest.h>

namespace seghub::engine {
namespace {

using Q = FairQueue<int>;
const SteadyTime kT0 = SteadyTime{} + std::chrono::seconds(100);

void Push(Q& q, int id, const std::string& client, int priority = 0, const std::string& key = "k",
          SteadyTime t = kT0) {
  q.Push({id, client, priority, key, t});
}

std::vector<int> Ids(const std::vector<Q::Entry>& es) {
  std::vector<int> out;
  for (const auto& e : es) out.push_back(e.item);
  return out;
}

TEST(FairQueueTest, FloodingClientDoesNotDelayOthers) {
  Q q;
  for (int i = 0; i < 200; ++i) Push(q, i, "A");
  Push(q, 1000, "B");
  auto first = Ids(q.PopBatch(4));
  EXPECT_EQ(first, (std::vector<int>{0, 1000, 1, 2}));
  EXPECT_EQ(q.size(), 197u);
}

TEST(FairQueueTest, TurnsContinueAcrossBatches) {
  Q q;
  for (int i = 0; i < 4; ++i) Push(q, i, "A");
  for (int i = 10; i < 14; ++i) Push(q, i, "B");
  for (int i = 20; i < 24; ++i) Push(q, i, "C");
  EXPECT_EQ(Ids(q.PopBatch(2)), (std::vector<int>{0, 10}));
  EXPECT_EQ(Ids(q.PopBatch(2)), (std::vector<int>{20, 1}));
  EXPECT_EQ(Ids(q.PopBatch(3)), (std::vector<int>{11, 21, 2}));
}

TEST(FairQueueTest, HigherPriorityFirstAndClientFifo) {
  Q q;
  Push(q, 1, "A", 0);
  Push(q, 2, "A", 5);
  Push(q, 3, "B", 5);
  Push(q, 4, "A", 5);
  EXPECT_EQ(Ids(q.PopBatch(8)), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(Ids(q.PopBatch(8)), (std::vector<int>{1}));
  EXPECT_TRUE(q.empty());
}

TEST(FairQueueTest, OnlySameShapeSharesABatch) {
  Q q;
  Push(q, 1, "A", 0, "64x64");
  Push(q, 2, "B", 0, "128x128");
  Push(q, 3, "C", 0, "64x64");
  Push(q, 4, "A", 0, "128x128");
  auto snap = q.Snapshot(8);
  EXPECT_EQ(snap.batchable, 2);
  EXPECT_FALSE(snap.only_shape);
  EXPECT_EQ(Ids(q.PopBatch(8)), (std::vector<int>{1, 3}));
  EXPECT_EQ(Ids(q.PopBatch(8)), (std::vector<int>{2, 4}));
}

TEST(FairQueueTest, SnapshotReportsOldestAndCapsCount) {
  Q q;
  Push(q, 1, "A", 0, "k", kT0 + Micros(50));
  Push(q, 2, "B", 0, "k", kT0 + Micros(10));
  Push(q, 3, "B", 0, "k", kT0 + Micros(60));
  auto snap = q.Snapshot(2);
  EXPECT_EQ(snap.batchable, 2);
  EXPECT_EQ(snap.oldest_enqueue, kT0 + Micros(10));
  EXPECT_TRUE(snap.only_shape == false);  // 3 pending, only 2 counted
}

TEST(FairQueueTest, RemoveIfKeepsTurnOrder) {
  Q q;
  for (int i = 0; i < 3; ++i) Push(q, i, "A");
  Push(q, 10, "B");
  Push(q, 20, "C");
  std::vector<Q::Entry> removed;
  q.RemoveIf([](const Q::Entry& e) { return e.item == 10 || e.item == 1; }, &removed);
  EXPECT_EQ(Ids(removed).size(), 2u);
  EXPECT_EQ(Ids(q.PopBatch(8)), (std::vector<int>{0, 20, 2}));
}

}  // namespace
}  // namespace seghub::engine
