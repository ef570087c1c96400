/* gst-sip benchmark: the floor reference, plain RTP echo pipelines, no SIP
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * N pipelines in one process, pipeline i:
 *   udpsrc port=PORT+2i ! rtpjitterbuffer ! rtppcmudepay ! mulawdec
 *     ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=REPLY+2i
 * with the same jitter-buffer latency as sipsrc's default (60 ms), so the
 * difference to the C level is what SIP, rtpbin and the elements add.  The
 * udpsink sends from PORT+2i+1: an ephemeral port could fall into the load
 * generator's block.
 *
 *   floor-echo --port P --calls N [--reply-port Q] [--latency MS]
 *
 * Prints READY once all pipelines play; SIGINT/SIGTERM end it.
 */
#include <gst/gst.h>
#include <signal.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  gint port = 30000, reply = 40000, calls = 1, latency = 60;
  GError *error = NULL;
  GstElement **pipelines;
  sigset_t stop;
  int sig;

  /* blocked before GStreamer starts threads, so they inherit the mask and
   * sigwait() below receives the signal */
  sigemptyset (&stop);
  sigaddset (&stop, SIGINT);
  sigaddset (&stop, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &stop, NULL);

  gst_init (&argc, &argv);
  for (gint i = 1; i + 1 < argc; i += 2) {
    gint v = atoi (argv[i + 1]);

    if (g_str_equal (argv[i], "--port"))
      port = v;
    else if (g_str_equal (argv[i], "--reply-port"))
      reply = v;
    else if (g_str_equal (argv[i], "--calls"))
      calls = v;
    else if (g_str_equal (argv[i], "--latency"))
      latency = v;
    else {
      g_printerr ("usage: floor-echo --port P --calls N [--reply-port Q] "
          "[--latency MS]\n");
      return 2;
    }
  }

  pipelines = g_new0 (GstElement *, calls);
  for (gint i = 0; i < calls; i++) {
    gchar *desc = g_strdup_printf ("udpsrc address=127.0.0.1 port=%d "
        "caps=\"application/x-rtp,media=audio,clock-rate=8000,"
        "encoding-name=PCMU,payload=0\" ! rtpjitterbuffer latency=%d "
        "drop-on-latency=true ! rtppcmudepay ! mulawdec ! mulawenc "
        "! rtppcmupay min-ptime=20000000 max-ptime=20000000 "
        "! udpsink host=127.0.0.1 port=%d bind-port=%d async=false",
        port + 2 * i, latency, reply + 2 * i, port + 2 * i + 1);

    pipelines[i] = gst_parse_launch (desc, &error);
    g_free (desc);
    if (!pipelines[i]) {
      g_printerr ("pipeline %d: %s\n", i, error->message);
      return 1;
    }
    if (gst_element_set_state (pipelines[i], GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      g_printerr ("pipeline %d (port %d) does not start\n", i, port + 2 * i);
      return 1;
    }
  }
  g_print ("READY\n");

  sigwait (&stop, &sig);

  for (gint i = 0; i < calls; i++) {
    gst_element_set_state (pipelines[i], GST_STATE_NULL);
    gst_object_unref (pipelines[i]);
  }
  g_free (pipelines);
  return 0;
}
