/* gst-sip tests: one pipeline with a sipsrc (named "src", and optionally a
 * sipsink named "sink") answering a call placed by a TestUac
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "testuac.h"
#include "testutil.h"

G_BEGIN_DECLS

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GstElement *sink;             /* NULL without a sipsink */
  GstBus *bus;
  TestUac *uac;
} Call;

static inline void
start_pipeline (Call * c, const gchar * desc)
{
  GError *err = NULL;

  c->pipeline = gst_parse_launch (desc, &err);
  fail_unless (c->pipeline != NULL, "%s: %s", desc, err ? err->message : "");
  test_apply_mode (c->pipeline);
  c->src = gst_bin_get_by_name (GST_BIN (c->pipeline), "src");
  fail_unless (c->src != NULL);
  c->sink = gst_bin_get_by_name (GST_BIN (c->pipeline), "sink");
  c->bus = gst_element_get_bus (c->pipeline);
  fail_unless (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
}

static inline void
place_call_full (Call * c, gboolean rtcp)
{
  GstMessage *msg;

  c->uac = test_uac_new (test_bound_port (c->src));
  if (rtcp)
    test_uac_bind_rtcp (c->uac);
  test_uac_send_invite (c->uac, FALSE);
  fail_unless_equals_int (test_uac_wait_final (c->uac, 5000), 200);
  test_uac_send_ack (c->uac);
  msg = test_wait_element_message (c->bus, "sip-call-answered", 2000);
  fail_unless (msg != NULL, "call not answered");
  gst_message_unref (msg);
}

static inline void
place_call (Call * c)
{
  place_call_full (c, FALSE);
}

static inline void
stop_pipeline (Call * c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  if (c->uac)
    test_uac_free (c->uac);
  gst_object_unref (c->bus);
  gst_object_unref (c->src);
  if (c->sink)
    gst_object_unref (c->sink);
  gst_object_unref (c->pipeline);
}

G_END_DECLS
