#!/bin/sh
# Answer the next call on UDP port PORT, play an audio file to the caller, and hang
# up (BYE) once it has been played out. The caller's audio is discarded.
# Any file decodebin reads will do (WAV, Ogg, MP3, ...); it is resampled to 8 kHz.
#
#   pipelines/play-prompt.sh [PORT] [PROMPT]   (defaults: 6060, a spoken espeak-ng prompt)
#
# Launch line:
#   gst-launch-1.0 sipsrc port=6060 ! fakesink \
#     filesrc location=prompt.wav ! decodebin ! audioconvert ! audioresample ! sipsink
set -e
. "$(dirname "$0")/common.sh"
PORT=${1:-6060}
PROMPT=${2:-$(default_prompt)}
[ -r "$PROMPT" ] || { echo "$0: cannot read $PROMPT" >&2; exit 1; }
# shellcheck disable=SC2046,SC2086
exec gst-launch-1.0 ${GST_LAUNCH_OPTS:-} \
  sipsrc $(sipsrc_props "$PORT") ! fakesink \
  filesrc location="$PROMPT" ! decodebin ! audioconvert ! audioresample ! sipsink
