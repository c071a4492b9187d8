#pragma once
// Where suite data files are found: --data-dir / HYBENCH_DATA_DIR (a local mirror laid out as
// <suite>/<file>), then the user cache (~/.cache/hybench/datasets or $XDG_CACHE_HOME), then a download of
// the upstream URL into the cache. Every file is verified against the manifest's sha256.
#include <string>
#include <vector>

#include "datasets/manifest.h"

namespace hb::datasets {

class Catalog {
 public:
  // data_dir: explicit mirror ("" = use HYBENCH_DATA_DIR if set). allow_download: fetch missing files.
  explicit Catalog(std::string data_dir = "", bool allow_download = true);
  // Absolute path of a verified file, e.g. path("gsm8k/test.jsonl"). Throws Error with what to do.
  std::string path(const std::string& file) const;
  const std::string& data_dir() const { return data_dir_; }
  std::string cache_dir() const;

  struct Check {
    const ManifestEntry* entry;
    std::string where;     // path found, "" when missing
    std::string actual_sha256;
    bool ok;
    std::string problem;   // "" when ok
  };
  // Checks every manifest file that can be found locally (mirror or cache); never downloads.
  std::vector<Check> verify_all() const;
  // Downloads every file missing from the cache (or all with force); returns the files fetched.
  std::vector<std::string> fetch_all(bool force) const;

 private:
  std::string locate(const ManifestEntry& e) const;  // local path or ""
  std::string download(const ManifestEntry& e) const;
  std::string data_dir_;
  bool allow_download_;
};

}  // namespace hb::datasets
