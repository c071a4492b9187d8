#include "harness/openai/sse_decoder.h"

#include <cstring>

namespace hb::openai {

void SseDecoder::push(std::string_view bytes) {
  if (overflowed_) return;
  if (pos_ > 0) {
    // The bytes before pos_ are consumed; a pending single data line still points into them.
    if (data_lines_ == 1 && single_in_buf_) {
      data_.assign(buf_, single_off_, single_len_);
      single_in_buf_ = false;
    }
    if (pos_ >= buf_.size()) buf_.clear();
    else buf_.erase(0, pos_);
    pos_ = 0;
  }
  if (pending_bytes() + bytes.size() > max_pending_) {
    overflowed_ = true;
    buf_.clear();
    buf_.shrink_to_fit();
    data_.clear();
    data_.shrink_to_fit();
    data_lines_ = 0;
    single_in_buf_ = false;
    return;
  }
  buf_.append(bytes.data(), bytes.size());
}

void SseDecoder::finish() { eof_ = true; }

void SseDecoder::reset() {
  buf_.clear();
  pos_ = 0;
  skip_lf_ = eof_ = eof_flushed_ = flushed_partial_ = overflowed_ = false;
  single_off_ = single_len_ = 0;
  single_in_buf_ = false;
  data_lines_ = 0;
  data_.clear();
  event_.clear();
  id_.clear();
  events_ = 0;
}

bool SseDecoder::take_line(std::string_view& line) {
  const size_t size = buf_.size();
  if (skip_lf_ && pos_ < size) {
    if (buf_[pos_] == '\n') ++pos_;
    skip_lf_ = false;
  }
  if (pos_ >= size) return false;
  const char* begin = buf_.data() + pos_;
  const size_t avail = size - pos_;
  const void* nl = std::memchr(begin, '\n', avail);
  size_t scan = nl ? static_cast<size_t>(static_cast<const char*>(nl) - begin) : avail;
  const void* cr = std::memchr(begin, '\r', scan);
  if (cr) {
    size_t i = static_cast<size_t>(static_cast<const char*>(cr) - begin);
    line = std::string_view(begin, i);
    if (i + 1 < avail) {
      pos_ += i + (begin[i + 1] == '\n' ? 2 : 1);
    } else {
      pos_ += i + 1;
      skip_lf_ = true;  // a CRLF may be split between this read and the next
    }
    return true;
  }
  if (nl) {
    line = std::string_view(begin, scan);
    pos_ += scan + 1;
    return true;
  }
  if (eof_) {  // an unterminated last line
    line = std::string_view(begin, avail);
    pos_ = size;
    return true;
  }
  return false;
}

bool SseDecoder::on_line(std::string_view line, SseEvent& out) {
  if (line.empty()) return dispatch(out);
  if (line[0] == ':') return false;  // comment / keep-alive
  std::string_view field = line, value = line.substr(line.size());  // empty, but pointing into buf_
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_lines_ == 0) {
      data_.clear();
      single_off_ = static_cast<size_t>(value.data() - buf_.data());
      single_len_ = value.size();
      single_in_buf_ = true;
    } else {
      if (single_in_buf_) {
        data_.assign(buf_, single_off_, single_len_);
        single_in_buf_ = false;
      }
      data_ += '\n';
      data_.append(value.data(), value.size());
    }
    ++data_lines_;
  } else if (field == "event") {
    event_.assign(value.data(), value.size());
  } else if (field == "id") {
    id_.assign(value.data(), value.size());
  }
  return false;
}

bool SseDecoder::dispatch(SseEvent& out) {
  if (data_lines_ == 0) {
    event_.clear();
    return false;
  }
  out.data = single_in_buf_ ? std::string_view(buf_.data() + single_off_, single_len_) : std::string_view(data_);
  event_out_.swap(event_);
  event_.clear();
  out.event = event_out_;
  out.id = id_;
  data_lines_ = 0;
  ++events_;
  return true;
}

bool SseDecoder::next(SseEvent& out) {
  if (overflowed_) return false;
  std::string_view line;
  while (take_line(line)) {
    if (on_line(line, out)) return true;
  }
  if (eof_ && !eof_flushed_) {
    eof_flushed_ = true;
    if (data_lines_ > 0) {
      flushed_partial_ = true;
      return dispatch(out);
    }
  }
  return false;
}

}  // namespace hb::openai
