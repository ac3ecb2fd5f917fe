#!/usr/bin/env python3
# callback-browser.t: a browser's callConference(pin) (ICE with originationType
# MXP) connects only with a user id getticket.cgi issued, unexpired, to the
# PIN it was issued for; the display name is the caller id.
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, says, ice_browser, new_callid, issue_identity  # noqa: E402

RIGHT = '4321'


def main(t):
    scratch = pinconf.Scratch('callback-browser', settings={'guess_limit': 3})
    weekly = scratch.add_conference('Weekly sync', RIGHT)
    other = scratch.add_conference('Other', '1357')
    later = scratch.add_conference('Later', '2222')
    scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna Svensson', '2468')",
                    (weekly['id'],))
    server = pinconf.start_server(scratch)

    def guesses():
        return scratch.query("SELECT count(*) AS n FROM pin_guess WHERE source = 'ip:127.0.0.1'")[0]['n']

    def joins(event, cli, what, welcome=pinconf.WELCOME, conference=weekly):
        r = server.post(event)
        t.is_(r.status, 200, '%s: answered 200' % what)
        t.is_(pinconf.instructions(r.json), [{'name': 'say', 'text': welcome, 'locale': 'en-US'}],
              '%s: says %r' % (what, welcome))
        action = (r.json or {}).get('action') or {}
        t.is_(action.get('name'), 'connectConf', '%s: connects to the conference' % what)
        t.is_(action.get('conferenceId'), conference['sinch_id'], '%s: conferenceId is the sinch_id' % what)
        t.is_(action.get('cli'), cli, '%s: cli is the display name %r' % (what, cli))
        row = scratch.call(event['callid']) or {}
        t.is_((row.get('origin'), row.get('caller'), row.get('user_id'), row.get('conference_id')),
              ('mxp', cli, event.get('user'), conference['id']),
              '%s: the call row has origin mxp, caller the display name, user_id the id, the conference' % what)
        t.ok(row.get('joined'), '%s: joined is set' % what)
        return r

    def refused(event, text, what, logged=True, guess=0):
        before = guesses()
        mark = server.log_mark()
        r = server.post(event)
        t.is_(r.status, 200, '%s: answered 200' % what)
        t.is_(says(r.json), [text], '%s: says %r' % (what, text))
        t.is_(action_name(r.json), 'hangup', '%s: hangs up' % what)
        t.ok(b'connectConf' not in r.body, '%s: no connectConf anywhere' % what)
        row = scratch.call(event['callid']) or {}
        t.is_((row.get('origin'), row.get('joined'), row.get('conference_id')), ('mxp', None, None),
              '%s: the call row has origin mxp and joins nothing' % what)
        lines = server.log_since(mark)
        if logged:
            t.ok(len(lines) == 1 and event['callid'] in lines[0] and 'refused' in lines[0],
                 '%s: one log line naming the call, saying refused' % what, diag=lines)
        t.is_(guesses() - before, guess, '%s: %d guess(es) recorded against the id\'s source' % (what, guess))
        return r

    ann = issue_identity(server, 'Ann', RIGHT)
    joins(ice_browser(new_callid(), RIGHT, user=ann), 'Ann', 'an id getticket issued, with its PIN')
    joins(ice_browser(new_callid(), RIGHT, user=ann, cli='Mallory'), 'Ann',
          'an issued id with a cli in the event: the display name wins')
    bob = issue_identity(server, 'Ann', RIGHT)
    joins(ice_browser(new_callid(), RIGHT, user=bob, origination='mxp'), 'Ann',
          'a second Ann, with her own id, and originationType in lowercase')
    anna = issue_identity(server, 'Mallory', '2468')
    r = joins(ice_browser(new_callid(), '2468', user=anna), 'Anna Svensson',
              "an id issued for an attendee's personal PIN", welcome='Welcome, Anna Svensson')
    call = scratch.query('SELECT attendee_id FROM call WHERE user_id = ?', (anna,))
    t.ok(call and call[0]['attendee_id'], 'the personal PIN call row has attendee_id set', diag=call)
    r = server.post(ice_browser(new_callid(), RIGHT, user=ann, to_type='Conference'))
    t.is_(action_name(r.json), 'connectConf', 'to.type "Conference" (any case) connects')

    # ------------------------------------------------------------ ids that are not good enough
    refused(ice_browser(new_callid(), RIGHT, user='u-' + 'A' * 22), pinconf.INVALID, 'a made-up, well-formed id')
    refused(ice_browser(new_callid(), RIGHT, user='Ann'), pinconf.INVALID, "a typed name as the user (the old way)")
    refused(ice_browser(new_callid(), RIGHT, user='u-has space'), pinconf.INVALID, 'a user id with a space')
    refused(ice_browser(new_callid(), RIGHT, cli='Ann'), pinconf.INVALID, 'no user at all, only a cli')
    expired = issue_identity(server, 'Exp', RIGHT)
    scratch.execute("UPDATE identity SET expires = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 second')"
                    " WHERE user_id = ?", (expired,))
    refused(ice_browser(new_callid(), RIGHT, user=expired), pinconf.INVALID, 'an expired id')
    refused(ice_browser(new_callid(), '1357', user=ann), pinconf.INVALID,
            "an id used for another conference's PIN", guess=1)
    refused(ice_browser(new_callid(), '2468', user=ann), pinconf.INVALID,
            "an id used for an attendee's personal PIN", guess=1)
    refused(ice_browser(new_callid(), RIGHT, user=anna), pinconf.INVALID,
            "a personal PIN's id used for its conference's own PIN", guess=1)
    t.is_(scratch.query("SELECT source FROM locked_out"), [{'source': 'ip:127.0.0.1'}],
          "three wrong PINs through ids lock out the address the ids were fetched from")
    r = refused(ice_browser(new_callid(), RIGHT, user=ann), 'There were too many wrong PINs. Please try again later.',
                'an issued id with its right PIN while its source is locked out', logged=False)
    r = pinconf.getticket(server, 'Ann', RIGHT)
    t.is_(r.status, 429, 'getticket refuses that address too: the callback is no way around the limit')
    scratch.execute('DELETE FROM pin_guess')

    # ------------------------------------------------------------ the conference changed since
    locked = issue_identity(server, 'Lou', '1357')
    scratch.execute('UPDATE conference SET locked = 1 WHERE id = ?', (other['id'],))
    refused(ice_browser(new_callid(), '1357', user=locked), 'Sorry, this conference is locked.',
            'an id for a conference locked since', logged=False)
    scratch.execute('UPDATE conference SET locked = 0, max_participants = 2 WHERE id = ?', (other['id'],))
    filler = issue_identity(server, 'Fil', '1357')
    joins(ice_browser(new_callid(), '1357', user=filler), 'Fil', 'the first of two', conference=other)
    joins(ice_browser(new_callid(), '1357', user=locked), 'Lou', 'the second of two', conference=other)
    late = issue_identity(server, 'Ida', '2222')
    scratch.execute('UPDATE conference SET max_participants = 2 WHERE id = ?', (later['id'],))
    for n in range(2):
        scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, joined) VALUES (?, 'pstn', ?, ?,"
                        " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", ('later%d' % n, '+4670000001%d' % n, later['id']))
    refused(ice_browser(new_callid(), '2222', user=late), 'Sorry, this conference is full.',
            'an id for a conference filled since', logged=False)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    scratch.execute("UPDATE conference SET starts_on = '2020-01-01', ends_on = ? WHERE id = ?",
                    ((today - datetime.timedelta(days=1)).isoformat(), later['id']))
    refused(ice_browser(new_callid(), '2222', user=late), 'This conference has ended.',
            'an id for a conference that has ended since')
    start = datetime.date(today.year + 1, 12, 7)
    scratch.execute('UPDATE conference SET starts_on = ?, ends_on = NULL WHERE id = ?', (start.isoformat(), later['id']))
    refused(ice_browser(new_callid(), '2222', user=late), 'This conference starts on 7 December %d.' % start.year,
            'an id for a conference moved to next year')

    # ------------------------------------------------------------ destinations other than a conference
    for to_type, endpoint in (('number', '+46700000000'), ('username', 'alice'), ('sip', 'a@b.example')):
        call = new_callid()
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(ice_browser(call, endpoint, user=ann, to_type=to_type))
        what = 'browser ICE to a %s' % to_type
        t.is_(action_name(r.json), 'hangup', '%s: hangs up' % what)
        t.ok(b'connectConf' not in r.body and b'connectPstn' not in r.body,
             '%s: no connect action anywhere in the answer' % what, diag=r.body)
        t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what)
        lines = server.log_since(mark)
        t.ok(len(lines) == 1 and call in lines[0] and to_type in lines[0],
             '%s: one log line naming the call and the destination type' % what, diag=lines)

    event = ice_browser(new_callid(), RIGHT, user=ann)
    del event['to']
    before = scratch.counts()
    mark = server.log_mark()
    r = server.post(event)
    # A live call with a field missing: the caller hears why the call ends, logged as bad input.
    t.ok(r.status == 200 and pinconf.says(r.json) == [pinconf.APOLOGY] and action_name(r.json) == 'hangup',
         'browser ICE without to: the caller hears the apology and is hung up', diag='  %r %r' % (r.status, r.body[:200]))
    t.is_(scratch.counts(), before, 'browser ICE without to: nothing is written to the database')
    lines = server.log_since(mark)
    t.ok(len(lines) == 1 and 'bad input' in lines[0], 'browser ICE without to: one log line says bad input',
         diag='  log: %r' % lines)


pinconf.run(main)
