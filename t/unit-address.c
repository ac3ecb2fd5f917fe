/* unit-address.c: address.c: proxy lists, X-Forwarded-For behind trusted proxies, guess keys. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "address.h"
#include "cgi.h"
#include "tap.h"

static void
test_list(void)
{
	static const struct {
		const char	*list;
		int		 ok;
		const char	*name;
	} cases[] = {
		{ "", 1, "an empty list is valid" },
		{ "127.0.0.1", 1, "one IPv4 address is valid" },
		{ "::1", 1, "one IPv6 address is valid" },
		{ "10.0.0.0/8, 192.168.0.0/16", 1, "IPv4 ranges separated by a comma are valid" },
		{ "10.0.0.0/8 2001:db8::/32\t::1", 1, "spaces and tabs separate too" },
		{ " ,, 10.0.0.1 ,", 1, "stray separators are ignored" },
		{ "0.0.0.0/0", 1, "IPv4 /0 is valid" },
		{ "10.1.2.3/32", 1, "IPv4 /32 is valid" },
		{ "::/0", 1, "IPv6 /0 is valid" },
		{ "2001:db8::/64", 1, "IPv6 /64 is valid" },
		{ "2001:db8::1/128", 1, "IPv6 /128 is valid" },
		{ "::ffff:10.0.0.0/104", 1, "a mapped range counts bits as IPv6 does" },
		{ "10.0.0.0/33", 0, "IPv4 /33 is refused" },
		{ "2001:db8::/129", 0, "IPv6 /129 is refused" },
		{ "10.0.0.0/", 0, "a slash without bits is refused" },
		{ "10.0.0.0/-1", 0, "negative bits are refused" },
		{ "10.0.0.0/+8", 0, "signed bits are refused" },
		{ "10.0.0.0/8x", 0, "bits with a tail are refused" },
		{ "10.0.0.0/0008", 0, "four digits of bits are refused" },
		{ "10.0.0.0/8/8", 0, "two slashes are refused" },
		{ "/8", 0, "bits without an address are refused" },
		{ "proxy.example", 0, "a host name is refused" },
		{ "10.0.0.256", 0, "an IPv4 octet over 255 is refused" },
		{ "10.0.0", 0, "a short IPv4 address is refused" },
		{ "fe80::1%eth0", 0, "an IPv6 zone is refused" },
		{ "[::1]", 0, "a bracketed IPv6 address is refused" },
		{ "127.0.0.1:8080", 0, "an address with a port is refused" },
		{ "10.0.0.1;10.0.0.2", 0, "a semicolon is no separator" },
		{ "127.0.0.1, junk", 0, "one bad entry spoils the list" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999", 0, "too many IPv6 groups are refused" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(address_list_ok(cases[i].list) == cases[i].ok, cases[i].name);
	tap_ok(address_list_ok(NULL) == 1, "no list at all is valid");
}

/* The client of a request from remote with X-Forwarded-For xff, trusting list. */
static int
client(const char *remote, const char *xff, const char *trusted, char *out)
{
	struct cgi_request request;

	memset(&request, 0, sizeof(request));
	request.remote_address = remote;
	request.forwarded_for = xff;
	strcpy(out, "unchanged");
	return address_client(&request, trusted, out);
}

static void
test_client(void)
{
	static const struct {
		const char	*remote, *xff, *trusted;
		int		 rc;
		const char	*want;
		const char	*name;
	} cases[] = {
		{ "192.0.2.7", NULL, "", 0, "192.0.2.7", "without proxies the client is REMOTE_ADDR" },
		{ "192.0.2.7", "198.51.100.1", "", 0, "192.0.2.7",
		    "X-Forwarded-For from an untrusted peer is ignored" },
		{ "192.0.2.7", "198.51.100.1", "10.0.0.0/8", 0, "192.0.2.7",
		    "X-Forwarded-For from a peer outside the trusted range is ignored" },
		{ "10.0.0.5", "198.51.100.1", "10.0.0.0/8", 0, "198.51.100.1",
		    "a trusted proxy's X-Forwarded-For names the client" },
		{ "10.0.0.5", "203.0.113.9, 198.51.100.1", "10.0.0.0/8", 0, "198.51.100.1",
		    "the right-most untrusted hop is the client, not a forged left one" },
		{ "10.0.0.5", "203.0.113.9, 198.51.100.1, 10.0.0.6", "10.0.0.0/8", 0, "198.51.100.1",
		    "trusted hops in the chain are walked past" },
		{ "10.0.0.5", "  198.51.100.1  ,  10.0.0.6  ", "10.0.0.0/8", 0, "198.51.100.1",
		    "spaces around entries are ignored" },
		{ "10.0.0.5", "10.0.0.7, 10.0.0.6", "10.0.0.0/8", 0, "10.0.0.7",
		    "a chain of trusted hops only ends at its left-most" },
		{ "10.0.0.5", NULL, "10.0.0.0/8", 0, "10.0.0.5",
		    "a trusted proxy without X-Forwarded-For is the client" },
		{ "10.0.0.5", ", ,", "10.0.0.0/8", -1, NULL,
		    "an X-Forwarded-For of separators only names nobody: refused, failing closed" },
		{ "::1", "2001:db8::7", "::1", 0, "2001:db8::7", "IPv6 proxies and clients work" },
		{ "::ffff:10.0.0.5", "198.51.100.1", "10.0.0.0/8", 0, "198.51.100.1",
		    "a mapped REMOTE_ADDR matches an IPv4 range" },
		{ "::ffff:192.0.2.7", NULL, "", 0, "192.0.2.7", "a mapped client is written as IPv4" },
		{ "2001:DB8:0:0::7", NULL, "", 0, "2001:db8::7", "IPv6 is written in canonical form" },
		{ "10.0.0.5", "198.51.100.1", "0.0.0.0/0", 0, "198.51.100.1",
		    "IPv4 /0 trusts every IPv4 peer" },
		{ "2001:db8::5", "198.51.100.1", "0.0.0.0/0", 0, "2001:db8::5",
		    "IPv4 /0 trusts no IPv6 peer" },
		{ "2001:db8::5", "198.51.100.1", "::/0", 0, "198.51.100.1", "IPv6 /0 trusts every peer" },
		{ "10.0.0.5", "198.51.100.1", "10.0.0.4/32", 0, "10.0.0.5",
		    "IPv4 /32 trusts only its one address" },
		{ "10.0.0.4", "198.51.100.1", "10.0.0.4/32", 0, "198.51.100.1",
		    "IPv4 /32 trusts its address" },
		{ "2001:db8:1:2:ffff::1", "198.51.100.1", "2001:db8:1:2::/64", 0, "198.51.100.1",
		    "IPv6 /64 trusts its whole /64" },
		{ "2001:db8:1:3::1", "198.51.100.1", "2001:db8:1:2::/64", 0, "2001:db8:1:3::1",
		    "IPv6 /64 trusts nothing outside it" },
		{ "2001:db8::1", "198.51.100.1", "2001:db8::1/128", 0, "198.51.100.1",
		    "IPv6 /128 trusts its address" },
		{ "2001:db8::2", "198.51.100.1", "2001:db8::1/128", 0, "2001:db8::2",
		    "IPv6 /128 trusts no neighbour" },
		{ "10.0.0.5", "198.51.100.1", "10.0.0.0/33", 0, "10.0.0.5",
		    "an invalid trusted list trusts nobody" },
		{ NULL, NULL, "", -1, NULL, "no REMOTE_ADDR fails closed" },
		{ "localhost", NULL, "", -1, NULL, "a REMOTE_ADDR that is no address fails closed" },
		{ "10.0.0.5", "unknown", "10.0.0.0/8", -1, NULL,
		    "garbage from a trusted proxy fails closed" },
		{ "10.0.0.5", "198.51.100.1:4711", "10.0.0.0/8", -1, NULL,
		    "an entry with a port fails closed" },
		{ "10.0.0.5", "garbage, 198.51.100.1", "10.0.0.0/8", 0, "198.51.100.1",
		    "garbage left of the client is never read" },
		{ "10.0.0.5", "198.51.100.1, 10.0.0.6 junk", "10.0.0.0/8", -1, NULL,
		    "garbage inside a hop fails closed" },
		{ "10.0.0.5", "[2001:db8::1]", "10.0.0.0/8", -1, NULL,
		    "a bracketed IPv6 hop fails closed" },
		{ "10.0.0.5", "1234567890123456789012345678901234567890123456789", "10.0.0.0/8", -1,
		    NULL, "an overlong hop fails closed" },
	};
	char out[ADDRESS_TEXT_MAX], name[200];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = client(cases[i].remote, cases[i].xff, cases[i].trusted, out);
		if (cases[i].rc != 0) {
			tap_ok(rc == -1, cases[i].name);
			continue;
		}
		snprintf(name, sizeof(name), "%s", cases[i].name);
		tap_ok(rc == 0, name);
		tap_is(out, cases[i].want, name);
	}
}

static void
test_guess_key(void)
{
	static const struct {
		const char	*address, *want, *name;
	} cases[] = {
		{ "192.0.2.7", "ip:192.0.2.7", "IPv4 counts by address" },
		{ "::ffff:192.0.2.7", "ip:192.0.2.7", "mapped IPv4 counts as IPv4" },
		{ "2001:db8:1:2:3:4:5:6", "net:2001:db8:1:2::/64", "IPv6 counts by its /64" },
		{ "2001:db8:1:2:ffff:ffff:ffff:ffff", "net:2001:db8:1:2::/64",
		    "another address of the same /64 counts the same" },
		{ "::1", "net:::/64", "the IPv6 loopback counts by its /64" },
	};
	char key[ADDRESS_TEXT_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tap_ok(address_guess_key(cases[i].address, key) == 0, cases[i].name);
		tap_is(key, cases[i].want, cases[i].name);
	}
	tap_ok(address_guess_key(NULL, key) == -1, "no address has no key");
	tap_ok(address_guess_key("", key) == -1, "an empty address has no key");
	tap_ok(address_guess_key("10.0.0.0/8", key) == -1, "a range has no key");
}

int
main(void)
{
	test_list();
	test_client();
	test_guess_key();
	return tap_done();
}
