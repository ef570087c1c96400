/* gst-sip tests: a minimal SIP caller (UAC) over real UDP loopback sockets
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GSocket *sip;
  GSocket *rtp;
  GSocket *rtcp;                /* NULL unless test_uac_bind_rtcp() */
  guint16 sip_port;
  guint16 rtp_port;
  guint16 server_port;
  GSocketAddress *server;

  gchar *call_id;
  gchar *from_tag;
  gchar *to_header;             /* To of the 200 OK, with the tag */
  gchar *contact;               /* request URI for in-dialog requests */
  guint cseq;

  guint16 remote_rtp_port;      /* from the SDP answer */
  gint remote_pcmu_pt;          /* the first payload type answered */
  gint remote_te_pt;            /* telephone-event payload type answered */

  guint16 rtp_seq;
  guint32 rtp_ts;
  guint32 rtp_ssrc;
} TestUac;

TestUac *test_uac_new (guint16 server_port);
void test_uac_free (TestUac * uac);

void test_uac_send_invite (TestUac * uac, gboolean offer_dtmf);
/* an offer of PCMU as @pcmu_pt (0, or a dynamic type with its rtpmap) and
 * telephone-event as @te_pt (-1: none) */
void test_uac_send_invite_offer (TestUac * uac, guint pcmu_pt, gint te_pt);
/* waits for the final response to the INVITE; returns its status code (0 on
 * timeout) and, on 2xx, parses the answer */
guint test_uac_wait_final (TestUac * uac, gint timeout_ms);
void test_uac_send_ack (TestUac * uac);
/* re-INVITE in the dialog with an offer from the current RTP socket and the
 * given direction ("sendrecv", "sendonly", ...); returns the final status
 * (the ACK is sent) */
guint test_uac_reinvite (TestUac * uac, const gchar * direction);
/* replaces the RTP socket by a new one on another port */
void test_uac_new_rtp_port (TestUac * uac);
void test_uac_send_bye (TestUac * uac);

/* receives one SIP message (NULL on timeout) */
gchar *test_uac_recv_sip (TestUac * uac, gint timeout_ms);
/* waits for a response with @method in CSeq; returns its status (0 on
 * timeout); requests arriving meanwhile are answered 200 */
guint test_uac_wait_response (TestUac * uac, const gchar * method,
    gint timeout_ms);
/* answers a request with @code */
void test_uac_reply (TestUac * uac, const gchar * request, guint code);

gchar *test_uac_get_header (const gchar * msg, const gchar * name);
guint test_uac_status (const gchar * msg);
gboolean test_uac_is_request (const gchar * msg, const gchar * method);

void test_uac_send_rtp (TestUac * uac, guint8 pt, gboolean marker,
    guint32 ts, const guint8 * payload, gsize len);
/* sends one 20 ms PCMU packet filled with @value */
void test_uac_send_pcmu (TestUac * uac, guint8 value);
/* receives one datagram on the RTP socket; returns its size, -1 on timeout */
gssize test_uac_recv_rtp (TestUac * uac, guint8 * buf, gsize size,
    gint timeout_ms, guint16 * from_port);

/* rebinds the RTP socket on an even port with RTCP on the next one; before
 * the INVITE */
void test_uac_bind_rtcp (TestUac * uac);
/* sends a datagram to the server's RTCP port (its RTP port + 1) */
void test_uac_send_rtcp (TestUac * uac, const guint8 * data, gsize len);
/* receives one datagram on the RTCP socket; -1 on timeout */
gssize test_uac_recv_rtcp (TestUac * uac, guint8 * buf, gsize size,
    gint timeout_ms);

G_END_DECLS
