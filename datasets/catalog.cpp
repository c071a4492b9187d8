#include "datasets/catalog.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/hash.h"
#include "harness/base/strings.h"

namespace fs = std::filesystem;

namespace hb::datasets {
namespace {
std::mutex g_verified_mutex;
std::map<std::string, std::string> g_verified;  // path -> sha256 already checked in this process

std::vector<std::string> manifest_files() {
  std::vector<std::string> v;
  for (const auto& e : manifest()) v.push_back(e.file);
  return v;
}

const ManifestEntry& entry_or_throw(const std::string& file) {
  const ManifestEntry* e = find_entry(file);
  if (!e) {
    std::string hint = did_you_mean(file, manifest_files());
    throw Error(ErrorCode::not_found, "dataset file '" + file + "' is not in the manifest" +
                                          (hint.empty() ? "" : "; " + hint) + " (see `hybench datasets list`)");
  }
  return *e;
}

size_t write_to_file(char* ptr, size_t size, size_t nmemb, void* userdata) {
  return std::fwrite(ptr, size, nmemb, static_cast<FILE*>(userdata)) * size;
}
}  // namespace

Catalog::Catalog(std::string data_dir, bool allow_download) : data_dir_(std::move(data_dir)), allow_download_(allow_download) {
  if (data_dir_.empty()) {
    if (const char* env = std::getenv("HYBENCH_DATA_DIR")) data_dir_ = env;
  }
  if (!data_dir_.empty()) {
    struct stat st {};
    if (::stat(data_dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error(ErrorCode::usage, "data directory '" + data_dir_ +
                                        "' does not exist or is not a directory; pass --data-dir DIR with the suite files "
                                        "laid out as <suite>/<file>, or leave it out to use the cache");
  }
}

std::string Catalog::cache_dir() const {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/hybench/datasets";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/hybench/datasets";
  return "/tmp/hybench-cache/datasets";
}

std::string Catalog::locate(const ManifestEntry& e) const {
  if (!data_dir_.empty()) {
    std::string p = data_dir_ + "/" + e.file;
    if (file_exists(p)) return p;
  }
  std::string c = cache_dir() + "/" + e.file;
  if (file_exists(c)) return c;
  return "";
}

std::string Catalog::path(const std::string& file) const {
  const ManifestEntry& e = entry_or_throw(file);
  std::string where = locate(e);
  if (where.empty()) {
    if (!allow_download_)
      throw Error(ErrorCode::not_found, "dataset file '" + file + "' was not found in " +
                                            (data_dir_.empty() ? std::string("(no --data-dir)") : "'" + data_dir_ + "'") +
                                            " nor in the cache '" + cache_dir() +
                                            "'; run `hybench datasets fetch` or pass --data-dir");
    where = download(e);
  }
  {
    std::lock_guard<std::mutex> lock(g_verified_mutex);
    auto it = g_verified.find(where);
    if (it != g_verified.end()) return where;
  }
  std::string actual = sha256_file_hex(where);
  if (actual != e.sha256)
    throw Error(ErrorCode::data, "dataset file '" + where + "' has sha256 " + actual + " but the manifest expects " +
                                     e.sha256 + "; restore the file (or delete it from the cache and run `hybench datasets fetch`)");
  std::lock_guard<std::mutex> lock(g_verified_mutex);
  g_verified[where] = actual;
  return fs::absolute(where).string();
}

std::vector<Catalog::Check> Catalog::verify_all() const {
  std::vector<Check> out;
  for (const auto& e : manifest()) {
    Check c{&e, locate(e), "", false, ""};
    if (c.where.empty()) {
      c.problem = "missing";
    } else {
      try {
        c.actual_sha256 = sha256_file_hex(c.where);
        c.ok = c.actual_sha256 == e.sha256;
        if (!c.ok) c.problem = "sha256 " + c.actual_sha256 + " != expected " + e.sha256;
      } catch (const Error& err) {
        c.problem = err.message();
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> Catalog::fetch_all(bool force) const {
  std::vector<std::string> fetched;
  for (const auto& e : manifest()) {
    std::string cached = cache_dir() + "/" + e.file;
    if (!force && file_exists(cached) && sha256_file_hex(cached) == e.sha256) continue;
    download(e);
    fetched.push_back(e.file);
  }
  return fetched;
}

std::string Catalog::download(const ManifestEntry& e) const {
  std::string dest = cache_dir() + "/" + e.file;
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  if (ec) throw Error(ErrorCode::io, "cannot create cache directory '" + fs::path(dest).parent_path().string() + "': " + ec.message());
  std::string tmp = dest + ".part";
  log_info("downloading {} from {}", e.file, e.url);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(ErrorCode::io, "cannot write '" + tmp + "': " + std::strerror(errno));
  CURL* curl = curl_easy_init();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, e.url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  std::fclose(f);
  if (rc != CURLE_OK || status != 200) {
    std::remove(tmp.c_str());
    std::string why = rc != CURLE_OK ? std::string(errbuf[0] ? errbuf : curl_easy_strerror(rc)) : "HTTP " + std::to_string(status);
    throw Error(ErrorCode::network, "downloading dataset file '" + e.file + "' from " + e.url + " failed: " + why +
                                        "; check the network or pass --data-dir with a local mirror");
  }
  std::string actual = sha256_file_hex(tmp);
  if (actual != e.sha256) {
    std::remove(tmp.c_str());
    throw Error(ErrorCode::data, "downloaded '" + e.file + "' has sha256 " + actual + " but the manifest expects " + e.sha256 +
                                     "; the upstream file changed: use a local mirror with --data-dir");
  }
  if (std::rename(tmp.c_str(), dest.c_str()) != 0)
    throw Error(ErrorCode::io, "cannot move '" + tmp + "' to '" + dest + "': " + std::strerror(errno));
  return dest;
}

}  // namespace hb::datasets
