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

/* With one udpsrc per socket and an rtpbin jitter buffer per call, every
 * 20 ms packet wakes two threads of its call, and hundreds of calls spend
 * more CPU in futex wake-ups and task switches than in the media itself.
 * Here a few threads (one per core) wait for every call's sockets with one
 * epoll each, read what is ready in batches (recvmmsg) and push each
 * datagram, with its sender's address, into the pad the call registered,
 * in that same thread: a call costs no thread, and a packet no hand-over.
 *
 * Whatever is downstream of that pad runs in the shared thread, so it must
 * not block: sipsrc documents that a queue goes after it when something
 * downstream can wait (a clock-synchronized sink, a slow encoder).
 *
 * Linux only (epoll, recvmmsg); gst_sip_receiver_is_supported() says. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsipreceiver.h"

#include <gst/net/gstnetaddressmeta.h>

#ifdef __linux__
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#endif

GST_DEBUG_CATEGORY_STATIC (gst_sip_receiver_debug);
#define GST_CAT_DEFAULT gst_sip_receiver_debug

#ifdef __linux__

/* datagrams read per socket per turn: a flood on one call's socket waits
 * its turn behind the other calls' sockets (level-triggered epoll) */
#define BATCH 16
/* larger datagrams (nothing a G.711 call sends) are dropped */
#define MAX_DATAGRAM 2048
#define MAX_EVENTS 64
#define MAX_WORKERS 8
/* a push that holds a shared thread this long (microseconds) is reported:
 * every call served by that thread waited meanwhile */
#define STALL_WARNING (50 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  GThread *thread;
  int epfd;
  GMutex lock;                  /* entries' removed/busy, graveyard */
  GCond cond;
  guint n_entries;              /* under the global lock; not siblings */
  GSList *graveyard;            /* removed entries, freed after a batch */
  guint8 (*data)[MAX_DATAGRAM]; /* BATCH receive buffers */
} Worker;

struct _GstSipReceiverEntry
{
  Worker *worker;
  gboolean sibling;             /* added with another entry's thread */
  int fd;
  GSocket *socket;
  GstPad *pad;
  GstElement *owner;            /* posts the stall warning; outlives us */
  gboolean stall_reported;
  gboolean removed;
  gboolean busy;                /* the worker is pushing from it */
  /* the last sender, reused while packets keep coming from it */
  struct sockaddr_storage last_native;
  socklen_t last_len;
  GSocketAddress *last_addr;
};

G_LOCK_DEFINE_STATIC (workers);
static Worker *workers;
static guint n_workers;
/* set in the receive threads: asked for every packet, so no lock */
static GPrivate in_worker;

/* the sender of a datagram, as a GSocketAddress shared by its packets */
static GSocketAddress *
gst_sip_receiver_sender (GstSipReceiverEntry * entry,
    const struct sockaddr_storage *native, socklen_t len)
{
  if (entry->last_addr && len == entry->last_len
      && memcmp (native, &entry->last_native, len) == 0)
    return entry->last_addr;
  g_clear_object (&entry->last_addr);
  entry->last_addr = g_socket_address_new_from_native ((gpointer) native, len);
  if (entry->last_addr) {
    memcpy (&entry->last_native, native, len);
    entry->last_len = len;
  }
  return entry->last_addr;
}

/* reads what the socket has (a batch at most) and pushes it; worker thread */
static void
gst_sip_receiver_drain (Worker * w, GstSipReceiverEntry * entry)
{
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage from[BATCH];
  gint64 start, held;
  int n;

  memset (msgs, 0, sizeof (msgs));
  for (guint i = 0; i < BATCH; i++) {
    iov[i].iov_base = w->data[i];
    iov[i].iov_len = MAX_DATAGRAM;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof (from[i]);
  }
  n = recvmmsg (entry->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      GST_DEBUG ("recvmmsg on fd %d: %s", entry->fd, g_strerror (errno));
    return;
  }

  for (int i = 0; i < n && !entry->removed; i++) {
    GSocketAddress *sender;
    GstBuffer *buf;

    if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      GST_LOG ("dropping a datagram larger than %d bytes", MAX_DATAGRAM);
      continue;
    }
    buf = gst_buffer_new_memdup (w->data[i], msgs[i].msg_len);
    sender = gst_sip_receiver_sender (entry, &from[i],
        msgs[i].msg_hdr.msg_namelen);
    if (sender)
      gst_buffer_add_net_address_meta (buf, sender);
    /* not-linked, flushing (the call's pipeline is not playing): the
     * datagram is dropped, as a udpsrc that is not running would */
    start = g_get_monotonic_time ();
    gst_pad_push (entry->pad, buf);
    held = g_get_monotonic_time () - start;
    if (G_UNLIKELY (held >= STALL_WARNING) && !entry->stall_reported) {
      entry->stall_reported = TRUE;
      GST_ELEMENT_WARNING (entry->owner, CORE, THREAD,
          ("Downstream of %s held a receive thread shared by all calls "
              "for %" G_GINT64_FORMAT " ms: put a queue after it.",
              GST_ELEMENT_NAME (entry->owner), held / 1000),
          ("with shared-threads, elements after sipsrc run in the thread "
              "that receives every call's RTP; a clock-synchronized sink or "
              "a slow element there delays them all"));
    }
  }
}

/* drops the entry's references, called with the worker's lock */
static void
gst_sip_receiver_release (GstSipReceiverEntry * entry)
{
  g_clear_object (&entry->last_addr);
  gst_clear_object (&entry->pad);
  g_clear_object (&entry->socket);
}

static gpointer
gst_sip_receiver_run (gpointer data)
{
  Worker *w = data;
  struct epoll_event events[MAX_EVENTS];

  g_private_set (&in_worker, w);
  for (;;) {
    int n = epoll_wait (w->epfd, events, MAX_EVENTS, -1);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_critical ("gst-sip: epoll_wait failed: %s", g_strerror (errno));
      return NULL;
    }
    for (int i = 0; i < n; i++) {
      GstSipReceiverEntry *entry = events[i].data.ptr;

      g_mutex_lock (&w->lock);
      if (entry->removed) {
        g_mutex_unlock (&w->lock);
        continue;
      }
      entry->busy = TRUE;
      g_mutex_unlock (&w->lock);

      gst_sip_receiver_drain (w, entry);

      g_mutex_lock (&w->lock);
      entry->busy = FALSE;
      if (entry->removed) {
        /* removed from inside the push: released here */
        gst_sip_receiver_release (entry);
        g_cond_broadcast (&w->cond);
      }
      g_mutex_unlock (&w->lock);
    }
    /* an entry removed before this point was deleted from the epoll set
     * before the next wait: no later event can name it */
    g_mutex_lock (&w->lock);
    g_slist_free_full (w->graveyard, g_free);
    w->graveyard = NULL;
    g_mutex_unlock (&w->lock);
  }
  return NULL;
}

/* called with the global lock */
static gboolean
gst_sip_receiver_start_workers (void)
{
  guint n = CLAMP (g_get_num_processors (), 1, MAX_WORKERS);

  workers = g_new0 (Worker, n);
  for (guint i = 0; i < n; i++) {
    Worker *w = &workers[i];
    gchar *name;

    w->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (w->epfd < 0) {
      GST_ERROR ("epoll_create1: %s", g_strerror (errno));
      break;
    }
    g_mutex_init (&w->lock);
    g_cond_init (&w->cond);
    w->data = g_malloc (BATCH * MAX_DATAGRAM);
    name = g_strdup_printf ("sip-rtp-recv%u", i);
    w->thread = g_thread_new (name, gst_sip_receiver_run, w);
    g_free (name);
    n_workers++;
  }
  GST_INFO ("%u shared RTP receive threads", n_workers);
  return n_workers > 0;
}

gboolean
gst_sip_receiver_is_supported (void)
{
  return TRUE;
}

/**
 * gst_sip_receiver_in_receive_thread:
 *
 * Returns: whether the calling thread is one of the shared receive threads,
 *   where nothing may wait (it serves every call)
 */
gboolean
gst_sip_receiver_in_receive_thread (void)
{
  return g_private_get (&in_worker) != NULL;
}

/**
 * gst_sip_receiver_add:
 * @socket: a datagram socket
 * @pad: an active source pad (of no element, or of one that never pushes
 *   itself) whose sticky events are already set
 * @owner: the element receiving (a stall downstream is posted as its
 *   warning); it must outlive the registration
 * @sibling: (nullable): an entry whose thread serves @socket too (a call's
 *   RTCP beside its RTP: one thread per call, and the call is not counted
 *   twice when the calls are spread over the threads)
 *
 * Every datagram @socket receives from now on is pushed into @pad in one of
 * the shared receive threads, with a #GstNetAddressMeta of its sender.
 *
 * Returns: (transfer full) (nullable): the registration, for
 *   gst_sip_receiver_remove(), or %NULL (with a warning in the log)
 */
GstSipReceiverEntry *
gst_sip_receiver_add (GSocket * socket, GstPad * pad, GstElement * owner,
    GstSipReceiverEntry * sibling)
{
  GstSipReceiverEntry *entry;
  struct epoll_event ev;
  Worker *w = NULL;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (GST_IS_PAD (pad), NULL);

  G_LOCK (workers);
  if (!gst_sip_receiver_debug)
    GST_DEBUG_CATEGORY_INIT (gst_sip_receiver_debug, "sipreceiver", 0,
        "RTP receive threads shared by every SIP call");
  if (!workers && !gst_sip_receiver_start_workers ()) {
    G_UNLOCK (workers);
    return NULL;
  }
  if (sibling) {
    w = sibling->worker;
  } else {
    /* the least busy thread */
    for (guint i = 0; i < n_workers; i++)
      if (!w || workers[i].n_entries < w->n_entries)
        w = &workers[i];
    w->n_entries++;
  }
  G_UNLOCK (workers);

  entry = g_new0 (GstSipReceiverEntry, 1);
  entry->worker = w;
  entry->sibling = sibling != NULL;
  entry->socket = g_object_ref (socket);
  entry->fd = g_socket_get_fd (socket);
  entry->pad = gst_object_ref (pad);
  entry->owner = owner;

  memset (&ev, 0, sizeof (ev));
  ev.events = EPOLLIN;
  ev.data.ptr = entry;
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, entry->fd, &ev) < 0) {
    GST_WARNING ("epoll_ctl ADD fd %d: %s", entry->fd, g_strerror (errno));
    G_LOCK (workers);
    if (!entry->sibling)
      w->n_entries--;
    G_UNLOCK (workers);
    g_object_unref (entry->socket);
    gst_object_unref (entry->pad);
    g_free (entry);
    return NULL;
  }
  return entry;
}

/**
 * gst_sip_receiver_remove:
 * @entry: (transfer full): a registration
 *
 * Stops receiving for @entry. Once this returns, nothing is pushed into its
 * pad any more and its socket and pad are released (when called from
 * inside a push of the same entry: once that push returns).
 */
void
gst_sip_receiver_remove (GstSipReceiverEntry * entry)
{
  Worker *w;

  if (!entry)
    return;
  w = entry->worker;

  g_mutex_lock (&w->lock);
  epoll_ctl (w->epfd, EPOLL_CTL_DEL, entry->fd, NULL);
  entry->removed = TRUE;
  if (g_thread_self () != w->thread)
    while (entry->busy)
      g_cond_wait (&w->cond, &w->lock);
  /* else the worker releases it when the push returns */
  if (!entry->busy)
    gst_sip_receiver_release (entry);
  /* the worker may still hold the entry in the events of its last wait */
  w->graveyard = g_slist_prepend (w->graveyard, entry);
  g_mutex_unlock (&w->lock);

  G_LOCK (workers);
  if (!entry->sibling)
    w->n_entries--;
  G_UNLOCK (workers);
}

#else /* !__linux__ */

gboolean
gst_sip_receiver_is_supported (void)
{
  return FALSE;
}

gboolean
gst_sip_receiver_in_receive_thread (void)
{
  return FALSE;
}

GstSipReceiverEntry *
gst_sip_receiver_add (GSocket * socket, GstPad * pad, GstElement * owner,
    GstSipReceiverEntry * sibling)
{
  return NULL;
}

void
gst_sip_receiver_remove (GstSipReceiverEntry * entry)
{
}

#endif
