#!/bin/sh
# Install the Debian packages that building, testing and the demo need,
# when any is missing. Run as root on Debian 12 (make deps / check / demo).
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
      protobuf-c-compiler libprotobuf-c-dev libzmq3-dev libevent-dev
      libyaml-dev libsqlite3-dev sqlite3 libjansson-dev libsodium-dev
      libssl-dev libcmocka-dev libvirt-dev libvirt-daemon-system
      libvirt-clients qemu-system-x86 qemu-utils tini valgrind curl
      iproute2 util-linux procps libgovirt-dev libxml2-utils wrk openssl"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: these packages are missing and installing them needs root:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
