#!/usr/bin/env python3
# callback-faults.t: a broken database or config: the caller hears an apology, never silence.
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, ice_browser, pie, ace, dice, new_callid, SECRET  # noqa: E402

APOLOGY_SVAML = {'instructions': [{'name': 'say', 'text': pinconf.APOLOGY, 'locale': 'en-US'}],
                 'action': {'name': 'hangup'}}


def leaked(text):
    """The longest run of the secret (8 characters or more) found in text, or ''."""
    for length in range(len(SECRET), 7, -1):
        for start in range(0, len(SECRET) - length + 1):
            if SECRET[start:start + length] in text:
                return SECRET[start:start + length]
    return ''


def main(t):
    pinconf.alone()	# it times answers against a lock's busy_timeout
    scratch = pinconf.Scratch('callback-faults')
    weekly = scratch.add_conference('Weekly sync', '4321')
    server = pinconf.start_server(scratch)

    def apologises(event, what, log_patterns=(), max_seconds=None):
        mark = server.log_mark()
        r = server.post(event)
        t.is_(r.status, 200, '%s: still answered 200 (Sinch plays our SVAML)' % what)
        t.is_(r.json, APOLOGY_SVAML, '%s: the caller hears the apology, then hangup' % what)
        lines = server.log_since(mark)
        t.is_(len(lines), 1, '%s: one log line' % what)
        for pattern in log_patterns:
            t.ok(lines and pattern in lines[0], '%s: the log line contains %r' % (what, pattern),
                 diag='  log: %r' % lines)
        if max_seconds is not None:
            t.ok(r.elapsed < max_seconds, '%s: answered within %.1f s' % (what, max_seconds),
                 diag='  took %.2f s' % r.elapsed)
        return r

    # A database that is missing.
    missing = scratch.path('missing', 'pinconf.db')
    scratch.write_config(database=missing)
    apologises(ice_phone(new_callid()), 'phone ICE with the database missing', [missing, 'apologised'])
    apologises(pie(new_callid(), '4321'), 'PIE with the database missing', [missing])
    apologises(ice_browser(new_callid(), '4321', user='Ann'), 'browser ICE with the database missing', [missing])
    r = server.post(ace(new_callid()))
    t.is_(r.json, {'action': {'name': 'continue'}}, 'ACE needs no database: continue even when it is missing')
    r = server.post(pie(new_callid(), type='hangup'))
    t.is_(pinconf.action_name(r.json), 'hangup', 'PIE hangup needs no database: hangup even when it is missing')
    mark = server.log_mark()
    r = server.post(dice(new_callid()))
    t.is_(r.status, 503, 'DiCE with the database missing is answered 503')
    t.ok(isinstance(r.json, dict) and isinstance(r.json.get('error'), str),
         'DiCE with the database missing: a JSON {"error": ...} body', diag='  body: %r' % r.body)
    t.like(r.headers.get('content-type', ''), r'^application/json\b', 'DiCE with the database missing: JSON')
    lines = server.log_since(mark)
    t.ok(len(lines) == 1 and missing in lines[0], 'DiCE with the database missing: one log line naming the path',
         diag='  log: %r' % lines)
    t.ok(not os.path.exists(missing), 'the CGI never creates a missing database')

    # A database the web server cannot write.
    for mode, what in ((0o555, 'a read-only database in a read-only directory'),
                       (0o444, 'a read-only database in an unsearchable directory')):
        db = scratch.make_db(scratch.path('ro-%o' % mode, 'pinconf.db'))
        scratch.write_config(database=db)
        os.chmod(db, 0o444)
        os.chmod(os.path.dirname(db), mode)
        apologises(ice_phone(new_callid()), 'phone ICE with %s' % what, [db])
        os.chmod(os.path.dirname(db), 0o755)
        os.chmod(db, 0o644)
        t.is_(scratch.counts(db)['call'], 0, '%s: nothing was written to it' % what)

    # A corrupt database.
    db = scratch.path('corrupt', 'pinconf.db')
    os.makedirs(os.path.dirname(db))
    with open(db, 'wb') as out:
        out.write(b'This is not a database, just garbage. ' * 200)
    scratch.chown(os.path.dirname(db))
    scratch.write_config(database=db)
    apologises(ice_phone(new_callid()), 'phone ICE with a corrupt database', [db, 'not a database'])

    # An empty file where the database should be.
    db = scratch.path('empty', 'pinconf.db')
    os.makedirs(os.path.dirname(db))
    open(db, 'wb').close()
    scratch.chown(os.path.dirname(db))
    scratch.write_config(database=db)
    apologises(ice_phone(new_callid()), 'phone ICE with an empty database file', [db, 'schema.sql'])
    t.is_(os.path.getsize(db), 0, 'the empty database file is left as it was')

    # A database of an unknown schema version: newer (install the matching
    # pinconf) or older (run pinconf-upgrade).
    db = scratch.make_db(scratch.path('v99', 'pinconf.db'))
    scratch.execute('PRAGMA user_version = 99', path=db)
    scratch.write_config(database=db)
    apologises(ice_phone(new_callid()), 'phone ICE with a database of schema version 99',
               [db, 'schema version 99'])
    current = scratch.schema_version()
    if current > 1:
        db = scratch.make_db(scratch.path('old', 'pinconf.db'))
        scratch.execute('PRAGMA user_version = %d' % (current - 1), path=db)
        scratch.write_config(database=db)
        apologises(ice_phone(new_callid()), 'phone ICE with a database one schema version old',
                   [db, 'pinconf-upgrade'])
    else:
        t.skip('a database one schema version old is refused naming pinconf-upgrade',
               'schema version %d is the first: no older one exists' % current)

    # A database locked by someone else longer than busy_timeout.
    scratch.write_config(busy_timeout=500)
    joined, waiting = new_callid(), new_callid()
    server.post(ice_phone(joined))
    server.post(pie(joined, '4321'))
    server.post(ice_phone(waiting))
    stored = {row['callid']: row for row in scratch.query('SELECT * FROM call')}
    holder = pinconf.LockHolder(scratch.db, ["INSERT INTO call(callid, origin) VALUES ('lock-holder', 'pstn')"])
    locked_at = time.monotonic()
    release = holder.release_after(3)
    late = new_callid()
    r = apologises(ice_phone(late), 'phone ICE while the database is locked', [scratch.db, 'locked'],
                   max_seconds=1.5)
    t.ok(r.elapsed >= 0.4, 'phone ICE while locked: it waited about busy_timeout (500 ms) first',
         diag='  took %.2f s' % r.elapsed)
    apologises(pie(waiting, '4321'), 'PIE while the database is locked', [scratch.db], max_seconds=1.5)
    r = server.post(ace(joined))
    t.is_(r.json, {'action': {'name': 'continue'}}, 'ACE while the database is locked: continue at once')
    mark = server.log_mark()
    r = server.post(dice(joined))
    t.is_(r.status, 503, 'DiCE while the database is locked is answered 503')
    t.is_(len(server.log_since(mark)), 1, 'DiCE while the database is locked: one log line')
    t.ok(time.monotonic() - locked_at < 3, 'all of that happened while the lock was still held')
    release.join(10)
    t.ok(release.released_at is not None and holder.process.returncode == 0,
         'the sqlite3 lock holder committed and exited', diag='  stderr: %r' % getattr(release, 'stderr', None))
    after = {row['callid']: row for row in scratch.query('SELECT * FROM call')}
    t.ok(all(after.get(callid) == row for callid, row in stored.items()),
         'after the lock: every row stored before it is still there, unchanged',
         diag='  before: %r\n  after: %r' % (stored, after))
    t.ok('lock-holder' in after, "after the lock: the lock holder's own insert is there")
    t.ok(late not in after, 'after the lock: the apologised ICE left no half-written row')
    t.is_(after[joined]['ended'], None, 'after the lock: the refused DiCE changed nothing')
    r = server.post(pie(waiting, '4321'))
    t.is_((r.json or {}).get('action', {}).get('conferenceId'), weekly['sinch_id'],
          'after the lock: the waiting caller can join with the right PIN')
    r = server.post(dice(joined, duration=9))
    t.is_((r.status, (scratch.call(joined) or {}).get('duration')), (200, 9),
          'after the lock: a DiCE is recorded again')

    # The config: broken configs are a 500, and never show the secret.
    def config_fault(what, text=None, remove=False, patterns=(), mode=None, todo=None):
        if remove:
            os.unlink(scratch.config)
        else:
            scratch.write_config(text=text)
            if mode is not None:
                os.chown(scratch.config, 0, 0)
                os.chmod(scratch.config, mode)
        before = scratch.counts()
        mark = server.log_mark()
        r = server.post(ice_phone(new_callid()))
        t.is_(r.status, 500, '%s: answered 500' % what)
        t.ok(isinstance(r.json, dict) and isinstance(r.json.get('error'), str),
             '%s: a JSON {"error": ...} body' % what, diag='  body: %r' % r.body)
        t.like(r.headers.get('content-type', ''), r'^application/json\b', '%s: application/json' % what)
        t.is_(scratch.counts(), before, '%s: nothing is written to the database' % what)
        lines = server.log_since(mark)
        t.is_(len(lines), 1, '%s: one log line' % what)
        for pattern in (scratch.config,) + tuple(patterns):
            t.ok(lines and pattern in lines[0], '%s: the log line contains %r' % (what, pattern),
                 diag='  log: %r' % lines)
        text_out = '\n'.join(lines) + r.body.decode('utf-8', errors='replace')
        t.is_(leaked(text_out), '', '%s: neither log nor response shows any part of the secret' % what,
              todo=todo)
        scratch.write_config()

    base = scratch.config_text()
    config_fault('a missing config', remove=True, patterns=['No such file'])
    if os.geteuid() == 0:
        config_fault('a config the web server may not read', text=base, mode=0o600,
                     patterns=['Permission denied'])
    config_fault('a config with an unknown key', text=base + 'colour = blue\n', patterns=["'colour'"])
    config_fault('a config without application_secret', text=scratch.config_text(omit=('application_secret',)),
                 patterns=['application_secret'])
    config_fault('a config whose secret is not base64',
                 text=scratch.config_text(application_secret=SECRET + '!!!!'), patterns=['base64'])
    config_fault('a config whose secret is cut short',
                 text=scratch.config_text(application_secret=SECRET[:-3]), patterns=['base64'])
    config_fault('a config with the secret given twice',
                 text=base + 'application_secret = ' + SECRET + '\n', patterns=['twice'])
    config_fault('a config with a line without =', text=base + 'verify_signatures\n', patterns=['line'])
    config_fault('a config whose sinch_environment is not https',
                 text=scratch.config_text(sinch_environment='http://ocra.api.sinch.com'),
                 patterns=['sinch_environment'])
    config_fault('a config whose sinch_environment is not a Sinch host',
                 text=scratch.config_text(sinch_environment='https://ocra.api.evil.example'),
                 patterns=['sinch_environment'])
    config_fault('a config with a bad timezone', text=scratch.config_text(timezone='Mars/Olympus'),
                 patterns=['timezone'])
    config_fault('a config whose prompt_pin would break out of #tts[...]',
                 text=scratch.config_text(prompt_pin='PIN]; #href[http://evil.example/x'),
                 patterns=['prompt_pin'])
    config_fault('a config with a malformed locale', text=scratch.config_text(locale='en US'),
                 patterns=['locale'])
    config_fault('a config with busy_timeout out of range', text=scratch.config_text(busy_timeout=60000),
                 patterns=['busy_timeout'])
    # A typo that puts the secret into the key: the message must not quote it.
    typo = base.replace('application_secret = ', 'application_secret: ')
    config_fault('a config with "application_secret:" (colon typo)', text=typo, patterns=['not a key = value line'])
    typo = base.replace('application_secret = ', 'application_secret ')
    config_fault('a config with "application_secret SECRET" (no =)', text=typo, patterns=['not a key = value line'])

    # And with the config back, all is well again.
    r = server.post(ice_phone(new_callid()))
    t.is_(pinconf.action_name(r.json), 'runMenu', 'with the config repaired the PIN menu is back')


pinconf.run(main)
