#pragma once
// Every hybench subcommand lives in its own cmd_<name>.cpp and exposes one add_<name>_command function
// that registers the subcommand, its options and --help text on the root app. The callback it installs
// runs the command and stores the process exit code in `exit_code`. Errors are thrown as hb::Error and
// reported by main() as one line.
#include <CLI/CLI.hpp>

namespace hb::cli {

void add_eval_command(CLI::App& root, int& exit_code);
void add_score_command(CLI::App& root, int& exit_code);
void add_models_command(CLI::App& root, int& exit_code);    // native engine (stub without it)
void add_generate_command(CLI::App& root, int& exit_code);  // native engine (stub without it)
void add_serve_command(CLI::App& root, int& exit_code);     // native engine (stub without it)
void add_report_command(CLI::App& root, int& exit_code);
void add_datasets_command(CLI::App& root, int& exit_code);
void add_merge_command(CLI::App& root, int& exit_code);
void add_run_command(CLI::App& root, int& exit_code);
void add_gate_command(CLI::App& root, int& exit_code);
void add_compare_command(CLI::App& root, int& exit_code);
void add_history_command(CLI::App& root, int& exit_code);
void add_sweep_command(CLI::App& root, int& exit_code);    // throughput sweeps (cmd_sweep.cpp)
void add_bench_command(CLI::App& root, int& exit_code);    // bench engine (GPU; cmd_bench.cpp)
void add_importance_command(CLI::App& root, int& exit_code);  // leave-one-out layer importance (native engine)

// Shared option helpers.
// --db PATH with the default ./hybench.db
CLI::Option* add_db_option(CLI::App& app, std::string& db_path);

}  // namespace hb::cli
