// `convoy`: the command-line front end. Bad arguments print one clear line and exit 2.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "sim/error.h"

int main(int argc, char** argv) {
  CLI::App app{"Convoy: massively parallel reinforcement-learning environments and learners"};
  app.require_subcommand(1);
  convoy::cli::add_envs_command(app);
  convoy::cli::add_bench_command(app);
  convoy::cli::add_train_command(app);
  convoy::cli::add_eval_command(app);
#if CONVOY_HAVE_RENDER
  convoy::cli::add_render_command(app);
  convoy::cli::add_plot_command(app);
#else
  app.add_subcommand("plot", "Learning curves (this build has no Cairo)")
      ->allow_extras()
      ->callback([] {
        throw convoy::Error(
            "plot: this convoy was built without Cairo; run "
            "scripts/install-deps.sh and rebuild");
      });
  app.add_subcommand("render", "Draw a scene (this build has no Cairo/giflib)")
      ->allow_extras()
      ->callback([] {
        throw convoy::Error(
            "render: this convoy was built without Cairo and giflib; run "
            "scripts/install-deps.sh and rebuild");
      });
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "convoy: error: %s (see convoy --help)\n", e.what());
    return 2;
  } catch (const convoy::Error& e) {
    std::fprintf(stderr, "convoy: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "convoy: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
