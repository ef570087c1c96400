/* GStreamer SIP plugin: tests of the shared ticker (gst/gstsipticker.c)
 * Copyright (C) 2026 The gst-sip authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/check/gstcheck.h>

#include "gstsipticker.h"

/* what the tick function saw, under its own lock */
static GMutex probe_lock;
static GCond probe_cond;
static gboolean probe_running;
static guint probe_calls;

static void
slow_tick (GObject * object)
{
  g_mutex_lock (&probe_lock);
  probe_running = TRUE;
  probe_calls++;
  g_cond_broadcast (&probe_cond);
  g_mutex_unlock (&probe_lock);
  /* the test's remove() comes while this runs */
  g_usleep (2 * G_TIME_SPAN_MILLISECOND);
}

static guint
calls (void)
{
  guint n;

  g_mutex_lock (&probe_lock);
  n = probe_calls;
  g_mutex_unlock (&probe_lock);
  return n;
}

/* remove() called while the entry's function runs waits for it to return,
 * and the ticker thread frees the entry only after that wait is over (it
 * was freed under the waiting remove(): a use-after-free ASan caught in the
 * element tests); the function never runs again */
GST_START_TEST (test_remove_while_running)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  for (guint i = 0; i < 60; i++) {
    GstSipTickerEntry *entry;
    guint after;

    g_mutex_lock (&probe_lock);
    probe_running = FALSE;
    g_mutex_unlock (&probe_lock);

    entry = gst_sip_ticker_add (1, object, slow_tick);
    g_mutex_lock (&probe_lock);
    while (!probe_running)
      g_cond_wait (&probe_cond, &probe_lock);
    g_mutex_unlock (&probe_lock);

    gst_sip_ticker_remove (entry);
    after = calls ();
    if (i % 20 == 0) {
      /* two more ticks: nothing runs for a removed entry */
      g_usleep (2 * GST_SIP_TICK_MS * G_TIME_SPAN_MILLISECOND + 5000);
      fail_unless_equals_int (calls (), after);
    }
  }
  g_object_unref (object);
}

GST_END_TEST;

/* the ticker keeps only a weak reference: an object finalized while
 * registered is skipped, not touched */
GST_START_TEST (test_object_gone)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GstSipTickerEntry *entry;
  guint before;

  entry = gst_sip_ticker_add (1, object, slow_tick);
  g_object_unref (object);
  before = calls ();
  g_usleep (3 * GST_SIP_TICK_MS * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (calls (), before);
  gst_sip_ticker_remove (entry);
}

GST_END_TEST;

static Suite *
ticker_suite (void)
{
  Suite *s = suite_create ("sipticker");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_remove_while_running);
  tcase_add_test (tc, test_object_gone);
  return s;
}

GST_CHECK_MAIN (ticker);
