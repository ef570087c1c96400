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
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <sip.h>

G_BEGIN_DECLS

#define GST_TYPE_SIP_CALL_MEDIA (gst_sip_call_media_get_type ())
G_DECLARE_FINAL_TYPE (GstSipCallMedia, gst_sip_call_media, GST,
    SIP_CALL_MEDIA, GObject)

GstSipCallMedia *gst_sip_call_media_get (SipCall * call);

GSocketAddress *gst_sip_call_media_get_rtp_destination (GstSipCallMedia *
    media, SipCall * call);
void gst_sip_call_media_set_latched (GstSipCallMedia * media,
    GSocketAddress * sdp_rtp, GSocketAddress * rtp);

guint32 gst_sip_call_media_get_ssrc (GstSipCallMedia * media);

void gst_sip_call_media_add_sent (GstSipCallMedia * media, guint packets);
void gst_sip_call_media_add_rejected (GstSipCallMedia * media, guint packets);

void gst_sip_call_media_set_session (GstSipCallMedia * media,
    GObject * rtp_session);
GstStructure *gst_sip_call_media_get_stats (GstSipCallMedia * media);

void gst_sip_call_media_set_mirror (GstSipCallMedia * media,
    GstElement * owner, GstPad * pad);
void gst_sip_call_media_mirror (GstSipCallMedia * media, GstBuffer * buffer);

G_END_DECLS
