#include "tools/segment_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/logging.h"
#include "tools/file_walk.h"
#include "tools/progress.h"
#include "tools/segment_outputs.h"
#include "tools/segment_runner.h"

namespace seghub::tools {
namespace {
namespace fs = std::filesystem;

constexpr int kExitFailures = 1;
constexpr int kExitUsage = 2;

struct SegmentArgs {
  std::vector<std::string> paths;
  std::string model;  // empty: the service's default model
  std::string models_dir = "models";
  std::string out_dir;
  std::string formats = "json,coco,csv";
  float threshold = 0.0f;  // used when --threshold was given
  bool no_holes = false;
  double min_area = 0.0;  // used when --min-area was given
  double pixel_size = 0.0;
  double scale = 0.0;  // > 0: SegmentRequest::scale; 0: the model decides
  int threads = 0;
  bool json = false;
  bool recursive = false;
  CLI::Option* threshold_option = nullptr;
  CLI::Option* min_area_option = nullptr;
  CLI::Option* formats_option = nullptr;
};

// Sums for the end-of-run summary.
struct RunStats {
  int64_t ok = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
  int64_t objects = 0;
  pipeline::SegmentTiming stage_sums;
  double write_s = 0;
};

// Everything one run needs after validation.
struct SegmentPlan {
  std::vector<std::string> files;
  std::vector<std::string> names;  // output name per file
  std::vector<size_t> todo;        // indices not done by an earlier run
  OutputFormats formats;
  pipeline::SegmentRequest request;
};

// Usage problems (bad formats, missing paths, nothing to write to) become kInvalidArgument.
Result<SegmentPlan> PlanRun(const SegmentArgs& args) {
  SegmentPlan plan;
  SEGHUB_ASSIGN_OR_RETURN(plan.formats, ParseOutputFormats(args.formats));
  if (args.out_dir.empty() && !args.json) {
    return InvalidArgument("nothing to write: give --out DIR and/or --json");
  }
  if (args.out_dir.empty() && args.formats_option->count() > 0) {
    return InvalidArgument("--format needs --out");
  }
  Result<std::vector<std::string>> files = CollectImageFiles(args.paths, args.recursive);
  if (!files.ok()) return InvalidArgument(files.status().message());
  plan.files = std::move(files).value();
  if (plan.files.empty()) return InvalidArgument("no image files found");
  plan.names = AssignOutputNames(plan.files, ReservedOutputNames());
  for (size_t i = 0; i < plan.files.size(); ++i) {
    std::error_code ec;
    const bool done =
        !args.out_dir.empty() && fs::exists(PerImageJsonPath(args.out_dir, plan.names[i]), ec);
    if (!done) plan.todo.push_back(i);
  }
  pipeline::SegmentRequest& r = plan.request;
  r.model = args.model;
  if (args.threshold_option->count() > 0) r.threshold = args.threshold;
  if (args.min_area_option->count() > 0) r.min_area = args.min_area;
  r.detect_holes = !args.no_holes;
  r.um_per_px = args.pixel_size;
  if (args.scale > 0) r.scale = args.scale;
  r.keep_image = !args.out_dir.empty() && plan.formats.overlay;
  r.client_id = "cli";
  return plan;
}

void AddStages(const pipeline::SegmentTiming& t, pipeline::SegmentTiming* sum) {
  sum->queue_s += t.queue_s;
  sum->preprocessing_s += t.preprocessing_s;
  sum->inference_s += t.inference_s;
  sum->postprocessing_s += t.postprocessing_s;
  sum->total_s += t.total_s;
}

int64_t CountObjects(const pipeline::SegmentResult& r) {
  int64_t n = 0;
  for (const auto& p : r.polygons) n += p.type == imaging::PolygonType::kExternal ? 1 : 0;
  return n;
}

// Handles one finished image on the main thread: files, JSON line, counters, error message.
void OnImageDone(const SegmentArgs& args, const SegmentPlan& plan, size_t index,
                 Result<pipeline::SegmentResult> result, RunStats* stats, Progress* progress) {
  const std::string& file = plan.files[index];
  Status status = result.status();
  nlohmann::json line;
  if (result.ok()) {
    line = PerImageJson(*result, file);
    if (!args.out_dir.empty()) {
      const auto start = std::chrono::steady_clock::now();
      status = WritePerImageOutputs(args.out_dir, plan.names[index], plan.formats, *result, line);
      stats->write_s +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  if (status.ok()) {
    ++stats->ok;
    stats->objects += CountObjects(*result);
    AddStages(result->timing, &stats->stage_sums);
  } else {
    ++stats->failed;
    line = {{"file", file}, {"success", false}, {"error", status.ToString()}};
    progress->Message("seghub segment: " + file + ": " + status.ToString());
  }
  if (args.json) std::cout << line.dump() << "\n" << std::flush;
  progress->Update(stats->ok + stats->failed, stats->failed);
}

void PrintSummary(const RunStats& s, double wall_s, const std::string& model) {
  const double processed = static_cast<double>(s.ok + s.failed);
  const double n = s.ok > 0 ? static_cast<double>(s.ok) : 1.0;
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "seghub segment: model %s: %lld ok, %lld failed, %lld skipped (already done); "
                "%lld objects; wall %s, %.2f images/s\n"
                "  mean per image: queue %.1f ms, preprocess %.1f ms, inference %.1f ms, "
                "postprocess %.1f ms, total %.1f ms, writing %.1f ms\n",
                model.c_str(), static_cast<long long>(s.ok), static_cast<long long>(s.failed),
                static_cast<long long>(s.skipped), static_cast<long long>(s.objects),
                Progress::FormatDuration(wall_s).c_str(), wall_s > 0 ? processed / wall_s : 0.0,
                1e3 * s.stage_sums.queue_s / n, 1e3 * s.stage_sums.preprocessing_s / n,
                1e3 * s.stage_sums.inference_s / n, 1e3 * s.stage_sums.postprocessing_s / n,
                1e3 * s.stage_sums.total_s / n, 1e3 * s.write_s / n);
  std::cerr << buf << std::flush;
}

int RunSegment(const SegmentArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  InitLogging("warn");  // stderr: stdout carries --json output
  Result<SegmentPlan> planned = PlanRun(args);
  if (!planned.ok()) {
    std::cerr << "seghub segment: " << planned.status().message() << "\n";
    return kExitUsage;
  }
  const SegmentPlan& plan = *planned;
  std::error_code ec;
  if (!args.out_dir.empty() && !fs::create_directories(args.out_dir, ec) && ec) {
    std::cerr << "seghub segment: cannot create --out " << args.out_dir << ": " << ec.message()
              << "\n";
    return kExitUsage;
  }
  Result<std::unique_ptr<LocalSegmenter>> segmenter =
      StartSegmenter(args.models_dir, args.model, args.threads);
  if (!segmenter.ok()) {
    std::cerr << "seghub segment: " << segmenter.status().ToString() << "\n";
    const StatusCode code = segmenter.status().code();
    return code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument ? kExitUsage
                                                                                 : kExitFailures;
  }
  RunStats stats;
  stats.skipped = static_cast<int64_t>(plan.files.size() - plan.todo.size());
  if (stats.skipped > 0) {
    std::cerr << "seghub segment: skipping " << stats.skipped << " of " << plan.files.size()
              << " images already done in " << args.out_dir << "\n";
  }
  Progress progress(static_cast<int64_t>(plan.todo.size()), "segment");
  // Two images per thread keep every pool thread busy while the next one is being read.
  SegmentFilesBounded((*segmenter)->service.get(), plan.files, plan.todo, plan.request,
                      2 * (*segmenter)->threads,
                      [&](size_t index, Result<pipeline::SegmentResult> r) {
                        OnImageDone(args, plan, index, std::move(r), &stats, &progress);
                      });
  progress.Finish(stats.ok + stats.failed, stats.failed);
  if (!args.out_dir.empty()) {
    int missing = 0;
    Status written = WriteDatasetOutputs(args.out_dir, plan.formats, plan.names, &missing);
    if (!written.ok()) {
      std::cerr << "seghub segment: " << written.ToString() << "\n";
      return kExitFailures;
    }
  }
  PrintSummary(stats,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               (*segmenter)->model);
  return stats.failed > 0 ? kExitFailures : 0;
}

}  // namespace

void AddSegmentCommand(CLI::App& app) {
  auto args = std::make_shared<SegmentArgs>();
  CLI::App* cmd = app.add_subcommand("segment", "Segment image files and folders");
  cmd->add_option("paths", args->paths, "Image files and folders")->required();
  cmd->add_option("--model", args->model, "Model name (default: the service's default model)");
  cmd->add_option("--models", args->models_dir, "Model repository");
  cmd->add_option("--out", args->out_dir, "Output folder (resumable: finished images are skipped)");
  args->formats_option =
      cmd->add_option("--format", args->formats,
                      "Comma-separated: coco,yolo,geojson,imagej,csv,labels,overlay,json")
          ->capture_default_str();
  args->threshold_option =
      cmd->add_option("--threshold", args->threshold, "Probability threshold (model default)")
          ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--no-holes", args->no_holes, "Outer outlines only, holes filled");
  args->min_area_option =
      cmd->add_option("--min-area", args->min_area, "Drop objects under this area, px²")
          ->check(CLI::NonNegativeNumber);
  cmd->add_option("--pixel-size", args->pixel_size, "µm per pixel: metrics in µm")
      ->check(CLI::NonNegativeNumber);
  AddScaleOption(cmd, &args->scale);
  cmd->add_option("--threads", args->threads, "Compute threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "One JSON object per image on stdout (JSON lines)");
  cmd->add_flag("--recursive,-r", args->recursive, "Descend into subfolders");
  cmd->callback([args] {
    const int rc = RunSegment(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
