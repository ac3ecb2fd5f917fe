#!/usr/bin/env python3
# callback-faults-injected.t: every database statement a request runs fails in
# turn (busy, I/O error, full, read-only, corrupt), through the real CGIs with
# t/faultinject.so preloaded: callers hear the apology, the others get a 5xx,
# nothing half-written stays, a log line names the fault.
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, dice  # noqa: E402

CODES = {
    'BUSY': 'database is locked',
    'IOERR': 'disk I/O error',
    'FULL': 'database or disk is full',
    'READONLY': 'attempt to write a readonly database',
    'CORRUPT': 'database disk image is malformed',
}
STEPS_MAX = 60	# no request runs this many statements; reaching it is a bug in the test
# db.c treats every SQLite error alike but SQLITE_READONLY (and CANTOPEN), and
# BUSY is what an admin's lock gives: these fail every statement of every
# request in turn.  FULL and CORRUPT take IOERR's path: they fail each
# request's first statement, to show their message reaches the log.
EVERY_STEP = ('BUSY', 'IOERR', 'READONLY')
WORKERS = 3	# kinds at a time: each step is a CGI run, mostly process start-up


def preload_environment():
    environment = {'LD_PRELOAD': os.environ['PINCONF_FAULTINJECT']}
    if pinconf.cgis_are_sanitized():
        # ASan wants to be first in the link order; a preloaded library is before it.
        options = os.environ.get('ASAN_OPTIONS', '')
        environment['ASAN_OPTIONS'] = (options + ':' if options else '') + 'verify_asan_link_order=0'
    return environment


def snapshot(scratch):
    """Every row of every table, to compare before and after."""
    tables = [row['name'] for row in scratch.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {table: sorted(json.dumps(row, sort_keys=True) for row in scratch.query('SELECT * FROM "%s"' % table))
            for table in tables}


def callback(event):
    body = pinconf.encode(event)
    return dict(program='callback.cgi', method='POST', body=body,
                headers=pinconf.signed_callback_headers(body))


USER = 'u-FaultFaultFaultFault01'	# an id as getticket.cgi issues them


def form(program, fields):
    body = '&'.join('%s=%s' % item for item in fields).encode()
    return dict(program=program, method='POST', body=body,
                headers={'Content-Type': 'application/x-www-form-urlencoded'})


def sqlite_preloadable():
    """LD_PRELOAD reaches sqlite3_step only in a CGI that loads libsqlite3.so."""
    program = os.path.join(os.environ['PINCONF_CGIBINDIR'], 'callback.cgi')
    done = subprocess.run(['readelf', '-d', program], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return b'libsqlite3' in done.stdout


def kinds():
    """(name, request, expected answer to a fault)."""
    return [
        ('phone ICE', lambda: callback(ice_phone('c-ice')), 'apology'),
        ('PIE with the right PIN', lambda: callback(pie('c-pie', '4321')), 'apology'),
        ('PIE with a wrong PIN', lambda: callback(pie('c-pie', '9999')), 'apology'),
        ('browser ICE with the right PIN', lambda: callback(ice_browser('c-mxp', '4321', user=USER)), 'apology'),
        ('browser ICE with a wrong PIN', lambda: callback(ice_browser('c-mxp2', '9999', user=USER)), 'apology'),
        ('DiCE', lambda: callback(dice('c-pie')), 'json'),
        ('getticket with the right PIN', lambda: form('getticket.cgi', [('name', 'Bob'), ('pin', '4321')]), 'json'),
        ('getticket with a wrong PIN', lambda: form('getticket.cgi', [('name', 'Bob'), ('pin', '9999')]), 'json'),
        ('getticket renewing an id', lambda: form('getticket.cgi', [('name', 'Ann'), ('pin', '4321'),
                                                                   ('userId', USER)]), 'json'),
        ('roster of a participant', lambda: form('roster.cgi', [('userId', USER)]), 'json'),
        ('the join page', lambda: dict(program='join.cgi'), 'html'),
    ]


def run(scratch, request, fault=None):
    environment = preload_environment()
    if fault is not None:
        environment['PINCONF_FAULT'] = fault
    request = dict(request)
    program = request.pop('program')
    return pinconf.run_cgi(program, scratch.config, environment=environment, **request)


def fault_answered(kind, expect, status, headers, body):
    if expect == 'apology':
        try:
            svaml = json.loads(body.decode())
        except ValueError:
            svaml = None
        return (status == 200 and pinconf.says(svaml) == [pinconf.APOLOGY] and
                pinconf.action_name(svaml) == 'hangup')
    if expect == 'json':
        try:
            error = json.loads(body.decode()).get('error')
        except (ValueError, AttributeError):
            error = None
        return 500 <= (status or 0) <= 599 and headers.get('content-type', '').startswith('application/json') \
            and isinstance(error, str)
    return 500 <= (status or 0) <= 599 and headers.get('content-type', '').startswith('text/html')


def restore(scratch, template):
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(scratch.db + suffix):
            os.unlink(scratch.db + suffix)
    shutil.copy(template, scratch.db)
    scratch.chown(scratch.db)


def fault_every_step(scratch, kind_request_expect):
    """Fail each statement of one kind of request in turn: [(ok, name, diag)] in order."""
    kind, make_request, expect = kind_request_expect
    template = scratch.path('template.db')
    shutil.copy(scratch.db, template)
    results = []
    for code, message in CODES.items():
        restore(scratch, template)
        before = snapshot(scratch)
        failures = []
        n = 1
        last = STEPS_MAX if code in EVERY_STEP else 1
        status = body = None
        while n <= last:
            status, headers, body, lines = run(scratch, make_request(), '%d:%s' % (n, code))
            injected = [line for line in lines if line.startswith('faultinject: step %d ' % n)]
            if not injected:
                break
            program = make_request()['program']
            named = [line for line in lines if line.startswith(program + ': ') and message in line]
            after = snapshot(scratch)
            if not fault_answered(kind, expect, status, headers, body):
                failures.append('step %d: answered %r %r' % (n, status, body[:160]))
            if after != before:
                failures.append('step %d: the database changed: %r' % (
                    n, {k: v for k, v in after.items() if before.get(k) != v}))
            if not named:
                failures.append('step %d: no log line names "%s": %r' % (n, message, lines))
            if any('runtime error' in line or 'Sanitizer' in line for line in lines):
                failures.append('step %d: sanitizer report: %r' % (n, lines))
            n += 1
        answer = {'apology': 'the caller hears the apology', 'json': 'a 5xx JSON error',
                  'html': 'a 5xx page'}[expect]
        if code in EVERY_STEP:
            results.append((n > 1 and n <= STEPS_MAX and not failures,
                            '%s, %s at each of its %d statements: %s, nothing half-written, the fault logged'
                            % (kind, code, n - 1, answer), '\n'.join('  ' + f for f in failures[:5])))
            # Past the last statement the fault is never injected: a normal answer.
            results.append((status is not None and 200 <= status < 500,
                            '%s: past its last statement (%s) the request succeeds' % (kind, code),
                            '  status %r body %r' % (status, (body or b'')[:160])))
        else:
            results.append((n == 2 and not failures,
                            '%s, %s at its first statement: %s, nothing half-written, the fault logged'
                            % (kind, code, answer), '\n'.join('  ' + f for f in failures[:5])))
    return results


def main(t):
    if not sqlite_preloadable():
        t.skip('fault injection', 'SQLite is linked into the CGIs (static build, or the default'
               ' static SQLite): LD_PRELOAD cannot reach sqlite3_step; configure'
               ' --disable-static-sqlite, as contrib/run-tests does for the sanitizer suite')
        return
    scratch = pinconf.Scratch('callback-faults-injected')
    scratch.add_conference('Weekly sync', '4321')
    scratch.execute("INSERT INTO dial_in(label, number) VALUES ('Sweden', '+468123456')")
    scratch.execute("INSERT INTO identity(user_id, display_name, conference_id, pin, source, expires)"
                    " VALUES (?, 'Ann', 1, '4321', 'ip:127.0.0.1', '2999-01-01T00:00:00Z')", (USER,))
    # The roster answers a participant in a call: Ann's browser is in.
    scratch.execute("INSERT INTO call(callid, origin, caller, user_id, conference_id, joined)"
                    " VALUES ('c-ann', 'mxp', 'Ann', ?, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))", (USER,))
    status, headers, body, lines = run(scratch, callback(ice_phone('c-pie')))
    t.is_(status, 200, 'the set-up ICE for the PIE runs with the injector loaded and no fault')
    scratch.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    template = scratch.path('template.db')
    shutil.copy(scratch.db, template)

    # Each kind on a copy of its own, a few at a time; the results in order.
    copies = []
    for i, _ in enumerate(kinds()):
        copy = pinconf.Scratch('callback-faults-injected-%d' % i)
        restore(copy, template)
        copies.append(copy)
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda args: fault_every_step(*args), zip(copies, kinds())))
    for results in outcomes:
        for ok, name, diag in results:
            t.ok(ok, name, diag=diag)

    # Through lighttpd: the fault and its log line reach the server's log.
    restore(scratch, template)
    environment = preload_environment()
    if 'ASAN_OPTIONS' in environment:
        os.environ['ASAN_OPTIONS'] = environment['ASAN_OPTIONS']
    block = '\n$HTTP["url"] =~ "^/cgi-bin/" {\n\tsetenv.add-environment += ( %s )\n}\n' % ', '.join(
        '"%s" => "%s"' % (name, value) for name, value in
        [('LD_PRELOAD', environment['LD_PRELOAD']), ('PINCONF_FAULT', '3:IOERR'),
         ('PINCONF_CONFIG', scratch.config)])
    apache = '\n'.join('SetEnv %s %s' % item for item in
                       [('LD_PRELOAD', environment['LD_PRELOAD']), ('PINCONF_FAULT', '3:IOERR')])
    server = pinconf.start_server(scratch, extra_conf={'lighttpd': block, 'apache': apache})
    before = snapshot(scratch)
    for what, event in (('a phone ICE', ice_phone('c-served')), ('a DiCE', dice('c-pie'))):
        mark = server.log_mark()
        r = server.post(event)
        lines = server.log_since(mark)
        if event['event'] == 'ice':
            t.ok(r.status == 200 and pinconf.says(r.json) == [pinconf.APOLOGY],
                 'served by %s, %s whose third statement fails hears the apology' % (server.kind, what),
                 diag='  %r %r' % (r.status, r.body[:200]))
        else:
            t.ok(r.status == 503, 'served by %s, %s whose third statement fails gets 503' % (server.kind, what),
                 diag='  %r %r' % (r.status, r.body[:200]))
        t.ok(any('disk I/O error' in line and line.startswith('callback.cgi: ') for line in lines),
             'served by %s, %s: the server log names the I/O error' % (server.kind, what), diag='  log: %r' % lines)
    t.is_(snapshot(scratch), before, 'served requests that failed left the database as it was')


pinconf.run(main)
