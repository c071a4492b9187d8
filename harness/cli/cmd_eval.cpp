#include "harness/cli/commands.h"
namespace hb::cli {
void add_eval_command(CLI::App&, int&) {}
void add_report_command(CLI::App&, int&) {}
void add_datasets_command(CLI::App&, int&) {}
}
