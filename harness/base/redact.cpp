#include "harness/base/redact.h"

namespace hb {
namespace {

// Characters that may appear in a URL's authority before the '@' (RFC 3986 userinfo + percent escapes).
bool userinfo_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '%': case '!': case '$': case '&': case '\'':
    case '(': case ')': case '*': case '+': case ',': case ';': case '=': case ':':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string redact_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    size_t auth = scheme_end + 3;
    out.append(text.substr(pos, auth - pos));
    // The userinfo ends at the first '@' before any '/', '?', '#' or a character a URL cannot hold there.
    size_t i = auth;
    while (i < text.size() && userinfo_char(text[i])) ++i;
    if (i < text.size() && text[i] == '@' && i > auth) {
      std::string_view info = text.substr(auth, i - auth);
      size_t colon = info.find(':');
      if (colon == std::string_view::npos) out += "***";
      else out.append(info.substr(0, colon)).append(":***");
      pos = i;  // the '@' and the host follow
    } else {
      pos = auth;
    }
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace hb
