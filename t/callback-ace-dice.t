#!/usr/bin/env python3
# callback-ace-dice.t: answered, disconnected and notify events; call records and pruning.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, pie, ace, dice, notify, new_callid  # noqa: E402

ISO_TIME = r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'


def main(t):
    scratch = pinconf.Scratch('callback-ace-dice')
    weekly = scratch.add_conference('Weekly sync', '4321')
    server = pinconf.start_server(scratch)

    # ACE: let the call go on.
    call = new_callid()
    server.post(ice_phone(call))
    server.post(pie(call, '4321'))
    before = scratch.counts()
    r = server.post(ace(call))
    t.is_(r.status, 200, 'ACE is answered 200')
    t.like(r.headers.get('content-type', ''), r'^application/json\b', 'ACE is answered as application/json')
    t.is_(r.json, {'action': {'name': 'continue'}}, 'ACE is answered exactly {"action":{"name":"continue"}}')
    t.is_(scratch.counts(), before, 'ACE writes nothing to the database')

    # DiCE of a call that joined.
    mark = server.log_mark()
    r = server.post(dice(call, reason='CALLERHANGUP', result='ANSWERED', duration=42))
    t.is_(r.status, 200, 'DiCE is answered 200')
    t.ok(r.body in (b'', b'{}'), 'DiCE is answered with an empty body or {}', diag='  body: %r' % r.body)
    row = scratch.call(call) or {}
    t.like(row.get('ended'), ISO_TIME, 'DiCE sets ended on the call row')
    t.is_(row.get('end_reason'), 'CALLERHANGUP', 'DiCE stores the reason')
    t.is_(row.get('end_result'), 'ANSWERED', 'DiCE stores the result')
    t.is_(row.get('duration'), 42, 'DiCE stores the duration in seconds')
    t.is_(row.get('conference_id'), weekly['id'], 'DiCE keeps the conference the call joined')
    t.is_(row.get('caller'), pinconf.phone_number(call), 'DiCE keeps the caller from the ICE')
    t.is_(row.get('origin'), 'pstn', 'DiCE keeps the origin from the ICE')
    t.ok(row.get('started', 'z') <= row.get('ended', ''), 'the call ended no earlier than it started',
         diag='  row: %r' % (row,))
    t.is_(server.log_since(mark), [], 'a normal DiCE logs nothing')
    participants = scratch.query('SELECT callid FROM participant_now WHERE callid = ?', (call,))
    t.is_(participants, [], 'after its DiCE the call is no participant any more')

    # DiCE of a call we never saw (its ICE went elsewhere or was lost).
    call = new_callid()
    r = server.post(dice(call, reason='TIMEOUT', result='FAILED', duration=0))
    t.is_(r.status, 200, 'DiCE for an unknown callid is answered 200')
    row = scratch.call(call) or {}
    t.ok(row, 'DiCE for an unknown callid records a row')
    t.like(row.get('ended'), ISO_TIME, 'DiCE for an unknown callid: ended is set')
    t.is_(row.get('end_reason'), 'TIMEOUT', 'DiCE for an unknown callid: reason stored')
    t.is_(row.get('duration'), 0, 'DiCE for an unknown callid: duration 0 stored as 0')
    t.is_(row.get('origin'), None, 'DiCE for an unknown callid: origin stays unknown (NULL)')

    # DiCE without duration, reason or result.
    call = new_callid()
    server.post(ice_phone(call))
    event = dice(call, duration=None)
    del event['reason'], event['result']
    r = server.post(event)
    t.is_(r.status, 200, 'DiCE without reason, result and duration is answered 200')
    row = scratch.call(call) or {}
    t.ok(row.get('ended'), 'DiCE without reason, result and duration still sets ended')
    t.is_((row.get('end_reason'), row.get('end_result'), row.get('duration')), (None, None, None),
          'DiCE without reason, result and duration leaves them NULL')

    # A second DiCE for the same call (Sinch retries) overwrites, no duplicate row.
    r = server.post(dice(call, reason='CALLEEHANGUP', result='ANSWERED', duration=7))
    t.is_(r.status, 200, 'a repeated DiCE is answered 200')
    t.is_(scratch.query('SELECT count(*) AS n FROM call WHERE callid = ?', (call,))[0]['n'], 1,
          'a repeated DiCE makes no second row')
    t.is_((scratch.call(call) or {}).get('duration'), 7, 'a repeated DiCE updates the duration')

    # An ICE that arrives after the DiCE (out of order) keeps the end.
    call = new_callid()
    server.post(dice(call, duration=3))
    r = server.post(ice_phone(call))
    t.is_(pinconf.action_name(r.json), 'runMenu', 'an ICE after its DiCE is still answered')
    row = scratch.call(call) or {}
    t.ok(row.get('ended') and row.get('duration') == 3 and row.get('origin') == 'pstn',
         'an ICE after its DiCE keeps ended and duration and adds the origin', diag='  row: %r' % (row,))

    # notify.
    before = scratch.counts()
    r = server.post(notify())
    t.is_(r.status, 200, 'notify without callid is answered 200')
    t.ok(r.body in (b'', b'{}'), 'notify is answered with an empty body or {}', diag='  body: %r' % r.body)
    r = server.post(notify(new_callid()))
    t.is_(r.status, 200, 'notify with a callid is answered 200')
    t.is_(scratch.counts(), before, 'notify writes nothing to the database')

    # retention_days: a DiCE prunes old call records, keeps fresh ones.
    scratch.write_config(retention_days=1)
    scratch.execute("INSERT INTO call(callid, origin, caller, started, ended)"
                    " VALUES ('old-call', 'pstn', '4670', '2000-01-01T00:00:00Z', '2000-01-01T00:10:00Z')")
    scratch.execute("INSERT INTO call(callid, origin, caller, started)"
                    " VALUES ('two-days-old', 'pstn', '4670', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-2 days'))")
    scratch.execute("INSERT INTO call(callid, origin, caller, started)"
                    " VALUES ('twenty-hours-old', 'pstn', '4670', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 hours'))")
    fresh = new_callid()
    server.post(ice_phone(fresh))
    r = server.post(dice(fresh, duration=5))
    t.is_(r.status, 200, 'retention_days = 1: the DiCE is answered 200')
    t.is_(scratch.call('old-call'), None, 'retention_days = 1: a DiCE prunes a call from 2000')
    t.is_(scratch.call('two-days-old'), None, 'retention_days = 1: a DiCE prunes a call two days old')
    t.ok(scratch.call('twenty-hours-old'), 'retention_days = 1: a call 20 hours old is kept')
    row = scratch.call(fresh) or {}
    t.ok(row.get('ended') and row.get('duration') == 5, 'retention_days = 1: the fresh call is kept and ended')

    # retention_days = 0 (the default) keeps everything.
    scratch.write_config()
    scratch.execute("INSERT INTO call(callid, started) VALUES ('ancient', '2000-01-01T00:00:00Z')")
    server.post(dice(new_callid()))
    t.ok(scratch.call('ancient'), 'retention_days = 0 (default): a DiCE prunes nothing')

    # Pruning goes in bounded batches, so a DiCE stays fast with a big backlog.
    scratch.write_config(retention_days=1)
    db = scratch.connect()
    db.execute('BEGIN')
    db.executemany("INSERT INTO call(callid, started) VALUES (?, '2001-01-01T00:00:00Z')",
                   [('backlog-%d' % i,) for i in range(120)])
    db.execute('COMMIT')
    db.close()
    backlog = "SELECT count(*) AS n FROM call WHERE callid LIKE 'backlog-%'"
    r = server.post(dice(new_callid()))
    t.is_(r.status, 200, 'a DiCE with a backlog of 120 old calls is answered 200')
    left = scratch.query(backlog)[0]['n']
    t.ok(0 < left < 120, 'a DiCE prunes part of a big backlog, not all at once', diag='  left: %d' % left)
    for _ in range(3):
        server.post(dice(new_callid()))
    t.is_(scratch.query(backlog)[0]['n'], 0, 'further DiCEs prune the rest of the backlog')
    scratch.write_config()


pinconf.run(main)
