#!/usr/bin/env bash
# Command (1) of the README: on a fresh Debian/Ubuntu machine, install what
# is missing, build lmdata with meson into build/, and run the end-to-end
# demo (scripts/demo.sh).  Idempotent: installed packages are not touched
# again and an existing build/ is only rebuilt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# libcurl4-openssl-dev: curl's headers (lmdata loads libcurl at run time
# and does not link it); it pulls in libcurl4, which the S3 commands load.
packages=(build-essential meson ninja-build pkg-config libgit2-dev libssl-dev
	libzstd-dev libcurl4-openssl-dev git python3 zstd)

. scripts/apt-deps.sh
apt_install_missing bootstrap

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
