#include "api/http_message.h"

#include <gtest/gtest.h>

namespace seghub::api {
namespace {

TEST(UrlDecodeTest, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(*UrlDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(*UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(*UrlDecode("a+b", true), "a b");
  EXPECT_EQ(*UrlDecode("%e2%82%AC", false), "\xe2\x82\xac");
  EXPECT_EQ(*UrlDecode("", false), "");
}

TEST(UrlDecodeTest, RejectsBadEscapes) {
  for (const char* bad : {"%", "%4", "abc%", "%zz", "%4g"}) {
    auto r = UrlDecode(bad, false);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ParseQueryTest, SplitsAndDecodesPairs) {
  auto q = ParseQuery("threshold=0.5&model=hrnet&name=a+b%26c&flag&&last=1&last=2");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->at("threshold"), "0.5");
  EXPECT_EQ(q->at("model"), "hrnet");
  EXPECT_EQ(q->at("name"), "a b&c");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("last"), "2");
  EXPECT_EQ(q->size(), 5u);
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
}

TEST(SplitTargetTest, SeparatesPathAndQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(SplitTarget("/v2/models/a%20b/infer?x=1%2B1", &path, &query).ok());
  EXPECT_EQ(path, "/v2/models/a%20b/infer");  // path stays encoded; the router decodes segments
  EXPECT_EQ(query.at("x"), "1+1");
  EXPECT_FALSE(SplitTarget("http://host/abs", &path, &query).ok());
  EXPECT_FALSE(SplitTarget("*", &path, &query).ok());
  EXPECT_FALSE(SplitTarget("", &path, &query).ok());
}

TEST(HttpRequestTest, HeadersAreCaseInsensitive) {
  HttpRequest req;
  req.headers["Content-Type"] = "image/png";
  EXPECT_EQ(req.Header("content-type"), "image/png");
  EXPECT_EQ(req.Header("CONTENT-TYPE"), "image/png");
  EXPECT_EQ(req.Header("X-Missing", "dflt"), "dflt");
  req.headers["content-type"] = "text/plain";
  EXPECT_EQ(req.headers.size(), 1u);
  EXPECT_EQ(req.Header("Content-Type"), "text/plain");
}

TEST(HttpResponseTest, JsonEscapesInvalidUtf8InsteadOfThrowing) {
  HttpResponse r = HttpResponse::Json(400, {{"error", std::string("bad \xff byte")}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(nlohmann::json::accept(r.body)) << r.body;
}

}  // namespace
}  // namespace seghub::api
