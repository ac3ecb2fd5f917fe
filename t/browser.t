"""browser.t: pinconf's pages in headless Chromium against the installed CGIs.

Starts three web servers (lighttpd, or Apache with PINCONF_SERVER=apache):
one whose pinconf.conf points sinch_js_url at t/browser/fake-sinch-rtc.js
(Sinch's current SDK), one at t/browser/fake-sinch.js (the legacy SDK), and
one with dial-in numbers; each has the conferences of make_site().  A file
listed in SETUPS gets the servers its set-up starts as well.

Every t/browser/*.test.js is a part, or several: a file whose header has a
line "Parts (PINCONF_TEST_PART): a b" runs once per name, with
PINCONF_TEST_PART set.  Each part is a node process with its own Chromium
(playwright-core), and all of them run at the same time; their TAP is merged
into one plan, in the order of file name and part, renumbered, with each
part's diagnostics passed through.  One assertion of this script's own comes
last: no CGI reported a sanitizer error.  Screenshots go to t/tmp/browser/
(t/tmp/browser-apache/) and, when PINCONF_SCREENSHOT_DIR is set, there too.

Needs node, /usr/bin/chromium (or $PINCONF_CHROMIUM) and
`npm ci` in t/browser; without them the test is skipped.
"""

import glob
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
import mailbox  # noqa: E402  (t/mailbox.py)

PIN = '4321'
NODE_TIMEOUT = 400	# seconds for all the parts together (a hang's limit; they take 50-120)
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
    for package in ('playwright-core', 'axe-core'):
        if not os.path.isdir(os.path.join(BROWSER_DIR, 'node_modules', package)):
            return '%s not installed: run npm ci in %s' % (package, BROWSER_DIR)
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
    pinconf.alone()	# its Chromiums and timers take the machine's turn alone
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
    runs = []
    for script, part in parts():
        extra = {}
        if os.path.basename(script) in SETUPS:
            extra, started = SETUPS[os.path.basename(script)]()
            servers.extend(started)
        runs.append(Part(script, part, dict(env, **extra)))
    sys.stdout.flush()
    for run in runs:
        run.start()
    status, planned = merge(runs)
    if status != 0:
        print_server_logs(servers)
    pinconf.stop_all_servers()
    # The sanitizer check of pinconf.run(), as the last assertion.
    tap = pinconf.Tap()
    tap.count = planned
    if not pinconf.check_sanitizers(tap):
        status = status or 1
    sys.exit(status)


def setup_owner():
    """owner.test.js: owner.cgi open to sign-up from example.com, its mail in a folder.

    t/sendmail stores each message in the folder PINCONF_TEST_MAILBOX names,
    where the test reads it as a person would.
    """
    scratch = pinconf.Scratch('browser-owner')
    htdocs = scratch.path('htdocs')
    shutil.rmtree(htdocs)
    shutil.copytree(os.environ['PINCONF_HTDOCSDIR'], htdocs)
    box = mailbox.Mailbox(scratch.path('mail'))
    sendmail = box.install(scratch)
    server = pinconf.start_server(scratch)
    base = server.url('').rstrip('/')
    scratch.write_config(owner_domains='example.com', mail_from='pinconf@example.com',
                         public_url=base, sendmail=sendmail)
    scratch.chown()
    return {'PINCONF_TEST_OWNER_URL': base, 'PINCONF_TEST_MAILBOX': box.folder}, [server]


def setup_owner_conferences():
    """owner-conferences.test.js: owner.cgi with the fake Sinch Calling API and
    a test sendmail, and a confirmed owner (ann@example.com) with a known password.

    The owner is made as t/owner-conferences.t makes one: pinconf owner add,
    the mailed link, a password; the browser logs in itself.  Node gets the
    database's path (to add the call rows of the fake's participants with
    sqlite3) and the fake's URL (its /control/ endpoints).
    """
    import atexit
    import subprocess
    from owner_client import Browser
    from sinchfake import FakeSinch
    scratch = pinconf.Scratch('browser-owner-conferences')
    htdocs = scratch.path('htdocs')
    shutil.rmtree(htdocs)
    shutil.copytree(os.environ['PINCONF_HTDOCSDIR'], htdocs)
    scratch.execute("INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850512345')")
    box = mailbox.Mailbox(scratch.path('mail'))
    sendmail = box.install(scratch)
    server = pinconf.start_server(scratch)
    fake = FakeSinch(server.url())
    atexit.register(fake.stop)
    base = server.url('').rstrip('/')
    scratch.write_config(owner_domains='example.com', mail_from='pinconf@example.com',
                         public_url=base, sendmail=sendmail, api_url=fake.url,
                         callout_cli='+46101234567', api_timeout='2')
    email, password = 'ann@example.com', 'correct horse battery'
    subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf'), 'owner', 'add', email],
                   env=dict(os.environ, PINCONF_CONFIG=scratch.config), capture_output=True)
    mail = box.wait_for(email)
    if mail is not None:	# without it the log-in test fails and says so
        owner = Browser(server)
        page = owner.follow(mailbox.link(mail))
        owner.post('/reset', {'token': page.hidden('token'), 'password': password,
                              'password2': password})
    scratch.chown()
    return {'PINCONF_TEST_OWNER_URL': base, 'PINCONF_TEST_MAILBOX': box.folder,
            'PINCONF_TEST_OWNER_EMAIL': email, 'PINCONF_TEST_OWNER_PASSWORD': password,
            'PINCONF_TEST_DATABASE': scratch.db, 'PINCONF_TEST_SINCH_URL': fake.url}, [server]


# Set-ups of the files that need servers of their own: file name -> a
# function of no arguments returning (environment for its node, the servers it
# started).  Every file's node also gets the environment of main().  A new
# t/browser/NAME.test.js runs as it is; one with servers of its own adds a line.
SETUPS = {'owner.test.js': setup_owner,
          'owner-conferences.test.js': setup_owner_conferences}

PARTS_LINE = re.compile(r'^\s*\*?\s*Parts \(PINCONF_TEST_PART\):\s*(\S.*)$', re.M)


def parts():
    """Every (script, part or None) of t/browser/*.test.js, in a fixed order.

    PINCONF_BROWSER_PARTS="join.test.js:legacy owner" keeps only the parts
    named (a file, or file:part; .test.js may be left out), to run one by hand.
    """
    wanted = os.environ.get('PINCONF_BROWSER_PARTS', '').split()
    for script in sorted(glob.glob(os.path.join(BROWSER_DIR, '*.test.js'))):
        with open(script, encoding='utf-8') as source:
            declared = PARTS_LINE.search(source.read(4096))
        file = os.path.basename(script)
        for part in declared.group(1).split() if declared else [None]:
            names = {file, file[:-len('.test.js')]}
            names |= {name + ':' + part for name in names} if part else set()
            if not wanted or names & set(wanted):
                yield script, part


class Part:
    """One node process running one part; its output lines come through a queue."""

    def __init__(self, script, part, env):
        self.script = script
        self.part = part
        self.name = os.path.basename(script) + (' ' + part if part else '')
        self.env = dict(env, PINCONF_TEST_PART=part or '')
        self.lines = queue.Queue()
        self.process = None
        self.started = self.finished = None
        self.status = None

    def start(self):
        self.started = time.monotonic()
        self.process = subprocess.Popen(['node', self.script], cwd=BROWSER_DIR, env=self.env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.process.stdout:
            self.lines.put(raw.decode('utf-8', errors='replace').rstrip('\n'))
        self.status = self.process.wait()
        self.finished = time.monotonic()
        self.lines.put(None)

    def next_line(self, deadline):
        """The next line, or None at the end (or once deadline has passed: then it is killed)."""
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.process.kill()
            self.status = 'killed'
            return None

    def seconds(self):
        return (self.finished or time.monotonic()) - self.started


def die_with_parent():
    """In the child: the kernel sends it SIGTERM when this script dies, even by SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 15, 0, 0, 0)	# PR_SET_PDEATHSIG, SIGTERM
    except (ImportError, OSError, AttributeError):
        pass


RESULT = re.compile(r'^(not ok|ok)\b\s*(\d+)?(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')


def merge(runs):
    """Print the parts' TAP as one plan (+ 1 for the sanitizer check).

    Waits for every part's plan, prints the sum, then each part's lines in
    turn, renumbered; a part that ends early gets its missing tests as
    failures.  Returns (exit status, tests printed).
    """
    deadline = time.monotonic() + NODE_TIMEOUT
    early = {}
    plans = {}
    for run in runs:
        early[run] = []
        while run not in plans:
            line = run.next_line(deadline)
            if line is None:
                plans[run] = None
            elif PLAN.match(line):
                plans[run] = int(PLAN.match(line).group(1))
            else:
                early[run].append(line)
    print('1..%d' % (sum(plan or 1 for plan in plans.values()) + 1))
    sys.stdout.flush()
    status = 0
    offset = 0
    for run in runs:
        plan = plans[run]
        if plan is None:
            print('not ok %d - %s printed a plan' % (offset + 1, run.name))
            for line in early[run]:
                print('# ' + line)
            print('# %s ended with status %s' % (run.name, run.status))
            status, offset = 1, offset + 1
            continue
        done = 0
        for line in early[run]:
            print('# ' + line if not line.startswith('#') else line)
        while True:
            line = run.next_line(deadline)
            if line is None:
                break
            result = RESULT.match(line)
            if result:
                done += 1
                line = '%s %d%s' % (result.group(1), offset + done, result.group(3))
            elif not line.startswith('#'):
                line = '# ' + line
            print(line)
            sys.stdout.flush()
        for missing in range(done + 1, plan + 1):
            print('not ok %d - %s: test %d of %d did not report' % (offset + missing, run.name, missing, plan))
        if run.status == 'killed':
            print('# %s was stopped: the parts took more than %d s' % (run.name, NODE_TIMEOUT))
        print('# %s: %d tests, status %s, %.1f s' % (run.name, plan, run.status, run.seconds()))
        if run.status != 0 or done < plan:
            status = 1
        offset += plan
    sys.stdout.flush()
    return status, offset


if __name__ == '__main__':
    main()
