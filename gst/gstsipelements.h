/* GStreamer SIP plugin
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
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

void sip_element_init (GstPlugin * plugin);

GST_ELEMENT_REGISTER_DECLARE (sipsrc);
GST_ELEMENT_REGISTER_DECLARE (sipsink);

GST_DEBUG_CATEGORY_EXTERN (gst_sip_debug);

/* helpers shared by sipsrc and sipsink (gstsipelement.c) */
gboolean gst_sip_check_factories (GstElement * element,
    const gchar * const *factories);
gchar *gst_sip_socket_address_to_string (GSocketAddress * addr);
void gst_sip_udpsink_set_destination (GstElement * udpsink, GSocket * socket,
    GSocketAddress * addr);
GSocketAddress *gst_sip_address_normalize (GSocketAddress * addr);
gboolean gst_sip_address_equal (GSocketAddress * a, GSocketAddress * b,
    gboolean with_port);
GSocketAddress *gst_sip_address_for_socket (GSocket * socket,
    GSocketAddress * addr);
gulong gst_sip_signal_connect_weak (gpointer instance,
    const gchar * detailed_signal, GCallback handler, GstElement * element);

G_END_DECLS
