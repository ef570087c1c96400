/* gst-sip: SIP message helpers on top of libosip2's parser
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Parsing goes through libosip2 (osip_message_parse), with a few checks
 * around it that libosip2 leaves to the application: datagram size, binary
 * garbage, NUL bytes, the syntax of scalar header fields.  Responses are
 * built in one place, sip_message_new_response(), following RFC 3261 8.2.6
 * (and eXosip2's jresponse.c): all Via in order, From, To (plus our tag),
 * Call-ID and CSeq copied from the request.
 *
 * When libosip2 cannot parse a request at all, sip_message_new_raw_error()
 * still answers it if the raw text has a Via: RFC 3261 8.2 asks a UAS to
 * reject a malformed request with 400 (Bad Request) where it can.
 */

#include "sip-message.h"

#include <string.h>
#include <osipparser2/osip_port.h>

static void
sip_osip_trace (const char *file, int line, osip_trace_level_t level,
    const char *format, va_list ap)
{
  gchar *text = g_strdup_vprintf (format, ap);

  g_debug ("libosip2 %s:%d: %s", file, line, g_strchomp (text));
  g_free (text);
}

/**
 * sip_message_init_library:
 *
 * Initializes libosip2's parser exactly once per process: parser_init()
 * keeps a non-atomic reference count.  libosip2's own traces go to
 * g_debug() instead of stdout.
 */
void
sip_message_init_library (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized)) {
    parser_init ();
    /* FATAL, BUG, ERROR and WARNING only */
    osip_trace_initialize_func (OSIP_INFO1, sip_osip_trace);
    g_once_init_leave (&initialized, 1);
  }
}

static gboolean
is_keepalive (const gchar * data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != '\r' && data[i] != '\n')
      return FALSE;
  return TRUE;
}

/* Returns the offset just past the blank line that ends the header
 * section, or len if there is none. */
static gsize
find_end_of_headers (const gchar * data, gsize len)
{
  for (gsize i = 0; i + 1 < len; i++) {
    if (data[i] == '\n' && data[i + 1] == '\n')
      return i + 2;
    if (i + 3 < len && data[i] == '\r' && data[i + 1] == '\n'
        && data[i + 2] == '\r' && data[i + 3] == '\n')
      return i + 4;
  }
  return len;
}

/* A start line is printable US-ASCII ending in CRLF; anything else is
 * not SIP (RFC 3261 7.1, 7.2). */
static gboolean
start_line_is_text (const gchar * data, gsize len)
{
  const gchar *eol = memchr (data, '\n', len);
  gsize n;

  if (eol == NULL || eol == data)
    return FALSE;
  n = eol - data;
  if (data[n - 1] == '\r')
    n--;
  if (n < 8)
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    guchar c = data[i];
    if (c < 0x20 || c > 0x7e)
      return FALSE;
  }
  return TRUE;
}

/* libosip2 5.3 parses multipart bodies into their parts, and leaks memory
 * on a part with two Content-Type headers.  We never use multipart bodies
 * (a UAS of application/sdp answers them 415), so the type is hidden from
 * the parser: "multipart/..." becomes "Xultipart/..." in our copy. */
static void
hide_multipart (gchar * data, gsize header_end)
{
  gsize i = 0;

  while (i < header_end) {
    gchar *line = data + i;
    gchar *eol = memchr (line, '\n', header_end - i);
    gsize n = eol ? (gsize) (eol - line) : header_end - i;
    gchar *colon = memchr (line, ':', n);

    if (colon) {
      gsize name_len = colon - line;
      gchar *value = colon + 1;

      while (name_len > 0 && (line[name_len - 1] == ' '
              || line[name_len - 1] == '\t'))
        name_len--;
      while (value < line + n && (*value == ' ' || *value == '\t'))
        value++;
      if (((name_len == 12 && g_ascii_strncasecmp (line, "content-type",
                      12) == 0) || (name_len == 1
                  && g_ascii_tolower (line[0]) == 'c'))
          && line + n - value >= 9
          && g_ascii_strncasecmp (value, "multipart", 9) == 0)
        value[0] = 'X';
    }
    i += n + 1;
  }
}

/**
 * sip_message_parse:
 * @data: a received datagram
 * @len: its length
 * @why: (out) (optional): why it was not parsed
 *
 * Returns: (transfer full) (nullable): the parsed message, or %NULL for
 * anything that is not a SIP message libosip2 can parse.
 */
osip_message_t *
sip_message_parse (const gchar * data, gsize len, gchar ** why)
{
  osip_message_t *msg = NULL;
  gchar *copy;
  gsize header_end;

  sip_message_init_library ();

  if (why)
    *why = NULL;
  if (len == 0 || is_keepalive (data, len)) {
    if (why)
      *why = g_strdup ("keep-alive (CRLF only)");
    return NULL;
  }
  if (len > SIP_MAX_DATAGRAM_SIZE) {
    if (why)
      *why = g_strdup_printf ("datagram too large (%" G_GSIZE_FORMAT
          " bytes)", len);
    return NULL;
  }
  if (!start_line_is_text (data, len)) {
    if (why)
      *why = g_strdup ("not a SIP start line (binary data?)");
    return NULL;
  }

  /* libosip2 parses the header section as C strings: a NUL byte would cut
   * it short.  NUL is legal there only as a quoted-pair (RFC 3261 25.1,
   * e.g. in a display name); replace it with an escaped space. */
  copy = g_malloc (len + 1);
  memcpy (copy, data, len);
  copy[len] = '\0';
  header_end = find_end_of_headers (copy, len);
  for (gsize i = 0; i < header_end; i++) {
    if (copy[i] != '\0')
      continue;
    if (i > 0 && copy[i - 1] == '\\') {
      copy[i] = ' ';
    } else {
      if (why)
        *why = g_strdup ("NUL byte in the header section");
      g_free (copy);
      return NULL;
    }
  }

  hide_multipart (copy, header_end);

  osip_message_init (&msg);
  if (osip_message_parse (msg, copy, len) != OSIP_SUCCESS) {
    if (why)
      *why = g_strdup ("libosip2 could not parse it");
    osip_message_free (msg);
    msg = NULL;
  } else {
    /* the body bytes the datagram really holds, for the Content-Length
     * check (RFC 3261 18.3) */
    msg->application_data = GSIZE_TO_POINTER (len - header_end + 1);
  }
  g_free (copy);
  return msg;
}

static gboolean
is_all_digits (const gchar * s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

gboolean
sip_message_is_request (const osip_message_t * msg)
{
  return msg->sip_method != NULL;
}

/**
 * sip_message_check_request:
 * @request: a parsed request
 * @reason: (out): reason phrase when the request is refused
 *
 * The syntax checks of RFC 3261 8.2 that libosip2's parser leaves out:
 * mandatory header fields (8.1.1), CSeq (8.1.1.5), Content-Length (20.14),
 * the protocol version.
 *
 * Returns: 0 when the request is fine, else the status code to answer with
 * (400 or 505).
 */
guint
sip_message_check_request (const osip_message_t * request,
    const gchar ** reason)
{
  guint64 cseq;
  osip_header_t *max_forwards = NULL;

  if (request->sip_version == NULL
      || g_ascii_strcasecmp (request->sip_version, "SIP/2.0") != 0) {
    *reason = "Version Not Supported";
    return 505;
  }
  if (request->req_uri == NULL) {
    *reason = "Bad Request-URI";
    return 400;
  }
  if (request->from == NULL || request->from->url == NULL) {
    *reason = "Missing or bad From header";
    return 400;
  }
  if (request->to == NULL || request->to->url == NULL) {
    *reason = "Missing or bad To header";
    return 400;
  }
  if (request->call_id == NULL || request->call_id->number == NULL) {
    *reason = "Missing Call-ID header";
    return 400;
  }
  if (request->cseq == NULL || request->cseq->method == NULL) {
    *reason = "Missing CSeq header";
    return 400;
  }
  /* RFC 3261 8.1.1.5: a 32-bit unsigned integer less than 2**31 */
  if (!is_all_digits (request->cseq->number)
      || strlen (request->cseq->number) > 10
      || (cseq = g_ascii_strtoull (request->cseq->number, NULL, 10))
      >= G_GUINT64_CONSTANT (0x80000000)) {
    *reason = "Bad CSeq number";
    return 400;
  }
  if (strcmp (request->cseq->method, request->sip_method) != 0) {
    *reason = "CSeq method does not match the request method";
    return 400;
  }
  if (request->content_length != NULL) {
    gsize available = GPOINTER_TO_SIZE (request->application_data);

    if (!is_all_digits (request->content_length->value)
        || strlen (request->content_length->value) > 9) {
      *reason = "Bad Content-Length";
      return 400;
    }
    /* 18.3: a datagram shorter than Content-Length is an error */
    if (available > 0 && g_ascii_strtoull (request->content_length->value,
            NULL, 10) > available - 1) {
      *reason = "Content-Length larger than the message";
      return 400;
    }
  }
  osip_message_header_get_byname (request, "max-forwards", 0, &max_forwards);
  if (max_forwards != NULL && !is_all_digits (max_forwards->hvalue)) {
    *reason = "Bad Max-Forwards";
    return 400;
  }
  return 0;
}

gchar *
sip_message_new_tag (void)
{
  return g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
}

gchar *
sip_message_new_branch (void)
{
  return g_strdup_printf (SIP_BRANCH_MAGIC_COOKIE "%08x%08x",
      g_random_int (), g_random_int ());
}

/**
 * sip_message_new_response:
 * @request: the request to answer
 * @status_code: 100..699
 * @reason: (nullable): reason phrase, %NULL for the standard one
 * @to_tag: (nullable): tag added to To unless it has one (never on 100)
 * @server: (nullable): value of the Server header field
 *
 * Builds a response per RFC 3261 8.2.6.2: From, Call-ID, CSeq and all Via
 * (in order) copied, To copied with our tag added.  Whatever else a
 * response needs (Contact, Record-Route, Allow, a body) is added by the
 * caller.
 *
 * Returns: (transfer full): the response
 */
osip_message_t *
sip_message_new_response (const osip_message_t * request, guint status_code,
    const gchar * reason, const gchar * to_tag, const gchar * server)
{
  osip_message_t *response;
  int pos = 0;

  osip_message_init (&response);
  osip_message_set_version (response, osip_strdup ("SIP/2.0"));
  osip_message_set_status_code (response, status_code);
  if (reason == NULL)
    reason = osip_message_get_reason (status_code);
  if (reason == NULL)
    reason = status_code < 300 ? "OK" : "Error";
  osip_message_set_reason_phrase (response, osip_strdup (reason));

  while (!osip_list_eol (&request->vias, pos)) {
    osip_via_t *via = osip_list_get (&request->vias, pos++);
    osip_via_t *copy = NULL;

    if (osip_via_clone (via, &copy) == OSIP_SUCCESS)
      osip_list_add (&response->vias, copy, -1);
  }
  if (request->from)
    osip_from_clone (request->from, &response->from);
  if (request->to) {
    osip_to_clone (request->to, &response->to);
    if (response->to && to_tag && status_code != 100
        && sip_message_get_to_tag (response) == NULL)
      osip_to_set_tag (response->to, osip_strdup (to_tag));
  }
  if (request->call_id)
    osip_call_id_clone (request->call_id, &response->call_id);
  if (request->cseq)
    osip_cseq_clone (request->cseq, &response->cseq);
  if (server)
    osip_message_set_header (response, "Server", server);
  return response;
}

/**
 * sip_message_to_string:
 * @msg: a message
 * @len: (out) (optional): length of the text
 *
 * Returns: (transfer full) (nullable): the message as text
 */
gchar *
sip_message_to_string (osip_message_t * msg, gsize * len)
{
  char *text = NULL;
  size_t length = 0;
  gchar *result;

  /* libosip2 caches the text of a parsed message */
  osip_message_force_update (msg);
  if (msg->content_length == NULL && osip_list_size (&msg->bodies) == 0)
    osip_message_set_content_length (msg, "0");
  if (osip_message_to_str (msg, &text, &length) != OSIP_SUCCESS)
    return NULL;
  result = g_strndup (text, length);
  osip_free (text);
  if (len)
    *len = length;
  return result;
}

/* ---- Raw answers to requests libosip2 could not parse ---------------- */

typedef struct
{
  const gchar *name;
  const gchar *value;
  gsize value_len;
  const gchar *line;
  gsize line_len;
} RawHeader;

/* Splits the header section into logical header lines (continuation lines
 * folded in).  Stops at the blank line. */
static GArray *
raw_headers (const gchar * data, gsize len, gsize * start_line_len)
{
  GArray *headers = g_array_new (FALSE, TRUE, sizeof (RawHeader));
  const gchar *p = data, *end = data + len;
  const gchar *eol = memchr (p, '\n', len);

  *start_line_len = eol ? (gsize) (eol - data) : len;
  if (*start_line_len > 0 && data[*start_line_len - 1] == '\r')
    (*start_line_len)--;
  if (eol == NULL)
    return headers;
  p = eol + 1;

  while (p < end) {
    const gchar *line = p, *q, *colon;
    gsize line_len;
    RawHeader h = { 0 };

    /* logical line: up to a LF not followed by SP/HT */
    q = p;
    for (;;) {
      const gchar *nl = memchr (q, '\n', end - q);
      if (nl == NULL) {
        q = end;
        break;
      }
      if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
        q = nl + 1;
        continue;
      }
      q = nl + 1;
      break;
    }
    line_len = q - line;
    p = q;
    while (line_len > 0 && (line[line_len - 1] == '\n'
            || line[line_len - 1] == '\r'))
      line_len--;
    if (line_len == 0)
      break;                    /* end of headers */
    colon = memchr (line, ':', line_len);
    if (colon == NULL)
      continue;
    h.line = line;
    h.line_len = line_len;
    h.name = line;
    h.value = colon + 1;
    h.value_len = line + line_len - (colon + 1);
    while (h.value_len > 0 && (*h.value == ' ' || *h.value == '\t')) {
      h.value++;
      h.value_len--;
    }
    g_array_append_val (headers, h);
  }
  return headers;
}

static gchar *
raw_header_name (const RawHeader * h)
{
  const gchar *colon = h->value;
  gsize n;
  gchar *name, *canonical;

  while (colon > h->line && colon[-1] != ':')
    colon--;
  n = colon - 1 - h->line;
  while (n > 0 && (h->line[n - 1] == ' ' || h->line[n - 1] == '\t'))
    n--;
  name = g_strndup (h->line, n);
  canonical = sip_message_header_canonical_name (name);
  g_free (name);
  return canonical;
}

static gboolean
is_token_char (guchar c)
{
  return g_ascii_isalnum (c) || strchr ("-.!%*_+`'~", c) != NULL;
}

/**
 * sip_message_new_raw_error:
 * @data: a datagram libosip2 could not parse
 * @len: its length
 * @status_code: (out): the status code chosen
 *
 * Answers a request that libosip2 refused, from its raw text: the Via,
 * From, To, Call-ID and CSeq lines are copied byte for byte (RFC 3261
 * 8.2.6.2) and a To tag derived from the message is added, so a
 * retransmission gets the same answer.  505 for another SIP version, 416
 * for a Request-URI of another scheme, 400 otherwise.
 *
 * Returns: (transfer full) (nullable): the response text, or %NULL when
 * it cannot be answered (a response, or no Via).
 */
GString *
sip_message_new_raw_error (const gchar * data, gsize len, guint * status_code)
{
  gsize start_len, sp1 = 0, sp2 = 0, n_sp = 0;
  GArray *headers;
  GString *out;
  const gchar *reason;
  gboolean have_via = FALSE, seen_from = FALSE, seen_to = FALSE;
  gboolean seen_call_id = FALSE, seen_cseq = FALSE;
  guint code;

  if (len == 0 || len > SIP_MAX_DATAGRAM_SIZE || !start_line_is_text (data,
          len))
    return NULL;
  if (len >= 4 && g_ascii_strncasecmp (data, "SIP/", 4) == 0)
    return NULL;                /* a response: never answered */

  headers = raw_headers (data, len, &start_len);

  /* Request-Line = Method SP Request-URI SP SIP-Version CRLF */
  for (gsize i = 0; i < start_len; i++) {
    if (data[i] == ' ') {
      n_sp++;
      if (n_sp == 1)
        sp1 = i;
      else if (n_sp == 2)
        sp2 = i;
    }
  }
  code = 400;
  reason = "Bad Request - malformed header field";
  if (n_sp != 2 || sp1 == 0 || sp2 == sp1 + 1 || sp2 + 1 == start_len) {
    reason = "Bad Request - malformed Request-Line";
  } else {
    const gchar *version = data + sp2 + 1;
    gsize version_len = start_len - sp2 - 1;
    const gchar *uri = data + sp1 + 1;
    gsize uri_len = sp2 - sp1 - 1;
    gsize scheme_len = 0;
    gboolean method_ok = TRUE;

    for (gsize i = 0; i < sp1; i++)
      method_ok = method_ok && is_token_char (data[i]);
    while (scheme_len < uri_len && (g_ascii_isalnum (uri[scheme_len])
            || strchr ("+-.", uri[scheme_len])))
      scheme_len++;

    if (!method_ok) {
      reason = "Bad Request - malformed Method";
    } else if (version_len >= 4 && g_ascii_strncasecmp (version, "SIP/",
            4) == 0 && !(version_len == 7
            && g_ascii_strncasecmp (version, "SIP/2.0", 7) == 0)) {
      code = 505;
      reason = "Version Not Supported";
    } else if (version_len != 7 || g_ascii_strncasecmp (version, "SIP/2.0",
            7) != 0) {
      reason = "Bad Request - malformed SIP-Version";
    } else if (scheme_len > 0 && scheme_len < uri_len
        && uri[scheme_len] == ':' && g_ascii_isalpha (uri[0])
        && !(scheme_len == 3 && g_ascii_strncasecmp (uri, "sip", 3) == 0)
        && !(scheme_len == 4 && g_ascii_strncasecmp (uri, "sips", 4) == 0)) {
      code = 416;
      reason = "Unsupported URI Scheme";
    } else if (scheme_len == 0 || scheme_len >= uri_len
        || uri[scheme_len] != ':') {
      reason = "Bad Request - malformed Request-URI";
    }
  }

  out = g_string_new (NULL);
  g_string_append_printf (out, "SIP/2.0 %u %s\r\n", code, reason);
  for (guint i = 0; i < headers->len; i++) {
    RawHeader *h = &g_array_index (headers, RawHeader, i);
    gchar *name = raw_header_name (h);
    gboolean copy = FALSE, add_tag = FALSE;

    if (strcmp (name, "via") == 0) {
      copy = have_via = TRUE;
    } else if (strcmp (name, "from") == 0 && !seen_from) {
      copy = seen_from = TRUE;
    } else if (strcmp (name, "to") == 0 && !seen_to) {
      gchar *lower = g_ascii_strdown (h->value, h->value_len);
      copy = seen_to = TRUE;
      add_tag = strstr (lower, "tag=") == NULL;
      g_free (lower);
    } else if (strcmp (name, "call-id") == 0 && !seen_call_id) {
      copy = seen_call_id = TRUE;
    } else if (strcmp (name, "cseq") == 0 && !seen_cseq) {
      copy = seen_cseq = TRUE;
    }
    g_free (name);
    if (!copy)
      continue;
    g_string_append_len (out, h->line, h->line_len);
    if (add_tag) {
      /* same request, same tag: a hash of the whole datagram */
      GBytes *bytes = g_bytes_new_static (data, len);
      g_string_append_printf (out, ";tag=%08x", g_bytes_hash (bytes));
      g_bytes_unref (bytes);
    }
    g_string_append (out, "\r\n");
  }
  g_string_append (out, "Content-Length: 0\r\n\r\n");
  g_array_unref (headers);

  if (!have_via) {
    g_string_free (out, TRUE);
    return NULL;
  }
  *status_code = code;
  return out;
}

/* ---- Via -------------------------------------------------------------- */

static osip_via_t *
top_via (const osip_message_t * msg)
{
  return osip_list_get (&msg->vias, 0);
}

static gboolean
host_is_address (const gchar * host, const gchar * ip)
{
  GInetAddress *a, *b;
  gboolean equal;
  gchar *stripped;

  if (host == NULL)
    return FALSE;
  stripped = g_strdup (host);
  if (stripped[0] == '[') {
    gchar *end = strchr (stripped, ']');
    if (end)
      *end = '\0';
    memmove (stripped, stripped + 1, strlen (stripped));
  }
  a = g_inet_address_new_from_string (stripped);
  b = g_inet_address_new_from_string (ip);
  equal = a && b && g_inet_address_equal (a, b);
  g_clear_object (&a);
  g_clear_object (&b);
  g_free (stripped);
  return equal;
}

static void
via_set_param (osip_via_t * via, const gchar * name, const gchar * value)
{
  osip_generic_param_t *param = NULL;

  osip_via_param_get_byname (via, (char *) name, &param);
  if (param) {
    osip_free (param->gvalue);
    param->gvalue = value ? osip_strdup (value) : NULL;
  } else {
    osip_via_param_add (via, osip_strdup (name),
        value ? osip_strdup (value) : NULL);
  }
}

/**
 * sip_message_fix_top_via:
 * @request: a received request
 * @source_ip: the IP address it came from
 * @source_port: the UDP port it came from
 *
 * RFC 3261 18.2.1: add received= to the top Via when its sent-by host is
 * not the source address; RFC 3581 4: when the top Via has an empty rport
 * parameter, fill it with the source port (and always add received=).
 *
 * Returns: %TRUE if the Via was changed
 */
gboolean
sip_message_fix_top_via (osip_message_t * request, const gchar * source_ip,
    guint source_port)
{
  osip_via_t *via = top_via (request);
  osip_generic_param_t *rport = NULL;
  gboolean changed = FALSE;

  if (via == NULL)
    return FALSE;
  osip_via_param_get_byname (via, (char *) "rport", &rport);
  if (rport != NULL) {
    gchar *port = g_strdup_printf ("%u", source_port);
    via_set_param (via, "rport", port);
    g_free (port);
    via_set_param (via, "received", source_ip);
    changed = TRUE;
  } else if (!host_is_address (via->host, source_ip)) {
    via_set_param (via, "received", source_ip);
    changed = TRUE;
  }
  return changed;
}

const gchar *
sip_message_get_top_branch (const osip_message_t * msg)
{
  osip_via_t *via = top_via (msg);
  osip_generic_param_t *branch = NULL;

  if (via == NULL)
    return NULL;
  osip_via_param_get_byname (via, (char *) "branch", &branch);
  return branch ? branch->gvalue : NULL;
}

/**
 * sip_message_get_top_sent_by:
 * @msg: a message
 *
 * Returns: (transfer full) (nullable): "host:port" of the top Via,
 * lowercase, port 5060 when absent
 */
gchar *
sip_message_get_top_sent_by (const osip_message_t * msg)
{
  osip_via_t *via = top_via (msg);
  gchar *host, *sent_by;

  if (via == NULL || via->host == NULL)
    return NULL;
  host = g_ascii_strdown (via->host, -1);
  sent_by = g_strdup_printf ("%s:%s", host, via->port ? via->port : "5060");
  g_free (host);
  return sent_by;
}

/* ---- From, To, CSeq, Call-ID -------------------------------------------- */

const gchar *
sip_message_get_from_tag (const osip_message_t * msg)
{
  osip_generic_param_t *tag = NULL;

  if (msg->from == NULL)
    return NULL;
  osip_from_get_tag (msg->from, &tag);
  return tag ? tag->gvalue : NULL;
}

const gchar *
sip_message_get_to_tag (const osip_message_t * msg)
{
  osip_generic_param_t *tag = NULL;

  if (msg->to == NULL)
    return NULL;
  osip_to_get_tag (msg->to, &tag);
  return tag ? tag->gvalue : NULL;
}

const gchar *
sip_message_get_cseq_method (const osip_message_t * msg)
{
  return msg->cseq ? msg->cseq->method : NULL;
}

gboolean
sip_message_get_cseq_number (const osip_message_t * msg, guint32 * number)
{
  guint64 n;

  if (msg->cseq == NULL || !is_all_digits (msg->cseq->number)
      || strlen (msg->cseq->number) > 10)
    return FALSE;
  n = g_ascii_strtoull (msg->cseq->number, NULL, 10);
  if (n > G_MAXUINT32)
    return FALSE;
  *number = n;
  return TRUE;
}

/**
 * sip_message_get_call_id_string:
 * @msg: a message
 * @to_free: (out): string to free after use
 *
 * Returns: (nullable): the Call-ID as text ("number@host")
 */
const gchar *
sip_message_get_call_id_string (const osip_message_t * msg, gchar ** to_free)
{
  *to_free = NULL;
  if (msg->call_id == NULL || msg->call_id->number == NULL)
    return NULL;
  if (msg->call_id->host == NULL)
    return msg->call_id->number;
  *to_free = g_strdup_printf ("%s@%s", msg->call_id->number,
      msg->call_id->host);
  return *to_free;
}

gchar *
sip_message_from_to_string (const osip_from_t * from)
{
  char *text = NULL;
  gchar *result;

  if (from == NULL || osip_from_to_str (from, &text) != OSIP_SUCCESS)
    return NULL;
  result = g_strdup (text);
  osip_free (text);
  return result;
}

gchar *
sip_message_uri_to_string (const osip_uri_t * uri)
{
  char *text = NULL;
  gchar *result;

  if (uri == NULL || osip_uri_to_str (uri, &text) != OSIP_SUCCESS)
    return NULL;
  result = g_strdup (text);
  osip_free (text);
  return result;
}

gboolean
sip_message_has_body (const osip_message_t * msg)
{
  osip_body_t *body = osip_list_get (&msg->bodies, 0);

  return body != NULL && body->body != NULL && body->length > 0;
}

/**
 * sip_message_get_sdp_body:
 * @msg: a message
 *
 * Returns: (transfer none) (nullable): the body when it is application/sdp
 */
const osip_body_t *
sip_message_get_sdp_body (const osip_message_t * msg)
{
  osip_body_t *body = osip_list_get (&msg->bodies, 0);
  osip_content_type_t *type = msg->content_type;

  if (body == NULL || body->body == NULL || body->length == 0)
    return NULL;
  if (type == NULL || type->type == NULL || type->subtype == NULL
      || g_ascii_strcasecmp (type->type, "application") != 0
      || g_ascii_strcasecmp (type->subtype, "sdp") != 0)
    return NULL;
  return body;
}

/**
 * sip_message_get_header_value:
 * @msg: a message
 * @name: a header field name libosip2 keeps as a generic header, or
 *   Accept or Content-Encoding
 *
 * Returns: (transfer full) (nullable): all values of that header joined
 * by ", " (RFC 3261 7.3.1), or %NULL
 */
gchar *
sip_message_get_header_value (const osip_message_t * msg, const gchar * name)
{
  GString *values = NULL;
  osip_header_t *header = NULL;
  int pos = 0;

  /* libosip2 keeps these two in lists of their own */
  if (g_ascii_strcasecmp (name, "accept") == 0) {
    while (!osip_list_eol (&msg->accepts, pos)) {
      osip_accept_t *accept = osip_list_get (&msg->accepts, pos++);
      char *text = NULL;

      if (values == NULL)
        values = g_string_new (NULL);
      else
        g_string_append (values, ", ");
      if (accept->type && osip_accept_to_str (accept, &text) == OSIP_SUCCESS) {
        g_string_append (values, text);
        osip_free (text);
      }
    }
    return values ? g_string_free (values, FALSE) : NULL;
  }
  if (g_ascii_strcasecmp (name, "content-encoding") == 0) {
    while (!osip_list_eol (&msg->content_encodings, pos)) {
      osip_content_encoding_t *encoding =
          osip_list_get (&msg->content_encodings, pos++);

      if (values == NULL)
        values = g_string_new (NULL);
      else
        g_string_append (values, ", ");
      if (encoding->value)
        g_string_append (values, encoding->value);
    }
    return values ? g_string_free (values, FALSE) : NULL;
  }

  while ((pos = osip_message_header_get_byname (msg, name, pos, &header)) >= 0) {
    if (header && header->hvalue) {
      if (values == NULL)
        values = g_string_new (header->hvalue);
      else
        g_string_append_printf (values, ", %s", header->hvalue);
    }
    pos++;
  }
  return values ? g_string_free (values, FALSE) : NULL;
}

/* ---- Header names ------------------------------------------------------- */

/* RFC 3261 7.3.3 and the IANA registry of compact forms */
static const struct
{
  gchar compact;
  const gchar *name;
} compact_forms[] = {
  {'a', "accept-contact"},
  {'b', "referred-by"},
  {'c', "content-type"},
  {'d', "request-disposition"},
  {'e', "content-encoding"},
  {'f', "from"},
  {'i', "call-id"},
  {'j', "reject-contact"},
  {'k', "supported"},
  {'l', "content-length"},
  {'m', "contact"},
  {'n', "identity-info"},
  {'o', "event"},
  {'r', "refer-to"},
  {'s', "subject"},
  {'t', "to"},
  {'u', "allow-events"},
  {'v', "via"},
  {'x', "session-expires"},
  {'y', "identity"},
};

/**
 * sip_message_header_canonical_name:
 * @name: a header field name, any case, maybe compact
 *
 * Returns: (transfer full): the lowercase full name
 */
gchar *
sip_message_header_canonical_name (const gchar * name)
{
  if (name[0] != '\0' && name[1] == '\0') {
    gchar c = g_ascii_tolower (name[0]);
    for (guint i = 0; i < G_N_ELEMENTS (compact_forms); i++)
      if (compact_forms[i].compact == c)
        return g_strdup (compact_forms[i].name);
  }
  /* never interned: the names come from the network */
  return g_ascii_strdown (name, -1);
}

/**
 * sip_message_parse_headers:
 * @data: a message's text
 * @len: its length
 *
 * Returns: (transfer full): lowercase full header name -> the value of its
 * first occurrence, continuation lines folded
 */
GHashTable *
sip_message_parse_headers (const gchar * data, gsize len)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gsize start_len;
  GArray *headers = raw_headers (data, len, &start_len);

  for (guint i = 0; i < headers->len; i++) {
    RawHeader *h = &g_array_index (headers, RawHeader, i);
    gchar *name = raw_header_name (h);
    GString *value;

    if (g_hash_table_contains (table, name) || name[0] == '\0') {
      g_free (name);
      continue;
    }
    /* unfold: CRLF + whitespace becomes a single SP (RFC 3261 7.3.1) */
    value = g_string_sized_new (h->value_len);
    for (gsize j = 0; j < h->value_len; j++) {
      gchar c = h->value[j];
      if (c == '\r' || c == '\n') {
        while (j + 1 < h->value_len && (h->value[j + 1] == '\r'
                || h->value[j + 1] == '\n' || h->value[j + 1] == ' '
                || h->value[j + 1] == '\t'))
          j++;
        g_string_append_c (value, ' ');
      } else if (c != '\0') {
        g_string_append_c (value, c);
      }
    }
    g_strchomp (value->str);
    g_hash_table_insert (table, name, g_string_free (value, FALSE));
  }
  g_array_unref (headers);
  return table;
}

/* ---- Methods ------------------------------------------------------------ */

gboolean
sip_message_method_is_allowed (const gchar * method)
{
  static const gchar *const allowed[] = {
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS",
  };

  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (strcmp (method, allowed[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Methods some SIP extension defines: those get 405 (RFC 3261 21.4.6),
 * anything else 501 (21.5.2). */
gboolean
sip_message_method_is_known (const gchar * method)
{
  static const gchar *const known[] = {
    "REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "UPDATE",
    "REFER", "PRACK", "PUBLISH",
  };

  if (sip_message_method_is_allowed (method))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (strcmp (method, known[i]) == 0)
      return TRUE;
  return FALSE;
}
