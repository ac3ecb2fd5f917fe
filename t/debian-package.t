#!/usr/bin/env python3
"""debian-package.t: the Debian package, built, installed into this machine's
dpkg, served by lighttpd and by Apache with its own snippets, upgraded from the
package of the previous schema version, removed and purged.

Not in make check: it installs into the real system (root, on a throwaway
machine such as CI's) and takes a few minutes.  From the top of the tree:

    python3 t/debian-package.t

It skips itself (1..0) when not root, without dpkg-buildpackage or debhelper,
without debian/ (a dist tarball), or when pinconf is already installed; the
upgrade part is skipped outside a git checkout.  PINCONF_DEB_OLD_COMMIT names
the commit to build the older package from (default: the newest commit whose
db/schema.sql has a lower user_version).  It ends by purging the package and
disabling the Apache module it enabled, so the machine is as it found it.
"""

import glob
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = '/etc/pinconf/pinconf.conf'
DATABASE = '/var/lib/pinconf/pinconf.db'
CGIBIN = '/usr/lib/cgi-bin/pinconf'
LIGHTTPD_ENABLED = '/etc/lighttpd/conf-enabled/50-pinconf.conf'
APACHE_ENABLED = '/etc/apache2/conf-enabled/pinconf.conf'
APACHE_CGI_LOADS = ('/etc/apache2/mods-enabled/cgid.load', '/etc/apache2/mods-enabled/cgi.load')
WEB_USER = 'www-data'
PIN = '4321'
APT_ENV = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
# Another apt at work (a timer's upgrade, a developer's install) is waited for, not a failure.
APT = ['apt-get', '-o', 'DPkg::Lock::Timeout=300']


def run(command, check=False, **options):
    """A command's CompletedProcess, stdout and stderr as one text."""
    options.setdefault('stdin', subprocess.DEVNULL)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **options)
    done.text = done.stdout.decode('utf-8', errors='replace')
    if check and done.returncode != 0:
        raise RuntimeError('%s: exit %d\n%s' % (' '.join(command), done.returncode, done.text[-3000:]))
    return done


def why_skip():
    if os.geteuid() != 0:
        return 'not root: this test installs a package into the system'
    for program in ('dpkg-buildpackage', 'dh', 'apt-get'):
        if not shutil.which(program):
            return '%s not found (apt-get install dpkg-dev debhelper)' % program
    if not os.path.isfile(os.path.join(SRCDIR, 'debian', 'control')):
        return 'no debian/ in %s (a dist tarball)' % SRCDIR
    if run(['dpkg-query', '-W', '-f=${Status}', 'pinconf']).text.startswith('install ok'):
        return 'pinconf is installed on this machine: the test would replace it'
    return None


# ------------------------------------------------------------------ building

def in_git():
    return run(['git', '-C', SRCDIR, 'rev-parse', '--is-inside-work-tree']).text.strip() == 'true'


def copy_tree(destination):
    """The tree under test as it is (committed or not), without build products."""
    os.makedirs(destination)
    if in_git():
        files = run(['git', '-C', SRCDIR, 'ls-files', '-z', '-c', '-o', '--exclude-standard'], check=True)
        names = [n for n in files.stdout.decode().split('\0') if n and os.path.lexists(os.path.join(SRCDIR, n))]
        for name in names:
            target = os.path.join(destination, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(SRCDIR, name), target, follow_symlinks=False)
    else:
        shutil.rmtree(destination)
        shutil.copytree(SRCDIR, destination, symlinks=True)


def schema_version(text):
    match = re.search(r'^PRAGMA user_version = (\d+)', text, re.M)
    return int(match.group(1)) if match else None


def older_schema_commit():
    """(commit, its schema version): the newest commit whose schema is older than the tree's."""
    with open(os.path.join(SRCDIR, 'db', 'schema.sql')) as f:
        current = schema_version(f.read())
    chosen = os.environ.get('PINCONF_DEB_OLD_COMMIT')
    if not chosen:
        # The oldest commit that has the current version; its parent is the one.
        first_current = None
        log = run(['git', '-C', SRCDIR, 'log', '--format=%H', 'HEAD', '--', 'db/schema.sql'], check=True)
        for commit in log.text.split():
            text = run(['git', '-C', SRCDIR, 'show', commit + ':db/schema.sql']).text
            if schema_version(text) != current:
                break
            first_current = commit
        if first_current is None:
            return None, None
        chosen = first_current + '^'
    commit = run(['git', '-C', SRCDIR, 'rev-parse', '--verify', chosen + '^{commit}'], check=True).text.strip()
    version = schema_version(run(['git', '-C', SRCDIR, 'show', commit + ':db/schema.sql'], check=True).text)
    return commit, version


def build(source):
    """Build the binary package in source; the path of its .deb."""
    environment = dict(os.environ, DEB_BUILD_OPTIONS='nocheck parallel=2')
    run(['dpkg-buildpackage', '-us', '-uc', '-b'], check=True, cwd=source, env=environment)
    parent = os.path.dirname(source)
    version = run(['dpkg-parsechangelog', '-S', 'Version'], cwd=source, check=True).text.strip()
    arch = run(['dpkg-architecture', '-q', 'DEB_HOST_ARCH'], check=True).text.strip()
    return os.path.join(parent, 'pinconf_%s_%s.deb' % (version, arch))


def build_old(work, commit, schema):
    """The package of commit (a lower version), with this tree's debian/."""
    source = os.path.join(work, 'old', 'src')
    os.makedirs(source)
    archive = subprocess.Popen(['git', '-C', SRCDIR, 'archive', commit], stdout=subprocess.PIPE)
    run(['tar', '-x', '-C', source], stdin=archive.stdout, check=True)
    archive.wait()
    shutil.rmtree(os.path.join(source, 'debian'), ignore_errors=True)
    shutil.copytree(os.path.join(SRCDIR, 'debian'), os.path.join(source, 'debian'))
    changelog = os.path.join(source, 'debian', 'changelog')
    with open(changelog) as f:
        text = f.read()
    # ~ sorts before anything: 0.1.0~schema1 is older than 0.1.0.
    text = re.sub(r'^pinconf \(([^)~]+)[^)]*\)', r'pinconf (\1~schema%d)' % schema, text, count=1)
    with open(changelog, 'w') as f:
        f.write(text)
    return build(source)


# ------------------------------------------------------------------ the system

def apt_install(deb):
    # --force-confold: the admin's credentials stay in the config across upgrades.
    return run(APT + ['install', '-y', '-q', '--no-install-recommends',
                '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', deb],
               env=APT_ENV)


def dpkg_status():
    return run(['dpkg-query', '-W', '-f=${Status}', 'pinconf']).text.strip()


def sql(statement, database=DATABASE):
    """Rows of statement, run by the sqlite3 shell as the web server's user (as an admin would:
    files SQLite creates beside the database must stay the web server's)."""
    done = run(['sqlite3', '-bail', '-json', database, statement], user=WEB_USER, group=WEB_USER,
               extra_groups=[], check=True)
    return json.loads(done.text) if done.text.strip() else []


def user_version():
    return sql('PRAGMA user_version')[0]['user_version']


def latest_schema():
    with open('/usr/share/pinconf/schema.sql') as f:
        return schema_version(f.read())


def snapshot():
    """{table: (columns, [row, ...])} of every table."""
    tables = [r['name'] for r in sql("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite%' ORDER BY name")]
    result = {}
    for table in tables:
        columns = [r['name'] for r in sql('PRAGMA table_info("%s")' % table)]
        result[table] = (columns, sql('SELECT * FROM "%s"' % table))
    return result


def set_credentials(api_url=None):
    with open(CONFIG, 'a') as f:
        f.write('\n# Set by t/debian-package.t\napplication_key = %s\napplication_secret = %s\n'
                % (pinconf.KEY, pinconf.SECRET))
        if api_url:
            f.write('api_url = %s\n' % api_url)


def leftovers():
    """Whatever of pinconf is on the system: paths and dpkg's records."""
    found = []
    for root in ('/etc', '/var/lib/pinconf', '/usr/lib/cgi-bin/pinconf', '/usr/share/pinconf',
                 '/usr/share/doc/pinconf', '/usr/bin/pinconf', '/usr/sbin/pinconf-upgrade'):
        # glob gives 'root/' for a root that is gone: only what exists counts.
        found += [p for p in glob.glob(root + '/**', recursive=True)
                  if 'pinconf' in p and os.path.lexists(p)]
    overrides = run(['dpkg-statoverride', '--list']).text
    found += ['statoverride: ' + line for line in overrides.splitlines() if 'pinconf' in line]
    return sorted(set(found))


# ------------------------------------------------------------------ servers

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class SystemServer:
    """A web server that includes the system's enabled snippets, on a free loopback port."""

    def __init__(self, work, name):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.process = None

    def start(self):
        with open(os.path.join(self.dir, 'console.log'), 'ab') as console:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=console,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            env=self.environment())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('%s exited at start:\n%s' % (self.name, self.log()))
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError('%s did not listen:\n%s' % (self.name, self.log()))

    def environment(self):
        return os.environ

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None

    def log(self):
        text = ''
        for path in sorted(glob.glob(os.path.join(self.dir, '*.log'))):
            with open(path, errors='replace') as f:
                text += f.read()
        return text

    def request(self, method, path, body=b'', headers=None):
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}, Host='127.0.0.1'))
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        text = data.decode('utf-8', errors='replace')
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        return response.status, text, document

    def callback(self, event):
        body = pinconf.encode(event)
        return self.request('POST', pinconf.CALLBACK_PATH, body, pinconf.signed_callback_headers(body))


class Lighttpd(SystemServer):
    name = 'lighttpd'

    def command(self):
        conf = os.path.join(self.dir, 'main.conf')
        docroot = os.path.join(self.dir, 'docroot')
        os.makedirs(docroot, exist_ok=True)
        for log in ('error.log', 'cgi.log'):
            open(os.path.join(self.dir, log), 'a').close()
            shutil.chown(os.path.join(self.dir, log), WEB_USER, WEB_USER)
        with open(conf, 'w') as f:
            f.write('\n'.join([
                '# written by t/debian-package.t: Debian\'s lighttpd.conf on a free port',
                'server.modules = ( "mod_indexfile", "mod_access", "mod_alias", "mod_redirect" )',
                'server.port = %d' % self.port,
                'server.bind = "127.0.0.1"',
                'server.document-root = "%s"' % docroot,
                'server.errorlog = "%s/error.log"' % self.dir,
                'server.breakagelog = "%s/cgi.log"' % self.dir,
                'server.pid-file = "%s/lighttpd.pid"' % self.dir,
                'server.username = "%s"' % WEB_USER,
                'server.groupname = "%s"' % WEB_USER,
                'include_shell "/usr/share/lighttpd/create-mime.conf.pl"',
                'include "/etc/lighttpd/conf-enabled/*.conf"',
            ]) + '\n')
        return [shutil.which('lighttpd') or '/usr/sbin/lighttpd', '-D', '-f', conf]


class Apache(SystemServer):
    name = 'apache'

    def environment(self):
        # What /etc/apache2/envvars sets, pointed at this test's directory.
        return dict(os.environ, APACHE_RUN_USER=WEB_USER, APACHE_RUN_GROUP=WEB_USER,
                    APACHE_RUN_DIR=self.dir, APACHE_LOCK_DIR=self.dir, APACHE_LOG_DIR=self.dir,
                    APACHE_PID_FILE=os.path.join(self.dir, 'apache2.pid'))

    def command(self):
        os.makedirs(os.path.join(self.dir, 'socks'), exist_ok=True)
        conf = os.path.join(self.dir, 'main.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                '# written by t/debian-package.t: Debian\'s apache2.conf without sites, on a free port',
                'ServerRoot /etc/apache2',
                'DefaultRuntimeDir %s' % self.dir,
                'PidFile %s/apache2.pid' % self.dir,
                'User %s' % WEB_USER,
                'Group %s' % WEB_USER,
                'ErrorLog %s/error.log' % self.dir,
                'LogLevel warn',
                'IncludeOptional mods-enabled/*.load',
                'IncludeOptional mods-enabled/*.conf',
                'Listen 127.0.0.1:%d' % self.port,
                'ServerName 127.0.0.1',
                'DocumentRoot %s' % self.dir,
                '<Directory />',
                '\tAllowOverride None',
                '\tRequire all denied',
                '</Directory>',
                '<Directory /usr/share>',
                '\tAllowOverride None',
                '\tRequire all granted',
                '</Directory>',
                'IncludeOptional conf-enabled/*.conf',
            ]) + '\n')
        return ['/usr/sbin/apache2', '-f', conf, '-DFOREGROUND']


class FakeSinch:
    """t/fake-sinch-api.py: Sinch's REST API on loopback, for pinconf list."""

    def __init__(self, callback_url):
        script = os.path.join(SRCDIR, 't', 'fake-sinch-api.py')
        self.process = subprocess.Popen([sys.executable, script, '--key', pinconf.KEY, '--secret',
                                         pinconf.SECRET, '--callback', callback_url],
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.process.stdout.readline().decode()
        self.url = 'http://127.0.0.1:%d' % int(re.match(r'port (\d+)', line).group(1))

    def stop(self):
        self.process.terminate()
        self.process.wait()


# ------------------------------------------------------------------ the checks

def check_installed_files(t):
    t.like(dpkg_status(), r'^install ok installed', 'the package is installed')
    for path in (CGIBIN + '/callback.cgi', CGIBIN + '/getticket.cgi', CGIBIN + '/join.cgi',
                 CGIBIN + '/roster.cgi', CGIBIN + '/owner.cgi', '/usr/bin/pinconf', '/usr/sbin/pinconf-upgrade',
                 '/usr/share/pinconf/htdocs/pinconf.js', '/usr/share/pinconf/schema.sql',
                 '/usr/share/man/man7/pinconf.7.gz', '/usr/share/man/man8/callback.cgi.8.gz'):
        t.ok(os.path.isfile(path), '%s is installed' % path)
    upgrades = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SRCDIR, 'db', 'upgrade', '*.sql')))
    installed = sorted(os.path.basename(p) for p in glob.glob('/usr/share/pinconf/upgrade/*.sql'))
    t.is_(installed, upgrades, 'every db/upgrade/*.sql step is installed')
    conffiles = run(['dpkg-query', '-W', '-f=${Conffiles}', 'pinconf']).text
    t.like(conffiles, r'/etc/pinconf/pinconf\.conf ', 'pinconf.conf is a conffile')
    status = os.stat(CONFIG)
    t.is_((oct(status.st_mode & 0o777), status.st_uid, grp.getgrnam(WEB_USER).gr_gid == status.st_gid),
          (oct(0o640), 0, True), 'pinconf.conf is 0640 root:www-data')
    status = os.stat(DATABASE)
    t.is_(status.st_uid, pwd.getpwnam(WEB_USER).pw_uid, 'the database belongs to www-data')
    t.is_(os.stat(os.path.dirname(DATABASE)).st_uid, pwd.getpwnam(WEB_USER).pw_uid,
          'so does its directory, where SQLite keeps -wal and -shm')
    t.is_(user_version(), latest_schema(), "the database is at the schema's version")
    t.ok(os.path.islink(LIGHTTPD_ENABLED), 'the lighttpd snippet is enabled')
    t.ok(os.path.islink(APACHE_ENABLED), 'the Apache snippet is enabled')
    t.ok(any(os.path.exists(p) for p in APACHE_CGI_LOADS), "Apache's mod_cgid (or mod_cgi) is enabled")


def drive(t, server, fake=None):
    """A phone caller and a browser through server, as Sinch and a browser would."""
    name = server.name
    callid = pinconf.new_callid('deb')
    status, text, svaml = server.callback(pinconf.ice_phone(callid))
    t.is_(status, 200, '%s: a phone ICE is answered' % name)
    t.is_(pinconf.action_name(svaml) if svaml else text, 'runMenu', '%s: with the PIN menu' % name)
    status, text, svaml = server.callback(pinconf.pie(callid, PIN))
    t.is_(pinconf.action_name(svaml) if svaml else text, 'connectConf',
          '%s: the right PIN connects the caller to the conference' % name)
    body = ('name=Anna&pin=%s' % PIN).encode()
    status, text, document = server.request('POST', pinconf.GETTICKET_PATH, body,
                                             {'Content-Type': pinconf.FORM_TYPE})
    t.is_(status, 200, '%s: getticket.cgi issues a browser ticket' % name)
    t.ok(isinstance(document, dict) and document.get('userId'), '%s: with a user id' % name, diag=text[:300])
    status, text, _ = server.request('GET', '/cgi-bin/join.cgi')
    t.ok(status == 200 and '/pinconf.js' in text, '%s: join.cgi serves the join page' % name)
    status, text, _ = server.request('GET', '/pinconf.js')
    t.ok(status == 200 and 'getticket' in text, '%s: /pinconf.js comes from the package\'s htdocs' % name)
    status, text, _ = server.request('GET', '/cgi-bin/owner.cgi/login')
    t.ok(status == 200 and 'Log in' in text and 'Forgot your password?' in text,
         "%s: owner.cgi serves its log-in page, its PATH_INFO passed on" % name, diag=text[:300])
    calls = sql("SELECT count(*) AS n FROM call WHERE callid = '%s'" % callid)[0]['n']
    t.is_(calls, 1, '%s: the call is in the database' % name)


def test_fresh_install(t, work, deb):
    done = apt_install(deb)
    if not t.ok(done.returncode == 0, 'apt-get install ./%s' % os.path.basename(deb), diag=done.text[-3000:]):
        return
    check_installed_files(t)
    lighttpd = Lighttpd(work, 'lighttpd').start()
    try:
        status, text, _ = lighttpd.callback(pinconf.ice_phone(pinconf.new_callid('deb')))
        time.sleep(0.2)
        t.is_(status, 500, 'without the Sinch key and secret a callback is answered 500')
        t.like(lighttpd.log(), r'callback\.cgi: config /etc/pinconf/pinconf\.conf: .*application_key',
               'and a log line names the config and what it lacks')
    finally:
        lighttpd.stop()
    sql("INSERT INTO conference(name, pin) VALUES ('Package test', '%s')" % PIN)
    fake = None
    servers = []
    try:
        lighttpd = Lighttpd(work, 'lighttpd2')
        fake = FakeSinch('http://127.0.0.1:%d%s' % (lighttpd.port, pinconf.CALLBACK_PATH))
        set_credentials(fake.url)
        servers.append(lighttpd.start())
        drive(t, lighttpd)
        listed = run(['pinconf', 'list'])
        t.ok(listed.returncode == 0 and 'Package test' in listed.text,
             'pinconf list shows the conference', diag=listed.text)
        lighttpd.stop()
        apache = Apache(work, 'apache')
        servers.append(apache.start())
        drive(t, apache)
    finally:
        for server in servers:
            server.stop()
        if fake:
            fake.stop()
    purge(t, 'fresh install')


def purge(t, what):
    done = run(APT + ['purge', '-y', '-q', 'pinconf'], env=APT_ENV)
    t.ok(done.returncode == 0, '%s: apt-get purge pinconf' % what, diag=done.text[-3000:])
    left = leftovers()
    t.diag('%s: left after purge: %s' % (what, ', '.join(left) or 'nothing'))
    t.is_(left, [], '%s: purge leaves nothing of pinconf behind' % what)


def test_upgrade(t, work, old_deb, old_schema, deb):
    done = apt_install(old_deb)
    if not t.ok(done.returncode == 0, 'the schema %d package installs' % old_schema, diag=done.text[-3000:]):
        return
    t.is_(user_version(), old_schema, 'it creates a database at schema version %d' % old_schema)
    set_credentials()
    sql("INSERT INTO conference(name, pin) VALUES ('Old weekly', '1234'), ('Old board', '5678')")
    # A call row, written the way that version writes it: its own callback.cgi.
    event = pinconf.ice_phone(pinconf.new_callid('old'))
    body = pinconf.encode(event)
    environment = {'PATH': '/usr/bin:/bin', 'GATEWAY_INTERFACE': 'CGI/1.1', 'REQUEST_METHOD': 'POST',
                   'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '80',
                   'SCRIPT_NAME': pinconf.CALLBACK_PATH, 'REQUEST_URI': pinconf.CALLBACK_PATH,
                   'REMOTE_ADDR': '127.0.0.1', 'CONTENT_LENGTH': str(len(body))}
    for header, value in pinconf.signed_callback_headers(body).items():
        key = 'CONTENT_TYPE' if header == 'Content-Type' else 'HTTP_' + header.upper().replace('-', '_')
        environment[key] = value
    done = subprocess.run([CGIBIN + '/callback.cgi'], input=body, env=environment, user=WEB_USER,
                          group=WEB_USER, extra_groups=[], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.like(done.stdout.decode(errors='replace'), r'^Status: 200|runMenu',
           "the old callback.cgi answers a phone ICE", )
    before = snapshot()
    t.diag('rows before the upgrade: %s' % ', '.join('%s %d' % (n, len(r)) for n, (_, r) in before.items()))
    done = apt_install(deb)
    if not t.ok(done.returncode == 0, 'the package of this tree installs over it', diag=done.text[-3000:]):
        return
    t.is_(user_version(), latest_schema(), "postinst brought the database to the schema's version")
    t.ok(os.path.isfile('%s.v%d.bak' % (DATABASE, old_schema)), 'after a backup copy of the old one')
    after = snapshot()
    for table, (columns, rows) in sorted(before.items()):
        if table not in after:
            t.diag('table %s (%d rows) was dropped by the upgrade steps' % (table, len(rows)))
            continue
        common = [c for c in columns if c in after[table][0]]
        kept = {json.dumps([r[c] for c in common]) for r in after[table][1]}
        lost = [r for r in rows if json.dumps([r[c] for c in common]) not in kept]
        t.is_(lost, [], 'every row of %s (%d) is kept' % (table, len(rows)))
    t.ok(len(before.get('conference', ((), []))[1]) >= 2 and len(before.get('call', ((), []))[1]) >= 1,
         'the rows compared include conferences and a call')
    with open(CONFIG) as f:
        t.like(f.read(), re.escape('application_key = ' + pinconf.KEY), "the admin's credentials are kept")

    done = run(APT + ['remove', '-y', '-q', 'pinconf'], env=APT_ENV)
    t.ok(done.returncode == 0, 'apt-get remove pinconf', diag=done.text[-3000:])
    t.like(dpkg_status(), r'deinstall ok config-files', 'remove leaves the config files')
    t.ok(os.path.isfile(CONFIG) and os.path.isfile(DATABASE), 'remove keeps the config and the database')
    t.is_(len(sql('SELECT name FROM conference')), len(after['conference'][1]), 'with every conference')
    t.ok(not os.path.exists(CGIBIN), 'remove takes the programs')
    t.ok(not os.path.lexists(LIGHTTPD_ENABLED) and not os.path.lexists(APACHE_ENABLED),
         'and disables both web server snippets')
    purge(t, 'upgrade')


def main(t, work):
    source = os.path.join(work, 'new', 'src')
    copy_tree(source)
    started = time.monotonic()
    deb = build(source)
    t.ok(os.path.isfile(deb), 'dpkg-buildpackage -us -uc -b builds %s (%.0f s)'
         % (os.path.basename(deb), time.monotonic() - started))
    if shutil.which('lintian'):
        changes = deb[:-len('.deb')] + '.changes'
        report = run(['lintian', changes]).text
        complaints = [line for line in report.splitlines() if re.match(r'[EW]: ', line)]
        t.is_(complaints, [], 'lintian finds no error and no warning')
    else:
        t.skip('lintian finds no error and no warning', 'lintian not installed')

    test_fresh_install(t, work, deb)

    if not in_git():
        t.skip('upgrade from the previous schema version', 'not a git checkout')
        return
    commit, schema = older_schema_commit()
    if commit is None:
        t.skip('upgrade from the previous schema version', 'no commit with an older schema')
        return
    t.diag('older package from %s (schema %d)' % (commit[:12], schema))
    started = time.monotonic()
    old_deb = build_old(work, commit, schema)
    t.ok(os.path.isfile(old_deb), 'the package of %s builds (%.0f s)'
         % (commit[:9], time.monotonic() - started))
    test_upgrade(t, work, old_deb, schema, deb)


def restore(apache_modules_before):
    """Leave the machine as found: no pinconf, no CGI module the package enabled."""
    if run(['dpkg-query', '-W', '-f=${Status}', 'pinconf']).text.strip() not in ('', 'unknown ok not-installed'):
        run(APT + ['purge', '-y', '-q', 'pinconf'], env=APT_ENV)
    if not apache_modules_before and shutil.which('a2dismod'):
        for module in ('cgid', 'cgi'):
            if os.path.exists('/etc/apache2/mods-enabled/%s.load' % module):
                run(['a2dismod', '-q', '-f', module])


if __name__ == '__main__':
    why = why_skip()
    if why:
        print('1..0 # SKIP ' + why)
        sys.exit(0)
    tap = pinconf.Tap()
    apache_modules_before = [p for p in APACHE_CGI_LOADS if os.path.exists(p)]
    work = tempfile.mkdtemp(prefix='pinconf-deb-')
    os.chmod(work, 0o755)	# apt's _apt user reads the .deb; www-data the server logs
    try:
        main(tap, work)
    except Exception:
        import traceback
        tap.ok(False, 'the test script ran to completion', diag=traceback.format_exc())
    finally:
        restore(apache_modules_before)
        if os.environ.get('PINCONF_DEB_KEEP'):
            tap.diag('work directory kept: ' + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    tap.done()
