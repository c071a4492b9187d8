#pragma once
// Option handling shared by every subcommand: unknown options with a did-you-mean whatever else is wrong
// with the command line (CLI11 reports a missing required --model before it reports --modle), and
// `--model http(s)://...` read as an openai: backend.
#include <string>

#include <CLI/CLI.hpp>

namespace hb::cli {

// "unknown option '--modle'; did you mean '--model'? (see `hybench eval --help`)" for the first option that
// neither the root nor the chosen subcommands know; "" when every option is known.
std::string unknown_option_message(const CLI::App& root, int argc, const char* const* argv);

// A backend spec as typed: "http://host:8000/v1" becomes "openai:http://host:8000/v1", with a note on
// stderr naming the option; anything else is returned unchanged.
std::string http_url_as_openai(const std::string& option, const std::string& spec);

}  // namespace hb::cli
