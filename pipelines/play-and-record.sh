#!/bin/sh
# Answer the next call on UDP port PORT, play an audio file to the caller and
# record the caller into a WAV file at the same time (an answering machine).
# The call ends when the prompt has been played out (BYE) or when the caller
# hangs up, whichever comes first; the WAV is finalized either way.
#
#   pipelines/play-and-record.sh [PORT] [PROMPT] [FILE.wav]
#                                 (defaults: 6060, a spoken espeak-ng prompt, call.wav)
#
# Launch line:
#   gst-launch-1.0 -e sipsrc port=6060 ! audioconvert ! wavenc ! filesink location=call.wav \
#     filesrc location=prompt.wav ! decodebin ! audioconvert ! audioresample ! sipsink
set -e
. "$(dirname "$0")/common.sh"
PORT=${1:-6060}
PROMPT=${2:-$(default_prompt)}
OUT=${3:-call.wav}
[ -r "$PROMPT" ] || { echo "$0: cannot read $PROMPT" >&2; exit 1; }
# shellcheck disable=SC2046,SC2086
exec gst-launch-1.0 -e ${GST_LAUNCH_OPTS:-} \
  sipsrc $(sipsrc_props "$PORT") ! audioconvert ! wavenc ! filesink location="$OUT" \
  filesrc location="$PROMPT" ! decodebin ! audioconvert ! audioresample ! sipsink
