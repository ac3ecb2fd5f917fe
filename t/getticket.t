#!/usr/bin/env python3
# getticket.t: GET /cgi-bin/getticket.cgi?id=NAME&pin=PIN signs a Sinch user
# ticket (sinch-api.md section 4) for an active conference's PIN, and counts
# wrong PINs against the client's address, the callback's included.
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import KEY, SECRET, action_name, says, ice_browser, new_callid  # noqa: E402

PATH = '/cgi-bin/getticket.cgi'
ADDRESS = '127.0.0.1'
RIGHT = '4321'

# sinch-api.md section 4, computed with sinch-ticketgen: checks the test's own signer.
TICKET_VECTOR = {
    'user': 'alice@example.com',
    'created': '2026-11-24T10:00:00.000Z',
    'expires': 86400,
    'ticket': 'eyJhcHBsaWNhdGlvbktleSI6IjViMGYzYTRlLTljMWQtNGUyZi04YTdiLTJjM2Q0ZTVmNmE3YiIsImlkZW50aXR5Ijp7'
              'InR5cGUiOiJ1c2VybmFtZSIsImVuZHBvaW50IjoiYWxpY2VAZXhhbXBsZS5jb20ifSwiY3JlYXRlZCI6IjIwMjYtMTEt'
              'MjRUMTA6MDA6MDAuMDAwWiIsImV4cGlyZXNJbiI6ODY0MDB9:ts2iPNpzAQm3f74Tcs6BpgeUWyWzGiUcNKBEV+3w0bk=',
}


# ---------------------------------------------------------------- Sinch's ticket, written from the documentation

def ticket_json(user, created, expires, key=KEY):
    """UserTicketJson: compact, members in the documented order, UTF-8 as is."""
    return json.dumps({'applicationKey': key,
                       'identity': {'type': 'username', 'endpoint': user},
                       'created': created, 'expiresIn': expires},
                      separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def ticket_mac(raw, secret=SECRET):
    return hmac.new(base64.b64decode(secret, validate=True), raw, hashlib.sha256).digest()


def make_ticket(raw, secret=SECRET):
    return base64.b64encode(raw).decode('ascii') + ':' + base64.b64encode(ticket_mac(raw, secret)).decode('ascii')


def split_ticket(ticket):
    """(json bytes, mac bytes) of a ticket, or (None, None) if it is not BASE64:BASE64."""
    try:
        left, right = ticket.split(':')
        return base64.b64decode(left, validate=True), base64.b64decode(right, validate=True)
    except (AttributeError, ValueError):
        return None, None


def leaked(text):
    """The secret, a run of 8 or more of its characters, or its bytes in hex, if text has one."""
    decoded = base64.b64decode(SECRET)
    for needle in (decoded.hex(), decoded.hex().upper()):
        if needle in text:
            return needle
    for length in range(len(SECRET), 7, -1):
        for start in range(0, len(SECRET) - length + 1):
            if SECRET[start:start + length] in text:
                return SECRET[start:start + length]
    return ''


def from_cgi(r, lines):
    """Whether getticket.cgi answered, rather than the web server on its own."""
    return bool(lines) or re.match(r'application/json\b', r.headers.get('content-type', '')) is not None


def run_cgi_directly(scratch, query, method='GET', config=None):
    """Run the installed getticket.cgi as RFC 3875 says a server does: (status, headers, body, stderr lines)."""
    environment = {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'GATEWAY_INTERFACE': 'CGI/1.1', 'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '80', 'REQUEST_METHOD': method, 'QUERY_STRING': query,
        'SCRIPT_NAME': PATH, 'REQUEST_URI': PATH + '?' + query, 'REMOTE_ADDR': ADDRESS,
        'PINCONF_CONFIG': config or scratch.config,
    }
    done = subprocess.run([os.path.join(os.environ['PINCONF_CGIBINDIR'], 'getticket.cgi')],
                          env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)
    head, _, body = done.stdout.partition(b'\r\n\r\n')
    headers = {}
    for line in head.decode('latin-1').split('\r\n'):
        name, _, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    match = re.match(r'(\d{3})\b', headers.get('status', ''))
    return (int(match.group(1)) if match else None, headers, body,
            done.stderr.decode('utf-8', errors='replace').splitlines())


def main(t):
    scratch = pinconf.Scratch('getticket')
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.add_conference('Old', '5555', starts_on='2019-01-01', ends_on='2020-01-01')
    today = datetime.datetime.now(datetime.timezone.utc).date()
    future = (today + datetime.timedelta(days=30)).isoformat()
    scratch.add_conference('Next month', '6666', starts_on=future, ends_on=future)
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    scratch.add_conference('Ends today', '7777', starts_on='2019-01-01', ends_on=today.isoformat())
    scratch.add_conference('Ended yesterday', '8888', starts_on='2019-01-01', ends_on=yesterday)
    server = pinconf.start_server(scratch)
    first_mark = server.log_mark()
    answers = []	# (what, response, log lines) of every getticket request
    callback_answers = []

    def request(query, what, method='GET', body=None):
        """One unsigned request to getticket.cgi; query is sent exactly as given."""
        headers = [('Host', '127.0.0.1:%d' % server.port)]
        if method in ('POST', 'PUT'):
            body = body or b''
            headers += [('Content-Type', 'application/x-www-form-urlencoded'), ('Content-Length', str(len(body)))]
        mark = server.log_mark()
        r = server.request(method, PATH + ('' if query is None else '?' + query), body, headers)
        lines = server.log_since(mark)
        answers.append((what, r, lines))
        return r, lines

    def run_cgi(query):
        return run_cgi_directly(scratch, query)

    def get(name, pin, what):
        query = []
        if name is not None:
            query.append('id=' + urllib.parse.quote(name, safe=''))
        if pin is not None:
            query.append('pin=' + urllib.parse.quote(pin, safe=''))
        return request('&'.join(query), what)

    def callback(event):
        r = server.post(event)
        callback_answers.append(r)
        return r

    def guesses():
        return scratch.query('SELECT count(*) AS n FROM pin_guess WHERE address = ?', (ADDRESS,))[0]['n']

    t.is_(make_ticket(ticket_json(TICKET_VECTOR['user'], TICKET_VECTOR['created'], TICKET_VECTOR['expires'])),
          TICKET_VECTOR['ticket'], "the test's own ticket signer reproduces the sinch-ticketgen vector")

    # ------------------------------------------------------------ a ticket
    started = datetime.datetime.now(datetime.timezone.utc)
    r, lines = get('Ann', RIGHT, 'the right PIN')
    t.is_(r.status, 200, "an active conference's PIN gets 200")
    t.like(r.headers.get('content-type', ''), r'^application/json\s*(;|$)', 'the ticket is sent as application/json')
    t.is_(r.headers.get('cache-control'), 'no-store', 'the ticket is sent with Cache-Control: no-store')
    body = r.json if isinstance(r.json, dict) else {}
    t.is_(sorted(body), ['userTicket'], 'the body is {"userTicket": ...} and nothing else')
    ticket = body.get('userTicket')
    t.like(ticket, r'^[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]{43}=$', 'the ticket is base64(JSON):base64(32-byte MAC)')
    raw, mac = split_ticket(ticket)
    try:
        decoded = json.loads(raw.decode('utf-8'), object_pairs_hook=lambda pairs: pairs)
    except (AttributeError, ValueError):
        decoded = None
    t.is_([name for name, value in decoded or []], ['applicationKey', 'identity', 'created', 'expiresIn'],
          "the ticket's JSON has applicationKey, identity, created, expiresIn in that order")
    fields = dict(decoded or [])
    created = fields.get('created')
    t.like(created, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', 'created is ISO 8601 UTC with milliseconds and Z')
    try:
        when = datetime.datetime.strptime(created, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
        skew = (when - started).total_seconds()
    except (TypeError, ValueError):
        skew = None
    t.between(skew, -2, 5, 'created is the time of the request (within a few seconds)')
    t.is_(raw, ticket_json('Ann', created, 3600),
          'the JSON is exactly {"applicationKey":KEY,"identity":{"type":"username","endpoint":"Ann"},'
          '"created":...,"expiresIn":3600}, compact')
    t.ok(mac is not None and hmac.compare_digest(mac, ticket_mac(raw or b'')),
         'the MAC is HMAC-SHA256 of the exact JSON bytes under the base64-decoded secret')
    t.is_(len(lines), 0, 'a ticket is issued without a log line')
    t.is_(scratch.query('SELECT identity, address FROM ticket'), [{'identity': 'Ann', 'address': ADDRESS}],
          'the ticket is recorded in table ticket with identity Ann and address 127.0.0.1')
    t.is_(guesses(), 0, 'the right PIN adds no pin_guess row')

    # ticket_expires in the config sets expiresIn.
    scratch.write_config(ticket_expires=86400)
    r, lines = get('Bob', RIGHT, 'the right PIN with ticket_expires 86400')
    raw, mac = split_ticket((r.json or {}).get('userTicket'))
    fields = json.loads(raw) if raw else {}
    t.is_((r.status, fields.get('expiresIn')), (200, 86400), 'ticket_expires = 86400 in the config makes expiresIn 86400')
    t.ok(raw is not None and raw == ticket_json('Bob', fields.get('created'), 86400) and
         hmac.compare_digest(mac, ticket_mac(raw)), 'that ticket is exact and its MAC verifies')
    scratch.write_config()

    # Names: UTF-8 round-trips, 64 bytes is the longest, JSON escapes as JSON.stringify does.
    for name, what in (('Zoë', 'the UTF-8 name Zoë'), ('東京', 'the UTF-8 name 東京'),
                       ('Ann "A." O\'Neil \\ a/b', 'a name with a quote, a backslash and a slash'),
                       ('a' * 64, 'a name of exactly 64 bytes'),
                       ('東' * 21 + 'x', 'a name of 64 bytes of which 63 are three-byte characters')):
        r, lines = get(name, RIGHT, what)
        raw, mac = split_ticket((r.json or {}).get('userTicket'))
        fields = json.loads(raw) if raw else {}
        t.ok(r.status == 200 and raw == ticket_json(name, fields.get('created'), 3600) and
             hmac.compare_digest(mac, ticket_mac(raw)),
             '%s gets a ticket whose JSON carries it as UTF-8, exactly, with a valid MAC' % what,
             diag='  status %r, json %r' % (r.status, raw))
        t.is_(scratch.query('SELECT identity FROM ticket ORDER BY rowid DESC LIMIT 1'), [{'identity': name}],
              '%s is recorded in table ticket as sent' % what)

    # ------------------------------------------------------------ 400: bad requests, before anything else
    # A web server may refuse some of these itself (lighttpd 1.4 refuses control
    # characters and overlong UTF-8 in the URL) before getticket.cgi runs: then
    # only the status and the untouched database are checked here, and the CGI's
    # own check is run directly below.
    bad_ids = []
    for query, what in (('pin=4321', 'id missing'),
                        ('id=&pin=4321', 'id empty'),
                        ('id=Ann%0AEve&pin=4321', 'id with %0A (newline)'),
                        ('id=Ann%00&pin=4321', 'id with %00 (NUL)'),
                        ('id=Ann%7F&pin=4321', 'id with %7F (DEL)'),
                        ('id=Ann%C0%AF&pin=4321', 'id with %C0%AF (overlong UTF-8)'),
                        ('id=Ann%ED%A0%80&pin=4321', 'id with %ED%A0%80 (a UTF-16 surrogate)'),
                        ('id=' + 'a' * 65 + '&pin=4321', 'id of 65 bytes'),
                        ('id=Ann', 'pin missing'),
                        ('id=Ann&pin=', 'pin empty'),
                        ('', 'an empty query string')):
        what = 'a request with ' + what
        before = scratch.counts()
        mark = server.log_mark()
        r, lines = request(query, what)
        if from_cgi(r, lines):
            pinconf.check_refusal(t, server, scratch, r, mark, before, what, 400)
        else:
            t.is_(r.status, 400, '%s is refused with 400' % what)
            t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what)
            t.skip('%s: the refusal is JSON with one log line' % what,
                   'the web server refused it itself, before getticket.cgi ran')
        if '%' in query:
            bad_ids.append((query, what))
    status, headers, body, stderr = run_cgi_directly(scratch, 'id=Ann&pin=4321', config=scratch.path('none.conf'))
    t.ok(status == 500 and len(stderr) == 1 and 'none.conf' in stderr[0],
         'getticket.cgi run directly with a good id gets past the id check (to a 500 for its missing config)',
         diag='  status %r, body %r, stderr %r' % (status, body[:200], stderr))
    for query, what in bad_ids:
        before = scratch.counts()
        status, headers, body, stderr = run_cgi(query)
        try:
            error = json.loads(body).get('error')
        except (ValueError, AttributeError):
            error = None
        t.ok(status == 400 and re.match(r'application/json\b', headers.get('content-type', '')) and
             isinstance(error, str) and error and len(stderr) == 1 and scratch.counts() == before,
             'getticket.cgi run directly, %s: 400, a JSON error, one log line, nothing written' % what,
             diag='  status %r, headers %r, body %r, stderr %r' % (status, headers, body[:200], stderr))

    # ------------------------------------------------------------ 404: no active conference has this PIN
    r, lines = get('Ann', '7777', 'the PIN of a conference that ends today')
    t.is_(r.status, 200, 'the PIN of a conference whose ends_on is today gets 200 (both dates are inclusive)')
    for pin, what in (('9999', 'an unknown PIN'),
                      ('5555', "an expired conference's PIN"),
                      ('8888', 'the PIN of a conference that ended yesterday'),
                      ('6666', 'the PIN of a conference that starts next month'),
                      ('43210', 'a PIN one digit too long'),
                      ('12ab', "the malformed PIN '12ab'")):
        before = scratch.counts()
        r, lines = get('Ann', pin, what)
        t.is_(r.status, 404, '%s gets 404' % what)
        t.ok(isinstance(r.json, dict) and isinstance(r.json.get('error'), str) and r.json['error'],
             '%s: the body is {"error": "..."}' % what, diag='  body: %r' % r.body[:300])
        t.like(r.headers.get('content-type', ''), r'^application/json\b', '%s: application/json' % what)
        after = scratch.counts()
        t.is_(after, dict(before, pin_guess=before['pin_guess'] + 1),
              '%s adds one pin_guess row and writes nothing else' % what)
        t.is_(scratch.query('SELECT address FROM pin_guess ORDER BY rowid DESC LIMIT 1'), [{'address': ADDRESS}],
              '%s: the guess is recorded against 127.0.0.1' % what)
        t.ok(len(lines) == 1 and '404' in lines[0], '%s: one log line, saying 404' % what, diag='  log: %r' % lines)

    # ------------------------------------------------------------ 405: only GET
    for method in ('POST', 'PUT', 'DELETE'):
        before = scratch.counts()
        mark = server.log_mark()
        r, lines = request('id=Ann&pin=4321', method, method=method)
        pinconf.check_refusal(t, server, scratch, r, mark, before, method, 405)
        t.is_(r.headers.get('allow'), 'GET', '%s: the 405 says Allow: GET' % method)
    # A refused body is drained by the CGI: Apache's mod_cgid would otherwise
    # reset the connection and lose the answer.
    try:
        r, lines = request('id=Ann&pin=4321', 'POST with a body', method='POST', body=b'id=Ann&pin=4321' * 64)
        t.is_(r.status, 405, 'a POST with a body getticket.cgi does not read gets a complete 405')
    except (OSError, http.client.HTTPException) as e:
        t.ok(False, 'a POST with a body getticket.cgi does not read gets a complete 405',
             diag='  %s: %s' % (type(e).__name__, e))

    # ------------------------------------------------------------ 429: the guess limit
    scratch.execute('DELETE FROM pin_guess')
    scratch.execute("UPDATE setting SET value = 3 WHERE name = 'guess_limit'")
    for n in range(1, 4):
        r, lines = get('Eve', '000%d' % n, 'wrong PIN %d of 3' % n)
        t.is_(r.status, 404, 'with guess_limit 3, wrong PIN %d gets 404' % n)
    t.is_(guesses(), 3, 'the three wrong PINs are three pin_guess rows for 127.0.0.1')
    before = scratch.counts()
    mark = server.log_mark()
    r, lines = get('Eve', RIGHT, 'the right PIN after guess_limit wrong ones')
    pinconf.check_refusal(t, server, scratch, r, mark, before, 'the right PIN after 3 wrong PINs (guess_limit 3)', 429)
    retry = r.headers.get('retry-after', '')
    t.ok(re.fullmatch(r'[0-9]+', retry) is not None and 1 <= int(retry) <= 900,
         'the 429 has Retry-After, an integer from 1 to guess_window (900)', diag='  Retry-After: %r' % retry)
    t.ok(lines and ADDRESS in lines[0] and '429' in lines[0], 'the 429 log line names the address',
         diag='  log: %r' % lines)

    scratch.execute("UPDATE setting SET value = 60 WHERE name = 'guess_window'")
    scratch.execute("UPDATE pin_guess SET at = strftime('%Y-%m-%dT%H:%M:%SZ','now','-50 seconds')")
    r, lines = get('Eve', RIGHT, 'the right PIN, guesses 50 s old, guess_window 60')
    retry = r.headers.get('retry-after', '')
    t.is_(r.status, 429, 'with guess_window 60 and the guesses 50 s old the address is still locked out')
    t.ok(re.fullmatch(r'[0-9]+', retry) is not None and 8 <= int(retry) <= 11,
         'Retry-After is then about 10 s (8 to 11)', diag='  Retry-After: %r' % retry)
    t.is_(scratch.query('SELECT address FROM locked_out'), [{'address': ADDRESS}], 'the view locked_out lists 127.0.0.1')
    scratch.execute("DELETE FROM pin_guess WHERE address = '127.0.0.1'")
    r, lines = get('Eve', RIGHT, 'the right PIN after the lockout is lifted')
    t.is_(r.status, 200, "an admin's DELETE FROM pin_guess lifts the lockout: the right PIN gets 200 again")

    # ------------------------------------------------------------ no way around it through the callback
    r, lines = get('Ann', RIGHT, "Ann's ticket before her browser guesses")
    t.is_(r.status, 200, "Ann gets a ticket with the right PIN from 127.0.0.1")
    for n in range(1, 4):
        count = guesses()
        r = callback(ice_browser(new_callid(), '000%d' % n, user='Ann'))
        t.ok(r.status == 200 and says(r.json) == [pinconf.INVALID] and action_name(r.json) == 'hangup',
             "Ann's browser ICE with wrong PIN %d is answered \"Invalid code\" and hangup" % n,
             diag='  status %r, body %r' % (r.status, r.body[:300]))
        t.is_(guesses(), count + 1, "Ann's browser ICE with wrong PIN %d adds a pin_guess row for 127.0.0.1" % n)
    r, lines = get('Eve', RIGHT, 'the right PIN after 3 wrong PINs through the callback')
    t.is_(r.status, 429, 'after guess_limit wrong PINs through the callback getticket answers 429 from that address')
    r = callback(ice_browser(new_callid(), RIGHT, user='Ann'))
    t.ok(action_name(r.json) == 'hangup' and b'connectConf' not in r.body,
         "while locked out, Ann's browser ICE with the right PIN is refused: hangup, no connectConf",
         diag='  body: %r' % r.body[:300])
    scratch.execute("DELETE FROM pin_guess WHERE address = '127.0.0.1'")

    # ------------------------------------------------------------ faults
    missing = scratch.path('missing', 'pinconf.db')
    scratch.write_config(database=missing)
    before = scratch.counts()
    mark = server.log_mark()
    r, lines = get('Ann', RIGHT, 'the database missing')
    pinconf.check_refusal(t, server, scratch, r, mark, before, 'the database missing', 503)
    t.ok(lines and missing in lines[0], 'the database missing: the log line names the database path',
         diag='  log: %r' % lines)
    t.ok(not os.path.exists(missing), 'getticket never creates a missing database')

    v99 = scratch.make_db(scratch.path('v99', 'pinconf.db'))
    scratch.execute('PRAGMA user_version = 99', path=v99)
    scratch.write_config(database=v99)
    mark = server.log_mark()
    r, lines = get('Ann', RIGHT, 'a database of schema version 99')
    t.is_(r.status, 503, 'a database of schema version 99 gets 503')
    t.ok(isinstance(r.json, dict) and isinstance(r.json.get('error'), str),
         'a database of schema version 99: a JSON {"error": ...} body', diag='  body: %r' % r.body[:300])
    t.ok(len(lines) == 1 and v99 in lines[0] and 'schema version 99' in lines[0],
         'a database of schema version 99: one log line naming the path and the version', diag='  log: %r' % lines)
    written = scratch.counts(v99)
    t.is_((written['ticket'], written['pin_guess']), (0, 0), 'a database of schema version 99 is not written')

    os.unlink(scratch.config)
    before = scratch.counts()
    mark = server.log_mark()
    r, lines = get('Ann', RIGHT, 'the config missing')
    pinconf.check_refusal(t, server, scratch, r, mark, before, 'the config missing', 500)
    t.ok(lines and scratch.config in lines[0], 'the config missing: the log line names the config path',
         diag='  log: %r' % lines)
    scratch.write_config()
    r, lines = get('Ann', RIGHT, 'the right PIN with everything repaired')
    t.is_(r.status, 200, 'with the config and database back the right PIN gets 200 again')

    # ------------------------------------------------------------ every answer
    # The CGI's own answers: not those a web server gave before running it.
    cgi_answers = [(what, r, lines) for what, r, lines in answers if from_cgi(r, lines) or r.status == 200]
    refusals = [(what, r, lines) for what, r, lines in cgi_answers if r.status != 200]
    bad = [(what, r.status, lines) for what, r, lines in refusals if len(lines) != 1]
    t.ok(refusals and not bad, 'every one of the %d refusals wrote exactly one log line' % len(refusals),
         diag='  %r' % bad)
    bad = [(what, r.status, r.body[:100]) for what, r, lines in refusals
           if not (isinstance(r.json, dict) and isinstance(r.json.get('error'), str) and r.json['error'])]
    t.ok(not bad, 'every refusal has a JSON {"error": "..."} body', diag='  %r' % bad)
    bad = [(what, r.status) for what, r, lines in refusals if r.status < 400]
    t.ok(not bad, 'no refusal is answered with a 2xx or 3xx status', diag='  %r' % bad)
    bad = [(what, lines) for what, r, lines in cgi_answers if r.status == 200 and lines]
    t.ok(not bad, 'no ticket wrote a log line', diag='  %r' % bad)
    bad = [(what, r.status, r.headers.get('cache-control')) for what, r, lines in cgi_answers
           if r.headers.get('cache-control') != 'no-store']
    t.ok(not bad, 'every answer, refusals included, carries Cache-Control: no-store', diag='  %r' % bad)

    everything = [r.body.decode('utf-8', errors='replace') + '\n' +
                  '\n'.join('%s: %s' % item for item in r.headers.items())
                  for what, r, lines in answers] + \
                 [r.body.decode('utf-8', errors='replace') for r in callback_answers] + \
                 server.log_since(first_mark)
    t.is_(leaked('\n'.join(everything)), '',
          'the secret (or any 8 characters of it, or its bytes in hex) is in no response and no log line')


pinconf.run(main)
