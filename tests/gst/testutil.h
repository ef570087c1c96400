/* gst-sip tests: helpers shared by the element tests
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* With GST_SIP_TEST_SHARED_THREADS=1 (meson runs each element test once
 * without and once with it) every sipsrc in @element (a sipsrc or a bin)
 * receives on the shared threads; call it before READY. */
static inline void
test_apply_mode (GstElement * element)
{
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  if (!g_getenv ("GST_SIP_TEST_SHARED_THREADS"))
    return;
  if (!GST_IS_BIN (element)) {
    g_object_set (element, "shared-threads", TRUE, NULL);
    return;
  }
  it = gst_bin_iterate_all_by_element_factory_name (GST_BIN (element),
      "sipsrc");
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    g_object_set (g_value_get_object (&item), "shared-threads", TRUE, NULL);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* the RTPSession of @src's rtpbin, or of its rtpsession with shared-threads */
static inline GObject *
test_internal_session (GstElement * src)
{
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (src), "rtpbin");
  GstElement *session = gst_bin_get_by_name (GST_BIN (src), "rtpsession");
  GObject *rtp_session = NULL;

  if (rtpbin)
    g_signal_emit_by_name (rtpbin, "get-internal-session", 0, &rtp_session);
  else if (session)
    g_object_get (session, "internal-session", &rtp_session, NULL);
  gst_clear_object (&rtpbin);
  gst_clear_object (&session);
  return rtp_session;
}

/* whether the element tests run with shared-threads */
static inline gboolean
test_shared_threads (void)
{
  return g_getenv ("GST_SIP_TEST_SHARED_THREADS") != NULL;
}

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
