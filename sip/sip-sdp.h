/* gst-sip: SDP offer/answer for one PCMU audio stream (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SIP_SDP_SENDRECV,
  SIP_SDP_SENDONLY,
  SIP_SDP_RECVONLY,
  SIP_SDP_INACTIVE,
} SipSdpDirection;

typedef enum
{
  SIP_SDP_ERROR_MALFORMED,      /* 400 */
  SIP_SDP_ERROR_NOT_ACCEPTABLE, /* 488 */
} SipSdpError;

#define SIP_SDP_ERROR (sip_sdp_error_quark ())
GQuark sip_sdp_error_quark (void);

/* One m= line of an offer, kept to mirror it in the answer */
typedef struct
{
  gchar *media;
  gchar *proto;
  gchar *formats;               /* the fmt list as offered */
} SipSdpMediaLine;

/* What we took from a remote SDP (an offer, or an answer to our offer) */
typedef struct
{
  gchar *address;               /* c= of the audio stream (session or media) */
  gboolean ipv6;                /* c=IN IP6 */
  guint port;                   /* m=audio port */
  gint pcmu_pt;                 /* 0, or a dynamic PT mapped to PCMU/8000 */
  gint telephone_event_pt;      /* -1 when not offered */
  SipSdpDirection direction;    /* as the remote side wrote it */
  gboolean hold_address;        /* c= 0.0.0.0 / :: (RFC 2543 hold) */
  gchar *proto;                 /* RTP/AVP or RTP/AVPF */
  guint audio_index;            /* which m= line we accept */
  GPtrArray *lines;             /* SipSdpMediaLine, every m= line */
} SipSdpRemote;

/* Our side of the session */
typedef struct
{
  guint64 session_id;
  guint64 version;
  gchar *address;               /* c= and o= address */
  guint port;                   /* our RTP port */
  gchar *last_body;             /* the last SDP sent, minus o= */
} SipSdpLocal;

SipSdpRemote *sip_sdp_remote_parse (const gchar * body, gsize len,
    GError ** error);
void sip_sdp_remote_free (SipSdpRemote * remote);
gboolean sip_sdp_remote_is_hold (const SipSdpRemote * remote);

SipSdpDirection sip_sdp_direction_answer (SipSdpDirection offered);
const gchar *sip_sdp_direction_to_string (SipSdpDirection direction);

void sip_sdp_local_init (SipSdpLocal * local, const gchar * address,
    guint port);
void sip_sdp_local_clear (SipSdpLocal * local);

gchar *sip_sdp_build_answer (SipSdpLocal * local,
    const SipSdpRemote * offer);
gchar *sip_sdp_build_offer (SipSdpLocal * local, gint telephone_event_pt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SipSdpRemote, sip_sdp_remote_free)

G_END_DECLS
