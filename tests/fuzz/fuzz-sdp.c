/* gst-sip: libFuzzer target: an SDP offer, parsed and answered
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sip-message.h"
#include "sip-sdp.h"

#include <stdint.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  sip_message_init_library ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  SipSdpRemote *offer = sip_sdp_remote_parse ((const gchar *) data, size,
      NULL);

  if (offer) {
    SipSdpLocal local;
    gchar *answer;

    sip_sdp_local_init (&local, "192.0.2.9", 10000);
    answer = sip_sdp_build_answer (&local, offer);
    g_free (answer);
    sip_sdp_local_clear (&local);
    sip_sdp_remote_free (offer);
  }
  return 0;
}
