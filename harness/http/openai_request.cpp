#include "harness/http/openai_request.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace hb::http {
namespace {
using nlohmann::json;

// "string", "an integer", ... as a client would call what it sent.
std::string kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

[[noreturn]] void wrong_type(const std::string& field, const std::string& expected, const json& got) {
  throw BadRequest(field, "'" + field + "' must be " + expected + ", got " + kind_of(got));
}

// A field that is present and not null (OpenAI clients send null for "unset").
const json* field(const json& body, const std::string& name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

bool is_integral(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  // 2.0 is an integer to a JSON client (JavaScript has one number type).
  return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>() &&
         std::fabs(v.get<double>()) < 9.0e15;
}

int64_t get_int(const json& body, const std::string& name, int64_t lo, int64_t hi, int64_t fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!is_integral(*v)) wrong_type(name, range, *v);
  const double d = v->get<double>();
  if (d < double(lo) || d > double(hi)) {
    throw BadRequest(name, "'" + name + "' must be " + range + ", got " + v->dump());
  }
  return v->is_number_float() ? int64_t(d) : v->get<int64_t>();
}

double get_number(const json& body, const std::string& name, double lo, double hi, double fallback, bool open_lo = false) {
  const json* v = field(body, name);
  if (!v) return fallback;
  const std::string range = std::string("a number in ") + (open_lo ? "(" : "[") + json(lo).dump() + ", " + json(hi).dump() + "]";
  if (!v->is_number()) wrong_type(name, range, *v);
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || (open_lo && d == lo) || d > hi) {
    throw BadRequest(name, "'" + name + "' must be " + range + ", got " + v->dump());
  }
  return d;
}

bool get_bool(const json& body, const std::string& name, bool fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(name, "a boolean", *v);
  return v->get<bool>();
}

std::vector<int32_t> token_ids(const json& v, const std::string& name) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& t = v[i];
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (!is_integral(t)) wrong_type(where, "a token id (an integer)", t);
    const double d = t.get<double>();
    if (d < 0 || d > double(std::numeric_limits<int32_t>::max())) throw BadRequest(name, "'" + where + "' is not a token id: " + t.dump());
    ids.push_back(int32_t(d));
  }
  return ids;
}

// A string, a list of strings, a list of token ids, or a list of token-id lists (the OpenAI prompt forms).
std::vector<PromptInput> parse_prompts(const json& body) {
  const json* p = field(body, "prompt");
  const std::string expected = "a string, an array of strings, an array of token ids or an array of token-id arrays";
  if (!p) throw BadRequest("prompt", "'prompt' is required: " + expected);
  std::vector<PromptInput> out;
  if (p->is_string()) {
    out.push_back({p->get<std::string>(), {}});
    return out;
  }
  if (!p->is_array()) wrong_type("prompt", expected, *p);
  if (p->empty()) throw BadRequest("prompt", "'prompt' is an empty array; give at least one prompt");
  const json& first = (*p)[0];
  if (first.is_number()) {
    out.push_back({"", token_ids(*p, "prompt")});
    return out;
  }
  for (size_t i = 0; i < p->size(); ++i) {
    const json& e = (*p)[i];
    const std::string where = "prompt[" + std::to_string(i) + "]";
    if (first.is_string()) {
      if (!e.is_string()) wrong_type(where, "a string (like prompt[0])", e);
      out.push_back({e.get<std::string>(), {}});
    } else if (first.is_array()) {
      if (!e.is_array()) wrong_type(where, "an array of token ids (like prompt[0])", e);
      if (e.empty()) throw BadRequest("prompt", "'" + where + "' is an empty token list");
      out.push_back({"", token_ids(e, where)});
    } else {
      wrong_type(where, "a string, a token id or an array of token ids", e);
    }
  }
  return out;
}

std::string message_content(const json& m, const std::string& where) {
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) return "";  // an assistant turn with tool calls only, or an empty one
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) wrong_type(where + ".content", "a string or an array of content parts", *it);
  std::string text;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& part = (*it)[i];
    const std::string pw = where + ".content[" + std::to_string(i) + "]";
    if (!part.is_object()) wrong_type(pw, "an object {\"type\": \"text\", \"text\": ...}", part);
    const std::string type = part.value("type", std::string());
    if (type != "text") throw BadRequest("messages", "'" + pw + ".type' is '" + type + "'; only text content parts are supported");
    auto t = part.find("text");
    if (t == part.end() || !t->is_string()) wrong_type(pw + ".text", "a string", t == part.end() ? json() : *t);
    text += t->get<std::string>();
  }
  return text;
}

std::vector<ChatMessage> parse_messages(const json& body) {
  const json* m = field(body, "messages");
  if (!m) throw BadRequest("messages", "'messages' is required: an array of {\"role\", \"content\"} objects");
  if (!m->is_array()) wrong_type("messages", "an array of {\"role\", \"content\"} objects", *m);
  if (m->empty()) throw BadRequest("messages", "'messages' is empty; give at least one message");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) wrong_type(where, "an object with 'role' and 'content'", msg);
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) wrong_type(where + ".role", "a string", role == msg.end() ? json() : *role);
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant") {
      throw BadRequest("messages", "'" + where + ".role' is '" + r + "'; expected system, developer, user or assistant");
    }
    out.push_back({r == "developer" ? "system" : r, message_content(msg, where)});
  }
  return out;
}

std::vector<std::string> parse_stop(const json& body) {
  const json* s = field(body, "stop");
  if (!s) return {};
  if (s->is_string()) return {s->get<std::string>()};
  if (!s->is_array()) wrong_type("stop", "a string or an array of strings", *s);
  std::vector<std::string> out;
  for (size_t i = 0; i < s->size(); ++i) {
    if (!(*s)[i].is_string()) wrong_type("stop[" + std::to_string(i) + "]", "a string", (*s)[i]);
    if ((*s)[i].get<std::string>().empty()) throw BadRequest("stop", "'stop[" + std::to_string(i) + "]' is an empty string");
    out.push_back((*s)[i].get<std::string>());
  }
  return out;
}

// Fields whose non-default values hybench cannot honour: refused, never silently ignored.
void refuse_unsupported(const json& body, bool chat) {
  for (const char* name : {"frequency_penalty", "presence_penalty"}) {
    if (get_number(body, name, -2.0, 2.0, 0.0) != 0.0) throw BadRequest(name, std::string("'") + name + "' is not supported by hybench serve; omit it or send 0");
  }
  const double rep = get_number(body, "repetition_penalty", 0.0, 1e9, 1.0, true);
  if (rep != 1.0) throw BadRequest("repetition_penalty", "'repetition_penalty' is not supported by hybench serve; omit it or send 1");
  if (const json* lb = field(body, "logit_bias")) {
    if (!lb->is_object()) wrong_type("logit_bias", "an object", *lb);
    if (!lb->empty()) throw BadRequest("logit_bias", "'logit_bias' is not supported by hybench serve; omit it");
  }
  for (const char* name : {"tools", "functions", "response_format", "tool_choice", "suffix"}) {
    const json* v = field(body, name);
    if (v && !(v->is_array() && v->empty()) && !(v->is_string() && (v->get<std::string>().empty() || v->get<std::string>() == "none"))) {
      throw BadRequest(name, std::string("'") + name + "' is not supported by hybench serve; omit it");
    }
  }
  if (!chat) {
    const int64_t n = get_int(body, "n", 1, kMaxChoices, 1);
    const int64_t best_of = get_int(body, "best_of", 1, kMaxChoices, n);
    if (best_of != n) throw BadRequest("best_of", "'best_of' other than n is not supported by hybench serve; omit it");
  }
}

json parse_object(const std::string& text) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::parse_error& e) {
    throw BadRequest("", "request body is not valid JSON (error at byte " + std::to_string(e.byte) + "); send a JSON object");
  }
  if (!body.is_object()) throw BadRequest("", "request body must be a JSON object, got " + kind_of(body));
  return body;
}

}  // namespace

TokenizeRequest parse_tokenize_request(const std::string& text, bool tokenize) {
  const json body = parse_object(text);
  TokenizeRequest t;
  if (tokenize) {
    const json* p = field(body, "prompt");
    if (!p || !p->is_string()) wrong_type("prompt", "a string", p ? *p : json());
    t.text = p->get<std::string>();
    t.add_special_tokens = get_bool(body, "add_special_tokens", true);
  } else {
    const json* ids = field(body, "tokens");
    if (!ids || !ids->is_array()) wrong_type("tokens", "an array of token ids", ids ? *ids : json());
    t.ids = token_ids(*ids, "tokens");
  }
  return t;
}

OpenAIRequest parse_openai_request(const std::string& text, bool chat) {
  const json body = parse_object(text);
  OpenAIRequest r;
  r.chat = chat;
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) wrong_type("model", "a string", *m);
    r.model = m->get<std::string>();
  }
  if (chat) {
    r.messages = parse_messages(body);
  } else {
    r.prompts = parse_prompts(body);
  }
  refuse_unsupported(body, chat);
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  // max_completion_tokens (chat, newer clients) wins over the deprecated max_tokens.
  const char* max_name = chat && field(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  r.max_tokens_field = max_name;
  if (field(body, max_name)) r.max_tokens = get_int(body, max_name, 0, kIntMax, 0);
  r.temperature = get_number(body, "temperature", 0.0, 1e6, 1.0);
  r.top_p = get_number(body, "top_p", 0.0, 1.0, 1.0, /*open_lo=*/true);
  r.top_k = int(get_int(body, "top_k", -1, kIntMax, -1));
  if (r.top_k == 0) r.top_k = -1;  // vLLM's "off" spellings: -1 and 0
  r.min_p = get_number(body, "min_p", 0.0, 1.0, 0.0);
  if (r.min_p >= 1.0) throw BadRequest("min_p", "'min_p' must be a number in [0, 1), got 1");
  if (const json* s = field(body, "seed")) {
    if (!is_integral(*s)) wrong_type("seed", "an integer", *s);
    r.seed = s->is_number_unsigned() ? s->get<uint64_t>() : uint64_t(s->is_number_float() ? int64_t(s->get<double>()) : s->get<int64_t>());
  }
  r.n = int(get_int(body, "n", 1, kMaxChoices, 1));
  if (chat) {
    r.logprobs = get_bool(body, "logprobs", false);
    r.top_logprobs = int(get_int(body, "top_logprobs", 0, 20, 0));
    if (field(body, "top_logprobs") && !r.logprobs) {
      throw BadRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    }
    if (field(body, "echo")) throw BadRequest("echo", "'echo' is a /v1/completions field; chat completions do not take it");
  } else {
    if (const json* lp = field(body, "logprobs")) {
      // Completions' logprobs is the number of alternatives (0..20); `true` is the chat spelling.
      if (lp->is_boolean()) wrong_type("logprobs", "an integer in [0, 20] (alternatives per token) on /v1/completions", *lp);
      r.top_logprobs = int(get_int(body, "logprobs", 0, 20, 0));
      r.logprobs = true;
    }
    r.echo = get_bool(body, "echo", false);
  }
  r.stream = get_bool(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) wrong_type("stream_options", "an object {\"include_usage\": bool}", *so);
    if (!r.stream) throw BadRequest("stream_options", "'stream_options' is only allowed with 'stream': true");
    r.include_usage = get_bool(*so, "include_usage", false);
  }
  r.stop = parse_stop(body);
  if (const json* ids = field(body, "stop_token_ids")) {
    if (!ids->is_array()) wrong_type("stop_token_ids", "an array of token ids", *ids);
    r.stop_token_ids = token_ids(*ids, "stop_token_ids");
  }
  r.ignore_eos = get_bool(body, "ignore_eos", false);
  r.min_tokens = int(get_int(body, "min_tokens", 0, kIntMax, 0));
  r.tokens_as_ids = get_bool(body, "return_tokens_as_token_ids", false);
  if (field(body, "add_special_tokens")) r.add_special_tokens = get_bool(body, "add_special_tokens", true);
  if (int64_t(r.n) * int64_t(chat ? 1 : r.prompts.size()) > kMaxChoices) {
    throw BadRequest("n", "n x prompts = " + std::to_string(int64_t(r.n) * int64_t(r.prompts.size())) + " choices; at most " +
                              std::to_string(kMaxChoices) + " per request");
  }
  return r;
}

}  // namespace hb::http
