#include "harness/load/workload.h"

#include <random>

namespace hb::load {
namespace {
// Short, frequent words: one token each in Llama, Mistral (Tekken), Qwen and GPT tokenizers when
// preceded by a space.
const char* const kWords[] = {
    "the",   "of",    "and",   "to",    "in",    "is",    "that",  "for",   "it",    "as",    "was",   "with",
    "be",    "by",    "on",    "not",   "he",    "this",  "are",   "or",    "his",   "from",  "at",    "which",
    "but",   "have",  "an",   "had",   "they",  "you",   "were",  "their", "one",   "all",   "we",    "can",
    "her",   "has",   "there", "been",  "if",    "more",  "when",  "will",  "would", "who",   "so",    "no",
    "time",  "people", "year", "way",   "day",   "man",   "thing", "woman", "life",  "child", "world", "school",
    "state", "family", "group", "country", "problem", "hand", "part", "place", "case", "week", "company", "system",
    "program", "question", "work", "government", "number", "night", "point", "home", "water", "room", "mother", "area",
    "money", "story", "fact", "month", "lot",  "right", "study", "book",  "eye",   "job",   "word",  "business",
};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);
}  // namespace

Workload::Workload(WorkloadOptions options) : opt_(options) {
  if (opt_.shared_prefix_tokens > 0) prefix_ = words(opt_.seed ^ 0x9e3779b97f4a7c15ull, opt_.shared_prefix_tokens);
}

std::string Workload::words(uint64_t seed, int count) const {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, kWordCount - 1);
  std::string out;
  out.reserve(static_cast<size_t>(count) * 6);
  for (int i = 0; i < count; ++i) {
    if (i) out += ' ';
    out += kWords[pick(rng)];
  }
  return out;
}

GenerationRequest Workload::request(int index) const {
  if (opt_.replay && !opt_.replay->requests.empty()) {
    const auto& all = opt_.replay->requests;
    GenerationRequest r = all[static_cast<size_t>(index) % all.size()];
    r.id = r.id + "#" + std::to_string(index);
    return r;
  }
  GenerationRequest r;
  r.id = "p" + std::to_string(index);
  r.sampling.max_tokens = opt_.shape.output_tokens;
  r.sampling.temperature = 0;
  if (opt_.force_output_length) {
    r.sampling.ignore_eos = true;
    r.sampling.min_tokens = opt_.shape.output_tokens;
  }
  if (opt_.vocab_size > 0) {
    // Exact lengths: the shared prefix is the same ids for every request, the rest differs per request.
    std::mt19937_64 prefix_rng(opt_.seed ^ 0x9e3779b97f4a7c15ull);
    std::mt19937_64 rng(opt_.seed * 1000003ull + static_cast<uint64_t>(index) + 1);
    std::uniform_int_distribution<int32_t> pick(0, opt_.vocab_size - 1);
    const int prefix = std::min(opt_.shared_prefix_tokens, opt_.shape.input_tokens);
    for (int i = 0; i < opt_.shape.input_tokens; ++i) r.prompt_token_ids.push_back(pick(i < prefix ? prefix_rng : rng));
    return r;
  }
  int own = std::max(1, opt_.shape.input_tokens - opt_.shared_prefix_tokens);
  std::string text = prefix_;
  if (!text.empty()) text += ' ';
  text += words(opt_.seed * 1000003ull + static_cast<uint64_t>(index) + 1, own);
  if (opt_.chat) r.messages = {{"user", std::move(text)}};
  else r.prompt = std::move(text);
  return r;
}

nlohmann::json Workload::describe() const {
  if (opt_.replay)
    return {{"kind", "replay"},
            {"name", opt_.replay->name},
            {"prompts", opt_.replay->requests.size()},
            {"details", opt_.replay->details},
            {"force_output_length", false}};
  return {{"kind", "random"},
          {"shape", opt_.shape.str()},
          {"input_tokens", opt_.shape.input_tokens},
          {"output_tokens", opt_.shape.output_tokens},
          {"shared_prefix_tokens", opt_.shared_prefix_tokens},
          {"force_output_length", opt_.force_output_length},
          {"prompt_method", prompt_method()},
          {"endpoint", opt_.chat ? "chat" : "completions"},
          {"seed", opt_.seed}};
}

}  // namespace hb::load
