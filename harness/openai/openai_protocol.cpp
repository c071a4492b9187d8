#include "harness/openai/openai_protocol.h"

namespace hb::openai {
namespace {

using json = nlohmann::json;

const json* find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void take_string(const json& obj, const char* key, std::string& out) {
  if (const json* v = find(obj, key); v && v->is_string()) out = v->get_ref<const std::string&>();
}

int64_t take_int(const json& obj, const char* key) {
  const json* v = find(obj, key);
  if (v && v->is_number_integer()) return v->get<int64_t>();
  if (v && v->is_number()) return static_cast<int64_t>(v->get<double>());
  return -1;
}

std::optional<TokenUsage> parse_usage(const json& obj) {
  const json* u = find(obj, "usage");
  if (!u || !u->is_object()) return std::nullopt;
  TokenUsage usage;
  usage.prompt_tokens = take_int(*u, "prompt_tokens");
  usage.completion_tokens = take_int(*u, "completion_tokens");
  if (const json* d = find(*u, "completion_tokens_details")) usage.reasoning_tokens = take_int(*d, "reasoning_tokens");
  if (usage.reasoning_tokens < 0) usage.reasoning_tokens = take_int(*u, "reasoning_tokens");
  return usage;
}

void merge_usage(const TokenUsage& from, TokenUsage& into) {
  if (from.prompt_tokens >= 0) into.prompt_tokens = from.prompt_tokens;
  if (from.completion_tokens >= 0) into.completion_tokens = from.completion_tokens;
  if (from.reasoning_tokens >= 0) into.reasoning_tokens = from.reasoning_tokens;
}

std::string flatten(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace

std::string clip(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "...";
}

const char* request_path(const GenerationRequest& request) {
  return request.prompt ? "/completions" : "/chat/completions";
}

json build_payload(const GenerationRequest& request, const std::string& model, bool stream) {
  json body = request.sampling.to_json();
  // SamplingParams::to_json uses the chat naming for logprobs; /completions wants an integer.
  int top_logprobs = request.sampling.top_logprobs;
  body.erase("top_logprobs");
  body["model"] = model;
  if (request.prompt) {
    body["prompt"] = *request.prompt;
    if (top_logprobs > 0) body["logprobs"] = top_logprobs;
  } else {
    json messages = json::array();
    for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    body["messages"] = std::move(messages);
    if (top_logprobs > 0) {
      body["logprobs"] = true;
      body["top_logprobs"] = top_logprobs;
    }
  }
  body["stream"] = stream;
  if (stream) body["stream_options"] = {{"include_usage", true}};
  return body;
}

void StreamChunk::clear() {
  has_choice = role_only = tool_call = false;
  content.clear();
  reasoning.clear();
  finish_reason.clear();
  usage.reset();
  error_message.reset();
}

bool parse_stream_chunk(std::string_view data, StreamChunk& out, std::string& why) {
  out.clear();
  json j = json::parse(data.begin(), data.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    why = std::string(j.is_discarded() ? "invalid JSON" : "JSON that is not an object") + " in a stream event: '" +
          clip(data, 200) + "'";
    return false;
  }
  if (const json* err = find(j, "error")) {
    std::string message;
    if (err->is_string()) message = err->get<std::string>();
    else take_string(*err, "message", message);
    if (message.empty()) message = err->dump();
    out.error_message = clip(flatten(message), 300);
    return true;
  }
  if (const json* choices = find(j, "choices"); choices && choices->is_array() && !choices->empty()) {
    const json& c = (*choices)[0];
    out.has_choice = true;
    if (const json* delta = find(c, "delta")) {
      take_string(*delta, "content", out.content);
      take_string(*delta, "reasoning_content", out.reasoning);
      if (out.reasoning.empty()) take_string(*delta, "reasoning", out.reasoning);
      if (const json* tc = find(*delta, "tool_calls"); tc && tc->is_array() && !tc->empty()) out.tool_call = true;
      out.role_only = find(*delta, "role") && out.content.empty() && out.reasoning.empty() && !out.tool_call;
    } else {
      take_string(c, "text", out.content);
    }
    take_string(c, "finish_reason", out.finish_reason);
  }
  out.usage = parse_usage(j);
  return true;
}

void apply_chunk(const StreamChunk& chunk, int64_t t_ns, StreamState& state, GenerationResult& result) {
  if (chunk.usage) merge_usage(*chunk.usage, result.usage);
  if (!chunk.has_choice) return;  // the include_usage chunk (choices: []) or an empty keep-alive object
  bool generated = !chunk.content.empty() || !chunk.reasoning.empty() || chunk.tool_call;
  int32_t tokens = 0;
  if (chunk.usage && chunk.usage->completion_tokens >= 0) {
    state.continuous_usage = true;
    int64_t delta = chunk.usage->completion_tokens - state.cumulative_tokens;
    state.cumulative_tokens = chunk.usage->completion_tokens;
    tokens = static_cast<int32_t>(delta > 0 ? delta : 0);
  } else if (generated) {
    tokens = 1;
  }
  if (!chunk.reasoning.empty()) result.reasoning += chunk.reasoning;
  if (!chunk.content.empty()) result.content += chunk.content;
  if (tokens > 0 || generated) {
    result.chunks.push_back(ChunkTiming{t_ns, tokens, chunk.content.empty() && !chunk.reasoning.empty()});
    if (result.first_token_ns == 0) result.first_token_ns = t_ns;
    if (result.first_content_ns == 0 && !chunk.content.empty()) result.first_content_ns = t_ns;
  }
  if (!chunk.finish_reason.empty()) result.finish_reason = chunk.finish_reason;
}

bool parse_response(std::string_view body, int64_t t_ns, GenerationResult& result, std::string& why) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "the response is not a JSON object: '" + clip(body, 200) + "'";
    return false;
  }
  if (find(j, "error")) {
    why = "the server answered with an error: " + error_message_from_body(body);
    return false;
  }
  const json* choices = find(j, "choices");
  if (!choices || !choices->is_array() || choices->empty()) {
    why = "the response has no choices: '" + clip(body, 200) + "'";
    return false;
  }
  const json& c = (*choices)[0];
  if (const json* msg = find(c, "message")) {
    take_string(*msg, "content", result.content);
    take_string(*msg, "reasoning_content", result.reasoning);
    if (result.reasoning.empty()) take_string(*msg, "reasoning", result.reasoning);
  } else {
    take_string(c, "text", result.content);
  }
  take_string(c, "finish_reason", result.finish_reason);
  if (auto usage = parse_usage(j)) merge_usage(*usage, result.usage);
  int64_t tokens = result.usage.completion_tokens;
  if (tokens < 0) tokens = (result.content.empty() && result.reasoning.empty()) ? 0 : 1;
  if (tokens > 0 || !result.content.empty() || !result.reasoning.empty()) {
    result.chunks.push_back(ChunkTiming{t_ns, static_cast<int32_t>(tokens), result.content.empty()});
    result.first_token_ns = t_ns;
    if (!result.content.empty()) result.first_content_ns = t_ns;
  }
  return true;
}

std::string error_message_from_body(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  std::string message;
  if (!j.is_discarded() && j.is_object()) {
    if (const json* err = find(j, "error")) {
      if (err->is_string()) message = err->get<std::string>();
      else take_string(*err, "message", message);
    }
    if (message.empty()) take_string(j, "message", message);
    if (message.empty()) {
      if (const json* d = find(j, "detail")) message = d->is_string() ? d->get<std::string>() : d->dump();
    }
  }
  if (message.empty()) message = std::string(body);
  return clip(flatten(message), 300);
}

}  // namespace hb::openai
