// The `convoy` subcommands. Each add_*_command registers its options on the app and sets a
// callback that runs it; errors are convoy::Error, which main() prints on one line (exit 2).
#pragma once

#include <CLI/CLI.hpp>

namespace convoy::cli {

void add_envs_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_render_command(CLI::App& app);  // cli/render.cpp, when built with Cairo and giflib
void add_plot_command(CLI::App& app);    // cli/plot.cpp, when built with Cairo

}  // namespace convoy::cli
