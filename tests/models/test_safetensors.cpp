#include <gtest/gtest.h>

#include <sstream>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "models/safetensors.h"
#include "tests/models/engine_test_util.h"

namespace hb::models {
namespace {

TEST(Safetensors, ShardedIndexResolvesEveryTensor) {
  auto store = WeightStore::open_dir(testing::engine_data("mistral-tiny"));
  auto names = store->names();
  EXPECT_EQ(names.size(), 3u + 2 * 9);
  const TensorView* e = store->find("model.embed_tokens.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{320, 32}));
  EXPECT_EQ(e->dtype, WeightDType::f32);
}

TEST(Safetensors, MissingDirectoryAndBadDtype) {
  EXPECT_THROW(WeightStore::open_dir("/nonexistent/dir"), Error);
  std::string path = ::testing::TempDir() + "/bad_dtype.safetensors";
  std::string header = R"({"x":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header + "ab";
  write_file(path, bytes);
  try {
    SafetensorsFile f(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("dtype I8"), std::string::npos) << e.message();
  }
}

// Lines of /proc/self/maps that map `path` (matched by file name: the kernel prints the path normalised).
int mappings_of(const std::string& path) {
  const std::string name = path.substr(path.rfind('/') + 1);
  std::istringstream maps(read_file("/proc/self/maps"));
  int n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find("/" + name) != std::string::npos ? 1 : 0;
  return n;
}

TEST(Safetensors, ARefusedFileLeavesNoMappingBehind) {
  // The file is mapped before its header is checked: each refusal must unmap it (a checkpoint directory
  // scanned by a long-lived process, or the fuzzer, would otherwise pile up mappings).
  const std::string path = ::testing::TempDir() + "/refused_header.safetensors";
  const std::string header = R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,9]}})";  // 16 bytes needed
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  write_file(path, bytes + header + std::string(16, 'a'));
  for (int i = 0; i < 50; ++i) EXPECT_THROW(SafetensorsFile{path}, Error);
  // Wrong JSON types in an entry are the same clean error (fuzz_safetensors: a string where an array goes).
  for (const std::string bad : {R"({"x":{"dtype":"F32","shape":"4","data_offsets":[0,16]}})",
                                R"({"x":{"dtype":7,"shape":[4],"data_offsets":[0,16]}})",
                                R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,"16"]}})"}) {
    std::string b(8, '\0');
    b[0] = static_cast<char>(bad.size());
    write_file(path, b + bad + std::string(16, 'a'));
    EXPECT_THROW(SafetensorsFile{path}, Error) << bad;
  }
  EXPECT_EQ(mappings_of(path), 0);
  // And a file that loads stays mapped exactly while it is open.
  const std::string good = ::testing::TempDir() + "/good_header.safetensors";
  const std::string ok = R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  std::string good_bytes(8, '\0');
  good_bytes[0] = static_cast<char>(ok.size());
  write_file(good, good_bytes + ok + std::string(16, 'a'));
  {
    SafetensorsFile f(good);
    EXPECT_EQ(mappings_of(good), 1);
  }
  EXPECT_EQ(mappings_of(good), 0);
}

}  // namespace
}  // namespace hb::models
