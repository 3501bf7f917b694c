#!/bin/sh
# The bot's install steps, in one place: the Dockerfile runs this, and so does a test (in a fresh venv).
#   deploy/install.sh VENV [SOURCE]   → VENV/bin/reception-bot, from SOURCE (default: this checkout)
set -eu
VENV=${1:?usage: deploy/install.sh VENV [SOURCE]}
SRC=${2:-$(dirname "$0")/..}
PYTHON=${PYTHON:-python3}
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --no-cache-dir --upgrade pip
# not editable: the package (with its migrations and static files) is copied into the venv
"$VENV/bin/pip" install --quiet --no-cache-dir "$SRC[wechat]"
"$VENV/bin/reception-bot" --help >/dev/null
