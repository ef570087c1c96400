/* gst-sip: the UDP transport of a SipAgent
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* RFC 3261 18: the transport layer.  One UDP socket, bound by the agent;
 * every message sent is logged here with g_debug() (log domain "sip"), as
 * the agent logs every datagram received.
 *
 * On a dual-stack socket (host "::") IPv4 peers appear as IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d).  The protocol layer works with plain IPv4
 * text (received=, CIDR checks, SDP), so addresses are unmapped on the way
 * in and mapped again on the way out. */

#include "sip-transport.h"

#include <string.h>

struct _SipTransport
{
  GSocket *socket;
  GSocketFamily family;
};

SipTransport *
sip_transport_new (GSocket * socket)
{
  SipTransport *transport = g_new0 (SipTransport, 1);

  transport->socket = g_object_ref (socket);
  transport->family = g_socket_get_family (socket);
  return transport;
}

void
sip_transport_free (SipTransport * transport)
{
  if (transport == NULL)
    return;
  g_object_unref (transport->socket);
  g_free (transport);
}

GSocket *
sip_transport_get_socket (SipTransport * transport)
{
  return transport->socket;
}

/**
 * sip_transport_send:
 * @transport: the transport
 * @dest: where to
 * @data: a SIP message
 * @len: its length
 *
 * Sends one datagram.  UDP gives no delivery guarantee: a failure is
 * logged and otherwise handled by the retransmission timers.
 *
 * Returns: %TRUE if the datagram was handed to the kernel
 */
gboolean
sip_transport_send (SipTransport * transport, GSocketAddress * dest,
    const gchar * data, gsize len)
{
  GError *error = NULL;
  gchar *to = sip_socket_address_to_string (dest);
  gssize sent;

  g_debug ("sending %" G_GSIZE_FORMAT " bytes to %s:\n%.*s", len, to,
      (int) len, data);
  sent = g_socket_send_to (transport->socket, dest, data, len, NULL, &error);
  if (sent < 0) {
    g_debug ("sending to %s failed: %s", to, error->message);
    g_clear_error (&error);
  }
  g_free (to);
  return sent >= 0;
}

static gboolean
is_v4_mapped (const guint8 * bytes)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  return memcmp (bytes, prefix, 12) == 0;
}

/**
 * sip_inet_address_unmap:
 * @address: an address
 *
 * Returns: (transfer full): @address, or the IPv4 address an IPv4-mapped
 * IPv6 address stands for
 */
GInetAddress *
sip_inet_address_unmap (GInetAddress * address)
{
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *bytes = g_inet_address_to_bytes (address);
    if (is_v4_mapped (bytes))
      return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
  }
  return g_object_ref (address);
}

/**
 * sip_transport_make_address:
 * @transport: the transport
 * @address: a destination IP
 * @port: a destination port
 *
 * Returns: (transfer full) (nullable): a socket address the transport's
 * socket can send to, or %NULL (an IPv6 peer on an IPv4 socket)
 */
GSocketAddress *
sip_transport_make_address (SipTransport * transport, GInetAddress * address,
    guint port)
{
  GInetAddress *unmapped = sip_inet_address_unmap (address);
  GSocketAddress *result = NULL;

  if (g_inet_address_get_family (unmapped) == transport->family) {
    result = g_inet_socket_address_new (unmapped, port);
  } else if (transport->family == G_SOCKET_FAMILY_IPV6) {
    guint8 bytes[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    GInetAddress *mapped;

    memcpy (bytes + 12, g_inet_address_to_bytes (unmapped), 4);
    mapped = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
    result = g_inet_socket_address_new (mapped, port);
    g_object_unref (mapped);
  }
  g_object_unref (unmapped);
  return result;
}

/**
 * sip_socket_address_get_ip:
 * @address: an inet socket address
 *
 * Returns: (transfer full): its IP as text, IPv4-mapped addresses unmapped
 */
gchar *
sip_socket_address_get_ip (GSocketAddress * address)
{
  GInetAddress *ip, *unmapped;
  gchar *text;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("?");
  ip = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  unmapped = sip_inet_address_unmap (ip);
  text = g_inet_address_to_string (unmapped);
  g_object_unref (unmapped);
  return text;
}

guint
sip_socket_address_get_port (GSocketAddress * address)
{
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

/**
 * sip_format_host:
 * @ip: an IP address or a host name
 *
 * Returns: (transfer full): @ip as the host part of a URI or a sent-by:
 * IPv6 references in brackets (RFC 3261 25.1)
 */
gchar *
sip_format_host (const gchar * ip)
{
  if (strchr (ip, ':') != NULL && ip[0] != '[')
    return g_strdup_printf ("[%s]", ip);
  return g_strdup (ip);
}

/**
 * sip_socket_address_to_string:
 * @address: an inet socket address
 *
 * Returns: (transfer full): "ip:port" ("[ip]:port" for IPv6)
 */
gchar *
sip_socket_address_to_string (GSocketAddress * address)
{
  gchar *ip = sip_socket_address_get_ip (address);
  gchar *host = sip_format_host (ip);
  gchar *text = g_strdup_printf ("%s:%u", host,
      sip_socket_address_get_port (address));

  g_free (host);
  g_free (ip);
  return text;
}

gboolean
sip_socket_address_equal (GSocketAddress * a, GSocketAddress * b)
{
  if (!G_IS_INET_SOCKET_ADDRESS (a) || !G_IS_INET_SOCKET_ADDRESS (b))
    return a == b;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a)) ==
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (b))
      && g_inet_address_equal (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (a)),
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (b)));
}
