#!/bin/sh
# `meson install` gives what a third party needs: the headers and the
# pkg-config file to build a stage outside this tree (the example plugin
# is built from them and loaded by the installed docprocd), the unit, the
# config and man pages that render.
set -eu
build="$1"; src="$2"
dest=$(mktemp -d); trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --destdir "$dest" >/dev/null
pc=$(find "$dest" -name docproc-plugin.pc | head -n 1)
[ -n "$pc" ] || { echo "no docproc-plugin.pc installed"; exit 1; }
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$dest" \
         pkg-config --cflags docproc-plugin)
cc -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror $cflags \
   "$src/plugins/example/example.c" -o "$dest/example.so"
exported=$(nm -D --defined-only "$dest/example.so" | awk '{print $3}' | grep -v '^_' || true)
[ "$exported" = "docproc_stage_entry" ] || { echo "exports: $exported"; exit 1; }
docprocd=$(find "$dest" -path '*sbin/docprocd' | head -n 1)
printf '{"stages": [{"name": "example", "plugin": "%s"}]}\n' "$dest/example.so" > "$dest/c.json"
"$docprocd" --check-config "$dest/c.json"
find "$dest" -name docprocd.service | grep -q . || { echo "no unit installed"; exit 1; }
find "$dest" -name docprocd.json | grep -q . || { echo "no config installed"; exit 1; }
for page in docproc.1 docprocd.8 docproc-train.1 docprocd.json.5; do
    f=$(find "$dest" -name "$page" | head -n 1)
    [ -n "$f" ] || { echo "man page $page not installed"; exit 1; }
    if command -v man >/dev/null 2>&1; then
        out=$(MANWIDTH=80 man -l "$f" 2>&1 >/dev/null) || true
        [ -z "$out" ] || { echo "$page: $out"; exit 1; }
    fi
done
echo "install: headers, pkg-config, unit, config and man pages OK"
