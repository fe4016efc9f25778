#!/usr/bin/env bash
# Installs the Debian packages the test suites drive for real: runsc (from
# bookworm-backports: plain bookworm ships a 2022 snapshot), busybox-static (a
# rootfs for real sandboxes), prometheus (promtool + the server for e2e),
# docker.io (dockerd for testcontainers), util-linux's flock (lock interop),
# openssl (test certificates) and curl (the --web-config-file TLS tests).
# Idempotent; needs root. Without root it only says what is missing.
set -euo pipefail

need=()
command -v runsc >/dev/null 2>&1 || need+=(runsc)
# The real-runsc bundles copy /bin/busybox into a rootfs, so it must be the static build.
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v flock >/dev/null 2>&1 || need+=(util-linux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# e2e/test/status-page.test.ts renders the status page in headless Chromium (a screenshot in .test-results/).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# e2e runs runsc under TZ=America/Los_Angeles (createdAt with an offset); without zoneinfo Go falls back to UTC.
[ -e /usr/share/zoneinfo/America/Los_Angeles ] || need+=(tzdata)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present (runsc, busybox-static, prometheus, docker.io, flock, tzdata, chromium, openssl, curl)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "system packages missing: ${need[*]}" >&2
  echo "install them as root: apt-get install -t bookworm-backports runsc; apt-get install busybox-static prometheus docker.io tzdata chromium openssl curl" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [[ " ${need[*]} " == *" runsc "* ]] && ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
  src=/etc/apt/sources.list.d/debian.sources
  mirror=$(awk '/^URIs:/{print $2; exit}' "$src" 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "installing system packages: ${need[*]}"
apt-get update -qq
for p in "${need[@]}"; do
  if [ "$p" = runsc ]; then
    apt-get install -y -qq -t bookworm-backports runsc >/dev/null
  else
    apt-get install -y -qq --no-install-recommends "$p" >/dev/null
  fi
done
echo "system packages: installed ${need[*]}"
