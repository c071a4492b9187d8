// Finds and opens libhybench_engine.so (models/engine_module.h). No LibTorch here: this file is part of the
// torch-free engine core that the hybench executable links.
#include "models/engine_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "harness/base/console.h"
#include "harness/base/environment.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "models/gpu/engine_bench.h"

// Defined only where the implementation is linked in (test programs linking hb_engine, and the module
// itself); null in the hybench executable, which then opens the module file.
extern "C" const hb::models::EngineModule* hb_engine_module_v1(const char*, char*, unsigned) __attribute__((weak));

namespace hb::models {
namespace {

using EntryFn = const EngineModule* (*)(const char*, char*, unsigned);
constexpr const char* kModuleFile = "libhybench_engine.so";

std::string executable_dir() {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  std::string path(buf.data(), static_cast<size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// The places a module may be, in order; the environment variable, when set, is the only one.
std::vector<std::string> candidate_paths(bool& from_env) {
  if (const char* env = std::getenv("HYBENCH_ENGINE_MODULE"); env && *env) {
    from_env = true;
    return {env};
  }
  from_env = false;
  const std::string dir = executable_dir();
  if (dir.empty()) return {};
  return {dir + "/" + kModuleFile, dir + "/../lib/hybench/" + kModuleFile};
}

const EngineModule* handshake(EntryFn entry, const std::string& where) {
  const std::string mine = engine_module_abi_stamp();
  char theirs[512] = {0};
  const EngineModule* module = entry(mine.c_str(), theirs, sizeof theirs);
  if (module) return module;
  throw Error(ErrorCode::config, where + " comes from another build of hybench (its interface stamp '" +
                                     std::string(theirs) + "' is not this program's '" + mine +
                                     "'); rebuild both together (scripts/setup.sh) or point HYBENCH_ENGINE_MODULE "
                                     "at the module built with this hybench");
}

const EngineModule* load_module() {
  if (hb_engine_module_v1 != nullptr) return handshake(hb_engine_module_v1, "the linked-in engine");
  bool from_env = false;
  const auto paths = candidate_paths(from_env);
  for (const auto& path : paths) {
    if (!file_exists(path)) {
      if (from_env)
        throw Error(ErrorCode::config, "HYBENCH_ENGINE_MODULE='" + path + "': no such file; unset it to use the " +
                                           kModuleFile + " built beside hybench");
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      throw Error(ErrorCode::config, "cannot load the native engine module '" + path + "': " +
                                         (why ? why : "unknown error") +
                                         "; is LibTorch installed where it was when hybench was built?");
    }
    auto entry = reinterpret_cast<EntryFn>(dlsym(handle, "hb_engine_module_v1"));
    if (!entry) throw Error(ErrorCode::config, "'" + path + "' is not a hybench engine module (no hb_engine_module_v1)");
    return handshake(entry, "'" + path + "'");
  }
  throw Error(ErrorCode::config,
              std::string("the native engine is not installed: ") + kModuleFile + " was not found (looked at " +
                  (paths.empty() ? std::string("nothing: /proc/self/exe is unreadable") : join(paths, ", ")) +
                  "); build hybench with LibTorch (scripts/setup.sh installs libtorch-dev), set "
                  "HYBENCH_ENGINE_MODULE to the module's path, or use an openai: endpoint");
}

}  // namespace

std::string engine_module_abi_stamp() {
  // Both sides compile this function from the same tree: any change to the types that cross the boundary,
  // the compiler or the commit shows up here.
  return fmt::format("v{} {} gcc{}.{} s{} j{} mo{} mc{} ld{} sc{} row{} tok{} eb{}", kEngineModuleAbi, build_git_sha(),
                     __GNUC__, __GNUC_MINOR__, sizeof(std::string), sizeof(nlohmann::json), sizeof(ModelOptions),
                     sizeof(ModelConfig), sizeof(LayerDrops), sizeof(SamplerConfig), sizeof(StepRow),
                     sizeof(SampledToken), sizeof(gpu::EngineBenchOptions));
}

const EngineModule& engine_module() {
  static std::once_flag once;
  static const EngineModule* module = nullptr;
  static std::string failure;
  static ErrorCode failure_code = ErrorCode::config;
  std::call_once(once, [] {
    try {
      module = load_module();
    } catch (const Error& e) {
      failure = e.message();
      failure_code = e.code();
    }
  });
  if (!module) throw Error(failure_code, failure);
  module->set_log_level(static_cast<int>(Console::get().level()));
  return *module;
}

void check_device_name(const std::string& device) {
  if (device == "cpu" || device == "cuda" || device == "auto") return;
  const std::string hint = did_you_mean(device, {"cpu", "cuda", "auto"});
  throw Error(ErrorCode::usage, "device '" + device + "' is not cpu, cuda or auto" + (hint.empty() ? "" : "; " + hint));
}

bool engine_module_available() {
  if (hb_engine_module_v1 != nullptr) return true;
  bool from_env = false;
  for (const auto& path : candidate_paths(from_env))
    if (file_exists(path)) return true;
  return false;
}

}  // namespace hb::models
