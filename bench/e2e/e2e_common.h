// What the two C++ sides of the end-to-end benchmark (ember_e2e.cpp, libtorch_e2e.cpp) share: the command
// line of PROTOCOL.md, the timed repetitions (wall clock and process CPU time) and the JSON result line. No
// dependency on Ember or LibTorch.
//
//   e2e::Args args = e2e::parse_args(argc, argv, "ember_e2e", names);
//   e2e::Timing t = e2e::measure(kind, steps, batch, args, step);
//   std::puts(e2e::result_line({"ember", "0.1.0", args.tag, name, kind, threads, batch, steps, flops},
//                              args, t, last_loss).c_str());
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace e2e {

// The workloads of PROTOCOL.md (the PyTorch side, torch_e2e.py, has the same table).
constexpr int64_t kVocab = 10000, kSeqLstm = 100, kSeqTf = 64, kClasses = 10;

// Forward FLOPs per sample, as torch_e2e.py's FLOPS (2 per multiply-add of the products only).
constexpr int64_t conv_flops(int64_t cin, int64_t cout, int64_t k, int64_t hout, int64_t wout) {
  return 2 * cin * cout * k * k * hout * wout;
}
inline const std::map<std::string, int64_t> kFlops = {
    {"mlp", 2 * (784 * 128 + 128 * 64 + 64 * 10)},
    {"seed_cnn", conv_flops(1, 32, 3, 26, 26) + 2 * (5408 * 128 + 128 * 10)},
    {"keras_cnn", conv_flops(1, 32, 3, 26, 26) + conv_flops(32, 64, 3, 11, 11) + conv_flops(64, 64, 3, 3, 3) +
                      2 * (576 * 64 + 64 * 10)},
    {"lstm", kSeqLstm * 2 * 4 * (64 * (64 + 64) + 32 * (64 + 32)) + 2 * 32 * 10},
    {"transformer",
     2 * (kSeqTf * 2 * (4 * 128 * 128 + 2 * 128 * 512) + 2 * 2 * kSeqTf * kSeqTf * 128) + 2 * 128 * 10},
};

struct Workload {
  std::string name, model, optimizer;  // optimizer: "sgd", "adam" or "" (inference)
  int64_t batch;
  std::string data;  // "fmnist", "tokens100", "tokens64"
  int64_t steps;
  std::string kind;  // "train", "latency", "throughput"
};

inline const std::vector<Workload> kWorkloads = {
    {"mlp_train", "mlp", "sgd", 128, "fmnist", 50, "train"},
    {"seed_cnn_train", "seed_cnn", "adam", 128, "fmnist", 8, "train"},
    {"keras_cnn_train", "keras_cnn", "adam", 64, "fmnist", 8, "train"},
    {"lstm_train", "lstm", "adam", 64, "tokens100", 3, "train"},
    {"transformer_train", "transformer", "adam", 32, "tokens64", 3, "train"},
    {"mlp_infer_b1", "mlp", "", 1, "fmnist", 200, "latency"},
    {"seed_cnn_infer_b1", "seed_cnn", "", 1, "fmnist", 50, "latency"},
    {"seed_cnn_infer_b256", "seed_cnn", "", 256, "fmnist", 4, "throughput"},
};

struct Args {
  std::vector<std::string> workloads;
  int threads = 0, reps = 5, warmup = 1, steps = 0;  // steps 0: the workload's own count
  bool tiny = false, list = false;
  std::string tag;
};

[[noreturn]] inline void usage_error(const char* prog, const std::string& msg) {
  std::fprintf(
      stderr,
      "%s: %s\nusage: %s --workload NAME[,NAME...]|all --threads N --reps R [--warmup W] [--steps S] "
      "[--tiny] [--tag TAG] | --list\n",
      prog, msg.c_str(), prog);
  std::exit(2);
}

// `all` expands to all_names (the workloads this build can run).
inline Args parse_args(int argc, char** argv, const char* prog, const std::vector<std::string>& all_names) {
  Args a;
  std::string workloads = "all";
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(prog, "missing value after " + f);
      return argv[++i];
    };
    auto int_value = [&]() {
      std::string v = value();
      char* end = nullptr;
      long r = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || r < 0) usage_error(prog, "bad value '" + v + "' for " + f);
      return static_cast<int>(r);
    };
    if (f == "--workload")
      workloads = value();
    else if (f == "--threads")
      a.threads = int_value();
    else if (f == "--reps")
      a.reps = int_value();
    else if (f == "--warmup")
      a.warmup = int_value();
    else if (f == "--steps")
      a.steps = int_value();
    else if (f == "--tag")
      a.tag = value();
    else if (f == "--tiny")
      a.tiny = true;
    else if (f == "--list")
      a.list = true;
    else
      usage_error(prog, "unknown argument " + f);
  }
  if (a.reps < 1) usage_error(prog, "--reps must be at least 1");
  if (a.tiny) {
    a.reps = std::min(a.reps, 2);
    a.warmup = std::min(a.warmup, 1);
  }
  if (workloads == "all") {
    a.workloads = all_names;
  } else {
    std::stringstream ss(workloads);
    for (std::string name; std::getline(ss, name, ',');) a.workloads.push_back(name);
  }
  return a;
}

// Steps per repetition: 2 when tiny, --steps when given, else the workload's own.
inline int64_t steps_for(const Args& a, int64_t workload_steps) {
  return a.tiny ? 2 : a.steps > 0 ? a.steps : workload_steps;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o + "\"";
}

// Per repetition: samples/s (train, throughput) or µs per step (latency), by wall clock and by process CPU
// time (all threads; robust to other processes sharing the cores).
struct Timing {
  std::vector<double> wall, cpu;
};

inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// args.warmup untimed repetitions, then args.reps timed ones of `steps` consecutive calls of step().
inline Timing measure(const std::string& kind, int64_t steps, int64_t batch, const Args& args,
                      const std::function<void()>& step) {
  auto rep = [&](double& cpu) {
    const double c0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = process_cpu_seconds() - c0;
    return t;
  };
  auto metric = [&](double seconds) {
    return kind == "latency" ? seconds / static_cast<double>(steps) * 1e6
                             : static_cast<double>(steps * batch) / seconds;
  };
  double cpu = 0;
  for (int i = 0; i < args.warmup; ++i) rep(cpu);
  Timing t;
  for (int i = 0; i < args.reps; ++i) {
    const double wall = rep(cpu);
    t.wall.push_back(metric(wall));
    t.cpu.push_back(metric(cpu));
  }
  return t;
}

struct Run {
  std::string impl, version, workload, kind;
  int threads;
  int64_t batch, steps, flops_per_sample;
};

// The JSON line of PROTOCOL.md (peak RSS of this process so far).
inline std::string result_line(const Run& r, const Args& args, const Timing& t,
                               std::optional<double> last_loss) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto& v = t.wall;
  std::ostringstream o;
  o << "{\"impl\": " << json_string(r.impl) << ", \"version\": " << json_string(r.version)
    << ", \"tag\": " << json_string(args.tag) << ", \"workload\": " << json_string(r.workload)
    << ", \"kind\": " << json_string(r.kind) << ", \"threads\": " << r.threads << ", \"batch\": " << r.batch
    << ", \"steps_per_rep\": " << r.steps << ", \"reps\": " << args.reps
    << ", \"warmup_reps\": " << args.warmup << ", \"tiny\": " << (args.tiny ? "true" : "false")
    << ", \"metric\": \"" << (r.kind == "latency" ? "latency_us" : "samples_per_s")
    << "\", \"median\": " << json_number(median(v))
    << ", \"min\": " << json_number(*std::min_element(v.begin(), v.end()))
    << ", \"max\": " << json_number(*std::max_element(v.begin(), v.end())) << ", \"values\": [";
  for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << json_number(v[i]);
  o << "], \"cpu_median\": " << json_number(median(t.cpu))
    << ", \"peak_rss_mb\": " << json_number(static_cast<double>(ru.ru_maxrss) / 1024.0)
    << ", \"flops_per_sample\": " << r.flops_per_sample
    << ", \"final_loss\": " << (last_loss ? json_number(*last_loss) : "null") << "}";
  return o.str();
}

}  // namespace e2e
