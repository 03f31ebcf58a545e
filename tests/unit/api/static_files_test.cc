#include "api/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>

namespace seghub::api {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("seghub_static_" + std::to_string(std::random_device{}()));
    root_ = base_ / "www";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<html>app</html>");
    Write(root_ / "assets" / "app.js", "console.log(1)");
    Write(root_ / "assets" / "style.css", "body{}");
    Write(root_ / "assets" / "logo.svg", "<svg/>");
    Write(root_ / "assets" / "mod.wasm", "\0asm");
    Write(root_ / ".env", "SECRET=1");
    Write(base_ / "secret.txt", "top secret");
    ASSERT_TRUE(router_
                    .AddSync("GET", "/api/v1/models",
                             [](const HttpRequest&) { return HttpResponse::Text(200, "models"); })
                    .ok());
    ASSERT_TRUE(router_
                    .AddSync("POST", "/api/v1/segment",
                             [](const HttpRequest&) { return HttpResponse::Text(200, "seg"); })
                    .ok());
    ASSERT_TRUE(AddStaticFiles(&router_, root_).ok());
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }

  HttpResponse Get(std::string path, HeaderMap headers = {}, std::string method = "GET") {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.headers = std::move(headers);
    std::promise<HttpResponse> p;
    auto f = p.get_future();
    router_.Dispatch(std::move(req),
                     Responder([&p](HttpResponse&& r) { p.set_value(std::move(r)); }));
    return f.get();
  }

  fs::path base_, root_;
  Router router_;
};

TEST_F(StaticFilesTest, ServesFilesWithContentTypesAndCaching) {
  HttpResponse index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>app</html>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.headers["Cache-Control"], "no-cache");
  HttpResponse js = Get("/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.headers["Cache-Control"], "public, max-age=3600");
  EXPECT_EQ(Get("/assets/style.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("/assets/logo.svg").content_type, "image/svg+xml");
  EXPECT_EQ(Get("/assets/mod.wasm").content_type, "application/wasm");
  EXPECT_EQ(Get("/index.html").headers["Cache-Control"], "no-cache");
  EXPECT_EQ(Get("/assets/app.js", {}, "HEAD").status, 200);  // the router maps HEAD to GET
}

TEST_F(StaticFilesTest, ContentTypeTable) {
  EXPECT_EQ(ContentTypeForExtension(".MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeForExtension(".json"), "application/json");
  EXPECT_EQ(ContentTypeForExtension(".png"), "image/png");
  EXPECT_EQ(ContentTypeForExtension(".jpg"), "image/jpeg");
  EXPECT_EQ(ContentTypeForExtension(".ico"), "image/x-icon");
  EXPECT_EQ(ContentTypeForExtension(".woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeForExtension(".map"), "application/json");
  EXPECT_EQ(ContentTypeForExtension(".exe"), "application/octet-stream");
}

TEST_F(StaticFilesTest, EtagGives304) {
  HttpResponse first = Get("/assets/app.js");
  std::string etag = first.headers["ETag"];
  ASSERT_FALSE(etag.empty());
  HttpResponse again = Get("/assets/app.js", {{"If-None-Match", "\"nope\", " + etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.headers["ETag"], etag);
  EXPECT_EQ(Get("/assets/app.js", {{"If-None-Match", "W/" + etag}}).status, 304);
  EXPECT_EQ(Get("/assets/app.js", {{"If-None-Match", "\"other\""}}).status, 200);
  // Another file, another tag.
  EXPECT_NE(Get("/assets/style.css").headers["ETag"], etag);
}

TEST_F(StaticFilesTest, TraversalIsRejected) {
  for (const char* path : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/../secret.txt",
                           "/assets/..%2F..%2Fsecret.txt", "/./index.html", "/..",
                           "/assets/..%5C..%5Csecret.txt", "/.env"}) {
    HttpResponse r = Get(path);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " -> " << r.status;
    EXPECT_EQ(r.body.find("top secret"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("SECRET=1"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, SymlinkOutOfRootIsNotFollowed) {
  std::error_code ec;
  fs::create_symlink(base_ / "secret.txt", root_ / "link.txt", ec);
  if (ec) GTEST_SKIP() << "no symlinks here: " << ec.message();
  EXPECT_EQ(Get("/link.txt").status, 404);
}

TEST_F(StaticFilesTest, SpaFallbackServesIndexForClientRoutes) {
  HttpResponse r = Get("/projects/42/edit");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>app</html>");
  EXPECT_EQ(r.headers["Cache-Control"], "no-cache");
  EXPECT_EQ(Get("/assets/missing.js").status, 404);  // has an extension: a real 404
}

TEST_F(StaticFilesTest, ApiPathsDoNotFallBack) {
  for (const char* path : {"/api/v1/unknown", "/v2/models/x/ready", "/health/deep", "/metrics/x"}) {
    HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json") << path;
  }
  EXPECT_EQ(Get("/api/v1/models").body, "models");  // literal routes still win
  EXPECT_EQ(Get("/api/v1/segment").status, 405);    // not hidden by the catch-all
  EXPECT_EQ(Get("/anything", {}, "POST").status, 404);
}

TEST(AddStaticFilesTest, RejectsAMissingRoot) {
  Router router;
  Status s = AddStaticFiles(&router, "/nonexistent/seghub/www");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(AddStaticFiles(&router, ".", "ui").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seghub::api
