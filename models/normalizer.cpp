#include "models/normalizer.h"

#include <cctype>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "harness/base/error.h"
#include "models/unicode_normalize.h"

namespace hb::models {
namespace {

using nlohmann::json;

Error norm_error(const std::string& path, const std::string& what) { return Error(ErrorCode::config, path + ": " + what); }

std::string shown(const json& j) {
  std::string v = j.dump();
  return v.size() > 80 ? v.substr(0, 80) + "..." : v;
}

// A Replace regex that only spells a literal string (no metacharacter, or metacharacters escaped with a
// backslash) matches exactly like that string; anything else would need Oniguruma's semantics.
std::optional<std::string> regex_literal(const std::string& re) {
  static const char* kMeta = "\\^$.|?*+()[]{}";
  std::string out;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\') {
      if (i + 1 >= re.size()) return std::nullopt;
      char n = re[++i];
      if (!std::ispunct(static_cast<unsigned char>(n))) return std::nullopt;  // \s, \d, \p{..}, \n ...: a class or escape
      out.push_back(n);
    } else if (std::strchr(kMeta, c) != nullptr) {
      return std::nullopt;
    } else {
      out.push_back(c);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Rust's str::replace: leftmost non-overlapping matches; an empty pattern matches at every character boundary.
std::string replace_all(std::string_view text, const std::string& pattern, const std::string& content) {
  std::string out;
  if (pattern.empty()) {
    auto cps = utf8_code_points(text);
    out += content;
    for (uint32_t cp : cps) {
      append_utf8(cp, out);
      out += content;
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t hit = text.find(pattern, start);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(start, hit - start));
    out += content;
    start = hit + pattern.size();
  }
  out.append(text.substr(start));
  return out;
}

std::string strip(std::string_view text, bool left, bool right) {
  auto cps = utf8_code_points(text);
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && is_unicode_whitespace(cps[b])) ++b;
  }
  if (right) {
    while (e > b && is_unicode_whitespace(cps[e - 1])) --e;
  }
  return to_utf8(std::vector<uint32_t>(cps.begin() + b, cps.begin() + e));
}

}  // namespace

Normalizer Normalizer::from_json(const json& j, const std::string& path) {
  Normalizer n;
  if (!j.is_null()) n.add(j, path);
  return n;
}

void Normalizer::add(const json& j, const std::string& path) {
  if (!j.is_object()) throw norm_error(path, "unsupported field 'normalizer' = " + shown(j) + "; expected an object with a type");
  const std::string type = j.value("type", std::string());
  auto string_field = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      throw norm_error(path, "normalizer " + type + " field '" + key + "' = " + shown(j.value(key, json())) + " is not a string");
    }
    return it->get<std::string>();
  };
  Step st{};
  if (type == "Sequence") {
    auto list = j.find("normalizers");
    if (list == j.end() || !list->is_array()) throw norm_error(path, "normalizer Sequence has no 'normalizers' list");
    for (const auto& sub : *list) add(sub, path);
    return;
  } else if (type == "NFC") {
    st.kind = Kind::nfc;
  } else if (type == "NFD") {
    st.kind = Kind::nfd;
  } else if (type == "NFKC") {
    st.kind = Kind::nfkc;
  } else if (type == "NFKD") {
    st.kind = Kind::nfkd;
  } else if (type == "Lowercase") {
    st.kind = Kind::lowercase;
  } else if (type == "Strip") {
    st.kind = Kind::strip;
    st.left = j.value("strip_left", true);
    st.right = j.value("strip_right", true);
  } else if (type == "Prepend") {
    st.kind = Kind::prepend;
    st.content = string_field("prepend");
  } else if (type == "Replace") {
    st.kind = Kind::replace;
    st.content = string_field("content");
    const json pat = j.value("pattern", json());
    if (pat.is_object() && pat.contains("String") && pat["String"].is_string()) {
      st.pattern = pat["String"].get<std::string>();
    } else if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string()) {
      auto lit = regex_literal(pat["Regex"].get<std::string>());
      if (!lit) {
        throw norm_error(path, "unsupported field 'normalizer' Replace pattern Regex '" + pat["Regex"].get<std::string>() +
                                   "'; supported: a String pattern, or a Regex that is a plain literal");
      }
      st.pattern = *lit;
    } else {
      throw norm_error(path, "normalizer Replace field 'pattern' = " + shown(pat) + " is neither {String: ...} nor {Regex: ...}");
    }
  } else {
    throw norm_error(path, "unsupported field 'normalizer' of type '" + type + "' (" + shown(j) +
                               "); supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend and a Sequence of them");
  }
  steps_.push_back(std::move(st));
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const auto& st : steps_) {
    switch (st.kind) {
      case Kind::nfc: s = unicode_normalize(s, NormalForm::nfc); break;
      case Kind::nfd: s = unicode_normalize(s, NormalForm::nfd); break;
      case Kind::nfkc: s = unicode_normalize(s, NormalForm::nfkc); break;
      case Kind::nfkd: s = unicode_normalize(s, NormalForm::nfkd); break;
      case Kind::lowercase: s = unicode_lowercase(s); break;
      case Kind::strip: s = strip(s, st.left, st.right); break;
      case Kind::replace: s = replace_all(s, st.pattern, st.content); break;
      case Kind::prepend:
        if (!s.empty()) s = st.content + s;
        break;
    }
  }
  return s;
}

std::string Normalizer::describe() const {
  static const char* kNames[] = {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "Replace", "Prepend"};
  std::string out;
  for (const auto& st : steps_) out += (out.empty() ? "" : "+") + std::string(kNames[static_cast<int>(st.kind)]);
  return out;
}

}  // namespace hb::models
