/* GStreamer SIP plugin: sipsink
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
 * SECTION:element-sipsink
 * @title: sipsink
 * @see_also: sipsrc
 *
 * sipsink plays audio into a SIP call: any raw audio is converted to 8 kHz
 * mono, encoded as G.711 μ-law and sent as RTP (payload type 0) in 20 ms
 * packets, paced in real time, from the call's own RTP port (symmetric RTP)
 * to the caller's RTP address: the source the call's #sipsrc latched onto
 * (see #GstSipSrc:rtp-latching), or the address of the caller's SDP before
 * that. Nothing is ever sent anywhere else. The packets carry the SSRC with
 * which the sipsrc's rtpbin sends its RTCP reports, and rtpbin counts them
 * for its sender reports (see #GstSipSink:stats).
 *
 * By default sipsink pairs with the first #sipsrc of its pipeline and sends
 * into the call that sipsrc answers; #GstSipSink:src names another sipsrc,
 * and applications running their own #SipAgent set #GstSipSink:call instead.
 *
 * Audio that arrives before the call is up (for example a prompt read from
 * a file) waits, neither dropped nor sent, and is played from its beginning
 * once the call is answered (the 200 OK is sent). While the caller holds the
 * call, or after it ended, the audio is still paced but not sent.
 *
 * While the call is up and there is no audio to send (the bot is silent),
 * sipsink sends packets of silence instead, so that trunks and NATs do not
 * drop the call (#GstSipSink:send-silence, on by default); sequence numbers
 * and timestamps run on across audio and silence.
 *
 * When EOS reaches sipsink, it hangs up (BYE) once the last packet has been
 * played out, then passes EOS on to the pipeline.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 sipsrc port=6060 ! queue ! sipsink
 * ]| Answers one call and plays the caller's voice back (an echo).
 * |[
 * gst-launch-1.0 sipsrc ! fakesink \
 *     filesrc location=prompt.wav ! decodebin ! audioconvert ! audioresample ! sipsink
 * ]| Answers one call, plays a prompt, then hangs up.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/base/gstbasesink.h>
#include <gst/rtp/rtp.h>
#include <sip.h>

#include "gstsipcallmedia.h"
#include "gstsipelements.h"
#include "gstsipreceiver.h"
#include "gstsipticker.h"
#include "gstsipsink.h"
#include "gstsipsrc.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_sink_debug);
#define GST_CAT_DEFAULT gst_sip_sink_debug

#define PTIME (20 * GST_MSECOND)
#define DEFAULT_SEND_SILENCE TRUE

/* silence is sent when the audio sent so far ran out this long ago (plus
 * the pipeline latency) */
#define SILENCE_GAP (60 * GST_MSECOND)
/* a G.711 u-law packet of silence */
#define ULAW_SILENCE 0xff

enum
{
  PROP_0,
  PROP_SRC,
  PROP_CALL,
  PROP_STATS,
  PROP_SEND_SILENCE,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw"));

static const gchar *const needed_factories[] = {
  "audioconvert", "audioresample", "capsfilter", "mulawenc", "rtppcmupay",
  "udpsink", NULL
};

typedef enum
{
  MODE_WAIT,                    /* no call, or not established yet */
  MODE_SEND,                    /* the call is established */
  MODE_DISCARD,                 /* the call is over, or there is none at EOS */
} SendMode;

struct _GstSipSink
{
  GstBin parent;

  /* protects everything below */
  GMutex lock;
  GCond cond;

  /* settings */
  gchar *src_name;
  gboolean send_silence;

  /* the call and where it comes from */
  SipCall *call;
  gboolean call_from_property;
  gulong state_changed_id;
  gulong media_changed_id;
  GstElement *paired_src;
  gulong notify_call_id;
  GstSipCallMedia *media;       /* shared with the sipsrc of the call */
  gulong media_dest_id;
  gboolean sending;             /* the udpsink has a destination */

  /* the RTP stream on the wire: our sequence numbers and timestamps
   * continue across the silence packets sent between the payloader's */
  GstSegment out_segment;       /* of the udpsink's sink pad */
  gboolean have_out;
  gboolean last_was_silence;
  guint16 last_out_seq;
  guint32 last_out_ts;
  guint16 seq_offset;           /* payloader's -> ours */
  guint32 ts_offset;
  gboolean ts_base_valid;
  guint32 ts_base;              /* RTP time at running time 0 */
  GstClockTime last_end_rt;     /* running time the audio sent so far ends */
  gboolean out_eos;             /* EOS reached the udpsink */
  gboolean out_flushing;
  GstSipTickerEntry *ticker;    /* sends silence when there is no audio */

  /* children, made once */
  GstPad *sinkpad;
  GstPad *internal_pad;
  GstElement *convert;
  GstElement *udpsink;
  gboolean construct_failed;

  /* streaming */
  gboolean activated;           /* the udpsink runs on the call's socket */
  gboolean waited;              /* data waited for the call */
  gboolean offset_done;
  gboolean unsynced;            /* fed by a shared receive thread */
  gboolean flushing;
  gboolean shutdown;
  gboolean eos_posted;
  GstSegment segment;
};

static void gst_sip_sink_finalize (GObject * object);
static GstPadProbeReturn gst_sip_sink_rtp_out_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);
static void gst_sip_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_sip_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_sip_sink_change_state (GstElement * element,
    GstStateChange transition);
static void gst_sip_sink_handle_message (GstBin * bin, GstMessage * message);
static GstPadProbeReturn gst_sip_sink_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer user_data);

#define gst_sip_sink_parent_class parent_class
G_DEFINE_TYPE (GstSipSink, gst_sip_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (sipsink, "sipsink", GST_RANK_NONE,
    GST_TYPE_SIP_SINK, sip_element_init (plugin));

static void
gst_sip_sink_class_init (GstSipSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->finalize = gst_sip_sink_finalize;
  gobject_class->set_property = gst_sip_sink_set_property;
  gobject_class->get_property = gst_sip_sink_get_property;

  g_object_class_install_property (gobject_class, PROP_SRC,
      g_param_spec_string ("src", "Source",
          "Name of the sipsrc whose call to send into (NULL: the first sipsrc "
          "of the pipeline)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstSipSink:call:
   *
   * The call to send into. Set by applications that run their own
   * #SipAgent; otherwise it is the call of the paired #sipsrc.
   */
  g_object_class_install_property (gobject_class, PROP_CALL,
      g_param_spec_object ("call", "Call",
          "The SIP call (SipCall) to send into: set it to use a call of the "
          "application's own SipAgent instead of a sipsrc's", SIP_TYPE_CALL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstSipSink:stats:
   *
   * Statistics of the call sipsink sends into, %NULL without a call: the
   * same `sip-call-stats` structure as #GstSipSrc:stats (the receive side
   * and the round-trip time come from the call's sipsrc, if any).
   */
  /**
   * GstSipSink:send-silence:
   *
   * While the call is up (and not on hold), send RTP packets of silence
   * whenever there is no audio to send, so that trunks, session border
   * controllers and NATs do not drop a call whose bot is silent. A pause
   * is audio that did not arrive within 60 ms plus the pipeline latency
   * (audio that waited in a jitter buffer, like an echo, is not a pause).
   * Sequence numbers and timestamps continue across the silence. Nothing is
   * sent before the call is established, on hold, or after EOS.
   */
  g_object_class_install_property (gobject_class, PROP_SEND_SILENCE,
      g_param_spec_boolean ("send-silence", "Send silence",
          "Keep RTP flowing: send silence while the call is up and there is "
          "no audio to send (trunks and NATs drop silent calls)",
          DEFAULT_SEND_SILENCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Statistics of the call (sip-call-stats: packets-received, "
          "packets-lost, jitter (ms), round-trip (ms, -1: unknown), "
          "packets-sent, packets-rejected)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "SIP call sink", "Sink/Audio/Network",
      "Plays audio into a SIP call as G.711 u-law RTP in 20 ms packets, paced "
      "in real time, from the call's own RTP port; hangs up after EOS has "
      "been played out. Example: gst-launch-1.0 sipsrc ! fakesink "
      "filesrc location=prompt.wav ! decodebin ! audioconvert ! "
      "audioresample ! sipsink", "The gst-sip authors");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_sip_sink_change_state);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_sip_sink_handle_message);

  GST_DEBUG_CATEGORY_INIT (gst_sip_sink_debug, "sipsink", 0, "SIP call sink");
}

static GstElement *
gst_sip_sink_make (GstSipSink * self, const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e) {
    self->construct_failed = TRUE;
    return NULL;
  }
  gst_bin_add (GST_BIN (self), e);
  return e;
}

static void
gst_sip_sink_init (GstSipSink * self)
{
  GstElement *resample, *capsfilter, *enc, *pay;
  GstPadTemplate *templ;
  GstCaps *caps;
  GstPad *pad;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
  self->send_silence = DEFAULT_SEND_SILENCE;
  self->last_end_rt = GST_CLOCK_TIME_NONE;

  templ = gst_static_pad_template_get (&sink_template);
  self->sinkpad = gst_ghost_pad_new_no_target_from_template ("sink", templ);
  gst_object_unref (templ);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  /* audioconvert ! audioresample ! capsfilter ! mulawenc ! rtppcmupay !
   * udpsink; the udpsink stays locked in NULL until the call's socket is
   * known */
  self->convert = gst_sip_sink_make (self, "audioconvert", "convert");
  resample = gst_sip_sink_make (self, "audioresample", "resample");
  capsfilter = gst_sip_sink_make (self, "capsfilter", "capsfilter");
  enc = gst_sip_sink_make (self, "mulawenc", "enc");
  pay = gst_sip_sink_make (self, "rtppcmupay", "pay");
  self->udpsink = gst_sip_sink_make (self, "udpsink", "rtp_udpsink");
  if (self->construct_failed)
    return;

  caps = gst_caps_new_simple ("audio/x-raw",
      "format", G_TYPE_STRING, "S16LE",
      "rate", G_TYPE_INT, 8000, "channels", G_TYPE_INT, 1, NULL);
  g_object_set (capsfilter, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (pay, "pt", 0, "min-ptime", (gint64) PTIME,
      "max-ptime", (gint64) PTIME, NULL);
  g_object_set (self->udpsink, "sync", TRUE, "async", FALSE,
      "close-socket", FALSE, NULL);
  gst_element_set_locked_state (self->udpsink, TRUE);
  /* no destination before the call (udpsink defaults to localhost:5004) */
  gst_sip_udpsink_set_destination (self->udpsink, NULL, NULL);

  gst_element_link_many (self->convert, resample, capsfilter, enc, pay,
      self->udpsink, NULL);

  pad = gst_element_get_static_pad (self->convert, "sink");
  gst_ghost_pad_set_target (GST_GHOST_PAD (self->sinkpad), pad);
  gst_object_unref (pad);

  pad = gst_element_get_static_pad (self->udpsink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, gst_sip_sink_rtp_out_probe, self, NULL);
  gst_object_unref (pad);

  self->internal_pad =
      GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD (self->sinkpad)));
  gst_pad_add_probe (self->internal_pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, gst_sip_sink_probe, self, NULL);
}

static void
gst_sip_sink_finalize (GObject * object)
{
  GstSipSink *self = GST_SIP_SINK (object);

  gst_sip_ticker_remove (self->ticker);

  if (self->call) {
    g_signal_handler_disconnect (self->call, self->state_changed_id);
    g_signal_handler_disconnect (self->call, self->media_changed_id);
    g_object_unref (self->call);
  }
  if (self->media) {
    g_signal_handler_disconnect (self->media, self->media_dest_id);
    g_object_unref (self->media);
  }
  gst_clear_object (&self->internal_pad);
  g_free (self->src_name);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------------ */
/* the call */

/* Where the RTP goes: while the call is up and not on hold, the source
 * sipsrc latched onto (symmetric RTP), or the caller's SDP address before
 * that; nowhere otherwise (the udpsink still paces). Called with the
 * lock. */
static void
gst_sip_sink_update_clients (GstSipSink * self)
{
  SipCall *call = self->call;
  GSocketAddress *addr;

  if (!self->activated)
    return;

  if (!call || sip_call_get_state (call) == SIP_CALL_STATE_ENDED) {
    GST_DEBUG_OBJECT (self, "no call: not sending");
    gst_sip_udpsink_set_destination (self->udpsink, NULL, NULL);
    self->sending = FALSE;
    return;
  }
  if (sip_call_get_on_hold (call)) {
    GST_INFO_OBJECT (self, "call on hold: not sending");
    gst_sip_udpsink_set_destination (self->udpsink, NULL, NULL);
    self->sending = FALSE;
    return;
  }
  addr = gst_sip_call_media_get_rtp_destination (self->media, call);
  GST_INFO_OBJECT (self, "sending RTP to %" GST_PTR_FORMAT, addr);
  gst_sip_udpsink_set_destination (self->udpsink,
      sip_call_get_rtp_socket (call), addr);
  self->sending = addr != NULL;
  g_clear_object (&addr);
}

/* sipsrc latched onto the caller's RTP source, or the latch was cleared */
static void
gst_sip_sink_media_changed (GstSipCallMedia * media, GstSipSink * self)
{
  g_mutex_lock (&self->lock);
  if (self->media == media)
    gst_sip_sink_update_clients (self);
  g_mutex_unlock (&self->lock);
}

static void
gst_sip_sink_call_state_changed (SipCall * call, SipCallState state,
    GstSipSink * self)
{
  GST_DEBUG_OBJECT (self, "call state %d", state);
  g_mutex_lock (&self->lock);
  if (self->call == call) {
    gst_sip_sink_update_clients (self);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_sip_sink_call_media_changed (SipCall * call, GstSipSink * self)
{
  g_mutex_lock (&self->lock);
  if (self->call == call)
    gst_sip_sink_update_clients (self);
  g_mutex_unlock (&self->lock);
}

/* Takes @call (new ref, may be NULL) as the call to send into. */
static void
gst_sip_sink_attach_call (GstSipSink * self, SipCall * call,
    gboolean from_property)
{
  SipCall *old;
  GstSipCallMedia *old_media = NULL;

  g_mutex_lock (&self->lock);
  if (!from_property && self->call_from_property) {
    g_mutex_unlock (&self->lock);
    return;
  }
  old = self->call;
  if (old == call) {
    self->call_from_property = from_property && call;
    g_mutex_unlock (&self->lock);
    return;
  }
  if (old) {
    g_signal_handler_disconnect (old, self->state_changed_id);
    g_signal_handler_disconnect (old, self->media_changed_id);
    self->state_changed_id = self->media_changed_id = 0;
  }
  if (self->media) {
    g_signal_handler_disconnect (self->media, self->media_dest_id);
    self->media_dest_id = 0;
    old_media = self->media;
    self->media = NULL;
  }
  self->call = call ? g_object_ref (call) : NULL;
  self->call_from_property = from_property && call;
  if (call) {
    GST_INFO_OBJECT (self, "sending into call %s", sip_call_get_call_id (call));
    self->media = gst_sip_call_media_get (call);
    /* emitted in other threads (the agent's, sipsrc's): safe against our
     * finalization while a handler runs there */
    self->media_dest_id = gst_sip_signal_connect_weak (self->media, "changed",
        G_CALLBACK (gst_sip_sink_media_changed), GST_ELEMENT (self));
    self->state_changed_id = gst_sip_signal_connect_weak (call,
        "state-changed", G_CALLBACK (gst_sip_sink_call_state_changed),
        GST_ELEMENT (self));
    self->media_changed_id = gst_sip_signal_connect_weak (call,
        "media-changed", G_CALLBACK (gst_sip_sink_call_media_changed),
        GST_ELEMENT (self));
  }
  gst_sip_sink_update_clients (self);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  g_clear_object (&old);
  g_clear_object (&old_media);
  g_object_notify (G_OBJECT (self), "call");
}

static void
gst_sip_sink_src_call_notify (GObject * src, GParamSpec * pspec,
    GstSipSink * self)
{
  SipCall *call = NULL;

  g_object_get (src, "call", &call, NULL);
  GST_DEBUG_OBJECT (self, "%s has call %p", GST_OBJECT_NAME (src), call);
  gst_sip_sink_attach_call (self, call, FALSE);
  g_clear_object (&call);
}

static GstElement *
gst_sip_sink_find_src_in (GstBin * top, const gchar * name)
{
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;
  gboolean done = FALSE;

  if (name) {
    found = gst_bin_get_by_name (top, name);
    if (found && !GST_IS_SIP_SRC (found))
      gst_clear_object (&found);
    return found;
  }

  it = gst_bin_iterate_recurse (top);
  while (!done) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&item);

        if (GST_IS_SIP_SRC (e)) {
          found = gst_object_ref (e);
          done = TRUE;
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_clear_object (&found);
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

/* Pairs with the sipsrc named by the src property, or the first one of the
 * top-level bin. Returns FALSE when a named sipsrc does not exist. */
static gboolean
gst_sip_sink_pair (GstSipSink * self)
{
  GstObject *top = gst_object_ref (GST_OBJECT (self)), *parent;
  GstElement *src = NULL;
  gchar *name;

  g_mutex_lock (&self->lock);
  if (self->paired_src || self->call_from_property) {
    g_mutex_unlock (&self->lock);
    gst_object_unref (top);
    return TRUE;
  }
  name = g_strdup (self->src_name);
  g_mutex_unlock (&self->lock);

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (GST_IS_BIN (top))
    src = gst_sip_sink_find_src_in (GST_BIN (top), name);
  gst_object_unref (top);

  if (!src) {
    if (name) {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("No sipsrc named '%s' in the pipeline.", name), (NULL));
      g_free (name);
      return FALSE;
    }
    GST_INFO_OBJECT (self, "no sipsrc in the pipeline: waiting for the call "
        "property");
    return TRUE;
  }
  g_free (name);

  GST_INFO_OBJECT (self, "paired with %" GST_PTR_FORMAT, src);
  g_mutex_lock (&self->lock);
  self->paired_src = src;
  self->notify_call_id = g_signal_connect (src, "notify::call",
      G_CALLBACK (gst_sip_sink_src_call_notify), self);
  g_mutex_unlock (&self->lock);
  gst_sip_sink_src_call_notify (G_OBJECT (src), NULL, self);
  return TRUE;
}

static void
gst_sip_sink_unpair (GstSipSink * self)
{
  GstElement *src;

  g_mutex_lock (&self->lock);
  src = self->paired_src;
  self->paired_src = NULL;
  if (src)
    g_signal_handler_disconnect (src, self->notify_call_id);
  self->notify_call_id = 0;
  g_mutex_unlock (&self->lock);

  if (src) {
    gst_sip_sink_attach_call (self, NULL, FALSE);
    gst_object_unref (src);
  }
}

/* ------------------------------------------------------------------------ */
/* streaming */

/* the payload type the answer gave PCMU: 0, or the caller's dynamic one
 * (RFC 3264 6.1: we send with the type the offer used). Called with the
 * lock. */
static guint8
gst_sip_sink_pcmu_pt (GstSipSink * self)
{
  return self->call ? (guint8) sip_call_get_pcmu_pt (self->call) : 0;
}

/* Every RTP packet to the caller carries the call's PCMU payload type and
 * SSRC (the one sipsrc's rtpbin reports with) and our sequence numbers and
 * timestamps, is counted and mirrored into that rtpbin for its sender
 * reports. Called with the lock. */
static void
gst_sip_sink_prepare_packet (GstSipSink * self, GstBuffer * buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint16 in_seq, out_seq;
  guint32 in_ts, out_ts;
  GstClockTime rt;

  if (!gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp))
    return;
  in_seq = gst_rtp_buffer_get_seq (&rtp);
  in_ts = gst_rtp_buffer_get_timestamp (&rtp);
  if (!self->have_out) {
    self->seq_offset = 0;
    self->ts_offset = 0;
  } else if (self->last_was_silence) {
    /* after silence: go on from it, never back in time */
    self->seq_offset = (guint16) (self->last_out_seq + 1 - in_seq);
    if ((gint32) (in_ts + self->ts_offset - (self->last_out_ts + 160)) < 0)
      self->ts_offset = self->last_out_ts + 160 - in_ts;
  }
  out_seq = (guint16) (in_seq + self->seq_offset);
  out_ts = in_ts + self->ts_offset;
  gst_rtp_buffer_set_payload_type (&rtp, gst_sip_sink_pcmu_pt (self));
  gst_rtp_buffer_set_ssrc (&rtp, gst_sip_call_media_get_ssrc (self->media));
  gst_rtp_buffer_set_seq (&rtp, out_seq);
  gst_rtp_buffer_set_timestamp (&rtp, out_ts);
  gst_rtp_buffer_unmap (&rtp);

  self->have_out = TRUE;
  self->last_was_silence = FALSE;
  self->last_out_seq = out_seq;
  self->last_out_ts = out_ts;

  rt = gst_segment_to_running_time (&self->out_segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (GST_CLOCK_TIME_IS_VALID (rt)) {
    GstClockTime end = rt + (GST_BUFFER_DURATION_IS_VALID (buf) ?
        GST_BUFFER_DURATION (buf) : PTIME);

    self->ts_base = out_ts - (guint32) gst_util_uint64_scale_int (rt, 8000,
        GST_SECOND);
    self->ts_base_valid = TRUE;
    if (!GST_CLOCK_TIME_IS_VALID (self->last_end_rt)
        || end > self->last_end_rt)
      self->last_end_rt = end;
  }
}

static GstPadProbeReturn
gst_sip_sink_rtp_out_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstSipSink *self = GST_SIP_SINK (user_data);
  GstSipCallMedia *media;
  GstBuffer **bufs = NULL;
  guint n = 0;
  gboolean sending;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    g_mutex_lock (&self->lock);
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_SEGMENT:
        gst_event_copy_segment (event, &self->out_segment);
        break;
      case GST_EVENT_EOS:
        self->out_eos = TRUE;
        break;
      case GST_EVENT_FLUSH_START:
        self->out_flushing = TRUE;
        break;
      case GST_EVENT_FLUSH_STOP:
        /* what was queued is gone: silence may follow from now on */
        self->out_flushing = FALSE;
        self->out_eos = FALSE;
        self->last_end_rt = GST_CLOCK_TIME_NONE;
        gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
        break;
      default:
        break;
    }
    g_mutex_unlock (&self->lock);
    return GST_PAD_PROBE_OK;
  }

  g_mutex_lock (&self->lock);
  if (!self->media) {
    g_mutex_unlock (&self->lock);
    return GST_PAD_PROBE_OK;
  }
  media = g_object_ref (self->media);
  sending = self->sending;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    buf = gst_buffer_make_writable (buf);
    gst_sip_sink_prepare_packet (self, buf);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
    if (sending) {
      bufs = g_new (GstBuffer *, 1);
      bufs[n++] = gst_buffer_ref (buf);
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    guint len;

    list = gst_buffer_list_make_writable (list);
    len = gst_buffer_list_length (list);
    if (sending)
      bufs = g_new (GstBuffer *, MAX (len, 1));
    for (guint i = 0; i < len; i++) {
      GstBuffer *buf = gst_buffer_list_get_writable (list, i);

      gst_sip_sink_prepare_packet (self, buf);
      if (sending)
        bufs[n++] = gst_buffer_ref (buf);
    }
    GST_PAD_PROBE_INFO_DATA (info) = list;
  }
  g_mutex_unlock (&self->lock);

  if (n)
    gst_sip_call_media_add_sent (media, n);
  for (guint i = 0; i < n; i++) {
    gst_sip_call_media_mirror (media, bufs[i]);
    gst_buffer_unref (bufs[i]);
  }
  g_free (bufs);
  g_object_unref (media);
  return GST_PAD_PROBE_OK;
}

/* Builds the next silence packet for running time @rt. Called with the
 * lock. */
static GstBuffer *
gst_sip_sink_make_silence (GstSipSink * self, GstClockTime rt)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (160, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint16 seq;
  guint32 ts;

  if (!self->have_out) {
    seq = (guint16) g_random_int ();
    ts = self->ts_base_valid ? self->ts_base +
        (guint32) gst_util_uint64_scale_int (rt, 8000, GST_SECOND) :
        g_random_int ();
  } else {
    seq = self->last_out_seq + 1;
    if (self->last_was_silence || !self->ts_base_valid) {
      ts = self->last_out_ts + 160;
    } else {
      ts = self->ts_base +
          (guint32) gst_util_uint64_scale_int (rt, 8000, GST_SECOND);
      if ((gint32) (ts - (self->last_out_ts + 160)) < 0)
        ts = self->last_out_ts + 160;
    }
  }

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_payload_type (&rtp, gst_sip_sink_pcmu_pt (self));
  gst_rtp_buffer_set_ssrc (&rtp, gst_sip_call_media_get_ssrc (self->media));
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_set_marker (&rtp, !self->have_out);
  memset (gst_rtp_buffer_get_payload (&rtp), ULAW_SILENCE, 160);
  gst_rtp_buffer_unmap (&rtp);

  self->have_out = TRUE;
  self->last_was_silence = TRUE;
  self->last_out_seq = seq;
  self->last_out_ts = ts;
  return buf;
}

/* The shared ticker, every PTIME while the sink plays: once the audio sent
 * so far ran out (plus the latency), a packet of silence for each PTIME
 * since, sequence numbers and timestamps running on. */
static void
gst_sip_sink_tick (GObject * object)
{
  GstSipSink *self = GST_SIP_SINK (object);
  GstBuffer *bufs[3];
  guint n = 0;
  GSocket *socket = NULL;
  GSocketAddress *dest = NULL, *to;
  GstSipCallMedia *media = NULL;
  GstClockTime now, base_time, gap;
  GstClock *clock;
  SipCall *call;

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (!clock)
    return;
  base_time = gst_element_get_base_time (GST_ELEMENT (self));
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  now = now > base_time ? now - base_time : 0;
  /* audio reaches the udpsink up to the pipeline latency after its running
   * time (an echo waits in the jitter buffer) and is sent at running time +
   * latency: only a gap beyond that is a pause in the audio */
  gap = SILENCE_GAP + gst_base_sink_get_latency (GST_BASE_SINK (self->udpsink));

  g_mutex_lock (&self->lock);
  call = self->call;
  if (!self->send_silence || !call || !self->media
      || self->out_eos || self->out_flushing || self->flushing
      || self->shutdown || sip_call_get_state (call) != SIP_CALL_STATE_ACTIVE
      || sip_call_get_on_hold (call)) {
    /* silence starts after a gap from when it may be sent */
    self->last_end_rt = GST_CLOCK_TIME_NONE;
  } else if (!GST_CLOCK_TIME_IS_VALID (self->last_end_rt)) {
    self->last_end_rt = now;
  } else if (now >= self->last_end_rt + gap) {
    if (now > self->last_end_rt + G_N_ELEMENTS (bufs) * PTIME + gap)
      self->last_end_rt = now - gap;    /* the clock jumped */
    while (n < G_N_ELEMENTS (bufs) && now >= self->last_end_rt + gap) {
      bufs[n++] = gst_sip_sink_make_silence (self, self->last_end_rt);
      self->last_end_rt += PTIME;
    }
    dest = gst_sip_call_media_get_rtp_destination (self->media, call);
    socket = sip_call_get_rtp_socket (call);
    socket = socket ? g_object_ref (socket) : NULL;
    media = g_object_ref (self->media);
  }
  g_mutex_unlock (&self->lock);

  if (n && dest && socket) {
    to = gst_sip_address_for_socket (socket, dest);
    for (guint i = 0; i < n; i++) {
      GstMapInfo map;
      GError *err = NULL;

      gst_buffer_map (bufs[i], &map, GST_MAP_READ);
      if (g_socket_send_to (socket, to, (const gchar *) map.data, map.size,
              NULL, &err) < 0) {
        GST_DEBUG_OBJECT (self, "sending silence failed: %s", err->message);
        g_clear_error (&err);
      }
      gst_buffer_unmap (bufs[i], &map);
    }
    g_object_unref (to);
    GST_LOG_OBJECT (self, "sent %u packets of silence", n);
    gst_sip_call_media_add_sent (media, n);
    for (guint i = 0; i < n; i++)
      gst_sip_call_media_mirror (media, bufs[i]);
  }
  for (guint i = 0; i < n; i++)
    gst_buffer_unref (bufs[i]);
  g_clear_object (&dest);
  g_clear_object (&socket);
  g_clear_object (&media);
}

/* on the ticker shared by every call: no clock entry and no wake-up of its
 * own */
static void
gst_sip_sink_start_ticker (GstSipSink * self)
{
  GstSipTickerEntry *entry, *old;

  entry = gst_sip_ticker_add (PTIME / GST_MSECOND, G_OBJECT (self),
      gst_sip_sink_tick);
  g_mutex_lock (&self->lock);
  old = self->ticker;
  self->ticker = entry;
  self->last_end_rt = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&self->lock);
  gst_sip_ticker_remove (old);
}

static void
gst_sip_sink_stop_ticker (GstSipSink * self)
{
  GstSipTickerEntry *entry;

  g_mutex_lock (&self->lock);
  entry = self->ticker;
  self->ticker = NULL;
  g_mutex_unlock (&self->lock);
  gst_sip_ticker_remove (entry);
}

static SendMode
gst_sip_sink_mode (GstSipSink * self, gboolean eos)
{
  SipCallState state;

  if (!self->call)
    return eos ? MODE_DISCARD : MODE_WAIT;
  state = sip_call_get_state (self->call);
  if (state == SIP_CALL_STATE_ANSWERED || state == SIP_CALL_STATE_ACTIVE)
    return MODE_SEND;
  if (state == SIP_CALL_STATE_ENDED)
    return MODE_DISCARD;
  return MODE_WAIT;
}

/* starts the udpsink on the call's RTP socket; streaming thread */
static void
gst_sip_sink_activate (GstSipSink * self, SipCall * call)
{
  GSocket *socket = sip_call_get_rtp_socket (call);
  GstClock *clock;

  GST_INFO_OBJECT (self, "call %s is up: sending from local RTP port %u",
      sip_call_get_call_id (call), sip_call_get_local_rtp_port (call));
  g_object_set (self->udpsink, "socket", socket, NULL);

  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock) {
    gst_element_set_clock (self->udpsink, clock);
    gst_object_unref (clock);
  }
  gst_element_set_base_time (self->udpsink,
      gst_element_get_base_time (GST_ELEMENT (self)));
  gst_element_set_start_time (self->udpsink,
      gst_element_get_start_time (GST_ELEMENT (self)));
  gst_element_set_locked_state (self->udpsink, FALSE);
  gst_element_sync_state_with_parent (self->udpsink);

  /* The destination only once the udpsink has started: its start()
   * (multiudpsink 1.22) walks its client list without the client lock, and
   * the SIP thread may replace the clients at any time once activated is
   * set (a re-INVITE, the media latch): a client freed under start() was a
   * use-after-free ("invalid unclassed pointer in cast to
   * 'GSocketAddress'", then SIGSEGV). Clients added after start() are set
   * up by "add" under that lock. */
  g_mutex_lock (&self->lock);
  self->activated = TRUE;
  gst_sip_sink_update_clients (self);
  g_mutex_unlock (&self->lock);
}

/* The first buffer after waiting for the call plays "now": shift the
 * running time of everything downstream by the time spent waiting. Called
 * with the lock. */
static void
gst_sip_sink_apply_offset (GstSipSink * self, GstBuffer * buf)
{
  GstClockTime rt, now, base_time;
  GstClock *clock;
  GstPad *pad;

  self->offset_done = TRUE;
  if (!self->waited || !GST_BUFFER_PTS_IS_VALID (buf))
    return;

  rt = gst_segment_to_running_time (&self->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (!clock || !GST_CLOCK_TIME_IS_VALID (rt)) {
    gst_clear_object (&clock);
    return;
  }
  base_time = gst_element_get_base_time (GST_ELEMENT (self));
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  now = now > base_time ? now - base_time : 0;

  if (now > rt) {
    GST_INFO_OBJECT (self, "audio waited for the call: playing it %"
        GST_TIME_FORMAT " later", GST_TIME_ARGS (now - rt));
    pad = gst_element_get_static_pad (self->convert, "src");
    gst_pad_set_offset (pad, (gint64) (now - rt));
    gst_object_unref (pad);
  }
}

static GstPadProbeReturn
gst_sip_sink_flushing (GstPadProbeInfo * info)
{
  if (info->type & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST)) {
    gst_mini_object_unref (GST_PAD_PROBE_INFO_DATA (info));
    GST_PAD_PROBE_INFO_DATA (info) = NULL;
    GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_FLUSHING;
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_DROP;
}

static GstPadProbeReturn
gst_sip_sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstSipSink *self = GST_SIP_SINK (user_data);
  GstEvent *event = NULL;
  gboolean eos = FALSE, shared_thread;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    event = GST_PAD_PROBE_INFO_EVENT (info);

    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_FLUSH_START:
        g_mutex_lock (&self->lock);
        self->flushing = TRUE;
        g_cond_broadcast (&self->cond);
        g_mutex_unlock (&self->lock);
        return GST_PAD_PROBE_OK;
      case GST_EVENT_FLUSH_STOP:
        g_mutex_lock (&self->lock);
        self->flushing = FALSE;
        self->eos_posted = FALSE;
        g_mutex_unlock (&self->lock);
        return GST_PAD_PROBE_OK;
      case GST_EVENT_SEGMENT:
        g_mutex_lock (&self->lock);
        gst_event_copy_segment (event, &self->segment);
        g_mutex_unlock (&self->lock);
        break;
      case GST_EVENT_EOS:
        eos = TRUE;
        break;
      default:
        break;
    }
    /* only data waits for the call: stream-start, caps, segment and tags go
     * on (they are sticky: the udpsink gets them once it runs), so that an
     * EOS without any data is not stuck behind them */
    if (!eos)
      return GST_PAD_PROBE_OK;
  }

  /* A sipsrc with shared-threads pushes from a thread that serves every
   * call: nothing may wait there. Its audio comes in real time already, so
   * it is sent as it comes (no clock wait in the udpsink), and data before
   * the call is up is dropped instead of waiting for it. */
  shared_thread = !event && gst_sip_receiver_in_receive_thread ();

  g_mutex_lock (&self->lock);
  if (shared_thread && !self->unsynced) {
    GST_INFO_OBJECT (self, "fed by a shared receive thread: sending audio "
        "as it comes");
    self->unsynced = TRUE;
    self->offset_done = TRUE;
    g_object_set (self->udpsink, "sync", FALSE, NULL);
  }
  while (!self->activated) {
    SendMode mode;

    if (self->flushing || self->shutdown) {
      g_mutex_unlock (&self->lock);
      return gst_sip_sink_flushing (info);
    }

    mode = gst_sip_sink_mode (self, eos);
    if (mode == MODE_SEND) {
      SipCall *call = g_object_ref (self->call);

      g_mutex_unlock (&self->lock);
      gst_sip_sink_activate (self, call);
      g_object_unref (call);
      g_mutex_lock (&self->lock);
      continue;
    }

    if (mode == MODE_DISCARD) {
      /* nothing will ever be sent: drop data, end at EOS */
      gboolean post = eos && !self->eos_posted;

      if (post)
        self->eos_posted = TRUE;
      g_mutex_unlock (&self->lock);
      if (post) {
        GstMessage *msg = gst_message_new_eos (GST_OBJECT (self));

        GST_INFO_OBJECT (self, "EOS without a call to send into");
        gst_message_set_seqnum (msg, gst_event_get_seqnum (event));
        gst_element_post_message (GST_ELEMENT (self), msg);
      }
      return GST_PAD_PROBE_DROP;
    }

    if (shared_thread) {
      g_mutex_unlock (&self->lock);
      GST_LOG_OBJECT (self, "dropping audio before the call is up");
      return GST_PAD_PROBE_DROP;
    }
    if (!self->waited)
      GST_DEBUG_OBJECT (self, "waiting for the call");
    self->waited = TRUE;
    g_cond_wait (&self->cond, &self->lock);
  }

  if (!event && !self->offset_done) {
    GstBuffer *buf = NULL;

    if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
      buf = GST_PAD_PROBE_INFO_BUFFER (info);
    else if (gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)))
      buf = gst_buffer_list_get (GST_PAD_PROBE_INFO_BUFFER_LIST (info), 0);
    if (buf)
      gst_sip_sink_apply_offset (self, buf);
  }
  g_mutex_unlock (&self->lock);

  return GST_PAD_PROBE_OK;
}

static void
gst_sip_sink_handle_message (GstBin * bin, GstMessage * message)
{
  GstSipSink *self = GST_SIP_SINK (bin);

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS &&
      GST_MESSAGE_SRC (message) == GST_OBJECT (self->udpsink)) {
    SipCall *call;

    g_mutex_lock (&self->lock);
    call = self->call ? g_object_ref (self->call) : NULL;
    g_mutex_unlock (&self->lock);
    if (call) {
      if (sip_call_get_state (call) != SIP_CALL_STATE_ENDED) {
        GST_INFO_OBJECT (self, "played out: hanging up call %s",
            sip_call_get_call_id (call));
        sip_call_hangup (call);
      }
      g_object_unref (call);
    }
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* ------------------------------------------------------------------------ */
/* states */

static GstStateChangeReturn
gst_sip_sink_change_state (GstElement * element, GstStateChange transition)
{
  GstSipSink *self = GST_SIP_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!gst_sip_check_factories (element, needed_factories))
        return GST_STATE_CHANGE_FAILURE;
      if (self->construct_failed) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
            ("Could not create the elements sipsink needs."), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      if (!gst_sip_sink_pair (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* a sipsrc added after we went to READY */
      if (!gst_sip_sink_pair (self))
        return GST_STATE_CHANGE_FAILURE;
      g_mutex_lock (&self->lock);
      self->shutdown = FALSE;
      self->flushing = FALSE;
      self->eos_posted = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      gst_sip_sink_stop_ticker (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* again: send-silence set during PLAYING_TO_PAUSED may have started it */
      gst_sip_sink_stop_ticker (self);
      g_mutex_lock (&self->lock);
      self->shutdown = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      /* the ticker only inserts silence: without send-silence no work per
       * tick at all */
      if (g_atomic_int_get (&self->send_silence))
        gst_sip_sink_start_ticker (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:{
      GstPad *pad;

      /* the udpsink gets the next call's socket */
      gst_element_set_state (self->udpsink, GST_STATE_NULL);
      gst_element_set_locked_state (self->udpsink, TRUE);
      g_object_set (self->udpsink, "socket", NULL, NULL);
      gst_sip_udpsink_set_destination (self->udpsink, NULL, NULL);
      pad = gst_element_get_static_pad (self->convert, "src");
      gst_pad_set_offset (pad, 0);
      gst_object_unref (pad);
      g_mutex_lock (&self->lock);
      self->activated = FALSE;
      self->waited = FALSE;
      self->offset_done = FALSE;
      if (self->unsynced)
        g_object_set (self->udpsink, "sync", TRUE, NULL);
      self->unsynced = FALSE;
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      gst_segment_init (&self->out_segment, GST_FORMAT_TIME);
      self->have_out = FALSE;
      self->last_was_silence = FALSE;
      self->ts_base_valid = FALSE;
      self->last_end_rt = GST_CLOCK_TIME_NONE;
      self->out_eos = FALSE;
      self->out_flushing = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    }
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_sip_sink_unpair (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ------------------------------------------------------------------------ */
/* properties */

static void
gst_sip_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipSink *self = GST_SIP_SINK (object);

  switch (prop_id) {
    case PROP_SRC:
      g_mutex_lock (&self->lock);
      g_free (self->src_name);
      self->src_name = g_value_dup_string (value);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_CALL:
      gst_sip_sink_attach_call (self, g_value_get_object (value), TRUE);
      break;
    case PROP_SEND_SILENCE:{
      gboolean on = g_value_get_boolean (value), ticking;

      g_mutex_lock (&self->lock);
      self->send_silence = on;
      ticking = self->ticker != NULL;
      g_mutex_unlock (&self->lock);
      if (on && !ticking && GST_STATE (self) == GST_STATE_PLAYING)
        gst_sip_sink_start_ticker (self);
      else if (!on && ticking)
        gst_sip_sink_stop_ticker (self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_sip_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSipSink *self = GST_SIP_SINK (object);

  if (prop_id == PROP_STATS) {
    GstSipCallMedia *media;

    g_mutex_lock (&self->lock);
    media = self->media ? g_object_ref (self->media) : NULL;
    g_mutex_unlock (&self->lock);
    g_value_take_boxed (value,
        media ? gst_sip_call_media_get_stats (media) : NULL);
    g_clear_object (&media);
    return;
  }

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_SRC:
      g_value_set_string (value, self->src_name);
      break;
    case PROP_CALL:
      g_value_set_object (value, self->call);
      break;
    case PROP_SEND_SILENCE:
      g_value_set_boolean (value, self->send_silence);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}
