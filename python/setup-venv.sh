#!/bin/sh
# gst-sip: create the project's Python environment (.venv at the project root)
# for the Pipecat package pipecat_sip.
#
#   sh python/setup-venv.sh          create or update .venv (fast when already done)
#   FORCE=1 sh python/setup-venv.sh  reinstall the Python packages even if up to date
#
# The venv is built on Debian's own /usr/bin/python3 with --system-site-packages,
# so PyGObject (python3-gi 3.42) and the GStreamer 1.22 overrides (python3-gst-1.0)
# come from Debian and match its GLib 2.74. PyPI's PyGObject >= 3.50 needs
# GLib >= 2.80 and is never installed: a constraints file pins PyGObject to the
# Debian version, so anything that would pull a newer one fails loudly instead.
#
# Safe to run again: when pyproject.toml and this script are unchanged and the
# environment imports, it returns at once without touching the network.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV="$ROOT/.venv"
PY=/usr/bin/python3
STAMP="$VENV/.pipecat-sip-stamp"

# Debian packages the venv relies on (names as in Debian 12).
APT_PACKAGES="python3 python3-venv python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 \
gir1.2-glib-2.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good espeak-ng"

# Real SIP peers and tools used by python/tests (baresip and sipp place the calls,
# sox/espeak-ng make test speech, dumpcap records RTP).
TEST_PACKAGES="baresip sip-tester sox wireshark-common"
[ -n "${PIPECAT_SIP_NO_TEST_TOOLS:-}" ] || APT_PACKAGES="$APT_PACKAGES $TEST_PACKAGES"

missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed \
    || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo;
  else echo "setup-venv: missing Debian packages:$missing (install them as root)" >&2; exit 1; fi
  echo "setup-venv: installing Debian packages:$missing"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# What the installed environment was made from: this script and the package metadata.
want=$(cat "$0" "$HERE/pyproject.toml" | sha256sum | cut -d' ' -f1)

check_env() {
  "$VENV/bin/python" - <<'EOF' >/dev/null 2>&1
import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: F401
import pipecat, pipecat_sip, pytest, pytest_asyncio, numpy  # noqa: F401
from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: F401
EOF
}

if [ -z "${FORCE:-}" ] && [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] \
   && [ "$(cat "$STAMP")" = "$want" ] && check_env; then
  echo "setup-venv: $VENV is up to date"
  exit 0
fi

# A venv made from another interpreter (e.g. pyenv's, which has no gi) is replaced.
if [ -x "$VENV/bin/python" ]; then
  base=$("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || echo "?")
  if [ "$base" != "/usr" ] || ! grep -q '^include-system-site-packages = true' "$VENV/pyvenv.cfg" 2>/dev/null; then
    echo "setup-venv: $VENV was not made from $PY with system site packages; recreating it"
    rm -rf "$VENV"
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-venv: creating $VENV from $PY (with system site packages for gi/Gst)"
  "$PY" -m venv --system-site-packages "$VENV"
fi

# Pin PyGObject (and pycairo) to what Debian ships, whatever a dependency asks for.
CONSTRAINTS="$VENV/constraints.txt"
"$VENV/bin/python" - "$CONSTRAINTS" <<'EOF'
import sys
from importlib import metadata
lines = []
for name in ("PyGObject", "pycairo"):
    try:
        lines.append(f"{name}=={metadata.version(name)}\n")
    except metadata.PackageNotFoundError:
        pass
open(sys.argv[1], "w").write("".join(lines))
EOF

export PIP_DISABLE_PIP_VERSION_CHECK=1
PIP="$VENV/bin/python -m pip"
echo "setup-venv: installing pipecat-ai and pipecat_sip (editable) into $VENV"
# The package's own extras: "demo" (runner + Silero VAD, no keys needed),
# "examples" (Deepgram, OpenAI, Cartesia, Daily, SmallWebRTC for examples/bot.py)
# and "test" (pytest, pytest-asyncio, numpy).
$PIP install -q -c "$CONSTRAINTS" -e "$HERE[demo,examples,test]"

if ! check_env; then
  echo "setup-venv: the environment does not import (gi/Gst, pipecat, pipecat_sip); see above" >&2
  "$VENV/bin/python" -c 'import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst; import pipecat, pipecat_sip' || true
  exit 1
fi
echo "$want" > "$STAMP"
"$VENV/bin/python" -c 'from importlib.metadata import version as v; print("setup-venv: ready: pipecat-ai", v("pipecat-ai"), "| pipecat-sip", v("pipecat-sip"), "| PyGObject", v("PyGObject"))'
