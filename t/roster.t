#!/usr/bin/env python3
# roster.t: POST /cgi-bin/roster.cgi userId=... tells a browser participant
# who is in its conference now: display names, attendees by name, phone
# numbers masked to "+46 … 123"; nobody else learns anything.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, dice, new_callid, issue_identity, roster, post_form  # noqa: E402

RIGHT = '4321'


def main(t):
    scratch = pinconf.Scratch('roster')
    weekly = scratch.add_conference('Weekly sync', RIGHT)
    scratch.add_conference('Other', '1357')
    scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna Svensson', '2468')",
                    (weekly['id'],))
    server = pinconf.start_server(scratch)
    answers = []

    def ask(user_id, what, headers=None):
        mark = server.log_mark()
        r = roster(server, user_id, headers=headers)
        lines = server.log_since(mark)
        answers.append((what, r, lines))
        return r, lines

    def refused(r, lines, status, what):
        t.is_(r.status, status, '%s is answered %d' % (what, status))
        t.ok(isinstance(r.json, dict) and isinstance(r.json.get('error'), str) and 'participants' not in r.json,
             '%s: a JSON error and no participants' % what, diag=r.body[:200])
        t.is_(len(lines), 1, '%s: exactly one log line' % what)

    def phone_in(number, pin=RIGHT):
        call = new_callid()
        server.post(ice_phone(call, cli=number))
        server.post(pie(call, pin))
        return call

    def browser_in(name, pin=RIGHT):
        user = issue_identity(server, name, pin)
        call = new_callid()
        r = server.post(ice_browser(call, pin, user=user))
        if (r.json or {}).get('action', {}).get('name') != 'connectConf':
            raise RuntimeError('browser %s did not join: %r' % (name, r.body[:200]))
        return user, call

    ann, _ = browser_in('Ann')
    phone = phone_in('46701234567')
    plus = phone_in('+4915112345678')
    phone_in('12345')
    phone_in('anonymous')
    phone_in('46709999999', pin='2468')
    zoe, zoe_call = browser_in('Zoë <b>&')
    other, _ = browser_in('Olle', pin='1357')
    waiting = issue_identity(server, 'Wait', RIGHT)

    r, lines = ask(ann, 'a browser participant in a call')
    t.is_(r.status, 200, 'roster: a participant in a call gets 200')
    t.like(r.headers.get('content-type', ''), r'^application/json\b', 'roster: the answer is JSON')
    t.is_(r.headers.get('cache-control'), 'no-store', 'roster: Cache-Control: no-store')
    t.is_(r.headers.get('x-content-type-options'), 'nosniff', 'roster: X-Content-Type-Options: nosniff')
    t.is_(len(lines), 0, 'roster: an answer writes no log line')
    t.is_(sorted(r.json or {}), ['participants'], 'roster: the body is {"participants": [...]}')
    want = [{'name': 'Ann', 'via': 'browser'},
            {'name': '+46 \u2026 567', 'via': 'phone'},
            {'name': '+49 \u2026 678', 'via': 'phone'},
            {'name': '\u2026 345', 'via': 'phone'},
            {'name': 'Phone', 'via': 'phone'},
            {'name': 'Anna Svensson', 'via': 'phone'},
            {'name': 'Zoë <b>&', 'via': 'browser'}]
    got = (r.json or {}).get('participants')
    t.is_(sorted(got or [], key=lambda p: p['name']), sorted(want, key=lambda p: p['name']),
          'roster: everyone in the conference, in no other: browser names, the attendee by name,'
          ' numbers masked to their last three digits')
    body = r.body.decode('utf-8', errors='replace')
    for number in ('46701234567', '4915112345678', '12345', '46709999999', '0123', '4567'):
        t.ok(number not in body, 'roster: %s appears nowhere in the body' % number)
    t.ok('Olle' not in body, 'roster: a participant of another conference is not listed')
    r, lines = ask(zoe, 'another browser participant')
    t.is_(len((r.json or {}).get('participants') or []), 7, 'roster: another participant sees the same 7')
    r, lines = ask(other, 'a participant of another conference')
    t.is_((r.json or {}).get('participants'), [{'name': 'Olle', 'via': 'browser'}],
          'roster: a participant of another conference sees only that conference')

    server.post(dice(phone))
    r, lines = ask(ann, 'after a phone caller left')
    t.ok('+46 \u2026 567' not in [p['name'] for p in (r.json or {}).get('participants') or []],
         'roster: a caller who left (DiCE) is no longer listed')
    scratch.execute("UPDATE call SET joined = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-13 hours') WHERE callid = ?",
                    (plus,))
    r, lines = ask(ann, 'with a stale call')
    t.ok('+49 \u2026 678' not in [p['name'] for p in (r.json or {}).get('participants') or []],
         'roster: a call joined 13 h ago without DiCE is not listed (call_max_hours 12)')

    # ------------------------------------------------------------ refusals
    for user_id, what in (('u-' + 'A' * 22, 'an id we never issued'),
                          (waiting, 'an issued id that is in no call'),
                          ('', 'an empty userId'), ('u-bad id', 'a malformed userId'),
                          ('Ann', 'a display name instead of an id')):
        r, lines = ask(user_id, 'roster for ' + what)
        refused(r, lines, 403, 'roster for ' + what)
    mark = server.log_mark()
    r = post_form(server, pinconf.ROSTER_PATH, {'name': 'Ann'})
    lines = server.log_since(mark)
    answers.append(('no userId', r, lines))
    refused(r, lines, 403, 'roster for a form without userId')
    mark = server.log_mark()
    r = post_form(server, pinconf.ROSTER_PATH, b'')
    lines = server.log_since(mark)
    answers.append(('empty', r, lines))
    refused(r, lines, 400, 'roster for an empty body')
    server.post(dice(zoe_call))
    r, lines = ask(zoe, 'roster after its DiCE')
    refused(r, lines, 403, 'roster for an id after its DiCE')
    host = server.authority()
    for headers, what in (({'Sec-Fetch-Site': 'cross-site'}, 'Sec-Fetch-Site: cross-site'),
                          ({'Origin': 'https://evil.example'}, 'an Origin of another site'),
                          ({'Origin': 'null'}, 'Origin: null')):
        r, lines = ask(ann, what, headers=headers)
        refused(r, lines, 403, 'roster with ' + what)
    r, lines = ask(ann, 'our own Origin', headers={'Origin': 'http://' + host, 'Sec-Fetch-Site': 'same-origin'})
    t.is_(r.status, 200, 'roster with our own Origin and same-origin is served')
    for method in ('GET', 'PUT'):
        mark = server.log_mark()
        r = post_form(server, pinconf.ROSTER_PATH, {'userId': ann} if method == 'PUT' else b'', method=method)
        lines = server.log_since(mark)
        answers.append((method, r, lines))
        refused(r, lines, 405, 'roster by ' + method)
        t.is_(r.headers.get('allow'), 'POST', 'roster by %s: Allow: POST' % method)
    mark = server.log_mark()
    r = post_form(server, pinconf.ROSTER_PATH, {'userId': ann}, content_type='text/plain')
    lines = server.log_since(mark)
    answers.append(('text/plain', r, lines))
    refused(r, lines, 415, 'roster with a text/plain body')
    mark = server.log_mark()
    r = post_form(server, pinconf.ROSTER_PATH, b'userId=' + ann.encode() + b'&pad=' + b'x' * 2000)
    lines = server.log_since(mark)
    answers.append(('big', r, lines))
    refused(r, lines, 413, 'roster with a body over its cap')

    # ------------------------------------------------------------ faults
    missing = scratch.path('missing', 'pinconf.db')
    scratch.write_config(database=missing)
    r, lines = ask(ann, 'the database missing')
    refused(r, lines, 503, 'roster with the database missing')
    t.ok(lines and missing in lines[0], 'roster with the database missing: the log names the path', diag=lines)
    scratch.write_config(busy_timeout=200)
    # WAL readers never wait for a writer: only an exclusive-mode writer keeps
    # roster.cgi out, and SQLite grants that lock only while no other
    # connection is open.
    holder = pinconf.LockHolder(scratch.db, ["UPDATE setting SET value = value WHERE name = 'pin_length'"],
                                exclusive=True, required=pinconf.server_mode() != 'fastcgi', busy_ms=2000)
    try:
        r, lines = ask(ann, 'the database locked')
    finally:
        holder.release(commit=False)
    if holder.held:
        refused(r, lines, 503, 'roster with the database locked')
    else:
        # A kept FastCGI process that has the database open keeps the lock out and reads on: right too.
        t.is_(r.status, 200, 'roster beside an admin lock: a FastCGI process that holds the database open'
              ' still reads the list')
        t.ok('participants' in (r.json or {}), 'roster beside an admin lock: the list', diag=r.body[:200])
        t.is_(len(lines), 0, 'roster beside an admin lock: nothing to log when it could read')
    scratch.write_config()
    r, lines = ask(ann, 'everything repaired')
    t.is_(r.status, 200, 'roster: with the database back the participant gets 200 again')

    bad = [(what, r.headers.get('cache-control')) for what, r, lines in answers
           if r.headers.get('cache-control') != 'no-store']
    t.ok(not bad, 'roster: every answer, refusals included, has Cache-Control: no-store', diag=bad)


pinconf.run(main)
