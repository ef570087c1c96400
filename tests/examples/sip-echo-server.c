/* gst-sip example: a multi-call echo server
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One SipAgent answers every call; each call gets its own pipeline
 * "sipsrc call=... shared-threads=true ! sipsink" that plays the caller's
 * voice back.  The agent's thread only answers; pipelines are built in the
 * main thread.  With shared-threads the calls' RTP is received by a few
 * threads for all calls (a call costs no thread); --per-call-threads gives
 * each call its own udpsrc and rtpbin threads instead.
 *
 *   sip-echo-server [--port 6060] [--rtp-port-range 10000-15000]
 *                   [--per-call-threads]
 *
 * Prints READY once it listens; SIGINT/SIGTERM hang up and exit.
 */
#include <glib-unix.h>
#include <gst/gst.h>
#include "sip.h"

static GMainLoop *loop;
static gboolean per_call_threads;

/* the pipeline's bus, in the main thread: the call is over */
static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GstElement *pipeline = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS ||
      GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

/* the main thread: one pipeline per call */
static gboolean
start_pipeline (gpointer user_data)
{
  SipCall *call = user_data;
  GstElement *pipeline = gst_pipeline_new (sip_call_get_call_id (call));
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);
  GstElement *sink = gst_element_factory_make ("sipsink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);

  /* sipsrc ! sipsink without a queue: sipsink sends from sipsrc's thread,
   * which with shared-threads is a receive thread of all calls (sipsink
   * never waits there: it sends what comes at once) */
  g_object_set (src, "call", call, "shared-threads", !per_call_threads, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  gst_element_link (src, sink);
  /* EOS (the call is over) or an error: freed */
  gst_bus_add_watch (bus, on_bus_message, pipeline);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_object_unref (call);
  return G_SOURCE_REMOVE;
}

/* the agent's thread: a new call.  Answered at once (its RTP ports are
 * already bound: early packets wait in the socket), the pipeline is built in
 * the main thread, so signalling never waits for GStreamer */
static gboolean
on_incoming_call (SipAgent * agent, SipCall * call, gpointer user_data)
{
  sip_call_answer (call);
  g_idle_add (start_pipeline, g_object_ref (call));
  return TRUE;
}

static gboolean
on_stop (gpointer user_data)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = SIP_AGENT_DEFAULT_PORT;
  gchar *range = NULL;
  GOptionEntry entries[] = {
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "SIP UDP port", "PORT"},
    {"rtp-port-range", 0, 0, G_OPTION_ARG_STRING, &range, "RTP ports", "A-B"},
    {"per-call-threads", 0, 0, G_OPTION_ARG_NONE, &per_call_threads,
        "Receive each call with its own threads (udpsrc, rtpbin)", NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- answer calls, echo them");
  GError *error = NULL;
  SipAgent *agent;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);

  /* behind an SBC all calls come from one address: no per-source limit */
  agent = g_object_new (SIP_TYPE_AGENT, "port", port, "invite-rate-limit", 0,
      range ? "rtp-port-range" : NULL, range, NULL);
  g_signal_connect (agent, "incoming-call", G_CALLBACK (on_incoming_call),
      NULL);
  if (!sip_agent_start (agent, &error)) {
    g_printerr ("cannot listen: %s\n", error->message);
    return 1;
  }
  g_print ("READY\n");

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_stop, NULL);
  g_unix_signal_add (SIGTERM, on_stop, NULL);
  g_main_loop_run (loop);

  sip_agent_stop (agent);       /* BYE to the calls left */
  g_object_unref (agent);
  return 0;
}
