#!/usr/bin/env python3
"""db-upgrade.t: pinconf-upgrade keeps every row, is safe twice, and the CGIs refuse unknown versions.

A database made with schema version 1 (t/schema-v1.sql, as released) is
upgraded by the installed pinconf-upgrade and its steps: every row is kept,
the result is the schema that schema.sql creates today, its new rules work,
and the CGIs serve it."""
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
with open(schema) as f:
    LATEST = int(re.search(r'PRAGMA\s+user_version\s*=\s*(\d+)', f.read()).group(1))
NEXT, AFTER = str(LATEST + 1), str(LATEST + 2)

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
    # The steps as installed (pinconf-upgrade's own default is the final
    # pkgdatadir, which a DESTDIR test install does not fill).
    environment = dict(os.environ, SQLITE3=sqlite3_cli,
                       PINCONF_UPGRADE_DIR=os.path.join(os.environ['PINCONF_PKGDATADIR'], 'upgrade'))
    environment.update(env)
    return subprocess.run([os.path.join(sbindir, 'pinconf-upgrade'), path],
                          capture_output=True, text=True, env=environment)

# A current database: nothing to do, twice.
current = make_database('current.db')
before = rows(current)
first = upgrade(current)
second = upgrade(current)
ok(first.returncode == 0 and 'at schema version %d' % LATEST in first.stdout
   and 'upgraded' not in first.stdout,
   'a current database is left at version %d' % LATEST, first.stdout + first.stderr)
ok(second.returncode == 0 and rows(current) == before and version(current) == LATEST,
   'running it twice changes nothing', second.stdout + second.stderr)

# A synthetic next version proves the mechanism that later steps will use.
steps = os.path.join(scratch, 'steps')
os.makedirs(steps)
with open(os.path.join(steps, NEXT + '.sql'), 'w') as f:
    f.write("ALTER TABLE conference ADD COLUMN note TEXT NOT NULL DEFAULT '';\n")
older = make_database('older.db')
before = rows(older)
result = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION=NEXT)
ok(result.returncode == 0 and version(older) == LATEST + 1,
   'a synthetic step takes a database from %d to %s' % (LATEST, NEXT),
   result.stdout + result.stderr)
ok(rows(older) == before, 'every row survives the synthetic step', rows(older))
db = sqlite3.connect(older)
columns = [row[1] for row in db.execute('PRAGMA table_info(conference)')]
db.close()
ok('note' in columns, 'the step took effect', columns)
again = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION=NEXT)
ok(again.returncode == 0 and version(older) == LATEST + 1 and rows(older) == before,
   'upgrading again is harmless', again.stdout + again.stderr)

# A failing step leaves the database exactly as it was.
with open(os.path.join(steps, AFTER + '.sql'), 'w') as f:
    f.write("CREATE TABLE half_done(x);\nINSERT INTO no_such_table VALUES (1);\n")
broken = upgrade(older, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION=AFTER)
db = sqlite3.connect(older)
tables = [row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
db.close()
ok(broken.returncode != 0 and 'nothing changed' in broken.stderr, 'a failing step is reported',
   broken.stdout + broken.stderr)
ok(version(older) == LATEST + 1 and 'half_done' not in tables, 'a failing step changes nothing', tables)

# An admin's write lock is waited for, not trampled.
locked = make_database('locked.db')
holder = pinconf.LockHolder(locked, ["INSERT INTO dial_in(label, number) VALUES ('Norway', '+4721000000')"])
started = time.time()
release = holder.release_after(1)
waited = upgrade(locked, PINCONF_UPGRADE_DIR=steps, PINCONF_SCHEMA_VERSION=NEXT)
release.join(10)
ok(waited.returncode == 0 and version(locked) == LATEST + 1 and time.time() - started >= 0.5,
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

# --- version 1, as released, to today's schema --------------------------------

schema_v1 = os.path.join(top, 't', 'schema-v1.sql')


def utc(days_ago=0.0):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - days_ago * 86400))


def make_v1(name, fill=True):
    """A database made with version 1's schema, filled as an admin and the CGIs would."""
    path = os.path.join(scratch, name)
    with open(schema_v1) as f:
        subprocess.run([sqlite3_cli, path], stdin=f, check=True, capture_output=True)
    if not fill:
        return path
    db = sqlite3.connect(path)
    db.executescript("""
        UPDATE setting SET value = 5 WHERE name = 'guess_limit';
        INSERT INTO conference(name, pin, starts_on, ends_on)
            VALUES ('Weekly sync', '4711', '2026-01-01', '2099-12-31');
        INSERT INTO conference(name, pin) VALUES ('Help desk', '2580');
        INSERT INTO conference(name, starts_on, ends_on, sinch_id)
            VALUES ('Board', '2026-12-07', '2026-12-11', 'board-room_1');
        INSERT INTO conference(name, pin) VALUES ('Gone', '1111');
        DELETE FROM conference WHERE name = 'Gone';
        INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850551234'), ('US', '+14158544909');
        INSERT INTO ticket(identity, address) VALUES ('Alice', '192.0.2.7'), ('Bob', '2001:db8::1');
        INSERT INTO pin_guess(address) VALUES ('192.0.2.7'), ('192.0.2.7'), ('198.51.100.1');
    """)
    calls = [
        # callid, origin, caller, attempts, conference, name, started, joined, ended, duration
        ('c-live', 'pstn', '46701111111', 0, 1, 'Weekly sync', utc(0.01), utc(0.01), None, None),
        ('c-browser', 'mxp', 'Alice', 1, 1, 'Weekly sync', utc(0.01), utc(0.01), None, None),
        ('c-done', 'pstn', '+46702222222', 0, 2, 'Help desk', utc(2), utc(2), utc(1.9), 600),
        ('c-old', 'pstn', '46703333333', 0, 2, 'Help desk', utc(40), utc(40), utc(40), 60),
        ('c-withheld', 'pstn', '', 0, 2, 'Help desk', utc(1), utc(1), utc(1), 30),
        ('c-wrong', 'pstn', '46704444444', 3, None, None, utc(1), None, utc(1), 20),
        ('c-no-ice', None, None, 0, None, None, utc(1), None, utc(1), 0),
        ('c-gone', 'pstn', '46705555555', 0, 4, 'Gone', utc(3), utc(3), utc(3), 5),
    ]
    db.executemany('INSERT INTO call(callid, origin, caller, pin_attempts, conference_id,'
                   ' conference_name, started, joined, ended, duration)'
                   ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', calls)
    db.execute("UPDATE call SET end_reason = 'CALLERHANGUP', end_result = 'ANSWERED'"
               " WHERE ended IS NOT NULL")
    db.commit()
    db.close()
    return path


V1_COLUMNS = {
    'conference': 'id, name, pin, starts_on, ends_on, sinch_id, created',
    'dial_in': 'id, label, number',
    'call': 'callid, origin, caller, pin_attempts, conference_id, conference_name,'
            ' started, joined, ended, end_reason, end_result, duration',
    'setting': 'name, value',
}


def v1_rows(path):
    db = sqlite3.connect(path)
    result = {table: db.execute('SELECT %s FROM %s ORDER BY 1' % (columns, table)).fetchall()
              for table, columns in V1_COLUMNS.items()}
    db.close()
    return result


def schema_of(path):
    """Every object's normalised SQL, and every table's columns."""
    db = sqlite3.connect(path)
    objects = {}
    for kind, name, table, sql in db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%'"):
        objects[(kind, name)] = (table, re.sub(r'\s+', ' ', sql).strip() if sql else None)
    columns = {}
    for (kind, name) in objects:
        if kind == 'table':
            columns[name] = db.execute('PRAGMA table_xinfo(%s)' % name).fetchall()
    db.close()
    return objects, columns


def query(path, sql, *parameters):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, parameters).fetchall()
    finally:
        db.close()


def shell(path, sql):
    """sqlite3(1) as an admin runs it: foreign keys off, one statement after another."""
    return subprocess.run([sqlite3_cli, '-bail', path], input=sql, capture_output=True, text=True)


fresh = os.path.join(scratch, 'fresh-v2.db')
with open(schema) as f:
    subprocess.run([sqlite3_cli, fresh], stdin=f, check=True, capture_output=True)
want_objects, want_columns = schema_of(fresh)

v1 = make_v1('v1.db')
before = v1_rows(v1)
sequence = query(v1, "SELECT seq FROM sqlite_sequence WHERE name = 'conference'")[0][0]
ok(version(v1) == 1 and sequence == 4 and len(before['call']) == 8,
   'the fixture is a version 1 database with a deleted conference and 8 calls',
   (version(v1), sequence, before))
result = upgrade(v1)
ok(result.returncode == 0 and 'upgraded to schema version %d' % LATEST in result.stdout
   and result.stderr == '',
   'the installed pinconf-upgrade takes a version 1 database to version %d' % LATEST,
   result.stdout + result.stderr)
ok(version(v1) == LATEST, 'its user_version is %d' % LATEST, version(v1))
after = v1_rows(v1)
for table in ('conference', 'dial_in', 'call'):
    ok(after[table] == before[table], 'every %s row is kept, every column as it was' % table,
       'before %r\nafter  %r' % (before[table], after[table]))
ok(after['setting'] == sorted(before['setting'] + [('guess_budget', 20), ('identity_limit', 100),
                                                    ('call_max_hours', 12)]),
   'settings are kept (guess_limit 5); guess_budget, identity_limit and call_max_hours are added',
   after['setting'])
ok(query(v1, 'SELECT DISTINCT max_participants, locked, announce_count FROM conference')
   == [(None, 0, 0)], 'upgraded conferences have no limit, are unlocked and do not announce',
   query(v1, 'SELECT * FROM conference'))
ok(query(v1, 'SELECT count(*) FROM call WHERE user_id IS NOT NULL OR attendee_id IS NOT NULL')
   == [(0,)], 'upgraded calls have no user id or attendee')

got_objects, got_columns = schema_of(v1)
ok(set(got_objects) == set(want_objects),
   'the upgraded database has the tables, views, triggers and indexes of a fresh one',
   'missing %r\nextra %r' % (sorted(set(want_objects) - set(got_objects)),
                             sorted(set(got_objects) - set(want_objects))))
ok(got_columns == want_columns, "every table's columns are a fresh one's, in order",
   '\n'.join('%s:\n  got  %r\n  want %r' % (t, got_columns.get(t), want_columns.get(t))
             for t in sorted(set(got_columns) | set(want_columns))
             if got_columns.get(t) != want_columns.get(t)))
differ = sorted(k for k in want_objects if got_objects.get(k) != want_objects[k])
ok(differ == [], "every object's SQL is a fresh one's (whitespace aside)",
   '\n'.join('%s %s:\n  got  %s\n  want %s' % (k[0], k[1], got_objects.get(k), want_objects[k])
             for k in differ))
ok(query(v1, 'PRAGMA integrity_check') == [('ok',)] and query(v1, 'PRAGMA foreign_key_check') == [],
   'the upgraded database passes integrity and foreign key checks')
ok(query(v1, "SELECT name FROM sqlite_schema WHERE name IN ('ticket', 'conference_free_pin')"
         " OR name LIKE '%_v1'") == [],
   'the old ticket table, the old free PIN view and the renamed tables are gone')
ok(query(v1, 'SELECT count(*) FROM pin_guess') == [(0,)],
   "version 1's transient guesses are dropped (their addresses are not sources)")
ok(query(v1, 'SELECT source FROM known_source ORDER BY source')
   == [('tel:+46701111111',), ('tel:+46702222222',), ('tel:+46705555555',)],
   'phone callers who joined in the last 30 days are known sources; older, failed and withheld are not',
   query(v1, 'SELECT * FROM known_source'))

# The new rules work on the upgraded rows.
db = sqlite3.connect(v1, isolation_level=None)
cursor = db.execute("INSERT INTO conference(name) VALUES ('New')")
ok(cursor.lastrowid == sequence + 1,
   'a new conference gets the next id after the deleted one, not its id again', cursor.lastrowid)
db.execute("INSERT INTO attendee(conference_id, name) VALUES (1, 'Anna Svensson')")
pins = [pin for (pin,) in db.execute('SELECT pin FROM pin_holder')]
ann = db.execute("SELECT pin FROM attendee WHERE name = 'Anna Svensson'").fetchone()[0]
ok(re.fullmatch(r'[0-9]{4}', ann or '') is not None and pins.count(ann) == 1,
   'an attendee of an upgraded conference gets a free 4-digit PIN', pins)


def refused(sql, words, name):
    try:
        db.execute(sql)
    except sqlite3.Error as error:
        ok(all(w in str(error) for w in words), name, str(error))
        return
    ok(False, name, 'accepted: ' + sql)


refused("INSERT INTO attendee(conference_id, name, pin) VALUES (1, 'Bo', '2580')",
        ('PIN 2580 is already used by conference 2 (Help desk)',),
        "an attendee PIN that an upgraded conference holds is refused, naming it")
refused("INSERT INTO conference(name, pin) VALUES ('Clash', '4711')",
        ('PIN 4711 is already used by conference 1 (Weekly sync)',),
        "the PIN guards are back: an upgraded conference's PIN is refused to a new one")
refused("INSERT INTO conference(name, pin) VALUES ('Clash', '%s')" % ann,
        ('PIN %s is already used by attendee' % ann, 'Anna Svensson'),
        "a new conference cannot take the attendee's PIN")
refused("UPDATE conference SET sinch_id = 'board room' WHERE id = 3",
        ('sinch_id must be 1 to 64 letters',), 'the sinch_id CHECK holds on upgraded conferences')
refused("UPDATE conference SET max_participants = 1 WHERE id = 1",
        ('max_participants must be NULL',), 'max_participants 1 is refused on an upgraded conference')
refused("UPDATE setting SET value = 0 WHERE name = 'guess_budget'",
        ('setting value must be a whole number above 0',), 'guess_budget 0 is refused')
try:
    db.execute("UPDATE conference SET max_participants = 10, locked = 1, announce_count = 1 WHERE id = 1")
    db.execute("UPDATE setting SET value = 100 WHERE name = 'guess_budget'")
    usable = (db.execute('SELECT max_participants, locked, announce_count FROM conference WHERE id = 1')
              .fetchone() == (10, 1, 1)
              and db.execute('SELECT budget, spent FROM guess_budget').fetchone() == (100, 0))
    detail = ''
except sqlite3.Error as error:
    usable, detail = False, str(error)
ok(usable, 'an upgraded conference can be capped, locked and announce the count; guess_budget can be raised',
   detail)
ok(db.execute("SELECT participants FROM active_conference WHERE name = 'Weekly sync'").fetchone()
   == (2,), "active_conference counts the upgraded live calls",
   db.execute('SELECT * FROM active_conference').fetchall())
ok(db.execute('SELECT name, joined, calls FROM attendance').fetchall() == [('Anna Svensson', 0, 0)],
   'attendance lists the new attendee, not yet joined')
db.close()
deleted = shell(v1, 'DELETE FROM conference WHERE id = 1;')
ok(deleted.returncode == 0 and query(v1, 'SELECT count(*) FROM attendee') == [(0,)]
   and query(v1, "SELECT count(*) FROM call WHERE conference_name = 'Weekly sync'") == [(2,)],
   'deleting an upgraded conference in sqlite3 deletes its attendees and keeps its calls',
   deleted.stderr)

# Twice is harmless: nothing to do the second time.
v1_again = make_v1('v1-again.db')
upgrade(v1_again)
once_rows, once_schema = v1_rows(v1_again), schema_of(v1_again)
again = upgrade(v1_again)
ok(again.returncode == 0 and 'upgraded' not in again.stdout and 'at schema version %d' % LATEST in again.stdout
   and v1_rows(v1_again) == once_rows and schema_of(v1_again) == once_schema,
   'upgrading a version 1 database twice changes nothing the second time', again.stdout + again.stderr)

# An empty version 1 database (no conference ever) upgrades too.
bare = make_v1('v1-bare.db', fill=False)
result = upgrade(bare)
ok(result.returncode == 0 and version(bare) == LATEST and schema_of(bare)[0] == want_objects,
   'a version 1 database that never had a row becomes a fresh version %d one' % LATEST,
   result.stderr)

# Old PINs of another length are kept: the guards do not run on the copy.
six = make_v1('v1-pin6.db')
subprocess.run([sqlite3_cli, six, "UPDATE setting SET value = 6 WHERE name = 'pin_length'"], check=True)
result = upgrade(six)
ok(result.returncode == 0 and query(six, 'SELECT pin FROM conference WHERE id = 1') == [('4711',)]
   and query(six, "SELECT value FROM setting WHERE name = 'pin_length'") == [(6,)],
   'conferences keep 4-digit PINs through the upgrade after pin_length became 6', result.stderr)

# Names with characters the name guards of version 3 refuse are kept too,
# until they are changed (pinconf-db(5) has a recipe to find them).
unsafe = make_v1('v1-unsafe-name.db')
kept_name = 'Help\u009b2J desk\u202e'
db = sqlite3.connect(unsafe)
db.execute('UPDATE conference SET name = ? WHERE id = 2', (kept_name,))
db.commit()
db.close()
result = upgrade(unsafe)
ok(result.returncode == 0 and query(unsafe, 'SELECT name FROM conference WHERE id = 2') == [(kept_name,)],
   'a name with a C1 control and a bidirectional override is kept through the upgrade',
   result.stdout + result.stderr)
db = sqlite3.connect(unsafe, isolation_level=None)
try:
    db.execute("UPDATE conference SET pin = NULL, ends_on = '2099-12-31' WHERE id = 2")
    db.execute('UPDATE conference SET name = name WHERE id = 2')
    detail = ''
except sqlite3.Error as error:
    detail = str(error)
ok(detail == '', 'a kept name does not stop changes to the rest of its conference', detail)
try:
    db.execute('UPDATE conference SET name = ? WHERE id = 2', ('Help\u2066 desk',))
    detail = 'accepted'
except sqlite3.Error as error:
    detail = str(error)
ok('name must not contain control, bidirectional or invisible format characters' in detail,
   'a changed name is held to the name guard after the upgrade', detail)
db.close()

# A sinch_id that version 2 refuses stops the upgrade, names the conference, changes nothing.
bad = make_v1('v1-bad-sinch-id.db')
subprocess.run([sqlite3_cli, bad, "UPDATE conference SET sinch_id = 'board room' WHERE id = 3"], check=True)
bad_before = v1_rows(bad)
result = upgrade(bad)
ok(result.returncode != 0 and 'nothing changed' in result.stderr
   and 'conference 3 (Board) has sinch_id "board room"' in result.stderr,
   'a sinch_id with a space stops the upgrade, naming the conference', result.stdout + result.stderr)
ok(version(bad) == 1 and v1_rows(bad) == bad_before
   and query(bad, "SELECT count(*) FROM ticket") == [(2,)],
   'the stopped upgrade changed nothing', (version(bad), v1_rows(bad)))
subprocess.run([sqlite3_cli, bad, "UPDATE conference SET sinch_id = 'board-room' WHERE id = 3"], check=True)
result = upgrade(bad)
ok(result.returncode == 0 and version(bad) == LATEST, 'after fixing the sinch_id the upgrade succeeds',
   result.stderr)

# The CGIs serve the upgraded database.
served = make_v1('v1-served.db')
upgrade(served)
out, err = run_cgi('join.cgi', served)
ok(out.startswith('Status: 200') and '+46850551234' in out,
   'join.cgi serves the upgraded database and lists its dial-in numbers', out[:300] + err)
out, err = run_cgi('getticket.cgi', served, method='POST', body=b'name=Dana&pin=4711',
                   content_type='application/x-www-form-urlencoded')
issued = query(served, "SELECT display_name, conference_id, pin FROM identity")
ok(out.startswith('Status: 200') and '"userId"' in out and issued == [('Dana', 1, '4711')],
   'getticket.cgi issues an identity for a conference kept by the upgrade', out + err + repr(issued))
out, err = run_cgi('callback.cgi', served, method='POST',
                   body=b'{"event":"dice","callid":"c-live","reason":"CALLERHANGUP",'
                        b'"result":"ANSWERED","duration":42}')
ended = query(served, "SELECT ended IS NOT NULL, duration FROM call WHERE callid = 'c-live'")
ok(out.startswith('Status: 200') and ended == [(1, 42)],
   'callback.cgi records the end of a call begun before the upgrade', out + err + repr(ended))
out, err = run_cgi('callback.cgi', served, method='POST',
                   body=b'{"event":"ice","callid":"c-new","originationType":"PSTN","cli":"46701111111",'
                        b'"to":{"type":"did","endpoint":"+46850551234"}}')
ok(out.startswith('Status: 200') and 'runMenu' in out,
   'callback.cgi answers a new phone call on the upgraded database with the PIN menu', out + err)

tap.done()
