/* gst-sip: who may call: trusted source networks
 * Copyright (C) 2026 The gst-sip authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* allowed-sources is a comma-separated list of CIDR networks, IPv4 or
 * IPv6 ("10.0.0.0/8, 192.0.2.7, 2001:db8::/32"); a bare address is a
 * single host.  An empty list lets everyone in.  IPv4 peers seen on a
 * dual-stack socket (::ffff:a.b.c.d) are matched as IPv4. */

#include "sip-policy.h"
#include "sip-transport.h"

/**
 * sip_policy_parse_sources:
 * @list: (nullable): comma-separated CIDR networks
 * @error: names the bad entry
 *
 * Returns: (transfer full) (element-type GInetAddressMask) (nullable): the
 * networks (empty: everyone), or %NULL on error
 */
GPtrArray *
sip_policy_parse_sources (const gchar * list, GError ** error)
{
  GPtrArray *masks = g_ptr_array_new_with_free_func (g_object_unref);
  gchar **entries;

  if (list == NULL)
    return masks;
  entries = g_strsplit (list, ",", -1);
  for (gchar ** e = entries; *e; e++) {
    gchar *entry = g_strstrip (*e);
    GInetAddressMask *mask;
    GError *local = NULL;

    if (*entry == '\0')
      continue;
    mask = g_inet_address_mask_new_from_string (entry, &local);
    if (mask == NULL) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "invalid allowed-sources entry \"%s\": %s", entry, local->message);
      g_error_free (local);
      g_strfreev (entries);
      g_ptr_array_unref (masks);
      return NULL;
    }
    g_ptr_array_add (masks, mask);
  }
  g_strfreev (entries);
  return masks;
}

/**
 * sip_policy_source_allowed:
 * @sources: (element-type GInetAddressMask): from sip_policy_parse_sources()
 * @address: a peer's address
 *
 * Returns: %TRUE if @sources is empty or a network in it holds @address
 */
gboolean
sip_policy_source_allowed (GPtrArray * sources, GInetAddress * address)
{
  GInetAddress *unmapped;
  gboolean allowed = FALSE;

  if (sources == NULL || sources->len == 0)
    return TRUE;
  unmapped = sip_inet_address_unmap (address);
  for (guint i = 0; i < sources->len && !allowed; i++)
    allowed = g_inet_address_mask_matches (g_ptr_array_index (sources, i),
        unmapped);
  g_object_unref (unmapped);
  return allowed;
}
