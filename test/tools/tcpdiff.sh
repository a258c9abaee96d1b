#!/usr/bin/env bash
# Shows how wirescope's text output differs from tcpdump's on one capture:
#   test/tools/tcpdiff.sh FILE [tcpdump flags...]      (default flags: -n)
# Builds nothing: run `npx tsc -p tsconfig.json` first.
set -u
f=$1; shift
flags=("$@"); [ ${#flags[@]} -eq 0 ] && flags=(-n)
root=$(cd "$(dirname "$0")/../.." && pwd)
diff <(TZ=UTC tcpdump "${flags[@]}" -r "$f" 2>/dev/null) <(TZ=UTC node "$root/bin/wirescope.js" "${flags[@]}" -r "$f" 2>/dev/null) && echo "identical"
