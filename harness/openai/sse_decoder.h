#pragma once
// Incremental decoder for text/event-stream (Server-Sent Events) as OpenAI-compatible servers send it.
// Pure: bytes in, events out, no I/O. Handles an event split across any number of reads and several
// events in one read; LF, CRLF and lone-CR line ends (a CRLF split between reads included); `data:` with
// or without the space; `:` comment/keep-alive lines; multi-line data (joined with "\n"); `event:` and
// `id:` fields; other fields are ignored. The `[DONE]` sentinel is an ordinary event whose data is
// "[DONE]" (is_done() tells). Bytes are not interpreted as UTF-8 here, so a multi-byte character split
// across reads is reassembled for free.
//
// Steady state allocates nothing: the input buffer and the data buffer keep their capacity, and an event
// made of one `data:` line is returned as a view into the input buffer without a copy.
//
//   SseDecoder d;
//   d.push(bytes);                       // as they arrive
//   SseEvent ev;
//   while (d.next(ev)) use(ev.data);     // views valid until the next push()/next()/finish()
//   d.finish();                          // at end of stream: a last event without its blank line
//   while (d.next(ev)) use(ev.data);
#include <cstddef>
#include <string>
#include <string_view>

namespace hb::openai {

struct SseEvent {
  std::string_view event;  // "" when the event had no `event:` field ("message")
  std::string_view data;   // data lines joined with "\n"
  std::string_view id;
  bool is_done() const { return data == "[DONE]"; }
};

class SseDecoder {
 public:
  // Memory is bounded: an event (or unconsumed input) that grows past the limit is not buffered; the
  // decoder stops and overflowed() turns true (a server sending one endless event cannot exhaust memory).
  static constexpr size_t kDefaultMaxPendingBytes = size_t{16} << 20;
  explicit SseDecoder(size_t max_pending_bytes = kDefaultMaxPendingBytes) : max_pending_(max_pending_bytes) {}

  // Appends received bytes (ignored once overflowed()).
  void push(std::string_view bytes);
  // Produces the next complete event; false when more bytes are needed.
  bool next(SseEvent& out);
  // Marks the end of the stream: an unterminated last line and an event that lacks its closing blank
  // line become available through next() (servers that close right after `data: [DONE]\n` are common).
  void finish();
  // Forgets everything (a new stream).
  void reset();
  // Bytes received but not yet consumed (part of an unfinished line or event).
  size_t pending_bytes() const {
    return buf_.size() - pos_ + (data_lines_ == 0 ? 0 : (single_in_buf_ ? single_len_ : data_.size()));
  }
  // True when a partial event was pending at finish() and was flushed out by it.
  bool flushed_partial() const { return flushed_partial_; }
  // Number of events produced so far (comments excluded).
  size_t events() const { return events_; }
  // True when more than the limit of bytes was pending: the stream cannot be decoded further.
  bool overflowed() const { return overflowed_; }

 private:
  bool take_line(std::string_view& line);
  bool on_line(std::string_view line, SseEvent& out);
  bool dispatch(SseEvent& out);

  std::string buf_;        // received bytes; [pos_, size) not consumed yet
  size_t pos_ = 0;
  bool skip_lf_ = false;   // the previous line ended with CR at the end of a read: a leading LF is its pair
  bool eof_ = false;
  bool flushed_partial_ = false;
  // The event being assembled. A single data line is kept as an offset into buf_ (no copy); a second
  // data line moves it into data_.
  size_t single_off_ = 0, single_len_ = 0;
  bool single_in_buf_ = false;
  bool eof_flushed_ = false;
  int data_lines_ = 0;
  std::string data_;
  std::string event_;
  std::string id_;
  std::string event_out_;  // the dispatched event's name, stable until the next dispatch
  size_t events_ = 0;
  size_t max_pending_;
  bool overflowed_ = false;
};

}  // namespace hb::openai
