#!/usr/bin/env python3
# callback-load.t: 200 concurrent callbacks while a write lock is held: every one answered.
#
# Two rounds, each with a sqlite3 process holding BEGIN IMMEDIATE (and an INSERT)
# for 1 s while the callbacks arrive (those that came first then have the 2 s
# left of busy_timeout's 3 to get through the queue behind it):
#   burst:   50 calls x (ICE, PIE, ACE, DiCE) = 200 requests released at the same
#            instant, so all 200 are in flight together (order within a call is not
#            guaranteed: the end state must come out right all the same);
#   ordered: 50 calls x (ICE, then PIE, then ACE, then DiCE) as Sinch sends them,
#            the calls side by side: the PIE's cli must come from its own ICE.
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, pie, ace, dice, new_callid, action_name  # noqa: E402

# 50 calls make the 200 concurrent callbacks the issue asks for.  A sanitizer
# build's CGIs cost tens of milliseconds of CPU each to start, so 200 of them on
# two cores outlast the lock timeout by CPU alone: there the test checks the
# same behaviour with fewer calls, and the figure comes from the plain build.
CALLS = 12 if os.environ.get('PINCONF_SANITIZED') else 50
KINDS = ('ice', 'pie', 'ace', 'dice')
LOCK_SECONDS = 1.0	# held 2 s, a loaded 2-core machine left the first waiters too little of their 3 s
SINCH_TIMEOUT = 5.0	# Sinch drops a call whose ICE is not answered in 5 s

# db.c's own busy handler retries every 1-5 ms, jittered, so writers queued
# behind the lock clear as fast as their transactions run; SQLite's default
# handler (100 ms lockstep sleeps) made callers hear the apology here.

# 200 concurrent requests each hold a connection and a CGI (3 pipes): about 1000
# descriptors.  lighttpd 1.4.69's defaults (max-fds 4096 when started as root,
# max-connections = max-fds / 3) happen to cover that; say what we rely on.
# Apache's event MPM starts 75 worker threads and adds more only a child a
# second: start with enough for all 200 at once (prefork, with
# PINCONF_APACHE_CGI=cgi: a process each).
SERVER_LIMITS = {
    'lighttpd': '\n'.join([
        'server.max-fds = 8192',
        'server.max-connections = 2048',
        'server.listen-backlog = 1024',
    ]),
    'apache': '\n'.join([
        'ListenBacklog 1024',
        '<IfModule mpm_event_module>',
        '\tServerLimit 16',
        '\tThreadsPerChild 25',
        '\tStartServers 10',
        '\tMinSpareThreads 250',
        '\tMaxSpareThreads 400',
        '\tMaxRequestWorkers 400',
        '</IfModule>',
        '<IfModule mpm_prefork_module>',
        '\tServerLimit 256',
        '\tStartServers 200',
        '\tMinSpareServers 200',
        '\tMaxSpareServers 256',
        '\tMaxRequestWorkers 256',
        '</IfModule>',
    ]),
}


def run_round(t, scratch, server, conference, name, ordered):
    calls = ['%s%02d%s' % (name, i, new_callid('')[:16]) for i in range(CALLS)]
    clis = {call: '4670%03d%04d' % (len(name), i) for i, call in enumerate(calls)}
    results = {}		# (kind, call) -> (Response or exception, sent_at, answered_at)
    done = {(kind, call): threading.Event() for kind in KINDS for call in calls}
    start = threading.Barrier(len(KINDS) * CALLS + 1)
    in_flight = [0, 0]	# now, most
    lock = threading.Lock()

    def worker(kind, call):
        try:
            start.wait(30)
            if ordered and kind != 'ice':
                done[(KINDS[KINDS.index(kind) - 1], call)].wait(60)
            event = {'ice': lambda: ice_phone(call, cli=clis[call]),
                     'pie': lambda: pie(call, '4321'),
                     'ace': lambda: ace(call),
                     'dice': lambda: dice(call, duration=60)}[kind]()
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
            sent = time.monotonic()
            try:
                response = server.post(event, timeout=60)
            finally:
                with lock:
                    in_flight[0] -= 1
            results[(kind, call)] = (response, sent, time.monotonic())
        except Exception as e:  # recorded, checked below
            results[(kind, call)] = (e, None, time.monotonic())
        finally:
            done[(kind, call)].set()

    threads = [threading.Thread(target=worker, args=(kind, call), daemon=True)
               for kind in KINDS for call in calls]
    for thread in threads:
        thread.start()
    mark = server.log_mark()
    holder = pinconf.LockHolder(scratch.db, ["INSERT INTO call(callid, origin) VALUES ('%s-lock', 'pstn')" % name])
    began = time.monotonic()
    release = holder.release_after(LOCK_SECONDS)
    start.wait(30)
    for thread in threads:
        thread.join(60)
    release.join(10)
    took = time.monotonic() - began
    t.diag('%s: %d callbacks in %.1f s, at most %d in flight at once' % (name, len(results), took, in_flight[1]))

    t.is_(len(results), len(KINDS) * CALLS, '%s: all %d callbacks came back' % (name, len(KINDS) * CALLS))
    t.ok(release.released_at is not None and holder.process.returncode == 0,
         '%s: the sqlite3 process held its write lock %.1f s, then committed' % (name, LOCK_SECONDS),
         diag='  stderr: %r' % getattr(release, 'stderr', None))
    if not ordered:
        # A crowd, not all 200 at once: on a loaded machine the threads start
        # unevenly, and a third of them together still meets the lock as one.
        t.ok(in_flight[1] >= CALLS, '%s: the requests really were in flight together' % name,
             diag='  at most %d at once' % in_flight[1])

    # A call one of whose callbacks timed out on
    # the lock ("database is locked": an apology, or 503 for a DiCE).  Its
    # other failures follow from that one; anything else is a new failure.
    log = server.log_since(mark)
    locked_calls = {call for call in calls
                    if any('call %s: ' % call in line and 'database is locked' in line for line in log)}
    locked_dices = sum(1 for line in log if ': 503 ' in line and 'database is locked' in line)
    for call in calls:
        response = results.get(('dice', call), (None,))[0]
        if isinstance(response, pinconf.Response) and response.status == 503 and \
                b'cannot record the end of the call' in response.body and locked_dices > 0:
            locked_calls.add(call)

    def verdict(bad_calls, diag, what):
        if bad_calls and set(bad_calls) <= locked_calls:
            diag += '\n  (all of them timed out on the lock: "database is locked")'
        t.ok(not bad_calls, '%s: %s' % (name, what), diag=diag)

    def report(kind, check, what):
        bad, lines = [], []
        for call in calls:
            response = results.get((kind, call), (None,))[0]
            if not isinstance(response, pinconf.Response):
                bad.append(call)
                lines.append('%s: %r' % (call, response))
            elif not check(call, response):
                bad.append(call)
                lines.append('%s: %s %.2fs %r' % (call, response.status, response.elapsed, response.body[:160]))
        verdict(bad, '\n'.join(['  %d of %d wrong:' % (len(bad), CALLS)] + ['  ' + b for b in lines[:5]]), what)

    report('ice', lambda call, r: r.status == 200 and action_name(r.json) == 'runMenu'
           and pinconf.says(r.json) == [], 'every one of the %d ICEs is answered 200 with the PIN menu' % CALLS)
    report('pie', lambda call, r: r.status == 200 and action_name(r.json) == 'connectConf'
           and r.json['action'].get('conferenceId') == conference['sinch_id']
           and pinconf.says(r.json)[:1] == [pinconf.WELCOME],
           'every one of the %d PIEs is answered 200 with welcome and connectConf' % CALLS)
    if ordered:
        report('pie', lambda call, r: (r.json or {}).get('action', {}).get('cli') == clis[call],
               "every PIE connects with the cli of its own call's ICE")
    report('ace', lambda call, r: r.status == 200 and r.json == {'action': {'name': 'continue'}},
           'every one of the %d ACEs is answered continue' % CALLS)
    report('dice', lambda call, r: r.status == 200, 'every one of the %d DiCEs is answered 200' % CALLS)

    answered = [v for v in results.values() if isinstance(v[0], pinconf.Response)]
    slowest = max([v[0].elapsed for v in answered] or [0])
    t.ok(slowest < SINCH_TIMEOUT, "%s: every answer came within Sinch's %.0f s timeout" % (name, SINCH_TIMEOUT),
         diag='  slowest: %.2f s' % slowest)
    writers = [(kind, v) for (kind, call), v in results.items() if kind in ('ice', 'pie', 'dice')
               and isinstance(v[0], pinconf.Response) and v[1] is not None and v[1] < (release.released_at or 0)]
    t.ok(release.released_at is not None and writers and
         all(answered_at >= release.released_at for _, (_, _, answered_at) in writers),
         '%s: requests sent during the lock waited for it (none answered before its release)' % name,
         diag='  %d writers sent during the lock' % len(writers))
    if not ordered:
        # How fast the queue clears is a figure for the note, not a pass mark:
        # speed is measured by bench/run, never by timed tests.
        drain = max(answered_at for _, (_, _, answered_at) in writers) - release.released_at if writers else 0
        t.diag('%s: %d writers queued on the lock; the last was answered %.2f s after its release'
               % (name, len(writers), drain))
    apologised = sorted({call for (kind, call), v in results.items()
                         if isinstance(v[0], pinconf.Response) and pinconf.APOLOGY.encode() in v[0].body})
    verdict(apologised, '  %d apologies: %r' % (len(apologised), apologised[:5]), 'no caller heard the apology')

    rows = {row['callid']: row for row in scratch.query('SELECT * FROM call WHERE callid LIKE ?', (name + '%',))}
    verdict([c for c in calls if c not in rows], '', 'every call has its row')
    verdict([c for c in calls if not (rows.get(c) or {}).get('ended')], '',
            'every DiCE is recorded: ended is set for all %d calls' % CALLS)
    verdict([c for c in calls if (rows.get(c) or {}).get('duration') != 60], '', 'every DiCE stored its duration')
    verdict([c for c in calls if (rows.get(c) or {}).get('conference_id') != conference['id']
             or not (rows.get(c) or {}).get('joined')], '',
            'every call is recorded as joined to the conference')
    verdict([c for c in calls if (rows.get(c) or {}).get('caller') != clis[c]
             or (rows.get(c) or {}).get('origin') != 'pstn'], '',
            'every call row keeps its own caller and origin')
    t.ok('%s-lock' % name in rows, "%s: the lock holder's insert was committed alongside" % name)
    t.is_(sorted(set(rows) - set(calls) - {'%s-lock' % name}), [],
          '%s: no stray rows: only the calls and the lock holder' % name)
    unexplained = [line for line in log if 'database is locked' not in line]
    t.is_(unexplained, [], '%s: the CGIs logged nothing else under load (no other fault, no refusal)' % name)
    return took


def main(t):
    pinconf.alone()	# a burst and its timings, not another test's load
    scratch = pinconf.Scratch('callback-load')
    weekly = scratch.add_conference('Weekly sync', '4321')
    server = pinconf.start_server(scratch, extra_conf=os.environ.get('PINCONF_LOAD_LIMITS', SERVER_LIMITS))
    t.is_(server.post(ace(new_callid())).status, 200, 'the server answers before the load starts')

    began = time.monotonic()
    run_round(t, scratch, server, weekly, 'burst', ordered=False)
    run_round(t, scratch, server, weekly, 'ordered', ordered=True)
    total = time.monotonic() - began

    t.ok(total < 25, 'both rounds together took under 25 s', diag='  took %.1f s' % total)


pinconf.run(main)
