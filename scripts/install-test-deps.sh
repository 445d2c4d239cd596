#!/usr/bin/env bash
# Installs what the compatibility tests run against: Apache ZooKeeper 3.8 (server, zkCli.sh and the C client's
# cli_mt), kazoo for the system Python (with pure-sasl for its SASL logins and pytest to run kazoo's own tests),
# Apache Curator with a JDK to compile its checks, tmux for the terminal test of warden cli, and chromium with
# chromium-driver for the web console's browser tests, and openssl for the TLS tests' certificates. Debian package
# names; needs root and the Debian archive.
set -euo pipefail

packages=(zookeeper zookeeper-bin python3-kazoo python3-pure-sasl python3-pytest libcurator-recipes-java libcurator-framework-java libcurator-client-java openjdk-17-jdk-headless tmux chromium chromium-driver openssl)

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The compatibility tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing test dependencies: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
