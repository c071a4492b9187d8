// make_engine(spec, ...): the executor comes from the engine module (models/engine_module.h), which picks
// the device; the engine loop itself (engine.cpp) needs no LibTorch.
#include "models/engine.h"
#include "models/engine_module.h"

namespace hb::models {

std::unique_ptr<Engine> make_engine(const std::string& spec, const EngineOptions& options, const ModelOptions& model_options) {
  check_device_name(model_options.device.empty() ? "auto" : model_options.device);
  return make_engine(engine_module().make_executor(spec, model_options, options.max_batch), options);
}

}  // namespace hb::models
