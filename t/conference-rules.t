#!/usr/bin/env python3
# conference-rules.t: rules from the conference table that callers meet:
# max_participants, locked, announce_count, attendees' personal PINs, spoken
# reasons for conferences not on today, and stale calls not filling a room.
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, says, ice_phone, ice_browser, pie, dice, new_callid, issue_identity  # noqa: E402

FULL = 'Sorry, this conference is full.'
LOCKED = 'Sorry, this conference is locked.'
ENDED = 'This conference has ended.'


def spoken(day, today):
    words = '%d %s' % (day.day, day.strftime('%B'))
    return words if day.year == today.year else '%s %d' % (words, day.year)


def main(t):
    scratch = pinconf.Scratch('conference-rules', keypad='no')  # the keypad hint: t/hosts-keypad.t
    room = scratch.add_conference('Small room', '1111')
    scratch.execute('UPDATE conference SET max_participants = 2 WHERE id = ?', (room['id'],))
    board = scratch.add_conference('Board', '2222')
    counted = scratch.add_conference('Counted', '3333')
    scratch.execute('UPDATE conference SET announce_count = 1 WHERE id = ?', (counted['id'],))
    weekly = scratch.add_conference('Weekly sync', '4321')
    anna = scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna Svensson', '2468')",
                           (weekly['id'],))
    today = datetime.datetime.now(datetime.timezone.utc).date()
    soon = today + datetime.timedelta(days=3)
    far = datetime.date(today.year + 1, 12, 7)
    scratch.add_conference('Soon', '6001', starts_on=soon.isoformat())
    scratch.add_conference('Far', '6002', starts_on=far.isoformat())
    scratch.add_conference('Ended', '6003', starts_on='2019-01-01', ends_on='2020-01-01')
    server = pinconf.start_server(scratch)

    def phone_join(pin, cli=None):
        call = new_callid()
        server.post(ice_phone(call, cli=cli))
        return call, server.post(pie(call, pin))

    def refused(r, call, text, what):
        t.is_(says(r.json), [text], '%s: hears %r' % (what, text))
        t.is_(action_name(r.json), 'hangup', '%s: is hung up' % what)
        t.ok(b'connectConf' not in r.body, '%s: is not connected' % what, diag=r.body[:300])
        if call is not None:
            t.is_((scratch.call(call) or {}).get('joined'), None, '%s: the call row never joins' % what)

    # ------------------------------------------------------------ max_participants
    first, r = phone_join('1111')
    t.is_(action_name(r.json), 'connectConf', 'full: the first of max_participants 2 joins')
    second, r = phone_join('1111')
    t.is_(action_name(r.json), 'connectConf', 'full: the second of 2 joins')
    third, r = phone_join('1111')
    refused(r, third, FULL, 'full: a third phone caller')
    t.is_((scratch.call(third) or {}).get('pin_attempts'), 0, 'full: a right PIN to a full room is no wrong attempt')
    scratch.execute('UPDATE conference SET max_participants = 3 WHERE id = ?', (room['id'],))
    browser = issue_identity(server, 'Bea', '1111')
    scratch.execute('UPDATE conference SET max_participants = 2 WHERE id = ?', (room['id'],))
    call = new_callid()
    r = server.post(ice_browser(call, '1111', user=browser))
    refused(r, call, FULL, 'full: a browser caller one too many')
    r = pinconf.getticket(server, 'Bea', '1111')
    t.is_((r.status, (r.json or {}).get('error')), (409, FULL), 'full: getticket tells the page before any call')
    server.post(dice(first))
    fourth, r = phone_join('1111')
    t.is_(action_name(r.json), 'connectConf', 'full: once one has left (DiCE) the next caller joins')
    server.post(dice(second))
    server.post(dice(fourth))

    # Stale calls: joined more than call_max_hours ago, no DiCE.
    for n in range(2):
        scratch.execute("INSERT INTO call(callid, origin, caller, conference_id, joined) VALUES (?, 'pstn', ?, ?,"
                        " strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-13 hours'))",
                        ('stale%d' % n, '+4670000002%d' % n, room['id']))
    call, r = phone_join('1111')
    t.is_(action_name(r.json), 'connectConf',
          'stale: two calls joined 13 h ago without DiCE do not count (call_max_hours 12)')
    server.post(dice(call))
    scratch.execute("UPDATE setting SET value = 24 WHERE name = 'call_max_hours'")
    call, r = phone_join('1111')
    refused(r, call, FULL, 'stale: with setting call_max_hours 24 the same two calls fill the room')
    t.is_(scratch.query("SELECT count(*) AS n FROM participant_now WHERE callid LIKE 'stale%'")[0]['n'], 2,
          'stale: participant_now reads the same setting and lists the two calls')
    scratch.execute("UPDATE setting SET value = 12 WHERE name = 'call_max_hours'")
    scratch.execute("UPDATE call SET joined = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-11 hours')"
                    " WHERE callid LIKE 'stale%'")
    call, r = phone_join('1111')
    refused(r, call, FULL, 'stale: calls joined 11 h ago still count')
    scratch.write_config(say_full='No room left.', keypad='no')
    call, r = phone_join('1111')
    refused(r, call, 'No room left.', 'full: say_full in the config is what is said')
    scratch.write_config(keypad='no')

    # ------------------------------------------------------------ locked
    inside, r = phone_join('2222')
    t.is_(action_name(r.json), 'connectConf', 'locked: someone joins before the lock')
    scratch.execute('UPDATE conference SET locked = 1 WHERE id = ?', (board['id'],))
    call, r = phone_join('2222')
    refused(r, call, LOCKED, 'locked: a phone caller to a locked conference')
    late = new_callid()
    ident = pinconf.getticket(server, 'Lou', '2222')
    t.is_((ident.status, (ident.json or {}).get('error')), (409, LOCKED), 'locked: getticket refuses with say_locked')
    row = scratch.call(inside) or {}
    t.ok(row.get('joined') and row.get('ended') is None, 'locked: the one inside stays in', diag=row)
    t.is_(scratch.query('SELECT count(*) AS n FROM participant_now WHERE conference_id = ?', (board['id'],)),
          [{'n': 1}], 'locked: participant_now still lists the one inside')
    scratch.execute('UPDATE conference SET locked = 0 WHERE id = ?', (board['id'],))
    browser = issue_identity(server, 'Lou', '2222')
    scratch.execute('UPDATE conference SET locked = 1 WHERE id = ?', (board['id'],))
    r = server.post(ice_browser(late, '2222', user=browser))
    refused(r, late, LOCKED, 'locked: a browser caller with an id issued before the lock')
    scratch.execute('UPDATE conference SET locked = 0 WHERE id = ?', (board['id'],))
    call, r = phone_join('2222')
    t.is_(action_name(r.json), 'connectConf', 'locked: unlocked again, a caller joins')

    # ------------------------------------------------------------ announce_count
    heard = []
    calls = []
    for n in range(6):
        call, r = phone_join('3333')
        calls.append(call)
        heard.append(says(r.json))
        if n == 0:
            instructions = pinconf.instructions(r.json)
            t.is_(action_name(r.json), 'connectConf', 'count: the caller is connected after hearing the count')
            t.is_([i.get('name') for i in instructions], ['say', 'say'],
                  'count: two say instructions come before connectConf')
    t.is_(heard[0], [pinconf.WELCOME, 'You are the first participant.'], 'count: the first hears "You are the first"')
    t.is_(heard[1], [pinconf.WELCOME, 'There is one other participant.'], 'count: the second hears "one other"')
    t.is_(heard[4], [pinconf.WELCOME, 'There are 4 other participants.'], 'count: the fifth hears "4 other"')
    server.post(dice(calls[0]))
    server.post(dice(calls[1]))
    call, r = phone_join('3333')
    t.is_(says(r.json), [pinconf.WELCOME, 'There are 4 other participants.'],
          'count: callers who left are not counted (6 joined, 2 left: 4 others)')
    browser = issue_identity(server, 'Bo', '3333')
    r = server.post(ice_browser(new_callid(), '3333', user=browser))
    t.is_(says(r.json), [pinconf.WELCOME, 'There are 5 other participants.'], 'count: a browser caller hears it too')
    call, r = phone_join('4321')
    t.is_(says(r.json), [pinconf.WELCOME], 'count: a conference without announce_count says no count')

    # ------------------------------------------------------------ personal PINs
    call, r = phone_join('2468')
    action = (r.json or {}).get('action') or {}
    t.is_(says(r.json), ['Welcome, Anna Svensson'], 'attendee: greeted by name')
    t.is_((action.get('name'), action.get('conferenceId'), action.get('cli')),
          ('connectConf', weekly['sinch_id'], 'Anna Svensson'),
          "attendee: connected to the attendee's conference, shown as her name")
    row = scratch.call(call) or {}
    t.is_((row.get('attendee_id'), row.get('conference_id')), (anna, weekly['id']),
          'attendee: the call row has attendee_id and the conference')
    t.is_(scratch.query('SELECT calls, joined FROM attendance WHERE attendee_id = ?', (anna,)),
          [{'calls': 1, 'joined': 1}], 'attendee: the attendance view counts her call')
    scratch.execute("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Olle', '2469')",
                                     (board['id'],))
    call, r = phone_join('2469')
    t.is_(((r.json or {}).get('action') or {}).get('conferenceId'), board['sinch_id'],
          "attendee: another attendee's PIN admits to that attendee's conference only")
    call, r = phone_join('4321')
    t.is_(((r.json or {}).get('action') or {}).get('cli'), pinconf.phone_number(call),
          'attendee: the conference PIN still shows a phone caller by number')
    browser = issue_identity(server, 'Typed name', '2468')
    r = server.post(ice_browser(new_callid(), '2468', user=browser))
    t.is_((says(r.json), ((r.json or {}).get('action') or {}).get('cli')),
          (['Welcome, Anna Svensson'], 'Anna Svensson'),
          "attendee: a browser with her personal PIN is greeted and shown as her, whatever was typed")

    # ------------------------------------------------------------ not on today: spoken reasons, still wrong attempts
    call = new_callid()
    server.post(ice_phone(call))
    source = 'tel:+' + pinconf.phone_number(call)
    for n, (pin, text, what) in enumerate((
            ('6001', 'This conference starts on %s.' % spoken(soon, today), 'a conference starting in 3 days'),
            ('6003', ENDED, 'an ended conference'),
            ('6002', 'This conference starts on %s.' % spoken(far, today),
             'a conference starting on 7 December next year (the year said)')), 1):
        r = server.post(pie(call, pin))
        t.is_(says(r.json), [text], 'not on: the PIN of %s: hears %r' % (what, text))
        row = scratch.call(call) or {}
        t.is_(row.get('pin_attempts'), n, 'not on: the PIN of %s counts as wrong attempt %d' % (what, n))
        t.is_(scratch.query('SELECT count(*) AS n FROM pin_guess WHERE source = ?', (source,)), [{'n': n}],
              'not on: the PIN of %s is recorded as a guess (%d)' % (what, n))
        t.is_(action_name(r.json), 'hangup' if n == 3 else 'runMenu',
              'not on: after attempt %d the caller is %s' % (n, 'hung up' if n == 3 else 'asked again'))
    t.is_(spoken(far, today), '7 December %d' % far.year, 'not on: the spoken date reads "7 December YEAR"')


pinconf.run(main)
