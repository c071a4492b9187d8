#include "harness/sandbox/box_layout.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/process.hpp>

#include "harness/base/error.h"

namespace hb::sandbox {
namespace {

namespace bp = boost::process;

// Imports every extension module of the standard library so that /proc/self/maps lists the shared libraries
// any of them needs, then prints what the box must hold. Run with -I -S: no site, no user paths.
constexpr const char* kProbeScript = R"PY(
import glob, importlib, os, sys, sysconfig
paths = sysconfig.get_paths()
for f in sorted(glob.glob(os.path.join(paths['platstdlib'], 'lib-dynload', '*.so'))):
    try:
        importlib.import_module(os.path.basename(f).split('.')[0])
    except BaseException:
        pass
print('exe', os.path.realpath(sys.executable))
print('dir', paths['stdlib'])
print('dir', paths['platstdlib'])
with open('/proc/self/maps') as maps:
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith('/') and '.so' in parts[5]:
            print('lib', parts[5].strip())
)PY";

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string c;
  while (std::getline(ss, c, '/'))
    if (!c.empty() && c != ".") out.push_back(c);
  return out;
}

bool is_under(const std::string& path, const std::string& folder) {
  return path == folder || (path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 &&
                            (folder == "/" || path[folder.size()] == '/'));
}

}  // namespace

void BoxLayout::expose(const std::string& path) {
  std::vector<std::string> todo = components(path);
  std::reverse(todo.begin(), todo.end());  // a stack: next component at the back
  std::string at;                           // resolved so far, "" = /
  for (int hops = 0; !todo.empty();) {
    std::string c = todo.back();
    todo.pop_back();
    if (c == "..") {
      at = parent_of(at.empty() ? "/" : at);
      if (at == "/") at.clear();
      continue;
    }
    std::string next = at + "/" + c;
    struct stat st;
    if (lstat(next.c_str(), &st) != 0) return;  // missing: nothing to expose
    if (!S_ISLNK(st.st_mode)) {
      at = next;
      continue;
    }
    if (++hops > 40) return;
    char buf[4096];
    ssize_t n = readlink(next.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return;
    std::string target(buf, static_cast<size_t>(n));
    if (std::none_of(symlinks.begin(), symlinks.end(), [&](const auto& s) { return s.second == next; }))
      symlinks.emplace_back(target, next);
    std::vector<std::string> t = components(target);
    for (auto it = t.rbegin(); it != t.rend(); ++it) todo.push_back(*it);
    if (!target.empty() && target[0] == '/') at.clear();
  }
  if (at.empty()) return;  // never bind the whole root
  for (const auto& b : ro_binds)
    if (is_under(at, b)) return;
  ro_binds.erase(std::remove_if(ro_binds.begin(), ro_binds.end(), [&](const std::string& b) { return is_under(b, at); }),
                 ro_binds.end());
  ro_binds.push_back(at);
}

std::vector<std::string> BoxLayout::bwrap_args() const {
  std::vector<std::string> args;
  std::vector<std::string> binds = ro_binds;
  std::sort(binds.begin(), binds.end());  // parents before children
  for (const auto& b : binds) {
    args.insert(args.end(), {"--ro-bind", b, b});
  }
  for (const auto& [target, link] : symlinks) args.insert(args.end(), {"--symlink", target, link});
  return args;
}

std::string elf_interpreter(const std::string& executable) {
  std::ifstream f(executable, std::ios::binary);
  Elf64_Ehdr eh;
  if (!f.read(reinterpret_cast<char*>(&eh), sizeof eh)) return "";
  if (std::string(reinterpret_cast<char*>(eh.e_ident), 4) != ELFMAG || eh.e_ident[EI_CLASS] != ELFCLASS64) return "";
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    f.seekg(static_cast<std::streamoff>(eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize));
    if (!f.read(reinterpret_cast<char*>(&ph), sizeof ph)) return "";
    if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096) continue;
    std::string s(static_cast<size_t>(ph.p_filesz), '\0');
    f.seekg(static_cast<std::streamoff>(ph.p_offset));
    if (!f.read(&s[0], static_cast<std::streamsize>(s.size()))) return "";
    return std::string(s.c_str());
  }
  return "";
}

BoxLayout probe_python_layout(const std::string& python) {
  bp::ipstream out;
  std::error_code ec;
  bp::child c(python, std::vector<std::string>{"-I", "-S", "-c", kProbeScript}, bp::std_in < bp::null,
              bp::std_out > out, bp::std_err > bp::null, ec);
  if (ec) throw Error(ErrorCode::config, "sandbox: cannot run " + python + ": " + ec.message() + "; pass a working python3");
  BoxLayout layout;
  std::vector<std::string> libs;
  std::string line;
  while (std::getline(out, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string kind = line.substr(0, space), path = line.substr(space + 1);
    if (kind == "exe") layout.python = path;
    if (kind == "dir") layout.expose(path);
    if (kind == "lib") libs.push_back(path);
  }
  c.wait(ec);
  if (ec || c.exit_code() != 0 || layout.python.empty())
    throw Error(ErrorCode::config, "sandbox: " + python + " -I -S failed to describe itself (exit " +
                                       std::to_string(ec ? -1 : c.exit_code()) + "); pass a working python3");
  layout.expose(layout.python);
  std::string loader = elf_interpreter(layout.python);
  if (!loader.empty()) layout.expose(loader);
  for (const auto& lib : libs) {
    layout.expose(lib);               // the file (and its links), then its folder: sonames are links beside it
    layout.expose(parent_of(lib));
  }
  if (access("/etc/ld.so.cache", R_OK) == 0) layout.expose("/etc/ld.so.cache");
  return layout;
}

}  // namespace hb::sandbox
