#pragma once
// Memory-mapped safetensors reader: one file, or a sharded checkpoint through model.safetensors.index.json.
// Every header entry is validated (dtype, shape, offsets against the file size) when the file is opened,
// so a corrupt or truncated file fails with a message that names the file and the tensor. No LibTorch.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hb::models {

enum class WeightDType { f32, f16, bf16 };
const char* weight_dtype_name(WeightDType d);
int weight_dtype_bytes(WeightDType d);

struct TensorView {
  std::string name;
  WeightDType dtype = WeightDType::f32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapping; valid while the owning file lives
  size_t nbytes = 0;
  std::string file;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // maps and validates; throws Error{data|io|not_found}
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void parse_header();  // the header's tensors into tensors_ (the file is mapped); throws Error{data}
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorView> tensors_;
};

// All tensors of a checkpoint directory (model.safetensors, or the shards of the index).
class WeightStore {
 public:
  static std::unique_ptr<WeightStore> open_dir(const std::string& dir);
  const TensorView* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

// Writes a safetensors file (used by tests and tools to make small checkpoints). `data` holds the raw bytes.
struct TensorToWrite {
  std::string name;
  WeightDType dtype;
  std::vector<int64_t> shape;
  std::string data;
};
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors);

}  // namespace hb::models
