// `convoy plot DIR`: learning curves from DIR/metrics.csv (written by `convoy train`) as one
// PNG: episode return, episode length, policy and value loss, entropy, approx-KL and steps/s
// against env steps, one panel each, drawn with Cairo.
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "sim/error.h"
#include "train/learner.h"

namespace convoy::cli {

namespace {

struct PlotOptions {
  std::string dir;
  std::string out;
};

// Columns of a CSV with a header line, by name; unparsable cells are NaN.
std::map<std::string, std::vector<double>> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("plot: cannot read '" + path + "' (run convoy train --out DIR first)");
  std::string line;
  if (!std::getline(in, line)) throw Error("plot: '" + path + "' is empty");
  std::vector<std::string> names;
  {
    std::stringstream ss(line);
    std::string name;
    while (std::getline(ss, name, ',')) names.push_back(name);
  }
  std::map<std::string, std::vector<double>> cols;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (!std::getline(ss, cell, ',')) cell.clear();
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      cols[names[k]].push_back(end && end != cell.c_str() ? v : NAN);
    }
  }
  return cols;
}

void panel(cairo_t* cr, double x0, double y0, double w, double h, const std::string& title,
           const std::vector<double>& xs, const std::vector<double>& ys) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, x0, y0, w, h);
  cairo_fill(cr);
  const double left = x0 + 60, right = x0 + w - 15, top = y0 + 30, bottom = y0 + h - 35;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (std::isnan(xs[i]) || std::isnan(ys[i])) continue;
    xmin = std::min(xmin, xs[i]);
    xmax = std::max(xmax, xs[i]);
    ymin = std::min(ymin, ys[i]);
    ymax = std::max(ymax, ys[i]);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, left, y0 + 20);
  cairo_show_text(cr, title.c_str());
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);
  if (!(xmin <= xmax)) return;  // no data
  if (ymax - ymin < 1e-12) {
    ymin -= 1;
    ymax += 1;
  }
  if (xmax - xmin < 1e-12) xmax = xmin + 1;
  char buf[64];
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  std::snprintf(buf, sizeof(buf), "%.3g", ymax);
  cairo_move_to(cr, x0 + 5, top + 10);
  cairo_show_text(cr, buf);
  std::snprintf(buf, sizeof(buf), "%.3g", ymin);
  cairo_move_to(cr, x0 + 5, bottom);
  cairo_show_text(cr, buf);
  std::snprintf(buf, sizeof(buf), "%.3g", xmin);
  cairo_move_to(cr, left, bottom + 15);
  cairo_show_text(cr, buf);
  std::snprintf(buf, sizeof(buf), "%.3g env steps", xmax);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, buf, &ext);
  cairo_move_to(cr, right - ext.width, bottom + 15);
  cairo_show_text(cr, buf);
  cairo_set_source_rgb(cr, 0.12, 0.47, 0.71);
  cairo_set_line_width(cr, 1.5);
  bool pen = false;
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (std::isnan(xs[i]) || std::isnan(ys[i])) continue;  // e.g. no episode ended
    const double px = left + (xs[i] - xmin) / (xmax - xmin) * (right - left);
    const double py = bottom - (ys[i] - ymin) / (ymax - ymin) * (bottom - top);
    if (pen) {
      cairo_line_to(cr, px, py);
    } else {
      cairo_move_to(cr, px, py);
      pen = true;
    }
  }
  cairo_stroke(cr);
}

void run_plot(const PlotOptions& o) {
  const std::string csv = (std::filesystem::path(o.dir) / "metrics.csv").string();
  const auto cols = read_csv(csv);
  // the learner whose metric table is the file's header decides the panels: each of its
  // real-valued metrics (train/learners.cpp), so a new learner plots without a line here
  const train::LearnerEntry* learner = nullptr;
  for (const auto& e : train::learners()) {
    const bool all = std::all_of(e.fields->begin(), e.fields->end(),
                                 [&](const train::MetricField& f) { return cols.count(f.name); });
    if (all && cols.size() == e.fields->size()) learner = &e;
  }
  if (learner == nullptr) {
    throw Error("plot: '" + csv + "' is not the metrics.csv of a convoy train run (" +
                train::learner_names() + ")");
  }
  const std::string out =
      o.out.empty() ? (std::filesystem::path(o.dir) / "curves.png").string() : o.out;
  if (out.size() < 4 || out.substr(out.size() - 4) != ".png") {
    throw Error("plot: --out '" + out + "' is invalid; allowed: a path ending in .png");
  }
  std::vector<const train::MetricField*> panels;
  for (const auto& f : *learner->fields) {
    if (!f.integer) panels.push_back(&f);
  }
  const int per_row = 4, rows = (static_cast<int>(panels.size()) + per_row - 1) / per_row;
  const int w = 1200, h = 300 * rows;
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), &cairo_surface_destroy);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()),
                                                        &cairo_destroy);
  cairo_set_source_rgb(cr.get(), 0.9, 0.9, 0.9);
  cairo_paint(cr.get());
  const auto& x = cols.at("global_step");
  for (int k = 0; k < static_cast<int>(panels.size()); ++k) {
    std::string title = panels[k]->name;
    std::replace(title.begin(), title.end(), '_', ' ');
    panel(cr.get(), (k % per_row) * (w / per_row) + 4, (k / per_row) * 300 + 4, w / per_row - 8,
          300 - 8, title.c_str(), x, cols.at(panels[k]->name));
  }
  const std::string tmp = out + ".tmp";
  if (cairo_surface_write_to_png(surface.get(), tmp.c_str()) != CAIRO_STATUS_SUCCESS ||
      std::rename(tmp.c_str(), out.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("plot: cannot write '" + out + "'");
  }
  std::printf("wrote %s (%zu iterations)\n", out.c_str(), x.size());
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto opts = std::make_shared<PlotOptions>();
  auto* cmd = app.add_subcommand("plot", "Learning curves of a training run as a PNG");
  cmd->add_option("dir", opts->dir, "Directory of a convoy train run")->required();
  cmd->add_option("--out", opts->out, "PNG file (default: DIR/curves.png)");
  cmd->callback([opts] { run_plot(*opts); });
}

}  // namespace convoy::cli
