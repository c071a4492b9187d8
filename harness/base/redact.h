#pragma once
// Credentials written into URLs ("http://user:secret@host/v1") must never reach the database, a log line
// or a report. redact_credentials rewrites every URL userinfo in a text: "user:secret@" -> "user:***@",
// a bare "token@" -> "***@". The text around the URLs is kept as is. Use --api-key-env for keys instead.
#include <string>
#include <string_view>

namespace hb {

std::string redact_credentials(std::string_view text);

}  // namespace hb
