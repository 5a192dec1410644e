#!/usr/bin/env bash
# Copies the npm-installed front-end files into anchang/static/vendor (git-ignored).
# Source maps come along because whitenoise's manifest storage follows sourceMappingURL comments.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=anchang/static/vendor
rm -rf "$dest"
mkdir -p "$dest/bootstrap" "$dest/echarts" "$dest/bootstrap-icons/fonts"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map "$dest/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map "$dest/bootstrap/"
# The icon font's stylesheet points at fonts/ beside it, so the two keep that layout.
cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css "$dest/bootstrap-icons/"
cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff "$dest/bootstrap-icons/fonts/"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
for map in node_modules/echarts/dist/echarts.min.js.map; do [ -f "$map" ] && cp "$map" "$dest/echarts/"; done
echo "assets copied to $dest"
