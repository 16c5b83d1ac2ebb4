// Callbacks for keras::Sequential::fit: hooks called at the start and end of training, of each epoch and
// after each batch. Logs are the epoch's values by name ("loss", "accuracy", "val_loss", ...).
//
//   using namespace ember::keras;
//   model.fit(x, y, FitOptions().epochs(50).validation_split(0.1).callbacks({
//       std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_loss").patience(3)
//                                           .restore_best_weights(true)),
//       std::make_shared<ModelCheckpoint>("best.safetensors", "val_loss", /*save_best_only=*/true),
//       std::make_shared<CSVLogger>("log.csv"),
//       std::make_shared<LearningRateScheduler>([](ember::optim::Optimizer& o) {
//         return std::make_unique<ember::optim::StepLR>(o, 10, 0.5); })}));
//
// fit() adds a ProgressBar itself when FitOptions::verbose is 1 (the default): on a terminal a live bar with
// the batch counter, ETA, samples/s and running loss/metrics; otherwise one line per epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ember/nn/module.h"
#include "ember/optim/lr_scheduler.h"
#include "ember/train/loop.h"

namespace ember::keras {

class Sequential;
using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  // fit() calls this before on_train_begin.
  void set_model(Sequential* model) { model_ = model; }
  // Epochs run are [first_epoch, end_epoch) (0-based, counted over the model's whole life).
  virtual void on_train_begin(int64_t /*first_epoch*/, int64_t /*end_epoch*/) {}
  virtual void on_epoch_begin(int64_t /*epoch*/) {}
  virtual void on_batch_end(const train::BatchInfo& /*info*/) {}
  // May add entries to logs (they go into History); set model->stop_training to stop after this epoch.
  virtual void on_epoch_end(int64_t /*epoch*/, Logs& /*logs*/) {}
  virtual void on_train_end() {}

 protected:
  Sequential* model_ = nullptr;
};
using CallbackPtr = std::shared_ptr<Callback>;

class ProgressBar : public Callback {
 public:
  // tty: -1 = detect from stdout (isatty), 0 = one line per epoch, 1 = live bar.
  explicit ProgressBar(std::ostream& os, int tty = -1);
  ProgressBar();
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_begin(int64_t epoch) override;
  void on_batch_end(const train::BatchInfo& info) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;

 private:
  std::ostream& os_;
  bool tty_;
  int64_t end_epoch_ = 0, epoch_ = 0, num_batches_ = 0, samples_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::string running_;  // the last drawn metric text
};

struct EarlyStoppingOptions {
  EarlyStoppingOptions& monitor(const std::string& v) {
    monitor_ = v;
    return *this;
  }
  EarlyStoppingOptions& patience(int64_t v) {
    patience_ = v;
    return *this;
  }
  EarlyStoppingOptions& min_delta(double v) {
    min_delta_ = v;
    return *this;
  }
  // "min", "max" or "auto" (max for accuracy/precision/recall/f1 names, else min).
  EarlyStoppingOptions& mode(const std::string& v) {
    mode_ = v;
    return *this;
  }
  EarlyStoppingOptions& restore_best_weights(bool v) {
    restore_best_weights_ = v;
    return *this;
  }
  std::string monitor_ = "val_loss";
  int64_t patience_ = 0;
  double min_delta_ = 0;
  std::string mode_ = "auto";
  bool restore_best_weights_ = false;
};

// Stops once the monitored value has not improved by more than min_delta for `patience` epochs in a row
// (Keras; patience 0 stops at the first epoch without improvement); with restore_best_weights the model gets
// the best epoch's weights back when it stops.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  // The epoch training stopped after (-1 if it did not stop early), and the best epoch and value.
  int64_t stopped_epoch() const { return stopped_epoch_; }
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  EarlyStoppingOptions o_;
  bool maximize_ = false;
  double best_ = 0;
  int64_t wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  std::vector<std::pair<std::string, Tensor>> best_weights_;
};

// Saves the model (save(), or save_weights() with weights_only) after each epoch, or only when the monitored
// value improved with save_best_only. "{epoch}" in the path becomes the 1-based epoch number.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, std::string monitor = "val_loss", bool save_best_only = false,
                           bool weights_only = false, std::string mode = "auto");
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  int64_t saves() const { return saves_; }
  const std::string& last_path() const { return last_path_; }

 private:
  std::string path_, monitor_, mode_;
  bool best_only_, weights_only_, maximize_ = false;
  double best_ = 0;
  bool have_best_ = false;
  int64_t saves_ = 0;
  std::string last_path_;
};

// One CSV row per epoch: "epoch" (0-based, like Keras) then the log keys in sorted order.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path, char separator = ',', bool append = false);
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  void on_train_end() override;

 private:
  std::string path_;
  char sep_;
  bool append_;
  std::ofstream out_;
  std::vector<std::string> keys_;
};

// One JSON object per line per epoch: {"epoch": 0, "loss": ..., ...}.
class JsonLinesLogger : public Callback {
 public:
  explicit JsonLinesLogger(std::string path, bool append = false);
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  void on_train_end() override;

 private:
  std::string path_;
  bool append_;
  std::ofstream out_;
};

// Sets the learning rate each epoch, either with a Keras-style schedule(epoch, lr) -> lr called at the start
// of every epoch, or by an optim scheduler (made on the model's optimizer when training starts, stepped at
// the end of every epoch). Adds "lr" (the rate the epoch used) to the logs.
class LearningRateScheduler : public Callback {
 public:
  using Schedule = std::function<double(int64_t epoch, double lr)>;
  using Factory = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;
  explicit LearningRateScheduler(Schedule schedule);
  explicit LearningRateScheduler(Factory factory);
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_begin(int64_t epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;
  optim::LRScheduler* scheduler() const { return scheduler_.get(); }

 private:
  Schedule schedule_;
  Factory factory_;
  std::unique_ptr<optim::LRScheduler> scheduler_;
  double epoch_lr_ = 0;
};

// optim::ReduceLROnPlateau on a monitored log value (default "val_loss").
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(std::string monitor = "val_loss", optim::PlateauOptions options = {});
  void on_train_begin(int64_t first_epoch, int64_t end_epoch) override;
  void on_epoch_end(int64_t epoch, Logs& logs) override;

 private:
  std::string monitor_;
  optim::PlateauOptions options_;
  std::unique_ptr<optim::ReduceLROnPlateau> plateau_;
};

// The value of `key` in logs; ValueError naming the callback, the key and the available keys when absent.
double log_value(const Logs& logs, const std::string& key, const char* who);

}  // namespace ember::keras
