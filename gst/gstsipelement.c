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

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>
#include <gst/pbutils/pbutils.h>
#include <sip.h>

#include "gstsipelements.h"

/* The category "sip" carries the log of the SIP library (GLib log domain
 * "sip"): GST_DEBUG=sip:5 shows every SIP message sent and received,
 * GST_DEBUG=sip*:6 adds the elements' own categories. */
GST_DEBUG_CATEGORY (gst_sip_debug);

static GstDebugLevel
gst_sip_log_level_to_gst (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return GST_LEVEL_ERROR;
  if (level & G_LOG_LEVEL_CRITICAL)
    return GST_LEVEL_ERROR;
  if (level & G_LOG_LEVEL_WARNING)
    return GST_LEVEL_WARNING;
  if (level & G_LOG_LEVEL_MESSAGE)
    return GST_LEVEL_FIXME;
  if (level & G_LOG_LEVEL_INFO)
    return GST_LEVEL_INFO;
  return GST_LEVEL_DEBUG;
}

static void
gst_sip_log_handler (const gchar * log_domain, GLogLevelFlags log_level,
    const gchar * message, gpointer user_data)
{
  GstDebugLevel level = gst_sip_log_level_to_gst (log_level);

  if (level <= gst_debug_category_get_threshold (gst_sip_debug))
    gst_debug_log (gst_sip_debug, level, "sip", log_domain, 0, NULL, "%s",
        message);

  /* Criticals and errors are programming errors: keep GLib's behaviour of
   * printing them (and aborting on errors). */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    g_log_default_handler (log_domain, log_level, message, user_data);
}

void
sip_element_init (GstPlugin * plugin)
{
  static gsize res = FALSE;

  if (g_once_init_enter (&res)) {
    GST_DEBUG_CATEGORY_INIT (gst_sip_debug, "sip", 0,
        "SIP user-agent library (signalling, every SIP message at DEBUG)");
    g_log_set_handler ("sip", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
        G_LOG_FLAG_RECURSION, gst_sip_log_handler, NULL);
    gst_pb_utils_init ();
    g_type_ensure (SIP_TYPE_AGENT);
    g_type_ensure (SIP_TYPE_CALL);
    g_once_init_leave (&res, TRUE);
  }
}

/* Verifies that every element factory needed is installed. On a missing one
 * it posts the missing-plugin message and a CORE/MISSING_PLUGIN error. */
gboolean
gst_sip_check_factories (GstElement * element, const gchar * const *factories)
{
  for (guint i = 0; factories[i]; i++) {
    GstElementFactory *f = gst_element_factory_find (factories[i]);

    if (f) {
      gst_object_unref (f);
      continue;
    }
    gst_element_post_message (element,
        gst_missing_element_message_new (element, factories[i]));
    GST_ELEMENT_ERROR (element, CORE, MISSING_PLUGIN,
        ("Missing element '%s': check your GStreamer installation.",
            factories[i]), ("the element factory '%s' is not available",
            factories[i]));
    return FALSE;
  }
  return TRUE;
}

/* "ip:port", "[ip6]:port" */
gchar *
gst_sip_socket_address_to_string (GSocketAddress * addr)
{
  GInetAddress *ia;
  gchar *ip, *ret;
  guint16 port;

  if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
    return NULL;
  ia = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
  ip = g_inet_address_to_string (ia);
  if (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6)
    ret = g_strdup_printf ("[%s]:%u", ip, port);
  else
    ret = g_strdup_printf ("%s:%u", ip, port);
  g_free (ip);
  return ret;
}

/* Makes @addr (or nobody, when NULL) the only destination of a udpsink or
 * multiudpsink that sends from @socket. An IPv4 destination is given as an
 * IPv4-mapped IPv6 address when the socket is a dual-stack IPv6 one. */
void
gst_sip_udpsink_set_destination (GstElement * udpsink, GSocket * socket,
    GSocketAddress * addr)
{
  GInetSocketAddress *isa;
  GInetAddress *ia;
  gchar *ip, *host;

  g_signal_emit_by_name (udpsink, "clear");
  if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
    return;

  isa = G_INET_SOCKET_ADDRESS (addr);
  ia = g_inet_socket_address_get_address (isa);
  ip = g_inet_address_to_string (ia);
  if (socket && g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV6
      && g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV4)
    host = g_strdup_printf ("::ffff:%s", ip);
  else
    host = g_strdup (ip);
  GST_CAT_DEBUG_OBJECT (gst_sip_debug, udpsink, "destination %s port %u",
      host, g_inet_socket_address_get_port (isa));
  g_signal_emit_by_name (udpsink, "add", host,
      (gint) g_inet_socket_address_get_port (isa));
  g_free (host);
  g_free (ip);
}

/* Returns (transfer full) @addr with an IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for an IPv4 peer) turned into plain IPv4, or a
 * new ref of @addr. */
GSocketAddress *
gst_sip_address_normalize (GSocketAddress * addr)
{
  GInetAddress *ia;
  const guint8 *b;
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (!addr || !G_IS_INET_SOCKET_ADDRESS (addr))
    return addr ? g_object_ref (addr) : NULL;
  ia = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr));
  if (g_inet_address_get_family (ia) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (addr);
  b = g_inet_address_to_bytes (ia);
  if (memcmp (b, mapped, sizeof (mapped)) == 0) {
    GInetAddress *v4 = g_inet_address_new_from_bytes (b + 12,
        G_SOCKET_FAMILY_IPV4);
    GSocketAddress *ret = g_inet_socket_address_new (v4,
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr)));

    g_object_unref (v4);
    return ret;
  }
  return g_object_ref (addr);
}

/* Whether two socket addresses have the same IP (IPv4-mapped IPv6 equals
 * IPv4) and, with @with_port, the same port. NULL equals only NULL. */
gboolean
gst_sip_address_equal (GSocketAddress * a, GSocketAddress * b,
    gboolean with_port)
{
  GSocketAddress *na, *nb;
  gboolean ret;

  if (!a || !b)
    return a == b;
  if (!G_IS_INET_SOCKET_ADDRESS (a) || !G_IS_INET_SOCKET_ADDRESS (b))
    return FALSE;
  na = gst_sip_address_normalize (a);
  nb = gst_sip_address_normalize (b);
  ret = g_inet_address_equal (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (na)),
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (nb)));
  if (ret && with_port)
    ret = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (na)) ==
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (nb));
  g_object_unref (na);
  g_object_unref (nb);
  return ret;
}

/* Returns (transfer full) @addr as @socket can send to it: an IPv4 address
 * becomes IPv4-mapped IPv6 for a dual-stack IPv6 socket. */
GSocketAddress *
gst_sip_address_for_socket (GSocket * socket, GSocketAddress * addr)
{
  GInetSocketAddress *isa;
  GInetAddress *ia, *mapped;
  GSocketAddress *ret;
  guint8 bytes[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (!G_IS_INET_SOCKET_ADDRESS (addr)
      || g_socket_get_family (socket) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (addr);
  isa = G_INET_SOCKET_ADDRESS (addr);
  ia = g_inet_socket_address_get_address (isa);
  if (g_inet_address_get_family (ia) != G_SOCKET_FAMILY_IPV4)
    return g_object_ref (addr);
  memcpy (bytes + 12, g_inet_address_to_bytes (ia), 4);
  mapped = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
  ret = g_inet_socket_address_new (mapped,
      g_inet_socket_address_get_port (isa));
  g_object_unref (mapped);
  return ret;
}

/* A signal handler of an element, called through a weak reference:
 * g_signal_handler_disconnect() does not wait for a handler already running
 * in another thread (a SipCall's signals come from the agent thread), so
 * the element may be finalized under it. Each emission takes a strong
 * reference for the call, and none happens once the element is gone. */
typedef struct
{
  GClosure closure;
  GWeakRef element;
  GCallback handler;
} GstSipWeakClosure;

static void
gst_sip_weak_closure_marshal (GClosure * closure, GValue * return_value,
    guint n_param_values, const GValue * param_values,
    gpointer invocation_hint, gpointer marshal_data)
{
  GstSipWeakClosure *weak = (GstSipWeakClosure *) closure;
  GObject *element = g_weak_ref_get (&weak->element);
  GClosure *call;

  if (!element)
    return;
  /* the handler's last argument is the element, as with g_signal_connect */
  call = g_cclosure_new (weak->handler, element, NULL);
  g_closure_ref (call);
  g_closure_sink (call);
  g_closure_set_marshal (call, g_cclosure_marshal_generic);
  g_closure_invoke (call, return_value, n_param_values, param_values,
      invocation_hint);
  g_closure_unref (call);
  g_object_unref (element);
}

static void
gst_sip_weak_closure_finalize (gpointer data, GClosure * closure)
{
  g_weak_ref_clear (&((GstSipWeakClosure *) closure)->element);
}

/* g_signal_connect (instance, detailed_signal, handler, element), safe
 * against @element being finalized while @handler runs in another thread */
gulong
gst_sip_signal_connect_weak (gpointer instance, const gchar * detailed_signal,
    GCallback handler, GstElement * element)
{
  GClosure *closure = g_closure_new_simple (sizeof (GstSipWeakClosure), NULL);
  GstSipWeakClosure *weak = (GstSipWeakClosure *) closure;

  g_weak_ref_init (&weak->element, element);
  weak->handler = handler;
  g_closure_add_finalize_notifier (closure, NULL,
      gst_sip_weak_closure_finalize);
  g_closure_set_marshal (closure, gst_sip_weak_closure_marshal);
  return g_signal_connect_closure (instance, detailed_signal, closure, FALSE);
}
