/* address.c: client addresses: parsing, trusted proxies, and the key guesses count against. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "cgi.h"

/* An address as 16 bytes (IPv4 mapped into IPv6), so one comparison serves both. */
struct address {
	unsigned char	bytes[16];
	int		is_ipv4;
};

static int
address_parse(const char *text, size_t length, struct address *address)
{
	char copy[INET6_ADDRSTRLEN + 1];
	struct in_addr v4;

	if (length == 0 || length >= sizeof(copy))
		return -1;
	memcpy(copy, text, length);
	copy[length] = '\0';
	memset(address, 0, sizeof(*address));
	if (inet_pton(AF_INET, copy, &v4) == 1) {
		address->bytes[10] = address->bytes[11] = 0xff;
		memcpy(address->bytes + 12, &v4, 4);
		address->is_ipv4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, copy, address->bytes) != 1)
		return -1;
	/* ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket. */
	address->is_ipv4 = memcmp(address->bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	return 0;
}

static void
address_format(const struct address *address, char out[ADDRESS_TEXT_MAX])
{
	if (address->is_ipv4)
		inet_ntop(AF_INET, address->bytes + 12, out, ADDRESS_TEXT_MAX);
	else
		inet_ntop(AF_INET6, address->bytes, out, ADDRESS_TEXT_MAX);
}

/* Parse "address" or "address/bits" of length bytes into a range. */
static int
address_parse_range(const char *text, size_t length, struct address *base, int *bits)
{
	const char *slash = memchr(text, '/', length);
	size_t digits, written = slash != NULL ? (size_t)(slash - text) : length;
	char *end;
	long value;
	char number[4];
	int dotted;

	if (address_parse(text, written, base) != 0)
		return -1;
	/* The prefix counts in the notation written: ::ffff:10.0.0.0/104 is IPv6's. */
	dotted = memchr(text, ':', written) == NULL;
	*bits = 128;
	if (slash == NULL)
		return 0;
	digits = length - (size_t)(slash - text) - 1;
	if (digits == 0 || digits >= sizeof(number))
		return -1;
	memcpy(number, slash + 1, digits);
	number[digits] = '\0';
	value = strtol(number, &end, 10);
	if (*end != '\0' || number[0] < '0' || number[0] > '9' ||
	    value < 0 || value > (dotted ? 32 : 128))
		return -1;
	*bits = (int)value + (dotted ? 96 : 0);
	return 0;
}

static int
address_in_range(const struct address *address, const struct address *base, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(address->bytes, base->bytes, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (address->bytes[whole] & mask) == (base->bytes[whole] & mask);
}

#define LIST_SEPARATORS	", \t"

/* Check every entry of list (-1 on the first bad one); *matched: probe is in one of them. */
static int
address_list_walk(const char *list, const struct address *probe, int *matched)
{
	struct address base;
	const char *p = list;
	size_t length;
	int bits;

	*matched = 0;
	while (*(p += strspn(p, LIST_SEPARATORS)) != '\0') {
		length = strcspn(p, LIST_SEPARATORS);
		if (address_parse_range(p, length, &base, &bits) != 0)
			return -1;
		if (probe != NULL && address_in_range(probe, &base, bits))
			*matched = 1;
		p += length;
	}
	return 0;
}

int
address_list_ok(const char *list)
{
	int matched;

	return list == NULL || address_list_walk(list, NULL, &matched) == 0;
}

static int
address_trusted(const struct address *address, const char *trusted)
{
	int matched;

	if (trusted == NULL || *trusted == '\0')
		return 0;
	return address_list_walk(trusted, address, &matched) == 0 && matched;
}

int
address_client(const struct cgi_request *request, const char *trusted,
    char out[ADDRESS_TEXT_MAX])
{
	struct address client, hop;
	const char *list, *end;
	size_t length;
	int hops = 0;

	if (request->remote_address == NULL ||
	    address_parse(request->remote_address, strlen(request->remote_address), &client) != 0)
		return -1;
	list = request->forwarded_for;
	if (address_trusted(&client, trusted) && list != NULL) {
		/* Walk from the right: each hop we trust vouches for the one before it. */
		end = list + strlen(list);
		for (;;) {
			while (end > list && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == ','))
				end--;
			/* A trusted proxy that forwards and names nobody is not understood. */
			if (end == list && hops == 0)
				return -1;
			if (end == list)
				break;
			length = 0;
			while (end - length > list && end[-(long)length - 1] != ',')
				length++;
			while (length > 0 && (end[-(long)length] == ' ' || end[-(long)length] == '\t'))
				length--;
			if (address_parse(end - length, length, &hop) != 0)
				return -1;
			client = hop;
			hops++;
			if (!address_trusted(&hop, trusted))
				break;
			end -= length;
		}
	}
	address_format(&client, out);
	return 0;
}

int
address_guess_key(const char *text, char key[ADDRESS_TEXT_MAX])
{
	struct address address;
	char formatted[ADDRESS_TEXT_MAX];

	if (text == NULL || address_parse(text, strlen(text), &address) != 0)
		return -1;
	if (!address.is_ipv4)
		memset(address.bytes + 8, 0, 8);
	address_format(&address, formatted);
	snprintf(key, ADDRESS_TEXT_MAX, address.is_ipv4 ? "ip:%s" : "net:%s/64", formatted);
	return 0;
}
