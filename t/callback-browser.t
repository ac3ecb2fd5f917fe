#!/usr/bin/env python3
# callback-browser.t: a browser's callConference(pin): ICE with originationType MXP.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, says, ice_browser, new_callid  # noqa: E402


def main(t):
    scratch = pinconf.Scratch('callback-browser')
    weekly = scratch.add_conference('Weekly sync', '4321')
    scratch.add_conference('Old', '5555', starts_on='2019-01-01', ends_on='2020-01-01')
    server = pinconf.start_server(scratch)

    def joins(event, cli, what):
        r = server.post(event)
        t.is_(r.status, 200, '%s: answered 200' % what)
        t.like(r.headers.get('content-type', ''), r'^application/json\b', '%s: answered as application/json' % what)
        t.is_(pinconf.instructions(r.json), [{'name': 'say', 'text': pinconf.WELCOME, 'locale': 'en-US'}],
              '%s: says ", Welcome to the conference"' % what)
        action = (r.json or {}).get('action') or {}
        t.is_(action.get('name'), 'connectConf', '%s: connects to the conference' % what)
        t.is_(action.get('conferenceId'), weekly['sinch_id'], '%s: conferenceId is the sinch_id' % what)
        t.is_(action.get('cli'), cli, '%s: cli is %s' % (what, cli))
        row = scratch.call(event['callid']) or {}
        t.is_(row.get('origin'), 'mxp', '%s: the call row has origin mxp' % what)
        t.is_(row.get('caller'), cli, '%s: the call row keeps the caller %s' % (what, cli))
        t.is_(row.get('conference_id'), weekly['id'], '%s: the call row names the conference' % what)
        t.ok(row.get('joined'), '%s: joined is set' % what)
        return r

    joins(ice_browser(new_callid(), '4321', user='Ann'), 'Ann', 'browser ICE with user Ann')
    joins(ice_browser(new_callid(), '4321', cli='Bob'), 'Bob', 'browser ICE without user, cli Bob')
    joins(ice_browser(new_callid(), '4321', user='Ann', cli='Bob'), 'Ann', 'browser ICE with user and cli: user wins')
    joins(ice_browser(new_callid(), '4321', user='Cy', origination='mxp'), 'Cy', 'browser ICE with lowercase mxp')
    joins(ice_browser(new_callid(), '4321', user='Di', domain='pstn'), 'Di',
          'browser ICE that Sinch mislabels domain pstn')

    # A wrong PIN: no menu in a browser, so hang up at once.
    for pin, what in (('9999', 'an unknown PIN'), ('5555', 'the PIN of an expired conference'),
                      ('12a4', 'a malformed PIN')):
        call = new_callid()
        r = server.post(ice_browser(call, pin, user='Ann'))
        t.is_(r.status, 200, 'browser ICE with %s: answered 200' % what)
        t.is_(says(r.json), [pinconf.INVALID], 'browser ICE with %s: says "Invalid code"' % what)
        t.is_(action_name(r.json), 'hangup', 'browser ICE with %s: hangs up' % what)
        row = scratch.call(call) or {}
        t.is_(row.get('origin'), 'mxp', 'browser ICE with %s: the call row has origin mxp' % what)
        t.is_(row.get('pin_attempts'), 1, 'browser ICE with %s: one wrong attempt counted' % what)
        t.is_(row.get('conference_id'), None, 'browser ICE with %s: joins nothing' % what)

    # Destinations other than a conference: never place a call on the owner's bill.
    for to_type, endpoint in (('number', '+46700000000'), ('username', 'alice'), ('sip', 'a@b.example')):
        call = new_callid()
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(ice_browser(call, endpoint, user='Ann', to_type=to_type))
        what = 'browser ICE to a %s' % to_type
        t.is_(r.status, 200, '%s: answered 200' % what)
        t.is_(action_name(r.json), 'hangup', '%s: hangs up' % what)
        t.ok('connectConf' not in r.body.decode(errors='replace') and
             'connectPstn' not in r.body.decode(errors='replace'),
             '%s: no connect action anywhere in the answer' % what, diag='  body: %r' % r.body)
        t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what)
        lines = server.log_since(mark)
        t.is_(len(lines), 1, '%s: exactly one log line' % what)
        t.ok(lines and call in lines[0] and to_type in lines[0],
             '%s: the log line names the call and the destination type' % what, diag='  log: %r' % lines)

    # to.type compared without case ("Conference").
    r = server.post(ice_browser(new_callid(), '4321', user='Ann', to_type='Conference'))
    t.is_(action_name(r.json), 'connectConf', 'browser ICE to to.type "Conference" (any case) connects')

    # A browser ICE without "to" cannot be answered: refused as malformed.
    event = ice_browser(new_callid(), '4321', user='Ann')
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

    # Guess limit: wrong PINs from a browser count against the address that got its ticket.
    scratch.execute("UPDATE setting SET value = 3 WHERE name = 'guess_limit'")
    scratch.execute("INSERT INTO ticket(identity, address) VALUES ('Eve', '203.0.113.9')")
    for n in range(1, 4):
        r = server.post(ice_browser(new_callid(), '000%d' % n, user='Eve'))
        t.is_(action_name(r.json), 'hangup', 'guess %d of a ticketed browser user: hangs up' % n)
    guesses = scratch.query("SELECT count(*) AS n FROM pin_guess WHERE address = '203.0.113.9'")[0]['n']
    t.is_(guesses, 3, 'each wrong browser guess is recorded against the ticket address')
    locked = scratch.query('SELECT address FROM locked_out')
    t.is_(locked, [{'address': '203.0.113.9'}], 'the address is listed in locked_out after guess_limit guesses')
    r = server.post(ice_browser(new_callid(), '4321', user='Eve'))
    t.is_(action_name(r.json), 'hangup', 'a locked-out browser user is refused even with the right PIN')
    t.is_(says(r.json), [pinconf.INVALID], 'a locked-out browser user hears "Invalid code"')
    t.is_(scratch.query("SELECT count(*) AS n FROM pin_guess WHERE address = '203.0.113.9'")[0]['n'], 3,
          'guesses while locked out are not recorded again')
    joins(ice_browser(new_callid(), '4321', user='Ann'), 'Ann', 'another browser user is not locked out')
    scratch.execute("DELETE FROM pin_guess WHERE address = '203.0.113.9'")
    r = server.post(ice_browser(new_callid(), '4321', user='Eve'))
    t.is_(action_name(r.json), 'connectConf', 'deleting the pin_guess rows lifts the lockout')


pinconf.run(main)
