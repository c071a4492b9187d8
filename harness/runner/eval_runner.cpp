#include "harness/runner/eval_runner.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>

#include "harness/base/clock.h"
#include "harness/runner/eta.h"
#include "harness/base/console.h"
#include "harness/base/hash.h"
#include "harness/base/strings.h"
#include "harness/runner/grade_pool.h"
#include "suites/common/reasoning.h"

namespace hb::runner {
namespace {

// One (item, sample) pair on its way through its turns.
struct Work {
  size_t item_index = 0;
  int sample_index = 0;
  suites::PromptPlan plan;
  std::vector<ChatMessage> messages;  // the conversation so far
  suites::Completion completion;
  size_t turn = 0;
  int64_t submit_ns = 0, first_token_ns = 0, end_ns = 0;
  TokenUsage usage;
  int attempts = 0;
  std::vector<store::AttemptRecord> attempt_log;  // every request of every turn
  std::string endpoint;
  std::optional<uint64_t> seed;
};

int64_t add_tokens(int64_t a, int64_t b) { return a < 0 ? b : (b < 0 ? a : a + b); }

nlohmann::json prompt_json(const Work& w) {
  if (w.plan.raw_prompt) return {{"prompt", *w.plan.raw_prompt}};
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : w.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  return {{"messages", msgs}};
}

}  // namespace

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

void mark_run_failed(store::Store& store, int64_t run_id) {
  try {
    store.set_run_status(run_id, "failed");
  } catch (const std::exception&) {
  }
}

std::vector<suites::MetricValue> aggregate_and_store(const suites::Suite& suite, store::Store& store,
                                                    const EvalTarget& target) {
  // Everything stored for this (run, model, suite), previous sessions and merged shards included.
  std::vector<suites::SampleScore> scores;
  for (auto& s : store.scored_samples(target.run_id, target.model_id, target.suite_id)) {
    suites::SampleScore sc;
    sc.item_id = s.item_id;
    sc.sample_index = s.sample_index;
    if (s.scores.is_object())
      for (auto& [key, v] : s.scores.items())
        if (v.is_number()) sc.scores[key] = v.get<double>();
    scores.push_back(std::move(sc));
  }
  auto metrics = suite.aggregate(scores);
  std::vector<store::MetricRecord> records;
  for (const auto& m : metrics) records.push_back({m.metric, static_cast<int64_t>(m.n), m.value, m.stderr_});
  store.put_metrics(target.run_id, target.model_id, target.suite_id, records);
  store.flush();
  return metrics;
}

EvalOutcome run_eval(Backend& backend, const suites::Suite& suite, const std::vector<suites::Item>& items,
                     store::Store& store, const EvalTarget& target, const EvalOptions& options,
                     suites::ScoringContext& scoring) {
  EvalOutcome out;
  const auto& info = suite.info();
  const size_t n_items = options.limit > 0 ? std::min(items.size(), static_cast<size_t>(options.limit)) : items.size();
  const int k = std::max(1, options.samples);
  const int64_t clock_offset_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count() -
      monotonic_ns();
  auto to_unix = [&](int64_t mono) -> std::optional<int64_t> {
    return mono > 0 ? std::optional<int64_t>(mono + clock_offset_ns) : std::nullopt;
  };

  // The plan, minus what the store already holds.
  auto done = store.finished_samples(target.run_id, target.model_id, target.suite_id);
  std::deque<std::unique_ptr<Work>> todo;
  for (size_t i = 0; i < n_items; ++i) {
    if (options.shard_count > 1 && static_cast<int>(i % static_cast<size_t>(options.shard_count)) != options.shard_index)
      continue;
    for (int s = 0; s < k; ++s) {
      ++out.total;
      if (done.count({items[i].id, s})) {
        ++out.already_done;
        continue;
      }
      auto w = std::make_unique<Work>();
      w->item_index = i;
      w->sample_index = s;
      if (options.seed)
        w->seed = std::stoull(sha256_hex(std::to_string(*options.seed) + "/" + items[i].id + "/" + std::to_string(s)).substr(0, 12), nullptr, 16);
      todo.push_back(std::move(w));
    }
  }
  if (out.already_done > 0)
    log_info("resuming: {} of {} samples already stored, {} to request", out.already_done, out.total, todo.size());

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<Work*, GenerationResult>> completions;
  std::vector<std::unique_ptr<Work>> live;  // owns works in flight or being graded
  size_t in_flight = 0;
  size_t completed_requests = 0, failed_requests = 0;
  size_t graded = 0;
  GradePool pool(static_cast<size_t>(std::max(2, std::min(options.concurrency, 8))));
  EtaEstimator eta(static_cast<int64_t>(todo.size()), options.concurrency);

  auto submit_turn = [&](Work* w) {
    const auto& item = items[w->item_index];
    if (w->turn == 0 && !w->plan.raw_prompt && w->messages.empty()) w->messages = w->plan.prefix;
    GenerationRequest req;
    req.id = item.id + "#" + std::to_string(w->sample_index) + (w->turn ? "/t" + std::to_string(w->turn + 1) : "");
    if (w->plan.raw_prompt) {
      req.prompt = w->plan.raw_prompt;
    } else {
      w->messages.push_back({"user", w->plan.user_turns.at(w->turn)});
      req.messages = w->messages;
    }
    req.sampling = info.default_sampling;
    if (w->plan.temperature) req.sampling.temperature = *w->plan.temperature;
    if (options.temperature) req.sampling.temperature = *options.temperature;
    if (options.max_tokens) req.sampling.max_tokens = *options.max_tokens;
    for (const auto& s : w->plan.stop) req.sampling.stop.push_back(s);
    req.sampling.seed = w->seed;
    ++in_flight;
    ++out.requested;
    if (w->turn == 0) eta.started(monotonic_ns());
    backend.submit(std::move(req), [&, w](GenerationResult r) {
      {
        std::lock_guard<std::mutex> lock(mu);
        completions.emplace_back(w, std::move(r));
      }
      cv.notify_one();
    });
  };

  // The fields every stored sample has, failed or graded.
  auto base_record = [&](const Work* w) {
    store::SampleRecord rec;
    rec.run_id = target.run_id;
    rec.model_id = target.model_id;
    rec.suite_id = target.suite_id;
    rec.item_id = items[w->item_index].id;
    rec.sample_index = w->sample_index;
    rec.prompt_json = prompt_json(*w).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    rec.attempts = w->attempts;
    rec.attempt_log = w->attempt_log;
    rec.endpoint = w->endpoint;
    rec.submit_unix_ns = to_unix(w->submit_ns);
    rec.end_unix_ns = to_unix(w->end_ns);
    return rec;
  };

  auto store_failure = [&](Work* w, const ErrorInfo& err) {
    store::SampleRecord rec = base_record(w);
    rec.completion = w->completion.turns.empty() ? "" : w->completion.turns.back();
    rec.error_kind = err.kind;
    rec.error_message = err.message;
    store.add_sample(std::move(rec));
  };

  auto grade_and_store = [&](Work* w) {
    const auto& item = items[w->item_index];
    store::SampleRecord rec = base_record(w);
    const auto& turns = w->completion.turns;
    rec.completion = turns.size() == 1 ? turns[0]
                                       : nlohmann::json(turns).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (w->usage.prompt_tokens >= 0) rec.prompt_tokens = w->usage.prompt_tokens;
    if (w->usage.completion_tokens >= 0) rec.completion_tokens = w->usage.completion_tokens;
    if (w->usage.reasoning_tokens >= 0) rec.reasoning_tokens = w->usage.reasoning_tokens;
    rec.first_token_unix_ns = to_unix(w->first_token_ns);
    rec.finish_reason = w->completion.finish_reasons.empty() ? "" : w->completion.finish_reasons.back();
    try {
      suites::Grade g = suite.grade(item, w->completion, scoring);
      rec.answer = g.answer_text;
      rec.reasoning = g.reasoning_text;
      rec.truncated = g.truncated;
      rec.grade_reason = g.reason;
      for (const auto& e : g.extractions)
        rec.extractions[e.name] = {{"value", e.value ? nlohmann::json(*e.value) : nlohmann::json(nullptr)},
                                   {"reason", e.reason}};
      for (const auto& [metric, value] : g.scores) rec.scores[metric] = value;
    } catch (const std::exception& e) {
      rec.error_kind = "grader";
      rec.error_message = std::string("grading failed: ") + e.what();
    }
    try {
      store.add_sample(std::move(rec));
    } catch (const std::exception&) {
      // A grading thread must not throw: the writer's error reaches the main loop through store.check().
    }
  };

  const int64_t start_ns = monotonic_ns();
  auto show_progress = [&](bool force) {
    double elapsed = static_cast<double>(monotonic_ns() - start_ns) / 1e9;
    size_t finished = graded + failed_requests;
    double rate = elapsed > 0 ? static_cast<double>(completed_requests) / elapsed : 0;
    Console::get().progress(fmt::format("{} {}: {}/{} done, {} errors, {} in flight, {:.1f} req/s, ETA {}", info.name,
                                        info.variant, out.already_done + finished, out.total, failed_requests, in_flight,
                                        rate, eta.text(monotonic_ns())),
                            force);
  };

  bool stop_submitting = false;
  // A failure of the run itself (the store's writer, a suite's data) stops submitting; the requests in
  // flight are cancelled and drained (their callbacks reference this frame) before it is rethrown.
  std::exception_ptr fatal;
  auto fail_run = [&](std::exception_ptr e) {
    if (!fatal) fatal = e;
    if (!stop_submitting) {
      stop_submitting = true;
      backend.cancel_all();
    }
  };
  while (true) {
    if (!stop_submitting && interrupt_flag().load()) {
      out.interrupted = true;
      stop_submitting = true;
      log_warn("interrupted: cancelling {} requests in flight; finished samples are stored", in_flight);
      backend.cancel_all();
    }
    while (!stop_submitting && in_flight < static_cast<size_t>(std::max(1, options.concurrency)) && !todo.empty()) {
      auto w = std::move(todo.front());
      todo.pop_front();
      Work* raw = w.get();
      live.push_back(std::move(w));
      try {
        raw->plan = suite.prompt(items[raw->item_index]);
        submit_turn(raw);
      } catch (...) {
        fail_run(std::current_exception());
      }
    }
    if (in_flight == 0 && (todo.empty() || stop_submitting)) break;

    std::deque<std::pair<Work*, GenerationResult>> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !completions.empty(); });
      batch.swap(completions);
    }
    for (auto& [w, r] : batch) {
      --in_flight;
      ++completed_requests;
      try {
        if (w->turn == 0) {
          w->submit_ns = r.submit_ns;
          w->first_token_ns = r.first_token_ns;
        }
        w->end_ns = r.end_ns;
        w->attempts += r.attempts;
        for (const auto& a : r.attempt_log) {
          store::AttemptRecord ar;
          ar.turn = static_cast<int>(w->turn);
          ar.attempt = static_cast<int>(&a - r.attempt_log.data()) + 1;
          ar.kind = a.kind;
          ar.request_sent = a.request_sent;
          if (a.http_status > 0) ar.http_status = a.http_status;
          ar.bytes_received = a.bytes_received;
          ar.start_unix_ns = to_unix(a.start_ns);
          ar.end_unix_ns = to_unix(a.end_ns);
          ar.endpoint = a.endpoint;
          ar.message = a.message;
          w->attempt_log.push_back(std::move(ar));
        }
        w->endpoint = r.endpoint;
        w->usage.prompt_tokens = add_tokens(w->usage.prompt_tokens, r.usage.prompt_tokens);
        w->usage.completion_tokens = add_tokens(w->usage.completion_tokens, r.usage.completion_tokens);
        w->usage.reasoning_tokens = add_tokens(w->usage.reasoning_tokens, r.usage.reasoning_tokens);
        if (!r.ok()) {
          if (r.error->kind == "cancelled") continue;  // in flight when interrupted: requested again on resume
          ++failed_requests;
          ++out.failed;
          ++out.errors_by_kind[r.error->kind];
          if (out.first_error.empty()) out.first_error = r.error->kind + ": " + r.error->message;
          w->completion.turns.push_back(r.content);
          store_failure(w, *r.error);
          eta.finished(w->submit_ns, monotonic_ns());
          continue;
        }
        w->completion.turns.push_back(r.content);
        w->completion.reasoning.push_back(r.reasoning);
        w->completion.finish_reasons.push_back(r.finish_reason);
        if (!w->plan.raw_prompt && w->turn + 1 < w->plan.user_turns.size() && !stop_submitting) {
          // The next turn follows the model's own answer, without its reasoning trace.
          w->messages.push_back({"assistant", suites::split_reasoning(r.content, options.reasoning_markers).answer});
          ++w->turn;
          submit_turn(w);
          continue;
        }
        if (w->turn + 1 < (w->plan.raw_prompt ? 1 : w->plan.user_turns.size())) continue;  // interrupted mid-conversation
        ++graded;
        ++out.succeeded;
        eta.finished(w->submit_ns, monotonic_ns());
        pool.submit([&, w] { grade_and_store(w); });
      } catch (...) {
        fail_run(std::current_exception());
      }
    }
    try {
      store.check();
    } catch (...) {
      fail_run(std::current_exception());
    }
    if (!stop_submitting && completed_requests >= static_cast<size_t>(options.min_requests_before_abort) &&
        static_cast<double>(failed_requests) > options.max_error_rate * static_cast<double>(completed_requests)) {
      out.aborted = true;
      stop_submitting = true;
      log_error("aborting: {} of {} requests failed (more than {:.0f}%); first error: {}", failed_requests,
                completed_requests, options.max_error_rate * 100, out.first_error);
      backend.cancel_all();
    }
    show_progress(false);
  }
  pool.wait_idle();
  show_progress(true);
  Console::get().end_progress();
  if (fatal) std::rethrow_exception(fatal);
  store.flush();

  out.metrics = aggregate_and_store(suite, store, target);
  out.stored_errors = store.count_samples(target.run_id, target.model_id, target.suite_id, true);
  return out;
}

}  // namespace hb::runner
