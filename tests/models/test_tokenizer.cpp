// Tokenizer parity with HF `tokenizers` (golden ids from tests/tools/make_tokenizer_goldens.py and, for the
// GPT-2-style byte-level tokenizers and post-processors, tests/tools/make_bytelevel_goldens.py; for normalizers
// and added-token flags, tests/tools/make_normalizer_goldens.py), round trips on every suite prompt,
// incremental detokenisation and bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "models/normalizer.h"
#include "models/pretokenizer.h"
#include "models/tokenizer.h"
#include "models/unicode_normalize.h"

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

const nlohmann::json& bytelevel_golden() {
  static const nlohmann::json j = read_json_file(std::string(HB_TEST_DATA_DIR) + "/engine/bytelevel_goldens.json");
  return j;
}

// `key` = "plain" (the checkpoint's tokenizer: ByteLevel use_regex=true, ByteLevel post-processor) or "bos"
// (add_prefix_space=true, Sequence[ByteLevel, TemplateProcessing "<s> $A </s>"]).
void expect_bytelevel_golden(const Tokenizer& tok, const std::string& key) {
  const auto& rows = bytelevel_golden()["tokenizer"];
  ASSERT_GE(rows.size(), 15u);
  for (const auto& row : rows) {
    const std::string s = row["text"].get<std::string>();
    const auto& g = row[key];
    auto with_special = tok.encode(s, /*parse_special=*/true, /*add_special_tokens=*/true);
    EXPECT_EQ(with_special, g["ids"].get<std::vector<int32_t>>()) << key << ": '" << s << "'";
    EXPECT_EQ(tok.encode(s, true, false), g["ids_no_special"].get<std::vector<int32_t>>()) << key << ": '" << s << "'";
    EXPECT_EQ(tok.decode(with_special), g["decoded"].get<std::string>()) << key << ": '" << s << "'";
  }
}

TEST(Tokenizer, Gpt2ByteLevelPreTokenizerMatchesReference) {
  auto tok = Tokenizer::from_file(std::string(HB_TEST_DATA_DIR) + "/engine/bytelevel-tiny/tokenizer.json");
  EXPECT_EQ(tok->kind(), "bpe-gpt2");
  expect_bytelevel_golden(*tok, "plain");
}

TEST(Tokenizer, PrefixSpaceAndTemplatePostProcessorMatchReference) {
  auto tok = Tokenizer::from_file(tok_data("gpt2-bos/tokenizer.json"));
  EXPECT_EQ(tok->special_prefix(), std::vector<int32_t>{1});
  EXPECT_EQ(tok->special_suffix(), std::vector<int32_t>{2});
  expect_bytelevel_golden(*tok, "bos");
}

// A post-processor that adds nothing (GPT-2's ByteLevel one, or none at all) means no BOS, even though the
// tokenizer has a BOS token: transformers' tokenizer(text) gives the bare ids.
TEST(Tokenizer, NoBosWhenThePostProcessorAddsNone) {
  auto tok = Tokenizer::from_file(std::string(HB_TEST_DATA_DIR) + "/engine/bytelevel-tiny/tokenizer.json");
  EXPECT_TRUE(tok->special_prefix().empty());
  EXPECT_TRUE(tok->special_suffix().empty());
  EXPECT_EQ(tok->encode("Hello", false, true), tok->encode("Hello", false, false));
  auto tekken = Tokenizer::from_file(tok_data("tekken-small/tokenizer.json"));  // post_processor: null
  EXPECT_EQ(tekken->bos_id(), 1);
  EXPECT_EQ(tekken->encode("Hello", false, true), tekken->encode("Hello", false, false));
  // The presets' byte vocabulary keeps its BOS.
  EXPECT_EQ(Tokenizer::byte_level(320)->encode("A", false, true), (std::vector<int32_t>{1, 3 + 'A'}));
}

std::unique_ptr<Tokenizer> with_post_processor(const nlohmann::json& post) {
  auto j = read_json_file(tok_data("tekken-small/tokenizer.json"));
  j["post_processor"] = post;
  std::string path = ::testing::TempDir() + "/post.json";
  write_file(path, j.dump());
  return Tokenizer::from_file(path);
}

TEST(Tokenizer, RobertaBertAndSequencePostProcessorsWrapTheIds) {
  auto plain = Tokenizer::from_file(tok_data("tekken-small/tokenizer.json"))->encode("hi there", false, false);
  auto roberta = with_post_processor({{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 1}},
                                      {"trim_offsets", true}, {"add_prefix_space", false}});
  auto ids = roberta->encode("hi there", false, true);
  ASSERT_EQ(ids.size(), plain.size() + 2);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  // Sequence: the second processor wraps what the first produced.
  nlohmann::json tmpl = {{"type", "TemplateProcessing"},
                         {"single", {{{"SpecialToken", {{"id", "[INST]"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                         {"special_tokens", {{"[INST]", {{"id", "[INST]"}, {"ids", {3}}, {"tokens", {"[INST]"}}}}}}};
  auto seq = with_post_processor({{"type", "Sequence"}, {"processors", {{{"type", "BertProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 1}}}, tmpl}}});
  EXPECT_EQ(seq->special_prefix(), (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(seq->special_suffix(), (std::vector<int32_t>{2}));
  EXPECT_EQ(seq->encode("hi there", false, false), plain);  // add_special_tokens=false: untouched
}

void expect_tokenizer_error(const nlohmann::json& j, const std::vector<std::string>& needles) {
  std::string path = ::testing::TempDir() + "/bad_tokenizer.json";
  write_file(path, j.dump());
  try {
    Tokenizer::from_file(path);
    FAIL() << "expected an error for " << j.dump().substr(0, 80);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config);
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
    for (const auto& n : needles) EXPECT_NE(e.message().find(n), std::string::npos) << "'" << n << "' not in: " << e.message();
  }
}

TEST(Tokenizer, UnsupportedNormalizerPreTokenizerAndPostProcessorAreNamed) {
  const auto base = read_json_file(tok_data("tekken-small/tokenizer.json"));
  auto j = base;
  j["normalizer"] = {{"type", "BertNormalizer"}, {"lowercase", true}};
  expect_tokenizer_error(j, {"'normalizer'", "'BertNormalizer'"});
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}, {{"type", "StripAccents"}}}}};
  expect_tokenizer_error(j, {"'normalizer'", "'StripAccents'"});
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}};
  expect_tokenizer_error(j, {"'normalizer'", "Regex '\\s+'"});
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", nlohmann::json::array()}};  // a no-op: accepted
  write_file(::testing::TempDir() + "/noop_norm.json", j.dump());
  EXPECT_NO_THROW(Tokenizer::from_file(::testing::TempDir() + "/noop_norm.json"));
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "\\.\\.\\."}}}, {"content", "x"}};  // a literal
  write_file(::testing::TempDir() + "/literal_norm.json", j.dump());
  EXPECT_NO_THROW(Tokenizer::from_file(::testing::TempDir() + "/literal_norm.json"));
  j = base;
  j["model"]["dropout"] = 0.1;
  expect_tokenizer_error(j, {"'model.dropout'"});
  j = base;
  j["model"]["continuing_subword_prefix"] = "##";
  expect_tokenizer_error(j, {"'model.continuing_subword_prefix'"});
  j = base;
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  expect_tokenizer_error(j, {"pre_tokenizer type 'Whitespace'"});
  j = base;
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  expect_tokenizer_error(j, {"unsupported pre-tokenizer regex '\\w+"});
  j = base;
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  expect_tokenizer_error(j, {"behavior 'Removed'"});
  j = base;
  j["pre_tokenizer"] = j["pre_tokenizer"]["pretokenizers"][0];  // Split without ByteLevel: not byte-level
  expect_tokenizer_error(j, {"no ByteLevel step"});
  j = base;
  j["post_processor"] = {{"type", "Unknown"}};
  expect_tokenizer_error(j, {"'post_processor'", "'Unknown'"});
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {{{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                         {"special_tokens", nlohmann::json::object()}};
  expect_tokenizer_error(j, {"'<bos>'"});
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

// Normalizers and added-token flags against `tokenizers` (tests/tools/make_normalizer_goldens.py): each variant
// puts a normalizer (and extra added tokens with lstrip/rstrip/single_word/normalized) into one tiny byte-level
// BPE; the normalized text, the ids, and the ids with special-token parsing off must all be the reference's.
TEST(Tokenizer, NormalizersAndAddedTokenFlagsMatchReference) {
  const auto g = read_json_file(tok_data("normalizers/goldens.json"));
  const auto base = read_json_file(tok_data("normalizers/tokenizer.json"));
  size_t texts = 0, matched = 0;
  for (const auto& v : g["variants"]) {
    const std::string name = v["name"].get<std::string>();
    auto j = base;
    j["normalizer"] = v["normalizer"];
    std::vector<std::string> strings = g["texts"].get<std::vector<std::string>>();
    if (v["with_added_tokens"].get<bool>()) {
      for (const auto& a : g["added_tokens"]) j["added_tokens"].push_back(a);
      for (const auto& t : g["added_texts"]) strings.push_back(t.get<std::string>());
    }
    const std::string path = ::testing::TempDir() + "/norm_" + name + ".json";
    write_file(path, j.dump());
    auto tok = Tokenizer::from_file(path);
    const auto norm = Normalizer::from_json(v["normalizer"], path);
    ASSERT_EQ(strings.size(), v["ids"].size()) << name;
    for (size_t i = 0; i < strings.size(); ++i) {
      const std::string& s = strings[i];
      bool ok = true;
      if (v.contains("normalized")) {
        const std::string want = v["normalized"][i].get<std::string>();
        EXPECT_EQ(norm.apply(s), want) << name << " normalized text #" << i << ": " << s;
        ok = ok && norm.apply(s) == want;
      }
      const auto want = v["ids"][i].get<std::vector<int32_t>>();
      auto got = tok->encode(s, true, false);
      EXPECT_EQ(got, want) << name << " ids of text #" << i << ": " << s;
      ok = ok && got == want;
      const std::string key = std::to_string(i);
      const auto want_text =
          v["ids_special_as_text"].contains(key) ? v["ids_special_as_text"][key].get<std::vector<int32_t>>() : want;
      got = tok->encode(s, false, false);
      EXPECT_EQ(got, want_text) << name << " ids with special tokens as text, #" << i << ": " << s;
      ok = ok && got == want_text;
      ++texts;
      matched += ok ? 1 : 0;
    }
  }
  std::printf("normalizer goldens: %zu of %zu texts match tokenizers %s (%zu variants)\n", matched, texts,
              g["tokenizers_version"].get<std::string>().c_str(), g["variants"].size());
  EXPECT_EQ(matched, texts);
}

TEST(Tokenizer, NormalizationFormsMatchReference) {
  const auto g = read_json_file(tok_data("normalizers/goldens.json"));
  const std::pair<const char*, NormalForm> forms[] = {
      {"nfc", NormalForm::nfc}, {"nfd", NormalForm::nfd}, {"nfkc", NormalForm::nfkc}, {"nfkd", NormalForm::nfkd}};
  size_t n = 0;
  for (const auto& c : g["forms"]) {
    const std::string text = c["text"].get<std::string>();
    for (const auto& [key, form] : forms) {
      EXPECT_EQ(unicode_normalize(text, form), c[key].get<std::string>()) << key << " of case #" << n;
    }
    ++n;
  }
  EXPECT_EQ(n, 60u);
}

TEST(Tokenizer, UnicodeTransformsKeepTokenizersRules) {
  // Every Hangul syllable decomposes algorithmically and composes back.
  for (uint32_t cp = 0xAC00; cp <= 0xD7A3; ++cp) {
    std::string s;
    append_utf8(cp, s);
    const std::string d = unicode_normalize(s, NormalForm::nfd);
    ASSERT_NE(d, s);
    ASSERT_EQ(unicode_normalize(d, NormalForm::nfc), s) << std::hex << cp;
  }
  // Lowercase is per character (Rust char::to_lowercase): no final sigma; U+0130 gains a combining dot.
  EXPECT_EQ(unicode_lowercase("\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCF\x83");  // ΟΣ -> οσ, not ος
  EXPECT_EQ(unicode_lowercase("\xC4\xB0I"), "i\xCC\x87i");
  // Unicode 9.0 data: a composition pair of Unicode 13 (U+11935 U+11930 -> U+11938) is left alone.
  EXPECT_EQ(unicode_normalize("\xF0\x91\xA4\xB5\xF0\x91\xA4\xB0", NormalForm::nfc), "\xF0\x91\xA4\xB5\xF0\x91\xA4\xB0");
  // Bytes that are not UTF-8 pass through every transform unchanged.
  const std::string bad = "a\xFF\xC3(e\xCC\x81";
  EXPECT_EQ(unicode_normalize(bad, NormalForm::nfc), "a\xFF\xC3(\xC3\xA9");
  EXPECT_EQ(unicode_lowercase("A\xFF"), "a\xFF");
}

// One UTF-8 decoder (utf8_sequence) serves the normalizers and the pre-tokenizer: invalid sequences (stray
// continuation, truncated, overlong, surrogate, past U+10FFFF) are refused byte by byte, and the pre-tokenizer's
// pieces still cover every input byte exactly once, in order.
TEST(Tokenizer, InvalidUtf8IsDecodedOneWayEverywhere) {
  uint32_t cp = 0;
  EXPECT_EQ(utf8_sequence("\xE2\x82\xAC", 0, &cp), 3u);
  EXPECT_EQ(cp, 0x20ACu);
  EXPECT_EQ(utf8_sequence("\xF0\x9F\x98\x80", 0, &cp), 4u);
  EXPECT_EQ(cp, 0x1F600u);
  for (const char* bad : {"\x80", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80"})
    EXPECT_EQ(utf8_sequence(bad, 0, &cp), 0u) << "accepted an invalid sequence";
  const std::string text = "ab\xC0\xAF cd\xED\xA0\x80\xE2\x82\xAC 12\xFF";
  for (auto pattern : {PreTokenizerPattern::gpt2, PreTokenizerPattern::llama3, PreTokenizerPattern::tekken}) {
    std::string joined;
    for (auto piece : pretokenize(text, pattern)) joined += piece;
    EXPECT_EQ(joined, text);
  }
  const auto pieces = pretokenize("a\xC0\xAF" "b", PreTokenizerPattern::gpt2);
  ASSERT_EQ(pieces.size(), 3u);  // the overlong '/' is not decoded to a character: two bytes of "other"
  EXPECT_EQ(pieces[1], "\xC0\xAF");
}

}  // namespace
}  // namespace hb::models
