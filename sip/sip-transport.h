/* gst-sip: the UDP transport of a SipAgent (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SipTransport SipTransport;

SipTransport *sip_transport_new (GSocket * socket);
void sip_transport_free (SipTransport * transport);
GSocket *sip_transport_get_socket (SipTransport * transport);

gboolean sip_transport_send (SipTransport * transport, GSocketAddress * dest,
    const gchar * data, gsize len);

GSocketAddress *sip_transport_make_address (SipTransport * transport,
    GInetAddress * address, guint port);

GInetAddress *sip_inet_address_unmap (GInetAddress * address);
gchar *sip_socket_address_get_ip (GSocketAddress * address);
guint sip_socket_address_get_port (GSocketAddress * address);
gchar *sip_socket_address_to_string (GSocketAddress * address);
gboolean sip_socket_address_equal (GSocketAddress * a, GSocketAddress * b);
gchar *sip_format_host (const gchar * ip);

G_END_DECLS
