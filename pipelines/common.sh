# Sourced by the pipelines/*.sh recipes: finds the build tree and collects the
# sipsrc properties from the environment.
#
#   GST_SIP_BUILDDIR     build directory with gst/libgstsip.so (default: <repo>/build)
#   SIP_SERVER_HOST      sipsrc host            (listen address; default all: 0.0.0.0)
#   SIP_RTP_PORT_RANGE   sipsrc rtp-port-range  (default 10000-15000)
#   SIP_PUBLIC_ADDRESS   sipsrc public-address  (address put in SDP c= and Contact behind NAT)
#   SIP_LATENCY          sipsrc latency         (jitter buffer, ms)
#   GST_LAUNCH_OPTS      extra gst-launch-1.0 options, e.g. "-m" to print bus messages

GST_SIP_ROOT=$(cd "$(dirname "$0")/.." && pwd)
GST_SIP_BUILDDIR=${GST_SIP_BUILDDIR:-$GST_SIP_ROOT/build}
if [ ! -e "$GST_SIP_BUILDDIR/gst/libgstsip.so" ]; then
  echo "$0: $GST_SIP_BUILDDIR/gst/libgstsip.so not found: build first (make build)" >&2
  exit 1
fi
GST_PLUGIN_PATH="$GST_SIP_BUILDDIR/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_PLUGIN_PATH

# sipsrc properties: port=$1 plus whatever the environment sets.
sipsrc_props() {
  props="port=$1"
  [ -n "${SIP_SERVER_HOST:-}" ] && props="$props host=$SIP_SERVER_HOST"
  [ -n "${SIP_RTP_PORT_RANGE:-}" ] && props="$props rtp-port-range=$SIP_RTP_PORT_RANGE"
  [ -n "${SIP_PUBLIC_ADDRESS:-}" ] && props="$props public-address=$SIP_PUBLIC_ADDRESS"
  [ -n "${SIP_LATENCY:-}" ] && props="$props latency=$SIP_LATENCY"
  echo "$props"
}

# A prompt to play when none is given: spoken by espeak-ng into a temporary WAV.
default_prompt() {
  f="${TMPDIR:-/tmp}/gst-sip-prompt.wav"
  if [ ! -s "$f" ]; then
    espeak-ng -w "$f" "Hello. You have reached the G streamer SIP demo. This message was played from a file. Goodbye." \
      || { echo "$0: no prompt file given and espeak-ng failed" >&2; exit 1; }
  fi
  echo "$f"
}
