#include "hub_test_env.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <thread>

#include "support/postgres_server.h"

namespace seghub::testing {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr char kHost[] = "127.0.0.1";

HubServer::HubServer(fs::path dir, std::string db_url, std::vector<std::string> extra)
    : dir_(std::move(dir)), db_url_(std::move(db_url)), extra_(std::move(extra)) {}

HubServer::~HubServer() { Kill(); }

Status HubServer::Start() {
  std::vector<std::string> args = {"serve",
                                   "--host",
                                   kHost,
                                   "--port",
                                   "0",
                                   "--models",
                                   (dir_ / "models").string(),
                                   "--data",
                                   (dir_ / "data").string(),
                                   "--threads",
                                   "2",
                                   "--web",
                                   (dir_ / "no-web").string()};
  if (!db_url_.empty()) {
    args.push_back("--db");
    args.push_back(db_url_);
  }
  for (const std::string& e : extra_) args.push_back(e);
  SEGHUB_ASSIGN_OR_RETURN(process_, ServerProcess::Start(SEGHUB_BINARY, args));
  SEGHUB_ASSIGN_OR_RETURN(port_, process_->WaitForPort(std::chrono::seconds(60)));
  return Status::Ok();
}

void HubServer::Kill() {
  if (process_) {
    process_->Signal(SIGKILL);
    process_->WaitExit(std::chrono::seconds(10));
    process_.reset();
  }
}

Status HubServer::Stop() {
  if (!process_) return Status::Ok();
  SEGHUB_RETURN_IF_ERROR(process_->Signal(SIGTERM));
  Result<int> rc = process_->WaitExit(std::chrono::seconds(60));
  process_.reset();
  return rc.status();
}

Status HubClient::SignUp(const std::string& email, const std::string& password) {
  HttpReply r = Call("POST", "/api/auth/register", {{"email", email}, {"password", password}});
  if (r.status != 201)
    return Internal("register " + email + ": " + std::to_string(r.status) + " " + r.body);
  token_ = r.Json().value("access_token", "");
  return Status::Ok();
}

HttpReply HubClient::Call(const std::string& method, const std::string& target, const json& body,
                          std::map<std::string, std::string> headers) {
  std::string payload;
  if (!body.is_null()) {
    payload = body.dump();
    headers["Content-Type"] = "application/json";
  }
  return Raw(method, target, payload, std::move(headers));
}

HttpReply HubClient::Raw(const std::string& method, const std::string& target,
                         const std::string& payload, std::map<std::string, std::string> headers) {
  if (!token_.empty() && !headers.count("Authorization")) {
    headers["Authorization"] = "Bearer " + token_;
  }
  Result<HttpReply> r = Fetch(kHost, port_, method, target, payload, headers);
  if (!r.ok()) {
    ADD_FAILURE() << method << " " << target << ": " << r.status().ToString();
    return {};
  }
  return *r;
}

std::string MultipartBody(const std::vector<FilePart>& files, const std::string& boundary) {
  std::string body;
  for (const FilePart& f : files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
            f.filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + f.data + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

HttpReply HubClient::Upload(const std::string& project_id, const std::vector<FilePart>& files) {
  return Raw("POST", "/api/projects/" + project_id + "/images",
             MultipartBody(files, "hubTestBoundary7"),
             {{"Content-Type", "multipart/form-data; boundary=hubTestBoundary7"}});
}

std::string HubClient::CreateProject(const std::string& name) {
  HttpReply r = Call("POST", "/api/projects", {{"name", name}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.Json().value("id", "") : "";
}

bool HubClient::WaitIdle(const std::string& project_id, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    HttpReply r = Call("GET", "/api/projects/" + project_id + "/queue");
    json q = r.Json();
    if (r.status == 200 && q.value("queued", -1) == 0 && q.value("processing", -1) == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string DbUrlFor(DbKind kind) {
  if (kind == DbKind::kSqlite) return "";
  Result<PostgresServer*> pg = SharedPostgres();
  EXPECT_TRUE(pg.ok()) << pg.status().ToString();
  if (!pg.ok()) return "";
  Result<std::string> url = (*pg)->CreateDatabase();
  EXPECT_TRUE(url.ok()) << url.status().ToString();
  return url.ok() ? *url : "";
}

void WriteTestModel(const fs::path& models_dir, const std::string& name, int64_t per_sample_us) {
  fs::create_directories(models_dir / name);
  // logit = 4 * (v/255 - 0.485)/0.229 - 4*(0.5-0.485)/0.229: positive above mid-grey.
  double scale = 4.0;
  double offset = -scale * (0.5 - 0.485) / 0.229;
  std::ofstream(models_dir / name / "model.json") << json{
      {"backend", "test"},
      {"architecture", "affine"},
      {"task", "segmentation"},
      {"description", "deterministic test model"},
      {"arch_params", {{"scale", scale}, {"offset", offset}, {"per_sample_us", per_sample_us}}},
      {"recommended_threshold", 0.5},
      {"input",
       {{"channels", 3},
        {"size", {256, 256}},
        {"resize", "stretch"},
        {"mean", {0.485, 0.456, 0.406}},
        {"std", {0.229, 0.224, 0.225}}}}}.dump();
}

std::string DiscsPng(int width, int height, int objects, int seed) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(20, 20, 20));
  std::mt19937 rng(seed);
  int r = std::max(6, std::min(width, height) / 12);
  for (int i = 0; i < objects; ++i) {
    int cx = r + static_cast<int>(rng() % static_cast<unsigned>(width - 2 * r));
    int cy = r + static_cast<int>(rng() % static_cast<unsigned>(height - 2 * r));
    cv::circle(img, {cx, cy}, r, cv::Scalar(230, 230, 230), cv::FILLED);
  }
  img.at<cv::Vec3b>(0, 0) = cv::Vec3b(seed & 255, (seed >> 8) & 255, 20);  // unique bytes
  std::vector<uint8_t> png;
  cv::imencode(".png", img, png);
  return std::string(png.begin(), png.end());
}

}  // namespace seghub::testing
