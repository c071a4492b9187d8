// Tokenizer parity with HF `tokenizers` (golden ids from tests/tools/make_tokenizer_goldens.py), round
// trips on every suite prompt, incremental detokenisation and bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "models/tokenizer.h"

namespace hb::models {
namespace {

std::string tok_data(const std::string& rel) { return std::string(HB_TEST_DATA_DIR) + "/tokenizer/" + rel; }

const nlohmann::json& golden() {
  static const nlohmann::json j = read_json_file(tok_data("golden_ids.json"));
  return j;
}

void expect_golden(const Tokenizer& tok, const std::string& key) {
  const auto& strings = golden()["strings"];
  const auto& ids = golden()["ids"][key];
  ASSERT_EQ(strings.size(), ids.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    std::string s = strings[i].get<std::string>();
    auto got = tok.encode(s);
    EXPECT_EQ(got, ids[i].get<std::vector<int32_t>>()) << key << " string #" << i << ": " << s;
    EXPECT_EQ(tok.decode(got), s) << key << " round trip #" << i;
  }
}

TEST(Tokenizer, TekkenPatternMatchesReference) {
  auto tok = Tokenizer::from_file(tok_data("tekken-small/tokenizer.json"));
  EXPECT_EQ(tok->kind(), "bpe-tekken");
  expect_golden(*tok, "tekken-small");
}

TEST(Tokenizer, Llama3PatternWithIgnoreMergesMatchesReference) {
  auto tok = Tokenizer::from_file(tok_data("llama3-small/tokenizer.json"));
  EXPECT_EQ(tok->kind(), "bpe-llama3");
  expect_golden(*tok, "llama3-small");
}

// The real Mistral-Nemo tokenizer (17 MB, not committed): set HB_TEKKEN_TOKENIZER to its tokenizer.json.
TEST(Tokenizer, FullMistralNemoTekkenWhenAvailable) {
  const char* path = std::getenv("HB_TEKKEN_TOKENIZER");
  if (!path || !golden()["ids"].contains("tekken-full")) GTEST_SKIP() << "HB_TEKKEN_TOKENIZER not set";
  auto tok = Tokenizer::from_file(path);
  expect_golden(*tok, "tekken-full");
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
}

TEST(Tokenizer, RoundTripsEverySuitePrompt) {
  auto tok = Tokenizer::from_file(tok_data("tekken-small/tokenizer.json"));
  std::string root = HB_TEST_DATASETS_DIR;
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no datasets at " << root;
  size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".jsonl") continue;
    for_each_jsonl(entry.path().string(), [&](size_t line, const nlohmann::json& j) {
      for (const char* field : {"question", "problem", "text", "prompt", "Question", "turns"}) {
        if (!j.contains(field)) continue;
        std::string s = j[field].is_string() ? j[field].get<std::string>() : j[field].dump();
        ASSERT_EQ(tok->decode(tok->encode(s, false)), s) << entry.path() << ":" << line;
        ++checked;
      }
    });
  }
  EXPECT_GT(checked, 100u);
}

TEST(Tokenizer, IncrementalDetokenizerNeverSplitsACharacter) {
  auto tok = Tokenizer::byte_level(320);
  std::string text = "héllo 中文 🙂!";
  auto ids = tok->encode(text);
  EXPECT_EQ(ids.size(), text.size());  // one id per byte
  IncrementalDetokenizer detok(*tok);
  std::string all;
  for (auto id : ids) {
    std::string chunk = detok.push(id);
    EXPECT_EQ(sanitize_utf8(chunk), chunk) << "broken UTF-8 in a streamed chunk";
    all += chunk;
  }
  all += detok.flush();
  EXPECT_EQ(all, text);
  EXPECT_EQ(tok->encode("<s>hi</s>"), (std::vector<int32_t>{1, 3 + 'h', 3 + 'i', 2}));
}

TEST(Tokenizer, UnsupportedFilesFailWithTheirName) {
  std::string dir = ::testing::TempDir();
  auto j = read_json_file(tok_data("tekken-small/tokenizer.json"));
  j["model"]["type"] = "Unigram";
  write_file(dir + "/unigram.json", j.dump());
  try {
    Tokenizer::from_file(dir + "/unigram.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unsupported tokenizer model type 'Unigram'"), std::string::npos) << e.message();
  }
  j = read_json_file(tok_data("tekken-small/tokenizer.json"));
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  write_file(dir + "/regex.json", j.dump());
  EXPECT_THROW(Tokenizer::from_file(dir + "/regex.json"), Error);
  EXPECT_THROW(Tokenizer::from_file(dir + "/missing.json"), Error);
}

}  // namespace
}  // namespace hb::models
