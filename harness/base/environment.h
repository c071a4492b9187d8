#pragma once
// What a run records about where it ran: host, CPU, GPU, driver, LibTorch version, build type, git sha.
#include <nlohmann/json.hpp>

namespace hb {

// Collects the environment. Fields that cannot be read are left out, never guessed. The engine fills in
// its own fields (LibTorch version, kernels in use) through add_environment_field.
nlohmann::json collect_environment();
void add_environment_field(const std::string& key, nlohmann::json value);
// Git sha of the source tree hybench was built from (compiled in), "unknown" otherwise.
std::string build_git_sha();
std::string build_type();

}  // namespace hb
