#!/usr/bin/env bash
# Command (1) of the README: on a fresh Debian/Ubuntu machine, install what
# is missing, build lmdata with meson into build/, and run the end-to-end
# demo (scripts/demo.sh).  Idempotent: installed packages are not touched
# again and an existing build/ is only rebuilt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(build-essential meson ninja-build pkg-config libgit2-dev libssl-dev
	libzstd-dev libcurl4-openssl-dev libarchive-dev git python3 zstd)

sudo=
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
	missing=()
	for p in "${packages[@]}"; do
		installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "bootstrap: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		$sudo apt-get update
		$sudo apt-get install -y --no-install-recommends "${missing[@]}"
	else
		echo "bootstrap: all packages already installed"
	fi
else
	echo "bootstrap: not a Debian/Ubuntu system; install the equivalents of: ${packages[*]}" >&2
fi

if [ -f build/build.ninja ]; then
	echo "bootstrap: rebuilding build/"
else
	echo "bootstrap: configuring build/"
	# The unit tests need Criterion, which scripts/test.sh installs.
	meson setup build -Dtests=false
fi
meson compile -C build

echo "bootstrap: running the demo"
exec scripts/demo.sh
