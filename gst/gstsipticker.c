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

/* Each call has periodic work: sipsink looks whether its audio ran out (to
 * send keep-alive silence), sipsrc whether the caller went silent (media
 * timeout) or the call is too long. As clock entries of their own, hundreds
 * of calls wake GStreamer's clock thread thousands of times a second, each
 * re-arm a sorted insertion among all the others. Here one thread wakes
 * every GST_SIP_TICK_MS while anything is registered and runs whatever is
 * due: a call costs a check per tick, never a wake-up of its own. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsipticker.h"

struct _GstSipTickerEntry
{
  gint64 interval;              /* microseconds */
  gint64 next_due;              /* monotonic time */
  GstSipTickFunc func;
  GWeakRef object;              /* the ticker never keeps an element alive */
  gboolean removed;
  gboolean busy;                /* func is running */
  gboolean awaited;             /* remove() waits for func to return */
};

static GMutex ticker_lock;
static GCond ticker_cond;
static GThread *ticker_thread;
static GList *entries;          /* under ticker_lock; unlinked by the thread */
static guint n_live;            /* entries not removed */
static guint n_removed;         /* removed, not collected yet */

/* unlinks and frees the removed entries; called with the lock, which it
 * drops while freeing them */
static void
gst_sip_ticker_collect (void)
{
  GList *dead = NULL, *l, *next;

  if (n_removed == 0)
    return;
  for (l = entries; l; l = next) {
    GstSipTickerEntry *entry = l->data;

    next = l->next;
    /* not while remove() still waits on it: it reads busy once woken */
    if (entry->removed && !entry->busy && !entry->awaited) {
      entries = g_list_delete_link (entries, l);
      dead = g_list_prepend (dead, entry);
      n_removed--;
    }
  }
  if (!dead)
    return;
  g_mutex_unlock (&ticker_lock);
  for (l = dead; l; l = l->next) {
    GstSipTickerEntry *entry = l->data;

    g_weak_ref_clear (&entry->object);
    g_free (entry);
  }
  g_list_free (dead);
  g_mutex_lock (&ticker_lock);
}

static gpointer
gst_sip_ticker_run (gpointer data)
{
  const gint64 tick = GST_SIP_TICK_MS * G_TIME_SPAN_MILLISECOND;
  gint64 next_tick = g_get_monotonic_time ();

  g_mutex_lock (&ticker_lock);
  for (;;) {
    gint64 now;

    gst_sip_ticker_collect ();
    if (n_live == 0) {
      g_cond_wait (&ticker_cond, &ticker_lock);
      next_tick = g_get_monotonic_time ();
      continue;
    }
    now = g_get_monotonic_time ();
    if (now < next_tick) {
      /* woken early by add or remove: look again */
      g_cond_wait_until (&ticker_cond, &ticker_lock, next_tick);
      continue;
    }
    /* late (a suspended process, a long tick): go on from now, no burst */
    next_tick = MAX (next_tick + tick, now);

    /* add() prepends and only this thread unlinks: the list after the
     * current link stays valid while the lock is dropped */
    for (GList * l = entries; l; l = l->next) {
      GstSipTickerEntry *entry = l->data;
      GObject *object;

      if (entry->removed || now < entry->next_due)
        continue;
      entry->next_due += entry->interval;
      if (entry->next_due <= now)
        entry->next_due = now + entry->interval;
      entry->busy = TRUE;
      g_mutex_unlock (&ticker_lock);
      object = g_weak_ref_get (&entry->object);
      if (object) {
        entry->func (object);
        g_object_unref (object);
      }
      g_mutex_lock (&ticker_lock);
      entry->busy = FALSE;
      if (entry->removed)
        g_cond_broadcast (&ticker_cond);
    }
  }
  return NULL;
}

/**
 * gst_sip_ticker_add:
 * @interval_ms: how often @func runs (rounded up to the tick)
 * @object: passed to @func while it is alive (a weak reference is kept)
 * @func: what to run, in the ticker thread, first after @interval_ms
 *
 * Returns: (transfer full): the registration, for gst_sip_ticker_remove()
 */
GstSipTickerEntry *
gst_sip_ticker_add (guint interval_ms, GObject * object, GstSipTickFunc func)
{
  GstSipTickerEntry *entry = g_new0 (GstSipTickerEntry, 1);

  entry->interval = MAX (interval_ms, 1) * G_TIME_SPAN_MILLISECOND;
  entry->next_due = g_get_monotonic_time () + entry->interval;
  entry->func = func;
  g_weak_ref_init (&entry->object, object);

  g_mutex_lock (&ticker_lock);
  if (!ticker_thread)
    ticker_thread = g_thread_new ("sip-ticker", gst_sip_ticker_run, NULL);
  entries = g_list_prepend (entries, entry);
  n_live++;
  g_cond_broadcast (&ticker_cond);
  g_mutex_unlock (&ticker_lock);
  return entry;
}

/**
 * gst_sip_ticker_remove:
 * @entry: (transfer full) (nullable): a registration
 *
 * Once this returns, the entry's function does not run any more (called from
 * inside it: once it returns); the entry is freed later by the ticker
 * thread.
 */
void
gst_sip_ticker_remove (GstSipTickerEntry * entry)
{
  if (!entry)
    return;
  g_mutex_lock (&ticker_lock);
  entry->removed = TRUE;
  n_live--;
  n_removed++;
  if (g_thread_self () != ticker_thread) {
    entry->awaited = TRUE;
    while (entry->busy)
      g_cond_wait (&ticker_cond, &ticker_lock);
    entry->awaited = FALSE;
  }
  g_cond_broadcast (&ticker_cond);
  g_mutex_unlock (&ticker_lock);
}
