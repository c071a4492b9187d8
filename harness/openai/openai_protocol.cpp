#include "harness/openai/openai_protocol.h"

#include <cmath>

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

// A token count as the server sent it: -1 when absent or not a number, otherwise it must be a whole
// number in [0, kMaxTokenCount] (a float such as 12.0 is accepted); false for anything else.
bool take_count(const json& obj, const char* key, int64_t& out) {
  out = -1;
  const json* v = find(obj, key);
  if (!v || !v->is_number()) return true;
  std::optional<int64_t> n;
  if (v->is_number_unsigned()) n = token_count_from_unsigned(v->get<uint64_t>());
  else if (v->is_number_integer()) n = token_count_from_signed(v->get<int64_t>());
  else n = token_count_from_double(v->get<double>());
  if (!n) return false;
  out = *n;
  return true;
}

bool parse_usage(const json& obj, std::optional<TokenUsage>& out, std::string& why) {
  out.reset();
  const json* u = find(obj, "usage");
  if (!u || !u->is_object()) return true;
  TokenUsage usage;
  const char* bad = nullptr;
  if (!take_count(*u, "prompt_tokens", usage.prompt_tokens)) bad = "prompt_tokens";
  else if (!take_count(*u, "completion_tokens", usage.completion_tokens)) bad = "completion_tokens";
  else if (const json* d = find(*u, "completion_tokens_details");
           d && !take_count(*d, "reasoning_tokens", usage.reasoning_tokens))
    bad = "completion_tokens_details.reasoning_tokens";
  else if (usage.reasoning_tokens < 0 && !take_count(*u, "reasoning_tokens", usage.reasoning_tokens))
    bad = "reasoning_tokens";
  if (bad) {
    why = std::string("usage.") + bad + " is not a token count in [0, " + std::to_string(kMaxTokenCount) +
          "]: '" + clip(u->dump(), 200) + "'";
    return false;
  }
  out = usage;
  return true;
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

std::optional<int64_t> token_count_from_signed(int64_t v) {
  if (v < 0 || v > kMaxTokenCount) return std::nullopt;
  return v;
}

std::optional<int64_t> token_count_from_unsigned(uint64_t v) {
  if (v > static_cast<uint64_t>(kMaxTokenCount)) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<int64_t> token_count_from_double(double v) {
  // The comparison comes first: casting 1e30 or NaN to an integer is undefined behaviour.
  if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxTokenCount) || std::floor(v) != v) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string clip(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "...";
}

const char* request_path(const GenerationRequest& request) {
  return request.prompt || !request.prompt_token_ids.empty() ? "/completions" : "/chat/completions";
}

json build_payload(const GenerationRequest& request, const std::string& model, bool stream) {
  json body = request.sampling.to_json();
  // SamplingParams::to_json uses the chat naming for logprobs; /completions wants an integer.
  int top_logprobs = request.sampling.top_logprobs;
  body.erase("top_logprobs");
  body["model"] = model;
  if (!request.prompt_token_ids.empty() || request.prompt) {
    if (!request.prompt_token_ids.empty()) body["prompt"] = request.prompt_token_ids;
    else body["prompt"] = *request.prompt;
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

bool parse_stream_chunk_dom(std::string_view data, StreamChunk& out, std::string& why) {
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
  if (!parse_usage(j, out.usage, why)) {
    why += " in a stream event";
    return false;
  }
  return true;
}

namespace {

// The hot path: a SAX walk that picks the few fields a chunk carries without building a DOM (no
// allocation beyond the strings kept). Anything unusual (an error event, a non-object, a parse error,
// deep nesting) falls back to the DOM parser, which also writes the error messages.
class ChunkSax {
 public:
  explicit ChunkSax(StreamChunk& out) : out_(out) {}
  bool fallback = false;

  bool null() {
    if (depth_ == 0) return bail();
    after_value();
    return true;
  }
  bool boolean(bool) { return scalar(); }
  // Out-of-range counts make the walk bail out, so the DOM parser writes the protocol error.
  bool number_integer(json::number_integer_t v) { return number(token_count_from_signed(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return number(token_count_from_unsigned(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return number(token_count_from_double(v)); }
  bool binary(json::binary_t&) { return bail(); }
  bool string(json::string_t& v) {
    if (depth_ == 0) return bail();
    Frame& f = top();
    if (f.array) {
      array_element(f);  // found by fuzz_stream_chunk: {"choices":["x"]} had no choice here, one in the DOM
    } else {
      switch (f.ctx) {
        case Ctx::top:
          if (f.key == Key::error) return bail();
          break;
        case Ctx::choice0:
          if (f.key == Key::text && !has_delta_) out_.content = v;
          else if (f.key == Key::finish_reason) out_.finish_reason = v;
          break;
        case Ctx::delta:
          if (f.key == Key::content) out_.content = v;
          else if (f.key == Key::reasoning_content && !v.empty()) {
            out_.reasoning = v;
            reasoning_content_ = true;
          } else if (f.key == Key::reasoning && !reasoning_content_) out_.reasoning = v;
          else if (f.key == Key::role) role_ = true;
          break;
        default:
          break;
      }
    }
    after_value();
    return true;
  }
  bool start_object(std::size_t) {
    if (depth_ == 0) return push(Ctx::top, false);
    Frame& p = top();
    Ctx child = Ctx::other;
    if (p.array) {
      if (p.ctx == Ctx::choices && p.index == 0) {
        child = Ctx::choice0;
        out_.has_choice = true;
      } else if (p.ctx == Ctx::tool_calls) {
        out_.tool_call = true;
      }
    } else if (p.ctx == Ctx::top && p.key == Key::error) {
      return bail();
    } else if (p.ctx == Ctx::top && p.key == Key::usage) {
      child = Ctx::usage;
      out_.usage = TokenUsage{};
    } else if (p.ctx == Ctx::choice0 && p.key == Key::delta) {
      child = Ctx::delta;
      if (!has_delta_) out_.content.clear();  // a "text" seen before the delta does not count
      has_delta_ = true;
    } else if (p.ctx == Ctx::usage && p.key == Key::details) {
      child = Ctx::usage_details;
    }
    return push(child, false);
  }
  bool key(json::string_t& k) {
    Frame& f = top();
    f.key = classify(f.ctx, k);
    // A key this parser reads, twice in one object: the DOM keeps the last value, this pass would mix the
    // two (found by fuzz_stream_chunk: "completion_tokens": 9 then []). Rare in practice: let the DOM decide.
    if (f.key != Key::none) {
      const uint32_t bit = 1u << static_cast<unsigned>(f.key);
      if (f.seen & bit) return bail();
      f.seen |= bit;
    }
    return true;
  }
  bool end_object() { return pop(); }
  bool start_array(std::size_t) {
    if (depth_ == 0) return bail();
    Frame& p = top();
    Ctx child = Ctx::other;
    if (p.array) {
      if (p.ctx == Ctx::choices && p.index == 0) out_.has_choice = true;
      if (p.ctx == Ctx::tool_calls) out_.tool_call = true;
    } else if (p.ctx == Ctx::top && p.key == Key::error) {
      return bail();
    } else if (p.ctx == Ctx::top && p.key == Key::choices) {
      child = Ctx::choices;
    } else if (p.ctx == Ctx::delta && p.key == Key::tool_calls) {
      child = Ctx::tool_calls;
    }
    return push(child, true);
  }
  bool end_array() { return pop(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return bail(); }

  void finish() {
    if (details_reasoning_ >= 0 && out_.usage) out_.usage->reasoning_tokens = details_reasoning_;
    out_.role_only = has_delta_ && role_ && out_.content.empty() && out_.reasoning.empty() && !out_.tool_call;
  }

 private:
  enum class Ctx : uint8_t { other, top, choices, choice0, delta, tool_calls, usage, usage_details };
  enum class Key : uint8_t {
    none, choices, usage, error, delta, text, finish_reason, content, reasoning_content, reasoning, role,
    tool_calls, prompt_tokens, completion_tokens, reasoning_tokens, details
  };
  struct Frame {
    Ctx ctx;
    bool array;
    int index;
    Key key;
    uint32_t seen;  // bit per Key already met in this object
  };

  static Key classify(Ctx ctx, const std::string& k) {
    switch (ctx) {
      case Ctx::top:
        if (k == "choices") return Key::choices;
        if (k == "usage") return Key::usage;
        if (k == "error") return Key::error;
        return Key::none;
      case Ctx::choice0:
        if (k == "delta") return Key::delta;
        if (k == "text") return Key::text;
        if (k == "finish_reason") return Key::finish_reason;
        return Key::none;
      case Ctx::delta:
        if (k == "content") return Key::content;
        if (k == "reasoning_content") return Key::reasoning_content;
        if (k == "reasoning") return Key::reasoning;
        if (k == "role") return Key::role;
        if (k == "tool_calls") return Key::tool_calls;
        return Key::none;
      case Ctx::usage:
        if (k == "prompt_tokens") return Key::prompt_tokens;
        if (k == "completion_tokens") return Key::completion_tokens;
        if (k == "reasoning_tokens") return Key::reasoning_tokens;
        if (k == "completion_tokens_details") return Key::details;
        return Key::none;
      case Ctx::usage_details:
        return k == "reasoning_tokens" ? Key::reasoning_tokens : Key::none;
      default:
        return Key::none;
    }
  }
  Frame& top() { return stack_[depth_ - 1]; }
  bool bail() {
    fallback = true;
    return false;
  }
  bool push(Ctx ctx, bool array) {
    if (depth_ == kMaxDepth) return bail();
    stack_[depth_++] = Frame{ctx, array, 0, Key::none, 0};
    return true;
  }
  bool pop() {
    --depth_;
    if (depth_ > 0) after_value();
    return true;
  }
  void after_value() {
    if (depth_ > 0 && top().array) ++top().index;
  }
  bool scalar() {
    if (depth_ == 0) return bail();
    Frame& f = top();
    if (f.array) {
      array_element(f);
    } else if (f.ctx == Ctx::top && f.key == Key::error) {
      return bail();
    }
    after_value();
    return true;
  }
  // A scalar or string element of an array: a first choice or a tool call, whatever its type (the DOM counts it).
  void array_element(const Frame& f) {
    if (f.ctx == Ctx::choices && f.index == 0) out_.has_choice = true;
    if (f.ctx == Ctx::tool_calls) out_.tool_call = true;
  }
  bool number(std::optional<int64_t> count) {
    if (depth_ > 0 && !top().array && out_.usage) {
      Frame& f = top();
      bool counted = (f.ctx == Ctx::usage && (f.key == Key::prompt_tokens || f.key == Key::completion_tokens ||
                                              f.key == Key::reasoning_tokens)) ||
                     (f.ctx == Ctx::usage_details && f.key == Key::reasoning_tokens);
      if (counted && !count) return bail();
      if (f.ctx == Ctx::usage) {
        if (f.key == Key::prompt_tokens) out_.usage->prompt_tokens = *count;
        else if (f.key == Key::completion_tokens) out_.usage->completion_tokens = *count;
        else if (f.key == Key::reasoning_tokens) out_.usage->reasoning_tokens = *count;
      } else if (f.ctx == Ctx::usage_details && f.key == Key::reasoning_tokens) {
        details_reasoning_ = *count;
      }
    }
    return scalar();
  }

  static constexpr int kMaxDepth = 32;
  StreamChunk& out_;
  Frame stack_[kMaxDepth];
  int depth_ = 0;
  bool has_delta_ = false;
  bool role_ = false;
  bool reasoning_content_ = false;
  int64_t details_reasoning_ = -1;
};

}  // namespace

bool parse_stream_chunk(std::string_view data, StreamChunk& out, std::string& why) {
  out.clear();
  ChunkSax sax(out);
  bool ok = json::sax_parse(data.begin(), data.end(), &sax);
  if (ok && !sax.fallback) {
    sax.finish();
    return true;
  }
  return parse_stream_chunk_dom(data, out, why);
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
  std::optional<TokenUsage> usage;
  if (!parse_usage(j, usage, why)) return false;
  if (usage) merge_usage(*usage, result.usage);
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
