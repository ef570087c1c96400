/* gst-sip: mutation fuzzing of the SIP input path
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Messages from the RFC 4475 corpus and our own, mutated at random (bit
 * flips, byte changes, insertions, deletions, truncation, duplicated
 * lines), go
 *  - in process through parsing, checking and answering, and
 *  - over UDP to a running agent, which must still answer OPTIONS after.
 * A fixed seed makes a failure reproducible; SIP_FUZZ_ITERATIONS and
 * SIP_FUZZ_SEED run it longer or differently (under valgrind or ASan). */

#include "sip-message.h"
#include "sip-sdp.h"
#include "sip-test-util.h"

#include <string.h>

static GPtrArray *
load_seeds (void)
{
  GPtrArray *seeds = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  const gchar *dir_name = g_getenv ("RFC4475_DIR");
  GDir *dir = g_dir_open (dir_name ? dir_name : "rfc4475", 0, NULL);
  const gchar *name;
  static const gchar *const own[] = {
    "INVITE sip:bot@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz;rport\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
        "To: <sip:bot@127.0.0.1>\r\nCall-ID: fuzz@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\n"
        "Record-Route: <sip:p1.example.com;lr>\r\n"
        "Content-Type: application/sdp\r\nContent-Length: 129\r\n\r\n"
        "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n",
    "CANCEL sip:bot@127.0.0.1 SIP/2.0\r\n"
        "v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz\r\n"
        "f: <sip:a@127.0.0.1>;tag=1\r\nt: <sip:bot@127.0.0.1>\r\n"
        "i: fuzz@127.0.0.1\r\nCSeq: 1 CANCEL\r\nl: 0\r\n\r\n",
    "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:bot@127.0.0.1>;tag=2\r\n"
        "Call-ID: fuzz@127.0.0.1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (own); i++)
    g_ptr_array_add (seeds, g_bytes_new_static (own[i], strlen (own[i])));
  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      gchar *path, *data;
      gsize len;
      if (!g_str_has_suffix (name, ".dat"))
        continue;
      path = g_build_filename (dir_name ? dir_name : "rfc4475", name, NULL);
      if (g_file_get_contents (path, &data, &len, NULL))
        g_ptr_array_add (seeds, g_bytes_new_take (data, len));
      g_free (path);
    }
    g_dir_close (dir);
  }
  return seeds;
}

static GByteArray *
mutate (GRand * rand, GBytes * seed)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (seed, &len);
  GByteArray *out = g_byte_array_sized_new (len + 64);
  guint n = g_rand_int_range (rand, 1, 8);

  g_byte_array_append (out, data, len);
  for (guint i = 0; i < n && out->len > 0; i++) {
    guint pos = g_rand_int_range (rand, 0, out->len);
    static const gchar *const tokens[] = { "\r\n", ";", ":", "<", ">", "\"",
      "\\", " ", "\0", "%", "=", ",", "@", "SIP/2.0", "z9hG4bK",
      "Content-Length: 99999\r\n", "\r\n\r\n", "[", "]", "\t", "999999999999"
    };
    switch (g_rand_int_range (rand, 0, 7)) {
      case 0:                  /* bit flip */
        out->data[pos] ^= 1 << g_rand_int_range (rand, 0, 8);
        break;
      case 1:                  /* random byte */
        out->data[pos] = g_rand_int_range (rand, 0, 256);
        break;
      case 2:{                 /* insert a token */
        const gchar *t = tokens[g_rand_int_range (rand, 0,
                G_N_ELEMENTS (tokens))];
        gsize tl = strlen (t) ? strlen (t) : 1;
        g_byte_array_set_size (out, out->len + tl);
        memmove (out->data + pos + tl, out->data + pos, out->len - tl - pos);
        memcpy (out->data + pos, t, tl);
        break;
      }
      case 3:{                 /* delete a range */
        guint count = g_rand_int_range (rand, 1, 20);
        g_byte_array_remove_range (out, pos, MIN (out->len - pos, count));
        break;
      }
      case 4:                  /* truncate */
        g_byte_array_set_size (out, pos);
        break;
      case 5:{                 /* duplicate a chunk */
        guint chunk = g_rand_int_range (rand, 1, 80);
        guint8 *copy;

        chunk = MIN (out->len - pos, chunk);
        copy = g_memdup2 (out->data + pos, chunk);
        g_byte_array_append (out, copy, chunk);
        g_free (copy);
        break;
      }
      default:{                /* swap two bytes */
        guint other = g_rand_int_range (rand, 0, out->len);
        guint8 c = out->data[pos];
        out->data[pos] = out->data[other];
        out->data[other] = c;
        break;
      }
    }
  }
  return out;
}

/* what the agent does with a datagram, minus the sockets */
static void
process (const guint8 * data, gsize len)
{
  osip_message_t *msg = sip_message_parse ((const gchar *) data, len, NULL);

  if (msg == NULL) {
    guint status;
    GString *raw = sip_message_new_raw_error ((const gchar *) data, len,
        &status);
    if (raw)
      g_string_free (raw, TRUE);
    return;
  }
  if (sip_message_is_request (msg)) {
    const gchar *reason = NULL;
    osip_via_t *via = osip_list_get (&msg->vias, 0);
    if (via && via->host) {
      guint status = sip_message_check_request (msg, &reason);
      osip_message_t *resp;
      gchar *text, *sent_by;
      const osip_body_t *body;

      sip_message_fix_top_via (msg, "192.0.2.1", 5062);
      resp = sip_message_new_response (msg, status ? status : 200, reason,
          "tag", "fuzz");
      text = sip_message_to_string (resp, NULL);
      g_free (text);
      osip_message_free (resp);
      sent_by = sip_message_get_top_sent_by (msg);
      g_free (sent_by);
      body = status == 0 ? sip_message_get_sdp_body (msg) : NULL;
      if (body) {
        SipSdpRemote *offer = sip_sdp_remote_parse (body->body, body->length,
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
      }
    }
  }
  osip_message_free (msg);
}

static guint
iterations (guint fallback)
{
  const gchar *env = g_getenv ("SIP_FUZZ_ITERATIONS");
  return env ? (guint) g_ascii_strtoull (env, NULL, 10) : fallback;
}

static guint32
seed_value (void)
{
  const gchar *env = g_getenv ("SIP_FUZZ_SEED");
  return env ? (guint32) g_ascii_strtoull (env, NULL, 10) : 4475;
}

static void
test_in_process (void)
{
  GPtrArray *seeds = load_seeds ();
  GRand *rand = g_rand_new_with_seed (seed_value ());
  guint n = iterations (20000);

  const gchar *dump = g_getenv ("SIP_FUZZ_DUMP");

  for (guint i = 0; i < n; i++) {
    GByteArray *m = mutate (rand, g_ptr_array_index (seeds,
            g_rand_int_range (rand, 0, seeds->len)));
    /* SIP_FUZZ_DUMP=FILE: the current input, to reproduce a crash */
    if (dump)
      g_file_set_contents (dump, (const gchar *) m->data, m->len, NULL);
    process (m->data, m->len);
    g_byte_array_unref (m);
  }
  g_rand_free (rand);
  g_ptr_array_unref (seeds);
}

static void
test_over_udp (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_ANSWER, NULL);
  TestPeer *peer = test_peer_new ();
  GPtrArray *seeds = load_seeds ();
  GRand *rand = g_rand_new_with_seed (seed_value () + 1);
  guint n = iterations (20000) / 10;
  TestDialog *d;
  gchar *req, *resp;
  SipCall *call;

  for (guint i = 0; i < n; i++) {
    GByteArray *m = mutate (rand, g_ptr_array_index (seeds,
            g_rand_int_range (rand, 0, seeds->len)));
    test_peer_send_raw (peer, ta->port, (const gchar *) m->data, m->len);
    g_byte_array_unref (m);
    /* keep the socket buffers from overflowing */
    if (i % 50 == 0)
      test_peer_drain (peer, 1);
  }
  test_peer_drain (peer, 200);
  while ((call = test_agent_pop_call (ta, 0)))
    g_object_unref (call);

  /* the agent still works */
  d = test_dialog_new (peer, ta->port);
  req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
  test_peer_send (peer, ta->port, req);
  resp = test_peer_recv_response (peer, 2000, 200);
  g_assert_nonnull (resp);
  g_free (resp);
  g_free (req);
  test_dialog_free (d);

  g_rand_free (rand);
  g_ptr_array_unref (seeds);
  test_peer_free (peer);
  test_agent_free (ta);
}

static void
drop_log (const gchar * domain, GLogLevelFlags level, const gchar * message,
    gpointer user_data)
{
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* thousands of datagrams: keep the debug log out of the test log */
  g_log_set_handler ("sip", G_LOG_LEVEL_DEBUG, drop_log, NULL);

  g_test_add_func ("/sip/fuzz/in-process", test_in_process);
  g_test_add_func ("/sip/fuzz/over-udp", test_over_udp);

  return g_test_run ();
}
