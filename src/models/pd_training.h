// Training and evaluation of the PD network (unet1d) on labelled synthetic signals.
//
// Data: signals::GenerateSynthetic signals at the real sample rate (40 MS/s) but shorter than a
// mains cycle (the high-pass at 0.4 of Nyquist removes the 50 Hz sine whatever the length), run
// through the same Preprocess as inference. Training windows are drawn from them, most centred
// on a pulse (pulses are sparse) and the rest at random. Training signal seeds are
// 1 + epoch * signals_per_epoch + i; validation seeds start at kPdValidationSeedBase, far above
// any training seed, so validation signals are never trained on.
//
// Loss: BCE-with-logits + soft Dice on the sigmoid. Optimiser: Adam. Validation after every
// epoch runs the full inference pipeline (windows with 50 % overlap, stitch, FindRegions) on the
// held-out signals and computes region F1: a predicted region matches a labelled pulse when
// their IoU >= 0.5 (one-to-one, greedy by IoU).
//
// Checkpoints in out_dir: best.safetensors (best validation F1), last.safetensors,
// optimizer.pt (Adam state) and state.json (epoch, best F1, history). resume continues from
// them. Threading: single-threaded caller; uses LibTorch's intra-op threads as set by the caller.
#ifndef SEGHUB_MODELS_PD_TRAINING_H_
#define SEGHUB_MODELS_PD_TRAINING_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "models/lr_schedule.h"
#include "models/network.h"
#include "signals/synthetic.h"

namespace seghub::models {

inline constexpr uint64_t kPdValidationSeedBase = 1'000'000'000;

// How the synthetic signals are drawn, beyond their length and seed.
struct PdGenerator {
  // What a labelled pulse spans: its raw envelope (the shipped model's labels) or its extent
  // after the pipeline's high-pass (what the network can see).
  signals::SyntheticOptions::LabelBasis labels = signals::SyntheticOptions::LabelBasis::kEnvelope;
  // The first generator's pulses (decay tau 3-30 samples, rise ceil(0.3 tau)) instead of the
  // defaults fitted to the real recording (signals::SyntheticOptions); reproduces older figures.
  bool legacy_pulses = false;
};

struct PdEpochReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  double train_loss = 0.0;
  double val_f1 = 0.0;
  double val_precision = 0.0;
  double val_recall = 0.0;
  bool best = false;
  double epoch_seconds = 0.0;
  double eta_seconds = 0.0;
};

struct PdTrainOptions {
  int64_t base_width = 8;
  int epochs = 20;
  int steps_per_epoch = 200;
  int batch_size = 16;
  int64_t window = 1024;
  double learning_rate = 1e-3;
  LrSchedule lr_schedule = LrSchedule::kConstant;  // kCosine: learning_rate → min_learning_rate
  double min_learning_rate = 1e-5;
  double dice_weight = 1.0;
  double pulse_window_fraction = 0.7;  // share of training windows centred on a pulse
  int signals_per_epoch = 64;
  size_t train_length = 32768;
  int val_signals = 32;
  size_t val_length = 65536;
  double time_budget_s = 0.0;  // > 0: stop after the epoch that exceeds it
  PdGenerator generator;       // training and validation signals alike
  std::filesystem::path out_dir;
  bool resume = false;
  std::filesystem::path init_weights;  // fine-tune from these (ignored when resuming)
  // Validation's FindRegions filters, so the best epoch is chosen on the serving metric.
  double val_min_amplitude = 0.0;
  size_t val_min_length = 1;
  bool val_average_negated = false;
  std::function<void(const PdEpochReport&)> on_epoch;  // progress, called on the caller's thread
};

struct PdEvalOptions {
  int signals = 32;
  size_t length = 65536;
  uint64_t seed_base = kPdValidationSeedBase;
  int64_t window = 1024;
  double overlap = 0.5;
  // FindRegions' amplitude filter. 0 (default) scores the network alone: every labelled pulse
  // is expected and every predicted region counts. With the serving default 0.2, labelled pulses
  // whose peak |filtered| is below it (a 20k pulse next to a 150k one) are "don't care": not
  // expected, and predictions overlapping them are not false positives.
  double min_peak_amplitude = 0.0;
  // FindRegions' noise filter (RegionOptions::min_snr), applied like the amplitude filter: labelled
  // pulses whose peak |filtered| is below min_snr x NoiseSigma are "don't care" too.
  double min_snr = 0.0;
  double probability_threshold = 0.5;  // FindRegions' threshold, merge gap and minimum length
  size_t merge_gap = 0;
  size_t min_length = 1;
  double iou_threshold = 0.5;
  int batch_size = 64;  // windows per forward
  PdGenerator generator;
  bool list_errors = false;  // fill PdEvalResult::errors
  // As model.json output.average_negated: also run every window negated and average the two
  // probabilities.
  bool average_negated = false;
};

// One unmatched region: a missed pulse (false negative) or a region on nothing that matches.
struct PdEvalError {
  uint64_t seed = 0;    // the synthetic signal's seed
  bool missed = false;  // true: a labelled pulse (FN); false: a predicted region (FP)
  size_t start = 0, end = 0;
  double peak_filtered = 0.0;    // max |filtered| over [start, end)
  double max_probability = 0.0;  // max stitched probability over [start, end)
  // Missed pulses: the generator's parameters (kind, decay tau, oscillation period, rise in
  // samples).
  std::string kind;
  double decay_samples = 0.0;
  double period_samples = 0.0;
  size_t rise_samples = 0;
};

struct PdEvalResult {
  int true_positives = 0;
  int false_positives = 0;
  int false_negatives = 0;
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  double mean_iou = 0.0;  // over matched pairs
  // Errors that overlap the other side but miss IoU >= threshold (a found pulse with the wrong
  // extent, or split in two); the rest of the FN / FP overlap nothing.
  int false_negatives_overlapping = 0;
  int false_positives_overlapping = 0;
  std::vector<PdEvalError> errors;  // only with PdEvalOptions::list_errors
};

// The synthetic signal options used for training and evaluation (40 MS/s, given length).
signals::SyntheticOptions PdSyntheticOptions(size_t length, uint64_t seed,
                                             const PdGenerator& generator = {});

// Evaluates `net` (eval mode, no grad) on held-out synthetic signals.
Result<PdEvalResult> EvaluatePd(NetworkSpec* net, const PdEvalOptions& options);

// Trains a unet1d of options.base_width; writes checkpoints as described above and returns the
// final state.json content.
Result<nlohmann::json> TrainPd(const PdTrainOptions& options);

// Region F1 bookkeeping for one signal: label runs vs predicted [start, end) regions.
struct Interval {
  size_t start = 0;
  size_t end = 0;
};
std::vector<Interval> LabelRuns(const std::vector<uint8_t>& labels);
// Indices of the truth / predicted intervals left unmatched are appended to the optional vectors.
void MatchRegions(const std::vector<Interval>& truth, const std::vector<Interval>& predicted,
                  double iou_threshold, PdEvalResult* acc, double* iou_sum,
                  std::vector<size_t>* unmatched_truth = nullptr,
                  std::vector<size_t>* unmatched_predicted = nullptr);

}  // namespace seghub::models

#endif  // SEGHUB_MODELS_PD_TRAINING_H_
