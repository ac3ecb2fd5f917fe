#!/usr/bin/env python3
"""pinconf-command.t: the pinconf command against a fake Sinch Calling API and the real callback.cgi."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, new_callid  # noqa: E402
from sinchfake import FakeSinch  # noqa: E402

CLI = '+46101234567'
PHONE = '+46700000001'
DIALLED = '+46709999999'
OTHER_SECRET = 'AAAAAAAAAAAAAAAAAAAAAA=='


class Command:
    """Runs the installed pinconf with a config."""

    def __init__(self, config):
        self.config = config
        self.sanitizer_lines = []

    def __call__(self, *arguments, config=None):
        environment = dict(os.environ, PINCONF_CONFIG=config or self.config)
        started = time.monotonic()
        done = subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf')] + list(arguments),
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        done.elapsed = time.monotonic() - started
        done.out = done.stdout.decode('utf-8', errors='replace')
        done.err = done.stderr.decode('utf-8', errors='replace')
        self.sanitizer_lines += [line for line in done.err.splitlines()
                                 if pinconf.SANITIZER_PATTERN.search(line)]
        try:
            done.json = json.loads(done.out)
        except ValueError:
            done.json = None
        return done


def cells_of(text, prefix):
    """The cells of the table row that starts with prefix (columns are two or more spaces apart)."""
    line = next((l for l in text.splitlines() if l.startswith(prefix)), '')
    return re.split(r'\s{2,}', line.strip()) if line else []


def join_by_phone(t, server, callid, cli, pin):
    server.post(ice_phone(callid, cli=cli))
    return server.post(pie(callid, pin))


def test_who_shows_phone_and_browser(t, pinconf_, fake, weekly):
    sid = weekly['sinch_id']
    r = pinconf_('who', 'Weekly sync')
    t.is_(r.returncode, 0, 'who by exact name exits 0')
    cells = cells_of(r.out, 'cphone')
    t.is_(cells[1:3], [PHONE, 'phone'], 'who shows the phone caller with their number, as phone')
    t.ok(len(cells) == 8 and cells[4].isdigit() and 14 <= int(cells[4]) <= 30,
         'who shows the seconds the phone caller has been in', diag='  cells: %r' % cells)
    t.is_(cells[5:], ['no', 'no', 'no'], 'who shows the phone caller no host, neither muted nor on hold')
    cells = cells_of(r.out, 'cbrowser')
    t.is_(cells[1:3], ['Alice Example', 'browser'],
          'who shows a browser participant with their display name, as browser')
    t.like(r.out.splitlines()[1] if len(r.out.splitlines()) > 1 else '',
           r'^CALL ID\s+NAME\s+VIA\s+JOINED\s+SECONDS\s+HOST\s+MUTED\s+ON HOLD$', 'who prints aligned headings')
    t.is_([q['path'] for q in fake.requests()][-1:], ['/calling/v1/conferences/id/' + sid],
          'who asks Sinch GET /calling/v1/conferences/id/{conferenceId}')
    last = fake.requests()[-1]
    t.is_((last['method'], last['status']), ('GET', 200), 'the fake accepted the signed GET')
    t.like(last['headers'].get('Authorization', ''), r'^Application %s:[A-Za-z0-9+/]{43}=$' % pinconf.KEY,
           'the request is signed as Application KEY:SIGNATURE')
    t.ok('Content-Type' not in last['headers'], 'a GET carries no Content-Type')

    r = pinconf_('--json', 'who', '4321')
    t.is_(r.returncode, 0, 'who --json by PIN exits 0')
    document = r.json or {}
    t.is_((document.get('conference') or {}).get('id'), weekly['id'], 'who --json names the conference')
    rows = {p.get('callid'): p for p in document.get('participants') or []}
    phone = rows.get(t.phone_call) or {}
    t.is_((phone.get('name'), phone.get('via'), phone.get('muted'), phone.get('onhold')),
          (PHONE, 'phone', False, False), 'who --json gives name, via, muted, on hold of the phone caller')
    t.ok(isinstance(phone.get('seconds'), int) and phone['seconds'] >= 14, 'who --json gives seconds in',
         diag='  %r' % phone)
    t.like(phone.get('joined') or '', r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', 'who --json gives when they joined')
    t.is_((rows.get(t.browser_call) or {}).get('name'), 'Alice Example',
          'who --json names the browser participant by display name')
    r = pinconf_('who', sid)
    t.is_(r.returncode, 0, 'who by Sinch conference id exits 0')
    r = pinconf_('who', str(weekly['id']))
    t.is_(r.returncode, 0, 'who by conference id exits 0')


def test_list(t, pinconf_, weekly):
    r = pinconf_('list')
    t.is_(r.returncode, 0, 'list exits 0')
    t.like(r.out, r'^ID\s+NAME\s+PIN\s+FROM\s+UNTIL\s+IN NOW\n', 'list prints aligned headings')
    line = next((l for l in r.out.splitlines() if 'Weekly sync' in l), '')
    t.like(line, r'^%d\s+Weekly sync\s+4321\s+\d{4}-\d\d-\d\d\s+-\s+2$' % weekly['id'],
           'list shows id, name, PIN, dates and the two in now')
    t.unlike(r.out, r'Last year', 'list leaves out conferences not active today')
    r = pinconf_('list', '--json')
    rows = [c for c in (r.json or {}).get('conferences', []) if c.get('id') == weekly['id']]
    t.is_(rows[:1], [{'id': weekly['id'], 'name': 'Weekly sync', 'pin': '4321',
                      'starts_on': weekly['starts_on'], 'ends_on': None, 'participants': 2}],
          'list --json gives each active conference as an object')


def test_mute_unmute_kick(t, pinconf_, fake, weekly):
    sid = weekly['sinch_id']
    r = pinconf_('mute', 'Weekly sync', t.phone_call)
    t.is_(r.returncode, 0, 'mute exits 0')
    t.is_((fake.participant(sid, t.phone_call) or {}).get('muted'), True, 'mute mutes the participant at Sinch')
    last = fake.requests()[-1]
    t.is_((last['method'], last['path'], last['body']),
          ('PATCH', '/calling/v1/conferences/id/%s/%s' % (sid, t.phone_call), '{"command":"mute"}'),
          'mute is PATCH /calling/v1/conferences/id/{conferenceId}/{callId} {"command":"mute"}')
    t.is_(last['headers'].get('Content-Type'), 'application/json', 'a request with a body says application/json')
    t.is_(last['status'], 204, 'the fake accepted the signed PATCH')
    r = pinconf_('unmute', '--json', 'Weekly sync', t.phone_call)
    t.is_(r.returncode, 0, 'unmute exits 0')
    t.is_((r.json or {}).get('done'), 'unmute', 'unmute --json says what was done')
    t.is_((fake.participant(sid, t.phone_call) or {}).get('muted'), False, 'unmute unmutes the participant at Sinch')

    r = pinconf_('kick', 'Weekly sync', t.browser_call)
    t.is_(r.returncode, 0, 'kick exits 0')
    t.is_(fake.participant(sid, t.browser_call), None, 'kick removes the participant at Sinch')
    t.is_(fake.requests()[-1]['method'], 'DELETE', 'kick is a DELETE')
    t.ok(fake.wait_for(lambda: (pinconf_.scratch.call(t.browser_call) or {}).get('ended')),
         "Sinch's DiCE for the kicked call is recorded by callback.cgi")
    t.is_((pinconf_.scratch.call(t.browser_call) or {}).get('end_reason'), 'MANAGERHANGUP',
          'the kicked call ends with reason MANAGERHANGUP')
    t.is_(fake.participant(sid, t.phone_call) is not None, True, 'kick leaves the others in')


def test_call(t, pinconf_, fake, weekly):
    sid = weekly['sinch_id']
    r = pinconf_('--json', 'call', 'Weekly sync', DIALLED)
    t.is_(r.returncode, 0, 'call exits 0', )
    callid = (r.json or {}).get('callid') or ''
    t.like(callid, r'^[0-9a-f]{32}$', "call --json gives Sinch's call id of the new leg")
    posted = [q for q in fake.requests() if q['path'] == '/calling/v1/callouts']
    body = json.loads(posted[-1]['body']) if posted else {}
    t.is_(body, {'method': 'conferenceCallout', 'conferenceCallout': {
        'cli': CLI, 'destination': {'type': 'number', 'endpoint': DIALLED}, 'conferenceId': sid,
        'greeting': pinconf.WELCOME, 'locale': 'en-US', 'enableAce': True, 'enableDice': True,
        'custom': 'conference=' + sid}},
        'call POSTs the documented conferenceCallout body')
    t.is_(posted[-1]['status'] if posted else None, 200, 'the fake accepted the signed POST')
    row = pinconf_.scratch.call(callid) or {}
    t.is_((row.get('origin'), row.get('caller'), row.get('conference_id'), row.get('conference_name')),
          ('pstn', DIALLED, weekly['id'], 'Weekly sync'), 'the call table shows the leg under its call id')
    t.like(row.get('joined') or '', r'^\d{4}-', 'the leg is recorded as joined')
    t.ok(fake.wait_for(lambda: any(c['event'] == 'ace' and c['callid'] == callid for c in fake.state()['callbacks'])),
         'the fake posts a signed ACE for the leg to callback.cgi')
    ace = [c for c in fake.state()['callbacks'] if c['event'] == 'ace' and c['callid'] == callid][:1]
    t.is_([(c['status'], (c['answer'] or {}).get('action', {}).get('name'),
            (c['answer'] or {}).get('action', {}).get('conferenceId')) for c in ace],
          [(200, 'connectConf', sid)],
          "callback.cgi answers the leg's ACE with connectConf into its conference (sinch-api.md 5)")
    t.ok(fake.wait_for(lambda: fake.participant(sid, callid) is not None), 'the answered leg is in the conference')
    r = pinconf_('who', 'Weekly sync')
    t.is_(cells_of(r.out, callid)[1:3], [DIALLED, 'phone'], 'who shows the dialled leg with its number')
    fake.control('hangup', {'callId': callid})
    t.ok(fake.wait_for(lambda: (pinconf_.scratch.call(callid) or {}).get('ended')),
         "the leg's DiCE is recorded on the row the command made")
    row = pinconf_.scratch.call(callid) or {}
    t.is_((row.get('end_reason'), row.get('caller'), row.get('conference_id')),
          ('CALLEEHANGUP', DIALLED, weekly['id']), 'the DiCE keeps the number and the conference')
    # The row is written before the answer reaches the fake: wait for its record.
    fake.wait_for(lambda: [c for c in fake.state()['callbacks'] if c['event'] == 'dice' and
                           c['callid'] == callid and c['status'] is not None])
    dice = [c for c in fake.state()['callbacks'] if c['event'] == 'dice' and c['callid'] == callid]
    t.is_([c['status'] for c in dice], [200], 'callback.cgi answers the leg\'s DiCE 200')


def test_end(t, pinconf_, fake, weekly):
    sid = weekly['sinch_id']
    r = pinconf_('end', 'Weekly sync')
    t.is_(r.returncode, 0, 'end exits 0')
    t.is_(fake.state()['conferences'].get(sid), {}, 'end removes everyone at Sinch')
    t.is_(fake.requests()[-1]['path'], '/calling/v1/conferences/id/' + sid,
          'end is DELETE /calling/v1/conferences/id/{conferenceId}')
    t.ok(fake.wait_for(lambda: (pinconf_.scratch.call(t.phone_call) or {}).get('ended')),
         'the DiCE of everyone removed is recorded')
    r = pinconf_('who', 'Weekly sync')
    t.is_((r.returncode, r.out.strip()), (0, 'nobody is in conference %d (Weekly sync) right now' % weekly['id']),
          'who of an empty conference (40400) says nobody is in it, exit 0')
    r = pinconf_('--json', 'who', 'Weekly sync')
    t.is_((r.returncode, (r.json or {}).get('participants')), (0, []), 'who --json of an empty conference lists none')
    r = pinconf_('end', 'Weekly sync')
    t.is_((r.returncode, r.err.strip()),
          (1, 'pinconf: nobody is in conference %d (Weekly sync) right now' % weekly['id']),
          'end of an empty conference (40400) says nobody is in it, exit 1')


def refused(t, r, status, pattern, name):
    t.is_(r.returncode, status, '%s: exit status %d' % (name, status))
    t.like(r.err, r'^pinconf: %s' % pattern, '%s: says why' % name)
    t.is_(len(r.err.splitlines()), 1, '%s: in one line' % name)


def test_errors(t, pinconf_, fake, weekly, scratch):
    sid = weekly['sinch_id']
    fake.control('participants', {'conference': sid, 'id': 'cstay', 'cli': PHONE, 'duration': 1})
    refused(t, pinconf_('who', '999'), 1, r"no conference '999': give an id", 'an unknown conference')
    a = scratch.add_conference('Standup', '5555')
    b = scratch.add_conference('Standup', '6666')
    refused(t, pinconf_('who', 'Standup'), 1,
            r"2 conferences are called 'Standup': ids %d \(.*\), %d \(.*\); give the id instead" % (a['id'], b['id']),
            'an ambiguous name lists the candidates')
    refused(t, pinconf_('kick', 'Weekly sync', 'cnobody'), 1,
            r'call cnobody is not in conference %d \(Weekly sync\) right now' % weekly['id'],
            'kicking a call Sinch does not know (40400)')
    refused(t, pinconf_('mute', 'Weekly sync', '../x'), 1, r'the call id is not an id Sinch knows',
            'a call id unfit for a path')
    # Issue 20: libcurl folded /id/CONF/. into /id/CONF, and kick ended the whole conference.
    for dots in ('.', '..', '...'):
        before = len(fake.requests())
        refused(t, pinconf_('kick', 'Weekly sync', dots), 1, r'the call id is not an id Sinch knows',
                'kick with the call id %r (a dot segment)' % dots)
        t.is_(fake.requests()[before:], [], 'kick %r sends nothing to Sinch' % dots)
    t.ok(fake.participant(sid, 'cstay') is not None, 'the refused kicks ended nobody')

    before = len(fake.requests())
    wrong = scratch.write_config(path=scratch.path('wrong-secret.conf'), application_secret=OTHER_SECRET,
                                 api_url=fake.url, callout_cli=CLI)
    r = pinconf_('who', 'Weekly sync', config=wrong)
    refused(t, r, 1, r'Sinch at %s refused the application key or secret \(HTTP 401, error 40102: Invalid signature\)'
            % re.escape(fake.host), 'a wrong secret (401, 40102)')
    t.is_(len(fake.requests()) - before, 1, 'a refused GET is not retried')
    wrong = scratch.write_config(path=scratch.path('wrong-key.conf'), application_key='not-our-key',
                                 api_url=fake.url, callout_cli=CLI)
    refused(t, pinconf_('who', 'Weekly sync', config=wrong), 1,
            r'Sinch at \S+ refused the application key or secret \(HTTP 401, error 40100',
            'a wrong key (401, 40100)')
    t.unlike(r.err, re.escape(OTHER_SECRET), 'the message never shows the secret')

    fake.control('clock', {'offset': 3600})
    refused(t, pinconf_('who', 'Weekly sync'), 1, r".*error 40101.*this machine's clock is off",
            'a clock an hour off (40101)')
    fake.control('clock', {'offset': 0})

    before = len(fake.requests())
    fake.control('fail', {'status': 503, 'errorCode': 50300, 'message': 'Temporarily unavailable',
                          'times': 2, 'method': 'GET'})
    refused(t, pinconf_('who', 'Weekly sync'), 1,
            r'Sinch at %s failed \(HTTP 503, error 50300: Temporarily unavailable\); try again later' %
            re.escape(fake.host), 'Sinch failing (5xx)')
    t.is_(len(fake.requests()) - before, 2, 'a GET that met a 5xx is tried once more, no more')
    before = len(fake.requests())
    fake.control('fail', {'status': 500, 'errorCode': 50000, 'times': 1, 'method': 'GET'})
    r = pinconf_('who', 'Weekly sync')
    t.is_((r.returncode, len(fake.requests()) - before), (0, 2), 'a GET that met one 5xx succeeds on its retry')
    before = len(fake.requests())
    fake.control('fail', {'status': 503, 'errorCode': 50300, 'times': 1, 'method': 'DELETE'})
    refused(t, pinconf_('kick', 'Weekly sync', 'cstay'), 1, r'Sinch at \S+ failed \(HTTP 503',
            'a DELETE meeting a 5xx')
    t.is_(len(fake.requests()) - before, 1, 'a DELETE is never retried')
    t.ok(fake.participant(sid, 'cstay') is not None, 'the failed kick removed nobody')

    fake.control('fail', {'delay': 9, 'times': 1, 'method': 'PATCH'})
    r = pinconf_('mute', 'Weekly sync', 'cstay')
    refused(t, r, 1, r'no answer from Sinch at %s within 7 seconds' % re.escape(fake.host), 'Sinch not answering')
    t.between(r.elapsed, 6, 15, 'a request that gets no answer gives up within 15 s')

    closed = pinconf.free_port()
    nowhere = scratch.write_config(path=scratch.path('nowhere.conf'), api_url='http://127.0.0.1:%d' % closed)
    refused(t, pinconf_('who', 'Weekly sync', config=nowhere), 1,
            r'cannot connect to Sinch at 127\.0\.0\.1:%d' % closed, 'no Sinch listening')

    no_cli = scratch.write_config(path=scratch.path('no-cli.conf'), api_url=fake.url)
    before = len(fake.requests())
    refused(t, pinconf_('call', 'Weekly sync', DIALLED, config=no_cli), 1,
            r'callout_cli is not set in \S+: set it', 'call without callout_cli')
    refused(t, pinconf_('call', 'Weekly sync', '0709999999'), 1, r"'0709999999' is not an E\.164 number",
            'call to a number without +')
    refused(t, pinconf_('call', 'Weekly sync', '+4670abc'), 1, r"'\+4670abc' is not an E\.164 number",
            'call to a number with letters')
    t.is_(len(fake.requests()) - before, 0, 'refused calls never reach Sinch')

    for url, name in (('https://calling.example.com', 'an https host outside api.sinch.com'),
                      ('http://calling.api.sinch.com', 'plain http to Sinch'),
                      ('http://10.0.0.1:8080', 'plain http to another machine'),
                      ('https://calling.api.sinch.com/v2', 'an api_url with a path'),
                      ('ftp://127.0.0.1', 'an ftp api_url')):
        bad = scratch.write_config(path=scratch.path('bad-url.conf'), api_url=url)
        refused(t, pinconf_('list', config=bad), 1, r'config \S+: api_url must be https://HOST\.api\.sinch\.com',
                'config refused: %s' % name)
    bad = scratch.write_config(path=scratch.path('bad-cli.conf'), callout_cli='46101234567')
    refused(t, pinconf_('list', config=bad), 1, r'config \S+: callout_cli must be E\.164', 'config refused: callout_cli without +')
    for url in ('https://calling-euc1.api.sinch.com', 'http://localhost:8080', 'http://[::1]:1/'):
        good = scratch.write_config(path=scratch.path('good-url.conf'), api_url=url)
        t.is_(pinconf_('list', config=good).returncode, 0, 'config accepts api_url %s' % url)

    r = pinconf_('--json', 'who', '999')
    t.is_((r.returncode, sorted((r.json or {}).keys())), (1, ['error']),
          'a failure with --json prints one {"error": ...} document')


def test_escapes(t, pinconf_, fake, weekly, scratch):
    """Issue 20: C1 controls (U+009B, the 8-bit CSI) reached the admin's terminal through who and errors."""
    sid = weekly['sinch_id']
    evil = 'Eve\u009b2J\u202eevil\u200b'
    fake.control('participants', {'conference': sid, 'id': 'cevil', 'cli': '\u009b31m', 'duration': 1})
    scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined)"
                    " VALUES ('cevil', 'mxp', ?, ?, 'Weekly sync', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (evil, weekly['id']))
    unsafe = ('\u009b', '\u202e', '\u200b')
    r = pinconf_('who', 'Weekly sync')
    t.is_(r.returncode, 0, 'escapes: who with a participant named with C1, bidi and invisible characters exits 0')
    t.ok(not any(c.encode() in r.stdout for c in unsafe) and b'\x1b' not in r.stdout,
         'escapes: who prints none of them raw', diag=r.out)
    t.like(r.out, r'Eve\\u009b2J\\u202eevil\\u200b', 'escapes: who shows them as \\uXXXX')
    r = pinconf_('--json', 'who', 'Weekly sync')
    rows = {p.get('callid'): p for p in (r.json or {}).get('participants') or []}
    t.ok(not any(c.encode() in r.stdout for c in unsafe), 'escapes: --json prints none of them raw')
    t.is_((rows.get('cevil') or {}).get('name'), evil, 'escapes: --json is still JSON, with the name as it is')
    r = pinconf_('who', 'Weekly\u009b2J sync')
    t.ok(r.returncode == 1 and not any(c.encode() in r.stderr for c in unsafe) and '\\u009b' in r.err,
         'escapes: an error message naming what was typed prints it escaped', diag=r.err)
    pinconf_('kick', 'Weekly sync', 'cevil')


def test_usage(t, pinconf_):
    for arguments, name in (((), 'no command'), (('frobnicate',), 'an unknown command'),
                            (('who',), 'who without CONF'), (('mute', 'x'), 'mute without CALLID'),
                            (('list', 'extra'), 'list with an argument'), (('--bogus', 'list'), 'an unknown option')):
        r = pinconf_(*arguments)
        t.is_(r.returncode, 2, 'usage error exits 2: %s' % name)
        t.like(r.err, r'usage: pinconf', 'usage error prints the usage: %s' % name)
    r = pinconf_('-h')
    t.is_(r.returncode, 0, '-h exits 0')
    t.like(r.out, r'^usage: pinconf \[--json\] list\n(.*\n){6}', '-h prints every command on stdout')


def main(t):
    scratch = pinconf.Scratch('pinconf-command')
    weekly = scratch.add_conference('Weekly sync', '4321')
    scratch.add_conference('Last year', '1111', starts_on='2020-01-01', ends_on='2020-12-31')
    server = pinconf.start_server(scratch)
    fake = FakeSinch(server.url())
    try:
        scratch.write_config(api_url=fake.url, callout_cli=CLI)
        pinconf_ = Command(scratch.config)
        pinconf_.scratch = scratch
        sid = weekly['sinch_id']

        t.phone_call = 'cphone' + new_callid('')[:20]
        r = join_by_phone(t, server, t.phone_call, PHONE, '4321')
        t.is_(pinconf.action_name(r.json), 'connectConf', 'a phone caller joins through callback.cgi')
        fake.control('participants', {'conference': sid, 'id': t.phone_call, 'cli': PHONE, 'duration': 14})
        t.browser_call = 'cbrowser' + new_callid('')[:20]
        r = server.post(ice_browser(t.browser_call, '4321', user=server.join('Alice Example', '4321')))
        t.is_(pinconf.action_name(r.json), 'connectConf', 'a browser participant joins through callback.cgi')
        fake.control('participants', {'conference': sid, 'id': t.browser_call, 'cli': 'alice', 'duration': 5})

        test_who_shows_phone_and_browser(t, pinconf_, fake, weekly)
        test_list(t, pinconf_, weekly)
        test_mute_unmute_kick(t, pinconf_, fake, weekly)
        test_call(t, pinconf_, fake, weekly)
        test_end(t, pinconf_, fake, weekly)
        test_errors(t, pinconf_, fake, weekly, scratch)
        test_escapes(t, pinconf_, fake, weekly, scratch)
        test_usage(t, pinconf_)
        unsigned = [q['method'] + ' ' + q['path'] for q in fake.requests()
                    if not q['headers'].get('X-Timestamp') or
                    not q['headers'].get('Authorization', '').startswith('Application ')]
        t.is_(unsigned, [], 'every request pinconf sent was signed, with X-Timestamp')
        t.is_(pinconf_.sanitizer_lines[:20], [], 'the pinconf command reported no sanitizer error')
    finally:
        fake.stop()


pinconf.run(main)
