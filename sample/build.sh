#!/usr/bin/env bash
# Rebuilds bloatscope's built-in sample image from sample/Dockerfile with buildah, without a
# Docker engine or a base image from a registry (the base is Debian's busybox-static), and
# writes it as an oci-archive with gzip layers:
#
#   bash sample/build.sh [OUTPUT]     default OUTPUT: src/bloatscope/sample/sample.oci.tar
#
# Needs root and Debian's package registry. Uses its own buildah storage in a temp dir
# (overlay; STORAGE_DRIVER=vfs where overlayfs is not available) and removes it afterwards.
# --timestamp 0, a pinned busybox-static and deterministic payloads make rebuilds reproducible.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-$repo/src/bloatscope/sample/sample.oci.tar}
busybox_version=${BUSYBOX_VERSION:-1:1.35.0-4+deb12u1+b1}
driver=${STORAGE_DRIVER:-overlay}

need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need buildah buildah; need skopeo skopeo; need dpkg-deb dpkg

work=$(mktemp -d)
B() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver "$driver" "$@"; }
cleanup() {
  B rm --all >/dev/null 2>&1 || true
  B rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# busybox-static, the pinned version if Debian still has it, else the current one
mkdir -p "$work/deb" && chmod 755 "$work" "$work/deb"
fetch() { (cd "$work/deb" && apt-get download -q "$1" >/dev/null 2>&1); }
fetch "busybox-static=$busybox_version" || fetch busybox-static \
  || { apt-get update -qq && fetch busybox-static; }
dpkg-deb -x "$work"/deb/busybox-static_*.deb "$work/deb/x"
got=$(dpkg-deb -f "$work"/deb/busybox-static_*.deb Version)
[ "$got" = "$busybox_version" ] || echo "warning: busybox-static $got, not $busybox_version: sizes in the Dockerfile's base-layer comment change" >&2

# the base rootfs: busybox, the applets the Dockerfile uses, a minimal /etc, the rnd helper
r=$work/rootfs
mkdir -p "$r"/bin "$r"/etc "$r"/root "$r"/tmp "$r"/usr/local/bin
cp "$work/deb/x/bin/busybox" "$r/bin/busybox"
for a in sh ash awk cat chmod cp echo head ln ls mkdir mv rm rmdir touch xxd; do
  ln -s busybox "$r/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\n' > "$r/etc/group"
cat > "$r/usr/local/bin/rnd" <<'RND'
#!/bin/sh
# rnd SEED BYTES: BYTES deterministic pseudo-random (incompressible) bytes on stdout
awk -v s="$1" -v n="$2" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%02x", int(rand() * 256) % 256 }' | xxd -r -p
RND
chmod 755 "$r/usr/local/bin/rnd" "$r/bin" "$r/etc" "$r/usr" "$r/usr/local" "$r/usr/local/bin"
chmod 644 "$r/etc/passwd" "$r/etc/group"
chmod 700 "$r/root"
chmod 1777 "$r/tmp"
mkdir -p "$work/ctx"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$work/ctx/rootfs.tar" .
cp "$here/Dockerfile" "$work/ctx/Dockerfile"

B bud -q --layers --isolation chroot --timestamp 0 --identity-label=false \
  -t localhost/sample:latest "$work/ctx" >/dev/null
B push -q --compression-format gzip localhost/sample:latest "oci-archive:$work/pushed.tar:sample:latest" >/dev/null
# the blobs are reproducible already; repack the archive itself without the push's mtimes
mkdir "$work/oci" && tar -xf "$work/pushed.tar" -C "$work/oci"
mkdir -p "$(dirname "$out")"
tar --format=ustar --sort=name --mtime=@0 --owner=root:0 --group=root:0 \
  -C "$work/oci" -cf "$work/sample.oci.tar" blobs index.json oci-layout
mv "$work/sample.oci.tar" "$out"

size=$(stat -c %s "$out")
echo "wrote $out: $size bytes"
[ "$size" -lt 2000000 ] || { echo "error: $out is $size bytes, over the 2 MB budget" >&2; exit 1; }
