#include <gtest/gtest.h>

#include "harness/base/error.h"
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

}  // namespace
}  // namespace hb::models
