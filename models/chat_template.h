#pragma once
// Chat prompt rendering for the native engine (no Jinja): Apriel's template (spec 8.2) and generic
// fallbacks chosen from the checkpoint (Mistral [INST], Llama-3 headers, plain "role: text").
#include <string>
#include <vector>

#include "models/model_config.h"
#include "models/tokenizer.h"

namespace hb::models {

enum class ChatFormat { apriel, mistral_instruct, llama3, plain };
const char* chat_format_name(ChatFormat f);

struct ChatTurn {
  std::string role;  // system | user | assistant
  std::string content;
};

// Apriel's fixed reasoning system prompt (spec 8.2).
extern const char* const kAprielSystemPrompt;

// Picks the format: Apriel for apriel_* models, presets and checkpoints whose tokenizer_config.json chat
// template mentions <|assistant|>; Llama-3 when the vocabulary has <|start_header_id|>; Mistral when it has
// [INST]; plain otherwise. `checkpoint_dir` may be "" (presets).
ChatFormat choose_chat_format(const ModelConfig& config, const Tokenizer& tok, const std::string& checkpoint_dir);

// Renders the conversation plus the generation prompt; the text starts with the BOS token's text
// (exactly one BOS: encode it with parse_special and add no other).
std::string render_chat(ChatFormat f, const std::vector<ChatTurn>& turns, const Tokenizer& tok);

// Stop strings the format needs on top of EOS (Apriel: "<|end|>", which is plain text in its vocabulary).
std::vector<std::string> chat_stop_strings(ChatFormat f);

}  // namespace hb::models
