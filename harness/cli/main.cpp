// hybench: evaluation and benchmarking harness for hybrid attention + Mamba language models.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/redact.h"
#include "harness/base/strings.h"
#include "harness/cli/cli_options.h"
#include "harness/cli/commands.h"

namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const auto* opt : app->get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

// Turns CLI11's "The following arguments were not expected: --limt" into a suggestion per argument.
std::string explain_extras(const CLI::App* app, const std::vector<std::string>& extras) {
  std::string out;
  bool after_unknown_option = false;
  for (const auto& arg : extras) {
    // The value of an unknown option ("--limt 3") is not worth a message of its own.
    if (after_unknown_option && !hb::starts_with(arg, "-")) {
      after_unknown_option = false;
      continue;
    }
    after_unknown_option = hb::starts_with(arg, "-") && arg.find('=') == std::string::npos;
    if (!out.empty()) out += "; ";
    if (hb::starts_with(arg, "-")) {
      std::string name = arg.substr(0, arg.find('='));
      std::string hint = hb::did_you_mean(name, option_names(app));
      out += "unknown option '" + name + "'" + (hint.empty() ? "" : "; " + hint);
    } else {
      std::string hint = hb::did_you_mean(arg, subcommand_names(*app));
      out += "unexpected argument '" + arg + "'" + (hint.empty() ? "" : "; " + hint);
    }
  }
  return out + " (see `hybench " + app->get_name() + " --help`)";
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"hybench: evaluate and benchmark hybrid attention + Mamba language models.\n"
               "Results go to stdout; logs and progress to stderr. Exit codes: 0 ok, 1 a verdict failed,\n"
               "2 usage or configuration error, 3 the run failed.",
               "hybench"};
  app.require_subcommand(1);
  // Global options (--log-level) are also accepted after the subcommand: a subcommand hands the options it
  // does not know to the root. Set before the subcommands are added, which inherit it.
  app.fallthrough();
  app.set_version_flag("--version", std::string("hybench 0.1.0 (") + __DATE__ + ")");
  std::string log_level;
  app.add_option("--log-level", log_level, "debug|info|warn|error|quiet (also HYBENCH_LOG_LEVEL)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "quiet"}));
  app.parse_complete_callback([&] {
    using hb::LogLevel;
    if (log_level == "debug") hb::Console::get().set_level(LogLevel::debug);
    else if (log_level == "info") hb::Console::get().set_level(LogLevel::info);
    else if (log_level == "warn") hb::Console::get().set_level(LogLevel::warn);
    else if (log_level == "error") hb::Console::get().set_level(LogLevel::error);
    else if (log_level == "quiet") hb::Console::get().set_level(LogLevel::quiet);
  });

  int exit_code = hb::kExitOk;
  hb::cli::add_eval_command(app, exit_code);
  hb::cli::add_score_command(app, exit_code);
  hb::cli::add_models_command(app, exit_code);
  hb::cli::add_generate_command(app, exit_code);
  hb::cli::add_serve_command(app, exit_code);
  hb::cli::add_report_command(app, exit_code);
  hb::cli::add_datasets_command(app, exit_code);
  hb::cli::add_merge_command(app, exit_code);
  hb::cli::add_run_command(app, exit_code);
  hb::cli::add_gate_command(app, exit_code);
  hb::cli::add_compare_command(app, exit_code);
  hb::cli::add_history_command(app, exit_code);
  hb::cli::add_sweep_command(app, exit_code);
  hb::cli::add_bench_command(app, exit_code);
  hb::cli::add_importance_command(app, exit_code);

  // An unknown subcommand gets a suggestion before CLI11 sees it.
  if (argc >= 2 && argv[1][0] != '-') {
    auto names = subcommand_names(app);
    bool known = false;
    for (const auto& n : names) known = known || n == argv[1];
    if (!known) {
      std::string hint = hb::did_you_mean(argv[1], names);
      std::fprintf(stderr, "hybench: error: unknown command '%s'%s; commands: %s\n", argv[1],
                   hint.empty() ? "" : ("; " + hint).c_str(), hb::join(names, ", ").c_str());
      return hb::kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? hb::kExitOk : hb::kExitUsage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? hb::kExitOk : hb::kExitUsage;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? hb::kExitOk : hb::kExitUsage;
  } catch (const CLI::ParseError& e) {
    // An unknown option first, with a did-you-mean, whatever else CLI11 found wrong (a missing --model
    // because it was typed --modle).
    std::string unknown = hb::cli::unknown_option_message(app, argc, argv);
    if (!unknown.empty()) {
      std::fprintf(stderr, "hybench: error: %s\n", unknown.c_str());
      return hb::kExitUsage;
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
      const CLI::App* where = &app;
      for (const auto* sub : app.get_subcommands()) where = sub;
      for (const auto* sub : where->get_subcommands()) where = sub;
      auto extras = where->remaining();
      if (extras.empty()) extras = app.remaining();  // handed up to the root (fallthrough)
      std::fprintf(stderr, "hybench: error: %s\n", explain_extras(where, extras).c_str());
      return hb::kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? hb::kExitOk : hb::kExitUsage;
  } catch (const hb::Error& e) {
    hb::Console::get().end_progress();
    std::fprintf(stderr, "hybench: error: %s\n", hb::redact_credentials(e.describe()).c_str());
    return hb::exit_code_for(e.code());
  } catch (const std::exception& e) {
    hb::Console::get().end_progress();
    std::fprintf(stderr, "hybench: error: internal: %s\n", hb::redact_credentials(e.what()).c_str());
    return hb::kExitRunFailed;
  }
  return exit_code;
}
