"""scratch.py: Scratch, a test's t/tmp/<name>[-apache][-fastcgi]/ with a fresh database, a
pinconf.conf and queries on them; LockHolder, a sqlite3 CLI holding the write lock as an admin may."""

import collections
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time

from .environment import _running_as_root, _web_ids, server_kind, server_mode
from .signing import KEY, SECRET


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
        lines = ['# pinconf.conf written by t/pinconf/scratch.py']
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
