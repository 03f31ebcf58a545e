#include "hub/result_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seghub::hub {
namespace {

using nlohmann::json;

json Square(int id, float x0, float y0, float size) {
  return {{"id", id},
          {"type", "external"},
          {"class", "spheroid"},
          {"confidence", 0.9},
          {"points",
           {{{"x", x0}, {"y", y0}},
            {{"x", x0 + size}, {"y", y0}},
            {{"x", x0 + size}, {"y", y0 + size}},
            {{"x", x0}, {"y", y0 + size}}}}};
}

json Hole(int id, int parent, float x0, float y0, float size) {
  json j = Square(id, x0, y0, size);
  j["type"] = "internal";
  j["parent_id"] = parent;
  return j;
}

json Valid() { return json::array({Square(1, 10, 10, 40), Hole(2, 1, 20, 20, 10)}); }

// The error for `polygons` (test fails when parsing succeeds).
std::string ErrorOf(const json& polygons) {
  auto r = PolygonsFromJson(polygons);
  EXPECT_FALSE(r.ok()) << polygons.dump();
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ResultJsonTest, ParsesAndRecomputesArea) {
  json input = Valid();
  input[0]["area"] = 123456;  // a client's value is not trusted
  auto r = PolygonsFromJson(input);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].type, imaging::PolygonType::kExternal);
  EXPECT_DOUBLE_EQ((*r)[0].area, 1600.0);
  EXPECT_DOUBLE_EQ((*r)[0].confidence, 0.9);
  EXPECT_EQ((*r)[1].type, imaging::PolygonType::kInternal);
  EXPECT_EQ((*r)[1].parent_id, 1);
}

TEST(ResultJsonTest, RoundTripKeepsPolygonsAndAddsMetrics) {
  auto polygons = PolygonsFromJson(Valid());
  ASSERT_TRUE(polygons.ok());
  const auto metrics = ComputeAllMetrics(*polygons);
  ASSERT_EQ(metrics.size(), 1u);  // externals only
  EXPECT_NEAR(metrics.at(1).area, 1600.0 - 100.0, 1e-6);
  const json out = PolygonsToJson(*polygons, &metrics, 0.0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["metrics_unit"], "px");
  EXPECT_NEAR(out[0]["metrics"]["Area"].get<double>(), 1500.0, 1e-6);
  EXPECT_FALSE(out[1].contains("metrics"));
  EXPECT_EQ(out[1]["parent_id"], 1);
  auto again = PolygonsFromJson(out);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), polygons->size());
  for (size_t i = 0; i < again->size(); ++i) {
    EXPECT_EQ((*again)[i].id, (*polygons)[i].id);
    EXPECT_EQ((*again)[i].points, (*polygons)[i].points);
    EXPECT_EQ((*again)[i].type, (*polygons)[i].type);
    EXPECT_EQ((*again)[i].parent_id, (*polygons)[i].parent_id);
    EXPECT_EQ((*again)[i].class_name, (*polygons)[i].class_name);
    EXPECT_DOUBLE_EQ((*again)[i].area, (*polygons)[i].area);
  }
}

TEST(ResultJsonTest, MicronMetricsScaleAreaBySquare) {
  auto polygons = PolygonsFromJson(Valid());
  ASSERT_TRUE(polygons.ok());
  const auto px = ComputeAllMetrics(*polygons);
  const auto um = ComputeAllMetrics(*polygons, 0.5);
  EXPECT_NEAR(um.at(1).area, px.at(1).area * 0.25, 1e-9);
  EXPECT_NEAR(um.at(1).perimeter, px.at(1).perimeter * 0.5, 1e-9);
  EXPECT_EQ(PolygonsToJson(*polygons, &um, 0.5)[0]["metrics_unit"], "um");
}

TEST(ResultJsonTest, DefaultsForOptionalFields) {
  json p = Square(1, 0, 0, 5);
  p.erase("class");
  p.erase("confidence");
  p["parent_id"] = nullptr;
  auto r = PolygonsFromJson(json::array({p}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].class_name, "spheroid");
  EXPECT_EQ((*r)[0].confidence, 1.0);
  EXPECT_TRUE(PolygonsFromJson(json::array()).ok());
}

TEST(ResultJsonTest, RejectsNonArraysAndNonObjects) {
  EXPECT_NE(ErrorOf(json::object()).find("array"), std::string::npos);
  EXPECT_NE(ErrorOf(json::array({1})).find("polygon 0"), std::string::npos);
}

TEST(ResultJsonTest, RejectsBadIds) {
  json p = Valid();
  p[1]["id"] = 1;
  EXPECT_NE(ErrorOf(p).find("duplicate id"), std::string::npos);
  p[1]["id"] = 0;
  EXPECT_NE(ErrorOf(p).find("positive"), std::string::npos);
  p[1]["id"] = -3;
  EXPECT_NE(ErrorOf(p).find("polygon 1"), std::string::npos);
  p[1]["id"] = 2.5;
  EXPECT_NE(ErrorOf(p).find("integer"), std::string::npos);
  p[1]["id"] = "2";
  EXPECT_NE(ErrorOf(p).find("integer"), std::string::npos);
  p[1].erase("id");
  EXPECT_NE(ErrorOf(p).find("id is missing"), std::string::npos);
}

TEST(ResultJsonTest, RejectsBadPoints) {
  json p = Valid();
  p[0]["points"].erase(3);
  p[0]["points"].erase(2);
  EXPECT_NE(ErrorOf(p).find("at least 3 points"), std::string::npos);
  p = Valid();
  p[0]["points"][1]["x"] = "1";
  EXPECT_NE(ErrorOf(p).find("point 1"), std::string::npos);
  p[0]["points"][1] = json::array({1, 2});
  EXPECT_NE(ErrorOf(p).find("point 1"), std::string::npos);
  p[0]["points"][1] = {{"x", 1e6}, {"y", 0}};
  EXPECT_NE(ErrorOf(p).find("out of range"), std::string::npos);
  p[0]["points"][1] = {{"x", -2e7}, {"y", 0}};
  EXPECT_NE(ErrorOf(p).find("(id 1)"), std::string::npos);
  p[0]["points"] = "nope";
  EXPECT_NE(ErrorOf(p).find("points must be an array"), std::string::npos);
  p[0].erase("points");
  EXPECT_NE(ErrorOf(p).find("points are missing"), std::string::npos);
}

TEST(ResultJsonTest, RejectsNonFiniteCoordinates) {
  // JSON text cannot hold NaN, but a json value built in code can.
  json p = Valid();
  p[0]["points"][0]["x"] = std::nan("");
  EXPECT_NE(ErrorOf(p).find("not finite"), std::string::npos);
  p[0]["points"][0]["x"] = INFINITY;
  EXPECT_NE(ErrorOf(p).find("not finite"), std::string::npos);
}

TEST(ResultJsonTest, RejectsBadTypesAndParents) {
  json p = Valid();
  p[0]["type"] = "hole";
  EXPECT_NE(ErrorOf(p).find("\"external\" or \"internal\""), std::string::npos);
  p[0].erase("type");
  EXPECT_NE(ErrorOf(p).find("type must be a string"), std::string::npos);
  p = Valid();
  p[1].erase("parent_id");
  EXPECT_NE(ErrorOf(p).find("needs a parent_id"), std::string::npos);
  p[1]["parent_id"] = 99;
  EXPECT_NE(ErrorOf(p).find("parent_id 99 is not an external"), std::string::npos);
  p = Valid();
  p.push_back(Hole(3, 2, 22, 22, 2));  // a hole's hole
  EXPECT_NE(ErrorOf(p).find("parent_id 2 is not an external"), std::string::npos);
  p = Valid();
  p[0]["parent_id"] = 2;
  EXPECT_NE(ErrorOf(p).find("external polygon has no parent_id"), std::string::npos);
}

TEST(ResultJsonTest, RejectsBadClassAndConfidence) {
  json p = Valid();
  p[0]["class"] = 5;
  EXPECT_NE(ErrorOf(p).find("class"), std::string::npos);
  p[0]["class"] = std::string(300, 'a');
  EXPECT_NE(ErrorOf(p).find("class"), std::string::npos);
  p = Valid();
  p[0]["confidence"] = 1.5;
  EXPECT_NE(ErrorOf(p).find("confidence"), std::string::npos);
  p[0]["confidence"] = "high";
  EXPECT_NE(ErrorOf(p).find("confidence"), std::string::npos);
}

TEST(ResultJsonTest, EnforcesCountLimits) {
  // The counts are checked before any element is parsed, so nulls are enough (and fast).
  const json many(json::array_t(kMaxPolygons + 1));
  EXPECT_NE(ErrorOf(many).find("more than 100000 polygons"), std::string::npos);
  json big = json::array({Square(1, 0, 0, 1), Square(2, 0, 0, 1)});
  big[1]["points"] = json::array_t(kMaxTotalPoints - 4);  // Square has 4
  // Exactly at the limit: accepted by the count, so the (null) points themselves are wrong.
  EXPECT_NE(ErrorOf(big).find("point 0 must be"), std::string::npos);
  big[1]["points"].push_back(nullptr);
  EXPECT_NE(ErrorOf(big).find("polygon 1 (id 2): more than 1000000 points in total"),
            std::string::npos);
}

TEST(ResultJsonTest, StoredResultRoundTrip) {
  json body = {{"model_used", "hrnet"},
               {"threshold_used", 0.5},
               {"image_size", {{"width", 100}, {"height", 80}}},
               {"polygons", Valid()}};
  auto r = StoredResultFromJson(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "hrnet");
  EXPECT_EQ(r->width, 100);
  EXPECT_EQ(r->polygons.size(), 2u);
  const json out = StoredResultToJson(*r, 2.0);
  EXPECT_EQ(out["image_size"]["height"], 80);
  EXPECT_EQ(out["polygons"][0]["metrics_unit"], "um");
  EXPECT_NEAR(out["polygons"][0]["metrics"]["Area"].get<double>(), 1500.0 * 4, 1e-6);
  body["image_size"]["width"] = 0;
  EXPECT_FALSE(StoredResultFromJson(body).ok());
  EXPECT_FALSE(StoredResultFromJson(json::array()).ok());
}

}  // namespace
}  // namespace seghub::hub
