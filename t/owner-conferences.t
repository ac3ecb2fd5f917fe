#!/usr/bin/env python3
# owner-conferences.t: owners run their conferences on owner.cgi (issue 18):
# my conferences, new, details, edit, lock, new PIN, who is in now against the
# fake Sinch Calling API, mute, remove, call a number in, end, delete,
# attendees and invitations with an .ics; and the attacks on each: another
# owner's id, no form token, cross-site, a malformed number, the callout limit,
# Sinch down or refusing.
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
import mailbox  # noqa: E402
from owner_client import Browser  # noqa: E402
from sinchfake import FakeSinch  # noqa: E402

PASSWORD = 'correct horse battery'
CLI = '+46101234567'
CONFIG = {}	# the config keys of this test's server, set in main()


# Debian's python3-icalendar, read by Debian's python3 when the tests run under
# another Python (a pyenv one, say) that cannot import it.
READ_ICS = r"""
import json, sys
import icalendar
calendar = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
print(json.dumps([{'summary': str(e.get('summary', '')), 'dtstart': e.get('dtstart').dt.isoformat(),
                   'uid': str(e.get('uid', '')), 'url': str(e.get('url', '')),
                   'description': str(e.get('description', ''))} for e in calendar.walk('VEVENT')]))
"""


def read_ics(raw):
    """The VEVENTs of raw as python3-icalendar reads them, or None without it."""
    for python in (sys.executable, '/usr/bin/python3'):
        if not os.path.exists(python):
            continue
        done = subprocess.run([python, '-c', READ_ICS], input=raw, capture_output=True)
        if done.returncode == 0:
            return json.loads(done.stdout)
        if b'No module named' not in done.stderr:
            return [{'error': done.stderr.decode(errors='replace')[-300:]}]
    return None

def one(scratch, sql, params=()):
    row = scratch.query(sql, params)[0]
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def make_owner(t, scratch, server, box, email):
    """pinconf owner add, the mailed link, a password, a log in: a logged-in browser."""
    done = subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf'), 'owner', 'add', email],
                          env=dict(os.environ, PINCONF_CONFIG=scratch.config), capture_output=True, text=True)
    mail = box.wait_for(email)
    link = mailbox.link(mail) if mail else None
    b = Browser(server)
    if done.returncode != 0 or not link:
        t.ok(False, 'owner %s made' % email, diag=done.stderr)
        return b
    page = b.follow(link)
    b.post('/reset', {'token': page.hidden('token'), 'password': PASSWORD, 'password2': PASSWORD})
    page = b.submit('/login', {'email': email, 'password': PASSWORD})
    t.is_(page.status, 303, 'owner %s logs in' % email)
    return b


def conference_id(page):
    found = re.search(r'/conference\?id=(\d+)', page.location or '')
    return int(found.group(1)) if found else None


def test_new(t, scratch, a):
    page = a.get('/')
    t.ok(page.status == 200 and 'My conferences' in page.text() and 'New conference' in page.text(),
         'after log in: My conferences, with a New conference link')
    page = a.get('/new')
    ends = one(scratch, "SELECT date('now', '+5 days')")[0]
    t.ok(page.status == 200 and 'value="%s"' % ends in page.body and 'No end date' in page.text()
         and 'name="pin"' not in page.body,
         'New conference: Ends on is five days ahead by default, No end date offered, no PIN field')
    page = a.post('/new', {'name': '', 'starts_on': '2026-02-30', 'ends_on': 'soon', 'capacity': '1'})
    t.ok(page.status == 400 and page.body.count('class="field-message"') == 4,
         'a form with four wrong fields: 400, a message at each', diag=page.text()[:300])
    page = a.post('/new', {'name': 'Bad\u202eName', 'ends_on': ends})
    t.ok(page.status == 400 and 'aria-describedby="name-error"' in page.body,
         'a name with a bidi override is refused (cgi_name_ok)')
    page = a.post('/new', {'name': 'Board \u00e9 <b>', 'ends_on': ends, 'capacity': '25', 'announce': '1'})
    cid = conference_id(page)
    t.ok(page.status == 303 and cid, 'Create: 303 to the details page', diag=page.status)
    row = scratch.query('SELECT * FROM conference WHERE id = ?', (cid,))[0]
    t.ok(re.fullmatch(r'\d{4}', row['pin'] or '') and row['max_participants'] == 25 and
         row['announce_count'] == 1 and row['ends_on'] == ends and row['owner_id'],
         'the conference is stored with its owner and a PIN the schema drew', diag=repr(row))
    page = a.get(page.location)
    t.ok('The conference is made' in page.text() and row['pin'] in page.text() and
         'Board \u00e9 &lt;b&gt;' in page.body and '<b>' not in page.body.split('<main')[1][:400],
         'details: says it is made, shows the PIN, the name escaped')
    t.ok('join.cgi?pin=%s' % row['pin'] in page.body and '+46850512345' in page.text(),
         'details: the join link with the PIN, and the dial-in numbers')
    return row


def test_list_and_edit(t, scratch, a, row):
    page = a.get('/')
    t.ok(row['name'] in page.text() and row['pin'] in page.text() and 'active' in page.text(),
         'My conferences lists it with PIN and state')
    page = a.post('/new', {'name': 'Old one', 'starts_on': '2020-01-01', 'ends_on': '2020-01-02'})
    page = a.get('/')
    t.ok(page.text().index('Ended conferences') < page.text().index('Old one'),
         'an ended conference is listed in its own section')
    page = a.get('/edit?id=%d' % row['id'])
    t.ok(page.status == 200 and 'value="25"' in page.body, 'Edit: the form is filled')
    page = a.post('/edit', {'id': row['id'], 'name': 'Board', 'no_end': '1', 'capacity': ''})
    t.is_(page.status, 303, 'Edit: saved')
    t.is_(one(scratch, 'SELECT name, ends_on, max_participants FROM conference WHERE id = ?', (row['id'],)),
          ('Board', None, None), 'the edit is stored: no end, no limit')
    page = a.post('/edit', {'id': row['id'], 'name': 'x' * 101, 'no_end': '1'})
    t.ok(page.status == 400 and 'x' * 101 in page.body, 'a 101-character name: 400, the form kept filled')
    old_pin = one(scratch, 'SELECT pin FROM conference WHERE id = ?', (row['id'],))[0]
    t.is_(a.post('/pin', {'id': row['id']}).status, 303, 'New PIN: 303')
    t.isnt(one(scratch, 'SELECT pin FROM conference WHERE id = ?', (row['id'],))[0], old_pin,
           'New PIN draws another PIN')
    a.post('/lock', {'id': row['id'], 'locked': '1'})
    t.is_(one(scratch, 'SELECT locked FROM conference WHERE id = ?', (row['id'],))[0], 1, 'Lock locks')
    a.post('/lock', {'id': row['id'], 'locked': '0'})
    t.is_(one(scratch, 'SELECT locked FROM conference WHERE id = ?', (row['id'],))[0], 0, 'Unlock unlocks')
    a.post('/hosts', {'id': row['id'], 'wait_for_host': '1'})
    t.is_(one(scratch, 'SELECT wait_for_host, end_with_host FROM conference WHERE id = ?', (row['id'],)),
          (1, 0), 'host settings are stored')
    a.post('/hosts', {'id': row['id']})


def test_live(t, scratch, server, fake, a, row):
    sid = row['sinch_id']
    cid = row['id']
    scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined)"
                    " VALUES ('c-phone', 'pstn', '+46709876543', ?, 'Board', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (cid,))
    scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined)"
                    " VALUES ('c-web', 'mxp', 'Webby', ?, 'Board', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", (cid,))
    fake.add(sid, 'c-phone', '+46709876543')
    fake.add(sid, 'c-web', 'u-web')
    page = a.get('/conference?id=%d' % cid)
    text = page.text()
    t.ok('Webby' in text and '+46\u2022' in text and '+46709876543' not in text and 'browser' in text and
         'phone' in text, 'Who is in now: the typed name, the masked number, phone or browser',
         diag=text[:600])
    started = time.time()
    page = a.post('/mute', {'id': cid, 'callid': 'c-phone'})
    t.ok(page.status == 303 and 'done=muted' in page.location, 'Mute: 303 back, saying muted')
    t.ok(fake.wait_request('PATCH', '/calling/v1/conferences/id/%s/c-phone' % sid, after=started),
         'the fake Sinch got a signed PATCH for the participant')
    t.is_(one(scratch, "SELECT muted FROM call WHERE callid = 'c-phone'")[0], 1,
          'call.muted is written, as the shell and pinconf who show it')
    r = subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf'), '--json', 'who', str(cid)],
                       env=dict(os.environ, PINCONF_CONFIG=scratch.config), capture_output=True, text=True)
    t.like(r.stdout, r'"muted":\s*true', 'pinconf who agrees: muted')
    page = a.get(page.location)
    t.ok('The participant is muted.' in page.text() and 'Unmute' in page.text(), 'the page reloads saying so')
    a.post('/unmute', {'id': cid, 'callid': 'c-phone'})
    t.is_(one(scratch, "SELECT muted FROM call WHERE callid = 'c-phone'")[0], 0, 'Unmute writes call.muted 0')
    page = a.post('/remove', {'id': cid, 'callid': 'c-web'})
    t.ok(page.status == 303 and not fake.participant(sid, 'c-web'), 'Remove: the participant is out at Sinch')
    page = a.post('/mute', {'id': cid, 'callid': 'c-gone'})
    t.ok(page.status == 404 and 'not in the conference' in page.text(), 'muting one who is not in: 404, says so')

    # Sinch refusing, then slow: the page still renders, from the database, with one sentence why.
    fake.control('fail', {'status': 401, 'errorCode': 40100, 'message': 'Invalid authorization', 'times': 1})
    page = a.get('/conference?id=%d' % cid)
    t.ok(page.status == 200 and 'The live list is missing' in page.text() and 'refused the application key' in page.text()
         and '+46\u2022' in page.text(), 'Sinch refusing: the database list and pinconf\'s sentence why',
         diag=page.text()[:700])
    # Sinch holds the request (up to 30 s) until the test lets it go.
    fake.control('fail', {'hold': True, 'delay': 30, 'status': 200, 'times': 1})
    scratch.write_config(**dict(CONFIG, api_url=fake.url, api_timeout='1'))
    begun = time.monotonic()
    page = a.get('/conference?id=%d' % cid)
    took = time.monotonic() - begun
    fake.control('release', {})
    t.ok(page.status == 200 and 'within 1 seconds' in page.text() and took < 15,
         'a slow Sinch delays the page by api_timeout only, not until Sinch answers', diag='%.1f s' % took)
    scratch.write_config(**dict(CONFIG, api_url=fake.url))

    # Call a number in.
    page = a.post('/call', {'id': cid, 'number': '+46 70 12'})
    t.ok(page.status == 400 and 'aria-describedby="number-error"' in page.body and '+46 70 12' in page.body,
         'a malformed number: 400, the message at the field, the field kept')
    before = len(fake.requests())
    a.post('/call', {'id': cid, 'number': '0046701234567x'})
    t.is_(len([q for q in fake.requests()[before:] if q['path'] == '/calling/v1/callouts']), 0,
          'and Sinch is never asked')
    started = time.time()
    page = a.post('/call', {'id': cid, 'number': '46701112233'})
    t.ok(page.status == 303 and 'done=calling' in page.location, 'Call without +: 303, calling')
    q = fake.wait_request('POST', '/calling/v1/callouts', after=started)
    t.ok(q is not None and q.get('status') == 200, 'the fake Sinch took a signed callout', diag=repr(q))
    callout = [c for c in fake.state().get('callouts', {}).values()] if isinstance(fake.state().get('callouts'), dict) else []
    t.ok(fake.wait_for(lambda: one(scratch, "SELECT count(*) FROM call WHERE caller = '+46701112233'"
                                            " AND conference_id = ?", (cid,))[0] == 1),
         'the leg is in the call table, under the conference', diag=repr(callout)[:200])
    a.post('/lock', {'id': cid, 'locked': '1'})
    page = a.post('/call', {'id': cid, 'number': '+46701112233'})
    t.ok(page.status == 409 and 'locked' in page.text(), 'a locked conference: no call')
    a.post('/lock', {'id': cid, 'locked': '0'})
    scratch.execute("INSERT INTO owner_callout(owner_id, at) SELECT ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                    " FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)", (row['owner_id'],))
    before = len(fake.requests())
    page = a.post('/call', {'id': cid, 'number': '+46701112233'})
    t.ok(page.status == 429 and 'the most this server allows' in page.text(),
         'the callout limit (callout_limit 4 here): 429, says so', diag=page.status)
    t.is_(len([q for q in fake.requests()[before:] if q['path'] == '/calling/v1/callouts']), 0,
          'and Sinch is not asked')

    # End conference: a confirmation first.
    page = a.get('/end?id=%d' % cid)
    t.ok(page.status == 200 and 'Remove everyone' in page.text(), 'End conference asks first')
    started = time.time()
    page = a.post('/end', {'id': cid})
    t.ok(page.status == 303 and fake.wait_request('DELETE', '/calling/v1/conferences/id/' + sid, after=started),
         'End conference: Sinch deletes the conference')


def test_attendees(t, scratch, server, box, a, row):
    cid = row['id']
    page = a.post('/attendee/add', {'id': cid, 'attendee_name': 'Anna', 'attendee_email': 'anna',
                                    'attendee_phone': '070'})
    t.ok(page.status == 400 and 'attendee_email-error' in page.body and 'attendee_phone-error' in page.body
         and 'value="Anna"' in page.body, 'a bad e-mail and phone: 400, messages at both, form kept')
    page = a.post('/attendee/add', {'id': cid, 'attendee_name': 'Anna, Svensson; \u00e5',
                                    'attendee_email': 'anna@example.org', 'attendee_phone': '+46701234000'})
    t.is_(page.status, 303, 'Add attendee: 303')
    attendee = scratch.query('SELECT * FROM attendee WHERE conference_id = ?', (cid,))[0]
    t.ok(re.fullmatch(r'\d{4}', attendee['pin'] or '') and attendee['email'] == 'anna@example.org',
         'the attendee is stored with a drawn personal PIN')
    page = a.post('/invite', {'id': cid, 'attendee': attendee['id']})
    t.is_(page.status, 303, 'Send invitation: 303')
    mail = box.wait_for('anna@example.org')
    t.ok(mail is not None and attendee['pin'] in mailbox.text(mail), 'the invitation mail holds the personal PIN')
    ics = None
    for part in (mail.iter_attachments() if mail else []):
        if part.get_content_type() == 'text/calendar':
            ics = part.get_content()
            ics = ics.encode() if isinstance(ics, str) else ics
    t.ok(ics is not None, 'it has a text/calendar attachment')
    raw = ics or b''
    t.ok(all(len(line) <= 75 for line in raw.split(b'\r\n')), 'every .ics line is at most 75 octets')
    events = read_ics(raw)
    pin = None
    if events is None:
        t.skip('the .ics parses with python3-icalendar', 'python3-icalendar is not installed')
    else:
        event = events[0] if events else {}
        found = re.search(r'personal PIN: (\d+)', event.get('description', ''))
        pin = found.group(1) if found else None
        t.ok(len(events) == 1 and event.get('summary') == 'Board' and
             event.get('dtstart') == row['starts_on'] and event.get('uid') and
             'join.cgi?pin=%s' % attendee['pin'] in event.get('url', ''),
             'python3-icalendar reads one VEVENT: summary, all-day start, UID, URL', diag=repr(event)[:400])
        t.is_(pin, attendee['pin'], 'its DESCRIPTION holds the personal PIN')
    t.ok(one(scratch, 'SELECT invited FROM attendee WHERE id = ?', (attendee['id'],))[0],
         'the attendee\'s last invitation is noted')
    page = a.get('/conference?id=%d' % cid)
    t.ok('never' not in page.text().split('Attendees and attendance')[1][:400], 'the page shows when they were invited')
    # Join by phone with the PIN from the calendar entry.
    callid = pinconf.new_callid('inv')
    server.post(pinconf.ice_phone(callid, cli='+46701234000'))
    r = server.post(pinconf.pie(callid, pin or attendee['pin']))
    t.is_(pinconf.action_name(r.json), 'connectConf',
          'a phone caller joins with the personal PIN from the .ics')
    page = a.post('/attendee/remove', {'id': cid, 'attendee': attendee['id']})
    t.ok(page.status == 303 and not scratch.query('SELECT 1 FROM attendee WHERE id = ?', (attendee['id'],)),
         'Remove attendee removes them')


def test_other_owner(t, scratch, server, fake, a, b, row):
    """Owner B, by owner A's id: every page and button is a 404, nothing changes."""
    cid = row['id']
    before = one(scratch, 'SELECT name, pin, locked FROM conference WHERE id = ?', (cid,))
    requests = len(fake.requests())
    missing = b.get('/conference?id=999999')
    t.is_(missing.status, 404, 'an id that does not exist: 404')
    for method, path, fields in (('GET', '/conference', None), ('GET', '/edit', None), ('GET', '/delete', None),
                                 ('GET', '/end', None), ('POST', '/edit', {'name': 'Mine now', 'no_end': '1'}),
                                 ('POST', '/pin', {}), ('POST', '/lock', {'locked': '1'}),
                                 ('POST', '/call', {'number': '+46701112233'}), ('POST', '/mute', {'callid': 'c-phone'}),
                                 ('POST', '/end', {}), ('POST', '/delete', {}),
                                 ('POST', '/attendee/add', {'attendee_name': 'Mole'}),
                                 ('POST', '/invite', {'attendee': 'all'})):
        if method == 'GET':
            page = b.get('%s?id=%d' % (path, cid))
        else:
            b.get('/')
            page = b.post(path, dict(fields, id=cid))
        t.ok(page.status == 404 and page.text() == missing.text() or
             (page.status == 404 and 'no such conference' in page.text().lower()),
             "owner B: %s %s of owner A's conference is a 404, as for no such id" % (method, path),
             diag=page.status)
    t.is_(one(scratch, 'SELECT name, pin, locked FROM conference WHERE id = ?', (cid,)), before,
          "owner A's conference is unchanged")
    t.is_(len(fake.requests()), requests, 'and Sinch was never asked')
    t.ok(row['name'] not in b.get('/').text(), "owner B's list does not show it")


def test_tokens(t, scratch, a, row):
    cid = row['id']
    for path, fields in (('/new', {'name': 'Forged', 'no_end': '1'}), ('/lock', {'id': cid, 'locked': '1'}),
                         ('/delete', {'id': cid}), ('/call', {'id': cid, 'number': '+46701112233'}),
                         ('/attendee/add', {'id': cid, 'attendee_name': 'Forged'})):
        page = a.post(path, fields, token=False)
        t.is_(page.status, 403, 'POST %s without the form token: 403' % path)
        page = a.post(path, fields, headers=[('Origin', 'https://evil.example'), ('Sec-Fetch-Site', 'cross-site')])
        t.is_(page.status, 403, 'POST %s cross-site, with the token: 403' % path)
    t.is_(one(scratch, "SELECT count(*) FROM conference WHERE name = 'Forged'")[0], 0, 'nothing was made')
    t.is_(one(scratch, 'SELECT locked FROM conference WHERE id = ?', (cid,))[0], 0, 'nothing was locked')
    t.is_(a.get('/lock?id=%d' % cid).status, 405, 'a GET of a button is refused: 405')


def test_admin(t, scratch, a, admin, row):
    scratch.execute("INSERT INTO conference(name, pin) VALUES ('Shell made', NULL)")
    page = admin.get('/')
    t.ok('Board' in page.text() and 'Shell made' in page.text() and 'admin' in page.text() and
         'ann@example.com' in page.text(), 'an admin sees every conference, with its owner ("admin" for shell-made)')
    t.ok('Shell made' not in a.get('/').text(), 'an owner does not see shell-made ones')


def test_delete(t, scratch, fake, a, row):
    cid = row['id']
    scratch.execute("INSERT INTO attendee(conference_id, name) VALUES (?, 'Bo')", (cid,))
    page = a.get('/delete?id=%d' % cid)
    t.ok(page.status == 200 and 'Delete conference' in page.text(), 'Delete asks first')
    started = time.time()
    page = a.post('/delete', {'id': cid})
    t.ok(page.status == 200 and 'is deleted' in page.text(), 'Delete: done')
    t.ok(fake.wait_request('DELETE', '/calling/v1/conferences/id/' + row['sinch_id'], after=started),
         'it ended the live conference first')
    t.is_(one(scratch, 'SELECT (SELECT count(*) FROM conference WHERE id = ?1),'
                       ' (SELECT count(*) FROM attendee WHERE conference_id = ?1),'
                       ' (SELECT count(*) FROM call WHERE conference_id = ?1) > 0', (cid,)),
          (0, 0, 1), 'the conference and its attendees are gone, its calls stay')
    t.is_(a.get('/conference?id=%d' % cid).status, 404, 'its page is a 404 now')


def main(t):
    scratch = pinconf.Scratch('owner-conferences')
    scratch.execute("INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850512345')")
    box = mailbox.Mailbox(scratch.path('mail'))
    sendmail = box.install(scratch)
    server = pinconf.start_server(scratch)
    fake = FakeSinch(server.url())
    try:
        url = server.url('').rstrip('/')
        CONFIG.update(owner_domains='example.com', mail_from='pinconf@example.com', public_url=url,
                      sendmail=sendmail, callout_cli=CLI, api_timeout='5', callout_limit='4')
        scratch.write_config(**dict(CONFIG, api_url=fake.url))
        a = make_owner(t, scratch, server, box, 'ann@example.com')
        b = make_owner(t, scratch, server, box, 'bob@example.com')
        admin = make_owner(t, scratch, server, box, 'root@example.com')
        scratch.execute("UPDATE owner SET admin = 1 WHERE email = 'root@example.com'")
        row = test_new(t, scratch, a)
        test_list_and_edit(t, scratch, a, row)
        row = scratch.query('SELECT * FROM conference WHERE id = ?', (row['id'],))[0]
        test_other_owner(t, scratch, server, fake, a, b, row)
        test_tokens(t, scratch, a, row)
        test_live(t, scratch, server, fake, a, row)
        test_attendees(t, scratch, server, box, a, row)
        test_admin(t, scratch, a, admin, row)
        test_delete(t, scratch, fake, a, row)
    finally:
        fake.stop()


pinconf.run(main)
