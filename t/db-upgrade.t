#!/usr/bin/env python3
"""db-upgrade.t: pinconf-upgrade keeps every row, is safe twice, and the CGIs refuse unknown versions."""
import os, re, shutil, sqlite3, subprocess, sys, time

top = os.environ.get('PINCONF_SRCDIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sbindir = os.environ['PINCONF_SBINDIR']
cgibindir = os.environ['PINCONF_CGIBINDIR']
schema = os.path.join(os.environ['PINCONF_PKGDATADIR'], 'schema.sql')
sqlite3_cli = os.environ.get('SQLITE3') or 'sqlite3'
scratch = os.path.abspath('t/tmp/db-upgrade')
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf

tap = pinconf.Tap()

def ok(condition, name, diagnostic=None):
    return tap.ok(condition, name, diag=diagnostic)

def make_database(name):
    path = os.path.join(scratch, name)
    with open(schema) as f:
        subprocess.run([sqlite3_cli, path], stdin=f, check=True, capture_output=True)
    db = sqlite3.connect(path)
    db.executescript("""
        INSERT INTO conference(name, pin) VALUES ('Weekly sync', '4321');
        INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850551234');
        INSERT INTO call(callid, origin, caller) VALUES ('c1', 'pstn', '46700000000');
    """)
    db.commit()
    db.close()
    return path

def rows(path):
    db = sqlite3.connect(path)
    result = [db.execute('SELECT name, pin FROM conference').fetchall(),
              db.execute('SELECT number FROM dial_in').fetchall(),
              db.execute('SELECT callid, caller FROM call').fetchall()]
    db.close()
    return result

def version(path):
    db = sqlite3.connect(path)
    value = db.execute('PRAGMA user_version').fetchone()[0]
    db.close()
    return value

def upgrade(path, **env):
    environment = dict(os.environ, SQLITE3=sqlite3_cli, **env)
    return subprocess.run([os.path.join(sbindir, 'pinconf-upgrade'), path],
                          capture_output=True, text=True, env=environment)

# The first released schema is current: nothing to do, twice.
current = make_database('current.db')
before = rows(current)
first = upgrade(current)
second = upgrade(current)
ok(first.returncode == 0 and 'at schema version 1' in first.stdout,
   'a current database is left at version 1', first.stdout + first.stderr)
ok(second.returncode == 0 and rows(current) == before and version(current) == 1,
   'running it twice changes nothing', second.stdout + second.stderr)

# A synthetic next version proves the mechanism that real steps will use.
steps = os.path.join(scratch, 'steps')
os.makedirs(steps)
with open(os.path.join(steps, '2.sql'), 'w') as f:
    f.write("ALTER TABLE conference ADD COLUMN note TEXT NOT NULL DEFAULT '';\n")
older = make_database('older.db')
before = rows(older)
result = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION='2')
ok(result.returncode == 0 and version(older) == 2, 'a version 1 database is upgraded to 2',
   result.stdout + result.stderr)
ok(rows(older) == before, 'every row survives the upgrade', rows(older))
db = sqlite3.connect(older)
columns = [row[1] for row in db.execute('PRAGMA table_info(conference)')]
db.close()
ok('note' in columns, 'the step took effect', columns)
again = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION='2')
ok(again.returncode == 0 and version(older) == 2 and rows(older) == before,
   'upgrading again is harmless', again.stdout + again.stderr)

# A failing step leaves the database exactly as it was.
with open(os.path.join(steps, '3.sql'), 'w') as f:
    f.write("CREATE TABLE half_done(x);\nINSERT INTO no_such_table VALUES (1);\n")
broken = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION='3')
db = sqlite3.connect(older)
tables = [row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
db.close()
ok(broken.returncode != 0 and 'nothing changed' in broken.stderr, 'a failing step is reported',
   broken.stdout + broken.stderr)
ok(version(older) == 2 and 'half_done' not in tables, 'a failing step changes nothing', tables)

# An admin's write lock is waited for, not trampled.
locked = make_database('locked.db')
holder = subprocess.Popen([sqlite3_cli, locked], stdin=subprocess.PIPE, text=True)
holder.stdin.write("BEGIN IMMEDIATE; INSERT INTO dial_in(label, number) VALUES ('Norway', '+4721000000');\n")
holder.stdin.flush()
time.sleep(0.3)
started = time.time()
subprocess.Popen(['sh', '-c', 'sleep 1; echo "COMMIT;"'], stdout=holder.stdin)
waited = upgrade(locked, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION='2')
holder.stdin.close()
holder.wait()
ok(waited.returncode == 0 and version(locked) == 2 and time.time() - started >= 0.5,
   'an upgrade waits for an admin holding a write lock', waited.stdout + waited.stderr)
ok(('+4721000000',) in rows(locked)[1], "the admin's write is kept", rows(locked))

# What is not a current pinconf database is refused, by the command and by the CGIs.
empty = os.path.join(scratch, 'empty.db')
sqlite3.connect(empty).close()
refused = upgrade(empty)
ok(refused.returncode != 0 and 'not a pinconf database' in refused.stderr,
   'an empty file is not upgraded', refused.stderr)
newer = make_database('newer.db')
db = sqlite3.connect(newer)
db.execute('PRAGMA user_version = 99')
db.close()
refused = upgrade(newer)
ok(refused.returncode != 0 and 'newer than this pinconf' in refused.stderr,
   'a newer database is not touched', refused.stderr)

def run_cgi(program, database, method='GET', query='', body=b'', content_type='application/json'):
    config = os.path.join(scratch, 'pinconf.conf')
    with open(config, 'w') as f:
        f.write('application_key = 5b0f3a4e-9c1d-4e2f-8a7b-2c3d4e5f6a7b\n'
                'application_secret = zLq1b3hJ9kQ2Zk5tM0c3dA==\n'
                'database = %s\nverify_signatures = no\n' % database)
    environment = dict(os.environ, PINCONF_CONFIG=config, REQUEST_METHOD=method,
                       QUERY_STRING=query, REQUEST_URI='/cgi-bin/' + program,
                       REMOTE_ADDR='127.0.0.1', CONTENT_TYPE=content_type,
                       CONTENT_LENGTH=str(len(body)))
    result = subprocess.run([os.path.join(cgibindir, program)], input=body,
                            capture_output=True, env=environment)
    err = result.stderr.decode()
    ok(not re.search(r'Sanitizer|runtime error:', err), '%s reports no sanitizer error' % program, err)
    return result.stdout.decode(), err

for database, label, expected in ((newer, 'a newer schema version', 'newer than this pinconf'),
                                  (empty, 'a database without the schema', 'not a pinconf database')):
    out, err = run_cgi('getticket.cgi', database, method='POST', body=b'name=ann&pin=4321',
                       content_type='application/x-www-form-urlencoded')
    ok(out.startswith('Status: 503') and expected in err,
       'getticket.cgi answers 503 for %s and logs why' % label, out + err)
    out, err = run_cgi('join.cgi', database)
    ok(out.startswith('Status: 503') and expected in err,
       'join.cgi answers 503 for %s and logs why' % label, out + err)
    out, err = run_cgi('callback.cgi', database, method='POST',
                       body=b'{"event":"dice","callid":"c9"}')
    ok(out.startswith('Status: 503') and expected in err,
       'callback.cgi answers a DiCE with 503 for %s' % label, out + err)
    out, err = run_cgi('callback.cgi', database, method='POST',
                       body=b'{"event":"ice","callid":"c9","originationType":"PSTN","cli":"1"}')
    ok(out.startswith('Status: 200') and 'unavailable' in out and '"hangup"' in out,
       'a live call hears an apology for %s' % label, out + err)
ok(version(newer) == 99, 'the CGIs never change the schema version themselves', version(newer))

tap.done()
