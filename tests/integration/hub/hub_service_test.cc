// The Hub service end to end through the real binary, on SQLite and on a real PostgreSQL:
// accounts and tokens, access control between users, upload with per-file errors, segmentation
// jobs, saved edits with conflict detection, exports, the OpenAPI document.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "hub_test_env.h"

namespace seghub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HubServiceTest : public ::testing::TestWithParam<DbKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seghub_hub_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(dir_);
    WriteTestModel(dir_ / "models", "bright");
    server_ = std::make_unique<HubServer>(dir_, DbUrlFor(GetParam()),
                                          std::vector<std::string>{"--no-rate-limit"});
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString() << "\n" << server_->Output();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  HubClient NewUser(const std::string& email) {
    HubClient c(server_->port());
    Status s = c.SignUp(email);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return c;
  }
  std::vector<FilePart> Images(int n, int seed) {
    std::vector<FilePart> files;
    for (int i = 0; i < n; ++i) {
      files.push_back(
          {"img_" + std::to_string(seed + i) + ".png", DiscsPng(160, 120, 3, seed + i)});
    }
    return files;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<HubServer> server_;
};

TEST_P(HubServiceTest, AccountsSessionsAndTokens) {
  HubClient anon(server_->port());
  HttpReply r = anon.Call("POST", "/api/auth/register",
                          {{"email", "Alice@Example.org"}, {"password", "correct horse 42"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json()["user"]["email"], "alice@example.org");
  EXPECT_NE(r.Header("Set-Cookie").find("HttpOnly"), std::string::npos);
  std::string access = r.Json()["access_token"];
  std::string refresh = r.Json()["refresh_token"];

  EXPECT_EQ(anon.Call("POST", "/api/auth/register",
                      {{"email", "alice@example.org"}, {"password", "another pass 1"}})
                .status,
            409);
  EXPECT_EQ(anon.Call("POST", "/api/auth/register", {{"email", "bob@x.org"}, {"password", "short"}})
                .status,
            400);
  EXPECT_EQ(anon.Call("POST", "/api/auth/login",
                      {{"email", "alice@example.org"}, {"password", "wrong password"}})
                .status,
            401);
  EXPECT_EQ(anon.Call("GET", "/api/auth/me").status, 401);
  EXPECT_EQ(
      anon.Call("GET", "/api/auth/me", nullptr, {{"Cookie", "seghub_access=" + access}}).status,
      200);
  std::string tampered = access;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(
      anon.Call("GET", "/api/auth/me", nullptr, {{"Authorization", "Bearer " + tampered}}).status,
      401);

  HubClient alice(server_->port(), access);
  HttpReply token = alice.Call("POST", "/api/auth/tokens", {{"name", "script"}});
  ASSERT_EQ(token.status, 201) << token.body;
  HubClient script(server_->port(), token.Json()["token"]);
  EXPECT_EQ(script.Call("GET", "/api/auth/me").Json()["user"]["email"], "alice@example.org");
  EXPECT_EQ(
      alice.Call("DELETE", "/api/auth/tokens/" + token.Json()["id"].get<std::string>()).status,
      204);
  EXPECT_EQ(script.Call("GET", "/api/auth/me").status, 401);

  HttpReply rotated = anon.Call("POST", "/api/auth/refresh", {{"refresh_token", refresh}});
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  // The old refresh token was rotated away: presenting it again fails.
  EXPECT_EQ(anon.Call("POST", "/api/auth/refresh", {{"refresh_token", refresh}}).status, 401);
}

TEST_P(HubServiceTest, NoUserSeesAnotherUsersWork) {
  HubClient alice = NewUser("alice@example.org");
  HubClient bob = NewUser("bob@example.org");
  std::string project = alice.CreateProject("Alice's spheroids");
  HttpReply up = alice.Upload(project, Images(2, 1));
  ASSERT_EQ(up.status, 201) << up.body;
  std::string image = up.Json()["images"][0]["id"];
  HttpReply exp =
      alice.Call("POST", "/api/projects/" + project + "/exports", {{"formats", {"csv"}}});
  ASSERT_EQ(exp.status, 202) << exp.body;
  std::string export_id = exp.Json()["id"];

  for (const std::string& target :
       {"/api/projects/" + project, "/api/projects/" + project + "/images", "/api/images/" + image,
        "/api/images/" + image + "/file", "/api/images/" + image + "/thumbnail",
        "/api/images/" + image + "/segmentation", "/api/exports/" + export_id,
        "/api/exports/" + export_id + "/download"}) {
    HttpReply r = bob.Call("GET", target);
    EXPECT_EQ(r.status, 404) << target << " " << r.body;
    EXPECT_EQ(r.body.find("Alice"), std::string::npos) << target;
  }
  EXPECT_EQ(bob.Call("PATCH", "/api/projects/" + project, {{"name", "mine"}}).status, 404);
  EXPECT_EQ(bob.Call("DELETE", "/api/images/" + image).status, 404);
  EXPECT_EQ(bob.Upload(project, Images(1, 9)).status, 404);
  EXPECT_EQ(bob.Call("GET", "/api/projects").Json()["total"], 0);

  // Shared as viewer: bob reads but cannot change.
  ASSERT_EQ(alice
                .Call("POST", "/api/projects/" + project + "/shares",
                      {{"email", "bob@example.org"}, {"role", "viewer"}})
                .status,
            201);
  EXPECT_EQ(bob.Call("GET", "/api/projects/" + project).Json()["role"], "viewer");
  EXPECT_EQ(bob.Call("GET", "/api/images/" + image + "/file").status, 200);
  EXPECT_EQ(bob.Upload(project, Images(1, 9)).status, 403);
  EXPECT_EQ(bob.Call("DELETE", "/api/projects/" + project).status, 403);
  // An export stays its creator's.
  EXPECT_EQ(bob.Call("GET", "/api/exports/" + export_id).status, 404);
}

TEST_P(HubServiceTest, UploadSegmentEditExport) {
  HubClient alice = NewUser("alice@example.org");
  std::string project = alice.CreateProject("discs");
  std::vector<FilePart> files = Images(3, 100);
  files.push_back({"corrupt.png", std::string("\x89PNG\r\n\x1a\nnot really", 18)});
  files.push_back({"empty.tif", ""});
  HttpReply up = alice.Upload(project, files);
  ASSERT_EQ(up.status, 201) << up.body;
  ASSERT_EQ(up.Json()["images"].size(), 3u);
  ASSERT_EQ(up.Json()["failed"].size(), 2u);
  EXPECT_EQ(up.Json()["failed"][0]["filename"], "corrupt.png");
  EXPECT_FALSE(up.Json()["failed"][0]["error"].get<std::string>().empty());

  HttpReply seg =
      alice.Call("POST", "/api/projects/" + project + "/segment", {{"model", "bright"}});
  ASSERT_EQ(seg.status, 202) << seg.body;
  EXPECT_EQ(seg.Json()["queued"], 3);
  ASSERT_TRUE(alice.WaitIdle(project, std::chrono::seconds(60))) << server_->Output();
  HttpReply list = alice.Call("GET", "/api/projects/" + project + "/images?sort=name");
  ASSERT_EQ(list.Json()["total"], 3);
  const json listed = list.Json();
  for (const json& image : listed["images"]) {
    EXPECT_EQ(image["status"], "done") << image.dump();
    EXPECT_EQ(image["segmentation"]["version"], 1);
  }
  std::string image = list.Json()["images"][0]["id"];
  HttpReply s1 = alice.Call("GET", "/api/images/" + image + "/segmentation");
  ASSERT_EQ(s1.status, 200) << s1.body;
  json polygons = s1.Json()["polygons"];
  ASSERT_EQ(polygons.size(), 3u) << s1.body;  // three discs

  // Move one vertex and save as version 2; a stale base version is a conflict.
  polygons[0]["points"][0]["x"] = polygons[0]["points"][0]["x"].get<double>() + 3.0;
  HttpReply saved = alice.Call("PUT", "/api/images/" + image + "/segmentation",
                               {{"polygons", polygons}, {"base_version", 1}});
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(saved.Json()["version"], 2);
  EXPECT_EQ(alice
                .Call("PUT", "/api/images/" + image + "/segmentation",
                      {{"polygons", polygons}, {"base_version", 1}})
                .status,
            409);
  json bad = polygons;
  bad[0]["points"] = json::array({{{"x", 1}, {"y", 1}}});
  EXPECT_EQ(alice
                .Call("PUT", "/api/images/" + image + "/segmentation",
                      {{"polygons", bad}, {"base_version", 2}})
                .status,
            400);
  HttpReply latest = alice.Call("GET", "/api/images/" + image + "/segmentation");
  EXPECT_EQ(latest.Json()["polygons"][0]["points"][0]["x"], polygons[0]["points"][0]["x"]);
  EXPECT_EQ(alice.Call("GET", "/api/images/" + image + "/segmentation/versions")
                .Json()["versions"]
                .size(),
            2u);

  // Export: COCO and CSV in a ZIP.
  HttpReply exp =
      alice.Call("POST", "/api/projects/" + project + "/exports", {{"formats", {"coco", "csv"}}});
  ASSERT_EQ(exp.status, 202) << exp.body;
  std::string id = exp.Json()["id"];
  json state;
  for (int i = 0; i < 200; ++i) {
    state = alice.Call("GET", "/api/exports/" + id).Json();
    if (state["status"] != "queued" && state["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(state["status"], "done") << state.dump();
  HttpReply zip = alice.Call("GET", "/api/exports/" + id + "/download");
  ASSERT_EQ(zip.status, 200);
  EXPECT_EQ(zip.Header("Content-Type"), "application/zip");
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  EXPECT_NE(zip.body.find("annotations/coco.json"), std::string::npos);
  EXPECT_NE(zip.body.find("metrics/metrics.csv"), std::string::npos);
}

TEST_P(HubServiceTest, BadRequestsGetClearErrors) {
  HubClient alice = NewUser("alice@example.org");
  std::string project = alice.CreateProject("p");
  HttpReply r =
      alice.Raw("POST", "/api/projects", "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.Json().value("error", "").find("JSON"), std::string::npos) << r.body;
  r = alice.Call("POST", "/api/projects", {{"name", 42}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.Json().value("error", "").find("name"), std::string::npos) << r.body;
  EXPECT_EQ(alice.Call("POST", "/api/projects", {{"name", "   "}}).status, 400);
  EXPECT_EQ(alice.Call("POST", "/api/projects/" + project + "/segment", {{"priority", 11}}).status,
            400);
  r = alice.Call("POST", "/api/projects/" + project + "/segment", {{"scale", 0}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.Json().value("error", "").find("scale"), std::string::npos) << r.body;
  EXPECT_EQ(alice.Call("POST", "/api/projects/" + project + "/segment", {{"model", "nope"}}).status,
            400);
  EXPECT_EQ(alice.Call("GET", "/api/projects/" + project + "/images?per_page=0").status, 400);
  EXPECT_EQ(alice.Call("GET", "/api/projects/" + project + "/images?sort=size").status, 400);
  EXPECT_EQ(
      alice.Call("POST", "/api/projects/" + project + "/exports", {{"formats", {"pdf"}}}).status,
      400);
  std::vector<FilePart> many = Images(101, 500);
  EXPECT_EQ(alice.Upload(project, many).status, 400);
  EXPECT_EQ(alice.Raw("POST", "/api/projects/" + project + "/images", "raw bytes").status, 400);
  EXPECT_EQ(alice.Call("GET", "/health").status, 200);
}

TEST_P(HubServiceTest, OpenApiDocumentsEveryRoute) {
  HubClient anon(server_->port());
  HttpReply r = anon.Call("GET", "/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  json doc = r.Json();
  EXPECT_EQ(doc["openapi"], "3.0.3");
  // Every route of docs/hub-service.md's tables is in the document.
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"post", "/api/auth/register"},
           {"post", "/api/auth/login"},
           {"post", "/api/auth/refresh"},
           {"post", "/api/auth/logout"},
           {"get", "/api/auth/me"},
           {"get", "/api/auth/tokens"},
           {"post", "/api/auth/tokens"},
           {"delete", "/api/auth/tokens/{id}"},
           {"get", "/api/projects"},
           {"post", "/api/projects"},
           {"get", "/api/projects/{id}"},
           {"patch", "/api/projects/{id}"},
           {"delete", "/api/projects/{id}"},
           {"get", "/api/projects/{id}/shares"},
           {"post", "/api/projects/{id}/shares"},
           {"delete", "/api/projects/{id}/shares/{share_id}"},
           {"post", "/api/projects/{id}/share-links"},
           {"post", "/api/share-links/{token}/accept"},
           {"post", "/api/projects/{id}/images"},
           {"get", "/api/projects/{id}/images"},
           {"get", "/api/images/{id}"},
           {"delete", "/api/images/{id}"},
           {"get", "/api/images/{id}/file"},
           {"get", "/api/images/{id}/thumbnail"},
           {"get", "/api/images/{id}/preview"},
           {"get", "/api/images/{id}/segmentation"},
           {"put", "/api/images/{id}/segmentation"},
           {"get", "/api/images/{id}/segmentation/versions"},
           {"post", "/api/projects/{id}/segment"},
           {"get", "/api/projects/{id}/queue"},
           {"post", "/api/projects/{id}/cancel"},
           {"get", "/api/jobs/{id}"},
           {"post", "/api/jobs/{id}/cancel"},
           {"post", "/api/projects/{id}/exports"},
           {"get", "/api/exports/{id}"},
           {"get", "/api/exports/{id}/download"},
           {"post", "/api/exports/{id}/cancel"},
           {"get", "/api/ws"}}) {
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method))
        << method << " " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Db, HubServiceTest, ::testing::Values(DbKind::kSqlite, DbKind::kPostgres),
                         [](const ::testing::TestParamInfo<DbKind>& info) {
                           return info.param == DbKind::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace seghub::testing
