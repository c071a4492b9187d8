#include "harness/backends/backend_factory.h"

#include "harness/base/error.h"
#include "harness/base/redact.h"
#include "harness/base/strings.h"
#include "harness/load/launched_backend.h"
#include "harness/openai/openai_backend.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "harness/backends/native_backend.h"
#endif

namespace hb {

std::vector<std::string> backend_kinds() { return {"openai", "native", "launch"}; }

std::string default_model_name(const std::string& spec) {
  auto colon = spec.find(':');
  std::string rest = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (starts_with(spec, "openai:")) {
    rest = split(rest, ',').front();
    if (auto p = rest.find("://"); p != std::string::npos) rest = rest.substr(p + 3);
    if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);  // never the credentials
  } else if (starts_with(spec, "launch:")) {
    // The program's name: "launch:vllm serve m --port 8000" -> "vllm".
    rest = split(std::string(trim(rest)), ' ').front();
    if (auto slash = rest.find_last_of('/'); slash != std::string::npos) rest = rest.substr(slash + 1);
  } else if (starts_with(rest, "preset:")) {
    rest = rest.substr(7);
  } else if (auto slash = rest.find_last_of('/'); slash != std::string::npos && slash + 1 < rest.size()) {
    rest = rest.substr(slash + 1);
  }
  return rest;
}

void check_backend_spec(const std::string& spec, const BackendOptions& options) {
  auto colon = spec.find(':');
  std::string kind = colon == std::string::npos ? spec : spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "openai") {
    bool any = false;
    for (const auto& url : split(rest, ',')) {
      std::string u(trim(url));
      if (u.empty()) continue;
      any = true;
      openai::check_base_url(u);
    }
    if (!any) throw Error(ErrorCode::usage, "--model '" + redact_credentials(spec) + "' names no URL; use openai:http://HOST:PORT/v1");
    return;
  }
  if (kind == "launch") {
    if (rest.empty()) throw Error(ErrorCode::usage, "--model launch: names no command; use launch:'CMD ARGS'");
    if (options.launch_url.empty())
      throw Error(ErrorCode::usage, "--model launch:CMD needs --launch-url URL (the server's base URL with /v1)");
    openai::check_base_url(options.launch_url);
    return;
  }
  if (kind == "native" && !rest.empty()) return;  // the engine checks the path or preset when it loads it
  std::string hint = did_you_mean(kind, backend_kinds());
  throw Error(ErrorCode::usage, "--model '" + redact_credentials(spec) + "': unknown backend kind '" + kind + "'" +
                                    (hint.empty() ? "" : "; " + hint) +
                                    "; use openai:URL, native:PATH, native:preset:NAME or launch:CMD");
}

std::unique_ptr<Backend> make_backend(const std::string& spec, const BackendOptions& options) {
  auto colon = spec.find(':');
  std::string kind = colon == std::string::npos ? spec : spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "openai") {
    openai::OpenAiOptions o;
    for (const auto& url : split(rest, ',')) {
      std::string u(trim(url));
      if (u.empty()) continue;
      if (!starts_with(u, "http://") && !starts_with(u, "https://"))
        throw Error(ErrorCode::usage, "--model '" + redact_credentials(spec) + "': URL '" + redact_credentials(u) +
                                          "' must start with http:// or https:// (e.g. openai:http://127.0.0.1:8000/v1)");
      openai::check_base_url(u);
      while (!u.empty() && u.back() == '/') u.pop_back();
      o.base_urls.push_back(u);
    }
    if (o.base_urls.empty())
      throw Error(ErrorCode::usage, "--model '" + redact_credentials(spec) + "' names no URL; use openai:http://HOST:PORT/v1");
    o.model_name = options.model_name.empty() ? default_model_name(spec) : options.model_name;
    o.api_key_env = options.api_key_env;
    o.max_in_flight = options.max_in_flight;
    o.connect_timeout_s = options.connect_timeout_s;
    o.idle_timeout_s = options.idle_timeout_s;
    o.max_attempts = options.max_attempts;
    o.stream = options.stream;
    return openai::make_openai_backend(o);
  }
  if (kind == "launch") {
    if (rest.empty()) throw Error(ErrorCode::usage, "--model launch: names no command; use launch:'CMD ARGS'");
    if (options.launch_url.empty())
      throw Error(ErrorCode::usage, "--model launch:CMD needs --launch-url URL (the server's base URL with /v1)");
    load::LaunchOptions lo;
    lo.command = rest;
    lo.url = options.launch_url;
    lo.log_path = options.launch_log_path;
    lo.ready_timeout_s = options.launch_timeout_s;
    auto server = std::make_unique<load::LaunchedServer>(lo);
    server->start();
    BackendOptions inner_options = options;
    if (inner_options.model_name.empty()) inner_options.model_name = default_model_name("openai:" + options.launch_url);
    auto inner = make_backend("openai:" + options.launch_url, inner_options);
    return load::make_launched_backend(std::move(server), std::move(inner));
  }
  if (kind == "native") {
#ifdef HYBENCH_HAVE_ENGINE
    NativeOptions n;
    n.device = options.device;
    n.max_in_flight = options.max_in_flight;
    n.model_name = options.model_name;
    return make_native_backend(rest, n);
#else
    throw Error(ErrorCode::usage, "--model '" + spec + "': this hybench was built without the native engine (LibTorch "
                                  "not found); install libtorch-dev and rebuild, or use an openai: endpoint");
#endif
  }
  std::string hint = did_you_mean(kind, backend_kinds());
  throw Error(ErrorCode::usage, "--model '" + spec + "': unknown backend kind '" + kind + "'" +
                                    (hint.empty() ? "" : "; " + hint) +
                                    "; use openai:URL, native:PATH, native:preset:NAME or launch:CMD");
}

}  // namespace hb
