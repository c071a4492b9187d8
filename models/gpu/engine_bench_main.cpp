// hb_engine_bench: the body of `hybench bench engine` without the rest of the CLI (for GPU machines where
// only the engine targets are built). Usage:
//   hb_engine_bench MODEL[,MODEL...] IN:OUT [BATCH|max] [JSON] [REAL_OUT]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "models/gpu/engine_bench.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL[,MODEL...] IN:OUT [BATCH|max] [JSON] [REAL_OUT]\n", argv[0]);
    return 2;
  }
  try {
    hb::models::gpu::EngineBenchOptions o;
    for (auto& m : hb::split(argv[1], ',')) o.models.push_back(m);
    std::string shape = argv[2];
    o.in = std::stoll(shape.substr(0, shape.find(':')));
    o.out = std::stoll(shape.substr(shape.find(':') + 1));
    if (argc > 3 && std::string(argv[3]) != "max") o.batch = std::stoi(argv[3]);
    if (argc > 5) o.real_out = std::stoll(argv[5]);
    auto r = hb::models::gpu::run_engine_bench(o, std::cerr);
    if (argc > 4) std::ofstream(argv[4]) << r.dump(2) << "\n";
    std::fputs(hb::models::gpu::format_engine_bench(r).c_str(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  }
  return 0;
}
