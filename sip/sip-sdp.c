/* gst-sip: SDP offer/answer for one PCMU audio stream
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* RFC 3264 offer/answer with RFC 4566 SDP, parsed by libosip2's
 * sdp_message_parse().  We accept the first audio stream over RTP/AVP (or
 * RTP/AVPF) that offers PCMU/8000: static payload type 0, or a dynamic one
 * named PCMU/8000 by a=rtpmap.  telephone-event/8000 (RFC 4733) is
 * accepted with the offerer's payload type.  Every other m= line is
 * rejected with port 0 (RFC 3264 6), so the answer has as many m= lines as
 * the offer.  The answer's direction mirrors the offer's (6.1): sendonly
 * -> recvonly, recvonly -> sendonly, inactive -> inactive.
 *
 * Hold (RFC 3264 8.4): a=sendonly or a=inactive, or the RFC 2543 style
 * c=0.0.0.0. */

#include "sip-sdp.h"

#include <string.h>
#include <gio/gio.h>
#include <osipparser2/osip_port.h>
#include <osipparser2/sdp_message.h>

G_DEFINE_QUARK (sip-sdp-error-quark, sip_sdp_error);

static void
media_line_free (gpointer data)
{
  SipSdpMediaLine *line = data;

  g_free (line->media);
  g_free (line->proto);
  g_free (line->formats);
  g_free (line);
}

void
sip_sdp_remote_free (SipSdpRemote * remote)
{
  if (remote == NULL)
    return;
  g_free (remote->address);
  g_free (remote->proto);
  if (remote->lines)
    g_ptr_array_unref (remote->lines);
  g_free (remote);
}

gboolean
sip_sdp_remote_is_hold (const SipSdpRemote * remote)
{
  return remote->hold_address || remote->direction == SIP_SDP_SENDONLY
      || remote->direction == SIP_SDP_INACTIVE;
}

static gboolean
parse_port (const gchar * text, guint * port)
{
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, 65535,
          &value, NULL))
    return FALSE;
  *port = value;
  return TRUE;
}

static gboolean
parse_pt (const gchar * text, gint * pt)
{
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, 127, &value,
          NULL))
    return FALSE;
  *pt = value;
  return TRUE;
}

/* The direction attribute among a list of sdp_attribute_t, or -1 */
static gint
find_direction (osip_list_t * attributes)
{
  static const gchar *const names[] = {
    [SIP_SDP_SENDRECV] = "sendrecv",
    [SIP_SDP_SENDONLY] = "sendonly",
    [SIP_SDP_RECVONLY] = "recvonly",
    [SIP_SDP_INACTIVE] = "inactive",
  };
  int pos = 0;

  while (!osip_list_eol (attributes, pos)) {
    sdp_attribute_t *attr = osip_list_get (attributes, pos++);

    if (attr->a_att_field == NULL)
      continue;
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (g_ascii_strcasecmp (attr->a_att_field, names[i]) == 0)
        return i;
  }
  return -1;
}

/* The payload type a=rtpmap gives to "name/rate", or -1 */
static gint
find_rtpmap (sdp_media_t * media, const gchar * name_rate)
{
  int pos = 0;

  while (!osip_list_eol (&media->a_attributes, pos)) {
    sdp_attribute_t *attr = osip_list_get (&media->a_attributes, pos++);
    gchar **parts;
    gint pt = -1;

    if (attr->a_att_field == NULL || attr->a_att_value == NULL
        || g_ascii_strcasecmp (attr->a_att_field, "rtpmap") != 0)
      continue;
    /* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<params>] */
    parts = g_strsplit_set (attr->a_att_value, " \t", 2);
    if (parts[0] && parts[1] && parse_pt (parts[0], &pt)) {
      gchar *encoding = g_strstrip (g_strdup (parts[1]));
      gsize n = strlen (name_rate);

      if (!(g_ascii_strncasecmp (encoding, name_rate, n) == 0
              && (encoding[n] == '\0' || encoding[n] == '/')))
        pt = -1;
      g_free (encoding);
    } else {
      pt = -1;
    }
    g_strfreev (parts);
    if (pt >= 0)
      return pt;
  }
  return -1;
}

static gboolean
media_has_payload (sdp_media_t * media, gint pt)
{
  int pos = 0;

  while (!osip_list_eol (&media->m_payloads, pos)) {
    const gchar *payload = osip_list_get (&media->m_payloads, pos++);
    gint value;

    if (parse_pt (payload, &value) && value == pt)
      return TRUE;
  }
  return FALSE;
}

static gchar *
join_payloads (sdp_media_t * media)
{
  GString *formats = g_string_new (NULL);
  int pos = 0;

  while (!osip_list_eol (&media->m_payloads, pos)) {
    const gchar *payload = osip_list_get (&media->m_payloads, pos++);
    if (formats->len)
      g_string_append_c (formats, ' ');
    g_string_append (formats, payload);
  }
  if (formats->len == 0)
    g_string_append_c (formats, '0');
  return g_string_free (formats, FALSE);
}

/**
 * sip_sdp_remote_parse:
 * @body: an SDP offer (or answer)
 * @len: its length
 * @error: %SIP_SDP_ERROR_MALFORMED (answer 400) or
 *   %SIP_SDP_ERROR_NOT_ACCEPTABLE (answer 488)
 *
 * Returns: (transfer full) (nullable): the accepted audio stream
 */
/* Every line ended by CRLF, the last one too: libosip2 5.3's
 * sdp_message_parse() reads past the end of a text that ends in a bare
 * CR (found by tests/sip/test-fuzz.c) */
static gchar *
normalize_line_ends (const gchar * body, gsize len)
{
  GString *text = g_string_sized_new (len + 2);

  for (gsize i = 0; i < len; i++) {
    if (body[i] == '\r' || body[i] == '\n') {
      if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
        i++;
      g_string_append (text, "\r\n");
    } else {
      g_string_append_c (text, body[i]);
    }
  }
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append (text, "\r\n");
  return g_string_free (text, FALSE);
}

SipSdpRemote *
sip_sdp_remote_parse (const gchar * body, gsize len, GError ** error)
{
  sdp_message_t *sdp = NULL;
  SipSdpRemote *remote = NULL;
  gchar *text = NULL;
  gint session_direction;
  int pos = 0;
  gboolean found = FALSE;

  if (memchr (body, '\0', len) != NULL) {
    g_set_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED,
        "NUL byte in SDP");
    goto out;
  }
  text = normalize_line_ends (body, len);
  sdp_message_init (&sdp);
  if (sdp_message_parse (sdp, text) != OSIP_SUCCESS) {
    g_set_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED,
        "malformed SDP");
    goto out;
  }

  remote = g_new0 (SipSdpRemote, 1);
  remote->lines = g_ptr_array_new_with_free_func (media_line_free);
  remote->telephone_event_pt = -1;
  remote->pcmu_pt = -1;
  session_direction = find_direction (&sdp->a_attributes);

  while (!osip_list_eol (&sdp->m_medias, pos)) {
    sdp_media_t *media = osip_list_get (&sdp->m_medias, pos);
    SipSdpMediaLine *line = g_new0 (SipSdpMediaLine, 1);
    sdp_connection_t *conn;
    guint port;
    gint pcmu_pt = -1, direction;
    GInetAddress *address;

    line->media = g_strdup (media->m_media ? media->m_media : "audio");
    line->proto = g_strdup (media->m_proto ? media->m_proto : "RTP/AVP");
    line->formats = join_payloads (media);
    g_ptr_array_add (remote->lines, line);

    if (found || media->m_media == NULL
        || g_ascii_strcasecmp (media->m_media, "audio") != 0
        || media->m_proto == NULL
        || (g_ascii_strcasecmp (media->m_proto, "RTP/AVP") != 0
            && g_ascii_strcasecmp (media->m_proto, "RTP/AVPF") != 0)
        || !parse_port (media->m_port, &port) || port == 0) {
      pos++;
      continue;
    }
    if (media_has_payload (media, 0)) {
      pcmu_pt = 0;
    } else {
      pcmu_pt = find_rtpmap (media, "PCMU/8000");
      if (pcmu_pt >= 0 && !media_has_payload (media, pcmu_pt))
        pcmu_pt = -1;
    }
    if (pcmu_pt < 0) {
      pos++;
      continue;
    }

    /* c= at media level, else at session level (RFC 4566 5.7) */
    conn = osip_list_get (&media->c_connections, 0);
    if (conn == NULL)
      conn = sdp->c_connection;
    if (conn == NULL || conn->c_addr == NULL) {
      g_set_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_MALFORMED,
          "no c= line for the audio stream");
      sip_sdp_remote_free (remote);
      remote = NULL;
      goto out;
    }
    address = g_inet_address_new_from_string (conn->c_addr);
    if (address == NULL) {
      /* an FQDN: RTP needs an address */
      pos++;
      continue;
    }
    remote->hold_address = g_inet_address_get_is_any (address);
    remote->ipv6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;
    g_object_unref (address);

    remote->address = g_strdup (conn->c_addr);
    remote->port = port;
    remote->pcmu_pt = pcmu_pt;
    remote->proto = g_strdup (media->m_proto);
    remote->telephone_event_pt = find_rtpmap (media, "telephone-event/8000");
    if (remote->telephone_event_pt >= 0
        && !media_has_payload (media, remote->telephone_event_pt))
      remote->telephone_event_pt = -1;
    direction = find_direction (&media->a_attributes);
    if (direction < 0)
      direction = session_direction;
    remote->direction = direction < 0 ? SIP_SDP_SENDRECV : direction;
    remote->audio_index = pos;
    found = TRUE;
    pos++;
  }

  if (!found) {
    g_set_error (error, SIP_SDP_ERROR, SIP_SDP_ERROR_NOT_ACCEPTABLE,
        "no audio stream with PCMU/8000 over RTP/AVP");
    sip_sdp_remote_free (remote);
    remote = NULL;
  }

out:
  if (sdp)
    sdp_message_free (sdp);
  g_free (text);
  return remote;
}

SipSdpDirection
sip_sdp_direction_answer (SipSdpDirection offered)
{
  switch (offered) {
    case SIP_SDP_SENDONLY:
      return SIP_SDP_RECVONLY;
    case SIP_SDP_RECVONLY:
      return SIP_SDP_SENDONLY;
    case SIP_SDP_INACTIVE:
      return SIP_SDP_INACTIVE;
    default:
      return SIP_SDP_SENDRECV;
  }
}

const gchar *
sip_sdp_direction_to_string (SipSdpDirection direction)
{
  switch (direction) {
    case SIP_SDP_SENDONLY:
      return "sendonly";
    case SIP_SDP_RECVONLY:
      return "recvonly";
    case SIP_SDP_INACTIVE:
      return "inactive";
    default:
      return "sendrecv";
  }
}

void
sip_sdp_local_init (SipSdpLocal * local, const gchar * address, guint port)
{
  memset (local, 0, sizeof (*local));
  /* RFC 4566 5.2: an NTP timestamp is suggested; any unique number does */
  local->session_id = (guint64) (g_get_real_time () / G_USEC_PER_SEC)
      + 2208988800u;
  local->session_id = local->session_id * 1000 + g_random_int_range (0, 1000);
  local->version = local->session_id;
  local->address = g_strdup (address);
  local->port = port;
}

void
sip_sdp_local_clear (SipSdpLocal * local)
{
  g_clear_pointer (&local->address, g_free);
  g_clear_pointer (&local->last_body, g_free);
}

static const gchar *
addrtype (const gchar * address)
{
  return strchr (address, ':') ? "IP6" : "IP4";
}

/* Prepends o= to @body, bumping the version when @body changed since the
 * last SDP we sent (RFC 3264 8) */
static gchar *
finish (SipSdpLocal * local, GString * body)
{
  gchar *origin;
  gchar *text;

  if (local->last_body != NULL && strcmp (local->last_body, body->str) != 0)
    local->version++;
  g_free (local->last_body);
  local->last_body = g_strdup (body->str);

  origin = g_strdup_printf ("v=0\r\no=gst-sip %" G_GUINT64_FORMAT " %"
      G_GUINT64_FORMAT " IN %s %s\r\n", local->session_id, local->version,
      addrtype (local->address), local->address);
  text = g_strconcat (origin, body->str, NULL);
  g_free (origin);
  g_string_free (body, TRUE);
  return text;
}

static void
append_audio_attributes (GString * s, gint pcmu_pt, gint te_pt,
    SipSdpDirection direction)
{
  g_string_append_printf (s, "a=rtpmap:%d PCMU/8000\r\n", pcmu_pt);
  if (te_pt >= 0)
    g_string_append_printf (s, "a=rtpmap:%d telephone-event/8000\r\n"
        "a=fmtp:%d 0-15\r\n", te_pt, te_pt);
  g_string_append_printf (s, "a=ptime:20\r\na=%s\r\n",
      sip_sdp_direction_to_string (direction));
}

/**
 * sip_sdp_build_answer:
 * @local: our session
 * @offer: the offer
 *
 * Returns: (transfer full): the SDP answer
 */
gchar *
sip_sdp_build_answer (SipSdpLocal * local, const SipSdpRemote * offer)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "s=gst-sip\r\nc=IN %s %s\r\nt=0 0\r\n",
      addrtype (local->address), local->address);
  for (guint i = 0; i < offer->lines->len; i++) {
    SipSdpMediaLine *line = g_ptr_array_index (offer->lines, i);

    if (i != offer->audio_index) {
      g_string_append_printf (s, "m=%s 0 %s %s\r\n", line->media, line->proto,
          line->formats);
      continue;
    }
    g_string_append_printf (s, "m=audio %u %s %d", local->port, offer->proto,
        offer->pcmu_pt);
    if (offer->telephone_event_pt >= 0)
      g_string_append_printf (s, " %d", offer->telephone_event_pt);
    g_string_append (s, "\r\n");
    append_audio_attributes (s, offer->pcmu_pt, offer->telephone_event_pt,
        sip_sdp_direction_answer (offer->direction));
  }
  return finish (local, s);
}

/**
 * sip_sdp_build_offer:
 * @local: our session
 * @telephone_event_pt: payload type for telephone-event, -1 for none
 *
 * Our offer, for an INVITE that came without one (RFC 3261 13.2.1)
 *
 * Returns: (transfer full): the SDP offer
 */
gchar *
sip_sdp_build_offer (SipSdpLocal * local, gint telephone_event_pt)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "s=gst-sip\r\nc=IN %s %s\r\nt=0 0\r\n",
      addrtype (local->address), local->address);
  g_string_append_printf (s, "m=audio %u RTP/AVP 0", local->port);
  if (telephone_event_pt >= 0)
    g_string_append_printf (s, " %d", telephone_event_pt);
  g_string_append (s, "\r\n");
  append_audio_attributes (s, 0, telephone_event_pt, SIP_SDP_SENDRECV);
  return finish (local, s);
}
