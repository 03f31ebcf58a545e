#include "models/pd_training.h"

#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>

#include "models/unet1d.h"
#include "signals/pd_pipeline.h"

namespace seghub::models {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Example {
  std::vector<double> filtered;  // preprocessed exactly as at inference
  std::vector<uint8_t> labels;
  std::vector<signals::PulseInfo> pulses;
};

Result<Example> MakeExample(size_t length, uint64_t seed, const PdGenerator& generator) {
  SEGHUB_ASSIGN_OR_RETURN(signals::SyntheticSignal s,
                          signals::GenerateSynthetic(PdSyntheticOptions(length, seed, generator)));
  Example e;
  SEGHUB_ASSIGN_OR_RETURN(e.filtered, signals::Preprocess(s.signal));
  e.labels = std::move(s.labels);
  e.pulses = std::move(s.pulses);
  return e;
}

// Start of a training window: centred on a random pulse with probability `pulse_fraction`
// (the pulse lands at a random position inside the window), else uniform.
size_t DrawStart(const Example& e, int64_t window, double pulse_fraction, std::mt19937_64* rng) {
  const size_t n = e.filtered.size();
  const size_t max_start = n > static_cast<size_t>(window) ? n - window : 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (!e.pulses.empty() && unit(*rng) < pulse_fraction) {
    const auto& p = e.pulses[std::uniform_int_distribution<size_t>(0, e.pulses.size() - 1)(*rng)];
    const size_t span = std::min<size_t>(p.end - p.start, window);
    const size_t back = std::uniform_int_distribution<size_t>(0, window - span)(*rng);
    return std::min(max_start, p.start > back ? p.start - back : 0);
  }
  return std::uniform_int_distribution<size_t>(0, max_start)(*rng);
}

std::vector<at::Tensor> TrainableParameters(NetworkSpec* net) {
  std::vector<at::Tensor> out;
  for (const auto& p : net->params) {
    if (IsUnet1dStatistic(p.hub_name)) continue;
    at::Tensor t = net->module.attr(p.attr_name).toTensor();
    t.requires_grad_(true);
    out.push_back(t);
  }
  return out;
}

at::Tensor Loss(const at::Tensor& logits, const at::Tensor& target, double dice_weight) {
  at::Tensor bce = torch::binary_cross_entropy_with_logits(logits, target);
  at::Tensor p = torch::sigmoid(logits);
  // Soft Dice over the whole batch; +1 keeps batches without pulses finite.
  at::Tensor dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1);
  return bce + dice_weight * dice;
}

// One epoch of Adam steps; returns the mean loss.
Result<double> TrainEpoch(NetworkSpec* net, torch::optim::Adam* optimizer, const PdTrainOptions& o,
                          int epoch) {
  std::vector<Example> examples;
  for (int i = 0; i < o.signals_per_epoch; ++i) {
    const uint64_t seed = 1 + static_cast<uint64_t>(epoch) * o.signals_per_epoch + i;
    SEGHUB_ASSIGN_OR_RETURN(Example e, MakeExample(o.train_length, seed, o.generator));
    examples.push_back(std::move(e));
  }
  std::mt19937_64 rng(static_cast<uint64_t>(epoch) * 7919 + 17);
  torch::jit::Method train_forward = net->module.get_method(kUnet1dTrainMethod);
  double loss_sum = 0.0;
  const int64_t w = o.window;
  for (int step = 0; step < o.steps_per_epoch; ++step) {
    at::Tensor x = torch::zeros({o.batch_size, 1, w});
    at::Tensor y = torch::zeros({o.batch_size, 1, w});
    float* xp = x.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    for (int b = 0; b < o.batch_size; ++b) {
      const Example& e =
          examples[std::uniform_int_distribution<size_t>(0, examples.size() - 1)(rng)];
      const size_t start = DrawStart(e, w, o.pulse_window_fraction, &rng);
      for (int64_t i = 0; i < w && start + i < e.filtered.size(); ++i) {
        xp[b * w + i] = static_cast<float>(e.filtered[start + i]);
        yp[b * w + i] = e.labels[start + i];
      }
    }
    optimizer->zero_grad();
    at::Tensor logits = train_forward({x}).toTensor();
    at::Tensor loss = Loss(logits, y, o.dice_weight);
    loss.backward();
    optimizer->step();
    loss_sum += loss.item<double>();
  }
  return loss_sum / std::max(1, o.steps_per_epoch);
}

Status WriteJson(const std::filesystem::path& path, const nlohmann::json& j) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    f << j.dump(2) << "\n";
    if (!f) return Internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: an interrupted run never leaves half a file
  if (ec) return Internal("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

std::map<std::string, std::string> Metadata(const PdTrainOptions& o, int epoch, double f1) {
  return {{"architecture", "unet1d"},
          {"base_width", std::to_string(o.base_width)},
          {"epoch", std::to_string(epoch)},
          {"val_f1", std::to_string(f1)},
          {"labels", o.generator.labels == signals::SyntheticOptions::LabelBasis::kFiltered
                         ? "filtered"
                         : "envelope"},
          {"pulses", o.generator.legacy_pulses ? "legacy" : "default"},
          {"trainer", "seghub train --task pd"}};
}

}  // namespace

signals::SyntheticOptions PdSyntheticOptions(size_t length, uint64_t seed,
                                             const PdGenerator& generator) {
  signals::SyntheticOptions o;
  o.length = length;
  o.seed = seed;
  // Pulse density of the short signals: up to one pulse per 4096 samples.
  o.max_pulses = std::max<size_t>(1, std::min<size_t>(8, length / 4096));
  o.min_pulses = 1;
  o.label_basis = generator.labels;
  if (generator.legacy_pulses) {
    o.max_decay_samples = 30.0;
    o.rise_per_decay = 0.3;
  }
  return o;
}

std::vector<Interval> LabelRuns(const std::vector<uint8_t>& labels) {
  std::vector<Interval> runs;
  for (size_t i = 0; i < labels.size();) {
    if (!labels[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < labels.size() && labels[j]) ++j;
    runs.push_back({i, j});
    i = j;
  }
  return runs;
}

void MatchRegions(const std::vector<Interval>& truth, const std::vector<Interval>& predicted,
                  double iou_threshold, PdEvalResult* acc, double* iou_sum,
                  std::vector<size_t>* unmatched_truth, std::vector<size_t>* unmatched_predicted) {
  // All candidate pairs above the threshold, best IoU first, each side used once.
  struct Pair {
    double iou;
    size_t t, p;
  };
  std::vector<Pair> pairs;
  for (size_t t = 0; t < truth.size(); ++t) {
    for (size_t p = 0; p < predicted.size(); ++p) {
      const size_t lo = std::max(truth[t].start, predicted[p].start);
      const size_t hi = std::min(truth[t].end, predicted[p].end);
      if (hi <= lo) continue;
      const size_t uni =
          std::max(truth[t].end, predicted[p].end) - std::min(truth[t].start, predicted[p].start);
      const double iou = static_cast<double>(hi - lo) / static_cast<double>(uni);
      if (iou >= iou_threshold) pairs.push_back({iou, t, p});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.iou > b.iou; });
  std::vector<bool> t_used(truth.size()), p_used(predicted.size());
  int matched = 0;
  for (const auto& pr : pairs) {
    if (t_used[pr.t] || p_used[pr.p]) continue;
    t_used[pr.t] = p_used[pr.p] = true;
    ++matched;
    *iou_sum += pr.iou;
  }
  auto overlaps = [](const Interval& a, const Interval& b) {
    return a.start < b.end && b.start < a.end;
  };
  for (size_t t = 0; t < truth.size(); ++t) {
    if (t_used[t]) continue;
    if (unmatched_truth != nullptr) unmatched_truth->push_back(t);
    acc->false_negatives_overlapping +=
        std::any_of(predicted.begin(), predicted.end(),
                    [&](const Interval& p) { return overlaps(truth[t], p); });
  }
  for (size_t p = 0; p < predicted.size(); ++p) {
    if (p_used[p]) continue;
    if (unmatched_predicted != nullptr) unmatched_predicted->push_back(p);
    acc->false_positives_overlapping += std::any_of(
        truth.begin(), truth.end(), [&](const Interval& t) { return overlaps(t, predicted[p]); });
  }
  acc->true_positives += matched;
  acc->false_positives += static_cast<int>(predicted.size()) - matched;
  acc->false_negatives += static_cast<int>(truth.size()) - matched;
}

namespace {

PdEvalError DescribeError(const Example& e, const std::vector<double>& prob, const Interval& span,
                          uint64_t seed, bool missed) {
  PdEvalError err{seed, missed, span.start, span.end};
  for (size_t i = span.start; i < span.end; ++i) {
    err.peak_filtered = std::max(err.peak_filtered, std::abs(e.filtered[i]));
    err.max_probability = std::max(err.max_probability, prob[i]);
  }
  if (!missed) return err;
  for (const auto& p : e.pulses) {
    if (p.start < span.end && span.start < p.end) {
      err.kind = p.kind == signals::PulseKind::kDampedOscillation ? "oscillation" : "exponential";
      err.decay_samples = p.decay_samples;
      err.period_samples = p.period_samples;
      err.rise_samples = p.rise_samples;
      break;
    }
  }
  return err;
}

}  // namespace

Result<PdEvalResult> EvaluatePd(NetworkSpec* net, const PdEvalOptions& o) {
  PdEvalResult acc;
  double iou_sum = 0.0;
  signals::RegionOptions region_options;
  region_options.min_peak_amplitude = o.min_peak_amplitude;
  region_options.probability_threshold = o.probability_threshold;
  region_options.merge_gap = o.merge_gap;
  region_options.min_length = o.min_length;
  region_options.min_snr = o.min_snr;
  for (int s = 0; s < o.signals; ++s) {
    SEGHUB_ASSIGN_OR_RETURN(Example e, MakeExample(o.length, o.seed_base + s, o.generator));
    SEGHUB_ASSIGN_OR_RETURN(auto starts,
                            signals::MakeWindows(e.filtered.size(), o.window, o.overlap));
    std::vector<float> batch = signals::ExtractWindowBatch(e.filtered, starts, o.window);
    std::vector<std::vector<double>> outputs(starts.size());
    {
      c10::InferenceMode guard;
      for (size_t b = 0; b < starts.size(); b += o.batch_size) {
        const int64_t n = std::min<int64_t>(o.batch_size, starts.size() - b);
        at::Tensor x = torch::from_blob(batch.data() + b * o.window, {n, 1, o.window}, at::kFloat);
        at::Tensor p = torch::sigmoid(net->module.forward({x}).toTensor()).to(at::kDouble);
        if (o.average_negated) {
          p = 0.5 * (p + torch::sigmoid(net->module.forward({-x}).toTensor()).to(at::kDouble));
        }
        p = p.contiguous();
        const double* d = p.data_ptr<double>();
        for (int64_t i = 0; i < n; ++i)
          outputs[b + i].assign(d + i * o.window, d + (i + 1) * o.window);
      }
    }
    SEGHUB_ASSIGN_OR_RETURN(auto prob, signals::Stitch(outputs, starts, e.filtered.size()));
    const double noise_sigma = signals::NoiseSigma(e.filtered);
    SEGHUB_ASSIGN_OR_RETURN(auto regions,
                            signals::FindRegions(prob, e.filtered, noise_sigma, region_options));
    std::vector<Interval> truth, weak;
    const double floor = std::max(o.min_peak_amplitude, o.min_snr * noise_sigma);
    for (const Interval& run : LabelRuns(e.labels)) {
      double peak = 0.0;
      for (size_t i = run.start; i < run.end; ++i) peak = std::max(peak, std::abs(e.filtered[i]));
      (peak >= floor ? truth : weak).push_back(run);
    }
    // Pulses the amplitude filter is told to ignore are neither expected nor false positives.
    std::vector<Interval> predicted;
    for (const auto& r : regions) {
      const bool on_weak = std::any_of(weak.begin(), weak.end(), [&](const Interval& w) {
        return r.start < w.end && w.start < r.end;
      });
      if (!on_weak) predicted.push_back({r.start, r.end});
    }
    std::vector<size_t> missed, spurious;
    MatchRegions(truth, predicted, o.iou_threshold, &acc, &iou_sum, &missed, &spurious);
    if (o.list_errors) {
      const uint64_t seed = o.seed_base + s;
      for (size_t t : missed) acc.errors.push_back(DescribeError(e, prob, truth[t], seed, true));
      for (size_t p : spurious) {
        acc.errors.push_back(DescribeError(e, prob, predicted[p], seed, false));
      }
    }
  }
  const double tp = acc.true_positives;
  acc.precision = tp + acc.false_positives > 0 ? tp / (tp + acc.false_positives) : 0.0;
  acc.recall = tp + acc.false_negatives > 0 ? tp / (tp + acc.false_negatives) : 0.0;
  acc.f1 = acc.precision + acc.recall > 0
               ? 2 * acc.precision * acc.recall / (acc.precision + acc.recall)
               : 0.0;
  acc.mean_iou = acc.true_positives > 0 ? iou_sum / acc.true_positives : 0.0;
  return acc;
}

Result<nlohmann::json> TrainPd(const PdTrainOptions& o) {
  if (o.out_dir.empty()) return InvalidArgument("training needs an output folder");
  if (o.epochs <= 0 || o.steps_per_epoch <= 0 || o.batch_size <= 0 || o.signals_per_epoch <= 0) {
    return InvalidArgument("epochs, steps, batch size and signals per epoch must be positive");
  }
  if (o.window <= 0 || o.window % kUnet1dLengthMultiple != 0 ||
      o.train_length < static_cast<size_t>(o.window)) {
    return InvalidArgument("window must be a multiple of 16 no longer than the training signals");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return Internal("cannot create " + o.out_dir.string() + ": " + ec.message());
  SEGHUB_ASSIGN_OR_RETURN(NetworkSpec net, BuildUnet1d(Unet1dConfig{o.base_width, 1, 1}));
  torch::optim::Adam optimizer(TrainableParameters(&net),
                               torch::optim::AdamOptions(o.learning_rate));
  const auto state_path = o.out_dir / "state.json";
  nlohmann::json state = {
      {"epoch", 0}, {"best_f1", -1.0}, {"best_iou", 0.0}, {"history", nlohmann::json::array()}};
  if (o.resume && std::filesystem::exists(state_path)) {
    try {
      state = nlohmann::json::parse(std::ifstream(state_path));
      SEGHUB_RETURN_IF_ERROR(LoadSafetensorsWeights(&net, o.out_dir / "last.safetensors"));
      torch::load(optimizer, (o.out_dir / "optimizer.pt").string());
    } catch (const std::exception& e) {
      return InvalidArgument("cannot resume from " + o.out_dir.string() + ": " + e.what());
    }
  }
  if (!o.resume && !o.init_weights.empty()) {
    SEGHUB_RETURN_IF_ERROR(LoadSafetensorsWeights(&net, o.init_weights));
  }
  PdEvalOptions eval;
  eval.signals = o.val_signals;
  eval.length = o.val_length;
  eval.window = o.window;
  eval.generator = o.generator;
  eval.min_peak_amplitude = o.val_min_amplitude;
  eval.min_length = o.val_min_length;
  eval.average_negated = o.val_average_negated;
  const auto started = SteadyClock::now();
  const int first = state["epoch"].get<int>();
  for (int epoch = first + 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = SteadyClock::now();
    const double lr =
        LearningRateAt(o.lr_schedule, o.learning_rate, o.min_learning_rate, epoch, o.epochs);
    SetLearningRate(&optimizer, lr);
    SEGHUB_ASSIGN_OR_RETURN(double loss, TrainEpoch(&net, &optimizer, o, epoch));
    SEGHUB_ASSIGN_OR_RETURN(PdEvalResult val, EvaluatePd(&net, eval));
    PdEpochReport report{epoch, o.epochs, loss, val.f1, val.precision, val.recall};
    report.best =
        val.f1 > state["best_f1"].get<double>() || (val.f1 == state["best_f1"].get<double>() &&
                                                    val.mean_iou > state["best_iou"].get<double>());
    if (report.best) {
      SEGHUB_RETURN_IF_ERROR(
          SaveSafetensorsWeights(net, o.out_dir / "best.safetensors", Metadata(o, epoch, val.f1)));
      state["best_f1"] = val.f1;
      state["best_iou"] = val.mean_iou;
      state["best_epoch"] = epoch;
    }
    SEGHUB_RETURN_IF_ERROR(
        SaveSafetensorsWeights(net, o.out_dir / "last.safetensors", Metadata(o, epoch, val.f1)));
    try {
      torch::save(optimizer, (o.out_dir / "optimizer.pt").string());
    } catch (const std::exception& e) {
      return Internal(std::string("saving the optimizer state failed: ") + e.what());
    }
    report.epoch_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
    report.eta_seconds = elapsed / (epoch - first) * (o.epochs - epoch);
    state["epoch"] = epoch;
    state["history"].push_back({{"epoch", epoch},
                                {"loss", loss},
                                {"lr", lr},
                                {"val_f1", val.f1},
                                {"val_precision", val.precision},
                                {"val_recall", val.recall},
                                {"val_mean_iou", val.mean_iou},
                                {"seconds", report.epoch_seconds}});
    SEGHUB_RETURN_IF_ERROR(WriteJson(state_path, state));
    if (o.on_epoch) o.on_epoch(report);
    if (o.time_budget_s > 0 && elapsed > o.time_budget_s) break;
  }
  return state;
}

}  // namespace seghub::models
