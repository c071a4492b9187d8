#!/bin/sh
# Runs a test binary as uid/gid 65534 (ctest: hostile_corpus_unprivileged). Exit 77 (skipped) when not root,
# when setpriv is missing, or when uid 65534 cannot reach the binary or the corpus (a checkout under /root).
# Usage: run_unprivileged.sh BINARY CORPUS_DIR [ARGS...]
binary=$1
corpus=$2
shift 2
[ "$(id -u)" = 0 ] || { echo "not root: cannot drop to uid 65534; skipped"; exit 77; }
command -v setpriv >/dev/null || { echo "setpriv (util-linux) missing; skipped"; exit 77; }
drop="setpriv --reuid=65534 --regid=65534 --clear-groups"
$drop test -x "$binary" && $drop test -r "$corpus/manifest.txt" ||
  { echo "uid 65534 cannot reach $binary or $corpus; skipped"; exit 77; }
exec $drop "$binary" "$@"
