// What a learner reports after each iteration, and where it goes. Each learner declares its
// metrics once, as a table of fields; the CSV header, the TensorBoard tags, the progress line
// and the Python callback's dict are all generated from that table.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rl/event_file.h"

namespace convoy::train {

struct MetricField {
  const char* name;         // CSV column and Python dict key
  bool integer;             // written without a fraction (counts)
  const char* tensorboard;  // the TensorBoard tag (CleanRL's names), or null: not logged there
  const char* progress;     // label in the progress line, or null: not shown there
  const char* help;
};

// One iteration's values, in the order of `fields`. Every learner's table starts with
// iteration, global_step, episodes, mean_return (NaN when no episode ended) and ends with
// steps_per_second: the runner's sinks rely on them (checked by check_fields).
struct Metrics {
  const std::vector<MetricField>* fields = nullptr;
  std::vector<double> values;

  // The value of the field `name`; a convoy::Error when the learner has no such field.
  double get(const std::string& name) const;
};

// Throws convoy::Error naming the learner when its table lacks the fields above.
void check_fields(const std::vector<MetricField>& fields, const std::string& learner);

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void write(const Metrics& m) = 0;
};

// DIR/metrics.csv: a header of the field names, then one row per iteration. A resumed run
// keeps the rows up to `resume_iteration` and rewrites the rest (a fresh run: 0, a new file).
class CsvSink : public MetricsSink {
 public:
  CsvSink(const std::filesystem::path& path, const std::vector<MetricField>& fields,
          std::int64_t resume_iteration, bool resuming);
  void write(const Metrics& m) override;

 private:
  std::ofstream out_;
};

// A TensorBoard event file in DIR, one scalar per field with a tag (non-finite values, e.g.
// no episode finished, are left out). A fresh run removes DIR's earlier event files; a resumed
// one starts a session at `resume_step`, so TensorBoard drops what came after the checkpoint.
class TensorBoardSink : public MetricsSink {
 public:
  TensorBoardSink(const std::filesystem::path& dir, bool resuming, std::int64_t resume_step);
  void write(const Metrics& m) override;
  const std::string& path() const { return events_.path(); }

 private:
  static const std::filesystem::path& cleared(const std::filesystem::path& dir, bool resuming);
  rl::EventFileWriter events_;
};

// The progress line on stdout: a bar, env steps, steps/s, the recent return and the fields
// with a progress label; redrawn in place on a terminal, else every 5 s and at the end.
class ProgressLine : public MetricsSink {
 public:
  ProgressLine(std::int64_t total_steps, std::int64_t first_step, std::int64_t last_iteration);
  void write(const Metrics& m) override;

 private:
  std::int64_t total_steps_, first_step_, last_iteration_;
  bool tty_;
  double recent_return_;
  std::chrono::steady_clock::time_point t0_, last_print_;
};

// Calls `f` with each iteration's metrics; `f` returning false stops the run after it.
class CallbackSink : public MetricsSink {
 public:
  explicit CallbackSink(std::function<bool(const Metrics&)> f) : f_(std::move(f)) {}
  void write(const Metrics& m) override { stop_ = stop_ || !f_(m); }
  bool stop_requested() const { return stop_; }

 private:
  std::function<bool(const Metrics&)> f_;
  bool stop_ = false;
};

}  // namespace convoy::train
