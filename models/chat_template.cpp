#include "models/chat_template.h"

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"

namespace hb::models {

const char* const kAprielSystemPrompt =
    "You are a thoughtful and systematic AI assistant built by ServiceNow Language Models (SLAM) lab. Before providing an "
    "answer, analyze the problem carefully and present your reasoning step by step. After explaining your thought "
    "process, provide the final solution in the following format: [BEGIN FINAL RESPONSE] ... [END FINAL RESPONSE].";

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::apriel: return "apriel";
    case ChatFormat::mistral_instruct: return "mistral-instruct";
    case ChatFormat::llama3: return "llama3";
    case ChatFormat::plain: return "plain";
  }
  return "?";
}

ChatFormat choose_chat_format(const ModelConfig& config, const Tokenizer& tok, const std::string& dir) {
  if (dir.empty() || starts_with(config.model_type, "apriel")) return ChatFormat::apriel;
  std::string tc = dir + "/tokenizer_config.json";
  if (file_exists(tc)) {
    auto j = read_json_file(tc);
    if (j.contains("chat_template") && j["chat_template"].is_string() &&
        j["chat_template"].get<std::string>().find("<|assistant|>") != std::string::npos) {
      return ChatFormat::apriel;
    }
  }
  if (tok.token_id("<|start_header_id|>")) return ChatFormat::llama3;
  if (tok.token_id("[INST]")) return ChatFormat::mistral_instruct;
  return ChatFormat::plain;
}

std::string render_chat(ChatFormat f, const std::vector<ChatTurn>& turns, const Tokenizer& tok) {
  for (const auto& t : turns) {
    if (t.role != "system" && t.role != "user" && t.role != "assistant") {
      throw Error(ErrorCode::usage, "unsupported chat role '" + t.role + "'; use system, user or assistant");
    }
  }
  std::string bos = tok.bos_id() >= 0 ? tok.token_bytes(tok.bos_id()) : "";
  std::string eos = tok.eos_id() >= 0 ? tok.token_bytes(tok.eos_id()) : "";
  std::string out = bos;
  switch (f) {
    case ChatFormat::apriel: {
      // The system block is always emitted; a user system message is appended on a new line (spec 8.2).
      std::string system = kAprielSystemPrompt;
      for (const auto& t : turns) {
        if (t.role == "system") system += "\n" + t.content;
      }
      out += "<|system|>\n" + system + "\n<|end|>\n";
      for (const auto& t : turns) {
        if (t.role == "user") out += "<|user|>\n" + t.content + "\n<|end|>\n";
        if (t.role == "assistant") out += "<|assistant|>\n" + t.content + "\n<|end|>\n" + eos;
      }
      out += "<|assistant|>\nHere are my reasoning steps:\n";
      return out;
    }
    case ChatFormat::mistral_instruct: {
      std::string system;
      for (const auto& t : turns) {
        if (t.role == "system") system += t.content + "\n\n";
      }
      bool first = true;
      for (const auto& t : turns) {
        if (t.role == "user") {
          out += "[INST] " + (first ? system : std::string()) + t.content + " [/INST]";
          first = false;
        } else if (t.role == "assistant") {
          out += t.content + eos;
        }
      }
      return out;
    }
    case ChatFormat::llama3: {
      for (const auto& t : turns) out += "<|start_header_id|>" + t.role + "<|end_header_id|>\n\n" + t.content + "<|eot_id|>";
      out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    }
    case ChatFormat::plain: {
      for (const auto& t : turns) out += t.role + ": " + t.content + "\n";
      out += "assistant:";
      return out;
    }
  }
  return out;
}

std::vector<std::string> chat_stop_strings(ChatFormat f) {
  switch (f) {
    case ChatFormat::apriel: return {"<|end|>"};
    case ChatFormat::llama3: return {"<|eot_id|>"};
    case ChatFormat::plain: return {"\nuser:"};
    default: return {};
  }
}

}  // namespace hb::models
