#pragma once
// Turns a --model SPEC into a backend:
//   openai:URL[,URL...]     any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, hybench serve);
//                           several URLs = replicas, balanced by least outstanding requests
//   native:PATH             hybench's engine on an HF checkpoint directory
//   native:preset:NAME      hybench's engine on a seeded random-weight preset
//   launch:CMD              starts CMD (a server), waits until healthy at launch_url, talks to it as
//                           openai:launch_url, and stops it when the backend is destroyed
#include <memory>
#include <string>
#include <vector>

#include "harness/backends/backend.h"

namespace hb {

struct BackendOptions {
  std::string model_name;          // sent as "model"; default: derived from the spec
  int max_in_flight = 64;
  std::string api_key_env = "OPENAI_API_KEY";
  double connect_timeout_s = 10;
  double idle_timeout_s = 300;
  int max_attempts = 4;
  bool stream = true;
  std::string device;              // native: "cpu", "cuda" ("" = best available)
  std::string launch_url;          // launch: the server's base URL with /v1
  std::string launch_log_path = "hybench-server.log";  // launch: stdout + stderr of the server
  double launch_timeout_s = 600;   // launch: seconds to wait until it is healthy
};

std::unique_ptr<Backend> make_backend(const std::string& spec, const BackendOptions& options);
// Checks a spec without creating anything (no server started, no weights loaded): the kind, every URL
// (scheme, host, port), a launch command and its URL. For validating a whole study before it runs.
void check_backend_spec(const std::string& spec, const BackendOptions& options);
// The spec kinds, for help text and suggestions.
std::vector<std::string> backend_kinds();
// A display name for a spec when the user gave none ("openai:http://h:8000/v1" -> "h:8000").
std::string default_model_name(const std::string& spec);

}  // namespace hb
