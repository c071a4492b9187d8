#pragma once
// What the sandbox's read-only filesystem holds: only what the Python interpreter needs, found by asking
// the interpreter itself once (outside any box): its executable, its standard library, the folders of the
// shared libraries it and its extension modules map, its ELF loader, /etc/ld.so.cache, and the symbolic
// links on the way to each of them (/lib -> usr/lib, /usr/bin/python3 -> python3.11, ...). Nothing of the
// caller: no home, no working directory, no results database, no input files, no other users' files.
#include <string>
#include <utility>
#include <vector>

namespace hb::sandbox {

struct BoxLayout {
  std::string python;                                        // the interpreter's real path (exec'd in the box)
  std::vector<std::string> ro_binds;                         // host paths bound read-only at the same place
  std::vector<std::pair<std::string, std::string>> symlinks;  // (link target, link path in the box)

  // Adds `path` (a file or folder) and every symbolic link met on the way to it.
  void expose(const std::string& path);
  // The bubblewrap arguments that build this tree (--ro-bind, --symlink), in a valid order.
  std::vector<std::string> bwrap_args() const;
};

// Runs `python` once with a short script and builds its layout. Throws Error{config} when it does not run.
BoxLayout probe_python_layout(const std::string& python);

// The ELF program interpreter (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2) of an executable, or "".
std::string elf_interpreter(const std::string& executable);

}  // namespace hb::sandbox
