#pragma once
// SHA-256 (OpenSSL libcrypto) for dataset verification and content-addressed configs.
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace hb {

std::string sha256_hex(std::string_view bytes);
// Streams a file; throws Error{io} naming the path when it cannot be read.
std::string sha256_file_hex(const std::string& path);
// Hash of the canonical dump of a JSON value (nlohmann sorts object keys), first 16 hex digits.
std::string json_hash(const nlohmann::json& value);

}  // namespace hb
