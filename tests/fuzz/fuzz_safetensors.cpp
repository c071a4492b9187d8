// The safetensors reader (header JSON, dtypes, shapes, offsets against the file size) on arbitrary
// files: a clean hb::Error or a valid set of tensors whose bytes lie inside the file. The bytes go
// through a memfd because the reader maps a path. No LibTorch is involved.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/base/error.h"
#include "models/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("hb_fuzz_safetensors", 0);
  if (fd < 0) std::abort();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    hb::models::SafetensorsFile file(path);
    for (const auto& [name, t] : file.tensors()) {
      if (t.nbytes != static_cast<size_t>(t.numel()) * static_cast<size_t>(hb::models::weight_dtype_bytes(t.dtype)))
        std::abort();
      if (t.nbytes > 0) {
        volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];  // ASan checks they are mapped
        (void)first;
        (void)last;
      }
    }
  } catch (const hb::Error&) {
  }
  return 0;
}
