/* mail.c: plain-text UTF-8 mail (RFC 5322, RFC 2047), handed to the host's sendmail. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "mail.h"

/* RFC 5322 section 2.1.1: a line is at most 998 octets. */
#define MAIL_LINE_MAX		998
/* RFC 2047: an encoded word is at most 75 characters; 45 bytes make 60 of base64. */
#define MAIL_WORD_BYTES		45

static int
mail_header_ok(const char *value)
{
	return value != NULL && strpbrk(value, "\r\n") == NULL;
}

static int
mail_is_ascii(const char *text)
{
	for (; *text != '\0'; text++)
		if ((unsigned char)*text >= 0x80 || (unsigned char)*text < 0x20)
			return 0;
	return 1;
}

/* Subject as is, or as encoded words split at character boundaries, folded. */
static int
mail_write_subject(FILE *out, const char *subject)
{
	size_t length = strlen(subject), start = 0, end;
	char *word;

	fputs("Subject:", out);
	if (mail_is_ascii(subject) && length <= 900) {
		fprintf(out, " %s\n", subject);
		return 0;
	}
	while (start < length) {
		end = start + MAIL_WORD_BYTES < length ? start + MAIL_WORD_BYTES : length;
		/* Never split a UTF-8 sequence: back up to the start of a character. */
		while (end < length && end > start + 1 && ((unsigned char)subject[end] & 0xc0) == 0x80)
			end--;
		if ((word = base64_encode(subject + start, end - start)) == NULL)
			return -1;
		fprintf(out, " =?UTF-8?B?%s?=\n", word);
		free(word);
		start = end;
	}
	return 0;
}

/* RFC 5322 date-time in UTC, in English whatever the locale. */
static void
mail_write_date(FILE *out, time_t now)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&now, &tm);
	fprintf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\n", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
mail_lines_fit(const char *text)
{
	size_t line;

	for (; *text != '\0'; text += line + (text[line] == '\n')) {
		line = strcspn(text, "\n");
		if (line > MAIL_LINE_MAX || memchr(text, '\r', line) != NULL)
			return 0;
	}
	return 1;
}

static void
mail_write_text_part_headers(FILE *out)
{
	fputs("Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n", out);
}

/* Base64 in lines of 76, as RFC 2045 wants. */
static int
mail_write_base64(FILE *out, const char *data, size_t length)
{
	char *encoded;
	size_t i, total;

	if ((encoded = base64_encode(data, length)) == NULL)
		return -1;
	total = strlen(encoded);
	for (i = 0; i < total; i += 76)
		fprintf(out, "%.*s\n", (int)(total - i < 76 ? total - i : 76), encoded + i);
	free(encoded);
	return 0;
}

static int
mail_write_attachments(FILE *out, const struct mail *mail, const char *boundary)
{
	const struct mail_attachment *attachment;
	size_t i;

	fprintf(out, "--%s\n", boundary);
	mail_write_text_part_headers(out);
	fprintf(out, "\n%s", mail->text);
	for (i = 0; i < mail->attachment_count; i++) {
		attachment = &mail->attachments[i];
		fprintf(out, "\n--%s\nContent-Type: %s\nContent-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment; filename=\"%s\"\n\n", boundary,
		    attachment->content_type, attachment->filename);
		if (mail_write_base64(out, attachment->data, attachment->length) != 0)
			return -1;
	}
	fprintf(out, "--%s--\n", boundary);
	return 0;
}

int
mail_build(const struct mail *mail, time_t now, char **message, size_t *length,
    const char **why)
{
	unsigned char random[12];
	char id[25], boundary[40];
	const char *domain;
	size_t i;
	FILE *out;
	int rc = -1;

	*message = NULL;
	*why = "a header value holds a line break";
	if (!mail_header_ok(mail->from) || !mail_header_ok(mail->to) ||
	    !mail_header_ok(mail->subject))
		return -1;
	for (i = 0; i < mail->attachment_count; i++)
		if (!mail_header_ok(mail->attachments[i].filename) ||
		    strchr(mail->attachments[i].filename, '"') != NULL ||
		    !mail_header_ok(mail->attachments[i].content_type))
			return -1;
	*why = "a line of the text is longer than 998 bytes, or holds a CR";
	if (!mail_lines_fit(mail->text))
		return -1;
	*why = "no random bytes for the Message-ID";
	if (crypto_random(random, sizeof(random)) != 0)
		return -1;
	for (i = 0; i < sizeof(random); i++)
		snprintf(id + 2 * i, 3, "%02x", random[i]);
	/* Random hex cannot occur in base64 text or in ours by chance. */
	snprintf(boundary, sizeof(boundary), "=_pinconf_%s", id);
	domain = (domain = strrchr(mail->from, '@')) != NULL ? domain + 1 : "localhost";
	*why = "out of memory";
	if ((out = open_memstream(message, length)) == NULL)
		return -1;
	mail_write_date(out, now);
	fprintf(out, "From: %s\nTo: %s\n", mail->from, mail->to);
	if (mail_write_subject(out, mail->subject) != 0)
		goto out;
	fprintf(out, "Message-ID: <%s@%s>\nMIME-Version: 1.0\n", id, domain);
	if (mail->attachment_count == 0) {
		mail_write_text_part_headers(out);
		fprintf(out, "\n%s", mail->text);
	} else {
		fprintf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary);
		if (mail_write_attachments(out, mail, boundary) != 0)
			goto out;
	}
	rc = 0;
out:
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0) {
		free(*message);
		*message = NULL;
	}
	return rc;
}

/* The child: message on standard input, nothing on our standard output (the response). */
static void
mail_exec(const char *sendmail, int input)
{
	char *const argv[] = { "sendmail", "-t", "-oi", NULL };
	int null;

	if (dup2(input, STDIN_FILENO) < 0)
		_exit(127);
	if ((null = open("/dev/null", O_WRONLY)) >= 0)
		dup2(null, STDOUT_FILENO);
	signal(SIGPIPE, SIG_DFL);
	execv(sendmail, argv);
	_exit(127);
}

int
mail_send(const char *sendmail, const char *message, size_t length, char *why, size_t why_size)
{
	struct sigaction ignore, saved;
	size_t written = 0;
	ssize_t put;
	int fds[2], status;
	pid_t child;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, why_size, "sendmail %s: cannot make a pipe: %s", sendmail, strerror(errno));
		return -1;
	}
	if ((child = fork()) < 0) {
		snprintf(why, why_size, "sendmail %s: cannot fork: %s", sendmail, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (child == 0)
		mail_exec(sendmail, fds[0]);
	close(fds[0]);
	/* A sendmail that exits early must not kill us with SIGPIPE: we want its status. */
	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ignore, &saved);
	while (written < length) {
		if ((put = write(fds[1], message + written, length - written)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		written += (size_t)put;
	}
	close(fds[1]);
	sigaction(SIGPIPE, &saved, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, why_size, "sendmail %s: cannot wait: %s", sendmail, strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(why, why_size, "sendmail %s: cannot run it (missing, or not executable)",
		    sendmail);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(why, why_size, "sendmail %s: exit status %d", sendmail, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, why_size, "sendmail %s: killed by signal %d", sendmail, WTERMSIG(status));
	else if (written < length)
		snprintf(why, why_size, "sendmail %s: took only %zu of %zu bytes", sendmail,
		    written, length);
	else
		return 0;
	return -1;
}
