#!/bin/sh
# Installs what the remote tests need on a Debian/Ubuntu machine: the test
# S3 server (npm package s3rver, into tests/remote/node_modules), Node.js to
# run it, Debian's python3-botocore (the harness's independent SigV4
# verifier), Debian's awscli (the interop reader), and libcurl's headers
# (libcurl4-openssl-dev, which pulls in libcurl4: the S3 tests load it).
# Idempotent and quiet when everything is already there.  Self-contained:
# scripts/test.sh and .ci/run may call it from any directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
remote_dir="$repo/tests/remote"

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

missing=
have_pkg() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
for p in nodejs python3 python3-botocore awscli libcurl4-openssl-dev; do
	have_pkg "$p" || missing="$missing $p"
done
# npm ships inside nodesource's nodejs; only ask Debian for it when absent.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
	echo "install-test-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f "$remote_dir/node_modules/s3rver/bin/s3rver.js" ]; then
	echo "install-test-deps: installing s3rver into tests/remote/node_modules"
	(cd "$remote_dir" && npm install --no-save --no-audit --no-fund \
		--loglevel=error --prefix "$remote_dir" s3rver@3 >/dev/null)
fi

# Checks that what the tests run is really there (loud if not).
/usr/bin/python3 -c 'import botocore' || {
	echo "install-test-deps: python3-botocore is not importable by /usr/bin/python3" >&2
	exit 1
}
[ -x /usr/bin/aws ] || { echo "install-test-deps: /usr/bin/aws missing" >&2; exit 1; }
[ -f "$remote_dir/node_modules/s3rver/bin/s3rver.js" ] || {
	echo "install-test-deps: s3rver did not install" >&2
	exit 1
}
exit 0
