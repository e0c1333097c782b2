#!/usr/bin/env bash
# Fetches Dear ImGui 1.86 from Debian's source package into third_party/imgui (ignored by git).
# Debian's libimgui-dev ships headers but not imgui.cpp & co, which the WebAssembly build
# compiles. apt needs a deb-src entry: this derives one from the machine's own Debian sources
# (same mirrors, same suites) in a private apt folder, leaving the system's apt state alone.
set -euo pipefail
cd "$(dirname "$0")/.."
target=third_party/imgui
[[ -f "$target/imgui.cpp" ]] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/src"
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  sed 's/^Types: deb$/Types: deb deb-src/' "$f" > "$work/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f "$f" ]] || continue
  sed -n 's/^deb \(.*\)$/deb-src \1/p' "$f" >> "$work/sources.list.d/derived-src.list"
done
apt_private=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources.list.d"
             -o "Dir::State::Lists=$work/lists")
apt-get "${apt_private[@]}" update -qq
(cd "$work/src" && apt-get "${apt_private[@]}" source -qq imgui=1.86+ds-1 2>/dev/null \
  || apt-get "${apt_private[@]}" source -qq imgui)
source_dir=$(find "$work/src" -maxdepth 1 -type d -name 'imgui-*' | head -n 1)
grep -q 'IMGUI_VERSION *"1.86"' "$source_dir/imgui.h" || { echo "fetch_imgui: expected ImGui 1.86" >&2; exit 1; }
mkdir -p third_party
rm -rf "$target"
cp -r "$source_dir" "$target"
echo "fetch_imgui: Dear ImGui 1.86 in $target" >&2
