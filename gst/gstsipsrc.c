/* GStreamer SIP plugin: sipsrc
 * Copyright (C) 2026 The gst-sip authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Lesser General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Lesser General Public License for more details.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-sipsrc
 * @title: sipsrc
 * @see_also: sipsink, rtpbin
 *
 * sipsrc answers a SIP phone call and produces the caller's voice as raw
 * audio (`audio/x-raw,format=S16LE,rate=8000,channels=1`).
 *
 * Without the #GstSipSrc:call property, sipsrc runs its own SIP user-agent
 * server: going to READY it listens on UDP #GstSipSrc:port, answers the next
 * call (G.711 μ-law, RFC 4733 telephone-event) and takes one call at a time:
 * a second caller gets `486 Busy Here`. The call's RTP is received on a port
 * pair from #GstSipSrc:rtp-port-range and goes through rtpbin (jitter buffer
 * of #GstSipSrc:latency ms), rtppcmudepay and mulawdec. A change of the
 * caller's SSRC keeps audio flowing.
 *
 * A server running many calls in one process sets #GstSipSrc:shared-threads:
 * the call's RTP is then received by a few threads shared by every call (one
 * per core) and goes through an rtpsession and sipsrc's own u-law decoder,
 * with no thread of its own and no jitter buffer; everything downstream then
 * runs in that shared thread and must not block (see the property).
 *
 * When the caller hangs up (or the call ends for another reason) the stream
 * ends with EOS, so a recording is finished properly. Going back to NULL
 * hangs up a call that is still active.
 *
 * A #sipsink in the same pipeline finds sipsrc by itself and sends its audio
 * into the same call, from the same RTP port (symmetric RTP).
 *
 * Applications that run their own #SipAgent hand a call over with the
 * #GstSipSrc:call property instead (one pipeline per call); sipsrc then
 * creates no agent, answers the call once its media is ready (unless
 * #GstSipSrc:auto-answer is %FALSE) and hangs it up only for the media
 * timeout or the maximum duration (see below).
 *
 * ## Media safety and limits
 *
 * RTP and RTCP are accepted only from the caller: the address and port of
 * its SDP, or, for a caller behind NAT, the source that sipsrc latched onto
 * at the start of the call (#GstSipSrc:rtp-latching, default "any").
 * Packets from anyone else are dropped before the RTP session, and sipsink
 * sends only to the caller's SDP address or latched source, so a stranger
 * spraying RTP at the call's port hears nothing and cannot take the stream
 * over. RTP packets of
 * payload types that were not negotiated are dropped too: only PCMU (payload
 * type 0, or the dynamic type the caller's offer mapped it to) and the
 * offered telephone-event pass.
 *
 * A call without RTP from the caller for #GstSipSrc:media-timeout seconds
 * (default 30; not while on hold) is hung up with BYE, as is a call older
 * than #GstSipSrc:max-duration seconds (default: no limit; the call's
 * agent then sends the BYE); the `sip-call-ended` message then says
 * `media-timeout` or `max-duration`.
 *
 * RTCP goes through rtpbin; #GstSipSrc:stats gives the call's statistics
 * (packets received and lost, jitter, round-trip time, packets sent,
 * packets rejected), which are also in the `sip-call-ended` message.
 *
 * sipsrc posts element messages on the bus, each with the string fields
 * `call-id`, `from`, `to` and `remote-address` ("ip:port" of the caller's
 * RTP):
 *
 * * `sip-call-incoming`: a call arrived and was taken (own agent only)
 * * `sip-call-ringing`: 180 Ringing was sent
 * * `sip-call-answered`: 200 OK was sent
 * * `sip-call-ended`: the call is over; field `reason` (string: remote-bye,
 *   local-bye, cancelled, ack-timeout, shutdown, media-timeout,
 *   max-duration, ...) and the fields of #GstSipSrc:stats
 *   (`packets-received`, `packets-lost`, `jitter`, `round-trip`,
 *   `packets-sent`, `packets-rejected`)
 * * `sip-dtmf`: an RFC 4733 telephone-event digit ended; fields `digit`
 *   (string "0"-"9", "*", "#", "A"-"D"), `number` (int, 0-15) and
 *   `duration` (uint, milliseconds)
 *
 * Errors: the SIP port in use or not allowed is a RESOURCE/OPEN_READ error,
 * a malformed setting (port range, source list) a RESOURCE/SETTINGS error,
 * both at the NULL to READY state change.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 sipsrc port=6060 ! queue ! sipsink
 * ]| Answers one call on UDP port 6060 and echoes the caller's voice back;
 * exits when the caller hangs up.
 * |[
 * gst-launch-1.0 -e sipsrc port=6060 ! audioconvert ! wavenc ! filesink location=call.wav
 * ]| Records one call into a WAV file.
 * |[
 * gst-launch-1.0 sipsrc ! audioconvert ! wavenc ! filesink location=call.wav \
 *     filesrc location=prompt.wav ! decodebin ! audioconvert ! audioresample ! sipsink
 * ]| Plays a prompt to the caller and records the call; hangs up once the
 * prompt has been played out.
 *
 * Set `GST_DEBUG=sip*:6` to see every SIP message and the elements' log.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/rtp/rtp.h>
#include <sip.h>

#include "gstsipcallmedia.h"
#include "gstsipreceiver.h"
#include "gstsipticker.h"
#include "gstsipelements.h"
#include "gstsipsrc.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_src_debug);
#define GST_CAT_DEFAULT gst_sip_src_debug

#define DEFAULT_HOST NULL
#define DEFAULT_PORT SIP_AGENT_DEFAULT_PORT
#define DEFAULT_RTP_PORT_RANGE SIP_AGENT_DEFAULT_RTP_PORT_RANGE
#define DEFAULT_PUBLIC_ADDRESS NULL
#define DEFAULT_LATENCY 60
#define DEFAULT_ALLOWED_SOURCES NULL
#define DEFAULT_AUTO_ANSWER TRUE
#define DEFAULT_RTP_LATCHING GST_SIP_RTP_LATCHING_ANY
#define DEFAULT_MEDIA_TIMEOUT 30
#define DEFAULT_MAX_DURATION 0
#define DEFAULT_INVITE_RATE_LIMIT 10
#define DEFAULT_SHARED_THREADS FALSE

/* RTP latching: a source other than the SDP address is latched after this
 * many packets in sequence (same SSRC, consecutive sequence numbers) ... */
#define LATCH_PACKETS 3
/* ... within this time after the answer (or a re-INVITE moving the media) */
#define LATCH_WINDOW (10 * G_TIME_SPAN_SECOND)

/* RTP streams (SSRCs) rtpbin builds a jitter buffer and decoder for per
 * call: a caller that keeps changing its SSRC cannot grow threads and
 * memory without bound; a real call uses one, a few after re-INVITEs */
#define MAX_STREAMS 16

/* how often the media timeout and the maximum duration are checked (on the
 * ticker shared by every call): both are whole seconds */
#define TIMER_INTERVAL_MS 250

/* shared-threads: a packet this many sequence numbers behind the newest
 * one is late (dropped); further behind, the sender restarted */
#define MAX_MISORDER 100

/* how long to wait for the jitter buffer to drain at the end of a call before
 * pushing EOS directly */
#define EOS_DRAIN_TIMEOUT (1 * G_TIME_SPAN_SECOND)

#define SRC_CAPS "audio/x-raw, format=(string)S16LE, rate=(int)8000, " \
    "channels=(int)1, layout=(string)interleaved"

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_RTP_PORT_RANGE,
  PROP_PUBLIC_ADDRESS,
  PROP_LATENCY,
  PROP_ALLOWED_SOURCES,
  PROP_AUTO_ANSWER,
  PROP_CALL,
  PROP_CALL_ID,
  PROP_FROM,
  PROP_TO,
  PROP_REMOTE_ADDRESS,
  PROP_RTP_LATCHING,
  PROP_MEDIA_TIMEOUT,
  PROP_MAX_DURATION,
  PROP_STATS,
  PROP_INVITE_RATE_LIMIT,
  PROP_SHARED_THREADS,
};

/**
 * GstSipRtpLatching:
 * @GST_SIP_RTP_LATCHING_OFF: RTP and RTCP are accepted only from the
 *   address and port of the caller's SDP
 * @GST_SIP_RTP_LATCHING_SAME_IP: also from another port of the SDP's IP
 *   address (a NAT that keeps the address but changes the port)
 * @GST_SIP_RTP_LATCHING_ANY: also from any other address (a caller behind
 *   NAT whose SDP carries a private address)
 *
 * Which RTP sources sipsrc may latch onto besides the negotiated one.
 */
typedef enum
{
  GST_SIP_RTP_LATCHING_OFF,
  GST_SIP_RTP_LATCHING_SAME_IP,
  GST_SIP_RTP_LATCHING_ANY,
} GstSipRtpLatching;

#define GST_TYPE_SIP_RTP_LATCHING (gst_sip_rtp_latching_get_type ())
static GType
gst_sip_rtp_latching_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {GST_SIP_RTP_LATCHING_OFF,
        "Only the address and port of the caller's SDP", "off"},
    {GST_SIP_RTP_LATCHING_SAME_IP,
        "The SDP address, or another port of the SDP's IP address", "same-ip"},
    {GST_SIP_RTP_LATCHING_ANY,
        "The SDP address, or the first other source that sends", "any"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&id)) {
    GType tmp = g_enum_register_static ("GstSipRtpLatching", values);
    g_once_init_leave (&id, tmp);
  }
  return (GType) id;
}

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (SRC_CAPS));

static const gchar *const needed_factories[] = {
  "rtpbin", "udpsrc", "udpsink", "rtppcmudepay", "mulawdec", "fakesink", NULL
};

static const gchar *const needed_factories_shared[] = {
  "rtpsession", "udpsink", NULL
};

/* G.711 u-law to linear, for shared-threads (ITU-T G.711, as in
 * GStreamer's mulaw plugin): filled once by class_init */
static gint16 ulaw_to_s16[256];

/* G.711 u-law: sign, 3-bit exponent, 4-bit mantissa, bits inverted */
static gint16
gst_sip_ulaw_decode (guint8 ulaw)
{
  gint t;

  ulaw = ~ulaw;
  t = (((ulaw & 0x0f) << 3) + 0x84) << ((ulaw & 0x70) >> 4);
  return (ulaw & 0x80) ? 0x84 - t : t - 0x84;
}

struct _GstSipSrc
{
  GstBin parent;

  /* protects everything below, except where noted */
  GMutex lock;
  GCond cond;

  /* settings */
  gchar *host;
  guint port;
  gchar *rtp_port_range;
  gchar *public_address;
  guint latency;
  gchar *allowed_sources;
  gboolean auto_answer;
  gint rtp_latching;            /* GstSipRtpLatching, atomic */
  guint media_timeout;          /* seconds, 0: off */
  guint max_duration;           /* seconds, 0: unlimited */
  guint invite_rate_limit;      /* per second per source, 0: off */
  gboolean shared_threads;

  /* the ghost src pad (never changes) */
  GstPad *srcpad;

  /* children, created at NULL->READY (rtpbin, or rtpsession with
   * shared-threads) and per call (udp) */
  GstElement *rtpbin;
  GstElement *session;
  GstElement *rtp_src;
  GstElement *rtcp_src;
  GstElement *rtcp_sink;
  guint n_chains;

  /* shared-threads: the pads the shared receive threads push into */
  GstPad *rtp_recv;
  GstPad *rtcp_recv;
  GstPad *decode_sink;          /* rtpsession -> here, decoded -> audio_src */
  GstPad *audio_src;            /* the src pad's target */
  gboolean audio_seq_valid;     /* the last decoded packet, receive thread */
  guint16 audio_seq;
  GstSipReceiverEntry *rtp_entry;
  GstSipReceiverEntry *rtcp_entry;
  gint playing;                 /* atomic: nothing flows below PLAYING */
  /* the newest RTP packet, only touched by the receive thread */
  gboolean order_valid;
  guint32 order_ssrc;
  guint16 order_seq;

  /* signalling */
  SipAgent *agent;
  SipCall *call;
  gboolean call_from_property;  /* the application handed the call over */
  gboolean had_call;            /* one call per run */
  gulong state_changed_id;
  gulong media_changed_id;
  /* the negotiated payload types, atomic: read from streaming threads */
  gint pcmu_pt;                 /* 0, or the caller's dynamic PCMU type */
  gint telephone_event_pt;      /* -1: not negotiated */
  gboolean answered_posted;
  gboolean ended_posted;
  gboolean answer_pending;      /* auto-answer once PAUSED */
  GstSipTickerEntry *timer;     /* media timeout */
  gboolean active_seen;
  const gchar *end_reason;      /* our own reason to hang up, or NULL */
  GstStructure *ended_stats;    /* statistics when the call ended */

  /* RTP source safety; protected by media_lock (taken by the threads that
   * receive: the udpsrcs' or the shared ones), addresses normalized (IPv4,
   * not mapped) */
  GMutex media_lock;
  /* held from choosing the RTCP destination until the udpsink has it: the
   * agent thread and the receive threads update it */
  GMutex rtcp_dest_lock;
  GstSipCallMedia *media;
  GSocketAddress *sdp_rtp;      /* the caller's addresses from the SDP */
  GSocketAddress *sdp_rtcp;
  GSocketAddress *latched_rtp;  /* the source RTP is accepted from */
  GSocketAddress *latched_rtcp;
  gboolean latch_answered;
  gint64 latch_deadline;        /* end of the latching window (monotonic) */
  GSocketAddress *cand_addr;    /* a source on probation */
  guint32 cand_ssrc;
  guint16 cand_seq;
  guint cand_count;
  gboolean rejected_logged;
  gint64 last_rtp;              /* monotonic time of the last RTP packet */

  /* end of stream */
  gboolean flushing;            /* below PAUSED: nothing may be pushed */
  gboolean eos_pending;         /* the call ended while flushing */
  gboolean eos_scheduled;
  gboolean eos_done;            /* EOS went out of the src pad */

  /* DTMF, only touched by the telephone-event streaming thread */
  gboolean dtmf_active;
  gboolean dtmf_reported;
  guint32 dtmf_ts;
  guint dtmf_event;
  guint dtmf_duration;
};

static void gst_sip_src_finalize (GObject * object);
static void gst_sip_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_sip_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_sip_src_change_state (GstElement * element,
    GstStateChange transition);
static gboolean gst_sip_src_send_event (GstElement * element, GstEvent * event);
static void gst_sip_src_handle_message (GstBin * bin, GstMessage * message);

static gboolean gst_sip_src_setup_call (GstSipSrc * self, SipCall * call);
static void gst_sip_src_stop_receiving (GstSipSrc * self);
static void gst_sip_src_schedule_eos (GstSipSrc * self);

#define gst_sip_src_parent_class parent_class
G_DEFINE_TYPE (GstSipSrc, gst_sip_src, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (sipsrc, "sipsrc", GST_RANK_NONE,
    GST_TYPE_SIP_SRC, sip_element_init (plugin));

static void
gst_sip_src_class_init (GstSipSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->finalize = gst_sip_src_finalize;
  gobject_class->set_property = gst_sip_src_set_property;
  gobject_class->get_property = gst_sip_src_get_property;

  /**
   * GstSipSrc:host:
   *
   * The local address to listen on for SIP and RTP. %NULL or "0.0.0.0"
   * means every IPv4 interface, "::" IPv4 and IPv6.
   */
  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Local address to listen on for SIP and RTP "
          "(NULL or \"0.0.0.0\": all IPv4 interfaces, \"::\": IPv4 and IPv6)",
          DEFAULT_HOST,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port",
          "UDP port to listen on for SIP (0: any free port, see bound-port)",
          0, 65535, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_BOUND_PORT,
      g_param_spec_uint ("bound-port", "Bound port",
          "The UDP port SIP actually listens on (0 when not listening)",
          0, 65535, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_RTP_PORT_RANGE,
      g_param_spec_string ("rtp-port-range", "RTP port range",
          "Range of local UDP ports for the call's RTP (even port) and RTCP "
          "(RTP port + 1), as \"first-last\"; busy ports are skipped",
          DEFAULT_RTP_PORT_RANGE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_PUBLIC_ADDRESS,
      g_param_spec_string ("public-address", "Public address",
          "Address advertised in the SDP (c=, o=) and the Contact header, for "
          "hosts behind NAT or in a cloud (NULL: the local address that "
          "routes to the caller)", DEFAULT_PUBLIC_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Jitter buffer size in milliseconds (late packets are dropped)",
          0, G_MAXUINT, DEFAULT_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_ALLOWED_SOURCES,
      g_param_spec_string ("allowed-sources", "Allowed sources",
          "Comma-separated list of networks (CIDR, IPv4 or IPv6, e.g. "
          "\"10.0.0.0/8,2001:db8::/32\") allowed to call; others get "
          "403 Forbidden (NULL or empty: everyone)", DEFAULT_ALLOWED_SOURCES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstSipSrc:invite-rate-limit:
   *
   * New INVITEs accepted per second from one source address by the agent
   * sipsrc creates (#SipAgent:invite-rate-limit): past it an INVITE gets
   * 503 Service Unavailable with Retry-After, and a source that keeps
   * flooding is dropped silently. It is checked before allowed-sources and
   * before anything is allocated. 0 means no limit. It does not apply to
   * calls handed over with #GstSipSrc:call (set it on that agent). Can be
   * changed while running.
   */
  g_object_class_install_property (gobject_class, PROP_INVITE_RATE_LIMIT,
      g_param_spec_uint ("invite-rate-limit", "INVITE rate limit",
          "New INVITEs per second per source address; more get 503 Service "
          "Unavailable or are dropped before anything is allocated "
          "(0: no limit; not applied to calls handed over with \"call\")",
          0, G_MAXUINT, DEFAULT_INVITE_RATE_LIMIT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_AUTO_ANSWER,
      g_param_spec_boolean ("auto-answer", "Auto answer",
          "Answer the call (200 OK) as soon as its media is ready. With FALSE "
          "the application answers with sip_call_answer()",
          DEFAULT_AUTO_ANSWER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstSipSrc:call:
   *
   * The current call. Applications running their own #SipAgent set it (in
   * NULL or READY, or later when sipsrc has no call yet) to hand a call over;
   * sipsrc then creates no agent of its own. Reading it gives the call
   * sipsrc answered, or %NULL.
   */
  g_object_class_install_property (gobject_class, PROP_CALL,
      g_param_spec_object ("call", "Call",
          "The SIP call (SipCall): set it to hand over a call answered by the "
          "application's own SipAgent (then sipsrc runs no agent); read it to "
          "get the call sipsrc answered", SIP_TYPE_CALL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_CALL_ID,
      g_param_spec_string ("call-id", "Call-ID",
          "Call-ID of the current call (NULL when there is none)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_FROM,
      g_param_spec_string ("from", "From",
          "From header of the current call (the caller)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_TO,
      g_param_spec_string ("to", "To",
          "To header of the current call (the number or user dialled)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_REMOTE_ADDRESS,
      g_param_spec_string ("remote-address", "Remote address",
          "The caller's RTP address of the current call, as \"ip:port\"",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstSipSrc:rtp-latching:
   *
   * Where RTP (and RTCP) of the call is accepted from. Packets from the
   * address and port of the caller's SDP are always accepted and fix the
   * stream onto that address at once. With "same-ip" or "any" (the
   * default), a caller behind NAT that sends from another port or address
   * is latched onto when it sends 3 packets in sequence (same SSRC,
   * consecutive sequence numbers) within 10 seconds of the answer. Once
   * latched, packets from any other source are dropped and sipsink sends
   * only to the latched source (symmetric RTP); only the SDP address can
   * still take over, within those 10 seconds. A re-INVITE that moves the
   * caller's media re-arms the latch. RTCP is accepted from the latched
   * RTP source's IP address.
   *
   * Dropped packets are counted in the `packets-rejected` statistic.
   */
  g_object_class_install_property (gobject_class, PROP_RTP_LATCHING,
      g_param_spec_enum ("rtp-latching", "RTP latching",
          "Which RTP sources to accept besides the caller's SDP address: "
          "off (only the SDP address and port), same-ip (another port of "
          "the SDP's IP address), any (the first source that sends 3 packets "
          "in sequence within 10 s of the answer, for callers behind NAT)",
          GST_TYPE_SIP_RTP_LATCHING, DEFAULT_RTP_LATCHING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstSipSrc:media-timeout:
   *
   * Hang up (BYE) when no RTP came from the caller for this many seconds
   * while the call is established and not on hold; `sip-call-ended` then
   * has the reason "media-timeout" and the stream ends with EOS. Any RTP
   * packet from the caller's (latched) source counts, comfort noise
   * included. This applies to calls handed over with #GstSipSrc:call too.
   * 0 disables it.
   */
  g_object_class_install_property (gobject_class, PROP_MEDIA_TIMEOUT,
      g_param_spec_uint ("media-timeout", "Media timeout",
          "Hang up when no RTP came from the caller for this many seconds "
          "while the call is up and not on hold (0: never)",
          0, G_MAXUINT / 1000, DEFAULT_MEDIA_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstSipSrc:max-duration:
   *
   * Hang up (BYE) this many seconds after the call was answered;
   * `sip-call-ended` then has the reason "max-duration". sipsrc sets it
   * as the #SipCall:max-duration of the call it takes, so the call's agent
   * enforces it on its own timers, counted from the 200 OK. 0 leaves the
   * limit of a call sipsrc takes as it is: none, unless the application's
   * #SipAgent has a #SipAgent:max-call-duration. Set while sipsrc holds a
   * call, the value (0 too: no limit) applies to that call at once.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_DURATION,
      g_param_spec_uint ("max-duration", "Maximum duration",
          "Hang up this many seconds after the answer (0: the call's own "
          "limit, none by default)",
          0, G_MAXUINT / 1000, DEFAULT_MAX_DURATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstSipSrc:shared-threads:
   *
   * Receive the call's RTP and RTCP on the receive threads shared by every
   * call of the process (one per core, epoll) instead of two udpsrc
   * threads and an rtpbin jitter buffer with two threads of its own: a
   * call then costs no thread, and a packet no hand-over between threads,
   * which is what lets one machine hold hundreds of calls.
   *
   * Everything downstream of sipsrc then runs in a shared thread, so it
   * must not block or take long: `sipsrc ! sipsink`, `! appsink` and
   * `! queue ! ...` are fine; put a queue after sipsrc before anything that
   * waits on the clock (an audio sink) or works hard (a speech model).
   * sipsrc posts a warning (CORE, THREAD), once, when a push held the shared
   * thread for 50 ms or more.
   *
   * There is no jitter buffer: packets are decoded as they arrive, a packet
   * older than the newest one is dropped as late, and buffers carry their
   * arrival time; #GstSipSrc:latency is the latency sipsrc reports, which
   * clock-synchronized sinks behind a queue add to absorb jitter. RTCP
   * (reports, #GstSipSrc:stats) comes from an rtpsession as before.
   * Linux only; set it before READY.
   */
  g_object_class_install_property (gobject_class, PROP_SHARED_THREADS,
      g_param_spec_boolean ("shared-threads", "Shared threads",
          "Receive on the threads shared by every call (no thread per call, "
          "no jitter buffer; downstream must not block: queue after sipsrc "
          "for clock-synchronized sinks)", DEFAULT_SHARED_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstSipSrc:stats:
   *
   * Statistics of the current call (or of the call that ended), %NULL
   * before a call. A `sip-call-stats` structure with the fields
   *
   * * `packets-received` (guint64): RTP packets received from the caller
   * * `packets-lost` (gint64): RTP packets the caller sent that never came
   * * `jitter` (guint): interarrival jitter of the caller's stream, in ms
   * * `round-trip` (gint): round-trip time in ms from RTCP, -1 while unknown
   *   (it needs a sipsink sending into the call, and RTCP receiver reports
   *   from the caller)
   * * `packets-sent` (guint64): RTP packets sipsink sent to the caller
   * * `packets-rejected` (guint64): packets dropped because they came from
   *   a source other than the caller's (see #GstSipSrc:rtp-latching)
   *
   * The same fields are in the `sip-call-ended` message.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Statistics of the current call (sip-call-stats: packets-received, "
          "packets-lost, jitter (ms), round-trip (ms, -1: unknown), "
          "packets-sent, packets-rejected)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "SIP call source", "Source/Audio/Network",
      "Answers a SIP phone call (UDP, G.711 u-law, RFC 4733 DTMF) and "
      "produces the caller's audio; the call's life and DTMF digits are "
      "posted on the bus. Example: "
      "gst-launch-1.0 sipsrc port=6060 ! queue ! sipsink",
      "The gst-sip authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_sip_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_sip_src_send_event);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_sip_src_handle_message);

  GST_DEBUG_CATEGORY_INIT (gst_sip_src_debug, "sipsrc", 0, "SIP call source");
  for (guint i = 0; i < G_N_ELEMENTS (ulaw_to_s16); i++)
    ulaw_to_s16[i] = gst_sip_ulaw_decode (i);
  gst_type_mark_as_plugin_api (GST_TYPE_SIP_RTP_LATCHING, 0);
}

/* The src pad answers caps and latency queries itself while it has no
 * target yet (before the first RTP packet). */
static gboolean
gst_sip_src_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstSipSrc *self = GST_SIP_SRC (parent);
  GstPad *target;
  gboolean res = FALSE;

  target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  if (target) {
    res = gst_pad_query_default (pad, parent, query);
    gst_object_unref (target);
    if (res)
      return TRUE;
  }

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      guint latency;

      g_mutex_lock (&self->lock);
      latency = self->latency;
      g_mutex_unlock (&self->lock);
      gst_query_set_latency (query, TRUE, latency * GST_MSECOND,
          GST_CLOCK_TIME_NONE);
      res = TRUE;
      break;
    }
    case GST_QUERY_CAPS:{
      GstCaps *caps, *filter;

      gst_query_parse_caps (query, &filter);
      caps = gst_pad_get_pad_template_caps (pad);
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      res = TRUE;
      break;
    }
    default:
      if (!target)
        res = gst_pad_query_default (pad, parent, query);
      break;
  }
  return res;
}

static GstPadProbeReturn
gst_sip_src_src_event_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_DEBUG_OBJECT (self, "EOS leaves the src pad");
    g_mutex_lock (&self->lock);
    self->eos_done = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
gst_sip_src_init (GstSipSrc * self)
{
  GstPadTemplate *templ;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  self->host = g_strdup (DEFAULT_HOST);
  self->port = DEFAULT_PORT;
  self->rtp_port_range = g_strdup (DEFAULT_RTP_PORT_RANGE);
  self->public_address = g_strdup (DEFAULT_PUBLIC_ADDRESS);
  self->latency = DEFAULT_LATENCY;
  self->allowed_sources = g_strdup (DEFAULT_ALLOWED_SOURCES);
  self->auto_answer = DEFAULT_AUTO_ANSWER;
  self->rtp_latching = DEFAULT_RTP_LATCHING;
  self->media_timeout = DEFAULT_MEDIA_TIMEOUT;
  self->max_duration = DEFAULT_MAX_DURATION;
  self->invite_rate_limit = DEFAULT_INVITE_RATE_LIMIT;
  self->shared_threads = DEFAULT_SHARED_THREADS;
  g_mutex_init (&self->media_lock);
  g_mutex_init (&self->rtcp_dest_lock);
  self->pcmu_pt = 0;
  self->telephone_event_pt = -1;
  self->flushing = TRUE;

  templ = gst_static_pad_template_get (&src_template);
  self->srcpad = gst_ghost_pad_new_no_target_from_template ("src", templ);
  gst_object_unref (templ);
  gst_pad_set_query_function (self->srcpad, gst_sip_src_src_query);
  gst_pad_add_probe (self->srcpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      gst_sip_src_src_event_probe, self, NULL);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  /* a live source: the udpsink for RTCP and the fakesink for DTMF inside do
   * not make the bin a sink */
  gst_bin_set_suppressed_flags (GST_BIN (self),
      GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_sip_src_finalize (GObject * object)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  /* an application that dropped a playing pipeline: no push may follow */
  gst_sip_src_stop_receiving (self);
  g_clear_object (&self->call);
  g_clear_object (&self->agent);
  g_free (self->host);
  g_free (self->rtp_port_range);
  g_free (self->public_address);
  g_free (self->allowed_sources);
  if (self->ended_stats)
    gst_structure_free (self->ended_stats);
  g_mutex_clear (&self->media_lock);
  g_mutex_clear (&self->rtcp_dest_lock);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------------ */
/* bus messages */

static gchar *
gst_sip_src_call_remote_address (SipCall * call)
{
  GSocketAddress *addr = sip_call_get_remote_rtp_socket_address (call);
  gchar *str = NULL;

  if (addr) {
    str = gst_sip_socket_address_to_string (addr);
    g_object_unref (addr);
  }
  return str;
}

static gboolean
gst_sip_src_copy_field (GQuark field, const GValue * value, gpointer user_data)
{
  gst_structure_id_set_value (user_data, field, value);
  return TRUE;
}

/* posts an element message about @call with the fields of @extra (may be
 * NULL) and those given as varargs */
static void
gst_sip_src_post_call_message_full (GstSipSrc * self, SipCall * call,
    const gchar * name, const GstStructure * extra, const gchar * firstfield,
    va_list args)
{
  GstStructure *s;
  gchar *remote = gst_sip_src_call_remote_address (call);

  s = gst_structure_new (name,
      "call-id", G_TYPE_STRING, sip_call_get_call_id (call),
      "from", G_TYPE_STRING, sip_call_get_from (call),
      "to", G_TYPE_STRING, sip_call_get_to (call),
      "remote-address", G_TYPE_STRING, remote, NULL);
  g_free (remote);
  if (firstfield)
    gst_structure_set_valist (s, firstfield, args);
  if (extra)
    gst_structure_foreach (extra, gst_sip_src_copy_field, s);
  GST_INFO_OBJECT (self, "posting %" GST_PTR_FORMAT, s);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static void
gst_sip_src_post_call_message (GstSipSrc * self, SipCall * call,
    const gchar * name, const gchar * firstfield, ...)
{
  va_list args;

  va_start (args, firstfield);
  gst_sip_src_post_call_message_full (self, call, name, NULL, firstfield, args);
  va_end (args);
}

static void
gst_sip_src_post_ended_message (GstSipSrc * self, SipCall * call,
    const GstStructure * stats, const gchar * firstfield, ...)
{
  va_list args;

  va_start (args, firstfield);
  gst_sip_src_post_call_message_full (self, call, "sip-call-ended", stats,
      firstfield, args);
  va_end (args);
}

/* ------------------------------------------------------------------------ */
/* rtpbin */

static GstCaps *
gst_sip_src_caps_for_pt (GstSipSrc * self, guint pt)
{
  gint pcmu_pt = g_atomic_int_get (&self->pcmu_pt);
  gint te_pt = g_atomic_int_get (&self->telephone_event_pt);

  GST_DEBUG_OBJECT (self, "caps for payload type %u", pt);
  if (pt == (guint) pcmu_pt)
    return gst_caps_new_simple ("application/x-rtp",
        "media", G_TYPE_STRING, "audio",
        "clock-rate", G_TYPE_INT, 8000,
        "encoding-name", G_TYPE_STRING, "PCMU",
        "payload", G_TYPE_INT, (gint) pt, NULL);
  if (te_pt >= 0 && pt == (guint) te_pt)
    return gst_caps_new_simple ("application/x-rtp",
        "media", G_TYPE_STRING, "audio",
        "clock-rate", G_TYPE_INT, 8000,
        "encoding-name", G_TYPE_STRING, "TELEPHONE-EVENT",
        "payload", G_TYPE_INT, (gint) pt, NULL);
  GST_WARNING_OBJECT (self, "no caps for payload type %u", pt);
  return NULL;
}

/* rtpbin */
static GstCaps *
gst_sip_src_request_pt_map (GstElement * rtpbin, guint session, guint pt,
    GstSipSrc * self)
{
  return gst_sip_src_caps_for_pt (self, pt);
}

/* rtpsession and rtpptdemux (shared-threads) */
static GstCaps *
gst_sip_src_session_request_pt_map (GstElement * element, guint pt,
    GstSipSrc * self)
{
  return gst_sip_src_caps_for_pt (self, pt);
}

static void
gst_sip_src_new_jitterbuffer (GstElement * rtpbin, GstElement * jitterbuffer,
    guint session, guint ssrc, GstSipSrc * self)
{
  GST_DEBUG_OBJECT (self, "new jitterbuffer for SSRC %08x", ssrc);
  /* start after two packets instead of holding the first one for the whole
   * latency */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (jitterbuffer),
          "faststart-min-packets"))
    g_object_set (jitterbuffer, "faststart-min-packets", 2, NULL);
}

/* buffers from a decoder that is no longer the src pad's target (old SSRC)
 * are dropped instead of returning not-linked upstream */
static GstPadProbeReturn
gst_sip_src_drop_unlinked_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  if (!gst_pad_is_linked (pad))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

static const gchar dtmf_digits[] = "0123456789*#ABCD";

static void
gst_sip_src_report_dtmf (GstSipSrc * self)
{
  SipCall *call;
  gchar digit[2] = { 0, 0 };

  self->dtmf_reported = TRUE;
  if (self->dtmf_event >= 16)
    return;
  digit[0] = dtmf_digits[self->dtmf_event];

  g_mutex_lock (&self->lock);
  call = self->call ? g_object_ref (self->call) : NULL;
  g_mutex_unlock (&self->lock);
  if (!call)
    return;

  gst_sip_src_post_call_message (self, call, "sip-dtmf",
      "digit", G_TYPE_STRING, digit,
      "number", G_TYPE_INT, (gint) self->dtmf_event,
      "duration", G_TYPE_UINT, self->dtmf_duration / 8, NULL);
  g_object_unref (call);
}

/* An RFC 4733 telephone-event packet, in order: one sip-dtmf message per
 * key press, when it ends. Only ever called from one streaming thread. */
static void
gst_sip_src_handle_dtmf (GstSipSrc * self, GstBuffer * buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 *payload;
  guint32 ts;
  gboolean marker, end;
  guint event, duration;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return;
  if (gst_rtp_buffer_get_payload_len (&rtp) < 4) {
    gst_rtp_buffer_unmap (&rtp);
    return;
  }
  payload = gst_rtp_buffer_get_payload (&rtp);
  ts = gst_rtp_buffer_get_timestamp (&rtp);
  marker = gst_rtp_buffer_get_marker (&rtp);
  event = payload[0];
  end = (payload[1] & 0x80) != 0;
  duration = GST_READ_UINT16_BE (payload + 2);
  gst_rtp_buffer_unmap (&rtp);

  if (!self->dtmf_active || ts != self->dtmf_ts || (marker
          && event != self->dtmf_event)) {
    /* a new key press; report the previous one if its end was lost */
    if (self->dtmf_active && !self->dtmf_reported)
      gst_sip_src_report_dtmf (self);
    self->dtmf_active = TRUE;
    self->dtmf_reported = FALSE;
    self->dtmf_ts = ts;
    self->dtmf_event = event;
    self->dtmf_duration = duration;
    GST_DEBUG_OBJECT (self, "DTMF event %u starts", event);
  } else if (duration > self->dtmf_duration) {
    self->dtmf_duration = duration;
  }

  if (end && !self->dtmf_reported)
    gst_sip_src_report_dtmf (self);
}

/* telephone-event packets from rtpbin's jitter buffer */
static GstPadProbeReturn
gst_sip_src_dtmf_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  gst_sip_src_handle_dtmf (GST_SIP_SRC (user_data),
      GST_PAD_PROBE_INFO_BUFFER (info));
  return GST_PAD_PROBE_OK;
}

/* a stream of payload type @pt (SSRC @ssrc, 0: any) appeared on @pad:
 * PCMU to the decoder and the src pad, telephone-event to DTMF reports */
static void
gst_sip_src_link_stream (GstSipSrc * self, GstPad * pad, guint ssrc, guint pt)
{
  gint pcmu_pt, te_pt;
  GstBin *bin = GST_BIN (self);
  GstPad *sinkpad;
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_chains++;
  g_mutex_unlock (&self->lock);
  pcmu_pt = g_atomic_int_get (&self->pcmu_pt);
  te_pt = g_atomic_int_get (&self->telephone_event_pt);

  /* PCMU takes precedence should a hostile offer map both to one type */
  if (pt == (guint) pcmu_pt) {
    GstElement *depay, *dec;
    GstPad *decsrc;
    gchar *name;

    name = g_strdup_printf ("pcmu_depay_%u", n);
    depay = gst_element_factory_make ("rtppcmudepay", name);
    g_free (name);
    name = g_strdup_printf ("pcmu_dec_%u", n);
    dec = gst_element_factory_make ("mulawdec", name);
    g_free (name);
    if (!depay || !dec) {
      GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
          ("Missing element 'rtppcmudepay' or 'mulawdec'"), (NULL));
      g_clear_object (&depay);
      g_clear_object (&dec);
      return;
    }
    gst_bin_add_many (bin, depay, dec, NULL);
    gst_element_link (depay, dec);
    gst_element_sync_state_with_parent (dec);
    gst_element_sync_state_with_parent (depay);

    decsrc = gst_element_get_static_pad (dec, "src");
    gst_pad_add_probe (decsrc, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, gst_sip_src_drop_unlinked_probe,
        NULL, NULL);
    GST_INFO_OBJECT (self, "audio from SSRC %08x", ssrc);
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), decsrc);
    gst_object_unref (decsrc);

    sinkpad = gst_element_get_static_pad (depay, "sink");
    if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
      GST_ERROR_OBJECT (self, "could not link %s:%s", GST_DEBUG_PAD_NAME (pad));
    gst_object_unref (sinkpad);

    /* the path from the network to the src pad exists now */
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  } else {
    GstElement *depay = NULL, *sink;
    gchar *name;

    name = g_strdup_printf ("dtmf_sink_%u", n);
    sink = gst_element_factory_make ("fakesink", name);
    g_free (name);
    g_object_set (sink, "sync", FALSE, "async", FALSE,
        "enable-last-sample", FALSE, NULL);
    gst_bin_add (bin, sink);
    /* rtpdtmfdepay only takes dynamic payload types */
    if (te_pt >= 96 && pt == (guint) te_pt) {
      name = g_strdup_printf ("dtmf_depay_%u", n);
      depay = gst_element_factory_make ("rtpdtmfdepay", name);
      g_free (name);
    }
    if (depay) {
      gst_bin_add (bin, depay);
      gst_element_link (depay, sink);
      gst_element_sync_state_with_parent (sink);
      gst_element_sync_state_with_parent (depay);
      sinkpad = gst_element_get_static_pad (depay, "sink");
    } else {
      gst_element_sync_state_with_parent (sink);
      sinkpad = gst_element_get_static_pad (sink, "sink");
    }
    if (te_pt >= 0 && pt == (guint) te_pt)
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
          gst_sip_src_dtmf_probe, self, NULL);
    if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
      GST_ERROR_OBJECT (self, "could not link %s:%s", GST_DEBUG_PAD_NAME (pad));
    gst_object_unref (sinkpad);
  }
}

static void
gst_sip_src_pad_added (GstElement * rtpbin, GstPad * pad, GstSipSrc * self)
{
  guint session, ssrc, pt;

  GST_DEBUG_OBJECT (self, "rtpbin pad %s:%s", GST_DEBUG_PAD_NAME (pad));
  if (sscanf (GST_PAD_NAME (pad), "recv_rtp_src_%u_%u_%u", &session, &ssrc,
          &pt) == 3)
    gst_sip_src_link_stream (self, pad, ssrc, pt);
}

/* shared-threads: what rtpsession passed on, in a receive thread. PCMU is
 * decoded here and pushed out of the src pad, telephone-event reported: a
 * depayloader and a decoder element (and a demuxer between) would cost more
 * per 20 ms packet than the decoding itself. */
static GstFlowReturn
gst_sip_src_decode_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstSipSrc *self = gst_pad_get_element_private (pad);
  gint pcmu_pt = g_atomic_int_get (&self->pcmu_pt);
  gint te_pt = g_atomic_int_get (&self->telephone_event_pt);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  const guint8 *payload;
  GstMapInfo map;
  GstBuffer *out;
  guint pt, len;
  guint16 seq;
  gint16 *samples;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  pt = gst_rtp_buffer_get_payload_type (&rtp);
  if (pt != (guint) pcmu_pt) {
    gst_rtp_buffer_unmap (&rtp);
    if (te_pt >= 0 && pt == (guint) te_pt)
      gst_sip_src_handle_dtmf (self, buf);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }

  len = gst_rtp_buffer_get_payload_len (&rtp);
  payload = gst_rtp_buffer_get_payload (&rtp);
  seq = gst_rtp_buffer_get_seq (&rtp);
  out = gst_buffer_new_allocate (NULL, (gsize) len * 2, NULL);
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  samples = (gint16 *) map.data;
  for (guint i = 0; i < len; i++)
    samples[i] = GINT16_TO_LE (ulaw_to_s16[payload[i]]);
  gst_buffer_unmap (out, &map);
  gst_rtp_buffer_unmap (&rtp);

  GST_BUFFER_PTS (out) = GST_BUFFER_PTS (buf);
  GST_BUFFER_DURATION (out) = gst_util_uint64_scale_int (len, GST_SECOND,
      8000);
  /* a lost packet is a gap in the audio */
  if (!self->audio_seq_valid || seq != (guint16) (self->audio_seq + 1))
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
  self->audio_seq_valid = TRUE;
  self->audio_seq = seq;
  gst_buffer_unref (buf);
  return gst_pad_push (self->audio_src, out);
}

/* shared-threads: rtpsession (RTCP, statistics) -> our decoder, no jitter
 * buffer; the receive threads push into it (gst_sip_src_setup_call) */
static gboolean
gst_sip_src_build_shared (GstSipSrc * self)
{
  GstElement *session;

  if (!gst_sip_receiver_is_supported ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("shared-threads is not supported on this system (Linux only)."),
        (NULL));
    return FALSE;
  }
  session = gst_element_factory_make ("rtpsession", "rtpsession");
  if (!session)
    return FALSE;
  /* the caller is known from the SDP: accept its first packet, even when
   * dropped payload types (comfort noise) leave gaps in the sequence */
  g_object_set (session, "probation", 0, NULL);
  g_signal_connect (session, "request-pt-map",
      G_CALLBACK (gst_sip_src_session_request_pt_map), self);
  gst_bin_add (GST_BIN (self), session);
  self->session = session;
  return TRUE;
}

static gboolean
gst_sip_src_build (GstSipSrc * self)
{
  GstElement *rtpbin;
  gboolean shared;

  g_mutex_lock (&self->lock);
  shared = self->shared_threads;
  g_mutex_unlock (&self->lock);
  if (shared)
    return gst_sip_src_build_shared (self);

  rtpbin = gst_element_factory_make ("rtpbin", "rtpbin");
  if (!rtpbin)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_object_set (rtpbin, "latency", self->latency, "drop-on-latency", TRUE,
      "max-streams", MAX_STREAMS, NULL);
  g_mutex_unlock (&self->lock);
  g_signal_connect (rtpbin, "request-pt-map",
      G_CALLBACK (gst_sip_src_request_pt_map), self);
  g_signal_connect (rtpbin, "new-jitterbuffer",
      G_CALLBACK (gst_sip_src_new_jitterbuffer), self);
  g_signal_connect (rtpbin, "pad-added", G_CALLBACK (gst_sip_src_pad_added),
      self);
  gst_bin_add (GST_BIN (self), rtpbin);
  self->rtpbin = rtpbin;
  return TRUE;
}

/* shared-threads: nothing is pushed into the call's pipeline any more once
 * this returns */
static void
gst_sip_src_stop_receiving (GstSipSrc * self)
{
  GstSipReceiverEntry *rtp_entry, *rtcp_entry;

  g_mutex_lock (&self->lock);
  rtp_entry = self->rtp_entry;
  rtcp_entry = self->rtcp_entry;
  self->rtp_entry = self->rtcp_entry = NULL;
  g_mutex_unlock (&self->lock);
  gst_sip_receiver_remove (rtp_entry);
  gst_sip_receiver_remove (rtcp_entry);
}

/* removes every child: the next run starts afresh */
static void
gst_sip_src_clear_children (GstSipSrc * self)
{
  GList *children, *l;

  gst_sip_src_stop_receiving (self);
  gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), NULL);

  GST_OBJECT_LOCK (self);
  children = NULL;
  for (l = GST_BIN_CHILDREN (self); l; l = l->next)
    children = g_list_prepend (children, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (self);

  for (l = children; l; l = l->next) {
    GstElement *child = l->data;

    gst_element_set_locked_state (child, FALSE);
    gst_element_set_state (child, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), child);
  }
  g_list_free_full (children, gst_object_unref);

  g_mutex_lock (&self->lock);
  self->rtpbin = NULL;
  self->session = NULL;
  gst_clear_object (&self->rtp_recv);
  gst_clear_object (&self->rtcp_recv);
  gst_clear_object (&self->decode_sink);
  gst_clear_object (&self->audio_src);
  self->rtp_src = NULL;
  self->rtcp_src = NULL;
  self->rtcp_sink = NULL;
  self->n_chains = 0;
  g_mutex_unlock (&self->lock);
}

/* ------------------------------------------------------------------------ */
/* the call */

/* Where RTCP goes: the source RTCP came from, else the latched RTP source's
 * address with its port + 1, else the SDP's RTCP address. Called with the
 * media lock. */
static GSocketAddress *
gst_sip_src_rtcp_destination (GstSipSrc * self)
{
  if (self->latched_rtcp)
    return g_object_ref (self->latched_rtcp);
  if (self->latched_rtp) {
    GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (self->latched_rtp);
    guint port = g_inet_socket_address_get_port (isa);

    return g_inet_socket_address_new (g_inet_socket_address_get_address (isa),
        port < 65535 ? port + 1 : port);
  }
  return self->sdp_rtcp ? g_object_ref (self->sdp_rtcp) : NULL;
}

static void
gst_sip_src_update_rtcp_destination (GstSipSrc * self)
{
  GstElement *rtcp_sink;
  GSocketAddress *addr;
  GSocket *socket = NULL;

  /* called without our other locks; two updates at once could otherwise
   * leave the older address, or both */
  g_mutex_lock (&self->rtcp_dest_lock);
  g_mutex_lock (&self->lock);
  rtcp_sink = self->rtcp_sink ? gst_object_ref (self->rtcp_sink) : NULL;
  if (self->call)
    socket = sip_call_get_rtcp_socket (self->call);
  g_mutex_unlock (&self->lock);
  if (!rtcp_sink) {
    g_mutex_unlock (&self->rtcp_dest_lock);
    return;
  }

  g_mutex_lock (&self->media_lock);
  addr = gst_sip_src_rtcp_destination (self);
  g_mutex_unlock (&self->media_lock);

  gst_sip_udpsink_set_destination (rtcp_sink, socket, addr);
  g_mutex_unlock (&self->rtcp_dest_lock);
  g_clear_object (&addr);
  gst_object_unref (rtcp_sink);
}

/* Takes the caller's media addresses from the SDP of @call. When they
 * changed (or with @force), the latch is re-armed: nothing latched, and the
 * latching window restarts if the call was answered. */
static void
gst_sip_src_arm_latch (GstSipSrc * self, SipCall * call, gboolean force)
{
  GSocketAddress *sdp, *rtp, *rtcp;
  gboolean changed;

  sdp = sip_call_get_remote_rtp_socket_address (call);
  rtp = gst_sip_address_normalize (sdp);
  g_clear_object (&sdp);
  sdp = sip_call_get_remote_rtcp_socket_address (call);
  rtcp = gst_sip_address_normalize (sdp);
  g_clear_object (&sdp);

  g_mutex_lock (&self->media_lock);
  changed = force || !gst_sip_address_equal (rtp, self->sdp_rtp, TRUE);
  if (changed) {
    g_clear_object (&self->sdp_rtp);
    g_clear_object (&self->sdp_rtcp);
    g_clear_object (&self->latched_rtp);
    g_clear_object (&self->latched_rtcp);
    g_clear_object (&self->cand_addr);
    self->cand_count = 0;
    self->sdp_rtp = rtp ? g_object_ref (rtp) : NULL;
    self->sdp_rtcp = rtcp ? g_object_ref (rtcp) : NULL;
    if (self->latch_answered)
      self->latch_deadline = g_get_monotonic_time () + LATCH_WINDOW;
    if (self->media)
      gst_sip_call_media_set_latched (self->media, rtp, NULL);
  }
  g_mutex_unlock (&self->media_lock);

  if (changed) {
    gchar *addr = rtp ? gst_sip_socket_address_to_string (rtp) : NULL;

    GST_INFO_OBJECT (self, "caller's media at %s: latching (re-)armed",
        GST_STR_NULL (addr));
    g_free (addr);
    gst_sip_src_update_rtcp_destination (self);
  }
  g_clear_object (&rtp);
  g_clear_object (&rtcp);
}

/* the call was answered: the latching window starts */
static void
gst_sip_src_start_latch_window (GstSipSrc * self)
{
  g_mutex_lock (&self->media_lock);
  if (!self->latch_answered) {
    self->latch_answered = TRUE;
    self->latch_deadline = g_get_monotonic_time () + LATCH_WINDOW;
  }
  g_mutex_unlock (&self->media_lock);
}

/* Decides whether an RTP packet from @from (SSRC @ssrc, sequence number
 * @seq) comes from the caller; latches onto a new source. Streaming
 * thread. */
static gboolean
gst_sip_src_accept_rtp (GstSipSrc * self, GSocketAddress * from,
    guint32 ssrc, guint16 seq)
{
  GstSipRtpLatching mode = g_atomic_int_get (&self->rtp_latching);
  gboolean accept = FALSE, latch = FALSE, window, log_reject = FALSE;
  gint64 now = g_get_monotonic_time ();
  SipCall *call;

  if (!from)
    return FALSE;

  g_mutex_lock (&self->media_lock);
  if (self->latched_rtp && gst_sip_address_equal (from, self->latched_rtp,
          TRUE)) {
    self->last_rtp = now;
    g_mutex_unlock (&self->media_lock);
    return TRUE;
  }
  g_mutex_unlock (&self->media_lock);

  /* not from the latched source: a re-INVITE may have moved the caller's
   * media just now (the library answers before it signals the change) */
  g_mutex_lock (&self->lock);
  call = self->call ? g_object_ref (self->call) : NULL;
  g_mutex_unlock (&self->lock);
  if (call) {
    gst_sip_src_arm_latch (self, call, FALSE);
    g_object_unref (call);
  }

  g_mutex_lock (&self->media_lock);
  window = !self->latch_answered || now < self->latch_deadline;
  if (self->latched_rtp) {
    if (gst_sip_address_equal (from, self->latched_rtp, TRUE))
      accept = TRUE;
    else if (window && self->sdp_rtp
        && gst_sip_address_equal (from, self->sdp_rtp, TRUE))
      /* the negotiated address takes over from a NAT latch in the window */
      latch = TRUE;
  } else if (self->sdp_rtp && gst_sip_address_equal (from, self->sdp_rtp, TRUE)) {
    latch = TRUE;
  } else if (window && (mode == GST_SIP_RTP_LATCHING_ANY
          || (mode == GST_SIP_RTP_LATCHING_SAME_IP && self->sdp_rtp
              && gst_sip_address_equal (from, self->sdp_rtp, FALSE)))) {
    if (self->cand_addr && gst_sip_address_equal (from, self->cand_addr, TRUE)
        && ssrc == self->cand_ssrc && seq == (guint16) (self->cand_seq + 1)) {
      self->cand_count++;
    } else {
      g_clear_object (&self->cand_addr);
      self->cand_addr = g_object_ref (from);
      self->cand_ssrc = ssrc;
      self->cand_count = 1;
    }
    self->cand_seq = seq;
    if (self->cand_count >= LATCH_PACKETS)
      latch = TRUE;
  }

  if (latch) {
    g_clear_object (&self->latched_rtp);
    g_clear_object (&self->latched_rtcp);
    g_clear_object (&self->cand_addr);
    self->cand_count = 0;
    self->latched_rtp = gst_sip_address_normalize (from);
    /* under the media lock: a re-arm cannot overtake it */
    if (self->media)
      gst_sip_call_media_set_latched (self->media, self->sdp_rtp,
          self->latched_rtp);
    accept = TRUE;
  }
  if (accept) {
    self->last_rtp = now;
  } else {
    if (self->media)
      gst_sip_call_media_add_rejected (self->media, 1);
    log_reject = !self->rejected_logged;
    self->rejected_logged = TRUE;
  }
  g_mutex_unlock (&self->media_lock);

  if (log_reject || latch || (!accept
          && gst_debug_category_get_threshold (GST_CAT_DEFAULT) >=
          GST_LEVEL_LOG)) {
    gchar *addr = gst_sip_socket_address_to_string (from);

    if (latch)
      GST_INFO_OBJECT (self, "RTP latched onto %s (SSRC %08x)", addr, ssrc);
    else if (log_reject)
      GST_WARNING_OBJECT (self, "dropping RTP from %s, which is not the "
          "caller (further drops are logged at LOG level)", addr);
    else if (!accept)
      GST_LOG_OBJECT (self, "dropping RTP from %s", addr);
    g_free (addr);
  }
  if (latch)
    gst_sip_src_update_rtcp_destination (self);
  return accept;
}

/* Drops datagrams that are not RTP or not from the caller (see
 * rtp-latching), and RTP packets of payload types other than the negotiated
 * PCMU and telephone-event ones before the RTP session (rtpbin's, where a
 * NULL answer to request-pt-map is an error, or the shared-threads one). */
static GstPadProbeReturn
gst_sip_src_rtp_filter_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (user_data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint pcmu_pt = g_atomic_int_get (&self->pcmu_pt);
  gint te_pt = g_atomic_int_get (&self->telephone_event_pt);
  GstNetAddressMeta *meta;
  guint8 header[12];
  guint pt;

  if (gst_buffer_get_size (buf) < 12
      || gst_buffer_extract (buf, 0, header, 12) != 12
      || (header[0] & 0xc0) != 0x80) {
    GST_LOG_OBJECT (self, "dropping a datagram that is not RTP");
    return GST_PAD_PROBE_DROP;
  }
  pt = header[1] & 0x7f;
  if (pt >= 72 && pt <= 79) {
    /* RTCP multiplexed onto the RTP port was not negotiated */
    GST_LOG_OBJECT (self, "dropping RTCP on the RTP port");
    return GST_PAD_PROBE_DROP;
  }

  meta = gst_buffer_get_net_address_meta (buf);
  if (!gst_sip_src_accept_rtp (self, meta ? meta->addr : NULL,
          GST_READ_UINT32_BE (header + 8), GST_READ_UINT16_BE (header + 2)))
    return GST_PAD_PROBE_DROP;

  if (pt == (guint) pcmu_pt || (te_pt >= 0 && pt == (guint) te_pt))
    return GST_PAD_PROBE_OK;
  GST_LOG_OBJECT (self, "dropping RTP with payload type %u", pt);
  return GST_PAD_PROBE_DROP;
}

/* An SDES packet (@p, @len bytes without padding) made of exactly its
 * source count of chunks, whose items all lie inside it (RFC 3550 6.5).
 * GStreamer 1.22's rtpsession trusts a PRIV item's prefix length, an
 * item's length, and parses bytes after the last chunk as more chunks: a
 * hostile packet makes it read past the datagram. */
static gboolean
gst_sip_rtcp_sdes_is_sane (const guint8 * p, gsize len)
{
  guint chunks = p[0] & 0x1f;
  gsize off = 4;

  for (guint c = 0; c < chunks; c++) {
    off += 4;                   /* SSRC/CSRC */
    for (;;) {
      if (off >= len)
        return FALSE;           /* no null item ends the chunk */
      if (p[off] == 0) {
        /* the null item, padded to the next 32-bit boundary */
        off = (off + 4) & ~(gsize) 3;
        break;
      }
      if (off + 2 > len || off + 2 + p[off + 1] > len)
        return FALSE;
      /* PRIV (8): a prefix length byte, then prefix and value */
      if (p[off] == 8 && (p[off + 1] == 0 || p[off + 2] >= p[off + 1]))
        return FALSE;
      off += 2 + p[off + 1];
    }
  }
  return off == len;
}

/* A compound RTCP packet whose packets' lengths add up to the datagram
 * (RFC 3550 A.2), padding only in the last one, every SDES sane. */
static gboolean
gst_sip_rtcp_is_sane (const guint8 * data, gsize size)
{
  gsize off = 0;

  while (off < size) {
    const guint8 *p = data + off;
    gsize len;

    if (size - off < 4 || (p[0] & 0xc0) != 0x80)
      return FALSE;
    len = ((gsize) GST_READ_UINT16_BE (p + 2) + 1) * 4;
    if (len > size - off)
      return FALSE;
    off += len;
    if (p[0] & 0x20) {
      /* padding: in the last packet only, its count in the last byte */
      if (off != size || p[len - 1] == 0 || p[len - 1] > len - 4)
        return FALSE;
      len -= p[len - 1];
    }
    if (p[1] == 202 && !gst_sip_rtcp_sdes_is_sane (p, len))
      return FALSE;
  }
  return size > 0;
}

/* RTCP only from the caller: the latched RTP source's IP address (the first
 * port RTCP comes from is latched), or the SDP's RTCP address before RTP
 * was latched */
static GstPadProbeReturn
gst_sip_src_rtcp_filter_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (user_data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstNetAddressMeta *meta = gst_buffer_get_net_address_meta (buf);
  GSocketAddress *from = meta ? meta->addr : NULL;
  gboolean accept = FALSE, latch = FALSE, sane;
  GstMapInfo map;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_DROP;
  sane = map.size >= 8 && map.data[1] >= 200 && map.data[1] <= 207
      && gst_sip_rtcp_is_sane (map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (!sane) {
    GST_LOG_OBJECT (self, "dropping a datagram that is not well-formed RTCP");
    return GST_PAD_PROBE_DROP;
  }
  if (!from)
    return GST_PAD_PROBE_DROP;

  g_mutex_lock (&self->media_lock);
  if (self->latched_rtcp) {
    accept = gst_sip_address_equal (from, self->latched_rtcp, TRUE);
  } else if (self->latched_rtp) {
    accept = latch = gst_sip_address_equal (from, self->latched_rtp, FALSE);
    if (latch)
      self->latched_rtcp = gst_sip_address_normalize (from);
  } else if (self->sdp_rtcp) {
    accept = gst_sip_address_equal (from, self->sdp_rtcp, TRUE);
  }
  if (!accept && self->media)
    gst_sip_call_media_add_rejected (self->media, 1);
  g_mutex_unlock (&self->media_lock);

  if (latch) {
    gchar *addr = gst_sip_socket_address_to_string (from);

    GST_INFO_OBJECT (self, "RTCP latched onto %s", addr);
    g_free (addr);
    gst_sip_src_update_rtcp_destination (self);
  }
  if (!accept) {
    GST_LOG_OBJECT (self, "dropping RTCP from %" GST_PTR_FORMAT, from);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

static void
gst_sip_src_call_state_changed (SipCall * call, SipCallState state,
    GstSipSrc * self)
{
  gboolean post_answered = FALSE, post_ended = FALSE, now_active = FALSE;
  const gchar *own_reason = NULL;
  GstSipCallMedia *media = NULL;
  g_mutex_lock (&self->lock);
  if (self->call != call) {
    g_mutex_unlock (&self->lock);
    return;
  }
  if ((state == SIP_CALL_STATE_ANSWERED || state == SIP_CALL_STATE_ACTIVE)
      && !self->answered_posted) {
    self->answered_posted = TRUE;
    post_answered = TRUE;
  } else if (state == SIP_CALL_STATE_ENDED && !self->ended_posted) {
    self->ended_posted = TRUE;
    post_ended = TRUE;
    own_reason = self->end_reason;
  }
  if (state == SIP_CALL_STATE_ACTIVE && !self->active_seen) {
    self->active_seen = TRUE;
    now_active = TRUE;
  }
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (self, "call state %d", state);
  if (post_answered)
    gst_sip_src_start_latch_window (self);
  if (now_active) {
    /* the media timeout counts from here */
    g_mutex_lock (&self->media_lock);
    self->last_rtp = g_get_monotonic_time ();
    g_mutex_unlock (&self->media_lock);
  }
  if (state == SIP_CALL_STATE_RINGING)
    gst_sip_src_post_call_message (self, call, "sip-call-ringing", NULL);
  if (post_answered)
    gst_sip_src_post_call_message (self, call, "sip-call-answered", NULL);
  if (post_ended) {
    const gchar *reason = sip_call_get_end_reason (call);
    GstStructure *stats = NULL;

    /* our own hang-up (media timeout) is a local BYE for
     * the library; keep the element's reason, unless something else (the
     * caller's BYE) ended the call first */
    if (own_reason && (!reason || g_str_equal (reason, "local-bye")))
      reason = own_reason;

    g_mutex_lock (&self->media_lock);
    media = self->media ? g_object_ref (self->media) : NULL;
    g_mutex_unlock (&self->media_lock);
    if (media) {
      stats = gst_sip_call_media_get_stats (media);
      g_object_unref (media);
      g_mutex_lock (&self->lock);
      if (self->ended_stats)
        gst_structure_free (self->ended_stats);
      self->ended_stats = gst_structure_copy (stats);
      g_mutex_unlock (&self->lock);
    }

    GST_INFO_OBJECT (self, "call ended: %s", GST_STR_NULL (reason));
    gst_sip_src_post_ended_message (self, call, stats,
        "reason", G_TYPE_STRING, reason ? reason : "unknown", NULL);
    if (stats)
      gst_structure_free (stats);
    gst_sip_src_schedule_eos (self);
  }
}

/* the payload types the streaming threads accept, from the call's offer */
static void
gst_sip_src_update_payload_types (GstSipSrc * self, SipCall * call)
{
  gint pcmu_pt = sip_call_get_pcmu_pt (call);

  /* -1 cannot happen for an answered call; keep the static type then */
  g_atomic_int_set (&self->pcmu_pt, pcmu_pt >= 0 ? pcmu_pt : 0);
  g_atomic_int_set (&self->telephone_event_pt,
      sip_call_get_telephone_event_pt (call));
}

static void
gst_sip_src_call_media_changed (SipCall * call, GstSipSrc * self)
{
  g_mutex_lock (&self->lock);
  if (self->call != call) {
    g_mutex_unlock (&self->lock);
    return;
  }
  g_mutex_unlock (&self->lock);

  gst_sip_src_update_payload_types (self, call);
  /* a new address re-arms the latch; hold and resume do not */
  gst_sip_src_arm_latch (self, call, FALSE);
  g_object_notify (G_OBJECT (self), "remote-address");
}

static GstElement *
gst_sip_src_make_udp (GstSipSrc * self, const gchar * factory,
    const gchar * name, GSocket * socket)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    return NULL;
  g_object_set (e, "socket", socket, "close-socket", FALSE, NULL);
  return e;
}

static void
gst_sip_src_start_child (GstSipSrc * self, GstElement * child)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));

  if (clock) {
    gst_element_set_clock (child, clock);
    gst_object_unref (clock);
  }
  gst_element_set_base_time (child,
      gst_element_get_base_time (GST_ELEMENT (self)));
  gst_element_set_start_time (child,
      gst_element_get_start_time (GST_ELEMENT (self)));
  gst_element_sync_state_with_parent (child);
}

/* ------------------------------------------------------------------------ */
/* media timeout (the maximum duration is the call's: its agent's timer) */

/* the shared ticker's thread */
static void
gst_sip_src_timer_cb (GObject * object)
{
  GstSipSrc *self = GST_SIP_SRC (object);
  SipCall *call;
  SipCallState state;
  const gchar *reason = NULL;
  guint media_timeout;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  if (!self->call || self->end_reason) {
    g_mutex_unlock (&self->lock);
    return;
  }
  call = g_object_ref (self->call);
  media_timeout = self->media_timeout;
  g_mutex_unlock (&self->lock);

  state = sip_call_get_state (call);
  if (state == SIP_CALL_STATE_ACTIVE) {
    g_mutex_lock (&self->media_lock);
    if (sip_call_get_on_hold (call)) {
      /* no timeout while on hold; after resuming it counts from then */
      self->last_rtp = now;
    } else if (media_timeout > 0
        && now - self->last_rtp >= (gint64) media_timeout * G_USEC_PER_SEC) {
      reason = "media-timeout";
    }
    g_mutex_unlock (&self->media_lock);
  }
  if (reason) {
    g_mutex_lock (&self->lock);
    if (self->call == call && !self->end_reason)
      self->end_reason = reason;
    else
      reason = NULL;
    g_mutex_unlock (&self->lock);
  }
  if (reason) {
    GST_INFO_OBJECT (self, "hanging up call %s: %s",
        sip_call_get_call_id (call), reason);
    sip_call_hangup (call);
  }
  g_object_unref (call);
}

static void
gst_sip_src_start_timer (GstSipSrc * self)
{
  GstSipTickerEntry *entry, *old;

  entry = gst_sip_ticker_add (TIMER_INTERVAL_MS, G_OBJECT (self),
      gst_sip_src_timer_cb);
  g_mutex_lock (&self->lock);
  old = self->timer;
  self->timer = entry;
  g_mutex_unlock (&self->lock);
  gst_sip_ticker_remove (old);
}

static void
gst_sip_src_stop_timer (GstSipSrc * self)
{
  GstSipTickerEntry *entry;

  g_mutex_lock (&self->lock);
  entry = self->timer;
  self->timer = NULL;
  g_mutex_unlock (&self->lock);
  gst_sip_ticker_remove (entry);
}

/* Activates @src (a source pad of no element) and gives it its sticky
 * events: stream-start, @caps (taken), a time segment. Stored now, they go
 * out with the first buffer. */
static void
gst_sip_src_set_sticky_events (GstSipSrc * self, GstPad * src, GstCaps * caps)
{
  GstSegment segment;
  gchar *id;

  gst_pad_set_active (src, TRUE);
  id = gst_pad_create_stream_id (src, GST_ELEMENT (self), GST_PAD_NAME (src));
  gst_pad_push_event (src, gst_event_new_stream_start (id));
  g_free (id);
  gst_pad_push_event (src, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (src, gst_event_new_segment (&segment));
}

/* A source pad of no element, linked to the request pad @sink_name of
 * @element, active, with its sticky events (stream-start, @caps (taken), a
 * time segment) set: other threads push into it (the shared receive
 * threads, sipsink's for the mirror) without a thread of its own. */
static GstPad *
gst_sip_src_new_push_pad (GstSipSrc * self, const gchar * name,
    GstElement * element, const gchar * sink_name, GstCaps * caps)
{
  GstPad *src, *sinkpad;

  src = gst_pad_new (name, GST_PAD_SRC);
  sinkpad = gst_element_request_pad_simple (element, sink_name);
  if (!sinkpad || gst_pad_link_full (src, sinkpad,
          GST_PAD_LINK_CHECK_NOTHING) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (self, "could not link %s to %s", name, sink_name);
    if (sinkpad)
      gst_object_unref (sinkpad);
    gst_object_unref (src);
    gst_caps_unref (caps);
    return NULL;
  }
  gst_object_unref (sinkpad);
  gst_sip_src_set_sticky_events (self, src, caps);
  return src;
}

static GstCaps *
gst_sip_src_rtp_caps (void)
{
  return gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "audio",
      "clock-rate", G_TYPE_INT, 8000,
      "encoding-name", G_TYPE_STRING, "PCMU", NULL);
}

/* A copy of what sipsink sends goes into the RTP session too (and no
 * further: the session's send_rtp_src stays unlinked), so that the session
 * sends sender reports for it and computes the round-trip time from the
 * caller's receiver reports.  sipsink pushes the copies from its own
 * threads into a source pad of no element linked to the session (an appsrc
 * would cost a thread per call, a sink behind it work per packet). */
static GstPad *
gst_sip_src_make_mirror (GstSipSrc * self, GstSipCallMedia * media)
{
  GstElement *session = self->rtpbin ? self->rtpbin : self->session;
  const gchar *sink_name = self->rtpbin ? "send_rtp_sink_0" : "send_rtp_sink";
  const gchar *src_name = self->rtpbin ? "send_rtp_src_0" : "send_rtp_src";
  GstCaps *caps;
  GstPad *src, *pad;

  caps = gst_sip_src_rtp_caps ();
  gst_caps_set_simple (caps, "payload", G_TYPE_INT, 0,
      "ssrc", G_TYPE_UINT, gst_sip_call_media_get_ssrc (media), NULL);
  src = gst_sip_src_new_push_pad (self, "rtp_mirror", session, sink_name,
      caps);
  pad = src ? gst_element_get_static_pad (session, src_name) : NULL;
  if (!pad) {
    GST_WARNING_OBJECT (self, "could not link the RTP mirror");
    gst_clear_object (&src);
    return NULL;
  }
  /* the latency a sink behind it would send: the session needs one to know
   * the running time of what is sent */
  gst_pad_send_event (pad, gst_event_new_latency (0));
  gst_object_unref (pad);
  return src;
}

/* the udpsink RTCP is sent with, on the call's RTCP socket */
static GstElement *
gst_sip_src_make_rtcp_sink (GstSipSrc * self, GSocket * rtcp_socket)
{
  GstElement *rtcp_sink = gst_sip_src_make_udp (self, "udpsink",
      "rtcp_udpsink", rtcp_socket);

  g_object_set (rtcp_sink, "sync", FALSE, "async", FALSE, NULL);
  gst_sip_udpsink_set_destination (rtcp_sink, rtcp_socket, NULL);
  return rtcp_sink;
}

/* The session reports with the SSRC sipsink sends with: one participant.
 * Which address a stream may come from is decided before the session (a
 * re-INVITE or the latch moves it); without favor-new it would drop a known
 * SSRC coming from a new address as a collision. */
static void
gst_sip_src_use_session (GstSipSrc * self, GstSipCallMedia * media,
    GObject * rtp_session)
{
  if (!rtp_session)
    return;
  g_object_set (rtp_session, "internal-ssrc",
      gst_sip_call_media_get_ssrc (media), "favor-new", TRUE, NULL);
  gst_sip_call_media_set_session (media, rtp_session);
  g_object_unref (rtp_session);
}

/* udpsrc (RTP) -> rtpbin -> pad-added; udpsrc (RTCP) -> rtpbin;
 * rtpbin -> udpsink (RTCP), all on the call's sockets; the sender's address
 * of each packet is checked before rtpbin */
static void
gst_sip_src_setup_media (GstSipSrc * self, GstSipCallMedia * media,
    GSocket * rtp_socket, GSocket * rtcp_socket)
{
  GstElement *rtp_src, *rtcp_src = NULL, *rtcp_sink = NULL, *session = NULL;
  GObject *rtp_session = NULL;
  GstCaps *caps;
  GstPad *pad;

  rtp_src = gst_sip_src_make_udp (self, "udpsrc", "rtp_udpsrc", rtp_socket);
  caps = gst_sip_src_rtp_caps ();
  g_object_set (rtp_src, "retrieve-sender-address", TRUE, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add (GST_BIN (self), rtp_src);
  pad = gst_element_get_static_pad (rtp_src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
      gst_sip_src_rtp_filter_probe, self, NULL);
  gst_object_unref (pad);
  gst_element_link_pads (rtp_src, "src", self->rtpbin, "recv_rtp_sink_0");

  /* the caller is known from the SDP: accept its first packet, even when
   * dropped payload types (comfort noise) leave gaps in the sequence */
  g_signal_emit_by_name (self->rtpbin, "get-session", 0, &session);
  if (session) {
    g_object_set (session, "probation", 0, NULL);
    gst_object_unref (session);
  }
  g_signal_emit_by_name (self->rtpbin, "get-internal-session", 0, &rtp_session);
  gst_sip_src_use_session (self, media, rtp_session);

  if (rtcp_socket) {
    rtcp_src = gst_sip_src_make_udp (self, "udpsrc", "rtcp_udpsrc",
        rtcp_socket);
    caps = gst_caps_new_empty_simple ("application/x-rtcp");
    g_object_set (rtcp_src, "caps", caps, "retrieve-sender-address", TRUE,
        NULL);
    gst_caps_unref (caps);
    rtcp_sink = gst_sip_src_make_rtcp_sink (self, rtcp_socket);
    gst_bin_add_many (GST_BIN (self), rtcp_src, rtcp_sink, NULL);
    pad = gst_element_get_static_pad (rtcp_src, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
        gst_sip_src_rtcp_filter_probe, self, NULL);
    gst_object_unref (pad);
    gst_element_link_pads (rtcp_src, "src", self->rtpbin, "recv_rtcp_sink_0");
    gst_element_link_pads (self->rtpbin, "send_rtcp_src_0", rtcp_sink, "sink");
  }

  g_mutex_lock (&self->lock);
  self->rtp_src = rtp_src;
  self->rtcp_src = rtcp_src;
  self->rtcp_sink = rtcp_sink;
  g_mutex_unlock (&self->lock);
  gst_sip_src_update_rtcp_destination (self);
}

/* shared-threads, after the address filter, in a receive thread: nothing
 * flows below PLAYING (a live source); a packet older than the newest one
 * is late (no jitter buffer to put it back in order); the buffer carries its
 * arrival's running time */
static GstPadProbeReturn
gst_sip_src_shared_rtp_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (user_data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime base_time, now;
  GstClock *clock;
  guint8 header[12];
  guint32 ssrc;
  guint16 seq;

  if (!g_atomic_int_get (&self->playing)
      || gst_buffer_extract (buf, 0, header, 12) != 12)
    return GST_PAD_PROBE_DROP;
  ssrc = GST_READ_UINT32_BE (header + 8);
  seq = GST_READ_UINT16_BE (header + 2);
  if (self->order_valid && ssrc == self->order_ssrc) {
    gint16 delta = (gint16) (seq - self->order_seq);

    if (delta <= 0 && delta > -MAX_MISORDER) {
      GST_LOG_OBJECT (self, "dropping late or duplicate RTP packet %u "
          "(newest %u)", seq, self->order_seq);
      return GST_PAD_PROBE_DROP;
    }
  }
  self->order_valid = TRUE;
  self->order_ssrc = ssrc;
  self->order_seq = seq;

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self) ? gst_object_ref (GST_ELEMENT_CLOCK (self))
      : NULL;
  base_time = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  if (!clock)
    return GST_PAD_PROBE_DROP;
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);

  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = now > base_time ? now - base_time : 0;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* shared-threads: pads of no element -> rtpsession -> rtpptdemux ->
 * pad-added; rtpsession -> udpsink (RTCP); the receive threads push into
 * the pads once gst_sip_src_start_receiving() registers them */
static void
gst_sip_src_setup_shared_media (GstSipSrc * self, GstSipCallMedia * media,
    GSocket * rtp_socket, GSocket * rtcp_socket)
{
  GstElement *rtcp_sink = NULL;
  GObject *rtp_session = NULL;
  GstPad *rtp_pad, *rtcp_pad = NULL, *decode_sink, *audio_src, *pad;

  rtp_pad = gst_sip_src_new_push_pad (self, "rtp_recv", self->session,
      "recv_rtp_sink", gst_sip_src_rtp_caps ());
  if (rtp_pad) {
    gst_pad_add_probe (rtp_pad, GST_PAD_PROBE_TYPE_BUFFER,
        gst_sip_src_rtp_filter_probe, self, NULL);
    gst_pad_add_probe (rtp_pad, GST_PAD_PROBE_TYPE_BUFFER,
        gst_sip_src_shared_rtp_probe, self, NULL);
  }
  decode_sink = gst_pad_new ("decode", GST_PAD_SINK);
  gst_pad_set_element_private (decode_sink, self);
  gst_pad_set_chain_function (decode_sink, gst_sip_src_decode_chain);
  gst_pad_set_active (decode_sink, TRUE);
  pad = gst_element_get_static_pad (self->session, "recv_rtp_src");
  if (!pad || gst_pad_link_full (pad, decode_sink,
          GST_PAD_LINK_CHECK_NOTHING) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (self, "could not link rtpsession to the decoder");
  gst_clear_object (&pad);
  /* the decoded audio leaves through the src pad from the first packet */
  audio_src = gst_pad_new ("audio", GST_PAD_SRC);
  gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), audio_src);
  gst_sip_src_set_sticky_events (self, audio_src,
      gst_static_pad_template_get_caps (&src_template));
  g_object_get (self->session, "internal-session", &rtp_session, NULL);
  gst_sip_src_use_session (self, media, rtp_session);

  if (rtcp_socket) {
    rtcp_pad = gst_sip_src_new_push_pad (self, "rtcp_recv", self->session,
        "recv_rtcp_sink", gst_caps_new_empty_simple ("application/x-rtcp"));
    if (rtcp_pad)
      gst_pad_add_probe (rtcp_pad, GST_PAD_PROBE_TYPE_BUFFER,
          gst_sip_src_rtcp_filter_probe, self, NULL);
    rtcp_sink = gst_sip_src_make_rtcp_sink (self, rtcp_socket);
    gst_bin_add (GST_BIN (self), rtcp_sink);
    gst_element_link_pads (self->session, "send_rtcp_src", rtcp_sink, "sink");
  }

  g_mutex_lock (&self->lock);
  self->rtcp_sink = rtcp_sink;
  self->rtp_recv = rtp_pad;
  self->rtcp_recv = rtcp_pad;
  self->decode_sink = decode_sink;
  self->audio_src = audio_src;
  self->order_valid = FALSE;
  self->audio_seq_valid = FALSE;
  g_mutex_unlock (&self->lock);
  gst_sip_src_update_rtcp_destination (self);
}

/* the network side starts: udpsrcs, or the shared receive threads */
static void
gst_sip_src_start_receiving (GstSipSrc * self)
{
  GstElement *rtp_src, *rtcp_src, *rtcp_sink;
  GstPad *rtp_recv, *rtcp_recv;
  GSocket *rtp_socket = NULL, *rtcp_socket = NULL;
  GstSipReceiverEntry *rtp_entry = NULL, *rtcp_entry = NULL;

  g_mutex_lock (&self->lock);
  rtp_src = self->rtp_src ? gst_object_ref (self->rtp_src) : NULL;
  rtcp_src = self->rtcp_src ? gst_object_ref (self->rtcp_src) : NULL;
  rtcp_sink = self->rtcp_sink ? gst_object_ref (self->rtcp_sink) : NULL;
  rtp_recv = self->rtp_recv ? gst_object_ref (self->rtp_recv) : NULL;
  rtcp_recv = self->rtcp_recv ? gst_object_ref (self->rtcp_recv) : NULL;
  if (self->call) {
    rtp_socket = sip_call_get_rtp_socket (self->call);
    rtcp_socket = sip_call_get_rtcp_socket (self->call);
  }
  g_mutex_unlock (&self->lock);

  if (rtcp_sink)
    gst_sip_src_start_child (self, rtcp_sink);
  if (rtcp_src)
    gst_sip_src_start_child (self, rtcp_src);
  if (rtp_src)
    gst_sip_src_start_child (self, rtp_src);
  if (rtp_recv && rtp_socket) {
    rtp_entry = gst_sip_receiver_add (rtp_socket, rtp_recv,
        GST_ELEMENT (self), NULL);
    if (!rtp_entry)
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not receive the call's RTP on the shared threads."), (NULL));
  }
  /* the call's RTCP on the thread of its RTP: one thread feeds its session */
  if (rtcp_recv && rtcp_socket && rtp_entry)
    rtcp_entry = gst_sip_receiver_add (rtcp_socket, rtcp_recv,
        GST_ELEMENT (self), rtp_entry);

  g_mutex_lock (&self->lock);
  self->rtp_entry = rtp_entry;
  self->rtcp_entry = rtcp_entry;
  g_mutex_unlock (&self->lock);

  gst_clear_object (&rtp_src);
  gst_clear_object (&rtcp_src);
  gst_clear_object (&rtcp_sink);
  gst_clear_object (&rtp_recv);
  gst_clear_object (&rtcp_recv);
}

/* Takes @call (a new ref), receives its RTP on the call's own sockets and
 * answers it when auto-answer is set. Any thread. */
static gboolean
gst_sip_src_setup_call (GstSipSrc * self, SipCall * call)
{
  GSocket *rtp_socket, *rtcp_socket;
  GstPad *mirror;
  GstSipCallMedia *media;
  gboolean auto_answer;
  guint max_duration;
  SipCallState state;

  rtp_socket = sip_call_get_rtp_socket (call);
  rtcp_socket = sip_call_get_rtcp_socket (call);
  if (!rtp_socket) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("The call has no RTP socket."), ("call %s",
            sip_call_get_call_id (call)));
    return FALSE;
  }

  g_mutex_lock (&self->lock);
  if (!self->rtpbin && !self->session) {
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "not started, cannot take the call");
    return FALSE;
  }
  self->call = g_object_ref (call);
  self->had_call = TRUE;
  self->answered_posted = FALSE;
  self->ended_posted = FALSE;
  self->eos_done = FALSE;
  self->eos_scheduled = FALSE;
  self->eos_pending = FALSE;
  self->active_seen = FALSE;
  self->end_reason = NULL;
  if (self->ended_stats)
    gst_structure_free (self->ended_stats);
  self->ended_stats = NULL;
  auto_answer = self->auto_answer;
  max_duration = self->max_duration;
  gst_sip_src_update_payload_types (self, call);
  /* emitted in the agent thread: safe against our finalization there */
  self->state_changed_id = gst_sip_signal_connect_weak (call, "state-changed",
      G_CALLBACK (gst_sip_src_call_state_changed), GST_ELEMENT (self));
  self->media_changed_id = gst_sip_signal_connect_weak (call, "media-changed",
      G_CALLBACK (gst_sip_src_call_media_changed), GST_ELEMENT (self));
  g_mutex_unlock (&self->lock);
  /* the call's own limit, kept by its agent (its notify: not under our lock) */
  if (max_duration > 0)
    sip_call_set_max_duration (call, max_duration);

  GST_INFO_OBJECT (self, "taking call %s from %s, local RTP port %u",
      sip_call_get_call_id (call), sip_call_get_from (call),
      sip_call_get_local_rtp_port (call));

  media = gst_sip_call_media_get (call);
  g_mutex_lock (&self->media_lock);
  g_clear_object (&self->media);
  self->media = g_object_ref (media);
  self->latch_answered = FALSE;
  self->latch_deadline = 0;
  self->rejected_logged = FALSE;
  self->last_rtp = g_get_monotonic_time ();
  g_mutex_unlock (&self->media_lock);
  gst_sip_src_arm_latch (self, call, TRUE);

  if (self->session)
    gst_sip_src_setup_shared_media (self, media, rtp_socket, rtcp_socket);
  else
    gst_sip_src_setup_media (self, media, rtp_socket, rtcp_socket);
  mirror = gst_sip_src_make_mirror (self, media);
  if (mirror) {
    gst_sip_call_media_set_mirror (media, GST_ELEMENT (self), mirror);
    gst_object_unref (mirror);
  }
  g_object_unref (media);
  gst_sip_src_start_timer (self);
  gst_sip_src_start_receiving (self);

  g_object_notify (G_OBJECT (self), "call");
  g_object_notify (G_OBJECT (self), "call-id");
  g_object_notify (G_OBJECT (self), "from");
  g_object_notify (G_OBJECT (self), "to");
  g_object_notify (G_OBJECT (self), "remote-address");

  state = sip_call_get_state (call);
  if (state == SIP_CALL_STATE_ENDED) {
    gst_sip_src_call_state_changed (call, state, self);
  } else if (auto_answer && (state == SIP_CALL_STATE_INCOMING
          || state == SIP_CALL_STATE_RINGING)) {
    gboolean now;

    /* answer once the media flows (PAUSED or higher) */
    g_mutex_lock (&self->lock);
    now = !self->flushing;
    self->answer_pending = !now;
    g_mutex_unlock (&self->lock);
    if (now) {
      GST_INFO_OBJECT (self, "answering call %s", sip_call_get_call_id (call));
      sip_call_answer (call);
    }
  } else if (state == SIP_CALL_STATE_ANSWERED || state == SIP_CALL_STATE_ACTIVE) {
    gst_sip_src_call_state_changed (call, state, self);
  }
  return TRUE;
}

static void
gst_sip_src_release_call (GstSipSrc * self)
{
  SipCall *call;
  GstSipCallMedia *media;

  gst_sip_src_stop_timer (self);

  g_mutex_lock (&self->media_lock);
  media = self->media;
  self->media = NULL;
  g_clear_object (&self->sdp_rtp);
  g_clear_object (&self->sdp_rtcp);
  g_clear_object (&self->latched_rtp);
  g_clear_object (&self->latched_rtcp);
  g_clear_object (&self->cand_addr);
  self->cand_count = 0;
  g_mutex_unlock (&self->media_lock);
  if (media) {
    gst_sip_call_media_set_mirror (media, NULL, NULL);
    gst_sip_call_media_set_session (media, NULL);
    g_object_unref (media);
  }

  g_mutex_lock (&self->lock);
  call = self->call;
  self->call = NULL;
  if (call) {
    g_signal_handler_disconnect (call, self->state_changed_id);
    g_signal_handler_disconnect (call, self->media_changed_id);
    self->state_changed_id = self->media_changed_id = 0;
  }
  self->call_from_property = FALSE;
  self->had_call = FALSE;
  self->answer_pending = FALSE;
  g_atomic_int_set (&self->pcmu_pt, 0);
  g_atomic_int_set (&self->telephone_event_pt, -1);
  g_mutex_unlock (&self->lock);

  if (call) {
    g_object_unref (call);
    g_object_notify (G_OBJECT (self), "call");
  }
}

/* agent thread */
static gboolean
gst_sip_src_incoming_call (SipAgent * agent, SipCall * call, GstSipSrc * self)
{
  g_mutex_lock (&self->lock);
  if (self->call || self->had_call || (!self->rtpbin && !self->session)) {
    g_mutex_unlock (&self->lock);
    GST_INFO_OBJECT (self, "not taking call %s: already had one",
        sip_call_get_call_id (call));
    return FALSE;
  }
  g_mutex_unlock (&self->lock);

  gst_sip_src_post_call_message (self, call, "sip-call-incoming", NULL);
  if (!gst_sip_src_setup_call (self, call))
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* end of stream */

static void
gst_sip_src_push_eos (GstSipSrc * self)
{
  if (!gst_pad_has_current_caps (self->srcpad)) {
    /* no audio ever came: make the stream valid for muxers (wavenc) */
    GstCaps *caps = gst_static_pad_template_get_caps (&src_template);
    gchar *stream_id;
    GstSegment segment;

    stream_id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self),
        "audio");
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (stream_id));
    g_free (stream_id);
    gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
    gst_caps_unref (caps);
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
  }
  GST_DEBUG_OBJECT (self, "pushing EOS");
  gst_pad_push_event (self->srcpad, gst_event_new_eos ());
}

static void
gst_sip_src_finish_stream (GstElement * element, gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  GstElement *rtp_src = NULL, *rtcp_src = NULL;
  GstPad *target;

  g_mutex_lock (&self->lock);
  if (self->eos_done || self->flushing) {
    g_mutex_unlock (&self->lock);
    return;
  }
  target = gst_ghost_pad_get_target (GST_GHOST_PAD (self->srcpad));
  if (target) {
    rtp_src = self->rtp_src ? gst_object_ref (self->rtp_src) : NULL;
    rtcp_src = self->rtcp_src ? gst_object_ref (self->rtcp_src) : NULL;
    gst_object_unref (target);
  }
  g_mutex_unlock (&self->lock);

  if (rtp_src) {
    gint64 end_time = g_get_monotonic_time () + EOS_DRAIN_TIMEOUT;

    /* EOS through the jitter buffer, so that its last packets come out */
    GST_DEBUG_OBJECT (self, "draining the jitter buffer");
    gst_element_send_event (rtp_src, gst_event_new_eos ());
    if (rtcp_src)
      gst_element_send_event (rtcp_src, gst_event_new_eos ());
    g_mutex_lock (&self->lock);
    while (!self->eos_done && !self->flushing)
      if (!g_cond_wait_until (&self->cond, &self->lock, end_time))
        break;
    g_mutex_unlock (&self->lock);
  }
  g_clear_object (&rtp_src);
  g_clear_object (&rtcp_src);
  /* shared-threads: no jitter buffer to drain; no packet may follow EOS */
  gst_sip_src_stop_receiving (self);

  g_mutex_lock (&self->lock);
  if (self->eos_done || self->flushing) {
    g_mutex_unlock (&self->lock);
    return;
  }
  g_mutex_unlock (&self->lock);
  gst_sip_src_push_eos (self);
}

static void
gst_sip_src_schedule_eos (GstSipSrc * self)
{
  g_mutex_lock (&self->lock);
  if (self->eos_scheduled || self->eos_done) {
    g_mutex_unlock (&self->lock);
    return;
  }
  if (self->flushing) {
    self->eos_pending = TRUE;
    g_mutex_unlock (&self->lock);
    return;
  }
  self->eos_scheduled = TRUE;
  g_mutex_unlock (&self->lock);

  gst_element_call_async (GST_ELEMENT (self), gst_sip_src_finish_stream,
      NULL, NULL);
}

static gboolean
gst_sip_src_send_event (GstElement * element, GstEvent * event)
{
  GstSipSrc *self = GST_SIP_SRC (element);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    /* gst-launch -e: end the recording, the call stays up until NULL */
    GST_INFO_OBJECT (self, "EOS requested by the application");
    gst_event_unref (event);
    gst_sip_src_schedule_eos (self);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

static void
gst_sip_src_handle_message (GstBin * bin, GstMessage * message)
{
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_EOS:
      /* from the RTCP udpsink or the DTMF fakesink: sipsrc is no sink */
      gst_message_unref (message);
      return;
    case GST_MESSAGE_ELEMENT:
      /* rtpdtmfdepay's own messages: sipsrc posts sip-dtmf instead */
      if (gst_message_has_name (message, "dtmf-event")) {
        gst_message_unref (message);
        return;
      }
      break;
    default:
      break;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* ------------------------------------------------------------------------ */
/* states */

static gboolean
gst_sip_src_start_agent (GstSipSrc * self)
{
  SipAgent *agent = sip_agent_new ();
  GError *err = NULL;
  gchar *host, *range, *public_address, *allowed;
  guint port, invite_rate_limit;

  g_mutex_lock (&self->lock);
  host = g_strdup (self->host);
  range = g_strdup (self->rtp_port_range);
  public_address = g_strdup (self->public_address);
  allowed = g_strdup (self->allowed_sources);
  port = self->port;
  invite_rate_limit = self->invite_rate_limit;
  g_mutex_unlock (&self->lock);

  if (host)
    g_object_set (agent, "host", host, NULL);
  g_object_set (agent, "port", port, "max-calls", 1,
      "invite-rate-limit", invite_rate_limit, NULL);
  if (range)
    g_object_set (agent, "rtp-port-range", range, NULL);
  if (public_address)
    g_object_set (agent, "public-address", public_address, NULL);
  if (allowed)
    g_object_set (agent, "allowed-sources", allowed, NULL);
  g_signal_connect (agent, "incoming-call",
      G_CALLBACK (gst_sip_src_incoming_call), self);

  if (!sip_agent_start (agent, &err)) {
    if (g_error_matches (err, SIP_AGENT_ERROR, SIP_AGENT_ERROR_CONFIG))
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid SIP settings: %s", err->message),
          ("host=%s port=%u rtp-port-range=%s allowed-sources=%s",
              GST_STR_NULL (host), port, GST_STR_NULL (range),
              GST_STR_NULL (allowed)));
    else if (err && strstr (err->message, "in use"))
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("SIP port %u is in use.", port), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not listen for SIP on UDP port %u.", port),
          ("%s", err ? err->message : "unknown error"));
    g_clear_error (&err);
    g_object_unref (agent);
    agent = NULL;
  } else {
    GST_INFO_OBJECT (self, "listening for SIP on %s port %u",
        host ? host : "all interfaces", sip_agent_get_bound_port (agent));
  }

  g_free (host);
  g_free (range);
  g_free (public_address);
  g_free (allowed);

  if (!agent)
    return FALSE;
  g_mutex_lock (&self->lock);
  self->agent = agent;
  /* changed since it was read above? */
  if (self->invite_rate_limit != invite_rate_limit) {
    invite_rate_limit = self->invite_rate_limit;
    g_object_set (agent, "invite-rate-limit", invite_rate_limit, NULL);
  }
  g_mutex_unlock (&self->lock);
  g_object_notify (G_OBJECT (self), "bound-port");
  return TRUE;
}

static void
gst_sip_src_stop_agent (GstSipSrc * self)
{
  SipAgent *agent;

  g_mutex_lock (&self->lock);
  agent = self->agent;
  self->agent = NULL;
  g_mutex_unlock (&self->lock);

  if (agent) {
    /* BYE to an active call; the thread is joined, no handler runs after */
    sip_agent_stop (agent);
    g_signal_handlers_disconnect_by_data (agent, self);
    g_object_unref (agent);
  }
}

static GstStateChangeReturn
gst_sip_src_change_state (GstElement * element, GstStateChange transition)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:{
      SipCall *call;
      gboolean shared;

      g_mutex_lock (&self->lock);
      shared = self->shared_threads;
      g_mutex_unlock (&self->lock);
      if (!gst_sip_check_factories (element, shared ? needed_factories_shared
              : needed_factories))
        return GST_STATE_CHANGE_FAILURE;
      if (!gst_sip_src_build (self))
        return GST_STATE_CHANGE_FAILURE;

      g_mutex_lock (&self->lock);
      call = self->call;
      self->call = NULL;
      g_mutex_unlock (&self->lock);

      if (call) {
        /* handed over by the application before READY */
        gboolean ok = gst_sip_src_setup_call (self, call);

        g_object_unref (call);
        g_mutex_lock (&self->lock);
        self->call_from_property = TRUE;
        g_mutex_unlock (&self->lock);
        if (!ok) {
          gst_sip_src_clear_children (self);
          return GST_STATE_CHANGE_FAILURE;
        }
      } else if (!gst_sip_src_start_agent (self)) {
        gst_sip_src_clear_children (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:{
      GstSipCallMedia *media;

      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      /* rtpbin clears its session without the session's lock as it stops
       * (rtp_session_reset): no statistics are read from it from now on */
      g_mutex_lock (&self->media_lock);
      media = self->media ? g_object_ref (self->media) : NULL;
      g_mutex_unlock (&self->media_lock);
      if (media) {
        gst_sip_call_media_set_session (media, NULL);
        g_object_unref (media);
      }
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_atomic_int_set (&self->playing, FALSE);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_sip_src_stop_agent (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
      gst_sip_src_stop_agent (self);
      gst_sip_src_release_call (self);
      gst_sip_src_clear_children (self);
    }
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:{
      gboolean eos, answer;
      SipCall *call;

      g_mutex_lock (&self->lock);
      self->flushing = FALSE;
      eos = self->eos_pending;
      self->eos_pending = FALSE;
      answer = self->answer_pending;
      self->answer_pending = FALSE;
      call = self->call ? g_object_ref (self->call) : NULL;
      g_mutex_unlock (&self->lock);
      if (eos)
        gst_sip_src_schedule_eos (self);
      if (answer && call) {
        GST_INFO_OBJECT (self, "answering call %s",
            sip_call_get_call_id (call));
        sip_call_answer (call);
      }
      g_clear_object (&call);
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_atomic_int_set (&self->playing, TRUE);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_sip_src_release_call (self);
      gst_sip_src_clear_children (self);
      g_mutex_lock (&self->lock);
      self->eos_done = FALSE;
      self->eos_scheduled = FALSE;
      self->eos_pending = FALSE;
      g_mutex_unlock (&self->lock);
      g_object_notify (G_OBJECT (self), "bound-port");
      break;
    default:
      break;
  }
  return ret;
}

/* ------------------------------------------------------------------------ */
/* properties */

static void
gst_sip_src_set_call (GstSipSrc * self, SipCall * call)
{
  GstState state;

  g_mutex_lock (&self->lock);
  if (self->call == call) {
    g_mutex_unlock (&self->lock);
    return;
  }
  if (self->call || self->agent) {
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "already has a call or its own SIP agent: "
        "set the call property before READY");
    return;
  }
  g_mutex_unlock (&self->lock);

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  GST_OBJECT_UNLOCK (self);

  if (!call)
    return;
  if (state == GST_STATE_NULL) {
    /* taken over at NULL->READY */
    g_mutex_lock (&self->lock);
    self->call = g_object_ref (call);
    g_mutex_unlock (&self->lock);
  } else if (gst_sip_src_setup_call (self, call)) {
    g_mutex_lock (&self->lock);
    self->call_from_property = TRUE;
    g_mutex_unlock (&self->lock);
  }
}

static void
gst_sip_src_set_string (GstSipSrc * self, gchar ** field, const GValue * value)
{
  g_mutex_lock (&self->lock);
  g_free (*field);
  *field = g_value_dup_string (value);
  g_mutex_unlock (&self->lock);
}

static void
gst_sip_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  switch (prop_id) {
    case PROP_HOST:
      gst_sip_src_set_string (self, &self->host, value);
      break;
    case PROP_PORT:
      g_mutex_lock (&self->lock);
      self->port = g_value_get_uint (value);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_RTP_PORT_RANGE:
      gst_sip_src_set_string (self, &self->rtp_port_range, value);
      break;
    case PROP_PUBLIC_ADDRESS:
      gst_sip_src_set_string (self, &self->public_address, value);
      break;
    case PROP_LATENCY:{
      GstElement *rtpbin;

      g_mutex_lock (&self->lock);
      self->latency = g_value_get_uint (value);
      rtpbin = self->rtpbin ? gst_object_ref (self->rtpbin) : NULL;
      g_mutex_unlock (&self->lock);
      if (rtpbin) {
        g_object_set (rtpbin, "latency", g_value_get_uint (value), NULL);
        gst_object_unref (rtpbin);
      }
      break;
    }
    case PROP_ALLOWED_SOURCES:
      gst_sip_src_set_string (self, &self->allowed_sources, value);
      break;
    case PROP_AUTO_ANSWER:
      g_mutex_lock (&self->lock);
      self->auto_answer = g_value_get_boolean (value);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_CALL:
      gst_sip_src_set_call (self, g_value_get_object (value));
      break;
    case PROP_RTP_LATCHING:
      g_atomic_int_set (&self->rtp_latching, g_value_get_enum (value));
      break;
    case PROP_MEDIA_TIMEOUT:
      g_mutex_lock (&self->lock);
      self->media_timeout = g_value_get_uint (value);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_MAX_DURATION:{
      guint max_duration = g_value_get_uint (value);
      SipCall *call;

      g_mutex_lock (&self->lock);
      self->max_duration = max_duration;
      /* on the call held now, 0 too: lifts its limit */
      call = self->call ? g_object_ref (self->call) : NULL;
      g_mutex_unlock (&self->lock);
      if (call) {
        sip_call_set_max_duration (call, max_duration);
        g_object_unref (call);
      }
      break;
    }
    case PROP_SHARED_THREADS:
      g_mutex_lock (&self->lock);
      self->shared_threads = g_value_get_boolean (value);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_INVITE_RATE_LIMIT:{
      SipAgent *agent;

      g_mutex_lock (&self->lock);
      self->invite_rate_limit = g_value_get_uint (value);
      agent = self->agent ? g_object_ref (self->agent) : NULL;
      g_mutex_unlock (&self->lock);
      /* the agent applies a new limit at once */
      if (agent) {
        g_object_set (agent, "invite-rate-limit", g_value_get_uint (value),
            NULL);
        g_object_unref (agent);
      }
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* the statistics of the call that ended, or of the current one */
static GstStructure *
gst_sip_src_get_stats (GstSipSrc * self)
{
  GstSipCallMedia *media;
  GstStructure *stats = NULL;

  g_mutex_lock (&self->lock);
  if (self->ended_stats)
    stats = gst_structure_copy (self->ended_stats);
  g_mutex_unlock (&self->lock);
  if (stats)
    return stats;

  g_mutex_lock (&self->media_lock);
  media = self->media ? g_object_ref (self->media) : NULL;
  g_mutex_unlock (&self->media_lock);
  if (media) {
    stats = gst_sip_call_media_get_stats (media);
    g_object_unref (media);
  }
  return stats;
}

static void
gst_sip_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_sip_src_get_stats (self));
    return;
  }

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_BOUND_PORT:
      g_value_set_uint (value,
          self->agent ? sip_agent_get_bound_port (self->agent) : 0);
      break;
    case PROP_RTP_PORT_RANGE:
      g_value_set_string (value, self->rtp_port_range);
      break;
    case PROP_PUBLIC_ADDRESS:
      g_value_set_string (value, self->public_address);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    case PROP_ALLOWED_SOURCES:
      g_value_set_string (value, self->allowed_sources);
      break;
    case PROP_AUTO_ANSWER:
      g_value_set_boolean (value, self->auto_answer);
      break;
    case PROP_CALL:
      g_value_set_object (value, self->call);
      break;
    case PROP_CALL_ID:
      g_value_set_string (value,
          self->call ? sip_call_get_call_id (self->call) : NULL);
      break;
    case PROP_FROM:
      g_value_set_string (value,
          self->call ? sip_call_get_from (self->call) : NULL);
      break;
    case PROP_TO:
      g_value_set_string (value,
          self->call ? sip_call_get_to (self->call) : NULL);
      break;
    case PROP_REMOTE_ADDRESS:
      g_value_take_string (value,
          self->call ? gst_sip_src_call_remote_address (self->call) : NULL);
      break;
    case PROP_RTP_LATCHING:
      g_value_set_enum (value, g_atomic_int_get (&self->rtp_latching));
      break;
    case PROP_MEDIA_TIMEOUT:
      g_value_set_uint (value, self->media_timeout);
      break;
    case PROP_MAX_DURATION:
      g_value_set_uint (value, self->max_duration);
      break;
    case PROP_INVITE_RATE_LIMIT:
      g_value_set_uint (value, self->invite_rate_limit);
      break;
    case PROP_SHARED_THREADS:
      g_value_set_boolean (value, self->shared_threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}
