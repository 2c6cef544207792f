#!/bin/sh
# make-image.sh ROOTFS.tar OUT.tar: a two-layer image in docker's archive format (what
# `docker save` writes), for lesson 6 of docs/how-containers-work.md. Layer 1 is the rootfs;
# layer 2 adds /etc/motd and deletes /bin/vi with a whiteout (a ".wh." file: how a layer
# says "this path is gone" to overlayfs). The config lists each layer's sha256 (diff_ids):
# tsbox load checks every one.
set -eu
rootfs=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$rootfs" "$work/layer1.tar"
mkdir -p "$work/l2/etc" "$work/l2/bin"
echo 'hello from layer 2' > "$work/l2/etc/motd"
: > "$work/l2/bin/.wh.vi"
tar -C "$work/l2" -cf "$work/layer2.tar" etc bin
d1=$(sha256sum "$work/layer1.tar" | cut -d' ' -f1)
d2=$(sha256sum "$work/layer2.tar" | cut -d' ' -f1)
cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:$d1","sha256:$d2"]}}
JSON
echo '[{"Config":"config.json","RepoTags":["lesson:layers"],"Layers":["layer1.tar","layer2.tar"]}]' > "$work/manifest.json"
tar -C "$work" -cf "$out" manifest.json config.json layer1.tar layer2.tar
