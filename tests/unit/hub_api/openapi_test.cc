// Every route the server registers under /api/ (besides the original ML service's, documented in
// docs/api.md) appears in /api/openapi.json, and every documented route exists.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "api/health_routes.h"
#include "api/hub_routes.h"
#include "api/hub_service_routes.h"
#include "api/pd_routes.h"
#include "engine/backend.h"
#include "engine/engine.h"
#include "engine/test_backend.h"
#include "hub/hub.h"
#include "metrics/metrics.h"

namespace seghub::api {
namespace {

namespace fs = std::filesystem;

bool IsMlServiceRoute(const std::string& pattern) {
  return pattern.rfind("/api/v1/", 0) == 0 || pattern == "/api/calculate-metrics" ||
         pattern == "/api/batch-calculate-metrics" || pattern == "/api/models";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApiTest, DocumentsEveryHubServiceRoute) {
  fs::path dir = fs::temp_directory_path() / ("seghub_openapi_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "models");
  engine::BackendRegistry backends;
  backends.Register(engine::MakeTestBackend());
  engine::EngineOptions eo;
  eo.model_dir = dir / "models";
  eo.warmup = false;
  metrics::Registry registry;
  auto engine = engine::Engine::Create(eo, &backends, &registry);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  (*engine)->Start();
  pipeline::SegmentServiceOptions so;
  so.threads = 1;
  pipeline::SegmentService segmenter(engine->get(), so);
  {
    hub::HubOptions ho;
    ho.data_dir = dir / "data";
    auto hub = hub::Hub::Open(ho, &segmenter);
    ASSERT_TRUE(hub.ok()) << hub.status().ToString();
    pipeline::TaskPool pool(1, 16);
    Router router;
    HubRoutesOptions ml;
    ml.engine = engine->get();
    ml.segmenter = &segmenter;
    ASSERT_TRUE(RegisterHubRoutes(&router, ml).ok());
    HubServiceOptions hs;
    hs.hub = hub->get();
    hs.pool = &pool;
    ASSERT_TRUE(RegisterHubServiceRoutes(&router, hs).ok());

    HttpRequest req;
    req.method = "GET";
    req.target = req.path = "/api/openapi.json";
    std::promise<HttpResponse> answer;
    router.Dispatch(std::move(req),
                    Responder([&](HttpResponse&& r) { answer.set_value(std::move(r)); }));
    HttpResponse response = answer.get_future().get();
    ASSERT_EQ(response.status, 200);
    nlohmann::json doc = nlohmann::json::parse(response.body);
    const nlohmann::json& paths = doc["paths"];

    int checked = 0;
    for (const auto& [method, pattern] : router.Routes()) {
      if (pattern.rfind("/api/", 0) != 0 || IsMlServiceRoute(pattern)) continue;
      ++checked;
      EXPECT_TRUE(paths.contains(pattern) && paths[pattern].contains(Lower(method)))
          << method << " " << pattern << " is not in /api/openapi.json";
    }
    EXPECT_GT(checked, 30);
    std::set<std::pair<std::string, std::string>> registered;
    for (const auto& [method, pattern] : router.Routes())
      registered.insert({Lower(method), pattern});
    for (const auto& [pattern, ops] : paths.items()) {
      for (const auto& [method, op] : ops.items()) {
        EXPECT_TRUE(registered.count({method, pattern}))
            << method << " " << pattern << " is documented but not served";
        EXPECT_FALSE(op.value("summary", "").empty()) << method << " " << pattern;
      }
    }
    pool.Stop();
  }
  segmenter.Shutdown();
  (*engine)->Shutdown();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace seghub::api
