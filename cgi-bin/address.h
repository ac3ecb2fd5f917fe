/* address.h: client addresses: parsing, trusted proxies, and the key guesses count against. */
#ifndef PINCONF_ADDRESS_H
#define PINCONF_ADDRESS_H

#include <stddef.h>

#include "cgi.h"

#define ADDRESS_TEXT_MAX	64	/* room for any address or guess key, NUL included */

/* 1 if list is empty or a valid comma- or space-separated list of addresses and CIDR ranges. */
int	 address_list_ok(const char *list);

/*
 * The client: REMOTE_ADDR, or, when REMOTE_ADDR is one of trusted (a list as
 * above), the right-most X-Forwarded-For entry that is not itself trusted.
 * Written in canonical form.  0, or -1 when no address can be trusted or
 * parsed: the caller refuses, failing closed.
 */
int	 address_client(const struct cgi_request *, const char *trusted,
	    char address[ADDRESS_TEXT_MAX]);

/*
 * What guesses from address count against: "ip:192.0.2.7" for IPv4 (and
 * IPv4-mapped IPv6), "net:2001:db8:1:2::/64" for IPv6, whose holders get a
 * /64 at least.  0, or -1 if address is not an address.
 */
int	 address_guess_key(const char *address, char key[ADDRESS_TEXT_MAX]);

#endif
