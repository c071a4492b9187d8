#include "models/tokenizer.h"

#include <climits>

#include <nlohmann/json.hpp>

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

std::string field_value(const json& j) {
  std::string v = j.dump();
  return v.size() > 80 ? v.substr(0, 80) + "..." : v;
}

// The ids a SpecialToken piece of a TemplateProcessing template stands for: its special_tokens entry's "ids".
std::vector<int32_t> template_token_ids(const json& post, const std::string& name, const std::string& path) {
  auto table = post.find("special_tokens");
  if (table == post.end() || !table->is_object() || !table->contains(name) || !(*table)[name].contains("ids")) {
    throw tok_error(path, "post_processor TemplateProcessing refers to special token '" + name +
                              "' but its special_tokens table does not define its ids");
  }
  return (*table)[name]["ids"].get<std::vector<int32_t>>();
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::byte_level(int vocab_size) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->byte_vocab_ = true;
  t->id_to_bytes_.assign(std::max(vocab_size, 259), std::string());
  t->special_.assign(t->id_to_bytes_.size(), false);
  const char* names[] = {"<unk>", "<s>", "</s>"};
  std::vector<AddedToken> added;
  for (int i = 0; i < 3; ++i) {
    t->id_to_bytes_[i] = names[i];
    t->special_[i] = true;
    t->added_ids_[names[i]] = i;
    AddedToken a;
    a.content = names[i];
    a.id = i;
    a.special = true;
    added.push_back(a);
  }
  t->added_.build(added, t->normalizer_);
  for (int b = 0; b < 256; ++b) {
    t->id_to_bytes_[3 + b] = std::string(1, static_cast<char>(b));
    t->byte_id_[b] = 3 + b;
  }
  for (size_t i = 259; i < t->id_to_bytes_.size(); ++i) t->special_[i] = true;  // padding ids decode to nothing
  t->bos_id_ = 1;
  t->eos_id_ = 2;
  t->post_prefix_ = {1};  // the presets' prompts start with BOS
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
  // Model fields that would change the ids and are not implemented: refused by name.
  for (const char* key : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty())) {
      throw tok_error(path, std::string("unsupported field 'model.") + key + "' = " + field_value(*it) + "; only null is supported");
    }
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  // The normalizer: what models/normalizer.h implements, anything else refused there by name.
  t->normalizer_ = Normalizer::from_json(j.value("normalizer", json()), path);
  bool has_byte_level = false;
  t->add_pre_steps(j.value("pre_tokenizer", json()), path, has_byte_level);
  if (!has_byte_level) {
    throw tok_error(path, "pre_tokenizer " + field_value(j.value("pre_tokenizer", json())) +
                              " has no ByteLevel step; only byte-level BPE tokenizers are supported");
  }
  t->set_post_processor(j.value("post_processor", json()), path);
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
  std::vector<AddedToken> added;
  for (const auto& a : j["added_tokens"]) {
    AddedToken ad;
    ad.content = a["content"].get<std::string>();
    ad.id = a["id"].get<int32_t>();
    if (ad.content.empty()) continue;
    ad.special = a.value("special", false);
    ad.lstrip = a.value("lstrip", false);
    ad.rstrip = a.value("rstrip", false);
    ad.single_word = a.value("single_word", false);
    ad.normalized = a.value("normalized", !ad.special);  // `tokenizers`' default
    t->id_to_bytes_[ad.id] = ad.content;
    t->special_[ad.id] = ad.special;
    t->added_ids_[ad.content] = ad.id;
    added.push_back(std::move(ad));
  }
  t->added_.build(added, t->normalizer_);
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

void Tokenizer::add_pre_steps(const json& pre, const std::string& path, bool& has_byte_level) {
  if (pre.is_null()) throw tok_error(path, "tokenizer.json has no pre_tokenizer; only byte-level BPE tokenizers are supported");
  const std::string type = pre.value("type", std::string());
  if (type == "Sequence") {
    for (const auto& p : pre.value("pretokenizers", json::array())) add_pre_steps(p, path, has_byte_level);
  } else if (type == "Split") {
    auto pat = pre.find("pattern");
    if (pat == pre.end() || !pat->is_object() || !pat->contains("Regex") || !(*pat)["Regex"].is_string()) {
      throw tok_error(path, "unsupported Split pre-tokenizer pattern " + field_value(pre.value("pattern", json())) +
                                "; supported: a Regex with the Tekken, Llama-3 or GPT-2 pattern");
    }
    const std::string behavior = pre.value("behavior", std::string("Isolated"));
    if (behavior != "Isolated" || pre.value("invert", false)) {
      throw tok_error(path, "unsupported Split pre-tokenizer behavior '" + behavior + "'" +
                                (pre.value("invert", false) ? " with invert=true" : "") + "; supported: Isolated");
    }
    PreStep st;
    st.split = true;
    try {
      st.pattern = pretokenizer_pattern_from_regex((*pat)["Regex"].get<std::string>());
    } catch (const Error& e) {
      throw tok_error(path, e.message());  // name the file too
    }
    pre_steps_.push_back(st);
  } else if (type == "ByteLevel") {
    PreStep st;
    st.prefix_space = pre.value("add_prefix_space", false);
    st.split = pre.value("use_regex", true);
    st.pattern = PreTokenizerPattern::gpt2;
    if (st.prefix_space || st.split) pre_steps_.push_back(st);
    has_byte_level = true;  // the byte -> unicode mapping itself is how the vocabulary is stored
  } else {
    throw tok_error(path, "unsupported pre_tokenizer type '" + type + "'; supported: Split, ByteLevel and a Sequence of them");
  }
}

void Tokenizer::set_post_processor(const json& post, const std::string& path) {
  if (post.is_null()) return;
  const std::string type = post.value("type", std::string());
  std::vector<int32_t> pre, suf;
  if (type == "ByteLevel") {
    return;  // offsets only (trim_offsets): no ids
  } else if (type == "Sequence") {
    // Each processor wraps what the previous ones produced.
    for (const auto& p : post.value("processors", json::array())) set_post_processor(p, path);
    return;
  } else if (type == "TemplateProcessing") {
    auto single = post.find("single");
    if (single == post.end() || !single->is_array()) throw tok_error(path, "post_processor TemplateProcessing has no 'single' template");
    bool seen_sequence = false;
    for (const auto& piece : *single) {
      if (piece.contains("Sequence")) {
        if (piece["Sequence"].value("id", std::string("A")) != "A" || seen_sequence) {
          throw tok_error(path, "unsupported TemplateProcessing single template " + field_value(*single));
        }
        seen_sequence = true;
      } else if (piece.contains("SpecialToken")) {
        auto ids = template_token_ids(post, piece["SpecialToken"].value("id", std::string()), path);
        (seen_sequence ? suf : pre).insert((seen_sequence ? suf : pre).end(), ids.begin(), ids.end());
      } else {
        throw tok_error(path, "unsupported TemplateProcessing piece " + field_value(piece));
      }
    }
    if (!seen_sequence) throw tok_error(path, "TemplateProcessing single template " + field_value(*single) + " has no sequence $A");
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    auto id_of = [&](const char* key) {
      auto it = post.find(key);
      if (it == post.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
        throw tok_error(path, "post_processor " + type + " field '" + key + "' = " + field_value(post.value(key, json())) +
                                  " is not a [token, id] pair");
      }
      return (*it)[1].get<int32_t>();
    };
    pre.push_back(id_of("cls"));
    suf.push_back(id_of("sep"));
  } else {
    throw tok_error(path, "unsupported field 'post_processor' of type '" + type +
                              "'; supported: TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence");
  }
  pre.insert(pre.end(), post_prefix_.begin(), post_prefix_.end());
  post_prefix_ = std::move(pre);
  post_suffix_.insert(post_suffix_.end(), suf.begin(), suf.end());
}

std::string Tokenizer::kind() const {
  if (byte_vocab_) return "bytes";
  std::string out = "bpe";
  for (const auto& st : pre_steps_) {
    if (!st.split) continue;
    out += st.pattern == PreTokenizerPattern::tekken ? "-tekken" : st.pattern == PreTokenizerPattern::llama3 ? "-llama3" : "-gpt2";
  }
  return out;
}

std::optional<int32_t> Tokenizer::token_id(const std::string& content) const {
  auto a = added_ids_.find(content);
  if (a != added_ids_.end()) return a->second;
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
  std::vector<std::string> pieces{std::string(text)}, next;
  for (const auto& st : pre_steps_) {
    next.clear();
    for (auto& piece : pieces) {
      if (st.prefix_space && piece[0] != ' ') piece.insert(piece.begin(), ' ');
      if (!st.split) {
        next.push_back(std::move(piece));
        continue;
      }
      for (auto part : pretokenize(piece, st.pattern)) next.emplace_back(part);
    }
    pieces.swap(next);
  }
  for (const auto& piece : pieces) bpe_word(piece, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special, bool add_special_tokens) const {
  std::vector<int32_t> out;
  if (add_special_tokens) out = post_prefix_;
  // As `tokenizers`' AddedVocabulary::extract_and_normalize: raw added tokens out of the text, the normalizer
  // on each piece between them, normalized added tokens out of that, then pre-tokenizer and BPE per piece.
  std::vector<AddedVocabulary::Split> raw = added_.split(text, false, parse_special);
  if (text.empty()) raw.push_back({text, -1});  // the normalizer still sees the empty text (Replace "" adds to it)
  for (const auto& piece : raw) {
    if (piece.id >= 0) {
      out.push_back(piece.id);
      continue;
    }
    if (normalizer_.empty() && !added_.has_normalized()) {
      encode_plain(piece.text, out);
      continue;
    }
    const std::string norm = normalizer_.apply(piece.text);
    for (const auto& part : added_.split(norm, true, parse_special)) {
      if (part.id >= 0) {
        out.push_back(part.id);
      } else {
        encode_plain(part.text, out);
      }
    }
  }
  if (add_special_tokens) out.insert(out.end(), post_suffix_.begin(), post_suffix_.end());
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
