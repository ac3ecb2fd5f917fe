"""browser.t: the join page in headless Chromium against the installed CGIs.

Starts two lighttpd servers (one without dial-in numbers, one with) whose
pinconf.conf points sinch_js_url at t/browser/fake-sinch.js, then runs
t/browser/join.test.js under node, which drives Chromium with playwright-core
and prints the TAP that this script passes through.  Screenshots go to
t/tmp/browser/ and, when PINCONF_SCREENSHOT_DIR is set, there too.

Needs node, /usr/bin/chromium (or $PINCONF_CHROMIUM) and
`npm ci` in t/browser; without them the test is skipped.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402

PIN = '4321'
NODE_TIMEOUT = 150	# seconds for the whole browser run
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
    for name in ('PINCONF_CGIBINDIR', 'PINCONF_PKGDATADIR', 'PINCONF_HTDOCSDIR', 'LIGHTTPD', 'SQLITE3'):
        if not os.environ.get(name):
            return '%s not set: run through make check' % name
    if shutil.which('node') is None:
        return 'node not found (apt-get install nodejs)'
    if not os.access(CHROMIUM, os.X_OK):
        return '%s not found (apt-get install chromium)' % CHROMIUM
    if not os.path.isfile(os.path.join(BROWSER_DIR, 'join.test.js')):
        return '%s is not in this tree' % BROWSER_DIR
    if not os.path.isdir(os.path.join(BROWSER_DIR, 'node_modules', 'playwright-core')):
        return 'playwright-core not installed: run npm ci in %s' % BROWSER_DIR
    return None


def make_site(name, dial_in):
    """A scratch site: the installed htdocs plus the fake SDK, PIN 4321, guess_limit 3."""
    scratch = pinconf.Scratch(name, sinch_js_url='/fake-sinch.js')
    htdocs = scratch.path('htdocs')
    shutil.rmtree(htdocs)
    shutil.copytree(os.environ['PINCONF_HTDOCSDIR'], htdocs)
    shutil.copy(os.path.join(BROWSER_DIR, 'fake-sinch.js'), htdocs)
    scratch.add_conference('Weekly sync', PIN)
    # Few guesses, so that the lockout test needs few requests.
    scratch.execute("UPDATE setting SET value = 3 WHERE name = 'guess_limit'")
    if dial_in:
        scratch.execute("INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850551234')")
    scratch.chown()
    return scratch


# What a distribution's lighttpd.conf (which includes the shipped snippet)
# provides and the harness's bare main.conf does not: without it lighttpd
# sends application/octet-stream and Chromium refuses the stylesheet.
MIME_TYPES = '''mimetype.assign = (
	".html" => "text/html; charset=utf-8",
	".css" => "text/css; charset=utf-8",
	".js" => "text/javascript; charset=utf-8",
)'''


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
    site = make_site('browser', dial_in=False)
    dial_in_site = make_site('browser-dial-in', dial_in=True)
    servers = [pinconf.start_server(site, extra_conf=MIME_TYPES),
               pinconf.start_server(dial_in_site, extra_conf=MIME_TYPES)]
    shots = [site.dir]
    if os.environ.get('PINCONF_SCREENSHOT_DIR'):
        shots.append(os.path.abspath(os.environ['PINCONF_SCREENSHOT_DIR']))
    env = dict(os.environ,
               PINCONF_TEST_URL=servers[0].url(''),
               PINCONF_TEST_DIAL_IN_URL=servers[1].url(''),
               PINCONF_TEST_KEY=pinconf.KEY,
               PINCONF_TEST_SECRET=pinconf.SECRET,
               PINCONF_TEST_SCREENSHOT_DIRS=os.pathsep.join(shots),
               PINCONF_CHROMIUM=CHROMIUM)
    sys.stdout.flush()
    try:
        done = subprocess.run(['node', os.path.join(BROWSER_DIR, 'join.test.js')],
                              cwd=BROWSER_DIR, env=env, stdin=subprocess.DEVNULL,
                              timeout=NODE_TIMEOUT)
        status = done.returncode
    except subprocess.TimeoutExpired:
        print('Bail out! the browser tests took more than %d s' % NODE_TIMEOUT)
        status = 1
    if status != 0:
        print_server_logs(servers)
    pinconf.stop_all_servers()
    sys.exit(status)


if __name__ == '__main__':
    main()
