/* GStreamer SIP plugin: RTP receive threads shared by every call
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

typedef struct _GstSipReceiverEntry GstSipReceiverEntry;

gboolean gst_sip_receiver_is_supported (void);
gboolean gst_sip_receiver_in_receive_thread (void);
GstSipReceiverEntry *gst_sip_receiver_add (GSocket * socket, GstPad * pad,
    GstElement * owner, GstSipReceiverEntry * sibling);
void gst_sip_receiver_remove (GstSipReceiverEntry * entry);

G_END_DECLS
