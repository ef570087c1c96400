/* GStreamer SIP plugin: media state of one call shared by sipsrc and sipsink
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

/* One GstSipCallMedia is attached to each SipCall that an element uses
 * (object data of the call, created by whichever element comes first). It
 * carries what sipsrc and sipsink must agree on, even when they are in
 * different pipelines:
 *
 * - the RTP source that sipsrc latched onto: sipsink sends there (symmetric
 *   RTP), and never to an address that neither the SDP nor the latch gave;
 * - our SSRC: sipsink sends with it and sipsrc's rtpbin session reports with
 *   it, so the caller sees one participant;
 * - counters and the rtpbin session, for the statistics;
 * - the mirror: a copy of every RTP packet sipsink sends goes into sipsrc's
 *   rtpbin session (and no further), so that rtpbin sends sender reports
 *   and computes the round-trip time from the caller's receiver reports. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsipcallmedia.h"
#include "gstsipelements.h"

struct _GstSipCallMedia
{
  GObject parent;

  GMutex lock;
  GSocketAddress *sdp_rtp;      /* the SDP address the latch was made for */
  GSocketAddress *latched_rtp;  /* NULL: not latched */
  guint32 ssrc;
  guint64 packets_sent;
  guint64 packets_rejected;
  /* RTPSession of sipsrc's rtpbin, under session_lock: held while its stats
   * are read, since rtpbin clears the session without its own lock when it
   * stops (rtp_session_reset), so sipsrc detaches it first; what it said
   * last stays in last_session_stats */
  GMutex session_lock;
  GObject *session;
  GstStructure *last_session_stats;
  /* a source pad of no element linked into that session, pushed from
   * sipsink's threads under mirror_lock (no thread of its own); owner (the
   * sipsrc) gives the clock and base time */
  GMutex mirror_lock;
  GstPad *mirror;
  GstElement *mirror_owner;
};

enum
{
  SIGNAL_CHANGED,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

G_DEFINE_TYPE (GstSipCallMedia, gst_sip_call_media, G_TYPE_OBJECT);

static void
gst_sip_call_media_finalize (GObject * object)
{
  GstSipCallMedia *media = GST_SIP_CALL_MEDIA (object);

  g_clear_object (&media->sdp_rtp);
  g_clear_object (&media->latched_rtp);
  g_clear_object (&media->session);
  g_clear_pointer (&media->last_session_stats, gst_structure_free);
  gst_sip_call_media_set_mirror (media, NULL, NULL);
  g_mutex_clear (&media->session_lock);
  g_mutex_clear (&media->mirror_lock);
  g_mutex_clear (&media->lock);

  G_OBJECT_CLASS (gst_sip_call_media_parent_class)->finalize (object);
}

static void
gst_sip_call_media_class_init (GstSipCallMediaClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_sip_call_media_finalize;

  /* the RTP destination changed (latched, or latch cleared); emitted from a
   * streaming thread of sipsrc or the agent thread, without locks held */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

static void
gst_sip_call_media_init (GstSipCallMedia * media)
{
  g_mutex_init (&media->lock);
  g_mutex_init (&media->mirror_lock);
  g_mutex_init (&media->session_lock);
  /* never 0, so that 0 can mean "unknown" in logs */
  do {
    media->ssrc = g_random_int ();
  } while (media->ssrc == 0);
}

G_LOCK_DEFINE_STATIC (media_quark);
static GQuark media_quark;

/* Returns (transfer full) the media state of @call, created on first use. */
GstSipCallMedia *
gst_sip_call_media_get (SipCall * call)
{
  GstSipCallMedia *media;

  G_LOCK (media_quark);
  if (!media_quark)
    media_quark = g_quark_from_static_string ("gst-sip-call-media");
  media = g_object_get_qdata (G_OBJECT (call), media_quark);
  if (!media) {
    media = g_object_new (GST_TYPE_SIP_CALL_MEDIA, NULL);
    g_object_set_qdata_full (G_OBJECT (call), media_quark, media,
        g_object_unref);
  }
  g_object_ref (media);
  G_UNLOCK (media_quark);
  return media;
}

/* Where RTP for @call goes: the latched source while the latch was made for
 * the call's current SDP address, the SDP address otherwise (before the
 * latch, or after a re-INVITE moved the media). */
GSocketAddress *
gst_sip_call_media_get_rtp_destination (GstSipCallMedia * media, SipCall * call)
{
  GSocketAddress *sdp = sip_call_get_remote_rtp_socket_address (call);
  GSocketAddress *ret = NULL;

  g_mutex_lock (&media->lock);
  if (media->latched_rtp && sdp
      && gst_sip_address_equal (media->sdp_rtp, sdp, TRUE))
    ret = g_object_ref (media->latched_rtp);
  g_mutex_unlock (&media->lock);

  if (ret) {
    g_clear_object (&sdp);
    return ret;
  }
  return sdp;
}

/* sipsrc latched onto @rtp (NULL: the latch is cleared) for the SDP address
 * @sdp_rtp. Emits "changed" when the destination changes. */
void
gst_sip_call_media_set_latched (GstSipCallMedia * media,
    GSocketAddress * sdp_rtp, GSocketAddress * rtp)
{
  gboolean changed;

  g_mutex_lock (&media->lock);
  changed = !gst_sip_address_equal (media->latched_rtp, rtp, TRUE)
      || !gst_sip_address_equal (media->sdp_rtp, sdp_rtp, TRUE);
  g_clear_object (&media->latched_rtp);
  g_clear_object (&media->sdp_rtp);
  media->latched_rtp = rtp ? g_object_ref (rtp) : NULL;
  media->sdp_rtp = sdp_rtp ? g_object_ref (sdp_rtp) : NULL;
  g_mutex_unlock (&media->lock);

  if (changed)
    g_signal_emit (media, signals[SIGNAL_CHANGED], 0);
}

guint32
gst_sip_call_media_get_ssrc (GstSipCallMedia * media)
{
  return media->ssrc;
}

void
gst_sip_call_media_add_sent (GstSipCallMedia * media, guint packets)
{
  g_mutex_lock (&media->lock);
  media->packets_sent += packets;
  g_mutex_unlock (&media->lock);
}

void
gst_sip_call_media_add_rejected (GstSipCallMedia * media, guint packets)
{
  g_mutex_lock (&media->lock);
  media->packets_rejected += packets;
  g_mutex_unlock (&media->lock);
}

/* @rtp_session: the RTPSession (rtpbin's internal session) that receives the
 * call's RTP, or NULL: before that rtpbin stops */
void
gst_sip_call_media_set_session (GstSipCallMedia * media, GObject * rtp_session)
{
  GObject *old;

  g_mutex_lock (&media->session_lock);
  old = media->session;
  if (old) {
    /* its last word, while it still has it */
    g_clear_pointer (&media->last_session_stats, gst_structure_free);
    g_object_get (old, "stats", &media->last_session_stats, NULL);
  }
  media->session = rtp_session ? g_object_ref (rtp_session) : NULL;
  g_mutex_unlock (&media->session_lock);
  g_clear_object (&old);
}

void
gst_sip_call_media_set_mirror (GstSipCallMedia * media, GstElement * owner,
    GstPad * pad)
{
  GstPad *old, *peer;
  GstElement *old_owner;

  g_mutex_lock (&media->mirror_lock);
  old = media->mirror;
  old_owner = media->mirror_owner;
  media->mirror = pad ? gst_object_ref (pad) : NULL;
  media->mirror_owner = owner ? gst_object_ref (owner) : NULL;
  g_mutex_unlock (&media->mirror_lock);
  if (old) {
    peer = gst_pad_get_peer (old);
    if (peer) {
      gst_pad_unlink (old, peer);
      gst_object_unref (peer);
    }
    gst_pad_set_active (old, FALSE);
    gst_object_unref (old);
  }
  gst_clear_object (&old_owner);
}

/* a copy of an RTP packet sent to the caller, for rtpbin's sender reports;
 * never blocks (the session's send path ends in a fakesink, no sync) */
void
gst_sip_call_media_mirror (GstSipCallMedia * media, GstBuffer * buffer)
{
  GstClock *clock;

  g_mutex_lock (&media->mirror_lock);
  if (!media->mirror) {
    g_mutex_unlock (&media->mirror_lock);
    return;
  }
  /* stamped with the running time of sipsrc's pipeline: now */
  buffer = gst_buffer_copy (buffer);
  GST_BUFFER_PTS (buffer) = GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  clock = gst_element_get_clock (media->mirror_owner);
  if (clock) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base_time = gst_element_get_base_time (media->mirror_owner);

    GST_BUFFER_PTS (buffer) = now > base_time ? now - base_time : 0;
    gst_object_unref (clock);
  }
  gst_pad_push (media->mirror, buffer);
  g_mutex_unlock (&media->mirror_lock);
}

/* The statistics of the call, as a "sip-call-stats" structure; see the
 * stats property of sipsrc. */
GstStructure *
gst_sip_call_media_get_stats (GstSipCallMedia * media)
{
  guint64 received = 0, sent, rejected;
  gint64 lost = 0;
  guint64 best = 0;
  guint jitter = 0;
  gint rtt = -1;
  GstStructure *s, *ss = NULL;

  g_mutex_lock (&media->lock);
  sent = media->packets_sent;
  rejected = media->packets_rejected;
  g_mutex_unlock (&media->lock);

  g_mutex_lock (&media->session_lock);
  if (media->session)
    g_object_get (media->session, "stats", &ss, NULL);
  else if (media->last_session_stats)
    ss = gst_structure_copy (media->last_session_stats);
  g_mutex_unlock (&media->session_lock);

  if (ss) {
    const GValue *v;

    v = ss ? gst_structure_get_value (ss, "source-stats") : NULL;
    if (v && G_VALUE_HOLDS_BOXED (v) && g_value_get_boxed (v)) {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS;
      GValueArray *arr = g_value_get_boxed (v);

      for (guint i = 0; i < arr->n_values; i++) {
        const GstStructure *src =
            gst_value_get_structure (g_value_array_get_nth (arr, i));
        gboolean internal = FALSE, have_rb = FALSE;
        guint64 packets = 0;
        gint packets_lost = 0;
        guint src_jitter = 0, lsr = 0, round_trip = 0;
        gint clock_rate = 8000;

        if (!src)
          continue;
        gst_structure_get_boolean (src, "internal", &internal);
        if (internal)
          continue;
        /* a caller may change its SSRC: add up its streams */
        gst_structure_get_uint64 (src, "packets-received", &packets);
        gst_structure_get_int (src, "packets-lost", &packets_lost);
        gst_structure_get_uint (src, "jitter", &src_jitter);
        gst_structure_get_int (src, "clock-rate", &clock_rate);
        received += packets;
        lost += packets_lost;
        if (packets >= best && clock_rate > 0) {
          /* the jitter of the stream that carried the most */
          best = packets;
          jitter = (guint) ((guint64) src_jitter * 1000 / clock_rate);
        }
        /* the caller's report about our stream; without our sender report
         * (lsr 0) it carries no round-trip time */
        gst_structure_get_boolean (src, "have-rb", &have_rb);
        gst_structure_get_uint (src, "rb-lsr", &lsr);
        gst_structure_get_uint (src, "rb-round-trip", &round_trip);
        if (have_rb && lsr != 0)
          rtt = (gint) (((guint64) round_trip * 1000) >> 16);
      }
      G_GNUC_END_IGNORE_DEPRECATIONS;
    }
    gst_structure_free (ss);
  }

  s = gst_structure_new ("sip-call-stats",
      "packets-received", G_TYPE_UINT64, received,
      "packets-lost", G_TYPE_INT64, lost,
      "jitter", G_TYPE_UINT, jitter,
      "round-trip", G_TYPE_INT, rtt,
      "packets-sent", G_TYPE_UINT64, sent,
      "packets-rejected", G_TYPE_UINT64, rejected, NULL);
  return s;
}
