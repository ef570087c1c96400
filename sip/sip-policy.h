/* gst-sip: who may call: trusted source networks (private)
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GPtrArray *sip_policy_parse_sources (const gchar * list, GError ** error);
gboolean sip_policy_source_allowed (GPtrArray * sources,
    GInetAddress * address);

G_END_DECLS
