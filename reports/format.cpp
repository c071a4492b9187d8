#include "reports/format.h"

#include <cmath>
#include <cstdio>

namespace hb::reports {

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s = buf;
  // "-0.000" -> "0.000": a value that rounds to zero has no sign.
  if (!s.empty() && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string fixed(const std::optional<double>& v, int digits) { return v ? fixed(*v, digits) : "n/a"; }

double rounded(double v, int digits) {
  if (!std::isfinite(v)) return v;
  double scale = std::pow(10.0, digits);
  double r = std::round(v * scale) / scale;
  return r == 0 ? 0.0 : r;
}

std::string percent(double fraction, int digits, bool sign) {
  std::string s = fixed(fraction * 100.0, digits);
  if (sign && s != "n/a" && s[0] != '-') s = "+" + s;
  return s == "n/a" ? s : s + "%";
}

std::string md_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace hb::reports
