#include "harness/base/environment.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "harness/base/strings.h"

#ifndef HYBENCH_GIT_SHA
#define HYBENCH_GIT_SHA "unknown"
#endif
#ifndef HYBENCH_BUILD_TYPE
#define HYBENCH_BUILD_TYPE "unknown"
#endif

namespace hb {
namespace {
std::mutex g_extra_mutex;
nlohmann::json& extra_fields() {
  static nlohmann::json j = nlohmann::json::object();
  return j;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, "model name")) {
      auto pos = line.find(':');
      if (pos != std::string::npos) return std::string(trim(line.substr(pos + 1)));
    }
  }
  return "";
}

// nvidia-smi is optional: a missing binary or no GPU leaves the fields out.
void add_gpu_fields(nlohmann::json& env) {
  FILE* p = popen("nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null", "r");
  if (!p) return;
  char buf[512];
  nlohmann::json gpus = nlohmann::json::array();
  while (std::fgets(buf, sizeof buf, p)) {
    auto parts = split(trim(buf), ',');
    if (parts.size() >= 3) {
      gpus.push_back({{"name", std::string(trim(parts[0]))},
                      {"driver", std::string(trim(parts[1]))},
                      {"memory", std::string(trim(parts[2]))}});
    }
  }
  pclose(p);
  if (!gpus.empty()) env["gpus"] = gpus;
}
}  // namespace

void add_environment_field(const std::string& key, nlohmann::json value) {
  std::lock_guard<std::mutex> lock(g_extra_mutex);
  extra_fields()[key] = std::move(value);
}

std::string build_git_sha() { return HYBENCH_GIT_SHA; }
std::string build_type() { return HYBENCH_BUILD_TYPE; }

nlohmann::json collect_environment() {
  nlohmann::json env;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) env["host"] = host;
  struct utsname u {};
  if (uname(&u) == 0) env["os"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  std::string cpu = cpu_model();
  if (!cpu.empty()) env["cpu"] = cpu;
  env["cpu_cores"] = std::thread::hardware_concurrency();
  add_gpu_fields(env);
  env["build_type"] = build_type();
  env["hybench_git_sha"] = build_git_sha();
  std::lock_guard<std::mutex> lock(g_extra_mutex);
  for (auto& [k, v] : extra_fields().items()) env[k] = v;
  return env;
}

}  // namespace hb
