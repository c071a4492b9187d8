#include "models/tokenizer.h"

#include <climits>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"

namespace hb::models {
namespace {

using nlohmann::json;

// GPT-2 byte-level alphabet: printable bytes map to themselves, the rest to U+0100 onwards.
std::vector<uint32_t> byte_to_unicode() {
  std::vector<uint32_t> map(256);
  uint32_t extra = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map[b] = printable ? uint32_t(b) : extra++;
  }
  return map;
}

// Byte-level string (UTF-8 of the mapped code points) -> raw bytes; false if a char is not in the alphabet.
bool byte_level_to_bytes(const std::string& s, const std::unordered_map<uint32_t, uint8_t>& inv, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (b < 0x80) { cp = b; len = 1; }
    else if (b < 0xE0) { cp = b & 0x1F; len = 2; }
    else if (b < 0xF0) { cp = b & 0x0F; len = 3; }
    else { cp = b & 0x07; len = 4; }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    auto it = inv.find(cp);
    if (it == inv.end()) return false;
    out.push_back(static_cast<char>(it->second));
    i += len;
  }
  return true;
}

Error tok_error(const std::string& path, const std::string& what) { return Error(ErrorCode::config, path + ": " + what); }

const json* find_split_regex(const json& pre, const std::string& path, bool& has_byte_level) {
  if (pre.is_null()) throw tok_error(path, "tokenizer.json has no pre_tokenizer; only byte-level BPE with a Split pattern is supported");
  std::string type = pre.value("type", std::string());
  if (type == "Sequence") {
    const json* found = nullptr;
    for (const auto& p : pre["pretokenizers"]) {
      const json* f = find_split_regex(p, path, has_byte_level);
      if (f) found = f;
    }
    return found;
  }
  if (type == "Split") {
    if (!pre.contains("pattern") || !pre["pattern"].contains("Regex")) throw tok_error(path, "Split pre-tokenizer without a Regex pattern");
    return &pre["pattern"]["Regex"];
  }
  if (type == "ByteLevel") {
    if (pre.value("use_regex", true)) {
      throw tok_error(path, "unsupported pre_tokenizer ByteLevel with use_regex=true (GPT-2 pattern); supported: Split(Tekken|Llama-3) + ByteLevel");
    }
    has_byte_level = true;
    return nullptr;
  }
  throw tok_error(path, "unsupported pre_tokenizer type '" + type + "'");
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::byte_level(int vocab_size) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->byte_vocab_ = true;
  t->id_to_bytes_.assign(std::max(vocab_size, 259), std::string());
  t->special_.assign(t->id_to_bytes_.size(), false);
  const char* names[] = {"<unk>", "<s>", "</s>"};
  for (int i = 0; i < 3; ++i) {
    t->id_to_bytes_[i] = names[i];
    t->special_[i] = true;
    t->added_by_first_[static_cast<unsigned char>(names[i][0])].push_back({names[i], i});
  }
  for (auto& [c, v] : t->added_by_first_) {
    std::sort(v.begin(), v.end(), [](const Added& a, const Added& b) { return a.content.size() > b.content.size(); });
  }
  for (int b = 0; b < 256; ++b) {
    t->id_to_bytes_[3 + b] = std::string(1, static_cast<char>(b));
    t->byte_id_[b] = 3 + b;
  }
  for (size_t i = 259; i < t->id_to_bytes_.size(); ++i) t->special_[i] = true;  // padding ids decode to nothing
  t->bos_id_ = 1;
  t->eos_id_ = 2;
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::from_file(const std::string& path) {
  if (!file_exists(path)) throw Error(ErrorCode::not_found, "tokenizer file '" + path + "' does not exist");
  json j = read_json_file(path);
  const json& model = j["model"];
  std::string type = model.is_object() ? model.value("type", std::string()) : "";
  if (type != "BPE") {
    throw tok_error(path, "unsupported tokenizer model type '" + type + "'; only byte-level BPE tokenizer.json files are supported");
  }
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    throw tok_error(path, "unsupported normalizer '" + j["normalizer"].value("type", std::string("?")) + "'");
  }
  bool has_byte_level = false;
  const json* regex = find_split_regex(j["pre_tokenizer"], path, has_byte_level);
  if (!regex || !has_byte_level) throw tok_error(path, "pre_tokenizer must be Split(regex) followed by ByteLevel(use_regex=false)");
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->pattern_ = pretokenizer_pattern_from_regex(regex->get<std::string>());
  t->ignore_merges_ = model.value("ignore_merges", false);

  auto b2u = byte_to_unicode();
  std::unordered_map<uint32_t, uint8_t> u2b;
  for (int b = 0; b < 256; ++b) u2b[b2u[b]] = static_cast<uint8_t>(b);
  const json& vocab = model["vocab"];
  int32_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) max_id = std::max(max_id, it.value().get<int32_t>());
  for (const auto& a : j["added_tokens"]) max_id = std::max(max_id, a["id"].get<int32_t>());
  t->id_to_bytes_.assign(max_id + 1, std::string());
  t->special_.assign(max_id + 1, false);
  std::string raw;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    int32_t id = it.value().get<int32_t>();
    if (!byte_level_to_bytes(it.key(), u2b, raw)) raw = it.key();  // not byte-level (a control token)
    t->id_to_bytes_[id] = raw;
    t->bytes_to_id_.emplace(raw, id);
  }
  for (int b = 0; b < 256; ++b) {
    auto it = t->bytes_to_id_.find(std::string(1, static_cast<char>(b)));
    t->byte_id_[b] = it == t->bytes_to_id_.end() ? -1 : it->second;
  }
  const json& merges = model["merges"];
  int32_t rank = 0;
  std::string left, right;
  for (const auto& m : merges) {
    std::string a, b;
    if (m.is_array()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      std::string s = m.get<std::string>();
      size_t sp = s.find(' ', 1);
      if (sp == std::string::npos) throw tok_error(path, "malformed merge '" + s + "'");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    }
    if (!byte_level_to_bytes(a, u2b, left) || !byte_level_to_bytes(b, u2b, right)) {
      throw tok_error(path, "merge '" + a + " " + b + "' is not byte-level");
    }
    auto l = t->bytes_to_id_.find(left), r = t->bytes_to_id_.find(right), m2 = t->bytes_to_id_.find(left + right);
    if (l == t->bytes_to_id_.end() || r == t->bytes_to_id_.end() || m2 == t->bytes_to_id_.end()) {
      ++rank;
      continue;  // a merge whose parts are not in the vocabulary can never apply
    }
    uint64_t key = (uint64_t(uint32_t(l->second)) << 32) | uint32_t(r->second);
    t->merges_.emplace(key, std::make_pair(rank++, m2->second));
  }
  for (const auto& a : j["added_tokens"]) {
    Added ad{a["content"].get<std::string>(), a["id"].get<int32_t>()};
    if (ad.content.empty()) continue;
    t->id_to_bytes_[ad.id] = ad.content;
    t->special_[ad.id] = a.value("special", false);
    t->added_by_first_[static_cast<unsigned char>(ad.content[0])].push_back(ad);
  }
  for (auto& [c, v] : t->added_by_first_) {
    std::sort(v.begin(), v.end(), [](const Added& x, const Added& y) { return x.content.size() > y.content.size(); });
  }
  // bos/eos: tokenizer_config.json beside the file, else the usual names.
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  std::string bos = "<s>", eos = "</s>";
  if (file_exists(dir + "tokenizer_config.json")) {
    json tc = read_json_file(dir + "tokenizer_config.json");
    auto name = [](const json& v, const std::string& d) {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_object() && v.contains("content")) return v["content"].get<std::string>();
      return d;
    };
    if (tc.contains("bos_token")) bos = name(tc["bos_token"], bos);
    if (tc.contains("eos_token")) eos = name(tc["eos_token"], eos);
  }
  t->bos_id_ = t->token_id(bos).value_or(-1);
  t->eos_id_ = t->token_id(eos).value_or(-1);
  return t;
}

std::optional<int32_t> Tokenizer::token_id(const std::string& content) const {
  auto f = added_by_first_.find(content.empty() ? 0 : static_cast<unsigned char>(content[0]));
  if (f != added_by_first_.end()) {
    for (const auto& a : f->second) {
      if (a.content == content) return a.id;
    }
  }
  auto it = bytes_to_id_.find(content);
  if (it != bytes_to_id_.end()) return it->second;
  return std::nullopt;
}

void Tokenizer::bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    auto it = bytes_to_id_.find(std::string(word));
    if (it != bytes_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> sym;
  sym.reserve(word.size());
  for (unsigned char b : word) {
    if (byte_id_[b] < 0) throw Error(ErrorCode::data, "byte " + std::to_string(b) + " has no token in the vocabulary");
    sym.push_back(byte_id_[b]);
  }
  while (sym.size() > 1) {
    int32_t best_rank = INT32_MAX, best_id = -1;
    size_t best_pos = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = merges_.find((uint64_t(uint32_t(sym[i])) << 32) | uint32_t(sym[i + 1]));
      if (it != merges_.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        best_id = it->second.second;
        best_pos = i;
      }
    }
    if (best_id < 0) break;
    sym[best_pos] = best_id;
    sym.erase(sym.begin() + best_pos + 1);
  }
  out.insert(out.end(), sym.begin(), sym.end());
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (byte_vocab_) {
    for (unsigned char b : text) out.push_back(byte_id_[b]);
    return;
  }
  for (auto piece : pretokenize(text, pattern_)) bpe_word(piece, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  size_t start = 0, i = 0;
  while (parse_special && i < text.size()) {
    auto f = added_by_first_.find(static_cast<unsigned char>(text[i]));
    const Added* hit = nullptr;
    if (f != added_by_first_.end()) {
      for (const auto& a : f->second) {
        if (text.compare(i, a.content.size(), a.content) == 0) {
          hit = &a;
          break;
        }
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    encode_plain(text.substr(start, i - start), out);
    out.push_back(hit->id);
    i += hit->content.size();
    start = i;
  }
  encode_plain(text.substr(start), out);
  return out;
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  static const std::string empty;
  if (id < 0 || size_t(id) >= id_to_bytes_.size()) return empty;
  return id_to_bytes_[id];
}

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && size_t(id) < special_.size() && special_[id]; }

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  for (auto id : ids) {
    if (skip_special && is_special(id)) continue;
    out += token_bytes(id);
  }
  return out;
}

std::string IncrementalDetokenizer::push(int32_t id) {
  if (!(skip_special_ && tok_.is_special(id))) pending_ += tok_.token_bytes(id);
  size_t n = utf8_complete_prefix(pending_);
  std::string out = sanitize_utf8(pending_.substr(0, n));
  pending_.erase(0, n);
  // A held-back tail longer than one character can never complete: release it sanitised.
  if (pending_.size() >= 4) {
    out += sanitize_utf8(pending_);
    pending_.clear();
  }
  return out;
}

std::string IncrementalDetokenizer::flush() {
  std::string out = sanitize_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace hb::models
