#!/bin/sh
# Installs the real Prometheus-side tools the tests run: promtool and prometheus
# (Debian package `prometheus`), amtool and prometheus-alertmanager (package
# `prometheus-alertmanager`), chromium, in which the tests open `sre report`'s report.html
# headless. Nothing is downloaded from anywhere but Debian's archive (the Go programs,
# k6 and helm among them, are built by scripts/build-tools.py). Without root, it says what
# to install and fails.
set -eu

missing=""
for tool in promtool prometheus amtool prometheus-alertmanager chromium; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] && exit 0

packages="prometheus prometheus-alertmanager chromium"
echo "install-tools: missing:$missing; installing Debian packages: $packages"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-tools: not root and no passwordless sudo: run 'sudo apt-get install -y $packages'" >&2
    exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: apt-get not found: install Prometheus 2.x and Alertmanager 0.25+ so that$missing are on PATH" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends $packages >/tmp/install-tools.log 2>&1; then
    $SUDO apt-get update >>/tmp/install-tools.log 2>&1
    $SUDO apt-get install -y --no-install-recommends $packages >>/tmp/install-tools.log 2>&1 || {
        echo "install-tools: apt-get install failed, see /tmp/install-tools.log" >&2
        exit 2
    }
fi
# Where the packages start their own services (systemd), they listen on the default ports;
# the tests start theirs on free loopback ports, so both can run. Nothing is stopped here:
# that could kill another run's test processes.
exit 0
