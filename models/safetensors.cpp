#include "models/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/base/error.h"
#include "harness/base/files.h"

namespace hb::models {
namespace {

Error data_error(const std::string& path, const std::string& what) {
  return Error(ErrorCode::data, "corrupt safetensors file '" + path + "': " + what +
                                    "; re-download or re-export the checkpoint");
}

WeightDType parse_dtype(const std::string& s, const std::string& path, const std::string& tensor) {
  if (s == "F32") return WeightDType::f32;
  if (s == "F16") return WeightDType::f16;
  if (s == "BF16") return WeightDType::bf16;
  throw Error(ErrorCode::data, "'" + path + "': tensor '" + tensor + "' has dtype " + s +
                                   "; supported: F32, F16, BF16 (convert the checkpoint)");
}

}  // namespace

const char* weight_dtype_name(WeightDType d) {
  switch (d) {
    case WeightDType::f32: return "F32";
    case WeightDType::f16: return "F16";
    case WeightDType::bf16: return "BF16";
  }
  return "?";
}

int weight_dtype_bytes(WeightDType d) { return d == WeightDType::f32 ? 4 : 2; }

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(ErrorCode::not_found, "cannot open safetensors file '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(ErrorCode::io, "cannot stat '" + path + "'");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw data_error(path, "file is " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");
  }
  map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw Error(ErrorCode::io, "cannot mmap '" + path + "': " + std::strerror(errno));
  }
  // The destructor does not run when the constructor throws: unmap here, or every refused file leaks its
  // mapping (found by the fuzzer, whose rate fell as tens of thousands of mappings piled up).
  try {
    parse_header();
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    tensors_.clear();
    throw;
  }
}

void SafetensorsFile::parse_header() {
  const std::string& path = path_;
  const auto* base = static_cast<const uint8_t*>(map_);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > 100u * 1024 * 1024 || header_len > size_ - 8) {
    throw data_error(path, "header length " + std::to_string(header_len) + " exceeds the file size " +
                               std::to_string(size_) + " (truncated file?)");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + header_len));
  } catch (const std::exception& e) {
    throw data_error(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw data_error(path, "header is not a JSON object");
  const uint8_t* data = base + 8 + header_len;
  size_t data_size = size_ - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets")) {
      throw data_error(path, "entry '" + it.key() + "' lacks dtype/shape/data_offsets");
    }
    TensorView v;
    v.name = it.key();
    v.file = path;
    std::vector<uint64_t> off;
    try {
      v.dtype = parse_dtype(e["dtype"].get<std::string>(), path, v.name);
      v.shape = e["shape"].get<std::vector<int64_t>>();
      off = e["data_offsets"].get<std::vector<uint64_t>>();
    } catch (const nlohmann::json::exception&) {  // a string shape, a numeric dtype... (fuzz_safetensors)
      throw data_error(path, "entry '" + v.name + "' needs a string dtype and integer arrays shape and data_offsets: " +
                                 e.dump().substr(0, 200));
    }
    if (off.size() != 2 || off[0] > off[1]) throw data_error(path, "tensor '" + v.name + "' has bad data_offsets");
    for (auto s : v.shape) {
      if (s < 0) throw data_error(path, "tensor '" + v.name + "' has a negative dimension");
    }
    uint64_t expect = uint64_t(v.numel()) * weight_dtype_bytes(v.dtype);
    if (off[1] - off[0] != expect) {
      throw data_error(path, "tensor '" + v.name + "' spans " + std::to_string(off[1] - off[0]) + " bytes but its shape needs " +
                                 std::to_string(expect));
    }
    if (off[1] > data_size) {
      throw data_error(path, "tensor '" + v.name + "' ends at byte " + std::to_string(off[1]) + " past the data size " +
                                 std::to_string(data_size) + " (truncated file?)");
    }
    v.data = data + off[0];
    v.nbytes = expect;
    tensors_.emplace(v.name, std::move(v));
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}

std::unique_ptr<WeightStore> WeightStore::open_dir(const std::string& dir) {
  auto store = std::make_unique<WeightStore>();
  std::string index_path = dir + "/model.safetensors.index.json";
  std::vector<std::string> files;
  if (file_exists(index_path)) {
    auto idx = read_json_file(index_path);
    if (!idx.contains("weight_map") || !idx["weight_map"].is_object()) {
      throw Error(ErrorCode::data, "'" + index_path + "' has no weight_map object");
    }
    std::set<std::string> seen;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      std::string f = it.value().get<std::string>();
      if (seen.insert(f).second) files.push_back(f);
    }
    for (const auto& f : files) store->files_.push_back(std::make_unique<SafetensorsFile>(dir + "/" + f));
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      std::string f = dir + "/" + it.value().get<std::string>();
      const TensorView* found = nullptr;
      for (const auto& file : store->files_) {
        if (file->path() != f) continue;
        auto t = file->tensors().find(it.key());
        if (t != file->tensors().end()) found = &t->second;
      }
      if (!found) {
        throw Error(ErrorCode::data, "'" + index_path + "' maps tensor '" + it.key() + "' to '" + it.value().get<std::string>() +
                                         "' but that shard does not contain it");
      }
      store->index_[it.key()] = found;
    }
  } else if (file_exists(dir + "/model.safetensors")) {
    store->files_.push_back(std::make_unique<SafetensorsFile>(dir + "/model.safetensors"));
    for (const auto& [name, view] : store->files_.back()->tensors()) store->index_[name] = &view;
  } else {
    throw Error(ErrorCode::not_found, "no model.safetensors or model.safetensors.index.json in '" + dir + "'");
  }
  return store;
}

const TensorView* WeightStore::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<std::string> WeightStore::names() const {
  std::vector<std::string> out;
  for (const auto& [n, v] : index_) out.push_back(n);
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", weight_dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  for (const auto& t : tensors) out += t.data;
  write_file(path, out);
}

}  // namespace hb::models
