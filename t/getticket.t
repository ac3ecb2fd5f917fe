#!/usr/bin/env python3
# getticket.t: POST /cgi-bin/getticket.cgi (name, pin[, userId]) issues a
# server-made Sinch user id with a registration JWT (sinch-api.md section 4b)
# and a legacy user ticket (section 4) for an active conference's PIN.
import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import KEY, SECRET, getticket, post_form, GETTICKET_PATH  # noqa: E402

RIGHT = '4321'
NAME_RULE = 'Your name must be 1 to 64 printable characters.'
USER_ID = re.compile(r'^u-[A-Za-z0-9_-]{22}$')

# sinch-api.md section 4b: Sinch's own example.
JWT_VECTOR = {
    'key': 'a32e5a8d-f7d8-411c-9645-9038e8dd051d', 'secret': 'ax8hTTQJF0OPXL32r1LHMA==',
    'user': 'foo', 'nonce': '6b438bda-2d5c-4e8c-92b0-39f20a94b34e', 'iat': 1514862245,
    'derived': 'AZj5EsS8S7wb06xr5jERqPHsraQt3w/+Ih5EfrhisBQ=',
    'jwt': 'eyJhbGciOiJIUzI1NiIsImtpZCI6ImhrZGZ2MS0yMDE4MDEwMiJ9.eyJleHAiOjE1MTQ4NjI4NDUsImlhdCI6MTUxNDg2MjI0NSwia'
           'XNzIjoiLy9ydGMuc2luY2guY29tL2FwcGxpY2F0aW9ucy9hMzJlNWE4ZC1mN2Q4LTQxMWMtOTY0NS05MDM4ZThkZDA1MWQiLCJub25jZSI'
           '6IjZiNDM4YmRhLTJkNWMtNGU4Yy05MmIwLTM5ZjIwYTk0YjM0ZSIsInN1YiI6Ii8vcnRjLnNpbmNoLmNvbS9hcHBsaWNhdGlvbnMvYTMy'
           'ZTVhOGQtZjdkOC00MTFjLTk2NDUtOTAzOGU4ZGQwNTFkL3VzZXJzL2ZvbyJ9.10N-QAvRK0-dacox5X5YusK7C0AWb-kZLiNNTKLQw8I',
}


# ---------------------------------------------------------------- Sinch's algorithms, from the documentation

def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def jwt_key(secret, day):
    """HMAC-SHA256(Base64-Decode(secret), 'YYYYMMDD')."""
    return hmac.new(base64.b64decode(secret, validate=True), day.encode('ascii'), hashlib.sha256).digest()


def jwt_make(key, secret, user, iat, lifetime, nonce):
    day = datetime.datetime.fromtimestamp(iat, datetime.timezone.utc).strftime('%Y%m%d')
    header = {'alg': 'HS256', 'kid': 'hkdfv1-' + day}
    base = '//rtc.sinch.com/applications/' + key
    payload = {'iss': base, 'sub': base + '/users/' + user, 'iat': iat, 'exp': iat + lifetime, 'nonce': nonce}
    signing = b64url(json.dumps(header, sort_keys=True, separators=(',', ':')).encode()) + '.' + \
        b64url(json.dumps(payload, sort_keys=True, separators=(',', ':')).encode())
    return signing + '.' + b64url(hmac.new(jwt_key(secret, day), signing.encode(), hashlib.sha256).digest())


def jwt_verify(token, key=KEY, secret=SECRET):
    """(header, payload) if token is a registration JWT Sinch would accept, else (None, why)."""
    try:
        head, body, mac = token.split('.')
        header = json.loads(b64url_decode(head))
        payload = json.loads(b64url_decode(body))
        given = b64url_decode(mac)
    except (AttributeError, ValueError):
        return None, 'not three base64url JSON parts'
    if any('=' in part for part in (head, body, mac)):
        return None, 'padded base64url'
    if header.get('alg') != 'HS256' or not re.fullmatch(r'hkdfv1-\d{8}', str(header.get('kid'))):
        return None, 'header %r' % header
    day = header['kid'][7:]
    if not isinstance(payload.get('iat'), int) or datetime.datetime.fromtimestamp(
            payload['iat'], datetime.timezone.utc).strftime('%Y%m%d') != day:
        return None, 'kid date is not the UTC date of iat'
    want = hmac.new(jwt_key(secret, day), (head + '.' + body).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, given):
        return None, 'bad signature'
    return header, payload


def ticket_parts(ticket):
    """(decoded JSON, MAC ok) of a legacy user ticket (section 4)."""
    try:
        left, right = ticket.split(':')
        raw = base64.b64decode(left, validate=True)
        mac = base64.b64decode(right, validate=True)
        want = hmac.new(base64.b64decode(SECRET), raw, hashlib.sha256).digest()
        return json.loads(raw), hmac.compare_digest(mac, want)
    except (AttributeError, ValueError):
        return None, False


def utc(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


def spoken(day, today):
    words = '%d %s' % (day.day, day.strftime('%B'))
    return words if day.year == today.year else '%s %d' % (words, day.year)


def main(t):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    soon = today + datetime.timedelta(days=30)
    next_year = datetime.date(today.year + 1, 12, 7)
    scratch = pinconf.Scratch('getticket')
    weekly = scratch.add_conference('Weekly sync', RIGHT)
    other = scratch.add_conference('Other', '1357')
    scratch.add_conference('Ended', '5555', starts_on='2019-01-01', ends_on='2020-01-01')
    scratch.add_conference('Soon', '6666', starts_on=soon.isoformat())
    scratch.add_conference('Next year', '6667', starts_on=next_year.isoformat())
    locked = scratch.add_conference('Locked', '7001')
    scratch.execute('UPDATE conference SET locked = 1 WHERE id = ?', (locked['id'],))
    full = scratch.add_conference('Full', '7002')
    scratch.execute('UPDATE conference SET max_participants = 2 WHERE id = ?', (full['id'],))
    for n in range(2):
        scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, joined) VALUES (?, 'pstn', ?, ?,"
                        " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", ('full%d' % n, '+4670000000%d' % n, full['id']))
    anna = scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna Svensson', '2468')",
                           (weekly['id'],))
    access_log = scratch.path('access.log')
    extra = {'lighttpd': 'server.modules += ( "mod_accesslog" )\naccesslog.filename = %s\n' % json.dumps(access_log)}
    server = pinconf.start_server(scratch, extra_conf=extra)
    if server.kind == 'apache':
        access_log = server.access_log
    first_mark = server.log_mark()
    answers = []

    def ask(name, pin, what, user_id=None, headers=None):
        mark = server.log_mark()
        r = getticket(server, name, pin, user_id, headers=headers)
        lines = server.log_since(mark)
        answers.append((what, r, lines))
        return r, lines

    def guesses():
        return scratch.query("SELECT count(*) AS n FROM pin_guess")[0]['n']

    def refused(r, lines, status, what, error=None, guess=False, before=None):
        t.is_(r.status, status, '%s is answered %d' % (what, status))
        t.like(r.headers.get('content-type', ''), r'^application/json\b', '%s: the answer is JSON' % what)
        got = r.json.get('error') if isinstance(r.json, dict) else None
        if error is not None:
            t.is_(got, error, '%s: the error says %r' % (what, error))
        else:
            t.ok(isinstance(got, str) and got, '%s: the body is {"error": "..."}' % what, diag=r.body[:200])
        t.is_(len(lines), 1, '%s: exactly one log line' % what)
        if before is not None:
            want = dict(before, pin_guess=before['pin_guess'] + 1) if guess else before
            t.is_(scratch.counts(), want, '%s: %s' % (what, 'one pin_guess row and nothing else is written'
                                                     if guess else 'nothing is written'))

    # ------------------------------------------------------------ the verifier itself
    v = JWT_VECTOR
    t.is_(base64.b64encode(jwt_key(v['secret'], '20180102')).decode(), v['derived'],
          "the test's JWT key derivation reproduces Sinch's documented derived key")
    t.is_(jwt_make(v['key'], v['secret'], v['user'], v['iat'], 600, v['nonce']), v['jwt'],
          "the test's JWT signer reproduces Sinch's documented JWT byte for byte")
    t.ok(jwt_verify(v['jwt'], v['key'], v['secret'])[0] is not None, "the test's verifier accepts Sinch's JWT")
    t.is_(jwt_verify(v['jwt'][:-2] + ('AA' if v['jwt'][-2:] != 'AA' else 'BB'), v['key'], v['secret'])[0], None,
          "the test's verifier refuses Sinch's JWT with its signature changed")
    t.is_(jwt_verify(v['jwt'], v['key'], 'bm90IHRoZSBzZWNyZXQ=')[0], None,
          "the test's verifier refuses Sinch's JWT under another secret")

    # ------------------------------------------------------------ a first join
    started = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    r, lines = ask('Ann', RIGHT, 'the right PIN')
    t.is_(r.status, 200, "an active conference's PIN gets 200")
    t.like(r.headers.get('content-type', ''), r'^application/json\b', 'the credentials are application/json')
    t.is_(r.headers.get('cache-control'), 'no-store', 'the credentials carry Cache-Control: no-store')
    t.is_(r.headers.get('x-content-type-options'), 'nosniff', 'the credentials carry X-Content-Type-Options: nosniff')
    body = r.json if isinstance(r.json, dict) else {}
    t.is_(sorted(body), sorted(['userId', 'jwt', 'userTicket', 'expiresIn', 'name', 'conference']),
          'the body has userId, jwt, userTicket, expiresIn, name, conference and nothing else')
    user_id = body.get('userId', '')
    t.like(user_id, USER_ID.pattern, 'userId is "u-" and 22 base64url characters (128 random bits)')
    t.is_((body.get('name'), body.get('conference')), ('Ann', 'Weekly sync'), 'name and conference are echoed')
    t.is_(body.get('expiresIn'), 600, 'expiresIn is jwt_lifetime, 600 by default')
    t.is_(len(lines), 0, 'issuing credentials writes no log line')
    header, payload = jwt_verify(body.get('jwt'))
    t.ok(header is not None, "the JWT verifies with Sinch's algorithm under the application secret", diag=payload)
    payload = payload if isinstance(payload, dict) else {}
    t.is_(sorted(payload), ['exp', 'iat', 'iss', 'nonce', 'sub'], 'the JWT claims are iss, sub, iat, exp, nonce')
    t.is_(header and sorted(header), ['alg', 'kid'], 'the JWT header is alg and kid only')
    t.is_(payload.get('iss'), '//rtc.sinch.com/applications/' + KEY, 'iss names the application')
    t.is_(payload.get('sub'), '//rtc.sinch.com/applications/%s/users/%s' % (KEY, user_id),
          'sub ends with /users/<userId>')
    t.between(payload.get('iat', 0), started - 1, int(r.answered) + 1,
              'iat is the time of the request (between sending it and the answer)')
    t.is_(payload.get('exp', 0) - payload.get('iat', 0), 600, 'exp is iat + 600 = expiresIn')
    ticket, mac_ok = ticket_parts(body.get('userTicket'))
    t.ok(mac_ok, "the legacy userTicket's MAC verifies under the secret")
    t.is_((ticket or {}).get('identity'), {'type': 'username', 'endpoint': user_id},
          "the legacy userTicket's identity endpoint is the userId")
    rows = scratch.query('SELECT * FROM identity WHERE user_id = ?', (user_id,))
    t.is_(len(rows), 1, 'an identity row is stored for the userId')
    row = rows[0] if rows else {}
    t.is_((row.get('display_name'), row.get('conference_id'), row.get('pin'), row.get('source'), row.get('attendee_id')),
          ('Ann', weekly['id'], RIGHT, 'ip:127.0.0.1', None),
          'the identity row holds the display name, conference, PIN, source ip:127.0.0.1, no attendee')
    try:
        lifetime = (utc(row['expires']) - utc(row['issued'])).total_seconds()
    except (KeyError, TypeError, ValueError):
        lifetime = None
    t.is_(lifetime, 14400.0, 'the identity expires identity_lifetime (14400 s) after it was issued')
    t.is_(guesses(), 0, 'the right PIN records no guess')
    t.is_(scratch.query('SELECT source FROM known_source'), [],
          'credentials fetched do not make the source known (only a call that joins does)')

    r2, _ = ask('Ann', RIGHT, 'the same name again')
    second = r2.json if isinstance(r2.json, dict) else {}
    t.ok(r2.status == 200 and second.get('userId') not in (None, user_id),
         'two requests with the same name get different user ids', diag=(user_id, second.get('userId')))
    t.ok(jwt_verify(second.get('jwt'))[0] is not None and
         jwt_verify(second.get('jwt'))[1].get('nonce') != payload.get('nonce'),
         'each JWT has a fresh nonce')

    for name, want, what in ((' \t Zoë  ', 'Zoë', 'a name with spaces around it is trimmed'),
                             ('Ж' * 33, 'Ж' * 33, 'a name of 33 Cyrillic letters (66 bytes) is accepted'),
                             ('a' * 64, 'a' * 64, 'a name of exactly 64 characters is accepted'),
                             ('\U0001F600' * 64, '\U0001F600' * 64,
                              'a name of 64 four-byte characters (256 bytes) is accepted'),
                             ('Ann "A." O\'Neil \\ </script>', 'Ann "A." O\'Neil \\ </script>',
                              'a name with quotes, a backslash and </script> round-trips as JSON')):
        r, lines = ask(name, RIGHT, what)
        got = r.json.get('name') if isinstance(r.json, dict) else None
        t.ok(r.status == 200 and got == want, what, diag=(r.status, got, r.body[:200]))
        stored = scratch.query('SELECT display_name FROM identity WHERE user_id = ?',
                               ((r.json or {}).get('userId'),))
        t.is_(stored, [{'display_name': want}], '%s: the identity stores it as the display name' % what)

    scratch.write_config(jwt_lifetime=120, identity_lifetime=3600)
    r, lines = ask('Bob', RIGHT, 'with jwt_lifetime 120')
    header, claims = jwt_verify((r.json or {}).get('jwt'))
    t.ok(r.status == 200 and r.json.get('expiresIn') == 120 and header and claims['exp'] - claims['iat'] == 120,
         'jwt_lifetime = 120 in the config gives exp = iat + 120 = expiresIn', diag=(r.body[:200], claims))
    row = scratch.query('SELECT issued, expires FROM identity WHERE user_id = ?', ((r.json or {}).get('userId'),))
    t.ok(row and (utc(row[0]['expires']) - utc(row[0]['issued'])).total_seconds() == 3600,
         'identity_lifetime = 3600 in the config makes the identity expire an hour after issue', diag=row)
    scratch.write_config()

    # A personal PIN names its holder, whatever was typed.
    r, lines = ask('Mallory', '2468', "an attendee's personal PIN")
    t.ok(r.status == 200 and r.json.get('name') == 'Anna Svensson' and r.json.get('conference') == 'Weekly sync',
         "a personal PIN answers with the attendee's name, not the typed one", diag=r.body[:200])
    t.is_(scratch.query('SELECT display_name, attendee_id, conference_id FROM identity WHERE user_id = ?',
                        ((r.json or {}).get('userId'),)),
          [{'display_name': 'Anna Svensson', 'attendee_id': anna, 'conference_id': weekly['id']}],
          "the identity for a personal PIN carries the attendee's name and id")

    # ------------------------------------------------------------ method, origin, type, size
    for method in ('GET', 'PUT', 'DELETE'):
        before = scratch.counts()
        mark = server.log_mark()
        # lighttpd refuses a GET with a body itself: only PUT carries one.
        r = post_form(server, GETTICKET_PATH, {'name': 'Ann', 'pin': RIGHT} if method == 'PUT' else b'',
                      method=method)
        lines = server.log_since(mark)
        answers.append((method, r, lines))
        refused(r, lines, 405, method, before=before)
        t.is_(r.headers.get('allow'), 'POST', '%s: the 405 says Allow: POST' % method)
    r = server.request('GET', GETTICKET_PATH + '?name=Ann&pin=' + RIGHT, None, [('Host', server.authority())])
    t.is_(r.status, 405, 'the old GET ?name=&pin= is refused with 405')

    host = server.authority()
    for headers, what in (({'Sec-Fetch-Site': 'cross-site'}, 'Sec-Fetch-Site: cross-site'),
                          ({'Sec-Fetch-Site': 'same-site'}, 'Sec-Fetch-Site: same-site'),
                          ({'Origin': 'https://evil.example'}, 'an Origin of another site'),
                          ({'Origin': 'http://127.0.0.1:1'}, 'an Origin of this host on another port'),
                          ({'Origin': 'null'}, 'Origin: null'),
                          ({'Origin': 'http://' + host, 'Sec-Fetch-Site': 'cross-site'},
                           'our Origin but Sec-Fetch-Site: cross-site')):
        before = scratch.counts()
        r, lines = ask('Ann', RIGHT, what, headers=headers)
        refused(r, lines, 403, 'a POST with ' + what, before=before)
    for headers, what in (({'Sec-Fetch-Site': 'same-origin'}, 'Sec-Fetch-Site: same-origin'),
                          ({'Sec-Fetch-Site': 'none'}, 'Sec-Fetch-Site: none'),
                          ({'Origin': 'http://' + host}, 'our own Origin'),
                          ({'Origin': 'http://' + host, 'Sec-Fetch-Site': 'same-origin'},
                           'our Origin and same-origin')):
        r, lines = ask('Ann', RIGHT, what, headers=headers)
        t.is_(r.status, 200, 'a POST with %s is served' % what)

    for content_type, what in (('text/plain', 'text/plain'), ('multipart/form-data; boundary=x', 'multipart'),
                               ('application/json', 'application/json'), (None, 'no Content-Type'),
                               ('application/x-www-form-urlencodedx', 'a type that only starts like a form')):
        before = scratch.counts()
        mark = server.log_mark()
        r = post_form(server, GETTICKET_PATH, {'name': 'Ann', 'pin': RIGHT}, content_type=content_type)
        lines = server.log_since(mark)
        answers.append((what, r, lines))
        refused(r, lines, 415, 'a body of ' + what, before=before)
    r = post_form(server, GETTICKET_PATH, {'name': 'Ann', 'pin': RIGHT},
                  content_type='application/x-www-form-urlencoded; charset=UTF-8')
    t.is_(r.status, 200, 'a form with ; charset=UTF-8 is served')
    before = scratch.counts()
    mark = server.log_mark()
    r = post_form(server, GETTICKET_PATH, b'name=Ann&pin=4321&pad=' + b'x' * 4096)
    lines = server.log_since(mark)
    answers.append(('body over 4096', r, lines))
    refused(r, lines, 413, 'a body over 4096 bytes', before=before)
    r = post_form(server, GETTICKET_PATH, b'name=Ann&pin=4321&pad=' + b'x' * (4096 - 22))
    t.is_(r.status, 200, 'a body of exactly 4096 bytes is served')

    # ------------------------------------------------------------ 400: fields
    for name, what in ((None, 'no name'), ('', 'an empty name'), ('   \t ', 'a name of spaces only'),
                       ('a' * 65, 'a name of 65 characters'), ('Ж' * 65, 'a name of 65 Cyrillic letters'),
                       ('Ann\u0085', 'a name with a C1 control (U+0085)'),
                       ('Ann\u009b', 'a name with a C1 control (U+009B)'),
                       ('An\tn', 'a name with a tab inside'), ('Ann\x7f', 'a name with DEL'),
                       ('Ann\nEve', 'a name with a newline inside'), ('Ann\x00', 'a name with NUL')):
        before = scratch.counts()
        r, lines = ask(name, RIGHT, what)
        refused(r, lines, 400, what, error=NAME_RULE, before=before)
    for raw, what in ((b'name=Ann%C0%AF&pin=4321', 'overlong UTF-8 in the name'),
                      (b'name=Ann%FF&pin=4321', 'a byte that is never UTF-8 in the name'),
                      (b'name=Ann%ED%A0%80&pin=4321', 'a UTF-16 surrogate in the name')):
        before = scratch.counts()
        mark = server.log_mark()
        r = post_form(server, GETTICKET_PATH, raw)
        lines = server.log_since(mark)
        answers.append((what, r, lines))
        refused(r, lines, 400, what, error=NAME_RULE, before=before)
    for pin, what in ((None, 'no PIN'), ('', 'an empty PIN'), ('12ab', 'a PIN with letters'), ('123', 'a PIN of 3 digits'),
                      ('123456789', 'a PIN of 9 digits'), ('43 21', 'a PIN with a space')):
        before = scratch.counts()
        r, lines = ask('Ann', pin, what)
        refused(r, lines, 400, what, error='The PIN must be 4 to 8 digits.', before=before)
    for bad, what in (('u-has space', 'a userId with a space'), ('u-' + 'a' * 300, 'a userId of 302 characters'),
                      ('u-ä', 'a userId with a non-ASCII letter'), ('', 'an empty userId')):
        before = scratch.counts()
        r, lines = ask('Ann', RIGHT, what, user_id=bad)
        refused(r, lines, 400, what, before=before)

    # ------------------------------------------------------------ 404 and 409: the PIN lets nobody in
    for pin, error, what in (('9999', None, 'an unknown PIN'),
                             ('5555', 'This conference has ended.', "an ended conference's PIN"),
                             ('6666', 'This conference starts on %s.' % spoken(soon, today),
                              'the PIN of a conference that starts in 30 days'),
                             ('6667', 'This conference starts on %s.' % spoken(next_year, today),
                              'the PIN of a conference that starts next year (the year is said)'),
                             ('12345', None, 'a PIN one digit too long')):
        before = scratch.counts()
        r, lines = ask('Ann', pin, what)
        refused(r, lines, 404, what, error=error, guess=True, before=before)
        t.is_(scratch.query('SELECT source FROM pin_guess ORDER BY rowid DESC LIMIT 1'),
              [{'source': 'ip:127.0.0.1'}], '%s: the guess counts against ip:127.0.0.1' % what)
    for pin, error, what in (('7001', 'Sorry, this conference is locked.', 'a locked conference'),
                             ('7002', 'Sorry, this conference is full.', 'a full conference (2 of 2 in)')):
        before = scratch.counts()
        r, lines = ask('Ann', pin, 'the PIN of ' + what)
        refused(r, lines, 409, 'the PIN of ' + what, error=error, before=before)
    scratch.execute("UPDATE call SET ended = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE callid = 'full0'")
    r, lines = ask('Ann', '7002', 'the full conference after one left')
    t.is_(r.status, 200, 'once one of the two has left (DiCE), the full conference admits one more')

    # ------------------------------------------------------------ renewal
    scratch.execute('DELETE FROM pin_guess')
    before = scratch.counts()
    r, lines = ask('Ann', RIGHT, 'a renewal', user_id=user_id)
    renewed = r.json if isinstance(r.json, dict) else {}
    t.is_(r.status, 200, 'a renewal of an id we issued, with its PIN, gets 200')
    t.is_(renewed.get('userId'), user_id, 'the renewal is for the same userId')
    header, claims = jwt_verify(renewed.get('jwt'))
    t.ok(header is not None and claims.get('sub', '').endswith('/users/' + user_id) and
         claims.get('nonce') != payload.get('nonce'),
         'the renewal has a fresh JWT for the same id, with a new nonce', diag=claims)
    t.is_(renewed.get('name'), 'Ann', 'the renewal keeps the display name')
    t.is_(scratch.counts(), before, 'a renewal writes nothing (no new identity, no guess)')
    r, lines = ask('Someone else', RIGHT, 'a renewal with another typed name', user_id=user_id)
    t.is_((r.status, (r.json or {}).get('name')), (200, 'Ann'),
          'a renewal keeps the name the id was issued with, whatever is typed now')

    expired = pinconf.issue_identity(server, 'Exp', RIGHT)
    scratch.execute("UPDATE identity SET expires = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 second')"
                    " WHERE user_id = ?", (expired,))
    ending = pinconf.issue_identity(server, 'End', '1357')
    before = scratch.counts()
    for uid, pin, what in (('u-' + 'A' * 22, RIGHT, 'an id we never issued'),
                           (expired, RIGHT, 'an expired id'),
                           (user_id, '1357', "another active conference's PIN"),
                           (user_id, '9999', 'an unknown PIN')):
        r, lines = ask('Ann', pin, 'a renewal of ' + what, user_id=uid)
        refused(r, lines, 403, 'a renewal of ' + what, before=before)
    # A PIN that has moved to another holder of the same conference no longer renews the id.
    personal = pinconf.issue_identity(server, 'x', '2468')
    moved = pinconf.issue_identity(server, 'Ann', RIGHT)
    scratch.execute("UPDATE attendee SET pin = '2470' WHERE id = ?", (anna,))
    scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Bert', '2468')", (weekly['id'],))
    scratch.execute("UPDATE conference SET pin = '4329' WHERE id = ?", (weekly['id'],))
    scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Cleo', ?)", (weekly['id'], RIGHT))
    before = scratch.counts()
    for uid, pin, what in ((personal, '2468', "an attendee's id whose PIN now belongs to another attendee"),
                           (moved, RIGHT, "a conference PIN's id whose PIN now belongs to an attendee")):
        r, lines = ask('Ann', pin, 'a renewal of ' + what, user_id=uid)
        refused(r, lines, 403, 'a renewal of ' + what, before=before)
    scratch.execute("DELETE FROM attendee WHERE name IN ('Bert', 'Cleo')")
    scratch.execute("UPDATE conference SET pin = ? WHERE id = ?", (RIGHT, weekly['id']))
    scratch.execute("UPDATE attendee SET pin = '2468' WHERE id = ?", (anna,))
    before = scratch.counts()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    scratch.execute("UPDATE conference SET starts_on = '2020-01-01', ends_on = ? WHERE id = ?",
                    (yesterday, other['id']))
    r, lines = ask('End', '1357', 'a renewal for a conference that has since ended', user_id=ending)
    refused(r, lines, 403, 'a renewal for a conference that has since ended', before=before)
    t.is_(guesses(), 0, 'no refused renewal recorded a guess')

    # ------------------------------------------------------------ faults
    missing = scratch.path('missing', 'pinconf.db')
    scratch.write_config(database=missing)
    before = scratch.counts()
    r, lines = ask('Ann', RIGHT, 'the database missing')
    refused(r, lines, 503, 'the database missing', before=before)
    t.ok(lines and missing in lines[0], 'the database missing: the log line names the path', diag=lines)
    t.ok(not os.path.exists(missing), 'getticket never creates a missing database')
    scratch.write_config(busy_timeout=200)
    holder = pinconf.LockHolder(scratch.db)
    try:
        r, lines = ask('Ann', '9999', 'the database locked')
    finally:
        holder.release(commit=False)
    refused(r, lines, 503, 'a wrong PIN while the database is locked', before=before)
    t.ok(lines and 'locked' in lines[0], 'the database locked: the log line says locked', diag=lines)
    os.unlink(scratch.config)
    r, lines = ask('Ann', RIGHT, 'the config missing')
    refused(r, lines, 500, 'the config missing', before=before)
    scratch.write_config()
    r, lines = ask('Ann', RIGHT, 'everything repaired')
    t.is_(r.status, 200, 'with the config and database back the right PIN gets 200 again')

    # ------------------------------------------------------------ every answer
    bad = [(what, r.headers.get('cache-control'), r.headers.get('x-content-type-options'))
           for what, r, lines in answers if r.headers.get('cache-control') != 'no-store' or
           r.headers.get('x-content-type-options') != 'nosniff']
    t.ok(not bad, 'every answer, refusals included, has no-store and nosniff', diag=bad)
    bad = [(what, r.status, lines) for what, r, lines in answers if r.status == 200 and lines]
    t.ok(not bad, 'no 200 wrote a log line', diag=bad)
    server.sync()
    text = ''
    try:
        with open(access_log, errors='replace') as f:
            text = f.read()
    except OSError as e:
        text = str(e)
    t.like(text, r'POST /cgi-bin/getticket\.cgi', 'the access log records the POSTs to getticket.cgi')
    # What a client sent shows only in the quoted fields (request line, Referer,
    # User-Agent); the numbers around them (sizes, microseconds) may hold any digits.
    posts = '\n'.join(field for line in text.splitlines() if 'POST ' in line
                      for field in re.findall(r'"([^"]*)"', line))
    t.unlike(posts, r'4321|2468|Zo|Anna|Mallory|name=|pin=',
             'neither a PIN nor a name POSTed is in the access log')
    everything = '\n'.join([r.body.decode('utf-8', errors='replace') for what, r, lines in answers] +
                           server.log_since(first_mark))
    t.ok(SECRET not in everything and base64.b64decode(SECRET).hex() not in everything,
         'the secret is in no answer and no log line')
    t.ok(not re.search(r'\b(4321|2468|6666)\b', '\n'.join(server.log_since(first_mark))),
         'no log line holds a PIN', diag=[l for l in server.log_since(first_mark) if re.search(r'\d{4}', l)])
    test_identity_limit(t, scratch, server)
    test_name_characters(t, scratch, server)


def test_name_characters(t, scratch, server):
    """Issue 20: names may hold no C1 control, bidirectional override or invisible format character."""
    for name, what in (('Eve\u009b2J', 'U+009B, the 8-bit CSI'), ('Eve\u0085', 'U+0085, a C1 newline'),
                       ('Eve\u202eevil', 'U+202E, a right-to-left override'),
                       ('Eve\u2066x\u2069', 'U+2066 and U+2069, an isolate'),
                       ('Eve\u200b', 'U+200B, a zero-width space'), ('E\u00adve', 'U+00AD, a soft hyphen'),
                       ('Eve\ufeff', 'U+FEFF, a byte order mark'), ('Eve\U000e0041', 'U+E0041, a tag')):
        before = scratch.counts()
        r = getticket(server, name, RIGHT)
        t.is_((r.status, (r.json or {}).get('error') if isinstance(r.json, dict) else None, scratch.counts()),
              (400, NAME_RULE, before), 'a name with %s is refused (400), nothing written' % what)
    r = getticket(server, 'Åsa Öberg \u05e9\u05dc\u05d5\u05dd', RIGHT)
    t.is_(r.status, 200, 'a name in other scripts (Swedish, Hebrew) is fine')


def test_identity_limit(t, scratch, server):
    """Issue 20: 30 joins in a row from one address made 30 identities; expired ones lingered."""
    def ago(seconds):
        return (datetime.datetime.now(datetime.timezone.utc)
                - datetime.timedelta(seconds=seconds)).strftime('%Y-%m-%dT%H:%M:%SZ')

    scratch.execute('DELETE FROM identity')
    scratch.execute("UPDATE setting SET value = 3 WHERE name = 'identity_limit'")
    first = time.time()
    statuses = [getticket(server, 'Ann', RIGHT).status for n in range(3)]
    t.is_(statuses, [200] * 3, 'identity_limit 3: three joins from one address get credentials')
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Ann', RIGHT)
    t.is_((r.status, (r.json or {}).get('error') if isinstance(r.json, dict) else None),
          (429, 'Too many joins from your network. Please try again later.'),
          'identity_limit 3: the fourth join in the hour gets 429 and says why')
    t.between(int(r.headers.get('retry-after') or 0), 3599 - math.ceil(time.time() - first), 3600,
              'identity_limit: Retry-After is when the oldest of the hour ages out')
    t.is_(scratch.counts(), before, 'identity_limit: the refused join writes nothing')
    t.is_(len(server.log_since(mark)), 1, 'identity_limit: the refusal writes one log line')
    user_id = scratch.query('SELECT user_id FROM identity LIMIT 1')[0]['user_id']
    r = getticket(server, 'Ann', RIGHT, user_id)
    t.is_(r.status, 200, 'identity_limit: renewing an id it holds is not a new identity, and still works')
    scratch.execute('UPDATE identity SET issued = ?', (ago(3700),))
    r = getticket(server, 'Ann', RIGHT)
    t.is_(r.status, 200, 'identity_limit: identities issued over an hour ago no longer count')
    # Expired identities go on the path that adds them, all of them, not 50 a DiCE.
    scratch.execute('DELETE FROM identity')
    for n in range(120):
        scratch.execute("INSERT INTO identity(user_id, display_name, conference_id, pin, source, issued, expires)"
                        " VALUES (?, 'Old', 1, ?, 'ip:192.0.2.9', ?, ?)",
                        ('u-old%017d' % n, RIGHT, ago(7200), ago(60)))
    scratch.execute("INSERT INTO identity(user_id, display_name, conference_id, pin, source, issued, expires)"
                    " VALUES ('u-recentlyexpired000000', 'Recent', 1, ?, 'ip:192.0.2.9', ?, ?)",
                    (RIGHT, ago(600), ago(60)))
    r = getticket(server, 'Ann', RIGHT)
    left = scratch.query('SELECT display_name, count(*) AS n FROM identity GROUP BY 1 ORDER BY 1')
    t.is_((r.status, left), (200, [{'display_name': 'Ann', 'n': 1}, {'display_name': 'Recent', 'n': 1}]),
          'identity_limit: a join deletes all 120 expired identities issued over an hour ago;'
          ' one expired but issued within the hour stays, for the limit to count')
    scratch.execute("UPDATE setting SET value = 100 WHERE name = 'identity_limit'")


pinconf.run(main)
