#include "harness/http/openai_server.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/http/openai_request.h"

namespace hb::http {

// Wraps a request's ResponseWriter and writes its access-log line when the last reference goes, that is
// when the response and every engine callback holding it are over: method, path, status, tokens, duration.
class AccessLog final : public ResponseWriter {
 public:
  AccessLog(std::shared_ptr<ResponseWriter> inner, const HttpRequest& req)
      : inner_(std::move(inner)), method_(req.method), target_(req.target), remote_(req.remote), start_(std::chrono::steady_clock::now()) {}
  ~AccessLog() override {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    const char* end = ended_ ? "" : status_ == 0 ? " (no response)" : " (client went away)";
    log_info("access: {} {} {} prompt_tokens={} completion_tokens={} duration_ms={:.1f} remote={}{}", method_, target_, status_,
             prompt_tokens_.load(), completion_tokens_.load(), ms, remote_, end);
  }
  void send(int status, const std::string& content_type, std::string body, HeaderList extra = {}) override {
    if (!inner_->closed()) ended_ = true;
    status_ = status;
    inner_->send(status, content_type, std::move(body), std::move(extra));
  }
  void start_stream(int status, const std::string& content_type, HeaderList extra = {}) override {
    status_ = status;
    inner_->start_stream(status, content_type, std::move(extra));
  }
  void write(std::string data) override { inner_->write(std::move(data)); }
  void end() override {
    if (!inner_->closed()) ended_ = true;
    inner_->end();
  }
  void abort() override { inner_->abort(); }
  bool closed() const override { return inner_->closed(); }
  void count_tokens(int64_t prompt, int64_t completion) {
    prompt_tokens_ += prompt;
    completion_tokens_ += completion;
  }

 private:
  std::shared_ptr<ResponseWriter> inner_;
  std::string method_, target_, remote_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<int> status_{0};
  std::atomic<bool> ended_{false};
  std::atomic<int64_t> prompt_tokens_{0}, completion_tokens_{0};
};

namespace {
using nlohmann::json;

json error_body(const std::string& message, const std::string& type, int code, const std::string& param = "") {
  return {{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)}, {"code", code}}}};
}

void send_error(ResponseWriter& w, int status, const std::string& message, const std::string& param = "", HeaderList extra = {}) {
  const char* type = status == 400 ? "BadRequestError" : status == 404 ? "NotFoundError" : status == 405 ? "MethodNotAllowed" : "InternalServerError";
  w.send(status, "application/json", error_body(message, type, status, param).dump(), std::move(extra));
}

// -inf (a logit of -inf) is not JSON; clamp as vLLM does.
double finite(float lp) { return std::isfinite(lp) ? double(lp) : -9999.0; }

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// One token as a client sees it: its text, or where its bytes are only part of a UTF-8 character,
// "bytes:\xe2\x80" (OpenAI's spelling), so that distinct tokens never share a key of a top_logprobs map.
// With as_ids (vLLM's return_tokens_as_token_ids) it is "token_id:123", which a client can feed back.
std::string token_text(const models::Tokenizer& tok, int32_t id, bool as_ids = false) {
  if (as_ids) return "token_id:" + std::to_string(id);
  const std::string& b = tok.token_bytes(id);
  if (sanitize_utf8(b) == b) return b;
  std::string out = "bytes:";
  for (unsigned char c : b) out += fmt::format("\\x{:02x}", c);
  return out;
}
json token_byte_list(const models::Tokenizer& tok, int32_t id) {
  json b = json::array();
  for (unsigned char c : tok.token_bytes(id)) b.push_back(int(c));
  return b;
}

using TopList = std::vector<std::pair<int32_t, float>>;

// chat: choices[i].logprobs.content[j]
json chat_logprob_entry(const models::Tokenizer& tok, bool as_ids, int32_t id, float lp, const TopList& top) {
  json alts = json::array();
  for (const auto& [tid, tlp] : top) {
    alts.push_back({{"token", token_text(tok, tid, as_ids)}, {"logprob", finite(tlp)}, {"bytes", token_byte_list(tok, tid)}});
  }
  return {{"token", token_text(tok, id, as_ids)}, {"logprob", finite(lp)}, {"bytes", token_byte_list(tok, id)}, {"top_logprobs", alts}};
}

// completions: choices[i].logprobs = {tokens, token_logprobs, top_logprobs, text_offset}, filled token by token.
// top_logprobs maps token text to logprob: the top alternatives plus the token itself (as vLLM does), so
// "is this token the greedy one" is answerable from it (lm-eval's is_greedy).
class CompletionLogprobs {
 public:
  explicit CompletionLogprobs(size_t start_offset = 0, bool as_ids = false) : offset_(start_offset), as_ids_(as_ids) {}
  // lp absent: the first prompt token, which has nothing before it to be scored in.
  void add(const models::Tokenizer& tok, int32_t id, std::optional<float> lp, const TopList& top) {
    const std::string text = token_text(tok, id, as_ids_);
    tokens_.push_back(text);
    text_offset_.push_back(offset_);
    if (!tok.is_special(id)) offset_ += utf8_chars(sanitize_utf8(tok.token_bytes(id)));  // specials are not in the text
    if (!lp) {
      token_logprobs_.push_back(nullptr);
      top_logprobs_.push_back(nullptr);
      return;
    }
    token_logprobs_.push_back(finite(*lp));
    json alts = json::object();
    for (const auto& [tid, tlp] : top) {
      const std::string t = token_text(tok, tid, as_ids_);
      if (!alts.contains(t)) alts[t] = finite(tlp);
    }
    if (!alts.contains(text)) alts[text] = finite(*lp);
    top_logprobs_.push_back(std::move(alts));
  }
  bool empty() const { return tokens_.empty(); }
  json to_json() const {
    return {{"tokens", tokens_}, {"token_logprobs", token_logprobs_}, {"top_logprobs", top_logprobs_}, {"text_offset", text_offset_}};
  }
  // Hands out what was added since the last take (a streamed chunk's logprobs).
  json take() {
    json j = to_json();
    tokens_ = json::array();
    token_logprobs_ = json::array();
    top_logprobs_ = json::array();
    text_offset_ = json::array();
    return j;
  }

 private:
  size_t offset_ = 0;
  bool as_ids_ = false;
  json tokens_ = json::array(), token_logprobs_ = json::array(), top_logprobs_ = json::array(), text_offset_ = json::array();
};

// A different seed for each of a request's n samples: the first is the request's own (so n=1 reproduces
// a single seeded request), the others splitmix64 steps from it.
uint64_t choice_seed(uint64_t seed, int j) {
  if (j == 0) return seed;
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * uint64_t(j);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct PromptPlan {
  std::vector<int32_t> ids;
  std::string echo_text;  // what `echo` puts before the completion
};

// One choice of a request (one prompt x one of n samples).
struct Choice {
  int index = 0;
  size_t prompt = 0;
  bool done = false;
  models::EngineResult result;
  CompletionLogprobs stream_logprobs;  // streamed completions: offsets run on across chunks
};

// The choices of one request, answered together (non-streaming) or interleaved (streaming).
struct Batch {
  std::mutex mu;
  std::vector<Choice> choices;
  std::vector<uint64_t> handles;
  int remaining = 0;
  bool failed = false;  // the response was already an error
};

void cancel_batch(models::Engine& engine, Batch& b) {
  std::vector<uint64_t> handles;
  {
    std::lock_guard<std::mutex> lock(b.mu);
    handles = b.handles;
  }
  for (uint64_t h : handles) engine.cancel(h);
}

}  // namespace

OpenAIServer::OpenAIServer(std::unique_ptr<models::Engine> engine, std::string served_name)
    : engine_(std::move(engine)), name_(std::move(served_name)) {}

void OpenAIServer::handle(const HttpRequest& req, std::shared_ptr<ResponseWriter> raw) {
  auto w = std::make_shared<AccessLog>(std::move(raw), req);
  const std::string path = req.target.substr(0, req.target.find('?'));
  const bool get = req.method == "GET" || req.method == "HEAD";
  auto model_json = [&] { return json{{"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "hybench"}, {"max_model_len", engine_->max_context()}}; };
  auto wrong_method = [&](const char* allow) {
    send_error(*w, 405, "method " + req.method + " is not allowed on " + path + "; use " + allow, "", {{"Allow", allow}});
  };
  if (path == "/health") return get ? w->send(200, "application/json", R"({"status":"ok"})") : wrong_method("GET");
  if (path == "/v1/models") {
    if (!get) return wrong_method("GET");
    return w->send(200, "application/json", json{{"object", "list"}, {"data", json::array({model_json()})}}.dump());
  }
  if (starts_with(path, "/v1/models/")) {
    if (!get) return wrong_method("GET");
    const std::string id = path.substr(std::string("/v1/models/").size());
    if (id != name_) return send_error(*w, 404, "The model `" + id + "` does not exist; this server serves `" + name_ + "`", "model");
    return w->send(200, "application/json", model_json().dump());
  }
  if (path == "/tokenizer_info" || path == "/tokenize" || path == "/detokenize") {
    if (path == "/tokenizer_info" ? !get : req.method != "POST") return wrong_method(path == "/tokenizer_info" ? "GET" : "POST");
    try {
      return tokenizer_route(req, w, path);
    } catch (const BadRequest& e) {
      return send_error(*w, 400, e.what(), e.param());
    }
  }
  const bool chat = path == "/v1/chat/completions";
  if (chat || path == "/v1/completions") {
    if (req.method != "POST") return wrong_method("POST");
    try {
      return completion(req, w, chat);
    } catch (const BadRequest& e) {
      return send_error(*w, 400, e.what(), e.param());
    } catch (const Error& e) {
      return send_error(*w, e.code() == ErrorCode::usage ? 400 : 500, e.message());
    }
  }
  send_error(*w, 404, "no route " + path + "; this server has /v1/chat/completions, /v1/completions, /v1/models, /health, /tokenize, /detokenize, /tokenizer_info");
}

// vLLM's tokenizer routes, which lm-eval's `tokenizer_backend=remote` uses: a client needs no local copy of
// the tokenizer (presets have none on disk).
void OpenAIServer::tokenizer_route(const HttpRequest& req, const std::shared_ptr<AccessLog>& w, const std::string& path) {
  const models::Tokenizer& tok = engine_->tokenizer();
  auto special = [&](int32_t id) { return id >= 0 ? json(tok.token_bytes(id)) : json(nullptr); };
  if (path == "/tokenizer_info") {
    json info = {{"tokenizer_class", "hybench-" + tok.kind()}, {"bos_token", special(tok.bos_id())}, {"eos_token", special(tok.eos_id())},
                 {"pad_token", nullptr}, {"model_max_length", engine_->max_context()}, {"vocab_size", tok.vocab_size()}};
    return w->send(200, "application/json", info.dump());
  }
  const TokenizeRequest t = parse_tokenize_request(req.body, path == "/tokenize");
  if (path == "/tokenize") {
    // Specials written in the text become their ids (as HF tokenizers and vLLM do: lm-eval encodes "</s>").
    std::vector<int32_t> ids;
    if (t.add_special_tokens && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    auto body = tok.encode(t.text, /*parse_special=*/true);
    ids.insert(ids.end(), body.begin(), body.end());
    w->count_tokens(int64_t(ids.size()), 0);
    return w->send(200, "application/json", json{{"tokens", ids}, {"count", ids.size()}, {"max_model_len", engine_->max_context()}}.dump());
  }
  for (int32_t id : t.ids) {
    if (id >= tok.vocab_size()) throw BadRequest("tokens", "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(tok.vocab_size()));
  }
  w->send(200, "application/json", json{{"prompt", sanitize_utf8(tok.decode(t.ids, /*skip_special=*/false))}}.dump());
}

void OpenAIServer::completion(const HttpRequest& req, const std::shared_ptr<AccessLog>& w, bool chat) {
  const OpenAIRequest q = parse_openai_request(req.body, chat);
  if (!q.model.empty() && q.model != name_) {
    return send_error(*w, 404, "The model `" + q.model + "` does not exist; this server serves `" + name_ + "`", "model");
  }
  models::Engine& engine = *engine_;
  models::Engine* const eng = engine_.get();  // for the callbacks (the server outlives every request)
  const models::Tokenizer& tok = engine.tokenizer();
  const models::Tokenizer* const tk = &tok;
  const int64_t ctx = engine.max_context();
  const std::string prompt_param = chat ? "messages" : "prompt";

  // The prompts as token ids (chat: the checkpoint's template; text: one BOS unless add_special_tokens is
  // false; token ids: as given).
  std::vector<PromptPlan> prompts;
  std::vector<std::string> stop = q.stop;
  if (chat) {
    if (q.add_special_tokens.value_or(false)) {
      throw BadRequest("add_special_tokens", "'add_special_tokens': true is not supported on chat: the chat template adds them");
    }
    std::vector<models::ChatTurn> turns;
    for (const auto& m : q.messages) turns.push_back({m.role, m.content});
    prompts.push_back({engine.encode_chat(turns), ""});
    for (auto& s : models::chat_stop_strings(engine.chat_format())) stop.push_back(s);
  } else {
    for (const auto& p : q.prompts) {
      if (p.is_tokens()) {
        prompts.push_back({p.ids, ""});
      } else {
        prompts.push_back({engine.encode_prompt(p.text, q.add_special_tokens.value_or(true)), p.text});
      }
    }
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto& p = prompts[i];
    const std::string where = prompts.size() > 1 ? prompt_param + "[" + std::to_string(i) + "]" : prompt_param;
    if (p.ids.empty()) throw BadRequest(prompt_param, "'" + where + "' is empty: nothing to complete");
    for (int32_t id : p.ids) {
      if (id >= engine.config().vocab_size) {
        throw BadRequest(prompt_param, "'" + where + "' holds token id " + std::to_string(id) + ", outside the vocabulary of " +
                                           std::to_string(engine.config().vocab_size));
      }
    }
    if (int64_t(p.ids.size()) >= ctx) {
      throw BadRequest(prompt_param, "'" + where + "' is " + std::to_string(p.ids.size()) + " tokens; the model's context is " +
                                         std::to_string(ctx) + " tokens (prompt + completion); shorten it");
    }
    if (p.echo_text.empty() && q.echo) p.echo_text = sanitize_utf8(tok.decode(p.ids, /*skip_special=*/true));
    if (q.max_tokens && int64_t(p.ids.size()) + *q.max_tokens > ctx) {
      throw BadRequest(q.max_tokens_field,
                       q.max_tokens_field + " " + std::to_string(*q.max_tokens) + " + the prompt's " + std::to_string(p.ids.size()) +
                           " tokens exceed the model's context of " + std::to_string(ctx) + " tokens; ask for at most " +
                           std::to_string(ctx - int64_t(p.ids.size())));
    }
  }
  if (q.max_tokens && *q.max_tokens == 0 && !q.echo) {
    throw BadRequest(q.max_tokens_field, q.max_tokens_field + " 0 generates nothing; it is allowed only with 'echo' (prompt scoring)");
  }
  const bool score_prompt = q.echo && q.logprobs;
  if (q.stream && score_prompt) {
    throw BadRequest("echo", "'echo' with 'logprobs' is not supported when streaming; send 'stream': false");
  }

  // Every choice's engine request, all checked before any is submitted.
  auto batch = std::make_shared<Batch>();
  std::vector<models::EngineRequest> requests;
  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_.fetch_add(1));
  const uint64_t base_seed = q.seed ? *q.seed : std::random_device{}() * 0x100000001ull + std::random_device{}();
  for (size_t p = 0; p < prompts.size(); ++p) {
    for (int j = 0; j < q.n; ++j) {
      models::EngineRequest r;
      r.id = id + "-" + std::to_string(requests.size());
      r.prompt = prompts[p].ids;
      const int64_t room = ctx - int64_t(r.prompt.size());
      r.max_tokens = int(q.max_tokens ? *q.max_tokens : std::min<int64_t>(kDefaultMaxTokens, room));
      r.sampling.temperature = q.temperature;
      r.sampling.top_p = q.top_p;
      r.sampling.top_k = q.top_k;
      r.sampling.min_p = q.min_p;
      r.sampling.seed = choice_seed(base_seed, j);
      r.sampling.top_logprobs = q.logprobs ? q.top_logprobs : 0;
      if (score_prompt) r.prompt_logprobs = q.top_logprobs;
      r.ignore_eos = q.ignore_eos;
      r.min_tokens = q.min_tokens;
      r.stop = stop;
      r.stop_token_ids = q.stop_token_ids;
      if (r.max_tokens > 0) engine.check(r);  // max_tokens 0 without scoring never reaches the engine
      Choice c;
      c.index = int(requests.size());
      c.prompt = p;
      c.stream_logprobs = CompletionLogprobs(q.echo ? utf8_chars(prompts[p].echo_text) : 0, q.tokens_as_ids);
      batch->choices.push_back(std::move(c));
      requests.push_back(std::move(r));
    }
  }
  batch->remaining = int(requests.size());

  const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string model = name_;
  const std::string chunk_object = chat ? "chat.completion.chunk" : "text_completion";
  auto usage_of = [batch, prompts]() {
    int64_t prompt_tokens = 0, completion_tokens = 0;
    for (const auto& p : prompts) prompt_tokens += int64_t(p.ids.size());
    for (const auto& c : batch->choices) completion_tokens += int64_t(c.result.tokens.size());
    return std::make_pair(prompt_tokens, completion_tokens);
  };
  auto usage_json = [](std::pair<int64_t, int64_t> u) {
    return json{{"prompt_tokens", u.first}, {"completion_tokens", u.second}, {"total_tokens", u.first + u.second}};
  };
  auto chunk = [=](json choice) {
    json c = {{"id", id}, {"object", chunk_object}, {"created", created}, {"model", model}, {"choices", json::array({std::move(choice)})}};
    return "data: " + c.dump() + "\n\n";
  };
  // Called once per choice, on the engine thread (or here for choices that never reach the engine).
  std::function<void(size_t, models::EngineResult)> on_choice_done;
  // Streaming: the tokens of choice k as they come.
  std::function<void(size_t, const models::TokenEvent&)> on_choice_token;

  if (q.stream) {
    w->start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    for (const auto& c : batch->choices) {
      if (chat) w->write(chunk({{"index", c.index}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}));
      if (q.echo) w->write(chunk({{"index", c.index}, {"text", prompts[c.prompt].echo_text}, {"logprobs", nullptr}, {"finish_reason", nullptr}}));
    }
    on_choice_token = [=](size_t k, const models::TokenEvent& ev) {
      if (w->closed()) return cancel_batch(*eng, *batch);
      const bool with_lp = q.logprobs && ev.token >= 0;
      if (ev.text.empty() && !with_lp) return;
      Choice& c = batch->choices[k];  // only the engine thread touches a choice's stream state
      const std::string text = sanitize_utf8(ev.text);
      json lp = nullptr;
      if (with_lp && chat) {
        lp = {{"content", json::array({chat_logprob_entry(*tk, q.tokens_as_ids, ev.token, ev.logprob, ev.top_logprobs)})}};
      } else if (with_lp) {
        c.stream_logprobs.add(*tk, ev.token, ev.logprob, ev.top_logprobs);
        lp = c.stream_logprobs.take();
      }
      w->write(chat ? chunk({{"index", c.index}, {"delta", {{"content", text}}}, {"logprobs", lp}, {"finish_reason", nullptr}})
                    : chunk({{"index", c.index}, {"text", text}, {"logprobs", lp}, {"finish_reason", nullptr}}));
    };
    on_choice_done = [=](size_t k, models::EngineResult res) {
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(batch->mu);
        batch->choices[k].result = std::move(res);
        batch->choices[k].done = true;
        last = --batch->remaining == 0;
      }
      const Choice& c = batch->choices[k];
      if (c.result.finish_reason == "error") {
        w->write("data: " + error_body(c.result.error, "InternalServerError", 500).dump() + "\n\n");
      } else if (c.result.finish_reason != "cancelled") {
        w->write(chat ? chunk({{"index", c.index}, {"delta", json::object()}, {"logprobs", nullptr}, {"finish_reason", c.result.finish_reason}})
                      : chunk({{"index", c.index}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", c.result.finish_reason}}));
      }
      if (!last) return;
      const auto u = usage_of();
      w->count_tokens(u.first, u.second);
      if (q.include_usage) {
        json j = {{"id", id}, {"object", chunk_object}, {"created", created}, {"model", model}, {"choices", json::array()}, {"usage", usage_json(u)}};
        w->write("data: " + j.dump() + "\n\n");
      }
      w->write("data: [DONE]\n\n");
      w->end();
    };
  } else {
    on_choice_token = [=](size_t, const models::TokenEvent&) {
      if (w->closed()) cancel_batch(*eng, *batch);  // nobody will read the answer
    };
    on_choice_done = [=](size_t k, models::EngineResult res) {
      const models::Tokenizer& tok = *tk;
      {
        std::lock_guard<std::mutex> lock(batch->mu);
        batch->choices[k].result = std::move(res);
        batch->choices[k].done = true;
        if (--batch->remaining != 0 || batch->failed) return;
      }
      const auto u = usage_of();
      w->count_tokens(u.first, u.second);
      json choices = json::array();
      for (const auto& c : batch->choices) {
        const auto& r = c.result;
        if (r.finish_reason == "error") return send_error(*w, 500, r.error);
        const PromptPlan& p = prompts[c.prompt];
        const std::string text = (q.echo ? p.echo_text : std::string()) + sanitize_utf8(r.text);
        json lp = nullptr;
        if (chat && q.logprobs) {
          lp = {{"content", json::array()}};
          for (size_t t = 0; t < r.tokens.size(); ++t) {
            lp["content"].push_back(chat_logprob_entry(tok, q.tokens_as_ids, r.tokens[t], r.logprobs[t], t < r.top_logprobs.size() ? r.top_logprobs[t] : TopList{}));
          }
          choices.push_back({{"index", c.index}, {"message", {{"role", "assistant"}, {"content", text}}}, {"logprobs", lp}, {"finish_reason", r.finish_reason}});
          continue;
        }
        if (chat) {
          choices.push_back({{"index", c.index}, {"message", {{"role", "assistant"}, {"content", text}}}, {"logprobs", nullptr}, {"finish_reason", r.finish_reason}});
          continue;
        }
        if (q.logprobs) {
          CompletionLogprobs l(0, q.tokens_as_ids);
          if (q.echo) {
            for (size_t t = 0; t < p.ids.size(); ++t) {
              if (t == 0) {
                l.add(tok, p.ids[0], std::nullopt, {});
              } else if (t - 1 < r.prompt_logprobs.size()) {
                l.add(tok, p.ids[t], r.prompt_logprobs[t - 1].logprob, r.prompt_logprobs[t - 1].top);
              }
            }
          }
          for (size_t t = 0; t < r.tokens.size(); ++t) {
            l.add(tok, r.tokens[t], r.logprobs[t], t < r.top_logprobs.size() ? r.top_logprobs[t] : TopList{});
          }
          lp = l.to_json();
        }
        choices.push_back({{"index", c.index}, {"text", text}, {"logprobs", lp}, {"finish_reason", r.finish_reason}});
      }
      json j = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", created}, {"model", model},
                {"choices", choices}, {"usage", usage_json(u)}};
      w->send(200, "application/json", j.dump());
    };
  }

  for (size_t k = 0; k < requests.size(); ++k) {
    models::EngineRequest& r = requests[k];
    if (r.max_tokens == 0 && r.prompt_logprobs < 0) {  // echo of the prompt alone: nothing to run
      models::EngineResult res;
      res.id = r.id;
      res.finish_reason = "length";
      res.prompt_tokens = int64_t(r.prompt.size());
      on_choice_done(k, std::move(res));
      continue;
    }
    r.on_token = [on_choice_token, k](const models::TokenEvent& ev) { on_choice_token(k, ev); };
    r.on_done = [on_choice_done, k](models::EngineResult res) { on_choice_done(k, std::move(res)); };
    try {
      const uint64_t h = engine.submit(std::move(r));
      std::lock_guard<std::mutex> lock(batch->mu);
      batch->handles.push_back(h);
    } catch (const Error& e) {
      // Checked above, so only a change of the engine's state gets here: give up on the whole request.
      {
        std::lock_guard<std::mutex> lock(batch->mu);
        batch->failed = true;
      }
      cancel_batch(engine, *batch);
      if (q.stream) {
        w->write("data: " + error_body(e.message(), "BadRequestError", 400).dump() + "\n\n");
        w->write("data: [DONE]\n\n");
        w->end();
      } else {
        send_error(*w, 400, e.message());
      }
      return;
    }
  }
}

}  // namespace hb::http
