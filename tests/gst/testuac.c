/* gst-sip tests: a minimal SIP caller (UAC) over real UDP loopback sockets
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>

#include "testuac.h"

/* binds a loopback UDP socket on @want (0: any port); NULL if busy */
static GSocket *
try_bind_udp (guint16 want, guint16 * port)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, want);
  GSocketAddress *bound;
  gboolean ok;

  g_assert_nonnull (s);
  ok = g_socket_bind (s, addr, FALSE, NULL);
  g_object_unref (addr);
  g_object_unref (lo);
  if (!ok) {
    g_object_unref (s);
    return NULL;
  }
  bound = g_socket_get_local_address (s, NULL);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  return s;
}

static GSocket *
bind_udp (guint16 * port)
{
  GSocket *s = try_bind_udp (0, port);

  g_assert_nonnull (s);
  return s;
}

TestUac *
test_uac_new (guint16 server_port)
{
  TestUac *uac = g_new0 (TestUac, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  uac->sip = bind_udp (&uac->sip_port);
  /* an RTP port pair is not needed: RTCP is not checked */
  uac->rtp = bind_udp (&uac->rtp_port);
  uac->server_port = server_port;
  uac->server = g_inet_socket_address_new (lo, server_port);
  g_object_unref (lo);
  uac->call_id = g_strdup_printf ("%08x-test@127.0.0.1", g_random_int ());
  uac->from_tag = g_strdup_printf ("%08x", g_random_int ());
  uac->cseq = 1;
  uac->remote_pcmu_pt = -1;
  uac->remote_te_pt = -1;
  uac->rtp_seq = g_random_int_range (0, 30000);
  uac->rtp_ts = g_random_int ();
  uac->rtp_ssrc = g_random_int ();
  return uac;
}

void
test_uac_free (TestUac * uac)
{
  g_object_unref (uac->sip);
  g_object_unref (uac->rtp);
  g_clear_object (&uac->rtcp);
  g_object_unref (uac->server);
  g_free (uac->call_id);
  g_free (uac->from_tag);
  g_free (uac->to_header);
  g_free (uac->contact);
  g_free (uac);
}

static void
send_sip (TestUac * uac, const gchar * msg)
{
  gssize len = strlen (msg);

  g_assert_cmpint (g_socket_send_to (uac->sip, uac->server, msg, len, NULL,
          NULL), ==, len);
}

void
test_uac_send_invite (TestUac * uac, gboolean offer_dtmf)
{
  test_uac_send_invite_offer (uac, 0, offer_dtmf ? 101 : -1);
}

void
test_uac_send_invite_offer (TestUac * uac, guint pcmu_pt, gint te_pt)
{
  gchar *sdp, *msg, *te_format = NULL, *te_attrs = NULL;

  if (te_pt >= 0) {
    te_format = g_strdup_printf (" %d", te_pt);
    te_attrs = g_strdup_printf ("a=rtpmap:%d telephone-event/8000\r\n"
        "a=fmtp:%d 0-15\r\n", te_pt, te_pt);
  }
  sdp = g_strdup_printf ("v=0\r\n"
      "o=test 1 1 IN IP4 127.0.0.1\r\n"
      "s=test\r\n"
      "c=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\n"
      "m=audio %u RTP/AVP %u%s\r\n"
      "a=rtpmap:%u PCMU/8000\r\n"
      "%s"
      "a=ptime:20\r\n"
      "a=sendrecv\r\n", uac->rtp_port, pcmu_pt, te_format ? te_format : "",
      pcmu_pt, te_attrs ? te_attrs : "");
  g_free (te_format);
  g_free (te_attrs);
  msg = g_strdup_printf ("INVITE sip:bot@127.0.0.1:%u SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: \"Test\" <sip:test@127.0.0.1:%u>;tag=%s\r\n"
      "To: <sip:bot@127.0.0.1:%u>\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u INVITE\r\n"
      "Contact: <sip:test@127.0.0.1:%u>\r\n"
      "User-Agent: gst-sip-test\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: %zu\r\n\r\n%s",
      uac->server_port, uac->sip_port, g_random_int (), uac->sip_port,
      uac->from_tag, uac->server_port, uac->call_id, uac->cseq, uac->sip_port,
      strlen (sdp), sdp);
  send_sip (uac, msg);
  g_free (msg);
  g_free (sdp);
}

gchar *
test_uac_recv_sip (TestUac * uac, gint timeout_ms)
{
  gchar buf[8192];
  gssize n;

  g_socket_set_timeout (uac->sip, 0);
  if (!g_socket_condition_timed_wait (uac->sip, G_IO_IN,
          (gint64) timeout_ms * 1000, NULL, NULL))
    return NULL;
  n = g_socket_receive (uac->sip, buf, sizeof (buf) - 1, NULL, NULL);
  if (n <= 0)
    return NULL;
  buf[n] = 0;
  return g_strdup (buf);
}

/* the first value of a header (full name or compact form), trimmed */
gchar *
test_uac_get_header (const gchar * msg, const gchar * name)
{
  gchar **lines = g_strsplit (msg, "\r\n", -1);
  gchar *ret = NULL;
  gsize nlen = strlen (name);

  for (guint i = 1; lines[i] && lines[i][0]; i++) {
    if (g_ascii_strncasecmp (lines[i], name, nlen) == 0) {
      const gchar *p = lines[i] + nlen;

      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != ':')
        continue;
      ret = g_strstrip (g_strdup (p + 1));
      break;
    }
  }
  g_strfreev (lines);
  return ret;
}

guint
test_uac_status (const gchar * msg)
{
  if (!g_str_has_prefix (msg, "SIP/2.0 "))
    return 0;
  return (guint) g_ascii_strtoull (msg + 8, NULL, 10);
}

gboolean
test_uac_is_request (const gchar * msg, const gchar * method)
{
  gsize len = strlen (method);

  return strncmp (msg, method, len) == 0 && msg[len] == ' ';
}

static gboolean
cseq_is (const gchar * msg, const gchar * method)
{
  gchar *cseq = test_uac_get_header (msg, "CSeq");
  gboolean ret = cseq && g_str_has_suffix (cseq, method);

  g_free (cseq);
  return ret;
}

static void
parse_answer (TestUac * uac, const gchar * msg)
{
  const gchar *body = strstr (msg, "\r\n\r\n");
  gchar *contact;
  gchar **lines;

  g_free (uac->to_header);
  uac->to_header = test_uac_get_header (msg, "To");
  if (!uac->to_header)
    uac->to_header = test_uac_get_header (msg, "t");
  g_assert_nonnull (uac->to_header);
  g_assert_nonnull (strstr (uac->to_header, "tag="));

  contact = test_uac_get_header (msg, "Contact");
  if (!contact)
    contact = test_uac_get_header (msg, "m");
  g_assert_nonnull (contact);
  g_free (uac->contact);
  {
    const gchar *lt = strchr (contact, '<'), *gt = strchr (contact, '>');

    if (lt && gt && gt > lt)
      uac->contact = g_strndup (lt + 1, gt - lt - 1);
    else
      uac->contact = g_strdup (contact);
  }
  g_free (contact);

  g_assert_nonnull (body);
  lines = g_strsplit (body + 4, "\r\n", -1);
  for (guint i = 0; lines[i]; i++) {
    guint port, pt;

    if (sscanf (lines[i], "m=audio %u RTP/AVP %u", &port, &pt) == 2)
      uac->remote_pcmu_pt = pt;
    if (sscanf (lines[i], "m=audio %u", &port) == 1)
      uac->remote_rtp_port = port;
    if (sscanf (lines[i], "a=rtpmap:%u telephone-event", &pt) == 1)
      uac->remote_te_pt = pt;
  }
  g_strfreev (lines);
  g_assert_cmpuint (uac->remote_rtp_port, >, 0);
}

guint
test_uac_wait_final (TestUac * uac, gint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    gint left = (end - g_get_monotonic_time ()) / 1000;
    gchar *msg = test_uac_recv_sip (uac, MAX (left, 1));
    guint status;

    if (!msg)
      break;
    status = test_uac_status (msg);
    if (status >= 200 && cseq_is (msg, "INVITE")) {
      if (status < 300)
        parse_answer (uac, msg);
      g_free (msg);
      return status;
    }
    g_free (msg);
  }
  return 0;
}

static void
send_in_dialog (TestUac * uac, const gchar * method, guint cseq)
{
  gchar *msg = g_strdup_printf ("%s %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: \"Test\" <sip:test@127.0.0.1:%u>;tag=%s\r\n"
      "To: %s\r\n"
      "Call-ID: %s\r\n" "CSeq: %u %s\r\n" "Content-Length: 0\r\n\r\n",
      method, uac->contact, uac->sip_port, g_random_int (), uac->sip_port,
      uac->from_tag, uac->to_header, uac->call_id, cseq, method);

  send_sip (uac, msg);
  g_free (msg);
}

void
test_uac_send_ack (TestUac * uac)
{
  send_in_dialog (uac, "ACK", uac->cseq);
}

void
test_uac_new_rtp_port (TestUac * uac)
{
  g_object_unref (uac->rtp);
  uac->rtp = bind_udp (&uac->rtp_port);
}

guint
test_uac_reinvite (TestUac * uac, const gchar * direction)
{
  gchar *sdp, *msg;
  guint status;

  sdp = g_strdup_printf ("v=0\r\n"
      "o=test 1 %u IN IP4 127.0.0.1\r\n"
      "s=test\r\n"
      "c=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\n"
      "m=audio %u RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n"
      "a=ptime:20\r\n" "a=%s\r\n", uac->cseq + 1, uac->rtp_port, direction);
  uac->cseq++;
  msg = g_strdup_printf ("INVITE %s SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%08x;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: \"Test\" <sip:test@127.0.0.1:%u>;tag=%s\r\n"
      "To: %s\r\n"
      "Call-ID: %s\r\n"
      "CSeq: %u INVITE\r\n"
      "Contact: <sip:test@127.0.0.1:%u>\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: %zu\r\n\r\n%s",
      uac->contact, uac->sip_port, g_random_int (), uac->sip_port,
      uac->from_tag, uac->to_header, uac->call_id, uac->cseq, uac->sip_port,
      strlen (sdp), sdp);
  send_sip (uac, msg);
  g_free (msg);
  g_free (sdp);

  status = test_uac_wait_final (uac, 5000);
  if (status >= 200 && status < 300)
    test_uac_send_ack (uac);
  return status;
}

void
test_uac_send_bye (TestUac * uac)
{
  send_in_dialog (uac, "BYE", ++uac->cseq);
}

void
test_uac_reply (TestUac * uac, const gchar * request, guint code)
{
  GString *s = g_string_new (NULL);
  gchar **lines = g_strsplit (request, "\r\n", -1);

  g_string_append_printf (s, "SIP/2.0 %u %s\r\n", code,
      code == 200 ? "OK" : "Error");
  for (guint i = 1; lines[i] && lines[i][0]; i++) {
    if (g_ascii_strncasecmp (lines[i], "Via", 3) == 0
        || g_ascii_strncasecmp (lines[i], "From", 4) == 0
        || g_ascii_strncasecmp (lines[i], "To", 2) == 0
        || g_ascii_strncasecmp (lines[i], "Call-ID", 7) == 0
        || g_ascii_strncasecmp (lines[i], "CSeq", 4) == 0)
      g_string_append_printf (s, "%s\r\n", lines[i]);
  }
  g_string_append (s, "Content-Length: 0\r\n\r\n");
  send_sip (uac, s->str);
  g_string_free (s, TRUE);
  g_strfreev (lines);
}

guint
test_uac_wait_response (TestUac * uac, const gchar * method, gint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    gint left = (end - g_get_monotonic_time ()) / 1000;
    gchar *msg = test_uac_recv_sip (uac, MAX (left, 1));
    guint status;

    if (!msg)
      break;
    status = test_uac_status (msg);
    if (status >= 200 && cseq_is (msg, method)) {
      g_free (msg);
      return status;
    }
    if (!status && !test_uac_is_request (msg, "ACK"))
      test_uac_reply (uac, msg, 200);
    g_free (msg);
  }
  return 0;
}

void
test_uac_send_rtp (TestUac * uac, guint8 pt, gboolean marker, guint32 ts,
    const guint8 * payload, gsize len)
{
  guint8 pkt[1500];
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *to = g_inet_socket_address_new (lo, uac->remote_rtp_port);

  g_assert_cmpuint (len, <=, sizeof (pkt) - 12);
  pkt[0] = 0x80;
  pkt[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  pkt[2] = uac->rtp_seq >> 8;
  pkt[3] = uac->rtp_seq & 0xff;
  pkt[4] = ts >> 24;
  pkt[5] = (ts >> 16) & 0xff;
  pkt[6] = (ts >> 8) & 0xff;
  pkt[7] = ts & 0xff;
  pkt[8] = uac->rtp_ssrc >> 24;
  pkt[9] = (uac->rtp_ssrc >> 16) & 0xff;
  pkt[10] = (uac->rtp_ssrc >> 8) & 0xff;
  pkt[11] = uac->rtp_ssrc & 0xff;
  memcpy (pkt + 12, payload, len);
  uac->rtp_seq++;
  g_assert_cmpint (g_socket_send_to (uac->rtp, to, (gchar *) pkt, len + 12,
          NULL, NULL), ==, (gssize) len + 12);
  g_object_unref (to);
  g_object_unref (lo);
}

void
test_uac_send_pcmu (TestUac * uac, guint8 value)
{
  guint8 payload[160];

  memset (payload, value, sizeof (payload));
  test_uac_send_rtp (uac, 0, FALSE, uac->rtp_ts, payload, sizeof (payload));
  uac->rtp_ts += 160;
}

gssize
test_uac_recv_rtp (TestUac * uac, guint8 * buf, gsize size, gint timeout_ms,
    guint16 * from_port)
{
  GSocketAddress *from = NULL;
  gssize n;

  if (!g_socket_condition_timed_wait (uac->rtp, G_IO_IN,
          (gint64) timeout_ms * 1000, NULL, NULL))
    return -1;
  n = g_socket_receive_from (uac->rtp, &from, (gchar *) buf, size, NULL, NULL);
  if (from && from_port)
    *from_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from));
  g_clear_object (&from);
  return n;
}

void
test_uac_bind_rtcp (TestUac * uac)
{
  for (guint i = 0; i < 100; i++) {
    guint16 port, rtcp_port;
    GSocket *rtp = bind_udp (&port), *rtcp;

    if (port % 2 == 0 && (rtcp = try_bind_udp (port + 1, &rtcp_port))) {
      g_object_unref (uac->rtp);
      g_clear_object (&uac->rtcp);
      uac->rtp = rtp;
      uac->rtp_port = port;
      uac->rtcp = rtcp;
      return;
    }
    g_object_unref (rtp);
  }
  g_assert_not_reached ();
}

void
test_uac_send_rtcp (TestUac * uac, const guint8 * data, gsize len)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *to = g_inet_socket_address_new (lo,
      uac->remote_rtp_port + 1);

  g_assert_nonnull (uac->rtcp);
  g_assert_cmpint (g_socket_send_to (uac->rtcp, to, (const gchar *) data, len,
          NULL, NULL), ==, (gssize) len);
  g_object_unref (to);
  g_object_unref (lo);
}

gssize
test_uac_recv_rtcp (TestUac * uac, guint8 * buf, gsize size, gint timeout_ms)
{
  g_assert_nonnull (uac->rtcp);
  if (!g_socket_condition_timed_wait (uac->rtcp, G_IO_IN,
          (gint64) timeout_ms * 1000, NULL, NULL))
    return -1;
  return g_socket_receive (uac->rtcp, (gchar *) buf, size, NULL, NULL);
}
