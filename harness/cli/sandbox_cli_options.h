#pragma once
// The MBPP sandbox's options, shared by eval, score and run: one --sandbox-* option per limit, and
// --unsafe-no-sandbox for machines where no isolation is possible.
#include <CLI/CLI.hpp>

#include "harness/sandbox/sandbox_options.h"

namespace hb::cli {

void add_sandbox_options(CLI::App* app, sandbox::SandboxOptions& options);

}  // namespace hb::cli
