#pragma once
// Runs one request through an Engine and waits for its result (the engine tests' blocking helper).
#include <future>

#include "models/engine.h"

namespace hb::models::testing {

inline EngineResult run(Engine& e, EngineRequest r) {
  std::promise<EngineResult> p;
  auto f = p.get_future();
  r.on_done = [&p](EngineResult res) { p.set_value(std::move(res)); };
  e.submit(std::move(r));
  return f.get();
}

}  // namespace hb::models::testing
