#!/usr/bin/env python3
# phone-guess-limits.t: a phone caller's wrong PINs count against the calling
# number across calls; callers without a number are one source, 'withheld';
# one source makes at most half the hour's guess_budget; past the budget a
# number may only enter a PIN it joined with before (issue 20).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, says, ice_phone, pie, new_callid  # noqa: E402

RIGHT = '4321'
OTHER = '8642'
TOO_MANY = 'There were too many wrong PINs. Please try again later.'


def refused_too_many(t, r, what):
    t.is_(says(r.json), [TOO_MANY], '%s: hears that there were too many wrong PINs' % what)
    t.is_(action_name(r.json), 'hangup', '%s: is hung up' % what)
    t.ok(b'connectConf' not in r.body and b'runMenu' not in r.body,
         '%s: neither connected nor asked for a PIN' % what, diag=r.body[:300])


def guesses(scratch, source):
    return scratch.query('SELECT count(*) AS n FROM pin_guess WHERE source = ?', (source,))[0]['n']


def test_number(t):
    scratch = pinconf.Scratch('phone-guess-limits', settings={'guess_limit': 3})
    weekly = scratch.add_conference('Weekly sync', RIGHT)
    server = pinconf.start_server(scratch)
    number = '46701111111'
    source = 'tel:+46701111111'

    # A call whose ICE comes before the lockout, to use at PIE after it.
    waiting = new_callid()
    r = server.post(ice_phone(waiting, cli=number))
    t.is_(action_name(r.json), 'runMenu', 'number: a first call from the number gets the PIN menu')

    first = new_callid()
    server.post(ice_phone(first, cli=number))
    r = server.post(pie(first, '1111'))
    t.is_(action_name(r.json), 'runMenu', 'number: wrong PIN 1 in a call: asked again')
    second = new_callid()
    server.post(ice_phone(second, cli='+' + number))
    r = server.post(pie(second, '2222'))
    t.is_(guesses(scratch, source), 2,
          'number: wrong PINs from 46701111111 and +46701111111 count against one source, tel:+46701111111')
    r = server.post(pie(second, '3333'))
    t.is_(guesses(scratch, source), 3, 'number: the third wrong PIN, in another call, is counted too')
    t.is_([row['source'] for row in scratch.query('SELECT source FROM locked_out')], [source],
          'number: locked_out lists tel:+46701111111 after guess_limit wrong PINs across calls')

    mark = server.log_mark()
    r = server.post(pie(second, RIGHT))
    refused_too_many(t, r, 'number: the right PIN later in the same call')
    lines = server.log_since(mark)
    t.ok(len(lines) == 1 and 'locked out' in lines[0], 'number: the refusal writes one log line saying locked out',
         diag=lines)
    r = server.post(pie(waiting, RIGHT))
    refused_too_many(t, r, 'number: the right PIN at PIE of a call that started before the lockout')
    t.is_((scratch.call(waiting) or {}).get('joined'), None, 'number: that call never joins')
    third = new_callid()
    mark = server.log_mark()
    r = server.post(ice_phone(third, cli=number))
    refused_too_many(t, r, 'number: a new call from the locked-out number, at ICE')
    t.is_(len(server.log_since(mark)), 1, 'number: the ICE refusal writes one log line')
    t.is_(guesses(scratch, source), 3, 'number: refusals while locked out add no guesses')

    other = new_callid()
    server.post(ice_phone(other, cli='46702222222'))
    r = server.post(pie(other, RIGHT))
    t.is_(action_name(r.json), 'connectConf', 'number: another number is not locked out')

    scratch.execute('DELETE FROM pin_guess WHERE source = ?', (source,))
    fourth = new_callid()
    r = server.post(ice_phone(fourth, cli=number))
    t.is_(action_name(r.json), 'runMenu', "number: an admin's DELETE FROM pin_guess lifts the lockout")
    r = server.post(pie(fourth, RIGHT))
    t.is_(((r.json or {}).get('action') or {}).get('conferenceId'), weekly['sinch_id'],
          'number: then the right PIN connects')

    # pin_attempts still ends one call after 3 wrong PINs, below the number's limit.
    scratch.execute("UPDATE setting SET value = 100 WHERE name = 'guess_limit'")
    call = new_callid()
    server.post(ice_phone(call))
    for n in (1, 2, 3):
        r = server.post(pie(call, '100%d' % n))
    t.is_((says(r.json), action_name(r.json)), ([pinconf.INVALID], 'hangup'),
          'pin_attempts: the third wrong PIN of a call still hangs up (pin_attempts 3)')
    return scratch, server


def test_withheld(t, scratch, server):
    scratch.execute("UPDATE setting SET value = 2 WHERE name = 'guess_limit'")
    scratch.execute('DELETE FROM pin_guess')
    for n, cli in enumerate(('', 'anonymous')):
        call = new_callid()
        r = server.post(ice_phone(call, cli=cli))
        t.is_(action_name(r.json), 'runMenu', 'withheld: a call with cli %r gets the PIN menu' % cli)
        r = server.post(pie(call, '900%d' % n))
    t.is_(guesses(scratch, 'withheld'), 2, "withheld: wrong PINs of callers without a number count as 'withheld'")
    t.is_([row['source'] for row in scratch.query('SELECT source FROM locked_out')], ['withheld'],
          'withheld: withheld callers are one source, locked out after guess_limit (2) wrong PINs')
    for cli in ('private', 'Unknown', '+', '12', 'abc123456789'):
        r = server.post(ice_phone(new_callid(), cli=cli))
        refused_too_many(t, r, 'withheld: then a call with cli %r' % cli)
    call = new_callid()
    server.post(ice_phone(call, cli='46706666666'))
    r = server.post(pie(call, RIGHT))
    t.is_(action_name(r.json), 'connectConf', 'withheld: a caller with a number still joins')
    scratch.execute("DELETE FROM pin_guess WHERE source = 'withheld'")


def test_budget(t):
    scratch = pinconf.Scratch('phone-guess-budget', settings={'guess_budget': 5, 'guess_limit': 3})
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.add_conference('Board', OTHER)
    server = pinconf.start_server(scratch)
    known = '46703333333'
    call = new_callid()
    server.post(ice_phone(call, cli=known))
    r = server.post(pie(call, RIGHT))
    t.is_(action_name(r.json), 'connectConf', 'budget: a regular caller joins')
    t.is_([row['source'] for row in scratch.query('SELECT source FROM known_source')], ['tel:+46703333333'],
          'budget: the number is now a known source')
    for n in range(5):
        call = new_callid()
        server.post(ice_phone(call, cli='4671000000%d' % n))
        server.post(pie(call, '900%d' % n))
    t.is_(scratch.query('SELECT count(*) AS n FROM pin_guess')[0]['n'], 5,
          'budget: five numbers spent the budget (5 failures)')

    call = new_callid()
    mark = server.log_mark()
    r = server.post(ice_phone(call, cli='private'))
    refused_too_many(t, r, 'budget: a withheld caller once the budget is spent')
    t.is_(len(server.log_since(mark)), 1, 'budget: that refusal writes one log line')
    call = new_callid()
    r = server.post(ice_phone(call, cli='46704444444'))
    refused_too_many(t, r, 'budget: a number that never joined, once the budget is spent')
    t.is_(scratch.query('SELECT count(*) AS n FROM pin_guess')[0]['n'], 5, 'budget: refused callers add no guesses')
    call = new_callid()
    r = server.post(ice_phone(call, cli=known))
    t.is_(action_name(r.json), 'runMenu', 'budget: the known number is still asked for its PIN')
    r = server.post(pie(call, RIGHT))
    t.is_(action_name(r.json), 'connectConf', 'budget: and joins with the PIN it joined with before')
    for pin, what in (('8001', 'a wrong PIN'), (OTHER, "another conference's PIN")):
        call = new_callid()
        server.post(ice_phone(call, cli=known))
        r = server.post(pie(call, pin))
        refused_too_many(t, r, 'budget: the known number, %s (no extra guesses for knowing one PIN)' % what)
    t.is_(scratch.query('SELECT count(*) AS n FROM pin_guess')[0]['n'], 5,
          'budget: the known number added no guesses past the budget')
    scratch.execute("UPDATE pin_guess SET at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-61 minutes')")
    call = new_callid()
    r = server.post(ice_phone(call, cli='anonymous'))
    t.is_(action_name(r.json), 'runMenu', 'budget: once the failures are an hour old withheld callers are asked again')


def test_withheld_attacker(t):
    """Issue 20: about 7 withheld calls an hour (3 tries each) kept the bridge closed to every newcomer."""
    scratch = pinconf.Scratch('phone-guess-withheld', settings={'guess_budget': 20})  # schema.sql's defaults
    scratch.add_conference('Weekly sync', RIGHT)
    server = pinconf.start_server(scratch)
    heard = []
    for n in range(7):
        call = new_callid()
        r = server.post(ice_phone(call, cli='anonymous'))
        heard.append(action_name(r.json))
        for attempt in range(3):
            if action_name(r.json) != 'runMenu':
                break
            r = server.post(pie(call, '1%d%02d' % (n, attempt)))
    t.is_(guesses(scratch, 'withheld'), 10, 'withheld attacker: 7 withheld calls make only 10 wrong PINs'
          ' (half of guess_budget 20)')
    t.is_(heard[-3:], ['hangup'] * 3, 'withheld attacker: the later withheld calls are refused at once')
    call = new_callid()
    server.post(ice_phone(call, cli='46707777777'))
    r = server.post(pie(call, RIGHT))
    t.is_(action_name(r.json), 'connectConf', 'withheld attacker: the budget is not spent: a newcomer joins')


def main(t):
    scratch, server = test_number(t)
    test_withheld(t, scratch, server)
    test_budget(t)
    test_withheld_attacker(t)


pinconf.run(main)
