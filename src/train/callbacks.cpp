#include "ember/train/callbacks.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ember/core/error.h"
#include "ember/train/model.h"

namespace ember::keras {
namespace {

bool auto_maximize(const std::string& monitor, const std::string& mode) {
  if (mode == "max") return true;
  if (mode == "min") return false;
  EMBER_CHECK(mode == "auto", ValueError, "callback: mode must be \"min\", \"max\" or \"auto\", got \"", mode,
              "\"");
  for (const char* k : {"acc", "precision", "recall", "f1", "auc"})
    if (monitor.find(k) != std::string::npos) return true;
  return false;
}

// Shortest text that reads back as the same double.
std::string num(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_time(double s) {
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60,
                  static_cast<int>(s) % 60);
  else if (s >= 10)
    std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

std::string format_logs(const Logs& logs) {
  std::string s;
  char buf[64];
  for (const auto& [k, v] : logs) {
    std::snprintf(buf, sizeof buf, " - %s: %.4f", k.c_str(), v);
    s += buf;
  }
  return s;
}

}  // namespace

double log_value(const Logs& logs, const std::string& key, const char* who) {
  auto it = logs.find(key);
  if (it == logs.end()) {
    std::string known;
    for (const auto& [k, v] : logs) known += (known.empty() ? "" : ", ") + k;
    throw ValueError(std::string(who) + ": monitored value '" + key + "' is not in the logs (have: " + known +
                     ")");
  }
  return it->second;
}

// ---- ProgressBar ----
ProgressBar::ProgressBar(std::ostream& os, int tty) : os_(os), tty_(tty < 0 ? ::isatty(1) != 0 : tty == 1) {}
ProgressBar::ProgressBar() : ProgressBar(std::cout, -1) {}

void ProgressBar::on_train_begin(int64_t, int64_t end_epoch) {
  end_epoch_ = end_epoch;
}

void ProgressBar::on_epoch_begin(int64_t epoch) {
  epoch_ = epoch;
  num_batches_ = samples_ = 0;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (tty_) os_ << "Epoch " << epoch + 1 << "/" << end_epoch_ << "\n" << std::flush;
}

void ProgressBar::on_batch_end(const train::BatchInfo& info) {
  num_batches_ = info.num_batches;
  samples_ = info.samples;
  if (!tty_) return;
  auto now = std::chrono::steady_clock::now();
  bool last = info.batch + 1 == info.num_batches;
  if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? info.samples / elapsed : 0;
  double eta = rate > 0 ? (info.total_samples - info.samples) / rate : 0;
  const int width = 30;
  int64_t done = info.num_batches ? (info.batch + 1) * width / info.num_batches : width;
  std::string bar(static_cast<size_t>(done), '=');
  if (done < width) bar += '>';
  bar.resize(width, '.');
  char buf[160];
  std::snprintf(buf, sizeof buf, "\r%lld/%lld [%s] - ETA: %s - %.0f samples/s - loss: %.4f",
                static_cast<long long>(info.batch + 1), static_cast<long long>(info.num_batches), bar.c_str(),
                format_time(eta).c_str(), rate, info.loss);
  os_ << buf;
  if (info.metrics)
    for (const train::Metric* m : *info.metrics) {
      std::snprintf(buf, sizeof buf, " - %s: %.4f", m->name().c_str(), m->result());
      os_ << buf;
    }
  os_ << std::flush;
}

void ProgressBar::on_epoch_end(int64_t epoch, Logs& logs) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, " - %s - %.0f samples/s", format_time(elapsed).c_str(),
                elapsed > 0 ? samples_ / elapsed : 0.0);
  if (tty_)
    os_ << "\r" << num_batches_ << "/" << num_batches_ << buf << format_logs(logs) << "\n" << std::flush;
  else
    os_ << "Epoch " << epoch + 1 << "/" << end_epoch_ << " - " << num_batches_ << "/" << num_batches_ << buf
        << format_logs(logs) << "\n"
        << std::flush;
}

// ---- EarlyStopping ----
EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : o_(std::move(options)) {
  EMBER_CHECK(o_.patience_ >= 0 && o_.min_delta_ >= 0, ValueError,
              "EarlyStopping: patience and min_delta must be >= 0");
  maximize_ = auto_maximize(o_.monitor_, o_.mode_);
}

void EarlyStopping::on_train_begin(int64_t, int64_t) {
  wait_ = 0;
  stopped_epoch_ = best_epoch_ = -1;
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int64_t epoch, Logs& logs) {
  double v = log_value(logs, o_.monitor_, "EarlyStopping");
  bool better = maximize_ ? v > best_ + o_.min_delta_ : v < best_ - o_.min_delta_;
  if (better) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (o_.restore_best_weights_) {
      best_weights_.clear();
      for (const auto& [k, t] : model_->module()->state_dict())
        best_weights_.emplace_back(k, copy_as(t, t.dtype()));
    }
    return;
  }
  if (++wait_ >= o_.patience_) {
    stopped_epoch_ = epoch;
    model_->stop_training = true;
    if (o_.restore_best_weights_ && !best_weights_.empty()) {
      nn::StateDict sd;
      for (const auto& [k, t] : best_weights_) sd.insert(k, t);
      model_->module()->load_state_dict(sd);
    }
  }
}

// ---- ModelCheckpoint ----
ModelCheckpoint::ModelCheckpoint(std::string path, std::string monitor, bool save_best_only,
                                 bool weights_only, std::string mode)
    : path_(std::move(path)),
      monitor_(std::move(monitor)),
      mode_(std::move(mode)),
      best_only_(save_best_only),
      weights_only_(weights_only) {
  maximize_ = auto_maximize(monitor_, mode_);
}

void ModelCheckpoint::on_train_begin(int64_t, int64_t) {}

void ModelCheckpoint::on_epoch_end(int64_t epoch, Logs& logs) {
  if (best_only_) {
    double v = log_value(logs, monitor_, "ModelCheckpoint");
    bool better = !have_best_ || (maximize_ ? v > best_ : v < best_);
    if (!better) return;
    best_ = v;
    have_best_ = true;
  }
  std::string p = path_;
  for (size_t at; (at = p.find("{epoch}")) != std::string::npos;) p.replace(at, 7, std::to_string(epoch + 1));
  if (weights_only_)
    model_->save_weights(p);
  else
    model_->save(p);
  last_path_ = p;
  ++saves_;
}

// ---- CSVLogger / JsonLinesLogger ----
CSVLogger::CSVLogger(std::string path, char separator, bool append)
    : path_(std::move(path)), sep_(separator), append_(append) {}

void CSVLogger::on_train_begin(int64_t, int64_t) {
  bool had = false;
  if (append_) {
    std::ifstream in(path_);
    had = in.good() && in.peek() != std::ifstream::traits_type::eof();
  }
  out_.open(path_, append_ ? std::ios::app : std::ios::trunc);
  EMBER_CHECK(out_.good(), IOError, "CSVLogger: cannot open ", path_);
  keys_.clear();
  if (had) keys_.push_back("");  // header already there
}

void CSVLogger::on_epoch_end(int64_t epoch, Logs& logs) {
  bool header = keys_.empty();
  if (keys_.empty() || (keys_.size() == 1 && keys_[0].empty())) {
    keys_.clear();
    for (const auto& [k, v] : logs) keys_.push_back(k);
  }
  if (header) {
    out_ << "epoch";
    for (const auto& k : keys_) out_ << sep_ << k;
    out_ << "\n";
  }
  out_ << epoch;
  for (const auto& k : keys_) {
    auto it = logs.find(k);
    out_ << sep_ << (it == logs.end() ? std::string() : num(it->second));
  }
  out_ << "\n" << std::flush;
  EMBER_CHECK(out_.good(), IOError, "CSVLogger: write to ", path_, " failed");
}

void CSVLogger::on_train_end() {
  out_.close();
}

JsonLinesLogger::JsonLinesLogger(std::string path, bool append) : path_(std::move(path)), append_(append) {}

void JsonLinesLogger::on_train_begin(int64_t, int64_t) {
  out_.open(path_, append_ ? std::ios::app : std::ios::trunc);
  EMBER_CHECK(out_.good(), IOError, "JsonLinesLogger: cannot open ", path_);
}

void JsonLinesLogger::on_epoch_end(int64_t epoch, Logs& logs) {
  nlohmann::json j;
  j["epoch"] = epoch;
  for (const auto& [k, v] : logs) j[k] = v;
  out_ << j.dump() << "\n" << std::flush;
  EMBER_CHECK(out_.good(), IOError, "JsonLinesLogger: write to ", path_, " failed");
}

void JsonLinesLogger::on_train_end() {
  out_.close();
}

// ---- learning rate ----
LearningRateScheduler::LearningRateScheduler(Schedule schedule) : schedule_(std::move(schedule)) {}
LearningRateScheduler::LearningRateScheduler(Factory factory) : factory_(std::move(factory)) {}

void LearningRateScheduler::on_train_begin(int64_t, int64_t) {
  if (factory_ && !scheduler_) scheduler_ = factory_(model_->optimizer());
}

void LearningRateScheduler::on_epoch_begin(int64_t epoch) {
  optim::Optimizer& opt = model_->optimizer();
  if (schedule_) opt.set_lr(schedule_(epoch, opt.lr()));
  epoch_lr_ = opt.lr();
}

void LearningRateScheduler::on_epoch_end(int64_t, Logs& logs) {
  logs["lr"] = epoch_lr_;
  if (scheduler_) scheduler_->step();
}

ReduceLROnPlateau::ReduceLROnPlateau(std::string monitor, optim::PlateauOptions options)
    : monitor_(std::move(monitor)), options_(std::move(options)) {}

void ReduceLROnPlateau::on_train_begin(int64_t, int64_t) {
  if (!plateau_) plateau_ = std::make_unique<optim::ReduceLROnPlateau>(model_->optimizer(), options_);
}

void ReduceLROnPlateau::on_epoch_end(int64_t, Logs& logs) {
  logs["lr"] = model_->optimizer().lr();
  plateau_->step(log_value(logs, monitor_, "ReduceLROnPlateau"));
}

}  // namespace ember::keras
