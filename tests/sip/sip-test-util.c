/* gst-sip: helpers for the sip/ unit tests
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-test-util.h"

#include <string.h>

TestPeer *
test_peer_new_on (const gchar * ip, guint port)
{
  TestPeer *peer = g_new0 (TestPeer, 1);
  GInetAddress *address = g_inet_address_new_from_string (ip);
  GSocketAddress *sa = g_inet_socket_address_new (address, port);
  GSocketAddress *local;
  GError *error = NULL;

  peer->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  if (!g_socket_bind (peer->socket, sa, FALSE, &error)) {
    g_clear_error (&error);
    g_object_unref (peer->socket);
    g_free (peer);
    peer = NULL;
  } else {
    local = g_socket_get_local_address (peer->socket, &error);
    g_assert_no_error (error);
    peer->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    g_object_unref (local);
  }
  g_object_unref (sa);
  g_object_unref (address);
  return peer;
}

TestPeer *
test_peer_new (void)
{
  TestPeer *peer = test_peer_new_on ("127.0.0.1", 0);
  g_assert_nonnull (peer);
  return peer;
}

void
test_peer_free (TestPeer * peer)
{
  g_socket_close (peer->socket, NULL);
  g_object_unref (peer->socket);
  g_free (peer);
}

void
test_peer_send_raw (TestPeer * peer, guint port, const gchar * data, gsize len)
{
  GInetAddress *address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (address, port);
  GError *error = NULL;

  g_socket_send_to (peer->socket, sa, data, len, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (sa);
  g_object_unref (address);
}

/* sends @text with its LF line ends turned into CRLF */
void
test_peer_send (TestPeer * peer, guint port, const gchar * text)
{
  GString *s = g_string_new (NULL);

  for (const gchar * p = text; *p; p++) {
    if (*p == '\n' && (p == text || p[-1] != '\r'))
      g_string_append_c (s, '\r');
    g_string_append_c (s, *p);
  }
  test_peer_send_raw (peer, port, s->str, s->len);
  g_string_free (s, TRUE);
}

gchar *
test_peer_recv (TestPeer * peer, guint timeout_ms)
{
  gchar *buffer = g_malloc (65536);
  GError *error = NULL;
  gssize len;

  if (!g_socket_condition_timed_wait (peer->socket, G_IO_IN,
          (gint64) timeout_ms * 1000, NULL, &error)) {
    g_clear_error (&error);
    g_free (buffer);
    return NULL;
  }
  len = g_socket_receive (peer->socket, buffer, 65535, NULL, &error);
  g_assert_no_error (error);
  buffer[len] = '\0';
  return buffer;
}

/* the next response with @status (0: any final), skipping others */
gchar *
test_peer_recv_response (TestPeer * peer, guint timeout_ms, guint status)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    gint64 left = (end - g_get_monotonic_time ()) / 1000;
    gchar *msg;
    guint code;

    if (left <= 0)
      return NULL;
    msg = test_peer_recv (peer, left);
    if (msg == NULL)
      return NULL;
    code = test_msg_status (msg);
    if ((status == 0 && code >= 200) || (status != 0 && code == status))
      return msg;
    g_free (msg);
  }
}

gchar *
test_peer_recv_request (TestPeer * peer, guint timeout_ms, const gchar * method)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gchar *prefix = g_strdup_printf ("%s ", method);

  for (;;) {
    gint64 left = (end - g_get_monotonic_time ()) / 1000;
    gchar *msg;

    if (left <= 0)
      break;
    msg = test_peer_recv (peer, left);
    if (msg == NULL)
      break;
    if (g_str_has_prefix (msg, prefix)) {
      g_free (prefix);
      return msg;
    }
    g_free (msg);
  }
  g_free (prefix);
  return NULL;
}

guint
test_peer_drain (TestPeer * peer, guint timeout_ms)
{
  guint n = 0;
  gchar *msg;

  while ((msg = test_peer_recv (peer, timeout_ms)) != NULL) {
    n++;
    g_free (msg);
  }
  return n;
}

guint
test_msg_status (const gchar * msg)
{
  if (msg == NULL || !g_str_has_prefix (msg, "SIP/2.0 "))
    return 0;
  return (guint) g_ascii_strtoull (msg + 8, NULL, 10);
}

static gboolean
header_name_matches (const gchar * line, gsize n, const gchar * name)
{
  static const gchar *const compact[][2] = {
    {"v", "via"}, {"f", "from"}, {"t", "to"}, {"i", "call-id"},
    {"m", "contact"}, {"l", "content-length"}, {"c", "content-type"},
    {"k", "supported"}, {"e", "content-encoding"}, {"s", "subject"},
  };
  gchar *got = g_ascii_strdown (line, n);
  gchar *want = g_ascii_strdown (name, -1);
  gboolean match;

  g_strstrip (got);
  for (guint i = 0; i < G_N_ELEMENTS (compact); i++) {
    if (strcmp (got, compact[i][0]) == 0) {
      g_free (got);
      got = g_strdup (compact[i][1]);
    }
    if (strcmp (want, compact[i][0]) == 0) {
      g_free (want);
      want = g_strdup (compact[i][1]);
    }
  }
  match = strcmp (got, want) == 0;
  g_free (got);
  g_free (want);
  return match;
}

static gboolean
next_header (const gchar ** p, const gchar ** name, gsize * name_len,
    const gchar ** value, gsize * value_len)
{
  const gchar *line = *p, *eol, *colon;

  eol = strstr (line, "\r\n");
  if (eol == NULL || eol == line)
    return FALSE;
  *p = eol + 2;
  colon = memchr (line, ':', eol - line);
  if (colon == NULL) {
    *name = line;
    *name_len = 0;
    *value = line;
    *value_len = 0;
    return TRUE;
  }
  *name = line;
  *name_len = colon - line;
  *value = colon + 1;
  while (**value == ' ' || **value == '\t')
    (*value)++;
  *value_len = eol - *value;
  return TRUE;
}

/* value of the first @name header (compact forms understood) */
gchar *
test_msg_header (const gchar * msg, const gchar * name)
{
  const gchar *p, *hname, *value;
  gsize hlen, vlen;

  if (msg == NULL || (p = strstr (msg, "\r\n")) == NULL)
    return NULL;
  p += 2;
  while (next_header (&p, &hname, &hlen, &value, &vlen))
    if (hlen && header_name_matches (hname, hlen, name))
      return g_strndup (value, vlen);
  return NULL;
}

guint
test_msg_count_header (const gchar * msg, const gchar * name)
{
  const gchar *p, *hname, *value;
  gsize hlen, vlen;
  guint n = 0;

  if (msg == NULL || (p = strstr (msg, "\r\n")) == NULL)
    return 0;
  p += 2;
  while (next_header (&p, &hname, &hlen, &value, &vlen))
    if (hlen && header_name_matches (hname, hlen, name))
      n++;
  return n;
}

/* ";param=value" of the first @name header; "" for a param without value */
gchar *
test_msg_header_param (const gchar * msg, const gchar * name,
    const gchar * param)
{
  gchar *value = test_msg_header (msg, name);
  gchar **parts;
  gchar *result = NULL;

  if (value == NULL)
    return NULL;
  parts = g_strsplit (value, ";", -1);
  for (guint i = 1; parts[i] && result == NULL; i++) {
    gchar *part = g_strstrip (parts[i]);
    gsize n = strlen (param);
    if (g_ascii_strncasecmp (part, param, n) == 0) {
      if (part[n] == '=')
        result = g_strdup (part + n + 1);
      else if (part[n] == '\0')
        result = g_strdup ("");
    }
  }
  g_strfreev (parts);
  g_free (value);
  return result;
}

const gchar *
test_msg_body (const gchar * msg)
{
  const gchar *end = msg ? strstr (msg, "\r\n\r\n") : NULL;

  return end ? end + 4 : NULL;
}

TestDialog *
test_dialog_new (TestPeer * peer, guint agent_port)
{
  TestDialog *d = g_new0 (TestDialog, 1);

  d->agent_port = agent_port;
  d->peer_port = peer->port;
  d->call_id = g_strdup_printf ("%08x-test@127.0.0.1", g_random_int ());
  d->from_tag = g_strdup_printf ("ft%08x", g_random_int ());
  d->cseq = 1;
  d->invite_branch = g_strdup_printf ("z9hG4bK%08x", g_random_int ());
  return d;
}

void
test_dialog_free (TestDialog * d)
{
  g_free (d->call_id);
  g_free (d->from_tag);
  g_free (d->to_tag);
  g_free (d->invite_branch);
  g_free (d);
}

/* A request of the caller; branch NULL: a new one; cseq 0: the dialog's */
gchar *
test_dialog_request (TestDialog * d, const gchar * method,
    const gchar * branch, guint cseq, const gchar * extra_headers,
    const gchar * body)
{
  gchar *own_branch = NULL, *to, *msg;

  if (branch == NULL)
    branch = own_branch = g_strdup_printf ("z9hG4bK%08x", g_random_int ());
  if (d->to_tag)
    to = g_strdup_printf ("<sip:bot@127.0.0.1:%u>;tag=%s", d->agent_port,
        d->to_tag);
  else
    to = g_strdup_printf ("<sip:bot@127.0.0.1:%u>", d->agent_port);
  msg = g_strdup_printf ("%s sip:bot@127.0.0.1:%u SIP/2.0\n"
      "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s;rport\n"
      "Max-Forwards: 70\n"
      "From: \"Alice\" <sip:alice@127.0.0.1:%u>;tag=%s\n"
      "To: %s\n"
      "Call-ID: %s\n"
      "CSeq: %u %s\n"
      "Contact: <sip:alice@127.0.0.1:%u>\n"
      "%s"
      "%s"
      "Content-Length: %u\n"
      "\n%s", method, d->agent_port, d->peer_port, branch, d->peer_port,
      d->from_tag, to, d->call_id, cseq ? cseq : d->cseq, method, d->peer_port,
      extra_headers ? extra_headers : "",
      body ? "Content-Type: application/sdp\n" : "",
      body ? (guint) strlen (body) : 0, body ? body : "");
  g_free (to);
  g_free (own_branch);
  return msg;
}

/* An SDP offer with CRLF line ends */
gchar *
test_sdp_offer (guint port, const gchar * payloads, const gchar * extra)
{
  return g_strdup_printf ("v=0\r\n"
      "o=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\n"
      "s=-\r\n"
      "c=IN IP4 127.0.0.1\r\n"
      "t=0 0\r\n"
      "m=audio %u RTP/AVP %s\r\n" "%s", port, payloads, extra ? extra : "");
}

void
test_set_short_timers (void)
{
  gchar *t1 = g_strdup_printf ("%u", TEST_T1_MS);
  gchar *t2 = g_strdup_printf ("%u", TEST_T1_MS * 8);
  gchar *t4 = g_strdup_printf ("%u", TEST_T1_MS * 10);

  g_setenv ("SIP_TIMER_T1_MS", t1, TRUE);
  g_setenv ("SIP_TIMER_T2_MS", t2, TRUE);
  g_setenv ("SIP_TIMER_T4_MS", t4, TRUE);
  g_free (t1);
  g_free (t2);
  g_free (t4);
}

/* "state:<call-id>:<SIP_CALL_STATE_...>" */
gchar *
test_state_event (SipCall * call, SipCallState state)
{
  gchar *name = g_enum_to_string (SIP_TYPE_CALL_STATE, state);
  gchar *event = g_strdup_printf ("state:%s:%s", sip_call_get_call_id (call),
      name);

  g_free (name);
  return event;
}

static void
on_state_changed (SipCall * call, SipCallState state, gpointer user_data)
{
  TestAgent *ta = user_data;

  g_async_queue_push (ta->events, test_state_event (call, state));
}

static void
on_media_changed (SipCall * call, gpointer user_data)
{
  TestAgent *ta = user_data;

  g_async_queue_push (ta->events, g_strdup_printf ("media:%s",
          sip_call_get_call_id (call)));
}

static gboolean
on_incoming_call (SipAgent * agent, SipCall * call, gpointer user_data)
{
  TestAgent *ta = user_data;

  g_atomic_int_inc (&ta->incoming_count);
  g_async_queue_push (ta->events, g_strdup_printf ("incoming:%s",
          sip_call_get_call_id (call)));
  if (ta->mode == TEST_ANSWER_NONE)
    return FALSE;
  g_signal_connect (call, "state-changed", G_CALLBACK (on_state_changed), ta);
  g_signal_connect (call, "media-changed", G_CALLBACK (on_media_changed), ta);
  if (ta->mode >= TEST_ANSWER_RING)
    sip_call_ring (call);
  if (ta->mode >= TEST_ANSWER_ANSWER)
    sip_call_answer (call);
  g_async_queue_push (ta->calls, g_object_ref (call));
  return TRUE;
}

TestAgent *
test_agent_new (TestAnswerMode mode, const gchar * first_property, ...)
{
  TestAgent *ta = g_new0 (TestAgent, 1);
  GError *error = NULL;
  va_list args;

  test_set_short_timers ();
  ta->mode = mode;
  ta->calls = g_async_queue_new_full (g_object_unref);
  ta->events = g_async_queue_new_full (g_free);
  ta->agent = sip_agent_new ();
  /* every call of a test comes from 127.0.0.1: no invite-rate-limit
   * unless the test sets one */
  g_object_set (ta->agent, "host", "127.0.0.1", "port", 0,
      "rtp-port-range", "20000-40000", "invite-rate-limit", 0, NULL);
  if (first_property) {
    va_start (args, first_property);
    g_object_set_valist (G_OBJECT (ta->agent), first_property, args);
    va_end (args);
  }
  g_signal_connect (ta->agent, "incoming-call",
      G_CALLBACK (on_incoming_call), ta);
  g_assert_true (sip_agent_start (ta->agent, &error));
  g_assert_no_error (error);
  ta->port = sip_agent_get_bound_port (ta->agent);
  g_assert_cmpuint (ta->port, >, 0);
  return ta;
}

void
test_agent_free (TestAgent * ta)
{
  sip_agent_stop (ta->agent);
  g_object_unref (ta->agent);
  g_async_queue_unref (ta->calls);
  g_async_queue_unref (ta->events);
  g_free (ta);
}

SipCall *
test_agent_pop_call (TestAgent * ta, guint timeout_ms)
{
  return g_async_queue_timeout_pop (ta->calls, (guint64) timeout_ms * 1000);
}

/* waits for @event ("state:<call-id>:SIP_CALL_STATE_ENDED", ...),
 * dropping the others */
gboolean
test_agent_wait_event (TestAgent * ta, const gchar * event, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    gchar *got;
    gboolean match;

    if (left <= 0)
      return FALSE;
    got = g_async_queue_timeout_pop (ta->events, left);
    if (got == NULL)
      return FALSE;
    match = strcmp (got, event) == 0;
    g_free (got);
    if (match)
      return TRUE;
  }
}

/* the active call count reaches @n (it drops just after a final response
 * went out) */
gboolean
test_agent_wait_active_calls (TestAgent * ta, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (sip_agent_get_active_calls (ta->agent) != n) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (1000);
  }
  return TRUE;
}
