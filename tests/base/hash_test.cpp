#include "harness/base/hash.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hb {
namespace {

TEST(Hash, Sha256KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, JsonHashIgnoresKeyOrder) {
  auto a = nlohmann::json::parse(R"({"x":1,"y":[1,2]})");
  auto b = nlohmann::json::parse(R"({"y":[1,2],"x":1})");
  EXPECT_EQ(json_hash(a), json_hash(b));
  EXPECT_NE(json_hash(a), json_hash(nlohmann::json::parse(R"({"x":2,"y":[1,2]})")));
}

}  // namespace
}  // namespace hb
