#!/usr/bin/env bash
# Runs a command in the Debian 13 root of .ci/debian13 (where `bash .ci/debian13 -- npm ci`
# installed this tree at /work/idv), with this tree's .idv/ (the bench indexes, clients
# files and audit trails) at the same path inside, so that a server there serves the very
# index the host's does. Mounts are made once and left for the next call.
#   bash bench/in-debian13.sh ROOT COMMAND ARGS...
set -euo pipefail
root=$1; shift
idv=$(cd "$(dirname "$0")/.." && pwd)/.idv
for m in proc dev sys; do mountpoint -q "$root/$m" || mount --rbind "/$m" "$root/$m"; done
mkdir -p "$idv" "$root$idv"
mountpoint -q "$root$idv" || mount --bind "$idv" "$root$idv"
exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
