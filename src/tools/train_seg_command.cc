#include "tools/train_seg_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "models/checkpoint.h"
#include "models/seg_training.h"

namespace seghub::tools {

struct SegCliArgs {
  std::string model_json;  // take architecture, arch_params and input size from a model.json
  std::string architecture = "unet";
  std::string arch_params = "{}";
  std::string init_weights;
  models::SegTrainOptions train;  // segmentation-only fields are bound directly
  bool no_augment = false;
  std::string styles;  // comma-separated
  std::string data;    // comma-separated folders
  int crop = 0;        // > 0: native-resolution crop training (default from a tiled model.json)
  int border_gap = 1;
  double seam_weight = 0.0, seam_sigma = 5.0, small_weight = 0.0;
  int small_area = 100;
  std::vector<double> zoom;  // crops: {min, max} scale; empty = CropDataOptions' default
  double threshold = 0.5;
};

namespace {

std::string Duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

// The shared option `name` if the user gave it, else `fallback` (the PD defaults do not fit).
template <typename T>
T Given(const CLI::App& cmd, const std::string& name, T fallback) {
  const CLI::Option* opt = cmd.get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0 ? opt->as<T>() : fallback;
}

// A tiled model.json's input (resize "tile") selects crop training with its tile size,
// normalisation and polarity; other models keep the stretch path (crop stays 0).
void ApplyTiledInput(const nlohmann::json& in, models::CropDataOptions* c) {
  if (in.value("resize", "") != "tile") return;
  c->crop = in.value("tile", 0);
  if (in.value("normalize", "auto") == "percentile") {
    c->normalize.mode = imaging::NormalizeMode::kPercentile;
  }
  c->auto_invert = in.value("invert", "none") == "auto";
  c->mean = in.value("mean", std::vector<float>{});
  c->std = in.value("std", std::vector<float>{});
}

// Options -> SegTrainOptions, including the model.json's architecture and input size.
Result<models::SegTrainOptions> Resolve(const CLI::App& cmd, const SegCliArgs& a) {
  models::SegTrainOptions o = a.train;
  o.architecture = a.architecture;
  try {
    o.arch_params = nlohmann::json::parse(a.arch_params);
    if (!a.model_json.empty()) {
      std::ifstream in(a.model_json);
      if (!in) return NotFound("cannot open " + a.model_json);
      const nlohmann::json m = nlohmann::json::parse(in);
      o.architecture = m.at("architecture").get<std::string>();
      o.arch_params = m.value("arch_params", nlohmann::json::object());
      if (cmd.get_option("--input-size")->count() == 0 && m.contains("input") &&
          m["input"].contains("size")) {
        o.input_size = m["input"]["size"].at(0).get<int>();
      }
      if (m.contains("input")) ApplyTiledInput(m["input"], &o.crops);
      // postprocess.instances "cores" reads a second output channel: train it.
      const nlohmann::json post = m.value("postprocess", nlohmann::json::object());
      if (post.value("instances", "") == "cores") {
        o.crops.core_fraction = post.value("core_fraction", 0.5);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("bad model.json / --arch-params: ") + e.what());
  }
  std::vector<std::string> folders;
  std::stringstream fs(a.data);
  for (std::string f; std::getline(fs, f, ',');) {
    if (!f.empty()) folders.push_back(f);
  }
  if (a.crop > 0) o.crops.crop = a.crop;
  const bool crops = a.crop > 0 || o.crops.crop > 0;
  if (crops) {
    if (folders.empty()) return InvalidArgument("crop training needs --data FOLDER[,FOLDER...]");
    o.crops.folders.assign(folders.begin(), folders.end());
    o.crops.val_every = o.data.val_every;
    o.crops.border_gap = a.border_gap;
    o.crops.seam_weight = a.seam_weight;
    o.crops.seam_sigma = a.seam_sigma;
    o.crops.small_weight = a.small_weight;
    o.crops.small_area = a.small_area;
    if (!a.zoom.empty()) {
      o.crops.min_scale = a.zoom[0];
      o.crops.max_scale = a.zoom[1];
    }
    o.crops.channels = o.arch_params.value("in_channels", o.crops.channels);
    o.input_size = o.crops.crop;
  } else if (folders.size() > 1) {
    return InvalidArgument("stretch training takes one --data folder");
  } else if (!folders.empty()) {
    o.data.folder = folders[0];
  }
  o.init_weights = a.init_weights;
  o.augment = !a.no_augment;
  std::stringstream ss(a.styles);
  for (std::string s; std::getline(ss, s, ',');) {
    if (!s.empty()) o.data.styles.push_back(s);
  }
  o.out_dir = Given<std::string>(cmd, "--out", "train-seg");
  o.resume = cmd.get_option("--resume")->count() > 0;
  o.epochs = Given<int>(cmd, "--epochs", o.epochs);
  o.steps_per_epoch = Given<int>(cmd, "--steps", o.steps_per_epoch);
  o.batch_size = Given<int>(cmd, "--batch", o.batch_size);
  o.learning_rate = Given<double>(cmd, "--lr", o.learning_rate);
  SEGHUB_ASSIGN_OR_RETURN(
      o.lr_schedule, models::ParseLrSchedule(Given<std::string>(cmd, "--lr-schedule", "constant")));
  o.min_learning_rate = Given<double>(cmd, "--min-lr", o.min_learning_rate);
  o.time_budget_s = Given<double>(cmd, "--time-budget", 0.0);
  return o;
}

int Evaluate(const models::SegTrainOptions& o, const std::string& weights, double threshold) {
  auto net = models::BuildNetwork(o.architecture, o.arch_params);
  if (!net.ok()) {
    std::cerr << "error: " << net.status().ToString() << "\n";
    return 1;
  }
  Status s = models::LoadWeightsFile(&*net, weights);
  auto data = models::SegDataset::Open(o.data, o.seed);
  if (s.ok() && !data.ok()) s = data.status();
  if (!s.ok()) {
    std::cerr << "error: " << s.ToString() << "\n";
    return 1;
  }
  models::SegEvalOptions eval{o.input_size, o.val_images, threshold};
  auto r = models::EvaluateSegmentation(&*net, *data, eval);
  if (!r.ok()) {
    std::cerr << "error: " << r.status().ToString() << "\n";
    return 1;
  }
  nlohmann::json j = {{"weights", weights},
                      {"architecture", o.architecture},
                      {"arch_params", o.arch_params},
                      {"input_size", o.input_size},
                      {"data", o.data.folder.empty() ? "synthetic" : o.data.folder.string()},
                      {"synthetic_size", o.data.synthetic_size},
                      {"validation_seed_base", models::kSegValidationSeedBase},
                      {"threshold", threshold},
                      {"images", r->images},
                      {"mean_dice", r->mean_dice},
                      {"pooled_dice", r->pooled_dice}};
  std::cout << j.dump(2) << std::endl;
  return 0;
}

int Train(models::SegTrainOptions o) {
  o.on_step = [](int epoch, int step, double loss) {
    if (step % 25 == 0) {
      std::printf("  epoch %d step %d  loss %.4f\n", epoch, step, loss);
      std::fflush(stdout);
    }
  };
  o.on_epoch = [](const models::SegEpochReport& r) {
    std::printf("epoch %d/%d  loss %.4f  val Dice %.4f%s  %.0fs/epoch  ETA %s\n", r.epoch, r.epochs,
                r.train_loss, r.val_dice, r.best ? "  [best]" : "", r.epoch_seconds,
                Duration(r.eta_seconds).c_str());
    std::fflush(stdout);
  };
  Result<nlohmann::json> state = InvalidArgument("not run");
  try {
    state = models::TrainSegmentation(o);
  } catch (const std::exception& e) {  // LibTorch throws c10::Error
    state = Internal(std::string("training failed: ") + e.what());
  }
  if (!state.ok()) {
    std::cerr << "error: " << state.status().ToString() << "\n";
    return 1;
  }
  std::printf("done: best val Dice %.4f at epoch %d; weights in %s/best.safetensors\n",
              (*state)["best_dice"].get<double>(), state->value("best_epoch", 0),
              o.out_dir.string().c_str());
  return 0;
}

}  // namespace

std::shared_ptr<SegCliArgs> AddSegmentationTrainOptions(CLI::App* cmd) {
  auto a = std::make_shared<SegCliArgs>();
  auto& t = a->train;
  cmd->add_option("--model", a->model_json,
                  "segmentation: model.json to take architecture, arch_params, input size from");
  cmd->add_option("--arch", a->architecture, "segmentation: architecture (BuildNetwork name)");
  cmd->add_option("--arch-params", a->arch_params, "segmentation: arch_params as JSON");
  cmd->add_option("--init-weights", a->init_weights, "Starting weights (segmentation or pd)");
  cmd->add_option("--input-size", t.input_size, "segmentation: square stretch size");
  cmd->add_flag("--grow-outputs", t.grow_outputs,
                "segmentation: --init-weights may have fewer output channels (e.g. a "
                "foreground model gaining a core channel); the new ones start random");
  cmd->add_option("--data", a->data,
                  "segmentation: folder(s) with images/ and masks/ or labels/, comma-separated "
                  "(default: synthetic spheroids)");
  cmd->add_option("--crop", a->crop,
                  "segmentation: train on native-resolution crops of this size (default: the "
                  "model.json's input.tile when input.resize is tile)");
  cmd->add_option("--border-gap", a->border_gap,
                  "segmentation, crops: seam (px) left between touching instances in the target");
  cmd->add_option("--seam-weight", a->seam_weight,
                  "segmentation, crops: extra BCE weight w0 on the background between touching "
                  "instances, 1 + w0 exp(-(d1+d2)^2 / 2 sigma^2) (U-Net's border weight; 0 = off)");
  cmd->add_option("--seam-sigma", a->seam_sigma,
                  "segmentation, crops: sigma (px) of --seam-weight");
  cmd->add_option("--small-weight", a->small_weight,
                  "segmentation, crops: pixels of instances under --small-area px weigh at least "
                  "1 + this in the BCE (0 = off)");
  cmd->add_option("--small-area", a->small_area, "segmentation, crops: see --small-weight");
  cmd->add_option("--zoom", a->zoom,
                  "segmentation, crops: MIN,MAX zoom (log-uniform; < 1 shrinks objects)")
      ->expected(2)
      ->delimiter(',');
  cmd->add_option("--val-every", t.data.val_every, "segmentation: hold out every n-th file");
  cmd->add_option("--synthetic-size", t.data.synthetic_size, "segmentation: synthetic height");
  cmd->add_option("--styles", a->styles, "segmentation: synthetic styles, comma-separated");
  cmd->add_option("--val-images", t.val_images, "segmentation: synthetic validation images");
  cmd->add_option("--seed", t.seed, "segmentation: training data seed");
  cmd->add_option("--init-seed", t.init_seed, "segmentation: RandomInit seed");
  cmd->add_option("--dice-weight", t.dice_weight, "segmentation: weight of the Dice loss");
  cmd->add_option("--threshold", a->threshold, "segmentation --evaluate: probability threshold");
  cmd->add_flag("--no-augment", a->no_augment, "segmentation: no augmentation");
  return a;
}

int RunSegmentation(const CLI::App& cmd, const SegCliArgs& args) {
  auto o = Resolve(cmd, args);
  if (!o.ok()) {
    std::cerr << "error: " << o.status().ToString() << "\n";
    return 1;
  }
  const std::string evaluate = Given<std::string>(cmd, "--evaluate", "");
  try {
    return evaluate.empty() ? Train(*o) : Evaluate(*o, evaluate, args.threshold);
  } catch (const std::exception& e) {  // LibTorch throws c10::Error
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

const std::string& InitWeights(const SegCliArgs& args) { return args.init_weights; }

}  // namespace seghub::tools
