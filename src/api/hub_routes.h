// The original Cell Segmentation Hub's ML-service endpoints (../shared/reference/hub-contract.md),
// so the Hub's own back end can call seghub unchanged:
//
//   GET  /api/v1/health                 service, version, device, models that failed to load
//   GET  /api/v1/models                 segmentation models with their serving parameters
//   GET  /api/v1/status                 idle / processing, queue length
//   POST /api/v1/segment                multipart `file` (+ model, threshold, detect_holes), or a
//                                       raw image body with the fields in the query string
//   POST /api/v1/batch-segment          multipart `files` (up to max_batch_files)
//   POST /api/calculate-metrics         {contour, holes?} -> the Hub's shape metrics
//   POST /api/batch-calculate-metrics   a list of those
//
// seghub extras on segment requests: min_area, simplify (px), pixel_size (µm per px: metrics in
// µm), instances (watershed split), metrics (false skips them), priority (0..10), page (TIFF),
// scale (resize factor before the model; default: the model's object-size estimate).
// Handlers only parse and enqueue; SegmentService answers from its pool. Errors use the one
// Status -> HTTP mapping (api/http_status.h).
#ifndef SEGHUB_API_HUB_ROUTES_H_
#define SEGHUB_API_HUB_ROUTES_H_

#include <chrono>
#include <string>

#include "api/router.h"
#include "common/status.h"
#include "engine/engine.h"
#include "pipeline/segment_service.h"

namespace seghub::api {

struct HubRoutesOptions {
  engine::Engine* engine = nullptr;               // required; must outlive the router
  pipeline::SegmentService* segmenter = nullptr;  // required; must outlive the router
  std::string version;
  bool gpu_available = false;
  std::string device_name = "cpu";
  int max_batch_files = 100;                  // the Hub's per-request upload limit
  std::chrono::seconds request_timeout{300};  // not started by then: 504
};

Status RegisterHubRoutes(Router* router, HubRoutesOptions options);

}  // namespace seghub::api

#endif  // SEGHUB_API_HUB_ROUTES_H_
