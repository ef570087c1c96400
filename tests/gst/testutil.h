/* gst-sip tests: helpers shared by the element tests
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* the SIP library's warnings (e.g. about a malformed or refused message) are
 * not test failures; criticals still are */
static inline gboolean
test_fatal_log_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  if (domain && g_str_equal (domain, "sip")
      && !(level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)))
    return FALSE;
  return TRUE;
}

/* Pops messages until an element message named @name (returned) or an
 * error (the test fails), or NULL after @timeout_ms. */
static inline GstMessage *
test_wait_element_message (GstBus * bus, const gchar * name, gint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < end) {
    GstClockTime left = (end - g_get_monotonic_time ()) * GST_USECOND;
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, left,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);

    if (!msg)
      return NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      fail ("error while waiting for %s: %s (%s)", name, err->message,
          GST_STR_NULL (dbg));
    }
    if (gst_message_has_name (msg, name))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

/* Waits for EOS (TRUE) or an error (the test fails). */
static inline gboolean
test_wait_eos (GstBus * bus, gint timeout_ms)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      (GstClockTime) timeout_ms * GST_MSECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean eos;

  if (!msg)
    return FALSE;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fail ("error while waiting for EOS: %s (%s)", err->message,
        GST_STR_NULL (dbg));
  }
  eos = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  gst_message_unref (msg);
  return eos;
}

static inline guint
test_bound_port (GstElement * sipsrc)
{
  guint port = 0;

  g_object_get (sipsrc, "bound-port", &port, NULL);
  return port;
}

G_END_DECLS
