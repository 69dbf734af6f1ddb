#include "train/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/error.h"

namespace convoy::train {

double Metrics::get(const std::string& name) const {
  for (std::size_t i = 0; fields && i < fields->size(); ++i) {
    if (name == (*fields)[i].name) return values[i];
  }
  throw Error("metrics: no field '" + name + "'");
}

void check_fields(const std::vector<MetricField>& fields, const std::string& learner) {
  const char* lead[] = {"iteration", "global_step", "episodes", "mean_return"};
  bool ok = fields.size() > 4 && std::string(fields.back().name) == "steps_per_second";
  for (int i = 0; ok && i < 4; ++i) ok = std::string(fields[i].name) == lead[i];
  if (!ok) {
    throw Error(learner +
                ": its metric table must start with iteration, global_step, episodes, "
                "mean_return and end with steps_per_second");
  }
}

namespace {

void write_value(std::ostream& out, const MetricField& f, double v) {
  if (f.integer) {
    out << static_cast<long long>(v);
  } else {
    out << v;
  }
}

std::string header(const std::vector<MetricField>& fields) {
  std::string h;
  for (const auto& f : fields) h += (h.empty() ? "" : ",") + std::string(f.name);
  return h;
}

// Rewrites `csv` with `head` and the rows of iterations <= `iteration`, through a temporary
// file: a resumed run writes its later rows again.
void truncate_rows(const std::filesystem::path& csv, const std::string& head,
                   std::int64_t iteration) {
  std::ifstream in(csv);
  std::string line, kept = head + "\n";
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      first = false;
      continue;
    }
    // rows this convoy wrote start with the iteration; anything else is dropped
    char* end = nullptr;
    const long long it = std::strtoll(line.c_str(), &end, 10);
    if (end != line.c_str() && *end == ',' && it <= iteration) kept += line + "\n";
  }
  const std::filesystem::path tmp = csv.string() + ".tmp";
  std::ofstream(tmp) << kept;
  std::filesystem::rename(tmp, csv);
}

}  // namespace

CsvSink::CsvSink(const std::filesystem::path& path, const std::vector<MetricField>& fields,
                 std::int64_t resume_iteration, bool resuming) {
  if (resuming) {
    truncate_rows(path, header(fields), resume_iteration);
  } else {
    std::ofstream(path) << header(fields) << "\n";
  }
  out_.open(path, std::ios::app);
  if (!out_) throw Error("cannot write " + path.string());
}

void CsvSink::write(const Metrics& m) {
  const auto& fields = *m.fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out_ << ',';
    write_value(out_, fields[i], m.values[i]);
  }
  out_ << '\n';
  out_.flush();
}

const std::filesystem::path& TensorBoardSink::cleared(const std::filesystem::path& dir,
                                                      bool resuming) {
  // a fresh run replaces the directory's earlier TensorBoard logs along with its metrics
  if (!resuming) {
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
        std::filesystem::remove(f.path());
      }
    }
  }
  return dir;
}

TensorBoardSink::TensorBoardSink(const std::filesystem::path& dir, bool resuming,
                                 std::int64_t resume_step)
    : events_(cleared(dir, resuming).string()) {
  if (resuming) events_.add_session_start(resume_step + 1);
}

void TensorBoardSink::write(const Metrics& m) {
  std::vector<std::pair<std::string, double>> scalars;
  for (std::size_t i = 0; i < m.fields->size(); ++i) {
    const MetricField& f = (*m.fields)[i];
    if (f.tensorboard && std::isfinite(m.values[i]))
      scalars.emplace_back(f.tensorboard, m.values[i]);
  }
  events_.add_scalars(static_cast<std::int64_t>(m.values[1]), scalars);
  events_.flush();
}

ProgressLine::ProgressLine(std::int64_t total_steps, std::int64_t first_step,
                           std::int64_t last_iteration)
    : total_steps_(total_steps),
      first_step_(first_step),
      last_iteration_(last_iteration),
      tty_(isatty(fileno(stdout))),
      recent_return_(NAN),
      t0_(std::chrono::steady_clock::now()),
      last_print_(t0_) {}

void ProgressLine::write(const Metrics& m) {
  const std::int64_t iteration = static_cast<std::int64_t>(m.values[0]);
  const std::int64_t global_step = static_cast<std::int64_t>(m.values[1]);
  if (m.values[2] > 0) recent_return_ = m.values[3];
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  const bool last = iteration >= last_iteration_;
  if (!(tty_ || last || now - last_print_ > std::chrono::seconds(5))) return;
  const int width = 30;
  const int bar = static_cast<int>(
      std::min<std::int64_t>(width, width * global_step / std::max<std::int64_t>(1, total_steps_)));
  std::string extra;
  for (std::size_t i = 0; i < m.fields->size(); ++i) {
    const MetricField& f = (*m.fields)[i];
    if (!f.progress) continue;
    char text[64];
    std::snprintf(text, sizeof text, "  %s %.3f", f.progress, m.values[i]);
    extra += text;
  }
  std::printf("%s[%s%s] %lld/%lld steps  %.0f steps/s  recent return %.2f%s  %.0f s%s",
              tty_ ? "\r" : "", std::string(bar, '#').c_str(),
              std::string(width - bar, '.').c_str(), static_cast<long long>(global_step),
              static_cast<long long>(total_steps_), (global_step - first_step_) / elapsed,
              recent_return_, extra.c_str(), elapsed, tty_ && !last ? "" : "\n");
  std::fflush(stdout);
  last_print_ = now;
}

}  // namespace convoy::train
