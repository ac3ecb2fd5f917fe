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
  Scratch        t/tmp/<name>/ under the build dir: a fresh database made from the
                 installed schema.sql, a pinconf.conf, helpers to query the database.
  start_server   a real web server (lighttpd now; the kind= argument leaves room for
                 Apache) serving the installed CGIs through the shipped configuration.
  Server.post    one HTTP request, signed as Sinch signs callbacks (section 3 of
                 sinch-api.md), returning a Response(status, headers, body, json).
  sign()         the Sinch signer, written from the documentation, not from the C code.
  Events         ice_phone(), ice_browser(), pie(), ace(), dice(), notify().
  LockHolder     a sqlite3 CLI process holding a write transaction.
"""

import atexit
import base64
import collections
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
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


def run(main):
    """Run main(tap); an exception is a failed assertion, the plan is always printed."""
    tap = Tap()
    missing = [name for name in ('PINCONF_CGIBINDIR', 'PINCONF_PKGDATADIR', 'LIGHTTPD', 'SQLITE3')
               if not os.environ.get(name)]
    if missing:
        print('1..0 # SKIP %s not set: run through make check' % ', '.join(missing))
        sys.exit(0)
    try:
        main(tap)
    except Exception:
        tap.ok(False, 'the test script ran to completion',
               diag=traceback.format_exc())
    finally:
        stop_all_servers()
    tap.done()


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


def ice_phone(callid, cli='46700000000', origination='PSTN', **fields):
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


class Scratch:
    """t/tmp/<name>/ in the build dir: database, config, server files."""

    def __init__(self, name, **config):
        self.name = name
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
        tables = ('call', 'conference', 'ticket', 'pin_guess', 'dial_in', 'setting')
        return {table: self.query('SELECT count(*) AS n FROM "%s"' % table, path=path)[0]['n']
                for table in tables}


class LockHolder:
    """A sqlite3 CLI process in BEGIN IMMEDIATE (plus optional statements) until release()."""

    def __init__(self, db, statements=()):
        self.db = db
        self.process = subprocess.Popen([os.environ['SQLITE3'], db], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.process.stdin.write(b'BEGIN IMMEDIATE;\n')
        for statement in statements:
            self.process.stdin.write(statement.encode() + b';\n')
        self.process.stdin.flush()
        self.wait_locked()

    def wait_locked(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = sqlite3.connect(self.db, timeout=0, isolation_level=None)
            try:
                probe.execute('BEGIN IMMEDIATE')
                probe.execute('ROLLBACK')
            except sqlite3.OperationalError as e:
                if 'locked' in str(e):
                    return
                raise
            finally:
                probe.close()
            if self.process.poll() is not None:
                raise RuntimeError('sqlite3 lock holder exited: %s' % self.process.stderr.read())
            time.sleep(0.02)
        raise RuntimeError('sqlite3 never took the write lock on ' + self.db)

    def release(self, commit=True):
        """End the transaction and wait for the process; returns its stderr."""
        if self.process.stdin is not None:
            if self.process.poll() is None:
                self.process.stdin.write(b'COMMIT;\n' if commit else b'ROLLBACK;\n')
            self.process.stdin.close()
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

_servers = []


def stop_all_servers():
    for server in list(_servers):
        server.stop()


atexit.register(stop_all_servers)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _conf_string(text):
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


class Server:
    """A running web server; subclasses know how to configure and start one."""

    kind = None

    def __init__(self, scratch, config=None, extra_conf=''):
        self.scratch = scratch
        self.config = config or scratch.config
        self.extra_conf = extra_conf
        self.port = free_port()
        self.dir = scratch.path('%s-%d' % (self.kind, self.port))
        os.makedirs(self.dir)
        self.cgi_log = os.path.join(self.dir, 'cgi-stderr.log')
        self.error_log = os.path.join(self.dir, 'error.log')
        self.console = os.path.join(self.dir, 'console.log')
        self.process = None

    # Life cycle.

    def start(self, timeout=10):
        self.configure()
        for path in (self.cgi_log, self.error_log):
            open(path, 'a').close()
        self.scratch.chown(self.dir)
        with open(self.console, 'ab') as console:
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                            stdout=console, stderr=subprocess.STDOUT)
        _servers.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('%s exited with %s at start:\n%s' % (
                    self.kind, self.process.returncode, self.startup_output()))
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                # Someone else may be listening there: ours must say it started.
                if self.started() and self.process.poll() is None:
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
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self in _servers:
            _servers.remove(self)

    # Requests.

    def request(self, method, path, body=None, headers=(), timeout=30):
        """One raw HTTP request; headers is a list of (name, value) sent as given."""
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            elapsed = time.monotonic() - started
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            status = response.status
        finally:
            connection.close()
        try:
            parsed = json.loads(data.decode('utf-8')) if data else None
        except ValueError:
            parsed = None
        return Response(status, response_headers, data, parsed, elapsed)

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
        send['Host'] = '127.0.0.1:%d' % self.port
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

    # The CGIs' stderr.

    def log_mark(self):
        try:
            return os.path.getsize(self.cgi_log)
        except OSError:
            return 0

    def log_since(self, mark):
        """Lines the CGIs wrote to stderr since mark (from log_mark())."""
        with open(self.cgi_log, 'rb') as f:
            f.seek(mark)
            return f.read().decode('utf-8', errors='replace').splitlines()

    def log_all(self):
        return self.log_since(0)

    def url(self, path=CALLBACK_PATH):
        return 'http://127.0.0.1:%d%s' % (self.port, path)


class LighttpdServer(Server):
    """lighttpd in the foreground, with the installed lighttpd-pinconf.conf."""

    kind = 'lighttpd'

    def configure(self):
        shipped = os.path.join(self.scratch.pkgdatadir, 'examples', 'lighttpd-pinconf.conf')
        lines = [
            '# main.conf written by t/pinconf.py',
            'server.port = %d' % self.port,
            'server.bind = "127.0.0.1"',
            'server.errorlog = %s' % _conf_string(self.error_log),
            # CGI stderr: without breakagelog lighttpd 1.4.69 relays it to the
            # errorlog late, and lines can go missing there.
            'server.breakagelog = %s' % _conf_string(self.cgi_log),
            'server.pid-file = %s' % _conf_string(os.path.join(self.dir, 'lighttpd.pid')),
        ]
        if _running_as_root():
            lines += ['server.username = "%s"' % WEB_USER, 'server.groupname = "%s"' % WEB_GROUP]
        lines += [
            'var.pinconf_cgibin = %s' % _conf_string(os.environ['PINCONF_CGIBINDIR']),
            'var.pinconf_htdocs = %s' % _conf_string(self.scratch.path('htdocs')),
            'var.pinconf_config = %s' % _conf_string(self.config),
            'include %s' % _conf_string(shipped),
            self.extra_conf,
        ]
        self.main_conf = os.path.join(self.dir, 'main.conf')
        with open(self.main_conf, 'w') as out:
            out.write('\n'.join(lines) + '\n')

    def started(self):
        try:
            with open(self.error_log, errors='replace') as f:
                return 'server started' in f.read()
        except OSError:
            return False

    def command(self):
        return [os.environ['LIGHTTPD'], '-D', '-f', self.main_conf]


_SERVER_KINDS = {'lighttpd': LighttpdServer}


def start_server(scratch, kind='lighttpd', config=None, extra_conf=''):
    """Start a web server of kind serving the installed CGIs for scratch.

    config: the pinconf.conf the CGIs read (default scratch.config).
    extra_conf: server configuration text appended after the shipped snippet.
    The server is stopped at exit, whatever happens.
    """
    if kind not in _SERVER_KINDS:
        raise ValueError('no web server kind %r (known: %s)' % (kind, ', '.join(_SERVER_KINDS)))
    for attempt in range(3):
        try:
            return _SERVER_KINDS[kind](scratch, config=config, extra_conf=extra_conf).start()
        except RuntimeError as e:
            # free_port() closed its socket before the server bound it: in a
            # parallel make check someone else may have taken it meanwhile.
            if 'Address already in use' not in str(e) or attempt == 2:
                raise


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
