#include "harness/base/strings.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hb {
namespace {

TEST(Strings, DidYouMeanSuggestsCloseNames) {
  EXPECT_EQ(did_you_mean("gsm8kk", {"gsm8k", "math500", "aime24"}), "did you mean 'gsm8k'?");
  EXPECT_EQ(did_you_mean("evl", {"eval", "sweep", "report"}), "did you mean 'eval'?");
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"eval", "sweep"}), "");
}

TEST(Strings, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
}

TEST(Strings, SplitTrimJoin) {
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
}

TEST(Strings, SanitizeUtf8ReplacesInvalidBytes) {
  EXPECT_EQ(sanitize_utf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(sanitize_utf8("bad \xFF!"), "bad \xEF\xBF\xBD!");
  EXPECT_EQ(sanitize_utf8("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  // Surrogates and overlong 3/4-byte forms are not UTF-8 either: nlohmann::json refuses to dump them (a model
  // that streams one would have made storing its completion throw), so every byte of them is replaced.
  for (const std::string bad : {"\xED\xA0\x80", "\xE0\x80\xAF", "\xF0\x80\x80\xAF", "\xF4\x90\x80\x80"}) {
    const std::string clean = sanitize_utf8("a" + bad + "b");
    std::string want = "a";
    for (size_t i = 0; i < bad.size(); ++i) want += "\xEF\xBF\xBD";
    EXPECT_EQ(clean, want + "b");
    EXPECT_NO_THROW(nlohmann::json(clean).dump());
    EXPECT_THROW(nlohmann::json("a" + bad + "b").dump(), nlohmann::json::exception);
  }
}

TEST(Strings, Utf8CompletePrefixStopsBeforeASplitCharacter) {
  std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(utf8_complete_prefix("a" + euro), 4u);
  EXPECT_EQ(utf8_complete_prefix("a" + euro.substr(0, 2)), 1u);
  EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
}

}  // namespace
}  // namespace hb
