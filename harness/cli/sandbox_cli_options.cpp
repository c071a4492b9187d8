#include "harness/cli/sandbox_cli_options.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace hb::cli {
namespace {

std::string with_default(const char* what, double value, const char* unit) {
  char buf[48];
  std::snprintf(buf, sizeof buf, " [default: %g%s%s]", value, *unit ? " " : "", unit);
  return std::string(what) + buf;
}

// CLI11's PositiveNumber prints the whole double range on error; this says what is wrong in one line.
const CLI::Validator kPositive(
    [](std::string& text) {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      return end != text.c_str() && *end == '\0' && v > 0 && v < 1e15 ? std::string()
                                                                       : "must be a positive number, got '" + text + "'";
    },
    "POSITIVE");

void add_mib(CLI::App* app, const char* name, size_t& bytes, const char* what) {
  app->add_option_function<double>(
         name, [&bytes](double mib) { bytes = static_cast<size_t>(mib * (1 << 20)); },
         with_default(what, static_cast<double>(bytes) / (1 << 20), "MiB"))
      ->check(kPositive);
}

}  // namespace

void add_sandbox_options(CLI::App* app, sandbox::SandboxOptions& o) {
  sandbox::SandboxLimits& l = o.limits;
  app->add_option("--sandbox-wall-s", l.wall_s, with_default("MBPP: wall-clock seconds per program (the suite's own limit applies when lower)", l.wall_s, "s"))
      ->check(kPositive);
  app->add_option("--sandbox-cpu-s", l.cpu_s, with_default("MBPP: CPU seconds per process of a program", l.cpu_s, "s"))
      ->check(kPositive);
  add_mib(app, "--sandbox-memory-mb", l.memory_bytes, "MBPP: address space per process");
  app->add_option("--sandbox-processes", l.processes, with_default("MBPP: processes and threads of one program at once", l.processes, ""))
      ->check(kPositive);
  add_mib(app, "--sandbox-file-size-mb", l.file_size_bytes, "MBPP: largest file a program may write");
  add_mib(app, "--sandbox-tmpfs-mb", l.tmpfs_bytes, "MBPP: size of the program's private /tmp (its only writable place)");
  add_mib(app, "--sandbox-output-mb", l.output_bytes, "MBPP: stdout + stderr read before a program is killed");
  app->add_option("--sandbox-python", o.python, "MBPP: the Python interpreter run in the sandbox [default: /usr/bin/python3]");
  app->add_option("--sandbox-bwrap", o.bwrap, "MBPP: the bubblewrap executable [default: /usr/bin/bwrap]");
  app->add_flag("--unsafe-no-sandbox", o.unsafe_no_sandbox,
                "MBPP: run model-written programs WITHOUT isolation (rlimits only) where bubblewrap cannot work");
}

}  // namespace hb::cli
