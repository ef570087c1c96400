#!/bin/sh
# Answer the next call on UDP port PORT and play the caller's voice back to them.
# Ends (exit 0) when the caller hangs up.
#
#   pipelines/echo.sh [PORT]          (default 6060)
#   then call sip:echo@HOST:PORT
#
# Launch line:
#   gst-launch-1.0 sipsrc port=6060 ! queue ! sipsink
set -e
. "$(dirname "$0")/common.sh"
PORT=${1:-6060}
# shellcheck disable=SC2046,SC2086
exec gst-launch-1.0 ${GST_LAUNCH_OPTS:-} \
  sipsrc $(sipsrc_props "$PORT") ! queue ! sipsink
