/* unit-mail.c: mail.c: headers as RFC 5322 and RFC 2047 want them, sendmail's exit status heard. */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail.h"
#include "tap.h"

static char *
build(const struct mail *mail, const char **why)
{
	char *message;
	size_t length;

	/* 2025-01-07T10:00:00Z, a Tuesday. */
	if (mail_build(mail, 1736244000, &message, &length, why) != 0)
		return NULL;
	return message;
}

static void
test_plain(void)
{
	struct mail mail = { "pinconf@example.com", "ann@example.com", "Confirm your address",
	    "Open this link:\nhttps://conf.example.com/x\n", NULL, 0 };
	const char *why;
	char *message = build(&mail, &why);

	tap_ok(message != NULL, "a plain mail builds");
	if (message == NULL)
		return;
	tap_is(strtok(message, "\n"), "Date: Tue, 07 Jan 2025 10:00:00 +0000",
	    "Date is RFC 5322's, in English");
	message[strlen(message)] = '\n';
	tap_ok(strstr(message, "\nFrom: pinconf@example.com\nTo: ann@example.com\n"
	    "Subject: Confirm your address\n") != NULL, "From, To, an ASCII Subject as is");
	tap_ok(strstr(message, "\nMessage-ID: <") != NULL && strstr(message, "@example.com>\n") != NULL,
	    "a Message-ID in the sender's domain");
	tap_ok(strstr(message, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\nOpen this link:\n") != NULL,
	    "MIME headers, a blank line, the text");
	free(message);
}

static void
test_encoded_subject(void)
{
	struct mail mail = { "pinconf@example.com", "ann@example.com",
	    "R\xc3\xa9initialiser le mot de passe \xe2\x80\x94 une tr\xc3\xa8s longue ligne qui d\xc3\xa9passe",
	    "x\n", NULL, 0 };
	const char *why;
	char *message = build(&mail, &why);

	tap_ok(message != NULL && strstr(message, "Subject: =?UTF-8?B?") != NULL,
	    "a non-ASCII Subject becomes encoded words");
	tap_ok(message != NULL && strstr(message, "?=\n =?UTF-8?B?") != NULL,
	    "a long one is folded into several, each under 76 characters");
	free(message);
}

static void
test_refusals(void)
{
	struct mail mail = { "pinconf@example.com", "ann@example.com\nBcc: eve@evil.net", "Hi",
	    "x\n", NULL, 0 };
	char long_line[1100];
	const char *why;

	tap_ok(build(&mail, &why) == NULL && strstr(why, "line break") != NULL,
	    "a line break in To is refused (header injection)");
	mail.to = "ann@example.com";
	mail.subject = "Hi\r\nBcc: eve@evil.net";
	tap_ok(build(&mail, &why) == NULL, "a CR LF in Subject is refused");
	mail.subject = "Hi";
	memset(long_line, 'a', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	mail.text = long_line;
	tap_ok(build(&mail, &why) == NULL && strstr(why, "998") != NULL,
	    "a text line over 998 bytes is refused");
}

static void
test_attachment(void)
{
	struct mail_attachment ics = { "invite.ics", "text/calendar; charset=utf-8",
	    "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 32 };
	struct mail mail = { "pinconf@example.com", "ann@example.com", "Invitation", "See you\n",
	    &ics, 1 };
	const char *why;
	char *message = build(&mail, &why);

	tap_ok(message != NULL && strstr(message, "Content-Type: multipart/mixed; boundary=\"") != NULL,
	    "an attachment makes the mail multipart/mixed");
	tap_ok(message != NULL && strstr(message, "filename=\"invite.ics\"\n\n"
	    "QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo=\n") != NULL,
	    "the attachment goes in base64");
	free(message);
}

/* A sendmail of the test's own: a script running body, in a fresh directory. */
static const char *
fake_sendmail(const char *name, const char *body)
{
	static char path[2][64];
	static int turn;
	char *dir;
	FILE *out;

	turn = !turn;
	snprintf(path[turn], sizeof(path[turn]), "/tmp/unit-mail-XXXXXX");
	if ((dir = mkdtemp(path[turn])) == NULL)
		return "/nonexistent";
	snprintf(path[turn], sizeof(path[turn]), "%s/%s", dir, name);
	if ((out = fopen(path[turn], "w")) == NULL)
		return "/nonexistent";
	fprintf(out, "#!/bin/sh\n%s\n", body);
	fclose(out);
	chmod(path[turn], 0700);
	return path[turn];
}

static void
test_send(void)
{
	static char big[200000];
	const char *reads_all = fake_sendmail("reads-all", "cat > /dev/null");
	const char *reads_none = fake_sendmail("reads-none", "exit 0");
	char why[256];

	tap_ok(mail_send(reads_all, "x\n", 2, why, sizeof(why)) == 0,
	    "a sendmail that reads the message and exits 0 took it");
	/* More than a pipe holds, so the write fails once the script is gone. */
	memset(big, 'x', sizeof(big));
	tap_ok(mail_send(reads_none, big, sizeof(big), why, sizeof(why)) == -1 &&
	    strstr(why, "took only") != NULL,
	    "a sendmail that exits 0 without reading the message is an error");
	unlink(reads_all);
	unlink(reads_none);
	tap_ok(mail_send("/bin/false", "x\n", 2, why, sizeof(why)) == -1 &&
	    strstr(why, "exit status 1") != NULL, "a failing sendmail is an error with its status");
	tap_ok(mail_send("/nonexistent/sendmail", "x\n", 2, why, sizeof(why)) == -1 &&
	    strstr(why, "cannot run") != NULL, "a missing sendmail is an error that says so");
}

int
main(void)
{
	test_plain();
	test_encoded_subject();
	test_refusals();
	test_attachment();
	test_send();
	return tap_done();
}
