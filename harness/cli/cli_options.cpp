#include "harness/cli/cli_options.h"

#include <cstdio>
#include <vector>

#include "harness/base/strings.h"

namespace hb::cli {

std::string unknown_option_message(const CLI::App& root, int argc, const char* const* argv) {
  std::vector<const CLI::App*> chain{&root};
  auto known = [&](const std::string& name, std::vector<std::string>& all) {
    bool found = false;
    for (const CLI::App* app : chain)
      for (const CLI::Option* opt : app->get_options())
        for (const auto& l : opt->get_lnames()) {
          all.push_back("--" + l);
          found = found || "--" + l == name;
        }
    return found;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;  // everything after it is positional
    if (starts_with(arg, "--")) {
      std::string name = arg.substr(0, arg.find('='));
      std::vector<std::string> all;
      if (known(name, all)) continue;
      std::string hint = did_you_mean(name, all);
      std::string where = "hybench";
      for (size_t k = 1; k < chain.size(); ++k) where += " " + chain[k]->get_name();
      return "unknown option '" + name + "'" + (hint.empty() ? "" : "; " + hint) + " (see `" + where + " --help`)";
    }
    if (!starts_with(arg, "-")) {
      const CLI::App* sub = nullptr;
      for (const CLI::App* s : chain.back()->get_subcommands([](const CLI::App*) { return true; }))
        if (s->get_name() == arg) sub = s;
      if (sub) chain.push_back(sub);
    }
  }
  return "";
}

std::string http_url_as_openai(const std::string& option, const std::string& spec) {
  if (!starts_with(spec, "http://") && !starts_with(spec, "https://")) return spec;
  std::fprintf(stderr, "hybench: note: %s %s taken as openai:%s (an OpenAI-compatible server)\n", option.c_str(),
               spec.c_str(), spec.c_str());
  return "openai:" + spec;
}

}  // namespace hb::cli
