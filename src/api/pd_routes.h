// Partial-discharge routes: the original PD Inference API's analysis on seghub's engine.
//
//   POST /api/v1/pd/analyze   signal file -> JSON per signal (regions, statistics, plot series)
//   GET  /healthz             {"status": "ok", "model": ..., "model_state": ...}
//
// The signal comes as a multipart/form-data upload (field `file`, or the first part with a
// filename) or as the raw body with Content-Type application/x-npy, text/csv or
// application/octet-stream (.npy recognised by its magic, else raw little-endian float32).
// Parameters, from the query string or form fields (form wins):
//   format=npy|csv|raw          overrides the detection above
//   csv_layout=rows|columns     one signal per CSV row (default) or per column
//   sample_rate=<Hz>            fills the *_s fields of the regions
//   threshold=<p>               probability threshold (0.5)
//   min_amplitude=<a>           drop regions whose peak |filtered| is below a (0.2)
//   min_snr=<k>                 drop regions whose peak is below k noise sigmas (0 = off; each
//                               region reports its `snr`, stats.filtered the `noise_sigma`)
//   merge_gap=<n>, min_length=<n>  join / drop short regions (default: the model's postprocess)
//   min_start=<n>               drop regions starting before sample n (1: drops index 0)
//   clip=<v>                    clip raw values to +-v before filtering (800000; 0 = off)
//   max_points=<n>              points per downsampled plot series (2000)
// Bad files and parameters give 400 with {"error", "code"}; a full engine queue 429.
//
// Threading: handlers run on io threads and only parse the body and parameters; filtering runs
// on the task pool, inference on the engine, and the answer is sent from the pool thread that
// finishes the request (via the Responder).
#ifndef SEGHUB_API_PD_ROUTES_H_
#define SEGHUB_API_PD_ROUTES_H_

#include <string>

#include "api/router.h"
#include "common/status.h"
#include "engine/engine.h"
#include "pipeline/task_pool.h"

namespace seghub::api {

struct PdRoutesOptions {
  engine::Engine* engine = nullptr;  // required
  std::string model = "pd_unet1d";   // the model.json name of the PD network
  // Pre/post-processing threads. Null: the routes own a pool of `pool_threads` threads.
  pipeline::TaskPool* pool = nullptr;
  int pool_threads = 2;
  int pool_queue = 64;  // requests waiting for preprocessing before 429
};

// Registers the routes. `options.engine` (and `options.pool` when given) must outlive the
// router and every request in flight.
Status RegisterPdRoutes(Router* router, PdRoutesOptions options);

}  // namespace seghub::api

#endif  // SEGHUB_API_PD_ROUTES_H_
