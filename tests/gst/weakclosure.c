/* GStreamer SIP plugin: tests of gst_sip_signal_connect_weak()
 * (gst/gstsipelement.c), how sipsrc and sipsink take the signals of a call
 * that come from the SIP agent's thread
 * Copyright (C) 2026 The gst-sip authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/check/gstcheck.h>

#include "gstsipelements.h"

static GMutex lock;
static GCond cond;
static gboolean handler_entered, handler_may_return, handler_returned;
static gboolean element_finalized, finalized_before_return;
static guint handler_calls;

static void
element_gone (gpointer data, GObject * where)
{
  g_mutex_lock (&lock);
  element_finalized = TRUE;
  finalized_before_return = !handler_returned;
  g_mutex_unlock (&lock);
}

/* a handler as sipsrc's: the element is its last argument */
static void
on_notify (GObject * instance, GParamSpec * pspec, GstElement * element)
{
  fail_unless (GST_IS_ELEMENT (element));
  g_mutex_lock (&lock);
  handler_calls++;
  handler_entered = TRUE;
  g_cond_broadcast (&cond);
  while (!handler_may_return)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);
  /* the element is still alive here: its name can be read */
  fail_unless (GST_OBJECT_NAME (element) != NULL);
  g_mutex_lock (&lock);
  handler_returned = TRUE;
  g_mutex_unlock (&lock);
}

static gpointer
emit_in_thread (gpointer instance)
{
  g_object_notify (instance, "name");
  return NULL;
}

/* The element disconnects and is unreffed while its handler runs in another
 * thread (g_signal_handler_disconnect does not wait for it): it is
 * finalized only once the handler returned, and no handler runs after. */
GST_START_TEST (test_finalized_while_handler_runs)
{
  GstElement *element = gst_element_factory_make ("identity", "the-element");
  GObject *instance = G_OBJECT (gst_element_factory_make ("identity", NULL));
  GThread *thread;
  gulong id;

  fail_unless (element != NULL && instance != NULL);
  g_object_weak_ref (G_OBJECT (element), element_gone, NULL);
  id = gst_sip_signal_connect_weak (instance, "notify::name",
      G_CALLBACK (on_notify), element);
  thread = g_thread_new ("emitter", emit_in_thread, instance);

  g_mutex_lock (&lock);
  while (!handler_entered)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);

  g_signal_handler_disconnect (instance, id);
  gst_object_unref (element);
  g_mutex_lock (&lock);
  fail_if (element_finalized, "finalized while its handler ran");
  handler_may_return = TRUE;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
  g_thread_join (thread);

  fail_unless (element_finalized);
  fail_if (finalized_before_return);
  g_object_notify (instance, "name");
  fail_unless_equals_int (handler_calls, 1);
  g_object_unref (instance);
}

GST_END_TEST;

/* connected, and the element finalized: the signal no longer calls it */
GST_START_TEST (test_no_call_once_finalized)
{
  GstElement *element = gst_element_factory_make ("identity", NULL);
  GObject *instance = G_OBJECT (gst_element_factory_make ("identity", NULL));

  handler_calls = 0;
  handler_may_return = TRUE;
  gst_sip_signal_connect_weak (instance, "notify::name",
      G_CALLBACK (on_notify), element);
  g_object_notify (instance, "name");
  fail_unless_equals_int (handler_calls, 1);
  gst_object_unref (element);
  g_object_notify (instance, "name");
  fail_unless_equals_int (handler_calls, 1);
  g_object_unref (instance);
}

GST_END_TEST;

static Suite *
weakclosure_suite (void)
{
  Suite *s = suite_create ("sipweakclosure");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_finalized_while_handler_runs);
  tcase_add_test (tc, test_no_call_once_finalized);
  return s;
}

GST_CHECK_MAIN (weakclosure);
