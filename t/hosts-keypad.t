#!/usr/bin/env python3
"""hosts-keypad.t: hosts (wait for host, end with host), keypad commands and callouts (issue 19).

Runs the installed callback.cgi, getticket.cgi, roster.cgi and pinconf against
a fake Sinch Calling API, under each server and mode: what callback.cgi starts
after answering must reach Sinch even though the server ends the CGI.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, ace, dice, new_callid, action_name, says  # noqa: E402
from sinchfake import FakeSinch  # noqa: E402

WAIT = 'The host has not joined yet. Please hold.'
NOT_IN = 'The host has not joined yet.'
GAVE_UP = 'The host has not joined. Please try again later.'
HINT = 'Press star 6 to mute yourself.'
CLI = '+46101234567'
HELD_SINCH = 30	# seconds at most the fake Sinch holds the DELETE that outlives the server


def pinconf_command(scratch, *arguments, config=None):
    done = subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf')] + list(arguments),
                          env=dict(os.environ, PINCONF_CONFIG=config or scratch.config),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    done.out, done.err = done.stdout.decode(), done.stderr.decode()
    return done


def one(scratch, sql, params=()):
    rows = scratch.query(sql, params)
    return list(rows[0].values())[0] if rows else None


def phone(server, cli, pin, callid=None):
    callid = callid or new_callid('p')
    server.post(ice_phone(callid, cli=cli))
    return callid, server.post(pie(callid, pin))


def menu(svaml):
    action = (svaml or {}).get('action') or {}
    return (action.get('menus') or [{}])[0]


def test_settings(t, scratch, board):
    r = pinconf_command(scratch, 'wait-for-host', 'Board', 'on')
    t.is_((r.returncode, r.out.strip()), (0, 'conference %d (Board): wait_for_host on' % board['id']),
          'pinconf wait-for-host CONF on sets it and says so')
    r = pinconf_command(scratch, '--json', 'end-with-host', str(board['id']), 'on')
    t.is_((r.returncode, (json_of(r) or {}).get('end_with_host')), (0, True),
          'pinconf --json end-with-host CONF on sets it')
    t.is_(scratch.query('SELECT wait_for_host, end_with_host FROM conference WHERE id = ?', (board['id'],)),
          [{'wait_for_host': 1, 'end_with_host': 1}], 'both settings are in the conference row')
    r = pinconf_command(scratch, 'host', 'Board', str(board['host']), 'on')
    t.is_(r.returncode, 0, 'pinconf host CONF ATTENDEE on exits 0')
    t.is_(one(scratch, 'SELECT host FROM attendee WHERE id = ?', (board['host'],)), 1,
          'the attendee is a host in the database')
    r = pinconf_command(scratch, 'host', 'Board', '999', 'on')
    t.like(r.err, r'conference %d \(Board\) has no attendee 999' % board['id'],
           'pinconf host refuses an attendee of no such conference, naming both')
    r = pinconf_command(scratch, 'host', 'Board', str(board['host']), 'maybe')
    t.is_((r.returncode, r.err.strip()), (1, "pinconf: 'maybe' is neither on nor off"),
          'pinconf host refuses a switch other than on or off')
    r = pinconf_command(scratch, 'host', 'Other', str(board['host']), 'on')
    t.isnt(r.returncode, 0, "pinconf host refuses another conference's attendee")


def json_of(done):
    try:
        return json.loads(done.out)
    except ValueError:
        return None


def test_phone_waits(t, server, scratch, board):
    callid, r = phone(server, '+46700000001', '4321')
    t.is_(action_name(r.json), 'runMenu', 'wait: a right PIN with no host in gets a runMenu, not the conference')
    m = menu(r.json)
    t.is_((m.get('id'), m.get('mainPrompt'), m.get('maxDigits'), m.get('timeoutMills')),
          ('main', '#tts[%s]' % WAIT, 1, 30000), 'wait: the menu says to hold, for a round of 30 s')
    row = scratch.call(callid) or {}
    t.is_((row.get('waiting_for'), row.get('joined'), row.get('pin_attempts')), (board['id'], None, 0),
          'wait: the call waits for the conference, not joined')
    t.is_([w['callid'] for w in scratch.query('SELECT callid FROM waiting_for_host')], [callid],
          'wait: the view waiting_for_host lists the caller')
    r = server.post(pie(callid, type='timeout'))
    t.is_((action_name(r.json), menu(r.json).get('mainPrompt')), ('runMenu', '#tts[%s]' % WAIT),
          'wait: the timeout PIE gets another round')
    r = server.post(pie(callid, '7'))
    t.is_(action_name(r.json), 'runMenu', 'wait: a key pressed while waiting is no PIN: another round')
    t.is_((one(scratch, 'SELECT count(*) FROM pin_guess'), (scratch.call(callid) or {}).get('pin_attempts')),
          (0, 0), 'wait: waiting counts as no guess and no wrong attempt')
    return callid


def test_gives_up(t, server, scratch):
    callid, r = phone(server, '+46700000002', '4321')
    t.is_(action_name(r.json), 'runMenu', 'give up: a second caller waits too')
    scratch.execute("UPDATE call SET waiting_since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-29 minutes')"
                    " WHERE callid = ?", (callid,))
    r = server.post(pie(callid, type='timeout'))
    t.is_(action_name(r.json), 'runMenu', 'give up: after 29 minutes it still waits')
    scratch.execute("UPDATE call SET waiting_since = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-31 minutes')"
                    " WHERE callid = ?", (callid,))
    r = server.post(pie(callid, type='timeout'))
    t.is_((says(r.json), action_name(r.json)), ([GAVE_UP], 'hangup'),
          'give up: after 30 minutes (host_wait_minutes) it hears why and is hung up')
    server.post(dice(callid))


def test_browser_waits(t, server, scratch):
    user = server.join('Bea Browser', '4321')
    r = server.form('/cgi-bin/getticket.cgi', {'name': 'Bea Browser', 'pin': '4321'})
    t.is_((r.status, (r.json or {}).get('waitForHost')), (200, True),
          'browser: getticket issues credentials and says to wait for the host')
    r = server.form('/cgi-bin/roster.cgi', {'userId': user})
    t.is_((r.status, r.json), (200, {'participants': [], 'hostIn': False}),
          'browser: roster.cgi tells a waiting page that no host is in')
    r = server.form('/cgi-bin/roster.cgi', {'userId': 'u-neverIssuedByUs0000000'})
    t.is_(r.status, 403, 'browser: roster.cgi tells an unknown id nothing')
    callid = new_callid('b')
    r = server.post(ice_browser(callid, '4321', user=user))
    t.is_((says(r.json), action_name(r.json)), ([NOT_IN], 'hangup'),
          'browser: a call placed anyway while no host is in is refused, saying why')
    return user


def test_host_lets_them_in(t, server, scratch, board, waiting, user, fake):
    host, r = phone(server, '+46700000009', '5555')
    action = (r.json or {}).get('action') or {}
    t.is_((action.get('name'), action.get('conferenceId')), ('connectConf', board['sinch_id']),
          "host: the host's PIN connects at once")
    t.ok(HINT in says(r.json) and (action.get('conferenceDtmfOptions') or {}).get('mode') == 'detect',
         'host: a phone leg hears the keypad hint and gets conferenceDtmfOptions detect')
    r = server.post(pie(waiting, type='timeout'))
    t.is_(((r.json or {}).get('action') or {}).get('name'), 'connectConf',
          'host: the waiting caller is let in at their next round')
    t.is_(scratch.query('SELECT callid FROM waiting_for_host'), [], 'host: nobody waits any more')
    r = server.form('/cgi-bin/roster.cgi', {'userId': user})
    t.is_((r.status, (r.json or {}).get('hostIn')), (200, True), 'host: the waiting page learns a host is in')
    browser = new_callid('b')
    r = server.post(ice_browser(browser, '4321', user=user))
    t.is_(action_name(r.json), 'connectConf', 'host: now the browser call connects')
    r = server.form('/cgi-bin/roster.cgi', {'userId': user})
    t.is_([(p.get('name'), p.get('host')) for p in (r.json or {}).get('participants', [])
           if p.get('host')], [('Hanna Host', True)], 'roster: the host is named as such')
    for callid, cli in ((host, '+46700000009'), (waiting, '+46700000001'), (browser, 'bea')):
        fake.add(board['sinch_id'], callid, cli)
    r = pinconf_command(scratch, '--json', 'who', 'Board')
    t.is_(sorted(p['callid'] for p in (json_of(r) or {}).get('participants', []) if p.get('host')), [host],
          'pinconf who marks the host')
    return host, browser


def keypad(server, callid, digits, sid):
    started = time.time()
    r = server.post(pie(callid, digits, menu_id=sid))
    return r, started


def test_keypad(t, server, scratch, board, fake, host, member):
    sid = board['sinch_id']
    path = '/calling/v1/conferences/id/%s/%s' % (sid, member)
    r, started = keypad(server, member, '*6', sid)
    t.is_((r.status, r.json), (200, {'action': {'name': 'continue'}}), 'keypad: *6 is answered 200 at once')
    t.is_((scratch.call(member) or {}).get('muted'), 1, 'keypad: *6 marks the call muted')
    q = fake.wait_request('PATCH', path, after=started)
    t.is_((q or {}).get('body'), '{"command":"mute"}', 'keypad: Sinch gets PATCH mute for the caller')
    t.ok(q is not None and q['status'] in (200, 204),
         'keypad: the signed PATCH went to Sinch once the PIE was answered, and Sinch accepted it')
    t.is_((fake.participant(sid, member) or {}).get('muted'), True, 'keypad: the caller is muted at Sinch')
    r, started = keypad(server, member, '*6', sid)
    q = fake.wait_request('PATCH', path, after=started)
    t.is_(((q or {}).get('body'), (scratch.call(member) or {}).get('muted')), ('{"command":"unmute"}', 0),
          'keypad: a second *6 unmutes, at Sinch and in the call table')

    mark = server.log_mark()
    r, started = keypad(server, member, '*7', sid)
    t.is_((r.status, one(scratch, 'SELECT locked FROM conference WHERE id = ?', (board['id'],))), (200, 0),
          'keypad: *7 from a participant who is no host locks nothing')
    r, started = keypad(server, member, '*8', sid)
    time.sleep(0.3)
    t.is_([q for q in fake.requests() if q['at'] >= started], [],
          'keypad: *8 from one who is no host mutes nobody')
    t.ok(any('is for hosts only: refused' in line for line in server.log_since(mark)),
         'keypad: the refusal is logged')
    r, started = keypad(server, member, '42', sid)
    t.is_(r.status, 200, 'keypad: other digits are answered 200 and ignored')

    r, started = keypad(server, host, '*7', sid)
    t.is_(one(scratch, 'SELECT locked FROM conference WHERE id = ?', (board['id'],)), 1,
          'keypad: the host locks the conference with *7')
    r, started = keypad(server, host, '*7', sid)
    t.is_(one(scratch, 'SELECT locked FROM conference WHERE id = ?', (board['id'],)), 0,
          'keypad: and unlocks it with *7 again')
    r, started = keypad(server, host, '*8', sid)
    t.ok(fake.wait_for(lambda: (fake.participant(sid, member) or {}).get('muted')),
         'keypad: the host mutes the others with *8')
    t.is_((fake.participant(sid, host) or {}).get('muted'), False, 'keypad: *8 leaves the host unmuted')
    t.is_((scratch.call(member) or {}).get('muted'), 1, 'keypad: *8 is recorded in the call table')
    r, started = keypad(server, member, '*6', 'pinconf-someoneelse00')
    t.is_((r.status, (scratch.call(member) or {}).get('muted')), (200, 1),
          'keypad: digits naming another conference than the caller is in change nothing')


def test_end_with_host(t, server, scratch, board, fake, host):
    sid = board['sinch_id']
    started = time.time()
    r = server.post(dice(host))
    answered = time.time()
    t.is_((r.status, r.json), (200, {}), "end: the last host's DiCE is answered 200")
    t.ok(answered - started < 2, 'end: the DiCE is not delayed (%.2f s)' % (answered - started))
    q = fake.wait_request('DELETE', '/calling/v1/conferences/id/' + sid, after=started)
    # After the DiCE was posted; that it does not hold up the answer is shown
    # above and, with a slow Sinch, by test_end_outlives_the_server.
    t.ok(q is not None and q['at'] >= started,
         'end: then Sinch gets DELETE /calling/v1/conferences/id/{id}')
    # Sinch answers a second DELETE of an emptied conference 404: look for the one it took.
    path = '/calling/v1/conferences/id/' + sid
    q = fake.wait_for(lambda: next((r for r in fake.requests() if r['method'] == 'DELETE' and
                                    r['path'] == path and r['at'] >= started and
                                    r.get('status') in (200, 204)), None)) or q
    t.ok(q is not None and q['status'] in (200, 204) and
         q['headers'].get('Authorization', '').startswith('Application ' + pinconf.KEY + ':'),
         'end: the DELETE is signed and Sinch accepted it',
         diag='  request: %r\n  log: %r' % (q and {k: q.get(k) for k in ('status', 'at', 'path')},
                                            server.log_all()[-5:]))
    t.is_(fake.state()['conferences'].get(sid), {}, 'end: everyone is out of the conference at Sinch')


def test_end_fails_logged(t, server, scratch, fake):
    other = scratch.add_conference('Other', '7777')
    scratch.execute("INSERT INTO attendee(conference_id, name, pin, host) VALUES (?, 'Olle', '8888', 1)",
                    (other['id'],))
    scratch.execute('UPDATE conference SET end_with_host = 1 WHERE id = ?', (other['id'],))
    host, r = phone(server, '+46700000008', '8888')
    t.is_(action_name(r.json), 'connectConf', 'end fails: a host joins another conference')
    fake.control('fail', {'status': 503, 'errorCode': 50300, 'message': 'Temporarily unavailable',
                          'times': 1, 'method': 'DELETE'})
    mark = server.log_mark()
    started = time.time()
    r = server.post(dice(host))
    t.is_(r.status, 200, 'end fails: the DiCE is still answered 200')
    t.ok(fake.wait_request('DELETE', '/calling/v1/conferences/id/' + other['sinch_id'], after=started),
         'end fails: the DELETE was tried')
    found = None
    deadline = time.monotonic() + 10
    while found is None and time.monotonic() < deadline:
        found = next((line for line in server.log_since(mark) if 'pinconf:' in line and '503' in line), None)
        time.sleep(0.1)
    t.ok(found is not None and 'Temporarily unavailable' in found,
         "end fails: the failure is logged with Sinch's answer", diag='  %r' % found)


def processes(name, *arguments):
    """Pids of the running processes whose program is name and whose arguments hold all of arguments."""
    found = []
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                argv = [word.decode(errors='replace') for word in f.read().split(b'\0')]
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == name and all(a in argv[1:] for a in arguments):
            found.append(int(entry))
    return found


def test_end_outlives_the_server(t, server, scratch, fake):
    """What callback.cgi starts after answering must not die with the request or the server:
    lighttpd sends the CGI SIGTERM once it has the answer, Apache's prefork MPM signals its
    whole process group when it stops or restarts.  pinconf end, still waiting for a slow
    Sinch then, must be in a session of its own (detach.c) to hear the answer.
    Last: it ends the server."""
    # pinconf end waits for Sinch as long as the config lets it (the most, 15 s),
    # so that it is still waiting when the test, however slow, lets Sinch answer.
    scratch.write_config(api_url=fake.url, callout_cli=CLI, debug='yes', api_timeout='15',
                         pinconf_command=os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf'))
    late = scratch.add_conference('Late', '7878')
    scratch.execute("INSERT INTO attendee(conference_id, name, pin, host) VALUES (?, 'Lars', '8787', 1)",
                    (late['id'],))
    scratch.execute('UPDATE conference SET end_with_host = 1 WHERE id = ?', (late['id'],))
    host, r = phone(server, '+46700000009', '8787')
    t.is_(action_name(r.json), 'connectConf', 'end outlives: a host joins')
    # Sinch holds the DELETE until the test lets it go, however slow the machine.
    fake.control('fail', {'status': 503, 'errorCode': 50300, 'message': 'Slowly unavailable', 'hold': True,
                          'delay': HELD_SINCH, 'times': 1, 'method': 'DELETE'})
    path = '/calling/v1/conferences/id/' + late['sinch_id']
    started = time.time()
    r = server.post(dice(host))
    answered = time.time()
    t.ok(r.status == 200 and answered - started < HELD_SINCH / 2,
         'end outlives: the DiCE is answered (%.2f s) while Sinch still holds the DELETE' % (answered - started))
    asked = fake.wait_for(lambda: next((q for q in fake.requests()
                                        if q['method'] == 'DELETE' and q['path'] == path), None), timeout=10)
    t.ok(asked is not None, 'end outlives: pinconf end asks Sinch to end the conference')
    groups = []
    for pid in processes('pinconf', 'end'):
        try:
            groups.append((pid, os.getpgid(pid), os.getsid(pid)))
        except ProcessLookupError:
            pass
    server_group = (os.getpgid(server.process.pid), os.getsid(server.process.pid))
    t.ok(groups and all(group != server_group[0] and session != server_group[1] for _, group, session in groups),
         "end outlives: pinconf end runs in a session of its own, out of the server's process group",
         diag='  pinconf end (pid, group, session) %r; server %d (group, session) %r'
         % (groups, server.process.pid, server_group))
    # What Apache's prefork MPM does when it stops or restarts, and a server
    # whose CGI pinconf end had stayed with would do to it too.  (Stopping the
    # server itself shows nothing more: the servers of the four modes signal
    # only their own children, and Apache with mod_fcgid takes up to 10 s.)
    held = next((q for q in fake.requests() if q['method'] == 'DELETE' and q['path'] == path), {})
    os.killpg(server_group[0], signal.SIGTERM)
    t.ok(asked is not None and held.get('status') is None,
         "end outlives: the server's process group got SIGTERM while Sinch still held pinconf end's DELETE")
    time.sleep(0.5)		# what SIGTERM ends, it ends long before this
    fake.control('release', {})
    q = fake.wait_request('DELETE', path, after=started, timeout=10)
    t.is_((q or {}).get('status'), 503,
          "end outlives: pinconf end was still there for Sinch's answer after the SIGTERM")
    # Apache with mod_fcgid lingers for seconds after that SIGTERM: end what is left at once.
    try:
        os.killpg(server_group[0], signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.process.wait(timeout=10)


def test_callout_ace(t, server, scratch, board, fake):
    callid = new_callid('o')
    r = server.post(ace(callid, custom='conference=' + board['sinch_id']))
    action = (r.json or {}).get('action') or {}
    t.is_((action.get('name'), action.get('conferenceId')), ('connectConf', board['sinch_id']),
          "callout: a callout's ACE is answered with connectConf into its conference")
    t.is_((scratch.call(callid) or {}).get('conference_id'), board['id'], 'callout: the leg is recorded as in it')
    r = server.post(ace(new_callid('o'), custom='conference=pinconf-notours000000'))
    t.is_(action_name(r.json), 'hangup', 'callout: an ACE naming no conference of ours is hung up')
    old = scratch.add_conference('Old', '1212', starts_on='2020-01-01', ends_on='2020-12-31')
    r = server.post(ace(new_callid('o'), custom='conference=' + old['sinch_id']))
    t.is_(action_name(r.json), 'hangup', 'callout: an ACE for a conference that has ended is hung up')
    r = server.post(ace(new_callid('o')))
    t.is_(r.json, {'action': {'name': 'continue'}}, "callout: an ordinary call's ACE still continues")
    r = pinconf_command(scratch, '--json', 'call', 'Board', '+46709999999')
    leg = (json_of(r) or {}).get('callid', '')
    t.ok(fake.wait_for(lambda: fake.participant(board['sinch_id'], leg)),
         'callout: a leg pinconf call placed enters the conference at Sinch')


def test_config(t, scratch):
    path = scratch.path('old.conf')
    scratch.write_config(path=path, raw='call_max_hours = 24')
    r = pinconf_command(scratch, 'list', config=path)
    t.like(r.err, r"call_max_hours moved to the database: remove the line and run UPDATE setting SET value = 24"
           r" WHERE name = 'call_max_hours'", 'the old config key call_max_hours is refused, saying what to run')


def main(t):
    scratch = pinconf.Scratch('hosts-keypad')
    board = scratch.add_conference('Board', '4321')
    board['host'] = scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Hanna Host', '5555')",
                                    (board['id'],))
    server = pinconf.start_server(scratch)
    fake = FakeSinch(server.url())
    try:
        scratch.write_config(api_url=fake.url, callout_cli=CLI, debug='yes',
                             pinconf_command=os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf'))
        test_config(t, scratch)
        test_settings(t, scratch, board)
        waiting = test_phone_waits(t, server, scratch, board)
        test_gives_up(t, server, scratch)
        user = test_browser_waits(t, server, scratch)
        host, browser = test_host_lets_them_in(t, server, scratch, board, waiting, user, fake)
        test_keypad(t, server, scratch, board, fake, host, waiting)
        test_callout_ace(t, server, scratch, board, fake)
        test_end_with_host(t, server, scratch, board, fake, host)
        test_end_fails_logged(t, server, scratch, fake)
        test_end_outlives_the_server(t, server, scratch, fake)
    finally:
        fake.stop()


pinconf.run(main)
