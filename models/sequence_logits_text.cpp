// The torch-free half of SequenceLogits: tokenization as the engine does it, and load(), which asks the
// engine module (models/engine_module.h) for the LibTorch implementation (models/sequence_logits.cpp).
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "models/engine_module.h"
#include "models/sequence_logits.h"

namespace hb::models {

std::unique_ptr<SequenceLogits> SequenceLogits::load(const std::string& spec, const ModelOptions& options) {
  check_device_name(options.device.empty() ? "auto" : options.device);
  return engine_module().load_sequence_logits(spec, options);
}

void SequenceLogits::init_tokenizer(const std::string& dir) {
  if (dir.empty()) {
    tokenizer_ = Tokenizer::byte_level(config().vocab_size);
  } else if (file_exists(dir + "/tokenizer.json")) {
    tokenizer_ = Tokenizer::from_file(dir + "/tokenizer.json");
  } else {
    throw Error(ErrorCode::not_found, "no tokenizer.json in '" + dir + "'; the native engine needs the checkpoint's HF tokenizer");
  }
  chat_format_ = choose_chat_format(config(), *tokenizer_, dir);
}

std::vector<int32_t> SequenceLogits::encode_text(const std::string& text) const {
  std::vector<int32_t> ids;
  if (tokenizer_->bos_id() >= 0) ids.push_back(tokenizer_->bos_id());
  auto body = tokenizer_->encode(text, /*parse_special=*/false);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::vector<int32_t> SequenceLogits::encode_chat(const std::vector<ChatTurn>& turns) const {
  return tokenizer_->encode(render_chat(chat_format_, turns, *tokenizer_), /*parse_special=*/true);
}

std::vector<int32_t> SequenceLogits::encode_continuation(const std::string& text) const {
  return tokenizer_->encode(text, /*parse_special=*/false);
}

}  // namespace hb::models
