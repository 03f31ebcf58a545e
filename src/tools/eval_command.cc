#include "tools/eval_command.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "imaging/evaluation.h"
#include "imaging/raster_exports.h"
#include "tools/file_walk.h"
#include "tools/progress.h"
#include "tools/segment_runner.h"

namespace seghub::tools {
namespace {
namespace fs = std::filesystem;

constexpr int kExitFailures = 1;
constexpr int kExitUsage = 2;

struct EvalArgs {
  std::string images;
  std::string labels;
  std::string model;
  std::string models_dir = "models";
  std::string pred_dir;
  int threads = 0;
  double scale = 0;  // > 0: SegmentRequest::scale; 0: the model decides
  bool json = false;
};

struct EvalItem {
  std::string image;
  std::string ground_truth;  // empty when none was found
  std::optional<imaging::ImageEvaluation> evaluation;
  std::string error;
};

// A label image for `image` in `dir`: <stem><suffix> for the usual label suffixes and lossless
// extensions, or a <stem>/ folder of per-instance masks. Empty when there is none.
std::string FindLabelsIn(const std::string& dir, const std::string& image) {
  const std::string stem = fs::path(image).stem().string();
  static const char* const kSuffixes[] = {".labels.png", "_masks.png", "_mask.png", ".png",
                                          ".tif",        ".tiff",      ".PNG",      ".TIF",
                                          ".TIFF",       ".bmp"};
  std::error_code ec;
  for (const char* suffix : kSuffixes) {
    const fs::path p = fs::path(dir) / (stem + suffix);
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  const fs::path folder = fs::path(dir) / stem;
  if (fs::is_directory(folder, ec)) return folder.string();
  return "";
}

std::string FindGroundTruth(const std::string& labels_dir, const std::string& image) {
  std::string found = FindLabelsIn(labels_dir, image);
  if (!found.empty()) return found;
  // The data layout of ../shared/data (images/ next to labels/ or masks/).
  Result<std::string> sibling = imaging::FindGroundTruthPath(image);
  return sibling.ok() ? *sibling : "";
}

Status EvaluateAgainstGroundTruth(const cv::Mat& predicted, EvalItem* item) {
  SEGHUB_ASSIGN_OR_RETURN(cv::Mat truth, imaging::ReadGroundTruthLabels(item->ground_truth));
  if (truth.size() != predicted.size()) {
    return InvalidArgument("prediction is " + std::to_string(predicted.cols) + "x" +
                           std::to_string(predicted.rows) + " but the ground truth is " +
                           std::to_string(truth.cols) + "x" + std::to_string(truth.rows));
  }
  SEGHUB_ASSIGN_OR_RETURN(item->evaluation, imaging::EvaluateInstances(predicted, truth));
  return Status::Ok();
}

// Predictions from label images in --pred.
void EvaluateStoredPredictions(const std::string& pred_dir, std::vector<EvalItem>* items) {
  for (EvalItem& item : *items) {
    if (item.ground_truth.empty()) continue;
    const std::string pred = FindLabelsIn(pred_dir, item.image);
    if (pred.empty()) {
      item.error = "no prediction in " + pred_dir;
      continue;
    }
    Result<cv::Mat> labels = imaging::ReadGroundTruthLabels(pred);
    Status s = labels.ok() ? EvaluateAgainstGroundTruth(*labels, &item) : labels.status();
    if (!s.ok()) item.error = pred + ": " + s.ToString();
  }
}

// Predictions from a model: polygons rasterised to instance labels, evaluated as they arrive.
Status EvaluateWithModel(const EvalArgs& args, std::vector<EvalItem>* items) {
  SEGHUB_ASSIGN_OR_RETURN(auto segmenter,
                          StartSegmenter(args.models_dir, args.model, args.threads));
  std::vector<std::string> files;
  std::vector<size_t> todo;
  for (size_t i = 0; i < items->size(); ++i) {
    files.push_back((*items)[i].image);
    if (!(*items)[i].ground_truth.empty()) todo.push_back(i);
  }
  pipeline::SegmentRequest request;
  request.model = segmenter->model;
  request.client_id = "cli";
  if (args.scale > 0) request.scale = args.scale;
  Progress progress(static_cast<int64_t>(todo.size()), "eval");
  int64_t done = 0, failed = 0;
  SegmentFilesBounded(
      segmenter->service.get(), files, todo, request, 2 * segmenter->threads,
      [&](size_t index, Result<pipeline::SegmentResult> r) {
        EvalItem& item = (*items)[index];
        Status s = r.status();
        if (r.ok()) {
          auto labels = imaging::RenderLabelImage(r->polygons, {r->width, r->height});
          s = labels.ok() ? EvaluateAgainstGroundTruth(*labels, &item) : labels.status();
        }
        if (!s.ok()) item.error = s.ToString();
        failed += s.ok() ? 0 : 1;
        progress.Update(++done, failed);
      });
  progress.Finish(done, failed);
  return Status::Ok();
}

// Long names (DSB2018's are 64 hex digits) keep their start and end so the columns line up.
std::string FitName(const std::string& name) {
  constexpr size_t kWidth = 40;
  if (name.size() <= kWidth) return name;
  return name.substr(0, 18) + "..." + name.substr(name.size() - (kWidth - 21));
}

void PrintRow(const std::string& name, const std::string& counts, double dice, double iou,
              const std::vector<double>& ap, double aji) {
  std::printf("%-40s %11s %6.3f %6.3f", FitName(name).c_str(), counts.c_str(), dice, iou);
  for (double a : ap) std::printf(" %7.3f", a);
  std::printf(" %6.3f\n", aji);
}

void PrintTable(const std::vector<EvalItem>& items, const imaging::DatasetEvaluation& overall) {
  std::printf("%-40s %11s %6s %6s %7s %7s %7s %6s\n", "image", "true/pred", "Dice", "IoU", "AP@0.5",
              "AP@0.75", "AP@0.9", "AJI");
  int64_t num_true = 0, num_pred = 0;
  for (const EvalItem& item : items) {
    const std::string name = fs::path(item.image).filename().string();
    if (!item.evaluation) {
      std::printf("%-40s failed: %s\n", FitName(name).c_str(), item.error.c_str());
      continue;
    }
    const imaging::ImageEvaluation& e = *item.evaluation;
    std::vector<double> ap;
    for (const auto& m : e.matches) ap.push_back(m.AveragePrecision());
    num_true += e.num_true;
    num_pred += e.num_predicted;
    PrintRow(name, std::to_string(e.num_true) + "/" + std::to_string(e.num_predicted), e.dice,
             e.iou, ap, e.aji);
  }
  std::vector<double> pooled_ap;
  for (const auto& m : overall.matches) pooled_ap.push_back(m.AveragePrecision());
  const std::string counts = std::to_string(num_true) + "/" + std::to_string(num_pred);
  PrintRow("mean of " + std::to_string(overall.num_images) + " images", counts, overall.mean_dice,
           overall.mean_iou, overall.mean_average_precision, overall.mean_aji);
  PrintRow("pooled (summed counts)", counts, overall.pooled_dice, overall.pooled_iou, pooled_ap,
           overall.pooled_aji);
  const imaging::ErrorCounts& err = overall.errors;
  std::printf(
      "errors by majority overlap: %lld true objects merged, %lld split, %lld missed; %lld "
      "spurious predictions\n",
      static_cast<long long>(err.merged), static_cast<long long>(err.split),
      static_cast<long long>(err.missed), static_cast<long long>(err.spurious));
}

nlohmann::json ReportJson(const std::vector<EvalItem>& items,
                          const imaging::DatasetEvaluation& overall) {
  nlohmann::json images = nlohmann::json::array();
  for (const EvalItem& item : items) {
    nlohmann::json j = {{"image", item.image}, {"ground_truth", item.ground_truth}};
    if (item.evaluation) {
      j.update(imaging::ToJson(*item.evaluation));
    } else {
      j["error"] = item.error;
    }
    images.push_back(std::move(j));
  }
  return {{"images", std::move(images)}, {"overall", imaging::ToJson(overall)}};
}

int RunEval(const EvalArgs& args) {
  InitLogging("warn");  // stderr: stdout carries --json output
  Result<std::vector<std::string>> files = CollectImageFiles({args.images}, false);
  if (!files.ok() || files->empty()) {
    std::cerr << "seghub eval: "
              << (files.ok() ? "no image files in " + args.images : files.status().message())
              << "\n";
    return kExitUsage;
  }
  std::vector<EvalItem> items;
  for (const std::string& f : *files) {
    EvalItem item{f, FindGroundTruth(args.labels, f), std::nullopt, ""};
    if (item.ground_truth.empty()) item.error = "no ground truth in " + args.labels;
    items.push_back(std::move(item));
  }
  if (!args.pred_dir.empty()) {
    EvaluateStoredPredictions(args.pred_dir, &items);
  } else if (Status s = EvaluateWithModel(args, &items); !s.ok()) {
    std::cerr << "seghub eval: " << s.ToString() << "\n";
    return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument
               ? kExitUsage
               : kExitFailures;
  }
  std::vector<imaging::ImageEvaluation> evaluated;
  int failed = 0;
  for (const EvalItem& item : items) {
    if (item.evaluation) {
      evaluated.push_back(*item.evaluation);
    } else {
      ++failed;
      std::cerr << "seghub eval: " << item.image << ": " << item.error << "\n";
    }
  }
  Result<imaging::DatasetEvaluation> overall = imaging::AggregateEvaluations(evaluated);
  if (!overall.ok()) {
    std::cerr << "seghub eval: " << overall.status().ToString() << "\n";
    return kExitFailures;
  }
  if (args.json) {
    std::cout << ReportJson(items, *overall).dump(2) << std::endl;
  } else {
    PrintTable(items, *overall);
  }
  return failed > 0 ? kExitFailures : 0;
}

}  // namespace

void AddEvalCommand(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Score segmentations against ground truth: Dice, IoU, AP@0.5/0.75/0.9, AJI");
  cmd->add_option("images", args->images, "Image file or folder")->required();
  cmd->add_option("labels", args->labels, "Folder of ground-truth instance labels (same stem)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--model", args->model, "Model name (default: the service's default model)");
  cmd->add_option("--models", args->models_dir, "Model repository");
  cmd->add_option("--pred", args->pred_dir,
                  "Folder of predicted label images instead of running a model")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--threads", args->threads, "Compute threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  AddScaleOption(cmd, &args->scale);
  cmd->add_flag("--json", args->json, "JSON report instead of a table");
  cmd->callback([args] {
    const int rc = RunEval(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
