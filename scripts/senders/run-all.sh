#!/usr/bin/env bash
# Runs every real-sender check (each installs what it needs: rockethook from PyPI into a
# virtualenv, prometheus-alertmanager with apt-get).
set -euo pipefail
cd "$(dirname "$0")"
bash rockethook.sh
bash alertmanager.sh
