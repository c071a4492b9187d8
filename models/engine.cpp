#include "models/engine.h"

#include <algorithm>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"

namespace hb::models {

struct Engine::Active {
  uint64_t handle = 0;
  EngineRequest req;
  int seq = -1;
  size_t prefilled = 0;
  int32_t last_token = -1;
  bool done = false;
  std::unique_ptr<IncrementalDetokenizer> detok;
  std::string text;      // generated text so far (after stop truncation)
  size_t emitted = 0;    // bytes of `text` already streamed
  EngineResult result;
};

Engine::Engine(std::unique_ptr<StepExecutor> executor, std::unique_ptr<Tokenizer> tokenizer, ChatFormat chat_format,
               const EngineOptions& options)
    : executor_(std::move(executor)), tokenizer_(std::move(tokenizer)), chat_format_(chat_format), options_(options) {
  if (executor_->max_sequences() > 0) options_.max_batch = std::min(options_.max_batch, executor_->max_sequences());
  if (executor_->kv_capacity_tokens() > 0) options_.kv_budget_tokens = executor_->kv_capacity_tokens();
  if (options_.prefill_chunk_tokens <= 0) options_.prefill_chunk_tokens = executor_->prefill_chunk_tokens();
  eos_ids_ = executor_->config().eos_token_ids;
  if (tokenizer_->eos_id() >= 0 && std::find(eos_ids_.begin(), eos_ids_.end(), tokenizer_->eos_id()) == eos_ids_.end()) {
    eos_ids_.push_back(tokenizer_->eos_id());
  }
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cancel_all_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

const ModelConfig& Engine::config() const { return executor_->config(); }
int64_t Engine::max_context() const { return executor_->max_context(); }
std::string Engine::model_source() const { return executor_->source_dir(); }

std::vector<int32_t> Engine::encode_chat(const std::vector<ChatTurn>& turns) const {
  return tokenizer_->encode(render_chat(chat_format_, turns, *tokenizer_), /*parse_special=*/true);
}

std::vector<int32_t> Engine::encode_prompt(const std::string& text, bool add_special_tokens) const {
  // Raw completion: user text is not parsed for special tokens.
  return tokenizer_->encode(text, /*parse_special=*/false, add_special_tokens);
}

std::unique_ptr<Engine> make_engine(std::unique_ptr<StepExecutor> executor, const EngineOptions& options) {
  std::unique_ptr<Tokenizer> tok;
  const std::string dir = executor->source_dir();
  const ModelConfig& config = executor->config();
  if (dir.empty()) {
    tok = Tokenizer::byte_level(config.vocab_size);
  } else if (file_exists(dir + "/tokenizer.json")) {
    tok = Tokenizer::from_file(dir + "/tokenizer.json");
  } else {
    throw Error(ErrorCode::not_found, "no tokenizer.json in '" + dir + "'; the native engine needs the checkpoint's HF tokenizer");
  }
  if (tok->vocab_size() > config.vocab_size) {
    throw Error(ErrorCode::config, "tokenizer has " + std::to_string(tok->vocab_size()) + " ids but the model's vocab_size is " +
                                       std::to_string(config.vocab_size));
  }
  ChatFormat fmt = choose_chat_format(config, *tok, dir);
  return std::make_unique<Engine>(std::move(executor), std::move(tok), fmt, options);
}

int Engine::check(const EngineRequest& r) const {
  if (r.prompt.empty()) throw Error(ErrorCode::usage, "request '" + r.id + "' has an empty prompt");
  if (r.prompt_logprobs > 20) {
    throw Error(ErrorCode::usage, "prompt_logprobs " + std::to_string(r.prompt_logprobs) + " must be in [0, 20]");
  }
  if (r.prompt_logprobs >= 0 && !executor_->scores_prompts()) {
    throw Error(ErrorCode::usage, "prompt logprobs (echo with logprobs) need every position's logits, which the " +
                                      executor_->details().value("device", std::string("?")) +
                                      " engine does not keep; use device=cpu for log-likelihood scoring");
  }
  const int min_max_tokens = r.prompt_logprobs >= 0 ? 0 : 1;
  if (r.max_tokens < min_max_tokens) {
    throw Error(ErrorCode::usage, "max_tokens " + std::to_string(r.max_tokens) + " for request '" + r.id + "' must be at least " +
                                      std::to_string(min_max_tokens));
  }
  validate(r.sampling);
  const int64_t vocab = config().vocab_size;
  for (int32_t id : r.prompt) {
    if (id < 0 || id >= vocab) {
      throw Error(ErrorCode::usage, "prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
  const int64_t ctx = max_context();
  if (int64_t(r.prompt.size()) >= ctx) {
    throw Error(ErrorCode::usage, "prompt of " + std::to_string(r.prompt.size()) + " tokens does not fit the context of " +
                                      std::to_string(ctx) + " tokens; shorten it");
  }
  const int max_tokens = int(std::min<int64_t>(r.max_tokens, ctx - int64_t(r.prompt.size())));
  int64_t need = int64_t(r.prompt.size()) + max_tokens;
  if (need > options_.kv_budget_tokens) {
    throw Error(ErrorCode::usage, "request needs " + std::to_string(need) + " KV tokens but the engine's budget is " +
                                      std::to_string(options_.kv_budget_tokens) + "; lower max_tokens or raise the budget");
  }
  return max_tokens;
}

uint64_t Engine::submit(EngineRequest r) {
  r.max_tokens = check(r);
  uint64_t h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    h = next_handle_++;
    if (r.submit_ns == 0) r.submit_ns = monotonic_ns();
    queue_.emplace_back(h, std::move(r));
  }
  cv_.notify_all();
  return h;
}

void Engine::cancel(uint64_t handle) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.insert(handle);
  }
  cv_.notify_all();
}

void Engine::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_all_ = true;
  }
  cv_.notify_all();
}

void Engine::finish(Active& a, const std::string& reason, const std::string& error) {
  if (a.done) return;
  a.done = true;
  // Release held-back text (a partial stop-string prefix or incomplete UTF-8); after a stop string the
  // detokenizer was already emptied.
  if (a.detok) a.text += a.detok->flush();
  if (a.emitted < a.text.size() && a.req.on_token) {
    TokenEvent ev;
    ev.text = a.text.substr(a.emitted);
    ev.t_ns = monotonic_ns();
    a.req.on_token(ev);
  }
  a.emitted = a.text.size();
  a.result.text = a.text;
  a.result.finish_reason = reason;
  a.result.error = error;
  a.result.end_ns = monotonic_ns();
  if (a.seq >= 0) {
    executor_->release_sequence(a.seq);
    a.seq = -1;
  }
  if (a.req.on_done) a.req.on_done(std::move(a.result));
}

namespace {

// Bytes at the end of `text` that could still become the start of a stop string.
size_t stop_holdback(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops) {
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

void Engine::step(std::vector<std::unique_ptr<Active>>& active) {
  std::vector<StepRow> rows;
  std::vector<Active*> in_step, owners;  // every row's sequence; the sampled rows' sequences
  std::vector<std::pair<Active*, size_t>> scored;  // rows scoring prompt tokens, with their count of scores
  int64_t budget = options_.prefill_chunk_tokens;
  for (auto& ap : active) {
    Active& a = *ap;
    if (a.done) continue;
    StepRow row;
    row.seq = a.seq;
    if (a.prefilled < a.req.prompt.size()) {
      int64_t n = std::min<int64_t>(int64_t(a.req.prompt.size() - a.prefilled), budget);
      if (n <= 0) continue;
      budget -= n;
      row.tokens.assign(a.req.prompt.begin() + a.prefilled, a.req.prompt.begin() + a.prefilled + n);
      a.prefilled += size_t(n);
      row.sample = a.prefilled == a.req.prompt.size();
      if (a.req.prompt_logprobs >= 0) {
        row.score_top_k = a.req.prompt_logprobs;
        if (!row.sample) row.next_token = a.req.prompt[a.prefilled];
      }
    } else {
      row.tokens = {a.last_token};
    }
    if (row.score_top_k >= 0) scored.push_back({&a, row.tokens.size() - (row.sample ? 1 : 0)});
    if (row.sample) {
      const bool eos_allowed = !a.req.ignore_eos && int(a.result.tokens.size()) >= a.req.min_tokens;
      if (!eos_allowed) row.banned = eos_ids_;
      owners.push_back(&a);
    }
    in_step.push_back(&a);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return;
  std::vector<SampledToken> sampled;
  try {
    sampled = executor_->step(rows);
    size_t expected = owners.size();
    for (const auto& sc : scored) expected += sc.second;
    if (sampled.size() != expected) throw Error(ErrorCode::internal, "executor returned a wrong number of tokens");
    // step() returns each row's scores before its sampled token: move the scores out, row by row.
    std::vector<SampledToken> tokens;
    size_t at = 0, next_scored = 0;
    for (const auto& row : rows) {
      if (row.score_top_k >= 0) {
        const auto& [a, count] = scored[next_scored++];
        for (size_t k = 0; k < count; ++k) a->result.prompt_logprobs.push_back(std::move(sampled[at++]));
      }
      if (row.sample) tokens.push_back(std::move(sampled[at++]));
    }
    sampled = std::move(tokens);
  } catch (const std::exception& e) {
    for (auto* a : in_step) finish(*a, "error", std::string("model step failed: ") + e.what());
    return;
  }
  const int64_t now = monotonic_ns();
  for (size_t i = 0; i < owners.size(); ++i) {
    Active& a = *owners[i];
    auto& res = a.result;
    const int generated = int(res.tokens.size());
    const bool eos_allowed = !a.req.ignore_eos && generated >= a.req.min_tokens;
    if (a.req.max_tokens == 0) {  // scoring only: the prompt's logprobs are in, nothing is generated
      finish(a, "length");
      continue;
    }
    SampledToken& t = sampled[i];
    res.tokens.push_back(t.id);
    res.token_ns.push_back(now);
    if (res.first_token_ns == 0) res.first_token_ns = now;
    res.logprobs.push_back(t.logprob);
    if (a.req.sampling.top_logprobs > 0) res.top_logprobs.push_back(t.top);
    a.last_token = t.id;
    bool is_eos = std::find(eos_ids_.begin(), eos_ids_.end(), t.id) != eos_ids_.end();
    bool is_stop_id = std::find(a.req.stop_token_ids.begin(), a.req.stop_token_ids.end(), t.id) != a.req.stop_token_ids.end();
    TokenEvent ev;
    ev.token = t.id;
    ev.t_ns = now;
    ev.logprob = t.logprob;
    ev.top_logprobs = t.top;
    bool stop_hit = false;
    // EOS and stop ids end the text without adding their own (as OpenAI-compatible servers do).
    const bool stop_id_hit = is_stop_id && generated + 1 > a.req.min_tokens;
    if (!(is_eos && eos_allowed) && !stop_id_hit) {
      size_t before = a.text.size();
      a.text += a.detok->push(t.id);
      size_t maxlen = 0;
      for (const auto& s : a.req.stop) maxlen = std::max(maxlen, s.size());
      size_t from = before >= maxlen ? before - maxlen + 1 : 0;
      size_t cut = std::string::npos;
      for (const auto& s : a.req.stop) {
        if (s.empty()) continue;
        size_t p = a.text.find(s, from);
        if (p != std::string::npos) cut = std::min(cut, p);
      }
      if (cut != std::string::npos) {
        a.text.resize(cut);
        stop_hit = true;
      }
    }
    size_t safe = stop_hit ? a.text.size() : a.text.size() - stop_holdback(a.text, a.req.stop);
    if (safe > a.emitted) {
      ev.text = a.text.substr(a.emitted, safe - a.emitted);
      a.emitted = safe;
    }
    if (a.req.on_token) a.req.on_token(ev);
    if (stop_hit || (is_eos && eos_allowed) || stop_id_hit) {
      if (stop_hit) {
        a.detok->flush();  // drop bytes after the stop string
      }
      finish(a, "stop");
    } else if (int(res.tokens.size()) >= a.req.max_tokens) {
      finish(a, "length");
    }
  }
}

void Engine::loop() {
  std::vector<std::unique_ptr<Active>> active;
  int64_t reserved = 0;
  for (;;) {
    std::vector<std::pair<uint64_t, EngineRequest>> cancelled_waiting;
    std::set<uint64_t> cancel_now;
    bool all = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || cancel_all_ || !queue_.empty() || !active.empty() || !cancelled_.empty(); });
      all = cancel_all_;
      cancel_all_ = false;
      cancel_now.swap(cancelled_);
      // Requests cancelled before admission.
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (all || cancel_now.count(it->first)) {
          cancelled_waiting.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      // Admission: FIFO, only while the head's full reservation fits.
      while (!queue_.empty() && int(active.size()) < options_.max_batch) {
        auto& head = queue_.front().second;
        int64_t need = int64_t(head.prompt.size()) + head.max_tokens;
        if (reserved + need > options_.kv_budget_tokens) break;
        auto a = std::make_unique<Active>();
        a->handle = queue_.front().first;
        a->req = std::move(head);
        queue_.pop_front();
        reserved += need;
        active.push_back(std::move(a));
      }
      if (stop_ && active.empty() && queue_.empty() && cancelled_waiting.empty()) return;
    }
    for (auto& [h, r] : cancelled_waiting) {
      EngineResult res;
      res.id = r.id;
      res.submit_ns = r.submit_ns;
      res.finish_reason = "cancelled";
      res.prompt_tokens = int64_t(r.prompt.size());
      res.end_ns = monotonic_ns();
      if (r.on_done) r.on_done(std::move(res));
    }
    for (auto& ap : active) {
      Active& a = *ap;
      if (a.seq < 0 && !a.done) {
        try {
          a.seq = executor_->create_sequence(int64_t(a.req.prompt.size()) + a.req.max_tokens, a.req.sampling);
        } catch (const std::exception& e) {
          finish(a, "error", e.what());
          continue;
        }
        a.detok = std::make_unique<IncrementalDetokenizer>(*tokenizer_, true);
        a.result.id = a.req.id;
        a.result.submit_ns = a.req.submit_ns;
        a.result.prompt_tokens = int64_t(a.req.prompt.size());
        a.result.admit_ns = monotonic_ns();
      }
      if (all || cancel_now.count(a.handle)) finish(a, "cancelled");
    }
    step(active);
    for (auto it = active.begin(); it != active.end();) {
      if ((*it)->done) {
        reserved -= int64_t((*it)->req.prompt.size()) + (*it)->req.max_tokens;
        it = active.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace hb::models
