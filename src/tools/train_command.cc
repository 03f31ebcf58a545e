#include "tools/train_command.h"

#include <ATen/Parallel.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "models/pd_training.h"
#include "models/unet1d.h"
#include "tools/train_seg_command.h"

namespace seghub::tools {
namespace {

struct TrainArgs {
  std::string task = "pd";
  int threads = 1;
  std::string evaluate;        // weights to evaluate instead of training
  double min_amplitude = 0.0;  // FindRegions amplitude filter for --evaluate
  models::PdEvalOptions eval;  // --evaluate: seed base and the other FindRegions options
  std::string labels = "envelope";
  std::string lr_schedule = "constant";
  models::PdTrainOptions pd;
  std::string out_dir = "train-pd";
};

std::string Duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

int Evaluate(const TrainArgs& args) {
  auto net = models::BuildUnet1d(models::Unet1dConfig{args.pd.base_width, 1, 1});
  if (!net.ok()) {
    std::cerr << "error: " << net.status().ToString() << "\n";
    return 1;
  }
  Status s = models::LoadSafetensorsWeights(&*net, args.evaluate);
  if (!s.ok()) {
    std::cerr << "error: " << s.ToString() << "\n";
    return 1;
  }
  models::PdEvalOptions eval = args.eval;
  eval.signals = args.pd.val_signals;
  eval.length = args.pd.val_length;
  eval.window = args.pd.window;
  eval.min_peak_amplitude = args.min_amplitude;
  eval.generator = args.pd.generator;
  auto r = models::EvaluatePd(&*net, eval);
  if (!r.ok()) {
    std::cerr << "error: " << r.status().ToString() << "\n";
    return 1;
  }
  nlohmann::json j = {{"weights", args.evaluate},
                      {"signals", eval.signals},
                      {"signal_length", eval.length},
                      {"seed_base", eval.seed_base},
                      {"iou_threshold", eval.iou_threshold},
                      {"min_amplitude", eval.min_peak_amplitude},
                      {"threshold", eval.probability_threshold},
                      {"merge_gap", eval.merge_gap},
                      {"min_length", eval.min_length},
                      {"min_snr", eval.min_snr},
                      {"average_negated", eval.average_negated},
                      {"labels", args.labels},
                      {"legacy_pulses", eval.generator.legacy_pulses},
                      {"true_positives", r->true_positives},
                      {"false_positives", r->false_positives},
                      {"false_negatives", r->false_negatives},
                      {"precision", r->precision},
                      {"recall", r->recall},
                      {"f1", r->f1},
                      {"mean_iou", r->mean_iou},
                      {"false_negatives_overlapping", r->false_negatives_overlapping},
                      {"false_positives_overlapping", r->false_positives_overlapping}};
  if (eval.list_errors) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : r->errors) {
      errors.push_back({{"seed", e.seed},
                        {"type", e.missed ? "FN" : "FP"},
                        {"start", e.start},
                        {"end", e.end},
                        {"peak_filtered", e.peak_filtered},
                        {"max_probability", e.max_probability},
                        {"kind", e.kind},
                        {"decay_samples", e.decay_samples},
                        {"period_samples", e.period_samples},
                        {"rise_samples", e.rise_samples}});
    }
    j["errors"] = std::move(errors);
  }
  std::cout << j.dump(2) << std::endl;
  return 0;
}

int Train(TrainArgs args) {
  args.pd.out_dir = args.out_dir;
  args.pd.on_epoch = [](const models::PdEpochReport& r) {
    std::printf("epoch %d/%d  loss %.4f  val F1 %.4f (P %.3f R %.3f)%s  %.0fs/epoch  ETA %s\n",
                r.epoch, r.epochs, r.train_loss, r.val_f1, r.val_precision, r.val_recall,
                r.best ? "  [best]" : "", r.epoch_seconds, Duration(r.eta_seconds).c_str());
    std::fflush(stdout);
  };
  Result<nlohmann::json> state = InvalidArgument("not run");
  try {
    state = models::TrainPd(args.pd);
  } catch (const std::exception& e) {  // LibTorch throws c10::Error
    state = Internal(std::string("training failed: ") + e.what());
  }
  if (!state.ok()) {
    std::cerr << "error: " << state.status().ToString() << "\n";
    return 1;
  }
  std::printf("done: best val F1 %.4f at epoch %d; weights in %s/best.safetensors\n",
              (*state)["best_f1"].get<double>(), state->value("best_epoch", 0),
              args.out_dir.c_str());
  return 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train",
                                     "Train a network (--task pd: PD on synthetic signals; --task "
                                     "segmentation: 2-D networks, see train_seg_command.h)");
  cmd->add_option("--task", args->task, "What to train")
      ->check(CLI::IsMember({"pd", "segmentation"}));
  cmd->add_option("--out", args->out_dir, "Checkpoint folder (best/last.safetensors, state.json)");
  cmd->add_flag("--resume", args->pd.resume, "Continue from the checkpoints in --out");
  cmd->add_option("--width", args->pd.base_width, "unet1d base width (64 = the original)");
  cmd->add_option("--epochs", args->pd.epochs, "Epochs");
  cmd->add_option("--steps", args->pd.steps_per_epoch, "Adam steps per epoch");
  cmd->add_option("--batch", args->pd.batch_size, "Windows per step");
  cmd->add_option("--lr", args->pd.learning_rate, "Adam learning rate");
  cmd->add_option("--lr-schedule", args->lr_schedule,
                  "constant, or cosine: --lr at epoch 1 down to --min-lr at --epochs (set --epochs "
                  "to the run's real length)")
      ->check(CLI::IsMember({"constant", "cosine"}));
  cmd->add_option("--min-lr", args->pd.min_learning_rate, "Last epoch's rate under cosine");
  cmd->add_option("--pulse-fraction", args->pd.pulse_window_fraction,
                  "pd: share of training windows centred on a pulse (the rest are uniform)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--signals", args->pd.signals_per_epoch, "Synthetic training signals per epoch");
  cmd->add_option("--train-length", args->pd.train_length, "Samples per training signal");
  cmd->add_option("--val-signals", args->pd.val_signals, "Held-out validation signals");
  cmd->add_option("--val-length", args->pd.val_length, "Samples per validation signal");
  cmd->add_option("--time-budget", args->pd.time_budget_s, "Stop after this many seconds");
  cmd->add_option("--threads", args->threads, "LibTorch intra-op threads");
  cmd->add_option("--evaluate", args->evaluate,
                  "Only evaluate these weights (region F1 on held-out synthetic signals)");
  cmd->add_option("--min-amplitude", args->min_amplitude,
                  "pd: region amplitude filter for --evaluate and validation (0 = score every "
                  "region; 0.2 = serving)");
  cmd->add_option("--seed-base", args->eval.seed_base,
                  "--evaluate: first signal seed (default: the validation seeds)");
  cmd->add_option("--region-threshold", args->eval.probability_threshold,
                  "--evaluate: region probability threshold");
  cmd->add_option("--min-snr", args->eval.min_snr,
                  "--evaluate: drop regions under this many noise sigmas, and do not expect "
                  "pulses under it (0 = off)");
  cmd->add_flag("--average-negated", args->eval.average_negated,
                "pd: average each window's probabilities with its negated input's (as model.json "
                "output.average_negated; --evaluate and validation)");
  cmd->add_flag("--list-errors", args->eval.list_errors,
                "--evaluate: list every missed pulse and spurious region (seed, span, peak, "
                "probability, pulse parameters)");
  cmd->add_option("--merge-gap", args->eval.merge_gap,
                  "--evaluate: join regions separated by at most this many samples");
  cmd->add_option("--min-length", args->eval.min_length,
                  "pd: drop regions shorter than this many samples (--evaluate, validation)");
  cmd->add_option("--labels", args->labels,
                  "PD pulse labels: envelope (raw pulse envelope) or filtered (its extent after "
                  "the high-pass)")
      ->check(CLI::IsMember({"envelope", "filtered"}));
  cmd->add_flag("--legacy-pulses", args->pd.generator.legacy_pulses,
                "pd: the first synthetic generator's pulses (decay up to 30 samples, rise 0.3 x "
                "decay) instead of the defaults fitted to the real recording");
  auto seg = AddSegmentationTrainOptions(cmd);
  cmd->callback([args, seg, cmd] {
    args->pd.lr_schedule =
        args->lr_schedule == "cosine" ? models::LrSchedule::kCosine : models::LrSchedule::kConstant;
    args->pd.generator.labels = args->labels == "filtered"
                                    ? signals::SyntheticOptions::LabelBasis::kFiltered
                                    : signals::SyntheticOptions::LabelBasis::kEnvelope;
    args->pd.init_weights = InitWeights(*seg);
    args->pd.val_min_amplitude = args->min_amplitude;
    args->pd.val_min_length = args->eval.min_length;
    args->pd.val_average_negated = args->eval.average_negated;
    at::set_num_threads(std::max(1, args->threads));
    const int rc = args->task == "segmentation" ? RunSegmentation(*cmd, *seg)
                   : args->evaluate.empty()     ? Train(*args)
                                                : Evaluate(*args);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace seghub::tools
