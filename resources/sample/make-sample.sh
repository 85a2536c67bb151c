#!/usr/bin/env bash
# make-sample.sh - rebuild resources/sample/sample.docker.tar, the small REAL
# image that `layerscope --sample` opens, and its merged-tree oracle
# resources/sample/sample.tree.tsv.
#
# usage: ./make-sample.sh          (no arguments; any cwd; writes next to itself)
#
# Built only with third-party tools: umoci (init/new/unpack/repack/config/raw
# add-layer) makes an OCI layout one layer per step, GNU tar packs the one
# hand-made layer (the opaque-directory layer: umoci never writes
# .wh..wh..opq by itself), and skopeo writes the docker-archive.  Python 3
# (stdlib only) makes the deterministic binary contents and checks the result.
#
# Needs: umoci (0.4.7 tested), skopeo (1.9.3 tested), GNU tar, python3,
# sha256sum.  Root is NOT required: when EUID != 0, `umoci unpack` runs with
# --rootless (repack takes that mode from the bundle); the image is the same
# byte for byte either way (every file in it is owned by 0:0).
# Reproducible: running it twice gives a byte-identical sample.docker.tar.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_TAR="$HERE/sample.docker.tar"
OUT_TREE="$HERE/sample.tree.tsv"
REF=layerscope/sample:1

export LC_ALL=C.UTF-8 TZ=UTC SOURCE_DATE_EPOCH=1700000000
CREATED=2023-11-14T22:13:20Z            # = @SOURCE_DATE_EPOCH
umask 022

for t in umoci skopeo tar python3 sha256sum; do
  command -v "$t" >/dev/null || { echo "make-sample.sh: $t not found" >&2; exit 1; }
done
tar --version | head -1 | grep -q 'GNU tar' || { echo "make-sample.sh: GNU tar required" >&2; exit 1; }

ROOTLESS=(); [[ $EUID -ne 0 ]] && ROOTLESS=(--rootless)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/layerscope-sample.XXXXXX")
trap 'chmod -R u+rwx "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT

L="$WORK/layout"; TAG=sample; B="$WORK/bundle"; R="$B/rootfs"

# ------------------------------------------------------------------ helpers
settime() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + ; }
# a layer from the bundle: everything that changed since the last unpack/repack
u_layer() {
  settime "$R"
  umoci repack --refresh-bundle --image "$L:$TAG" \
    --history.created "$CREATED" --history.created_by "$1" "$B" >/dev/null
}
# a metadata-only step: an `empty_layer: true` history entry
u_cfg() { umoci config --image "$L:$TAG" --history.created "$CREATED" --history.created_by "$1" "${@:2}"; }
# umoci repack bases the new layer on the manifest the bundle was unpacked
# from, so a config step between two repacks needs a fresh unpack.
u_reopen() { chmod -R u+rwx "$B" 2>/dev/null || true; rm -rf "$B"; umoci unpack "${ROOTLESS[@]}" --image "$L:$TAG" "$B" >/dev/null; }
# Docker-like "dir:<hash>" / "file:<hash>": sha256 over the sorted (path, sha256) list
content_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }
# deterministic incompressible bytes: SHA-256 in counter mode over a seed
prng() { python3 - "$1" "$2" "$3" <<'PY'
import hashlib, sys
seed, n, path = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
out = bytearray(); i = 0
while len(out) < n:
    out += hashlib.sha256(seed + i.to_bytes(8, 'big')).digest(); i += 1
open(path, 'wb').write(bytes(out[:n]))
PY
}

# ------------------------------------------------------------------ empty image
umoci init --layout "$L"
umoci new --image "$L:$TAG"
umoci config --image "$L:$TAG" --no-history --created "$CREATED" --author "LayerScope sample" \
  --architecture amd64 --os linux
u_reopen

# ================================================================== L1 base rootfs
mkdir -p "$R"/{bin,etc,root,tmp,srv,usr/bin,usr/lib/demo,usr/local/bin,usr/share/doc/demo-base} \
         "$R"/{var/log,var/cache/apt/archives/partial}
chmod 0700 "$R/root"; chmod 1777 "$R/tmp"
cat > "$R/usr/lib/os-release" <<'EOF'
PRETTY_NAME="LayerScope Demo Linux 1.0 (sample)"
NAME="LayerScope Demo Linux"
VERSION_ID="1.0"
VERSION="1.0 (sample)"
ID=lsdemo
HOME_URL="https://example.org/layerscope"
EOF
ln -s ../usr/lib/os-release "$R/etc/os-release"
cat > "$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/app-shell
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/srv/app:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$R/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
EOF
echo sample > "$R/etc/hostname"
cat > "$R/bin/app-shell" <<'EOF'
#!/bin/sh
# app-shell: the tiny "shell" of the LayerScope sample image (not a real shell)
echo "LayerScope sample image - nothing to run here, explore the layers instead."
exec "$@"
EOF
chmod 0755 "$R/bin/app-shell"
echo '1.0.3' > "$R/usr/lib/demo/VERSION"
# 60 KB "shared library": an ELF-looking header, then deterministic noise
python3 - "$R/usr/lib/libdemo.so" <<'PY'
import hashlib, struct, sys
hdr = b'\x7fELF\x02\x01\x01' + b'\x00' * 9 + struct.pack('<HHI', 3, 0x3e, 1)
body = bytearray()
i = 0
while len(hdr) + len(body) < 61440:
    body += hashlib.sha256(b'libdemo.so' + i.to_bytes(8, 'big')).digest(); i += 1
sym = b'\x00demo_init\x00demo_render\x00demo_shutdown\x00GLIBC_2.34\x00'
data = (hdr + bytes(body))[:61440 - len(sym)] + sym
open(sys.argv[1], 'wb').write(data)
PY
ln -s libdemo.so "$R/usr/lib/libdemo.so.1"
cat > "$R/usr/share/doc/demo-base/copyright" <<'EOF'
Files: *
Copyright: 2023 The LayerScope authors
License: CC0-1.0
 This sample rootfs is synthetic test data, made by make-sample.sh.
EOF
cat > "$R/usr/share/doc/demo-base/changelog" <<'EOF'
demo-base (1.0.3) stable; urgency=low

  * Sample base layer for LayerScope.

 -- LayerScope <sample@example.org>  Tue, 14 Nov 2023 22:13:20 +0000
EOF
: > "$R/var/log/lastlog"
# package-manager caches that L4 wipes (an opaque directory hides them all)
prng pkgcache 12288 "$R/var/cache/apt/pkgcache.bin"
prng srcpkgcache 8192 "$R/var/cache/apt/srcpkgcache.bin"
: > "$R/var/cache/apt/archives/lock"
L1_HASH=$(content_hash "$R")
u_layer "/bin/sh -c #(nop) ADD file:$L1_HASH in / "

# ------------------------------------------------------------------ metadata step between layers
u_cfg '/bin/sh -c #(nop)  ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
u_reopen

# ================================================================== L2 application files
A="$R/srv/app"
LONGDIR="static/vendor/chartlib-2.4.1/dist/locales/extended-cldr-data/pt-BR"
LONGNAME="number-currency-and-percentage-formats.bundle.min.json"
UNINAME="bienvenue-été-日本語.txt"
# a webpack-style chunk whose BASE name is > 100 chars: no ustar prefix/name split fits, needs a PAX path
CHUNK="chunk-vendors~app~dashboard~settings~reports~admin-panel~user-profile~notifications~billing~search.3f9a2c1e.js"
STAGE="$WORK/app-src"; mkdir -p "$STAGE"/{static/i18n,static/js,data,"$LONGDIR"}
cat > "$STAGE/index.html" <<'EOF'
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>LayerScope sample app</title>
<link rel="icon" href="/static/icon.png"></head>
<body><img src="/static/logo.svg" alt="logo"><h1>Hello from layer 2</h1></body>
</html>
EOF
cat > "$STAGE/app.py" <<'EOF'
#!/usr/bin/env python3
"""The LayerScope sample web app (it never runs; it is here to be explored)."""
import http.server, json, os

CONFIG = json.load(open(os.path.join(os.path.dirname(__file__), "config.json")))

if __name__ == "__main__":
    os.chdir(os.path.dirname(__file__))
    http.server.ThreadingHTTPServer(("", CONFIG["port"]), http.server.SimpleHTTPRequestHandler).serve_forever()
EOF
chmod 0644 "$STAGE/app.py"
cat > "$STAGE/config.json" <<'EOF'
{
  "name": "sample-app",
  "port": 8080,
  "debug": true,
  "log_level": "debug",
  "data_file": "data/big.bin"
}
EOF
echo 'flask==3.0.0' > "$STAGE/requirements.txt"
cat > "$STAGE/static/logo.svg" <<'EOF'
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect x="8" y="40" width="48" height="12" rx="2" fill="#2b6cb0"/>
  <rect x="12" y="26" width="40" height="12" rx="2" fill="#3182ce"/>
  <rect x="16" y="12" width="32" height="12" rx="2" fill="#63b3ed"/>
</svg>
EOF
# a valid 16x16 RGBA PNG (stored deflate blocks: identical bytes with any zlib)
python3 - "$STAGE/static/icon.png" <<'PY'
import struct, sys, zlib
w = h = 16
raw = b''.join(b'\x00' + b''.join(bytes((x * 16, y * 16, 160, 255)) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
       + chunk(b'IDAT', zlib.compress(raw, 0)) + chunk(b'IEND', b''))
open(sys.argv[1], 'wb').write(png)
PY
echo '{"decimal":",","thousands":".","currency":"R$ %s","percent":"%s%%"}' > "$STAGE/$LONGDIR/$LONGNAME"
printf 'Bienvenue ! Été 2023.\nようこそ。\n' > "$STAGE/static/i18n/$UNINAME"
echo '(self.webpackChunk=self.webpackChunk||[]).push([[42],{}]);' > "$STAGE/static/js/$CHUNK"
printf 'id,name,score\n1,alpha,0.91\n2,beta,0.42\n3,gamma,0.77\n' > "$STAGE/data/seed.csv"
prng big.bin 122880 "$STAGE/data/big.bin"          # 120 KiB, deleted again in L3
LONGPATH="srv/app/$LONGDIR/$LONGNAME"
[[ ${#LONGPATH} -gt 100 && ${#CHUNK} -gt 100 ]] || { echo "long names are not > 100 chars" >&2; exit 1; }
L2_HASH=$(content_hash "$STAGE")
mkdir -p "$A"; cp -a "$STAGE/." "$A/"
u_layer "/bin/sh -c #(nop) COPY dir:$L2_HASH in /srv/app "

# ================================================================== L3 cleanup / RUN step
rm "$A/data/big.bin"
sed -i -e 's/"debug": true/"debug": false/' -e 's/"log_level": "debug"/"log_level": "info"/' \
       -e 's#"data_file": "data/big.bin"#"data_file": "data/seed.csv"#' "$A/config.json"
chmod 0755 "$A/app.py"
ln -s logo.svg "$A/static/favicon.svg"
ln "$A/app.py" "$R/usr/local/bin/sample-app"
u_layer "/bin/sh -c rm /srv/app/data/big.bin && sed -i -e 's/\"debug\": true/\"debug\": false/' -e 's/\"log_level\": \"debug\"/\"log_level\": \"info\"/' -e 's#data/big.bin#data/seed.csv#' /srv/app/config.json && chmod 0755 /srv/app/app.py && ln -s logo.svg /srv/app/static/favicon.svg && ln /srv/app/app.py /usr/local/bin/sample-app"

# ================================================================== L4 opaque directory (hand-packed with GNU tar)
# What overlayfs makes of `rm -rf D && mkdir D`: D/.wh..wh..opq plus D's new contents.
O="$WORK/opaque"; mkdir -p "$O/var/cache/apt"
: > "$O/var/cache/apt/.wh..wh..opq"
echo 'apt cache cleared by the image build; nothing to see here' > "$O/var/cache/apt/CLEANED"
chmod 0755 "$O/var" "$O/var/cache" "$O/var/cache/apt"; chmod 0644 "$O/var/cache/apt/.wh..wh..opq" "$O/var/cache/apt/CLEANED"
settime "$O"
tar -C "$O" --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs --no-selinux \
    --mtime="@$SOURCE_DATE_EPOCH" -cf "$WORK/l4-opaque.tar" var
umoci raw add-layer --image "$L:$TAG" --history.created "$CREATED" \
  --history.created_by "/bin/sh -c rm -rf /var/cache/apt && mkdir -p /var/cache/apt && echo 'apt cache cleared by the image build; nothing to see here' > /var/cache/apt/CLEANED" \
  "$WORK/l4-opaque.tar"

# ================================================================== L5 metadata only (empty_layer history entries)
u_cfg '/bin/sh -c #(nop)  ENV APP_ENV=production PORT=8080' --config.env APP_ENV=production --config.env PORT=8080
u_cfg '/bin/sh -c #(nop) WORKDIR /srv/app' --config.workingdir /srv/app
u_cfg '/bin/sh -c #(nop)  EXPOSE 8080/tcp' --config.exposedports 8080/tcp
u_cfg '/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=layerscope-sample org.opencontainers.image.description=LayerScope sample image' \
  --config.label org.opencontainers.image.title=layerscope-sample \
  --config.label "org.opencontainers.image.description=LayerScope sample image"
u_cfg '/bin/sh -c #(nop)  CMD ["python3" "app.py"]' --config.cmd python3 --config.cmd app.py

# ------------------------------------------------------------------ docker-archive
rm -f "$WORK/sample.docker.tar"
skopeo --insecure-policy copy -q "oci:$L:$TAG" "docker-archive:$WORK/sample.docker.tar:$REF" >/dev/null

# ================================================================== verify + oracle
skopeo --insecure-policy inspect "docker-archive:$WORK/sample.docker.tar" > "$WORK/inspect.json"
# every layer tar: valid, end-of-archive blocks present, sha256 == diff_id
python3 - "$WORK/sample.docker.tar" "$WORK/inspect.json" <<'PY'
import hashlib, io, json, sys, tarfile
outer = tarfile.open(sys.argv[1])
manifest = json.load(outer.extractfile('manifest.json'))
assert len(manifest) == 1 and manifest[0]['RepoTags'] == ['docker.io/layerscope/sample:1'], manifest
config = json.load(outer.extractfile(manifest[0]['Config']))
diff_ids = config['rootfs']['diff_ids']
layers = manifest[0]['Layers']
assert len(layers) == len(diff_ids) == 4, (layers, diff_ids)
non_empty = [h for h in config['history'] if not h.get('empty_layer')]
assert len(non_empty) == len(layers), config['history']
def member_bytes(name):
    m = outer.getmember(name)
    while m.issym():                       # skopeo's <id>/layer.tar -> ../<digest>.tar
        import posixpath
        m = outer.getmember(posixpath.normpath(posixpath.join(posixpath.dirname(m.name), m.linkname)))
    return outer.extractfile(m).read()
for name, diff_id in zip(layers, diff_ids):
    data = member_bytes(name)
    assert 'sha256:' + hashlib.sha256(data).hexdigest() == diff_id, (name, diff_id)
    assert len(data) % 512 == 0, (name, len(data))
    tf = tarfile.open(fileobj=io.BytesIO(data), mode='r:')
    members = tf.getmembers()
    end = tf.offset                        # first byte after the last member
    assert data[end:end + 1024] == b'\0' * 1024 and len(data) >= end + 1024, (name, 'no end-of-archive blocks')
    print(f'  layer {name}: {len(data)} bytes, {len(members)} entries, end-of-archive ok')
insp = json.load(open(sys.argv[2]))
assert insp['Layers'] == diff_ids, insp['Layers']
PY
# the merged tree, as a runtime sees it: skopeo -> OCI layout -> umoci unpack
skopeo --insecure-policy copy -q "docker-archive:$WORK/sample.docker.tar" "oci:$WORK/check:x" >/dev/null
umoci unpack "${ROOTLESS[@]}" --image "$WORK/check:x" "$WORK/check.bundle" >/dev/null
CR="$WORK/check.bundle/rootfs"
[[ ! -e "$CR/srv/app/data/big.bin" ]]               || { echo "whiteout not applied: big.bin" >&2; exit 1; }
[[ -f "$CR/srv/app/data/seed.csv" ]]                || { echo "seed.csv missing" >&2; exit 1; }
[[ $(ls -A "$CR/var/cache/apt") == CLEANED ]]       || { echo "opaque dir not applied: $(ls -A "$CR/var/cache/apt")" >&2; exit 1; }
grep -q '"debug": false' "$CR/srv/app/config.json"  || { echo "config.json not modified" >&2; exit 1; }
[[ $(stat -c %a "$CR/srv/app/app.py") == 755 ]]     || { echo "chmod not applied" >&2; exit 1; }
[[ $(stat -c %i "$CR/srv/app/app.py") == $(stat -c %i "$CR/usr/local/bin/sample-app") ]] \
                                                    || { echo "hardlink not applied" >&2; exit 1; }
[[ $(readlink "$CR/srv/app/static/favicon.svg") == logo.svg ]] || { echo "symlink missing" >&2; exit 1; }
python3 - "$CR" "${ROOTLESS[*]:+rootless}" > "$WORK/sample.tree.tsv" <<'PY'
# same columns as /work/shared/corpus/real/trees/*.tsv (build-corpus.sh write_trees)
import hashlib, os, stat, sys
root, rootless = sys.argv[1], sys.argv[2] == 'rootless'
me = (os.getuid(), os.getgid())
print('# path\ttype\tmode\tuid:gid\tnlink\tsize\tsha256-or-symlink-target\txattrs')
out = []
for d, dirs, files in os.walk(root):
    for name in dirs + files:
        p = os.path.join(d, name); st = os.lstat(p); rel = os.path.relpath(p, root)
        m = st.st_mode; t = 'd' if stat.S_ISDIR(m) else 'l' if stat.S_ISLNK(m) else 'f' if stat.S_ISREG(m) else 'p' if stat.S_ISFIFO(m) else 'c' if stat.S_ISCHR(m) else 'b' if stat.S_ISBLK(m) else '?'
        extra = ''
        if t == 'l': extra = os.readlink(p)
        elif t == 'f':
            with open(p, 'rb') as fh: extra = hashlib.sha256(fh.read()).hexdigest()
        try: xa = ','.join(sorted(x for x in os.listxattr(p, follow_symlinks=False)
                                  if not x.startswith('security.') and x != 'user.rootlesscontainers'))
        except OSError: xa = ''
        uid, gid = st.st_uid, st.st_gid
        if rootless and (uid, gid) == me: uid, gid = 0, 0   # --rootless unpack owns everything as the caller
        out.append(f'{rel}\t{t}\t{stat.S_IMODE(m):04o}\t{uid}:{gid}\t{st.st_nlink if t == "f" else ""}\t{st.st_size if t == "f" else ""}\t{extra}\t{xa}')
print('\n'.join(sorted(out, key=lambda l: l.split('\t')[0].encode())))
PY

mv -f "$WORK/sample.docker.tar" "$OUT_TAR"
mv -f "$WORK/sample.tree.tsv" "$OUT_TREE"
echo "wrote $OUT_TAR ($(stat -c %s "$OUT_TAR") bytes) and $OUT_TREE"
sha256sum "$OUT_TAR"
