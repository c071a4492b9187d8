// The switch for programmatic dependent launch (pdl.cuh, hb_cuda.h): off unless HYBENCH_CUDA_PDL=1.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/hb_cuda.h"

namespace hb::cuda {
namespace {

std::atomic<bool>& pdl_switch() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("HYBENCH_CUDA_PDL");
    return v && std::strcmp(v, "1") == 0;
  }()};
  return on;
}

}  // namespace

void set_programmatic_launch(bool on) { pdl_switch().store(on); }
bool programmatic_launch() { return pdl_switch().load(); }

}  // namespace hb::cuda
