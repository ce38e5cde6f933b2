#!/usr/bin/env bash
# Compares the uWebSockets.js binaries installed from the registry with those of the
# official release they republish, file by file (SHA-256): the one native dependency that
# speaks to the network should be the upstream build, byte for byte.
#
#   git clone --depth 1 --branch v20.57.0 https://github.com/uNetworking/uWebSockets.js /tmp/uws-v20.57.0
#   bash deploy/check-uws.sh /tmp/uws-v20.57.0
#
# Exit 0 when every binary of the package is in the release with the same checksum.
set -euo pipefail
official=${1:?usage: check-uws.sh DIR-OF-THE-OFFICIAL-RELEASE}
installed=$(cd "$(dirname "$0")/.." && pwd)/node_modules/@btc-vision/uwebsockets.js
[ -d "$installed" ] || { echo "not installed: $installed (npm install first)" >&2; exit 2; }
status=0
for file in "$installed"/uws_*.node; do
  name=$(basename "$file")
  ours=$(sha256sum "$file" | cut -d' ' -f1)
  if [ ! -f "$official/$name" ]; then
    echo "MISSING  $name (not in $official)"; status=1; continue
  fi
  theirs=$(sha256sum "$official/$name" | cut -d' ' -f1)
  if [ "$ours" = "$theirs" ]; then echo "same     $name $ours"; else echo "DIFFERS  $name ours $ours, official $theirs"; status=1; fi
done
exit $status
