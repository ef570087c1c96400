/* gst-sip: the RFC 4475 torture messages, each through a real UDP socket
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every message of rfc4475/ (see rfc4475/INDEX.tsv for what a UAS should
 * do) is sent to one agent from its own socket; the answer (or the
 * silence) must be of the expected class, and the agent must still answer
 * OPTIONS at the end.  The agent has no incoming-call handler, so an
 * acceptable INVITE gets 480. */

#include "sip-test-util.h"

#include <string.h>

#define WAIT 2000
#define SILENCE 250

/* status codes accepted (0 ends the list); NONE: no answer at all */
#define NONE 1
typedef struct
{
  const gchar *file;
  guint accepted[5];
  const gchar *header;          /* the answer must carry this header */
} Expectation;

static const Expectation expectations[] = {
  /* 3.1.1 valid messages */
  {"wsinv.dat", {480, 481, 488}},
  {"intmeth.dat", {501, 405}},
  {"esc01.dat", {480, 481, 488}},
  {"escnull.dat", {405, 501}},
  {"esc02.dat", {501, 405}},
  {"lwsdisp.dat", {200}},
  {"longreq.dat", {480, 481, 488}},
  {"dblreq.dat", {405, 501}},
  {"semiuri.dat", {200, 404}},
  {"transports.dat", {200}},
  {"mpart01.dat", {405, 415}},
  {"unreason.dat", {NONE}},
  {"noreason.dat", {NONE}},
  /* 3.1.2 invalid messages */
  {"badinv01.dat", {400, NONE}},
  {"clerr.dat", {400, NONE}},
  {"ncl.dat", {400, NONE}},
  {"scalar02.dat", {400}},
  {"scalarlg.dat", {NONE}},
  {"quotbal.dat", {400}},
  {"ltgtruri.dat", {400}},
  {"lwsruri.dat", {400}},
  {"lwsstart.dat", {400}},
  {"trws.dat", {400, 200}},
  {"escruri.dat", {400, 480, 481, 488}},
  {"baddate.dat", {400, 480, 481, 488}},
  {"regbadct.dat", {400, 405}},
  {"badaspec.dat", {400}},
  {"baddn.dat", {400}},
  {"badvers.dat", {505}},
  {"mismatch01.dat", {400}},
  {"mismatch02.dat", {400, 501}},
  {"bigcode.dat", {NONE}},
  /* 3.2 transaction layer */
  {"badbranch.dat", {200}},
  /* 3.3 application layer */
  {"insuf.dat", {400}},
  {"unkscm.dat", {416}},
  {"novelsc.dat", {416}},
  {"unksm2.dat", {405, 501}},
  {"bext01.dat", {420}, "Unsupported"},
  {"invut.dat", {415}, "Accept"},
  {"regaut01.dat", {405, 501}},
  {"multi01.dat", {400}},
  {"mcl01.dat", {400}},
  {"bcast.dat", {NONE}},
  {"zeromf.dat", {200}},
  {"cparam01.dat", {405, 501}},
  {"cparam02.dat", {405, 501}},
  {"regescrt.dat", {405, 501}},
  {"sdp01.dat", {406, 488}},
  /* 3.4 backward compatibility */
  {"inv2543.dat", {480, 481, 488}},
};

static const gchar *
corpus_dir (void)
{
  const gchar *dir = g_getenv ("RFC4475_DIR");
  return dir ? dir : "rfc4475";
}

static const Expectation *
find_expectation (const gchar * file)
{
  for (guint i = 0; i < G_N_ELEMENTS (expectations); i++)
    if (strcmp (expectations[i].file, file) == 0)
      return &expectations[i];
  return NULL;
}

static gboolean
accepted (const Expectation * e, guint status)
{
  for (guint i = 0; i < G_N_ELEMENTS (e->accepted) && e->accepted[i]; i++)
    if (e->accepted[i] == (status ? status : NONE))
      return TRUE;
  return FALSE;
}

static gboolean
expects_silence_only (const Expectation * e)
{
  return e->accepted[0] == NONE && e->accepted[1] == 0;
}

static void
run_one (TestAgent * ta, const gchar * file, const Expectation * e)
{
  gchar *path = g_build_filename (corpus_dir (), file, NULL);
  TestPeer *peer = test_peer_new ();
  gchar *data = NULL, *resp;
  gsize len = 0;
  GError *error = NULL;
  guint status;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  test_peer_send_raw (peer, ta->port, data, len);

  if (expects_silence_only (e)) {
    resp = test_peer_recv (peer, SILENCE);
    if (resp)
      g_error ("%s: expected no answer, got:\n%s", file, resp);
  } else {
    resp = test_peer_recv_response (peer, WAIT, 0);
    status = test_msg_status (resp);
    if (!accepted (e, status))
      g_error ("%s: answer %u is not one of the expected (%u %u %u %u):\n%s",
          file, status, e->accepted[0], e->accepted[1], e->accepted[2],
          e->accepted[3], resp ? resp : "(none)");
    g_test_message ("%s: %u", file, status);
    if (resp && e->header) {
      gchar *value = test_msg_header (resp, e->header);
      if (value == NULL)
        g_error ("%s: no %s header in:\n%s", file, e->header, resp);
      g_free (value);
    }
    if (resp) {
      /* nothing but this answer (and its retransmissions) follows */
      gchar *cseq = test_msg_header (resp, "CSeq");
      gchar *more;
      gint64 end = g_get_monotonic_time () + SILENCE * 1000;
      /* for SILENCE ms (retransmissions of a final INVITE answer go on) */
      while (g_get_monotonic_time () < end
          && (more = test_peer_recv (peer, SILENCE))) {
        gchar *more_cseq = test_msg_header (more, "CSeq");
        if (test_msg_status (more) != status
            || g_strcmp0 (more_cseq, cseq) != 0)
          g_error ("%s: unexpected second message:\n%s", file, more);
        g_free (more_cseq);
        g_free (more);
      }
      g_free (cseq);
    }
  }
  g_free (resp);
  g_free (data);
  g_free (path);
  test_peer_free (peer);
}

static void
test_corpus (void)
{
  TestAgent *ta = test_agent_new (TEST_ANSWER_NONE, NULL);
  gchar *index_path = g_build_filename (corpus_dir (), "INDEX.tsv", NULL);
  gchar *index = NULL, **lines;
  GError *error = NULL;
  guint n = 0;

  g_file_get_contents (index_path, &index, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (index, "\n", -1);
  for (guint i = 1; lines[i]; i++) {
    gchar **fields = g_strsplit (lines[i], "\t", 2);
    const gchar *file = fields[0];
    const Expectation *e;

    if (file == NULL || *file == '\0') {
      g_strfreev (fields);
      continue;
    }
    e = find_expectation (file);
    if (e) {
      run_one (ta, file, e);
    } else if (strcmp (file, "test.dat") == 0) {
      /* not described in the RFC: anything but a crash */
      TestPeer *peer = test_peer_new ();
      gchar *path = g_build_filename (corpus_dir (), file, NULL);
      gchar *data;
      gsize len;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      test_peer_send_raw (peer, ta->port, data, len);
      test_peer_drain (peer, SILENCE);
      g_free (data);
      g_free (path);
      test_peer_free (peer);
    } else {
      g_error ("INDEX.tsv lists %s, the test does not know it", file);
    }
    n++;
    g_strfreev (fields);
  }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expectations) + 1);

  /* still alive, nothing left over */
  {
    TestPeer *peer = test_peer_new ();
    TestDialog *d = test_dialog_new (peer, ta->port);
    gchar *req = test_dialog_request (d, "OPTIONS", NULL, 0, NULL, NULL);
    gchar *resp;
    test_peer_send (peer, ta->port, req);
    resp = test_peer_recv_response (peer, WAIT, 0);
    g_assert_cmpuint (test_msg_status (resp), ==, 200);
    g_free (resp);
    g_free (req);
    test_dialog_free (d);
    test_peer_free (peer);
  }
  g_assert_cmpuint (sip_agent_get_active_calls (ta->agent), ==, 0);

  g_strfreev (lines);
  g_free (index);
  g_free (index_path);
  test_agent_free (ta);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sip/rfc4475/corpus", test_corpus);

  return g_test_run ();
}
