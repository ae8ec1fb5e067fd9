#!/bin/sh
# Installs the real Prometheus-side tools the tests run: promtool and prometheus
# (Debian package `prometheus`), amtool and prometheus-alertmanager (package
# `prometheus-alertmanager`), chromium, in which the tests open `sre report`'s report.html
# headless, and k6 built from its Go module (go.k6.io/k6, pinned). Nothing is downloaded
# from anywhere but Debian's archive and the Go module proxy. Without root, it says what to
# install and fails.
set -eu

# k6 runs the generated load test scripts; it is a Go program, built from its pinned module.
K6_VERSION=v1.8.1
if ! command -v k6 >/dev/null 2>&1; then
    command -v go >/dev/null 2>&1 || { echo "install-tools: k6 missing and no Go toolchain to build go.k6.io/k6@$K6_VERSION" >&2; exit 2; }
    echo "install-tools: building k6 $K6_VERSION (go install go.k6.io/k6@$K6_VERSION, a few minutes)"
    bindir="$(go env GOPATH)/bin"
    GOFLAGS=-mod=mod go install "go.k6.io/k6@$K6_VERSION" >/tmp/install-tools-k6.log 2>&1 || {
        echo "install-tools: building k6 failed, see /tmp/install-tools-k6.log" >&2; exit 2; }
    command -v k6 >/dev/null 2>&1 || { echo "install-tools: k6 built into $bindir: add it to PATH" >&2; exit 2; }
fi

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
