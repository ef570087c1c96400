#!/bin/sh
# Answer the next call on UDP port PORT and record what the caller says into a WAV
# file (8 kHz mono, 16-bit). When the caller hangs up the stream ends (EOS), the
# WAV header is finalized and the script exits. Ctrl-C also finishes the file (-e).
#
#   pipelines/record.sh [PORT] [FILE.wav]      (defaults: 6060 call.wav)
#
# Launch line:
#   gst-launch-1.0 -e sipsrc port=6060 ! audioconvert ! wavenc ! filesink location=call.wav
set -e
. "$(dirname "$0")/common.sh"
PORT=${1:-6060}
OUT=${2:-call.wav}
# shellcheck disable=SC2046,SC2086
exec gst-launch-1.0 -e ${GST_LAUNCH_OPTS:-} \
  sipsrc $(sipsrc_props "$PORT") ! audioconvert ! wavenc ! filesink location="$OUT"
