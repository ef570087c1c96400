/* GStreamer SIP plugin: one timer thread for every call's periodic work
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

#include <glib-object.h>

G_BEGIN_DECLS

/* how often the ticker thread wakes while anything is registered */
#define GST_SIP_TICK_MS 20

typedef struct _GstSipTickerEntry GstSipTickerEntry;

/* called in the ticker thread with a strong reference to the object; must
 * not block */
typedef void (*GstSipTickFunc) (GObject * object);

GstSipTickerEntry *gst_sip_ticker_add (guint interval_ms, GObject * object,
    GstSipTickFunc func);
void gst_sip_ticker_remove (GstSipTickerEntry * entry);

G_END_DECLS
