#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace seghub::metrics {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  Registry r;
  auto& c = r.AddCounter("seghub_things_total", "Things", {"model"});
  c.WithLabels({"unet"}).Inc(3);
  auto& g = r.AddGauge("seghub_level", "A \"level\"");
  g.WithLabels({}).Set(2.5);
  auto& h = r.AddHistogram("seghub_latency_seconds", "Latency", {"model"}, {0.1, 1});
  h.WithLabels({"unet"}).Observe(0.05);
  h.WithLabels({"unet"}).Observe(0.5);
  h.WithLabels({"unet"}).Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE seghub_things_total counter"), std::string::npos);
  EXPECT_NE(text.find("seghub_things_total{model=\"unet\"} 3"), std::string::npos);
  EXPECT_NE(text.find("seghub_level 2.5"), std::string::npos);
  EXPECT_NE(text.find("seghub_latency_seconds_bucket{model=\"unet\",le=\"0.10000000000000001\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("seghub_latency_seconds_bucket{model=\"unet\",le=\"1\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("seghub_latency_seconds_bucket{model=\"unet\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("seghub_latency_seconds_count{model=\"unet\"} 3"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValuesAndRemovesChildren) {
  Registry r;
  auto& c = r.AddCounter("seghub_x_total", "X", {"name"});
  c.WithLabels({"a\"b\\c\n"}).Inc();
  EXPECT_NE(r.Render().find(R"(name="a\"b\\c\n")"), std::string::npos);
  c.RemovePrefix({"a\"b\\c\n"});
  EXPECT_EQ(r.Render().find("seghub_x_total{"), std::string::npos);
}

TEST(MetricsTest, CollectorsRunBeforeRender) {
  Registry r;
  auto& g = r.AddGauge("seghub_y", "Y");
  int calls = 0;
  r.AddCollector([&] { g.WithLabels({}).Set(++calls); });
  EXPECT_NE(r.Render().find("seghub_y 1"), std::string::npos);
  EXPECT_NE(r.Render().find("seghub_y 2"), std::string::npos);
}

}  // namespace
}  // namespace seghub::metrics
