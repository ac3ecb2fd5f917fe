"""pinconf.py: shared harness for pinconf's end-to-end tests (Python 3 stdlib only).

A test file does:

    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pinconf

    def main(t):
        scratch = pinconf.Scratch('callback-phone')
        server = pinconf.start_server(scratch)
        r = server.post(pinconf.ice_phone('call1'))
        t.is_(r.status, 200, 'a phone ICE is answered with 200')

    pinconf.run(main)

Pieces:
  Tap            TAP output: ok(), is_(), like(), diag(), done(); '# TODO' via todo=.
  Scratch        t/tmp/<name>/ under the build dir (t/tmp/<name>-apache/ under Apache,
                 t/tmp/<name>[-apache]-fastcgi/ in FastCGI mode):
                 a fresh database made from the installed schema.sql, a pinconf.conf,
                 helpers to query the database.
  start_server   a real web server, lighttpd or Apache (the environment variable
                 PINCONF_SERVER picks the default), serving the installed CGIs through
                 (PINCONF_MODE=fastcgi: as FastCGI programs the server starts, with the
                 shipped FastCGI snippet; cgi, the default: as CGIs)
                 the shipped configuration snippet, as pinconf(7) says to include it.
  Server.log_*   the lines the CGIs wrote to stderr, as the CGIs wrote them, whichever
                 server relayed them (Apache's error-log prefix is taken off).
  Server.post    one HTTP request, signed as Sinch signs callbacks (section 3 of
                 sinch-api.md), returning a Response(status, headers, body, json).
  sign()         the Sinch signer, written from the documentation, not from the C code.
  Events         ice_phone(), ice_browser(), pie(), ace(), dice(), notify().
  LockHolder     a sqlite3 CLI process holding a write transaction.
  run            runs main(tap); adds one last assertion that no CGI reported a
                 sanitizer error (ASan, LSan, UBSan) in any server's log.
"""

import atexit
import base64
import collections
import datetime
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

KEY = '5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b'
SECRET = 'zLq1b3hJ9kQ2Zk5tM0c3dA=='
CALLBACK_PATH = '/cgi-bin/callback.cgi'
CONTENT_TYPE = 'application/json; charset=utf-8'
WEB_USER = 'www-data'
WEB_GROUP = 'www-data'

APOLOGY = 'Sorry, the conference service is unavailable. Please try again later.'
WELCOME = ', Welcome to the conference'
INVALID = 'Invalid code'
PROMPT = 'Enter 4 digit pin'

# The documentation's vectors (sinch-api.md section 3) for the signer's self-check.
DOC_VECTOR = {
    'key': '669E367E-6BBA-48AB-AF15-266871C28135',
    'secret': 'BeIukql3pTKJ8RGL5zo0DA==',
    'method': 'POST',
    'path': '/sinch/callback/ace',
    'content_type': 'application/json',
    'timestamp': '2014-09-24T10:59:41Z',
    'body': b'{"event":"ace","callid":"822aa4b7-05b4-4d83-87c7-1f835ee0b6f6_257",'
            b'"timestamp":"2014-09-24T10:59:41Z","version":1}',
    'content_md5': 'REWF+X220L4/Gw1spXOU7g==',
    'signature': 'Tg6fMyo8mj9pYfWQ9ssbx3Tc1BNC87IEygAfLbJqZb4=',
}
ICE_VECTOR = {
    'key': KEY,
    'secret': SECRET,
    'method': 'POST',
    'path': CALLBACK_PATH,
    'content_type': CONTENT_TYPE,
    'timestamp': '2026-11-24T10:00:00.123Z',
    'body': ('{"event":"ice","callid":"4398599d1ba84a2b9c8b4e4c2f3a7e6d",'
             '"timestamp":"2026-11-24T10:00:00Z","version":1,"cli":"46700000000",'
             '"to":{"type":"did","endpoint":"+14158544909"},"domain":"pstn",'
             '"applicationKey":"' + KEY + '","originationType":"PSTN"}').encode(),
    'content_md5': '1C5wpkYHlMQ7hav6Ihc0Rg==',
    'authorization': 'Application ' + KEY + ':lX0Nq+dqr41dGIjQUZuEIz6aTV60PROEH0Olucvt3p4=',
}


# ---------------------------------------------------------------- TAP

class Tap:
    """The Test Anything Protocol, as automake's tap-driver.sh reads it."""

    def __init__(self):
        self.count = 0
        self.failed = 0
        self.todo_failed = 0
        self.todo_passed = 0

    @staticmethod
    def _escape(name):
        # A bare '#' could start a directive: escape it (TAP's '\#').
        return ' '.join(str(name).split()).replace('#', '\\#')

    def diag(self, message):
        for line in str(message).splitlines() or ['']:
            print('# ' + line)
        sys.stdout.flush()

    def ok(self, cond, name, todo=None, diag=None):
        """One assertion.  todo: a reason; the assertion is a known bug (TODO)."""
        self.count += 1
        cond = bool(cond)
        line = '%sok %d - %s' % ('' if cond else 'not ', self.count, self._escape(name))
        if todo:
            line += ' # TODO ' + self._escape(todo)
            if cond:
                self.todo_passed += 1
            else:
                self.todo_failed += 1
        elif not cond:
            self.failed += 1
        print(line)
        if not cond and diag is not None:
            self.diag(diag)
        sys.stdout.flush()
        return cond

    def skip(self, name, reason):
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, self._escape(name), self._escape(reason)))
        sys.stdout.flush()

    def is_(self, got, want, name, todo=None):
        cond = got == want
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want: %r' % (got, want))

    def isnt(self, got, unwanted, name, todo=None):
        return self.ok(got != unwanted, name, todo=todo,
                       diag='  got:  %r\n  expected anything else' % (got,))

    def like(self, got, pattern, name, todo=None):
        cond = isinstance(got, str) and re.search(pattern, got) is not None
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want match of: %r' % (got, pattern))

    def unlike(self, got, pattern, name, todo=None):
        cond = isinstance(got, str) and re.search(pattern, got) is None
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  must not match: %r' % (got, pattern))

    def between(self, got, low, high, name, todo=None):
        cond = isinstance(got, (int, float)) and low <= got <= high
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want: %r to %r' % (got, low, high))

    def done(self):
        print('1..%d' % self.count)
        if self.failed:
            self.diag('%d of %d assertions failed' % (self.failed, self.count))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def run(main, kinds=None):
    """Run main(tap); an exception is a failed assertion, the plan is always printed.

    kinds: the web servers the test needs, when not just the one PINCONF_SERVER
    picks; without one of them the test is skipped.
    After main's own assertions comes one more: no CGI reported a sanitizer
    error in the log of any server the test started.
    """
    tap = Tap()
    why = missing_prerequisite(kinds)
    if why:
        print('1..0 # SKIP ' + why)
        sys.exit(0)
    try:
        main(tap)
    except Exception:
        tap.ok(False, 'the test script ran to completion',
               diag=traceback.format_exc())
    finally:
        stop_all_servers()
    check_sanitizers(tap)
    tap.done()


def missing_prerequisite(kinds=None):
    """Why the end-to-end tests cannot run here (for a SKIP), or None.

    kinds: the web servers the test needs (default: the one PINCONF_SERVER picks).
    """
    missing = [name for name in ('PINCONF_CGIBINDIR', 'PINCONF_PKGDATADIR', 'SQLITE3')
               if not os.environ.get(name)]
    if missing:
        return '%s not set: run through make check' % ', '.join(missing)
    if server_mode() not in MODES:
        return 'PINCONF_MODE=%s is no mode this harness knows (%s)' % (server_mode(), ', '.join(MODES))
    for kind in kinds or (server_kind(),):
        if kind not in _SERVER_KINDS:
            return 'PINCONF_SERVER=%s is no web server kind this harness knows (%s)' % (
                kind, ', '.join(sorted(_SERVER_KINDS)))
        why = _SERVER_KINDS[kind].missing()
        if why:
            return why
    return None


# What the sanitizers print: ASan and LSan reports, UBSan's "file:line:col: runtime error: ...".
SANITIZER_PATTERN = re.compile(r'AddressSanitizer|LeakSanitizer|runtime error:')


def sanitizer_reports():
    """[(server, line)]: the CGI stderr lines of every server started so far that a sanitizer wrote."""
    found = []
    for server in _started_servers:
        try:
            lines = server.log_all()
        except OSError as e:
            lines = ['(cannot read the log of %s: %s)' % (server.kind, e)]
        found += [(server, line) for line in lines if SANITIZER_PATTERN.search(line)]
    return found


def check_sanitizers(t):
    """One assertion: no CGI reported an AddressSanitizer, LeakSanitizer or UBSan error."""
    found = sanitizer_reports()
    return t.ok(not found, 'no CGI reported a sanitizer error',
                diag='\n'.join('  %s %s: %s' % (server.kind, server.dir, line)
                               for server, line in found[:40]))


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _stop_on_signal)
signal.signal(signal.SIGHUP, _stop_on_signal)


# ---------------------------------------------------------------- Sinch signer

def content_md5(body):
    """Base64(MD5(body)); the empty string when there is no body."""
    if not body:
        return ''
    return base64.b64encode(hashlib.md5(body).digest()).decode('ascii')


def string_to_sign(method, content_type, timestamp, path, body):
    return '\n'.join([method, content_md5(body), content_type or '',
                      'x-timestamp:' + timestamp, path])


def signature(secret, method, content_type, timestamp, path, body):
    mac = hmac.new(base64.b64decode(secret, validate=True),
                   string_to_sign(method, content_type, timestamp, path, body).encode('utf-8'),
                   hashlib.sha256)
    return base64.b64encode(mac.digest()).decode('ascii')


def sign(method, path, body, content_type, timestamp, key=KEY, secret=SECRET, scheme='Application'):
    """The Authorization header value Sinch sends."""
    return '%s %s:%s' % (scheme, key, signature(secret, method, content_type, timestamp, path, body))


_authorization = sign	# Server.post() has a parameter called sign


def basic(key=KEY, secret=SECRET):
    return 'Basic ' + base64.b64encode(('%s:%s' % (key, secret)).encode()).decode('ascii')


def iso_now(offset=0.0):
    """Now (+offset seconds) as ISO 8601 UTC with milliseconds and Z."""
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return when.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (when.microsecond // 1000)


def signer_self_check():
    """[(description, got, want)] for the documented vectors."""
    d = DOC_VECTOR
    v = ICE_VECTOR
    return [
        ('Content-MD5 of the documentation vector', content_md5(d['body']), d['content_md5']),
        ('signature of the documentation vector',
         signature(d['secret'], d['method'], d['content_type'], d['timestamp'], d['path'], d['body']),
         d['signature']),
        ('Content-MD5 of the pinconf ICE vector', content_md5(v['body']), v['content_md5']),
        ('Authorization of the pinconf ICE vector',
         sign(v['method'], v['path'], v['body'], v['content_type'], v['timestamp'], v['key'], v['secret']),
         v['authorization']),
    ]


# ---------------------------------------------------------------- events

def new_callid(prefix='c'):
    return '%s%s' % (prefix, uuid.uuid4().hex)


def _event(name, callid, **fields):
    event = {'event': name}
    if callid is not None:
        event['callid'] = callid
    event.update({'timestamp': iso_now()[:19] + 'Z', 'version': 1, 'custom': '',
                  'applicationKey': KEY})
    event.update(fields)
    return event


def phone_number(callid):
    """The caller id ice_phone() gives a call: one number a call, so that the
    per-number guess limit does not join up unrelated calls of a test."""
    return '467' + str(int(hashlib.md5(callid.encode()).hexdigest(), 16))[-8:].zfill(8)


def ice_phone(callid, cli=None, origination='PSTN', **fields):
    if cli is None:
        cli = phone_number(callid)
    return _event('ice', callid, **dict({'cli': cli, 'to': {'type': 'did', 'endpoint': '+14158544909'},
                                         'domain': 'pstn', 'originationType': origination}, **fields))


def ice_browser(callid, pin, user=None, cli=None, origination='MXP', to_type='conference', **fields):
    event = _event('ice', callid, **dict({'to': {'type': to_type, 'endpoint': pin}, 'domain': 'mxp',
                                          'originationType': origination}, **fields))
    if user is not None:
        event['user'] = user
    if cli is not None:
        event['cli'] = cli
    return event


def pie(callid, value=None, type='sequence', menu_id='main', **fields):
    result = {'menuId': menu_id, 'type': type, 'inputMethod': 'dtmf'}
    if value is not None:
        result['value'] = value
    return _event('pie', callid, menuResult=result, **fields)


def ace(callid, **fields):
    return _event('ace', callid, **fields)


def dice(callid, reason='CALLERHANGUP', result='ANSWERED', duration=42, **fields):
    event = _event('dice', callid, reason=reason, result=result,
                   **{'from': '46700000000'}, to={'type': 'did', 'endpoint': '+14158544909'},
                   **fields)
    if duration is not None:
        event['duration'] = duration
    return event


def notify(callid=None, type='recording_finished', **fields):
    return _event('notify', callid, type=type, **fields)


def encode(event):
    """The body bytes post() sends for event (a dict, or bytes as they are)."""
    if isinstance(event, (bytes, bytearray)):
        return bytes(event)
    return json.dumps(event, separators=(',', ':')).encode('utf-8')


# SVAML shortcuts for assertions.

def action_name(svaml):
    try:
        return svaml['action']['name']
    except (TypeError, KeyError):
        return None


def instructions(svaml):
    if not isinstance(svaml, dict):
        return None
    return svaml.get('instructions', [])


def says(svaml):
    """The texts of the say instructions, in order."""
    return [i.get('text') for i in instructions(svaml) or [] if i.get('name') == 'say']


# ---------------------------------------------------------------- scratch space

def _running_as_root():
    return os.geteuid() == 0


def _web_ids():
    import grp
    import pwd
    return pwd.getpwnam(WEB_USER).pw_uid, grp.getgrnam(WEB_GROUP).gr_gid


def server_kind():
    """The web server the tests run under: $PINCONF_SERVER, lighttpd by default."""
    return os.environ.get('PINCONF_SERVER') or 'lighttpd'


MODES = ('cgi', 'fastcgi')


def server_mode():
    """How the server runs the programs: $PINCONF_MODE, cgi (a process a request) by default,
    or fastcgi (processes the server starts once, each serving many requests)."""
    return os.environ.get('PINCONF_MODE') or 'cgi'


class Scratch:
    """t/tmp/<name>/ in the build dir: database, config, server files.

    Under another server than lighttpd the directory is t/tmp/<name>-<kind>/,
    and in FastCGI mode it ends in -fastcgi, so that the four runs of a test
    can go on side by side (make -j).
    """

    # Tests not about guess limits must not trip the hour's global budget.
    SETTINGS = {'guess_budget': 100000}

    def __init__(self, name, settings=None, **config):
        self.name = name
        if server_kind() != 'lighttpd':
            name = '%s-%s' % (name, server_kind())
        if server_mode() != 'cgi':
            name = '%s-%s' % (name, server_mode())
        self.dir = os.path.join(os.getcwd(), 't', 'tmp', name)
        if os.path.lexists(self.dir):
            for root, dirs, files in os.walk(self.dir):	# undo chmods of earlier runs
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        self.pkgdatadir = os.environ['PINCONF_PKGDATADIR']
        self.schema = os.path.join(self.pkgdatadir, 'schema.sql')
        self.db = self.path('pinconf.db')
        self.config = self.path('pinconf.conf')
        self.make_db(self.db)
        for setting, value in dict(self.SETTINGS, **(settings or {})).items():
            self.execute('UPDATE setting SET value = ? WHERE name = ?', (value, setting))
        self.write_config(**config)
        os.makedirs(self.path('htdocs'), exist_ok=True)
        self.chown()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def chown(self, path=None):
        """Give path (default: the whole scratch dir) to the web server's user."""
        if not _running_as_root():
            return
        uid, gid = _web_ids()
        path = path or self.dir
        os.chown(path, uid, gid)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, gid)

    def make_db(self, path):
        """A database made as the manual says: sqlite3 DB < schema.sql."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(self.schema, 'rb') as schema:
            done = subprocess.run([os.environ['SQLITE3'], path], stdin=schema,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise RuntimeError('sqlite3 %s < schema.sql failed: %s' % (path, done.stderr.decode()))
        self.chown(os.path.dirname(path))
        return path

    def config_text(self, database=None, omit=(), raw=None, **extra):
        keys = collections.OrderedDict([
            ('application_key', KEY),
            ('application_secret', SECRET),
            ('database', database or self.db),
        ])
        for name, value in extra.items():
            keys[name] = value
        lines = ['# pinconf.conf written by t/pinconf.py']
        lines += ['%s = %s' % (name, value) for name, value in keys.items() if name not in omit]
        if raw is not None:
            lines.append(raw)
        return '\n'.join(lines) + '\n'

    def write_config(self, path=None, text=None, **keys):
        """Write (atomically) a pinconf.conf; keys are extra or replaced keys."""
        path = path or self.config
        if text is None:
            text = self.config_text(**keys)
        temporary = path + '.new'
        with open(temporary, 'w') as out:
            out.write(text)
        os.chmod(temporary, 0o640)
        self.chown(temporary)
        os.replace(temporary, path)
        return path

    # The database, seen by the test.

    def connect(self, path=None):
        return sqlite3.connect(path or self.db, timeout=10, isolation_level=None)

    def query(self, sql, params=(), path=None):
        db = self.connect(path)
        try:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, params).fetchall()]
        finally:
            db.close()

    def execute(self, sql, params=(), path=None):
        db = self.connect(path)
        try:
            cursor = db.execute(sql, params)
            return cursor.lastrowid
        finally:
            db.close()

    def call(self, callid):
        rows = self.query('SELECT * FROM call WHERE callid = ?', (callid,))
        return rows[0] if rows else None

    def schema_version(self):
        """The PRAGMA user_version the installed schema.sql sets."""
        with open(self.schema) as f:
            return int(re.search(r'PRAGMA\s+user_version\s*=\s*(\d+)', f.read()).group(1))

    def add_conference(self, name, pin, starts_on=None, ends_on=None):
        if starts_on is None:
            rowid = self.execute('INSERT INTO conference(name, pin, ends_on) VALUES (?, ?, ?)',
                                 (name, pin, ends_on))
        else:
            rowid = self.execute('INSERT INTO conference(name, pin, starts_on, ends_on)'
                                 ' VALUES (?, ?, ?, ?)', (name, pin, starts_on, ends_on))
        return self.query('SELECT * FROM conference WHERE id = ?', (rowid,))[0]

    def counts(self, path=None):
        """Rows in every table: compare before and after a refused request."""
        tables = ('call', 'conference', 'attendee', 'identity', 'pin_guess', 'known_source',
                  'dial_in', 'setting')
        return {table: self.query('SELECT count(*) AS n FROM "%s"' % table, path=path)[0]['n']
                for table in tables}


class LockHolder:
    """A sqlite3 CLI process in BEGIN IMMEDIATE (plus optional statements) until release().

    exclusive: PRAGMA locking_mode = EXCLUSIVE and BEGIN EXCLUSIVE instead, which
    keeps even WAL readers out but is refused while another connection is
    open; with required=False a refusal only leaves .held False.
    """

    def __init__(self, db, statements=(), exclusive=False, required=True, busy_ms=5000):
        self.db = db
        self.process = subprocess.Popen([os.environ['SQLITE3'], db], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # The busy timeout waits out a CGI still finishing an earlier request;
        # bail ends the CLI if it cannot lock.  Only the marker after the
        # statements says the lock is held: a probe that finds the database
        # locked may have met that CGI instead.
        begin = b'PRAGMA locking_mode = EXCLUSIVE;\nBEGIN EXCLUSIVE;\n' if exclusive else b'BEGIN IMMEDIATE;\n'
        self.process.stdin.write(b'.timeout %d\n.bail on\n' % busy_ms + begin)
        for statement in statements:
            self.process.stdin.write(statement.encode() + b';\n')
        self.process.stdin.write(b"SELECT 'lock held';\n")
        self.process.stdin.flush()
        self.held = any(line == b'lock held\n' for line in iter(self.process.stdout.readline, b''))
        if required and not self.held:
            raise RuntimeError('sqlite3 never took the write lock on %s: %s' % (db, self.release()))

    def release(self, commit=True):
        """End the transaction and wait for the process; returns its stderr."""
        if self.process.stdin is not None:
            try:
                if self.process.poll() is None:
                    self.process.stdin.write(b'COMMIT;\n' if commit else b'ROLLBACK;\n')
                self.process.stdin.close()
            except BrokenPipeError:
                pass		# the CLI bailed out without its lock
            self.process.stdin = None
        out, err = self.process.communicate(timeout=10)
        return err.decode(errors='replace')

    def release_after(self, seconds, commit=True):
        """Release from a timer thread; returns the thread (its .released is the time)."""
        def later():
            time.sleep(seconds)
            thread.released_at = time.monotonic()
            thread.stderr = self.release(commit)
        thread = threading.Thread(target=later, daemon=True)
        thread.released_at = None
        thread.start()
        return thread


# ---------------------------------------------------------------- web servers

Response = collections.namedtuple('Response', 'status headers body json elapsed')

_servers = []		# running now
_started_servers = []	# every server this process started: their logs are checked at the end


def stop_all_servers():
    for server in list(_servers):
        server.stop()


atexit.register(stop_all_servers)


def free_port(host='127.0.0.1'):
    with socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback_usable():
    """Whether a server can listen on [::1] here (containers may lack IPv6)."""
    try:
        free_port('::1')
        return True
    except OSError:
        return False


def _conf_string(text):
    """A lighttpd string literal."""
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


def _apache_word(text):
    """An Apache directive argument: bare as pinconf(7) writes paths, quoted when it must be."""
    text = str(text)
    if text and re.fullmatch(r'[A-Za-z0-9_./:+=,@%-]+', text):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


# The sanitizer runtimes' settings: the servers give CGIs a clean environment,
# so these are passed on through the server's configuration (the test's only,
# never the shipped snippets) when the test's environment sets them.
SANITIZER_VARIABLES = ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS')


def _sanitizer_environment():
    return [(name, os.environ[name]) for name in SANITIZER_VARIABLES if os.environ.get(name)]


_sanitized = None


def cgis_are_sanitized():
    """Whether the installed CGIs are built with AddressSanitizer (--enable-asan)."""
    global _sanitized
    if _sanitized is None:
        try:
            with open(os.path.join(os.environ['PINCONF_CGIBINDIR'], 'callback.cgi'), 'rb') as f:
                _sanitized = b'__asan_init' in f.read()
        except OSError:
            _sanitized = False
    return _sanitized


def _die_with_parent():
    """A preexec_fn that has the kernel send the server SIGTERM when this process dies.

    atexit and the signal handlers stop the servers on every ordinary exit;
    this covers SIGKILL too.  Servers are started from the main thread, whose
    end is the process's end.
    """
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec():
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    return preexec


class Server:
    """A running web server; subclasses know how to configure and start one."""

    kind = None

    @classmethod
    def missing(cls):
        """Why this kind of server cannot run here, or None."""
        return None

    def __init__(self, scratch, config=None, extra_conf='', host='127.0.0.1'):
        self.scratch = scratch
        self.config = config or scratch.config
        self.extra_conf = extra_conf
        self.host = host		# the loopback address listened on: 127.0.0.1 or ::1
        self.port = free_port(host)
        self.dir = scratch.path('%s-%d' % (self.kind, self.port))
        os.makedirs(self.dir)
        self.cgi_log = os.path.join(self.dir, 'cgi-stderr.log')
        self.error_log = os.path.join(self.dir, 'error.log')
        self.console = os.path.join(self.dir, 'console.log')
        self.process = None
        self.mode = server_mode()
        self.socket_dir = None

    # Life cycle.

    def start(self, timeout=10):
        self.configure()
        for path in (self.cgi_log, self.error_log):
            open(path, 'a').close()
        self.scratch.chown(self.dir)
        # A session of its own: Apache's prefork MPM signals its whole process
        # group at shutdown, which would otherwise be this test and make.
        with open(self.console, 'ab') as console:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=console, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=_die_with_parent())
        _servers.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('%s exited with %s at start:\n%s' % (
                    self.kind, self.process.returncode, self.startup_output()))
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                # Someone else may be listening there: ours must say it started.
                if self.started() and self.process.poll() is None:
                    _started_servers.append(self)
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError('%s did not listen on port %d:\n%s' % (
            self.kind, self.port, self.startup_output()))

    def started(self):
        """Whether the server reports that it is up (its port answering is not enough)."""
        return True

    def startup_output(self):
        text = ''
        for path in (self.console, self.error_log):
            try:
                with open(path, errors='replace') as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.sync()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self in _servers:
            _servers.remove(self)

    # Requests.

    def request_headers(self):
        """([(name, value)] to add to a request, tag) for servers that track requests."""
        return [], None

    def answered(self, tag):
        """The request tagged tag has had its whole response."""

    def short_dir(self, path, prefix):
        """path, or a short directory of our own when a socket under path would not fit sun_path."""
        if len(path) + 40 <= 100:
            os.makedirs(path, exist_ok=True)
            return path
        # A deep build dir (make distcheck): the server's user must be able to enter it.
        if self.socket_dir is None:
            self.socket_dir = tempfile.mkdtemp(prefix=prefix)
            os.chmod(self.socket_dir, 0o755)
            self.scratch.chown(self.socket_dir)
        return self.socket_dir

    def fastcgi_pids(self, program='callback.cgi'):
        """The pids of the running FastCGI processes of program that this server started."""
        pids = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % entry, 'rb') as f:
                    argv = f.read().split(b'\0')
                with open('/proc/%s/stat' % entry) as f:
                    state = f.read().rsplit(')', 1)[1].split()[0]
            except OSError:
                continue
            if state != 'Z' and argv and os.path.basename(argv[0].decode(errors='replace')) == program \
                    and self._started_by_me(int(entry)):
                pids.append(int(entry))
        return sorted(pids)

    def _started_by_me(self, pid):
        """Whether pid descends from this server's process."""
        while pid > 1:
            if self.process is not None and pid == self.process.pid:
                return True
            try:
                with open('/proc/%d/stat' % pid) as f:
                    pid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                return False
        return False

    def request(self, method, path, body=None, headers=(), timeout=30):
        """One raw HTTP request; headers is a list of (name, value) sent as given."""
        extra, tag = self.request_headers()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in list(headers) + extra:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            elapsed = time.monotonic() - started
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            status = response.status
        finally:
            connection.close()
        self.answered(tag)
        try:
            parsed = json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            parsed = None
        return Response(status, response_headers, data, parsed, elapsed)

    def form(self, path, fields, headers=()):
        """POST fields as an application/x-www-form-urlencoded body, as the join page does."""
        body = urllib.parse.urlencode(fields).encode()
        return self.request('POST', path, body, [
            ('Host', '127.0.0.1:%d' % self.port),
            ('Content-Type', 'application/x-www-form-urlencoded'),
            ('Content-Length', str(len(body)))] + list(headers))

    def join(self, name, pin):
        """A browser's first getticket request: the user id it issues, or None."""
        r = self.form('/cgi-bin/getticket.cgi', {'name': name, 'pin': pin})
        return (r.json or {}).get('userId') if r.status == 200 else None

    def post(self, event, sign=True, headers=None, method='POST', path=CALLBACK_PATH,
             content_type=CONTENT_TYPE, timestamp=None, sign_path=None, sign_content_type=None,
             sign_body=None, sign_method=None, key=KEY, secret=SECRET, scheme='Application',
             timeout=30):
        """Send event (a dict, or raw bytes) as Sinch would.

        sign=False leaves Authorization and X-Timestamp out.  sign_path,
        sign_content_type and sign_body sign something other than what is sent.
        headers: {name: value} overrides after signing; a value of None drops the header.
        """
        body = encode(event)
        send = collections.OrderedDict()
        send['Host'] = self.authority()
        if content_type is not None:
            send['Content-Type'] = content_type
        if body is not None and (body or method in ('POST', 'PUT')):
            send['Content-Length'] = str(len(body))
        if sign:
            timestamp = timestamp or iso_now()
            send['X-Timestamp'] = timestamp
            send['Authorization'] = _authorization(
                sign_method or method, sign_path or path, body if sign_body is None else sign_body,
                content_type if sign_content_type is None else sign_content_type,
                timestamp, key, secret, scheme)
        for name, value in (headers or {}).items():
            for existing in [k for k in send if k.lower() == name.lower()]:
                del send[existing]
            if value is not None:
                send[name] = value
        return self.request(method, path, body if body else None, list(send.items()), timeout)

    # The CGIs' stderr: the lines as the CGIs wrote them, whichever server relayed them.

    def sync(self):
        """Wait until every answered request's CGI stderr is in the log (where a server can tell)."""

    def cgi_lines(self, text):
        """The CGIs' own lines in text read from self.cgi_log."""
        return text.splitlines()

    def log_mark(self):
        self.sync()
        try:
            return os.path.getsize(self.cgi_log)
        except OSError:
            return 0

    def log_since(self, mark):
        """Lines the CGIs wrote to stderr since mark (from log_mark())."""
        self.sync()
        with open(self.cgi_log, 'rb') as f:
            f.seek(mark)
            return self.cgi_lines(f.read().decode('utf-8', errors='replace'))

    def log_all(self):
        return self.log_since(0)

    def url(self, path=CALLBACK_PATH):
        return 'http://%s%s' % (self.authority(), path)

    def authority(self):
        """host:port as a Host header or URL has it ([::1]:port for IPv6)."""
        return ('[%s]:%d' if ':' in self.host else '%s:%d') % (self.host, self.port)


# Where Debian's lighttpd.conf gets its MIME types (contrib/serve-demo does the same).
LIGHTTPD_MIME_SCRIPT = '/usr/share/lighttpd/create-mime.conf.pl'
# Without that script: what the web client needs, or browsers refuse pinconf.css.
LIGHTTPD_MIME_TYPES = '''mimetype.assign = (
	".html" => "text/html; charset=utf-8",
	".css" => "text/css; charset=utf-8",
	".js" => "text/javascript; charset=utf-8",
)'''


class LighttpdServer(Server):
    """lighttpd in the foreground, with the installed lighttpd-pinconf.conf."""

    kind = 'lighttpd'

    @classmethod
    def missing(cls):
        if not os.environ.get('LIGHTTPD'):
            return 'lighttpd not found (LIGHTTPD is empty: configure did not find it)'
        return None

    def configure(self):
        snippet = 'lighttpd-pinconf-fastcgi.conf' if self.mode == 'fastcgi' else 'lighttpd-pinconf.conf'
        shipped = os.path.join(self.scratch.pkgdatadir, 'examples', snippet)
        lines = [
            '# main.conf written by t/pinconf.py',
            'server.port = %d' % self.port,
            'server.bind = "%s"' % (('[%s]' if ':' in self.host else '%s') % self.host),
            'server.errorlog = %s' % _conf_string(self.error_log),
            # CGI stderr: without breakagelog lighttpd 1.4.69 relays it to the
            # errorlog late, and lines can go missing there.
            'server.breakagelog = %s' % _conf_string(self.cgi_log),
            'server.pid-file = %s' % _conf_string(os.path.join(self.dir, 'lighttpd.pid')),
        ]
        if _running_as_root():
            lines += ['server.username = "%s"' % WEB_USER, 'server.groupname = "%s"' % WEB_GROUP]
        if os.path.isfile(LIGHTTPD_MIME_SCRIPT):
            lines.append('include_shell %s' % _conf_string(LIGHTTPD_MIME_SCRIPT))
        else:
            lines.append(LIGHTTPD_MIME_TYPES)
        environment = _sanitizer_environment()
        if environment:
            # set-environment, not add-environment: the snippet's add-environment
            # in its $HTTP["url"] block would replace a global one.
            lines += ['server.modules += ( "mod_setenv" )',
                      'setenv.set-environment = ( %s )' % ', '.join(
                          '%s => %s' % (_conf_string(name), _conf_string(value))
                          for name, value in environment)]
        lines += [
            'var.pinconf_cgibin = %s' % _conf_string(os.environ['PINCONF_CGIBINDIR']),
            'var.pinconf_htdocs = %s' % _conf_string(self.scratch.path('htdocs')),
            'var.pinconf_config = %s' % _conf_string(self.config),
        ]
        if self.mode == 'fastcgi':
            sockets = self.short_dir(os.path.join(self.dir, 'sockets'), 'pinconf-fcgi-')
            self.scratch.chown(sockets)
            lines.append('var.pinconf_sockets = %s' % _conf_string(sockets))
        lines.append('include %s' % _conf_string(shipped))
        if cgis_are_sanitized() and self.mode == 'cgi':
            lines += self.sigterm_proof_cgis()
        lines.append(self.extra_conf)
        self.main_conf = os.path.join(self.dir, 'main.conf')
        with open(self.main_conf, 'w') as out:
            out.write('\n'.join(lines) + '\n')

    def sigterm_proof_cgis(self):
        """Config lines that run each CGI with SIGTERM ignored (ASan builds only).

        lighttpd sends a CGI SIGTERM as soon as its response is complete
        (mod_cgi's cgi_connection_close), and the CGIs flush their response
        before exit(), where LeakSanitizer's check runs: the check was cut
        short every time (0 of 19 finished in callback-ace-dice.t), and a
        leak went unreported.  An ignored signal stays ignored
        across exec, so a two-line wrapper, named as the handler for .cgi
        after the shipped snippet's cgi.assign, lets every check finish.
        """
        wrapper = os.path.join(self.dir, 'ignore-sigterm')
        with open(wrapper, 'w') as out:
            out.write('#!/bin/sh\n# written by t/pinconf.py: see LighttpdServer.sigterm_proof_cgis\n'
                      "trap '' TERM\nexec \"$@\"\n")
        os.chmod(wrapper, 0o755)
        return ['$HTTP["url"] =~ "^/cgi-bin/.*\\.cgi$" {',
                '\tcgi.assign = ( ".cgi" => %s )' % _conf_string(wrapper),
                '}']

    def started(self):
        try:
            with open(self.error_log, errors='replace') as f:
                return 'server started' in f.read()
        except OSError:
            return False

    def command(self):
        return [os.environ['LIGHTTPD'], '-D', '-f', self.main_conf]

    def stop(self):
        super().stop()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def _which(name):
    return shutil.which(name, path=os.environ.get('PATH', '') + ':/usr/sbin:/sbin:/usr/local/sbin')


# An Apache error-log line (ErrorLogFormat's default): "[Tue Nov 24 10:00:00.123456 2026] [module:level] ...".
_APACHE_LOG_LINE = re.compile(r'^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d '
                              r'\d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[')
# A CGI's stderr line relayed by mod_cgi (or mod_cgid built with fd passing):
# "AH01215: stderr from /path/x.cgi: LINE" (2.4.47 on), "AH01215: LINE: /path/x.cgi" before.
_APACHE_CGI_LINE = re.compile(r'^\[[^\]]*\] \[[^\]]*\] \[pid [^\]]*\](?: \[client [^\]]*\])? AH01215: (.*)$')
_APACHE_STDERR_FROM = re.compile(r'^stderr from /[^:]*: (.*)$')
_APACHE_SCRIPT_SUFFIX = re.compile(r'^(.*): /[^:]*$')
_APACHE_REFERER = re.compile(r', referer: \S*$')


def apache_cgi_lines(text):
    """The CGIs' own lines in Apache error-log text, whatever way Apache relayed them.

    Debian's mod_cgid has no fd passing: the CGIs write straight into the
    ErrorLog, lines as they are.  mod_cgi (and mod_cgid with fd passing)
    logs each line itself, under its prefix and AH01215.  Apache's own lines
    (start, stop, "End of script output before headers") are left out.
    """
    lines = []
    for line in text.splitlines():
        if not _APACHE_LOG_LINE.match(line):
            lines.append(line)
            continue
        relayed = _APACHE_CGI_LINE.match(line)
        if not relayed:
            continue
        message = _APACHE_REFERER.sub('', relayed.group(1))
        match = _APACHE_STDERR_FROM.match(message) or _APACHE_SCRIPT_SUFFIX.match(message)
        lines.append(match.group(1) if match else message)
    return lines


class ApacheServer(Server):
    """Apache 2.4 in the foreground, with the installed apache-pinconf.conf.

    The main config is the least a distribution's apache2.conf provides, then
    the three Defines and the Include exactly as pinconf(7) shows them.
    """

    kind = 'apache'
    # mod_cgid with the event MPM, as Debian enables them; PINCONF_APACHE_CGI=cgi
    # takes mod_cgi with prefork instead (it relays CGI stderr under AH01215).
    # unixd and log_config are loaded only where they are not compiled in.
    MODULES = ('unixd', 'log_config', 'authz_core', 'alias', 'env', 'mime', 'dir')
    CGI_MODULES = {'cgid': ('mpm_event', 'cgid'), 'cgi': ('mpm_prefork', 'cgi')}
    FASTCGI_MODULES = ('mpm_event', 'fcgid')
    MODULE_DIRS = ('/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules',
                   '/usr/libexec/apache2', '/usr/local/apache2/modules')
    # Every request the harness sends carries this header; the access log
    # records it after the handler (and so the CGI, its stderr included) is done.
    TAG_HEADER = 'X-Pinconf-Test-Request'
    _tags = itertools.count(1)
    _builtin = None

    @staticmethod
    def binary():
        return os.environ.get('APACHE2') or _which('apache2') or _which('httpd')

    @classmethod
    def module_dir(cls):
        candidates = [os.environ['APACHE_MODULES']] if os.environ.get('APACHE_MODULES') else cls.MODULE_DIRS
        for directory in candidates:
            if os.path.isfile(os.path.join(directory, 'mod_cgid.so')):
                return directory
        return None

    @classmethod
    def builtin_modules(cls):
        """Modules compiled into the binary (apache2 -l): mod_unixd.c -> unixd."""
        if cls._builtin is None:
            done = subprocess.run([cls.binary(), '-l'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
            cls._builtin = set(re.findall(r'^\s*mod_(\w+)\.c\s*$', done.stdout.decode(errors='replace'), re.M))
        return cls._builtin

    @staticmethod
    def cgi_module():
        return os.environ.get('PINCONF_APACHE_CGI') or 'cgid'

    @classmethod
    def missing(cls):
        if not cls.binary():
            return 'apache2 not found (apt-get install apache2, or set APACHE2)'
        if cls.cgi_module() not in cls.CGI_MODULES:
            return 'PINCONF_APACHE_CGI=%s: only cgid or cgi' % cls.cgi_module()
        if not cls.module_dir():
            return 'no Apache module directory with mod_cgid.so (set APACHE_MODULES)'
        if server_mode() == 'fastcgi' and not os.path.isfile(os.path.join(cls.module_dir(), 'mod_fcgid.so')):
            return 'mod_fcgid.so not found (apt-get install libapache2-mod-fcgid)'
        return None

    def __init__(self, scratch, config=None, extra_conf='', host='127.0.0.1'):
        super().__init__(scratch, config=config, extra_conf=extra_conf, host=host)
        self.cgi_log = self.error_log		# the CGIs' stderr goes to the ErrorLog
        self.access_log = os.path.join(self.dir, 'access.log')
        self.pid_file = os.path.join(self.dir, 'httpd.pid')
        self.script_sock = os.path.join(self.dir, 'cgid.sock')
        if len(self.script_sock) + 8 > 100:	# mod_cgid appends .PID; sun_path holds 107
            # A deep build dir (make distcheck): a short one of our own, which
            # the workers (www-data) must be able to enter.
            self.socket_dir = tempfile.mkdtemp(prefix='pinconf-cgid-')
            os.chmod(self.socket_dir, 0o755)
            scratch.chown(self.socket_dir)
            self.script_sock = os.path.join(self.socket_dir, 'cgid.sock')
        self._lock = threading.Lock()
        self._answered = set()
        self._logged = set()
        self._access_offset = 0

    def site_conf(self):
        """The part of the main config that serves pinconf: the shipped snippet, as pinconf(7) says."""
        snippet = 'apache-pinconf-fcgid.conf' if self.mode == 'fastcgi' else 'apache-pinconf.conf'
        shipped = os.path.join(self.scratch.pkgdatadir, 'examples', snippet)
        return [
            'Define PINCONF_CGIBIN %s' % _apache_word(os.environ['PINCONF_CGIBINDIR']),
            'Define PINCONF_HTDOCS %s' % _apache_word(self.scratch.path('htdocs')),
            'Define PINCONF_CONFIG %s' % _apache_word(self.config),
            'Include %s' % _apache_word(shipped),
        ]

    def configure(self):
        modules = self.module_dir()
        builtin = self.builtin_modules()
        lines = [
            '# main.conf written by t/pinconf.py',
            'ServerRoot %s' % _apache_word(self.dir),
            'DefaultRuntimeDir %s' % _apache_word(self.dir),
            'PidFile %s' % _apache_word(self.pid_file),
            'Listen %s' % self.authority(),
            'ServerName 127.0.0.1',
        ]
        wanted = self.FASTCGI_MODULES if self.mode == 'fastcgi' else self.CGI_MODULES[self.cgi_module()]
        for module in wanted + self.MODULES:
            if module not in builtin:
                lines.append('LoadModule %s_module %s' % (module, _apache_word(
                    os.path.join(modules, 'mod_%s.so' % module))))
        if _running_as_root():
            lines += ['User %s' % WEB_USER, 'Group %s' % WEB_GROUP]
        lines += [
            'ErrorLog %s' % _apache_word(self.error_log),
            'LogLevel warn',
            'LogFormat "%%{%s}i %%>s \\"%%r\\" %%D" pinconf_test' % self.TAG_HEADER,
            'CustomLog %s pinconf_test' % _apache_word(self.access_log),
        ]
        if self.mode == 'fastcgi':
            # mod_fcgid's sockets and shared process table, ours and not /var/lib/apache2/fcgid.
            sockets = self.short_dir(os.path.join(self.dir, 'fcgid'), 'pinconf-fcgid-')
            lines += ['FcgidIPCDir %s' % _apache_word(sockets),
                      'FcgidProcessTableFile %s' % _apache_word(os.path.join(self.dir, 'fcgid-shm'))]
        elif self.cgi_module() == 'cgid':
            lines.append('ScriptSock %s' % _apache_word(self.script_sock))
        if os.path.isfile('/etc/mime.types'):
            lines.append('TypesConfig /etc/mime.types')
        else:
            lines += ['TypesConfig /dev/null', 'AddType text/html .html', 'AddType text/css .css',
                      'AddType text/javascript .js']
        lines += ['SetEnv %s %s' % (name, _apache_word(value)) for name, value in _sanitizer_environment()]
        if self.mode == 'fastcgi':
            # mod_fcgid hands SetEnv to each request; the runtimes read their process's environment.
            lines += ['FcgidInitialEnv %s %s' % (name, _apache_word(value))
                      for name, value in _sanitizer_environment()]
        lines += self.site_conf()
        lines.append(self.extra_conf)
        self.main_conf = os.path.join(self.dir, 'main.conf')
        with open(self.main_conf, 'w') as out:
            out.write('\n'.join(lines) + '\n')
        open(self.access_log, 'a').close()

    def started(self):
        """The ErrorLog says "resuming normal operations", the PidFile names our
        process, and mod_cgid's daemon is ready for the workers.

        The daemon binds its socket as root, mode 0700, and hands it to User
        only after listen(): a worker that connects before that gets EACCES,
        which mod_cgid does not retry, and the request a 503.
        """
        try:
            with open(self.error_log, errors='replace') as f:
                if 'resuming normal operations' not in f.read():
                    return False
            with open(self.pid_file) as f:
                if int(f.read().strip() or 0) != self.process.pid:
                    return False
            if self.mode == 'cgi' and self.cgi_module() == 'cgid':
                # mod_cgid names its socket ScriptSock.PID, the PID of the main process.
                owner = os.stat('%s.%d' % (self.script_sock, self.process.pid)).st_uid
                if _running_as_root() and owner != _web_ids()[0]:
                    return False
            return True
        except (OSError, ValueError):
            return False

    def command(self):
        return [self.binary(), '-f', self.main_conf, '-DFOREGROUND']

    def stop(self):
        super().stop()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    # Requests are tagged, so that log_since() can wait for their CGIs' stderr.

    def request_headers(self):
        tag = str(next(self._tags))
        return [(self.TAG_HEADER, tag)], tag

    def answered(self, tag):
        with self._lock:
            self._answered.add(tag)

    def _read_access_log(self):
        try:
            with open(self.access_log, 'rb') as f:
                f.seek(self._access_offset)
                data = f.read()
        except OSError:
            return
        end = data.rfind(b'\n') + 1		# whole lines only
        self._access_offset += end
        tags = {line.split(b' ', 1)[0].decode('ascii', errors='replace') for line in data[:end].splitlines()}
        with self._lock:
            self._logged |= tags

    def sync(self, timeout=3.0):
        """Wait until the access log has every answered request.

        Apache writes the access log line after the handler is done, and the
        handler is done once the CGI has closed its output, that is, exited:
        so then all the CGI's stderr is in the ErrorLog.  A request Apache
        never logs (none known) costs one timeout, once.
        """
        if self.process is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            self._read_access_log()
            with self._lock:
                matched = self._answered & self._logged
                self._answered -= matched
                self._logged -= matched
                waiting = set(self._answered)
            if not waiting:
                return True
            if time.monotonic() > deadline or self.process.poll() is not None:
                with self._lock:
                    self._answered -= waiting
                return False
            time.sleep(0.005)

    def cgi_lines(self, text):
        return apache_cgi_lines(text)


_SERVER_KINDS = {'lighttpd': LighttpdServer, 'apache': ApacheServer}


def start_server(scratch, kind=None, config=None, extra_conf='', host='127.0.0.1'):
    """Start a web server of kind serving the installed CGIs for scratch.

    kind: 'lighttpd', 'apache' or a Server subclass; default $PINCONF_SERVER
    (lighttpd when that is unset).
    config: the pinconf.conf the CGIs read (default scratch.config).
    extra_conf: server configuration text appended after the shipped snippet;
    a dict {kind: text} gives each kind its own.
    host: the loopback address to listen on, '127.0.0.1' or '::1'.
    The server is stopped at exit, whatever happens.
    """
    if kind is None:
        kind = server_kind()
    if isinstance(kind, type) and issubclass(kind, Server):
        cls = kind
    elif kind in _SERVER_KINDS:
        cls = _SERVER_KINDS[kind]
    else:
        raise ValueError('no web server kind %r (known: %s)' % (kind, ', '.join(_SERVER_KINDS)))
    if isinstance(extra_conf, dict):
        extra_conf = extra_conf.get(cls.kind, '')
    why = cls.missing()
    if why:
        raise RuntimeError('cannot start %s: %s' % (cls.kind, why))
    for attempt in range(3):
        try:
            return cls(scratch, config=config, extra_conf=extra_conf, host=host).start()
        except RuntimeError as e:
            # free_port() closed its socket before the server bound it: in a
            # parallel make check someone else may have taken it meanwhile.
            if 'Address already in use' not in str(e) or attempt == 2:
                raise


# ---------------------------------------------------------------- the browser's programs

GETTICKET_PATH = '/cgi-bin/getticket.cgi'
ROSTER_PATH = '/cgi-bin/roster.cgi'
FORM_TYPE = 'application/x-www-form-urlencoded'


def post_form(server, path, fields, headers=None, content_type=FORM_TYPE, method='POST'):
    """A form POST as the join page sends it: fields is a dict or [(name, value)]
    (None values left out), or bytes sent as they are.  headers: {name: value}
    added or replacing (None drops one); no Origin or Sec-Fetch-Site unless given."""
    import urllib.parse
    if isinstance(fields, (bytes, bytearray)):
        body = bytes(fields)
    else:
        items = fields.items() if isinstance(fields, dict) else fields
        body = urllib.parse.urlencode([(k, v) for k, v in items if v is not None]).encode('utf-8')
    send = collections.OrderedDict([('Host', server.authority())])
    if content_type is not None:
        send['Content-Type'] = content_type
    send['Content-Length'] = str(len(body))
    for name, value in (headers or {}).items():
        for existing in [k for k in send if k.lower() == name.lower()]:
            del send[existing]
        if value is not None:
            send[name] = value
    return server.request(method, path, body, list(send.items()))


def getticket(server, name, pin, user_id=None, headers=None):
    """POST name, pin (and userId for a renewal) to getticket.cgi."""
    return post_form(server, GETTICKET_PATH, [('name', name), ('pin', pin), ('userId', user_id)],
                     headers=headers)


def roster(server, user_id, headers=None):
    return post_form(server, ROSTER_PATH, [('userId', user_id)], headers=headers)


def issue_identity(server, name, pin, headers=None):
    """A user id getticket issued for pin (fails loudly if it refuses)."""
    r = getticket(server, name, pin, headers=headers)
    if r.status != 200 or not isinstance(r.json, dict) or 'userId' not in r.json:
        raise RuntimeError('getticket refused %s/%s: %s %r' % (name, pin, r.status, r.body[:200]))
    return r.json['userId']


# ---------------------------------------------------------------- common checks

def check_refusal(t, server, scratch, response, mark, before, what, statuses, todo=None):
    """The shared shape of every refusal: status, JSON error, no db write, one log line."""
    statuses = statuses if isinstance(statuses, (tuple, list)) else (statuses,)
    t.ok(response.status in statuses, '%s is refused with %s' % (
        what, ' or '.join(str(s) for s in statuses)), todo=todo,
        diag='  got status %r, body %r' % (response.status, response.body[:300]))
    t.like(response.headers.get('content-type', ''), r'^application/json\b',
           '%s: the refusal is application/json' % what)
    body = response.json
    t.ok(isinstance(body, dict) and isinstance(body.get('error'), str) and body['error'] != '',
         '%s: the refusal body is {"error": "..."}' % what, todo=todo, diag='  got: %r' % response.body[:300])
    t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what, todo=todo)
    lines = server.log_since(mark)
    t.is_(len(lines), 1, '%s: exactly one log line is written' % what, todo=todo)
    return lines


# ---------------------------------------------------------------- the CGI run directly

def run_cgi(program, config, method='GET', query='', body=None, headers=None, environment=None,
            path=None, timeout=30):
    """Run an installed CGI as RFC 3875 says a server does, without a server.

    headers: {'X-Timestamp': ...} become HTTP_X_TIMESTAMP and so on;
    environment: more variables (LD_PRELOAD, PINCONF_FAULT, ...).
    Returns (status, {header: value}, body, stderr lines).
    """
    path = path or '/cgi-bin/' + program
    env = {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'GATEWAY_INTERFACE': 'CGI/1.1', 'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '80', 'REQUEST_METHOD': method, 'QUERY_STRING': query,
        'SCRIPT_NAME': path, 'REQUEST_URI': path + ('?' + query if query else ''),
        'REMOTE_ADDR': '127.0.0.1', 'PINCONF_CONFIG': config,
    }
    env.update(_sanitizer_environment())
    for name, value in (headers or {}).items():
        if name.lower() == 'content-type':
            env['CONTENT_TYPE'] = value
        else:
            env['HTTP_' + name.upper().replace('-', '_')] = value
    if body is not None:
        env['CONTENT_LENGTH'] = str(len(body))
    env.update(environment or {})
    done = subprocess.run([os.path.join(os.environ['PINCONF_CGIBINDIR'], program)], env=env,
                          input=body or b'', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)
    head, _, data = done.stdout.partition(b'\r\n\r\n')
    response_headers = {}
    for line in head.decode('latin-1').split('\r\n'):
        name, _, value = line.partition(':')
        response_headers[name.strip().lower()] = value.strip()
    match = re.match(r'(\d{3})\b', response_headers.get('status', ''))
    return (int(match.group(1)) if match else None, response_headers, data,
            done.stderr.decode('utf-8', errors='replace').splitlines())


def signed_callback_headers(body, path=CALLBACK_PATH, timestamp=None):
    """The headers Sinch sends with body, for run_cgi()."""
    timestamp = timestamp or iso_now()
    return {'Content-Type': CONTENT_TYPE, 'X-Timestamp': timestamp,
            'Authorization': sign('POST', path, body, CONTENT_TYPE, timestamp)}
