"""browser.t: the join page in headless Chromium against the installed CGIs.

Starts three web servers (lighttpd, or Apache with PINCONF_SERVER=apache):
one whose pinconf.conf points sinch_js_url at t/browser/fake-sinch-rtc.js
(Sinch's current SDK), one at t/browser/fake-sinch.js (the legacy SDK), and
one with dial-in numbers; each has the conferences of make_site().  Then it
runs t/browser/join.test.js under node, which runs every flow against both
SDKs and
drives Chromium with playwright-core and prints the TAP that this script
passes through, then t/browser/axe.test.js (axe-core's WCAG checks of / and
the join page), adding one assertion of its own at the end: no CGI reported
a sanitizer error.  Screenshots go to t/tmp/browser/ (t/tmp/browser-apache/)
and, when PINCONF_SCREENSHOT_DIR is set, there too.

Needs node, /usr/bin/chromium (or $PINCONF_CHROMIUM) and
`npm ci` in t/browser; without them the test is skipped.
"""

import os
import re
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402

PIN = '4321'
NODE_TIMEOUT = 200	# seconds for the whole browser run
BROWSER_DIR = os.path.join(os.environ.get('PINCONF_SRCDIR') or
                           os.path.dirname(os.path.abspath(__file__)), 't', 'browser')
if not os.path.isdir(BROWSER_DIR):	# run by hand from the source tree
    BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'browser')
CHROMIUM = os.environ.get('PINCONF_CHROMIUM', '/usr/bin/chromium')


def skip(reason):
    print('1..0 # SKIP ' + reason)
    sys.exit(0)


def missing_prerequisite():
    """Why the browser test cannot run here, or None."""
    if not os.environ.get('PINCONF_HTDOCSDIR'):
        return 'PINCONF_HTDOCSDIR not set: run through make check'
    why = pinconf.missing_prerequisite()
    if why:
        return why
    if shutil.which('node') is None:
        return 'node not found (apt-get install nodejs)'
    if not os.access(CHROMIUM, os.X_OK):
        return '%s not found (apt-get install chromium)' % CHROMIUM
    if not os.path.isfile(os.path.join(BROWSER_DIR, 'join.test.js')):
        return '%s is not in this tree' % BROWSER_DIR
    if not os.path.isdir(os.path.join(BROWSER_DIR, 'node_modules', 'playwright-core')):
        return 'playwright-core not installed: run npm ci in %s' % BROWSER_DIR
    return None


def make_site(name, sdk, dial_in):
    """A scratch site: the installed htdocs plus both fake SDKs, guess_limit 3.

    Conferences: 4321 open (with attendee Anna Svensson on personal PIN
    5678), 5555 full (2 of 2 in), 6666 locked, 7777 starting in 30 days,
    4455 waiting for its host (Hedda Host on 4466).
    """
    scratch = pinconf.Scratch(name, sinch_js_url='/' + sdk)
    htdocs = scratch.path('htdocs')
    shutil.rmtree(htdocs)
    shutil.copytree(os.environ['PINCONF_HTDOCSDIR'], htdocs)
    for fake in ('fake-sinch.js', 'fake-sinch-rtc.js'):
        shutil.copy(os.path.join(BROWSER_DIR, fake), htdocs)
    weekly = scratch.add_conference('Weekly sync', PIN)
    # Few guesses, so that the lockout test needs few requests.
    scratch.execute("UPDATE setting SET value = 3 WHERE name = 'guess_limit'")
    if dial_in:
        scratch.execute("INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850551234')")
    conference_rules(scratch, weekly)
    scratch.chown()
    return scratch


def conference_rules(scratch, weekly):
    """The rows of issue 12 the page must explain; a failure shows in its tests."""
    statements = [
        ("INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna Svensson', '5678')",
         (weekly['id'],)),
        ("INSERT INTO conference(name, pin, max_participants) VALUES ('Full house', '5555', 2)", ()),
        ("INSERT INTO call(callid, origin, caller, conference_id, conference_name, joined)"
         " SELECT 'full-' || n, 'pstn', '+4670000000' || n, id, name,"
         " strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM conference, (SELECT 1 AS n UNION SELECT 2)"
         " WHERE pin = '5555'", ()),
        ("INSERT INTO conference(name, pin, locked) VALUES ('Locked room', '6666', 1)", ()),
        ("INSERT INTO conference(name, pin, starts_on) VALUES ('Next month', '7777',"
         " date('now', '+30 days'))", ()),
        # Issue 19: callers wait for the host (attendee on 4466).
        ("INSERT INTO conference(name, pin, wait_for_host) VALUES ('Hosted', '4455', 1)", ()),
        ("INSERT INTO attendee(conference_id, name, pin, host)"
         " SELECT id, 'Hedda Host', '4466', 1 FROM conference WHERE pin = '4455'", ()),
    ]
    for sql, params in statements:
        try:
            scratch.execute(sql, params)
        except Exception as error:	# an older schema: the tests that need it fail
            print('# set-up of %s: %s: %s' % (scratch.name, sql.split('(')[0], error))


def print_server_logs(servers):
    for server in servers:
        lines = server.log_all()
        if lines:
            print('# CGI stderr of %s:' % server.url('/'))
            for line in lines[-40:]:
                print('#   ' + line)
    sys.stdout.flush()


def main():
    why = missing_prerequisite()
    if why:
        skip(why)
    sites = [make_site('browser', 'fake-sinch-rtc.js', dial_in=False),
             make_site('browser-legacy', 'fake-sinch.js', dial_in=False),
             make_site('browser-dial-in', 'fake-sinch-rtc.js', dial_in=True)]
    # The harness gives either server the MIME types a distribution's main
    # config does; without them Chromium refuses pinconf.css and pinconf.js.
    servers = [pinconf.start_server(site) for site in sites]
    shots = [sites[0].dir]
    if os.environ.get('PINCONF_SCREENSHOT_DIR'):
        shots.append(os.path.abspath(os.environ['PINCONF_SCREENSHOT_DIR']))
    env = dict(os.environ,
               PINCONF_TEST_URL=servers[0].url(''),
               PINCONF_TEST_LEGACY_URL=servers[1].url(''),
               PINCONF_TEST_DIAL_IN_URL=servers[2].url(''),
               PINCONF_TEST_KEY=pinconf.KEY,
               PINCONF_TEST_SECRET=pinconf.SECRET,
               PINCONF_TEST_SCREENSHOT_DIRS=os.pathsep.join(shots),
               PINCONF_CHROMIUM=CHROMIUM)
    sys.stdout.flush()
    axe_status, axe_lines, axe_planned = run_axe(env)
    status, planned = run_node(env, extra=axe_planned)
    if planned is not None:
        # axe.test.js's results follow join.test.js's, numbered on from them.
        for line in axe_lines:
            print(re.sub(r'^(not ok|ok) (\d+)', lambda m: '%s %d' % (m.group(1), int(m.group(2)) + planned), line))
        planned += axe_planned
        status = status or axe_status
    if status != 0:
        print_server_logs(servers)
    pinconf.stop_all_servers()
    if planned is not None:
        # The sanitizer check of pinconf.run(), as assertion planned + 1.
        tap = pinconf.Tap()
        tap.count = planned
        if not pinconf.check_sanitizers(tap):
            status = status or 1
    sys.exit(status)


def run_axe(env):
    """Run axe.test.js, if this tree has it: (exit status, its TAP lines but the plan, tests planned)."""
    script = os.path.join(BROWSER_DIR, 'axe.test.js')
    if not os.path.isfile(script) or not os.path.isdir(os.path.join(BROWSER_DIR, 'node_modules', 'axe-core')):
        return 0, [], 0
    try:
        done = subprocess.run(['node', script], cwd=BROWSER_DIR, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 1, ['not ok 1 - axe.test.js finished within %d s' % NODE_TIMEOUT], 1
    lines = done.stdout.decode('utf-8', errors='replace').splitlines()
    plans = [int(m.group(1)) for m in (re.match(r'^1\.\.(\d+)$', line) for line in lines) if m]
    if not plans:
        return 1, ['not ok 1 - axe.test.js printed a plan'] + ['# ' + line for line in lines], 1
    return done.returncode, [line for line in lines if not re.match(r'^1\.\.\d+$', line)], plans[0]


def run_node(env, extra=0):
    """Run join.test.js, passing its TAP through with extra + 1 more assertions planned.

    Returns (exit status, the number of tests node planned or None).
    """
    planned = None
    process = subprocess.Popen(['node', os.path.join(BROWSER_DIR, 'join.test.js')],
                               cwd=BROWSER_DIR, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE)
    expired = []

    def expire():
        expired.append(True)
        process.kill()
    timer = threading.Timer(NODE_TIMEOUT, expire)
    timer.start()
    try:
        for raw in process.stdout:
            line = raw.decode('utf-8', errors='replace').rstrip('\n')
            plan = re.match(r'^1\.\.(\d+)$', line)
            if plan and planned is None:
                planned = int(plan.group(1))
                line = '1..%d' % (planned + extra + 1)
            print(line)
            sys.stdout.flush()
        status = process.wait()
    finally:
        timer.cancel()
    if expired:
        print('Bail out! the browser tests took more than %d s' % NODE_TIMEOUT)
        return 1, None
    return status, planned


if __name__ == '__main__':
    main()
