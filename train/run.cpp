#include "train/run.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

#include "envs/registry.h"
#include "sim/error.h"

#ifndef CONVOY_PRESET_DIR
#define CONVOY_PRESET_DIR "presets"
#endif

namespace convoy::train {

std::string default_preset_dir() {
  const char* env = std::getenv("CONVOY_PRESET_DIR");
  return env && *env ? env : CONVOY_PRESET_DIR;
}

namespace {

// The run to continue: DIR/checkpoint.ckpt, checked against everything the options say
// before anything is written.
rl::Checkpoint resume_checkpoint(const RunOptions& o) {
  const std::filesystem::path dir(o.resume);
  if (!std::filesystem::is_directory(dir)) {
    throw Error("train: --resume " + o.resume + ": no such directory");
  }
  const std::filesystem::path path = dir / "checkpoint.ckpt";
  if (!std::filesystem::exists(path)) {
    throw Error("train: --resume " + o.resume +
                ": holds no checkpoint.ckpt; allowed: a directory written by convoy train");
  }
  rl::Checkpoint c = rl::load_checkpoint(path.string());
  if (o.algo_given && c.algo != o.algo) {
    throw Error("train: --resume " + o.resume + " holds a " + c.algo + " run; allowed: " + o.algo);
  }
  find_learner(c.algo);  // an algorithm this build does not have: the allowed ones
  if (!o.env.empty() && o.env != c.env) {
    throw Error("train: --env " + o.env + " but --resume " + o.resume + " trains " + c.env);
  }
  if (o.num_envs > 0 || o.total_steps > 0 || o.seed >= 0 || !o.settings.empty()) {
    throw Error(
        "train: --resume takes every setting from the checkpoint; allowed with it: "
        "--env (the same), --out (the same directory), --eval-episodes, --stop-after");
  }
  if (o.out_given &&
      std::filesystem::weakly_canonical(o.out) != std::filesystem::weakly_canonical(dir)) {
    throw Error("train: --out " + o.out + " with --resume " + o.resume +
                "; a resumed run writes into its own directory");
  }
  if (c.env_state.empty()) {
    throw Error("train: --resume " + o.resume + ": the checkpoint holds no env state to resume");
  }
  return c;
}

}  // namespace

Run::Run(const RunOptions& options) : o_(options), resuming_(!options.resume.empty()) {
  if (o_.eval_episodes < 0 || o_.eval_episodes > 100000) {
    throw Error("train: --eval-episodes " + std::to_string(o_.eval_episodes) +
                " is invalid; allowed: 1..100000 (0: no evaluation)");
  }
  if (o_.stop_after < 0) {
    throw Error("train: --stop-after " + std::to_string(o_.stop_after) +
                " is invalid; allowed: >= 1 (0: run to the end)");
  }
  if (resuming_) {
    resume_from_ = resume_checkpoint(o_);
    o_.algo = resume_from_.algo;
    o_.out = o_.resume;
    env_name_ = resume_from_.env;
    for (const auto& [k, v] : resume_from_.env_config) env_config_.set(k, v);
    for (const auto& [k, v] : resume_from_.learner_config) settings_.set(k, v);
  } else {
    if (o_.env.empty()) throw Error("train: --env is required (or --resume DIR)");
    env_name_ = o_.env;
  }
  const LearnerEntry& entry = find_learner(o_.algo);
  env_registry().find(env_name_);  // an unknown env: a clear error before anything else
  // an unusable GPU is the device's own error, before any file
  const Device device = Device::parse(o_.device);
  if (!resuming_) {
    std::vector<std::string> words;
    if (o_.use_preset) {
      const std::string dir = o_.preset_dir.empty() ? default_preset_dir() : o_.preset_dir;
      words = read_config_words(
          (std::filesystem::path(dir) / o_.algo / (env_name_ + ".conf")).string());
    }
    words.insert(words.end(), o_.settings.begin(), o_.settings.end());
    const Config all = Config::parse(words);  // named: values() refers into it
    for (const auto& [k, v] : all.values()) {
      if (k.rfind("env.", 0) == 0) {
        env_config_.set(k.substr(4), v);
      } else {
        settings_.set(k, v);
      }
    }
    if (o_.num_envs > 0) settings_.set("num_envs", std::to_string(o_.num_envs));
    if (o_.total_steps > 0) settings_.set("total_timesteps", std::to_string(o_.total_steps));
    if (o_.seed >= 0) settings_.set("seed", std::to_string(o_.seed));
  }
  learner_ = entry.make(env_name_, env_config_, settings_, device, /*acting_only=*/false);
  // checks sizes before changing anything
  if (resuming_) learner_->restore_checkpoint(resume_from_, /*with_env_state=*/true);
}

rl::Checkpoint Run::checkpoint() const {
  rl::Checkpoint c = learner_->make_checkpoint();
  c.env = env_name_;
  c.algo = learner_->algo();
  c.env_config = env_config_.values();
  c.learner_config = settings_.values();
  return c;
}

bool Run::train(const std::function<bool(const Metrics&)>& callback) {
  Learner& l = *learner_;
  const std::int64_t iterations = l.num_iterations();
  const std::int64_t first = l.iteration();
  const std::int64_t last =
      o_.stop_after > 0 ? std::min<std::int64_t>(o_.stop_after, iterations) : iterations;
  std::vector<std::unique_ptr<MetricsSink>> sinks;
  // files: only now that everything has been checked
  if (!o_.out.empty()) {
    const std::filesystem::path dir(o_.out);
    std::filesystem::create_directories(dir);
    sinks.push_back(std::make_unique<CsvSink>(dir / "metrics.csv", l.fields(), first, resuming_));
    auto events = std::make_unique<TensorBoardSink>(dir, resuming_, l.global_step());
    events_file_ = std::filesystem::path(events->path()).filename().string();
    sinks.push_back(std::move(events));
  }
  if (o_.progress) {
    if (resuming_) {
      std::printf("resuming %s at iteration %lld of %lld (%lld env steps done)\n",
                  env_name_.c_str(), static_cast<long long>(first),
                  static_cast<long long>(iterations), static_cast<long long>(l.global_step()));
    }
    std::printf("training %s with %s\n", env_name_.c_str(), l.describe().c_str());
    sinks.push_back(std::make_unique<ProgressLine>(l.total_steps(), l.global_step(), last));
  }
  CallbackSink* stop = nullptr;
  if (callback) {
    auto sink = std::make_unique<CallbackSink>(callback);
    stop = sink.get();
    sinks.push_back(std::move(sink));
  }
  const std::int64_t save_every = std::max<std::int64_t>(1, iterations / 10);
  const std::string ckpt_path =
      o_.out.empty() ? "" : (std::filesystem::path(o_.out) / "checkpoint.ckpt").string();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t it = first; it < last; ++it) {
    const Metrics m = l.iterate();
    const bool stopping = it + 1 == last;
    if (!ckpt_path.empty() && ((it + 1) % save_every == 0 || stopping)) {
      rl::save_checkpoint(ckpt_path, checkpoint());
    }
    for (auto& s : sinks) s->write(m);
    if (stop && stop->stop_requested()) break;
  }
  train_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool ended = l.iteration() >= iterations;
  if (!ended && o_.progress && !o_.out.empty() && !(stop && stop->stop_requested())) {
    std::printf("stopped after iteration %lld of %lld; continue with: convoy train --resume %s\n",
                static_cast<long long>(l.iteration()), static_cast<long long>(iterations),
                o_.out.c_str());
  }
  return ended;
}

PolicyComparison Run::evaluate(int episodes) const {
  return compare_policies(env_name_, env_config_, episodes, learner_->seed() + 1000003, *learner_,
                          learner_->env().device());
}

void Run::execute() {
  if (!train()) return;
  if (o_.eval_episodes == 0) return;
  const PolicyComparison cmp = evaluate(o_.eval_episodes);
  print_comparison(cmp);
  if (o_.out.empty()) return;
  std::ofstream(std::filesystem::path(o_.out) / "summary.json")
      << comparison_json(cmp, learner_->global_step(), train_seconds_) << "\n";
  std::printf("wrote %s/metrics.csv, summary.json, checkpoint.ckpt and %s (%.1f s of training)\n",
              o_.out.c_str(), events_file_.c_str(), train_seconds_);
}

}  // namespace convoy::train
