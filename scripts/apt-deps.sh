# Sourced by scripts/bootstrap.sh and scripts/test.sh: install the Debian
# packages named in the array `packages` that are missing (apt-get, sudo
# only when not root).  $1 is the caller's name for messages.
apt_install_missing() {
	local who=$1 sudo= p
	local -a missing=()
	[ "$(id -u)" != 0 ] && sudo=sudo
	if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
		echo "$who: not a Debian/Ubuntu system; install the equivalents of: ${packages[*]}" >&2
		return 0
	fi
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "$who: all packages already installed"
		return 0
	fi
	echo "$who: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update
	$sudo apt-get install -y --no-install-recommends "${missing[@]}"
}
