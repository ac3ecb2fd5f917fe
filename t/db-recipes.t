#!/usr/bin/env python3
# db-recipes.t: every SQL recipe in EXAMPLES of pinconf-db(5) runs, in order,
# on one scratch database made from db/schema.sql, and does what it says.
#
# The manual marks each SQL block with a first line '.\" recipe: NAME' (a roff
# comment, so readers do not see it); blocks whose first line starts with
# "$ " are shell commands and are skipped.  RECIPES below knows every name:
# a recipe that is removed, renamed, reordered, added without a name, or
# changed so that it no longer does its job fails this test.

import datetime
import os
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get('PINCONF_SRCDIR') or os.path.join(HERE, '..')
sys.path.insert(0, HERE)
from pinconf import examples_section, unescape  # noqa: E402
MANUAL = os.path.join(SRCDIR, 'man', 'pinconf-db.5')
SCHEMA = os.path.join(SRCDIR, 'db', 'schema.sql')
SCRATCH = os.path.join('t', 'tmp', 'db-recipes')

PIN4 = re.compile(r'^[0-9]{4}$')
PIN6 = re.compile(r'^[0-9]{6}$')


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, passed, name, diagnostics=()):
        self.count += 1
        print('%sok %d - %s' % ('' if passed else 'not ', self.count, name))
        if not passed:
            self.failed += 1
            for line in diagnostics:
                for part in str(line).splitlines() or ['']:
                    print('#   ' + part)
        sys.stdout.flush()

    def skip(self, name, reason):
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, name, reason))

    def done(self):
        print('1..%d' % self.count)
        return 1 if self.failed else 0


# --- reading the manual ---------------------------------------------------

def read_blocks(section):
    """[(name, sql, first line)] for each literal block.

    name is '$' for a shell block and None for an untagged one; sql is None for both.
    """
    blocks = []
    for body in re.findall(r'^\.Bd -literal[^\n]*\n(.*?)^\.Ed$', section, re.M | re.S):
        lines = body.rstrip('\n').split('\n')
        first = lines[0] if lines else ''
        if first.startswith('$ '):
            blocks.append(('$', None, first))
            continue
        match = re.match(r'^\.\\" recipe: ([a-z0-9-]+)\s*$', first)
        if match is None:
            blocks.append((None, None, first))
            continue
        sql = []
        for line in lines[1:]:
            if line.startswith('.\\"'):
                continue
            if line.startswith('.') or line.startswith("'"):
                raise ValueError('recipe %s: roff request inside the block: %r'
                                 % (match.group(1), line))
            sql.append(unescape(line))
        blocks.append((match.group(1), '\n'.join(sql) + '\n', first))
    return blocks


# --- running SQL as the shell would -----------------------------------------

def statements(sql):
    """Split a recipe into complete statements, as sqlite3(1) does."""
    result, start = [], 0
    for i, c in enumerate(sql):
        if c == ';' and sqlite3.complete_statement(sql[start:i + 1]):
            result.append(sql[start:i + 1].strip())
            start = i + 1
    rest = sql[start:].strip()
    rest_without_comments = '\n'.join(l for l in rest.split('\n') if not l.strip().startswith('--'))
    if rest_without_comments.strip():
        raise ValueError('statement without a closing semicolon: %r' % rest)
    return result


class Output:
    """What the last statement that returned columns printed."""
    def __init__(self):
        self.columns, self.rows = [], []

    def dicts(self):
        return [dict(zip(self.columns, row)) for row in self.rows]


def run_recipe(db, sql):
    output = Output()
    for statement in statements(sql):
        cursor = db.execute(statement)
        rows = cursor.fetchall()
        if cursor.description is not None:
            output.columns = [d[0] for d in cursor.description]
            output.rows = rows
    return output


def try_shell_line(line):
    """Run a '$ sudo -u USER sqlite3 OPTIONS DATABASE' line on the scratch database."""
    words = shlex.split(line[2:])
    if words[:1] == ['sudo']:
        words = words[3:] if words[1:2] == ['-u'] else words[1:]
    if words[:1] != ['sqlite3'] or len(words) < 2:
        return False, ['not a sqlite3 command: %r' % line]
    program = os.environ.get('SQLITE3') or shutil.which('sqlite3')
    if not program:
        return None, ['sqlite3 is not installed']
    database = os.path.join(SCRATCH, 'pinconf.db')
    command = [program] + words[1:-1] + [database, "SELECT 'settings: ' || count(*) FROM setting;"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    with sqlite3.connect(database) as db:
        count = db.execute('SELECT count(*) FROM setting').fetchone()[0]
    passed = (result.returncode == 0 and result.stderr == ''
              and 'settings: %d' % count in result.stdout)
    return passed, ['%r exited %d' % (command, result.returncode), result.stdout, result.stderr]


# --- the scratch database ---------------------------------------------------

def open_scratch():
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    db = sqlite3.connect(os.path.join(SCRATCH, 'pinconf.db'), isolation_level=None)
    with open(SCHEMA) as schema:
        db.executescript(schema.read())
    # Assigned PINs come from random(); a seeded one keeps the recipes' own
    # PINs (4711, 2580, 8642) from ever clashing with them by chance.
    generator = random.Random(20261124)
    db.create_function('random', 0, lambda: generator.randint(-2**63, 2**63 - 1))
    return db


def one(db, sql, *parameters):
    row = db.execute(sql, parameters).fetchone()
    return row[0] if row is not None and len(row) == 1 else row


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def utc(minutes_ago):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def conference(db, name):
    row = db.execute('SELECT id, pin, starts_on, ends_on FROM conference WHERE name = ?',
                     (name,)).fetchall()
    expect(len(row) == 1, 'expected one conference named %r, found %d' % (name, len(row)))
    return dict(zip(('id', 'pin', 'starts_on', 'ends_on'), row[0]))


def attendee(db, name):
    row = db.execute('SELECT id, conference_id, pin FROM attendee WHERE name = ?', (name,)).fetchall()
    expect(len(row) == 1, 'expected one attendee named %r, found %d' % (name, len(row)))
    return dict(zip(('id', 'conference_id', 'pin'), row[0]))


def later(minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def seed(db):
    """Calls, guesses, identities and known sources for the reading recipes to show."""
    weekly = conference(db, 'Weekly sync')['id']
    board = conference(db, 'Board meeting')['id']
    help_desk = conference(db, 'Help desk')['id']
    anna = attendee(db, 'Anna Svensson')['id']
    calls = [
        # callid, origin, caller, attempts, conference id, name, started, joined, ended, reason, duration
        ('c-live-1', 'pstn', '+46701111111', 0, weekly, 'Weekly sync', utc(10), utc(9), None, None, None),
        ('c-live-2', 'mxp', 'Alice', 0, weekly, 'Weekly sync', utc(5), utc(5), None, None, None),
        ('c-day-1', 'pstn', '+46702222222', 1, weekly, 'Weekly sync', '2026-11-23T09:00:00Z',
         '2026-11-23T09:00:20Z', '2026-11-23T09:30:00Z', 'CALLERHANGUP', 1780),
        ('c-day-2', 'pstn', '+14155550100', 0, board, 'Board meeting', '2026-11-23T15:00:00Z',
         '2026-11-23T15:00:15Z', '2026-11-23T15:10:15Z', 'CALLEEHANGUP', 600),
        ('c-day-3', 'pstn', '+46703333333', 3, None, None, '2026-11-23T23:59:59Z',
         None, '2026-11-24T00:01:00Z', 'MANAGERHANGUP', 61),
        ('c-day-next', 'pstn', '+46704444444', 0, None, None, '2026-11-24T00:00:00Z',
         None, '2026-11-24T00:00:40Z', 'CALLERHANGUP', 40),
        ('c-mxp-bad', 'mxp', 'Mallory', 1, None, None, utc(2), None, utc(2), 'MANAGERHANGUP', 0),
        ('c-old-1', 'pstn', '+46705555555', 0, None, 'Retro', '2025-06-01T08:00:00Z',
         '2025-06-01T08:00:10Z', '2025-06-01T08:30:00Z', 'CALLERHANGUP', 1790),
        ('c-old-2', 'pstn', '+46706666666', 0, None, 'Retro', '2025-12-31T23:59:59Z',
         None, '2026-01-01T00:00:30Z', 'TIMEOUT', 0),
        ('c-new-year', 'pstn', '+46707777777', 0, None, 'Retro', '2026-01-01T00:00:00Z',
         None, '2026-01-01T00:00:30Z', 'TIMEOUT', 0),
        # Anna Svensson, with her personal PIN: once on 22 November, and now.
        ('c-anna-1', 'pstn', 'Anna Svensson', 0, weekly, 'Weekly sync', '2026-11-22T10:00:00Z',
         '2026-11-22T10:00:20Z', '2026-11-22T10:10:20Z', 'CALLERHANGUP', 600),
        ('c-anna-2', 'mxp', 'Anna Svensson', 0, weekly, 'Weekly sync', utc(3), utc(3),
         None, None, None),
    ]
    db.executemany('INSERT INTO call(callid, origin, caller, pin_attempts, conference_id,'
                   ' conference_name, started, joined, ended, end_reason, duration)'
                   ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', calls)
    db.execute("UPDATE call SET attendee_id = ? WHERE callid IN ('c-anna-1', 'c-anna-2')", (anna,))
    guesses = [('ip:203.0.113.7', utc(minute)) for minute in range(1, 11)]
    guesses += [('tel:+46709999999', utc(1))] * 3
    guesses += [('withheld', utc(minute)) for minute in range(1, 12)]
    guesses += [('net:2001:db8:bad::/64', '2025-03-01T12:00:%02dZ' % second) for second in range(12)]
    db.executemany('INSERT INTO pin_guess(source, at) VALUES (?, ?)', guesses)
    identities = [
        # user id, display name, conference, attendee, PIN, source, issued, expires
        ('u-AliceAliceAliceAlice0', 'Alice', weekly, None, conference(db, 'Weekly sync')['pin'],
         'ip:203.0.113.7', utc(6), later(234)),
        ('u-AnnaAnnaAnnaAnnaAnna0', 'Anna Svensson', weekly, anna, attendee(db, 'Anna Svensson')['pin'],
         'net:2001:db8:1:2::/64', utc(3), later(237)),
        ('u-DanaDanaDanaDanaDana0', 'Dana', help_desk, None, conference(db, 'Help desk')['pin'],
         'ip:198.51.100.4', utc(30), later(210)),
        ('u-MalloryMalloryMallor0', 'Mallory', weekly, None, '4711', 'ip:192.0.2.66',
         '2025-03-01T11:59:00Z', '2025-03-01T15:59:00Z'),
    ]
    db.executemany('INSERT INTO identity(user_id, display_name, conference_id, attendee_id, pin,'
                   ' source, issued, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', identities)
    db.executemany('INSERT INTO known_source(source, conference_id, attendee_id, last_joined) VALUES (?, ?, ?, ?)',
                   [('tel:+46701111111', weekly, 0, utc(9)), ('net:2001:db8:1:2::/64', weekly, anna, utc(3)),
                    ('tel:+46705555555', weekly, 0, '2025-06-01T08:00:10Z')])
    # A conference that is over, with an attendee, for pin-length to leave alone.
    db.execute("INSERT INTO conference(name, pin, starts_on, ends_on)"
               " VALUES ('Autumn kickoff', '1357', '2025-09-01', '2025-09-30')")
    db.execute("INSERT INTO attendee(conference_id, name, pin)"
               " SELECT id, 'Old Timer', '2468' FROM conference WHERE name = 'Autumn kickoff'")
    # An attendee of the conference that the next recipe deletes.
    db.execute("INSERT INTO attendee(conference_id, name) VALUES (?, 'Erik Berg')", (board,))


# --- what each recipe must do -----------------------------------------------

def check_create_with_pin(db, out):
    row = conference(db, 'Weekly sync')
    expect((row['pin'], row['starts_on'], row['ends_on']) == ('4711', '2026-11-02', '2026-12-31'),
           'Weekly sync is %r' % row)


def check_create_forever(db, out):
    row = conference(db, 'Help desk')
    expect((row['pin'], row['starts_on'], row['ends_on']) == ('2580', today(), None),
           'Help desk is %r, want PIN 2580 from %s with no end' % (row, today()))


def check_create_random_pin(db, out):
    row = conference(db, 'Project Kestrel')
    expect(row['pin'] is not None and PIN4.match(row['pin']), 'assigned PIN %r' % row['pin'])
    expect(out.dicts() == [{'id': row['id'], 'name': 'Project Kestrel', 'pin': row['pin']}],
           'the SELECT showed %r, not the new conference and its PIN' % out.dicts())
    expect(row['pin'] not in ('4711', '2580'), 'PIN %s clashes' % row['pin'])


def check_create_date_range(db, out):
    row = conference(db, 'Board meeting')
    expect((row['starts_on'], row['ends_on']) == ('2026-12-07', '2026-12-11'), 'dates %r' % row)
    expect(row['pin'] is not None and PIN4.match(row['pin']), 'assigned PIN %r' % row['pin'])
    expect(out.dicts() == [{'id': row['id'], 'name': 'Board meeting', 'pin': row['pin']}],
           'the SELECT showed %r' % out.dicts())


def check_change_pin(db, out):
    expect(conference(db, 'Weekly sync')['pin'] == '8642', 'PIN is not 8642')


def check_new_random_pin(db, out):
    pin = conference(db, 'Help desk')['pin']
    expect(pin is not None and PIN4.match(pin) and pin != '2580', 'new PIN %r' % pin)
    expect(out.rows == [('Help desk', pin)], 'the SELECT showed %r' % out.rows)


def check_extend(db, out):
    row = conference(db, 'Weekly sync')
    expect((row['pin'], row['ends_on']) == ('8642', '2027-06-30'), 'Weekly sync is %r' % row)


def check_end_today(db, out):
    row = conference(db, 'Project Kestrel')
    expect(row['ends_on'] == today(), 'ends_on %r, want %s' % (row['ends_on'], today()))


def check_forever(db, out):
    expect(conference(db, 'Weekly sync')['ends_on'] is None, 'Weekly sync still ends')


def check_attendee_pin(db, out):
    row = attendee(db, 'Anna Svensson')
    expect((row['conference_id'], row['pin']) == (conference(db, 'Weekly sync')['id'], '3141'),
           'Anna Svensson is %r' % row)


def check_attendee_add(db, out):
    weekly = conference(db, 'Weekly sync')
    bo, carla = attendee(db, 'Bo Ek'), attendee(db, 'Carla Diaz')
    for row in (bo, carla):
        expect(row['conference_id'] == weekly['id'], 'attendee in conference %r' % row)
        expect(row['pin'] is not None and PIN4.match(row['pin']), 'assigned PIN %r' % row['pin'])
    holders = [pin for (pin,) in db.execute('SELECT pin FROM pin_holder')]
    expect(len(holders) == len(set(holders)), 'two holders share a PIN: %r' % holders)
    got = [(row['name'], row['pin']) for row in out.dicts()]
    want = [('Anna Svensson', '3141'), ('Bo Ek', bo['pin']), ('Carla Diaz', carla['pin'])]
    expect(got == want, 'the SELECT showed %r, want %r' % (got, want))


def check_attendee_new_pin(db, out):
    pin = attendee(db, 'Bo Ek')['pin']
    expect(pin is not None and PIN4.match(pin), 'new PIN %r' % pin)
    expect(out.rows == [('Bo Ek', pin)], 'the SELECT showed %r' % out.rows)
    expect(one(db, 'SELECT count(*) FROM pin_holder WHERE pin = ?', pin) == 1, 'PIN %s clashes' % pin)


def check_attendee_remove(db, out):
    names = [name for (name,) in db.execute('SELECT name FROM attendee ORDER BY name')]
    expect(names == ['Anna Svensson', 'Bo Ek'], 'attendees left %r' % names)


def rules(db, name):
    return db.execute('SELECT max_participants, locked, announce_count FROM conference'
                      ' WHERE name = ?', (name,)).fetchone()


def check_cap(db, out):
    expect(rules(db, 'Weekly sync') == (10, 0, 0), 'Weekly sync rules %r' % (rules(db, 'Weekly sync'),))


def check_lock(db, out):
    expect(rules(db, 'Weekly sync') == (10, 1, 0), 'Weekly sync rules %r' % (rules(db, 'Weekly sync'),))


def check_unlock(db, out):
    expect(rules(db, 'Weekly sync') == (10, 0, 0), 'Weekly sync rules %r' % (rules(db, 'Weekly sync'),))


def check_announce_count(db, out):
    expect(rules(db, 'Help desk') == (None, 0, 1), 'Help desk rules %r' % (rules(db, 'Help desk'),))
    expect(rules(db, 'Weekly sync')[2] == 0, 'Weekly sync announces too')


def check_delete(db, out):
    expect(one(db, "SELECT count(*) FROM conference WHERE name = 'Board meeting'") == 0,
           'Board meeting is still there')
    kept = db.execute("SELECT callid FROM call_log WHERE conference = 'Board meeting'").fetchall()
    expect(kept == [('c-day-2',)], 'its call log is %r, want c-day-2 kept' % kept)
    expect(one(db, "SELECT count(*) FROM attendee WHERE name = 'Erik Berg'") == 0,
           "its attendee is still there")
    expect(one(db, 'SELECT count(*) FROM attendee') == 3, "other conferences' attendees went too")


def check_list_active(db, out):
    now = today()
    want = sorted(name for name, starts_on, ends_on in
                  db.execute('SELECT name, starts_on, ends_on FROM conference')
                  if starts_on <= now and (ends_on is None or ends_on >= now))
    got = out.dicts()
    expect([row['name'] for row in got] == want, 'listed %r, want %r' % (got, want))
    expect('Help desk' in want, 'Help desk is not active')
    counts = {row['name']: row['participants'] for row in got}
    if 'Weekly sync' in counts:     # unless the clock is before its start
        expect(counts['Weekly sync'] == 3, 'Weekly sync has %r participants, want 3'
               % counts['Weekly sync'])


def check_how_full(db, out):
    got = {row['name']: (row['participants'], row['max_participants'], row['locked'])
           for row in out.dicts()}
    expect(got.get('Help desk') == (0, None, 0), 'Help desk shows %r' % (got.get('Help desk'),))
    if 'Weekly sync' in got:     # unless the clock is before its start
        expect(got['Weekly sync'] == (3, 10, 0), 'Weekly sync shows %r' % (got['Weekly sync'],))


def check_participants_now(db, out):
    got = sorted(out.rows)
    want = [('+46701111111', 'phone'), ('Alice', 'browser'), ('Anna Svensson', 'browser')]
    expect([row[:2] for row in got] == want, 'showed %r' % got)


def check_attendance(db, out):
    got = out.dicts()
    expect([row['name'] for row in got] == ['Anna Svensson', 'Bo Ek'], 'showed %r' % got)
    anna, bo = got
    expect((anna['joined'], anna['first_joined'], anna['calls']) == (1, '2026-11-22T10:00:20Z', 2),
           'Anna shows %r' % anna)
    # 600 s on 22 November, and about 3 minutes in the call going on now.
    expect(600 + 170 <= anna['seconds_in'] <= 600 + 240, 'Anna was in for %r s' % anna['seconds_in'])
    expect((bo['joined'], bo['first_joined'], bo['seconds_in'], bo['calls']) == (0, None, 0, 0),
           'Bo shows %r' % bo)


def check_call_log_day(db, out):
    got = [(row['started'], row['caller']) for row in out.dicts()]
    want = [('2026-11-23T23:59:59Z', '+46703333333'), ('2026-11-23T15:00:00Z', '+14155550100'),
            ('2026-11-23T09:00:00Z', '+46702222222')]
    expect(got == want, 'showed %r, want %r newest first' % (got, want))


def check_call_log_conference(db, out):
    got = [row['caller'] for row in out.dicts()]
    expect(got == ['Anna Svensson', 'Alice', '+46701111111', '+46702222222', 'Anna Svensson'],
           'showed %r' % got)


def check_failed_pins_calls(db, out):
    got = sorted((row['caller'], row['pin_attempts']) for row in out.dicts())
    want = [('+46702222222', 1), ('+46703333333', 3), ('Mallory', 1)]
    expect(got == want, 'showed %r, want %r' % (got, want))


def check_identities(db, out):
    got = [(row['display_name'], row['conference'], row['source']) for row in out.dicts()]
    want = [('Anna Svensson', 'Weekly sync', 'net:2001:db8:1:2::/64'),
            ('Alice', 'Weekly sync', 'ip:203.0.113.7'), ('Dana', 'Help desk', 'ip:198.51.100.4')]
    expect(got == want, 'showed %r, want %r (newest first, no expired one)' % (got, want))


def check_failed_pins_sources(db, out):
    got = [(row['source'], row['guesses']) for row in out.dicts()]
    want = [('net:2001:db8:bad::/64', 12), ('withheld', 11), ('ip:203.0.113.7', 10),
            ('tel:+46709999999', 3)]
    expect(got == want, 'showed %r, want %r' % (got, want))


def check_locked_out(db, out):
    got = [(row['source'], row['guesses']) for row in out.dicts()]
    expect(got == [('ip:203.0.113.7', 10), ('withheld', 11)],
           'showed %r, want ip:203.0.113.7 with 10 and withheld (one source) with 11' % got)
    until = out.dicts()[0]['until']
    # Its 10 guesses are half the budget of 20: the oldest, 10 minutes ago, leaves the hour in 50.
    expect(utc(-49) <= until <= utc(-51), 'locked out until %r, want about 50 minutes from now' % until)


def check_guess_budget(db, out):
    got = out.dicts()
    expect(len(got) == 1 and (got[0]['budget'], got[0]['spent']) == (20, 24),
           'showed %r, want a budget of 20 with 24 spent' % got)


def check_lift_lockout(db, out):
    expect(one(db, "SELECT count(*) FROM locked_out WHERE source = 'ip:203.0.113.7'") == 0, 'still locked out')
    expect(one(db, "SELECT count(*) FROM pin_guess WHERE source = 'ip:203.0.113.7'") == 0,
           'guesses of ip:203.0.113.7 remain')
    expect(one(db, 'SELECT count(*) FROM pin_guess') == 26, "other sources' guesses went too")
    expect(one(db, 'SELECT spent FROM guess_budget') == 14, 'the budget still counts them')


def check_known_source_add(db, out):
    expect(one(db, "SELECT count(*) FROM known_source WHERE source = 'tel:+46701234567'"
                   " AND conference_id = 1 AND attendee_id = 0 AND last_joined >= ?", utc(1)) == 1,
           "the number is not known now for Weekly sync's PIN")
    got = [row['source'] for row in out.dicts()]
    want = ['tel:+46701234567', 'net:2001:db8:1:2::/64', 'tel:+46701111111', 'tel:+46705555555']
    expect(got == want, 'showed %r, want %r' % (got, want))


def check_raise_budget(db, out):
    expect(one(db, "SELECT value FROM setting WHERE name = 'guess_budget'") == 100, 'budget not 100')
    expect([(row['budget'], row['spent']) for row in out.dicts()] == [(100, 14)],
           'showed %r' % out.dicts())


def check_dial_in_add(db, out):
    got = db.execute('SELECT label, number FROM dial_in ORDER BY number').fetchall()
    expect(got == [('United States', '+14158544909'), ('Sweden', '+46850512345')], 'dial_in %r' % got)


def check_dial_in_list(db, out):
    expect(out.rows == [('Sweden', '+46850512345'), ('United States', '+14158544909')],
           'listed %r' % out.rows)


def check_dial_in_remove(db, out):
    got = db.execute('SELECT number FROM dial_in').fetchall()
    expect(got == [('+46850512345',)], 'dial_in %r' % got)


def check_prune_calls(db, out):
    gone = db.execute("SELECT callid FROM call WHERE callid IN ('c-old-1', 'c-old-2')").fetchall()
    expect(gone == [], 'old calls remain: %r' % gone)
    expect(one(db, 'SELECT count(*) FROM call') == 10, 'newer calls were deleted')
    expect(one(db, 'SELECT count(*) FROM participant_now') == 3, 'live calls were deleted')


def check_prune_identities_guesses(db, out):
    got = db.execute('SELECT display_name FROM identity ORDER BY 1').fetchall()
    expect(got == [('Alice',), ('Anna Svensson',), ('Dana',)], 'identities left %r' % got)
    got = db.execute('SELECT DISTINCT source FROM pin_guess ORDER BY 1').fetchall()
    expect(got == [('tel:+46709999999',), ('withheld',)], 'guesses left %r' % got)
    got = db.execute('SELECT source FROM known_source ORDER BY 1').fetchall()
    expect(got == [('net:2001:db8:1:2::/64',), ('tel:+46701111111',), ('tel:+46701234567',)],
           'known sources left %r' % got)


def check_pin_length(db, out):
    expect(one(db, "SELECT value FROM setting WHERE name = 'pin_length'") == 6, 'pin_length not 6')
    now = today()
    rows = db.execute('SELECT name, pin, ends_on FROM conference').fetchall()
    for name, pin, ends_on in rows:
        if ends_on is None or ends_on >= now:
            expect(pin is not None and PIN6.match(pin), '%s has PIN %r, want 6 digits' % (name, pin))
        else:
            expect(pin is not None and PIN4.match(pin), '%s, over, has PIN %r' % (name, pin))
    expect(conference(db, 'Autumn kickoff')['pin'] == '1357', 'a past conference got a new PIN')
    for name in ('Anna Svensson', 'Bo Ek'):
        pin = attendee(db, name)['pin']
        expect(pin is not None and PIN6.match(pin), '%s has PIN %r, want 6 digits' % (name, pin))
    expect(one(db, 'SELECT count(*) FROM attendee WHERE conference_id = ?',
               conference(db, 'Autumn kickoff')['id']) == 1, "the past conference's attendee went")
    expect(attendee(db, 'Old Timer')['pin'] == '2468', "a past conference's attendee got a new PIN")
    shown = sorted(row['holder'].split(' (')[1].split(')')[0] for row in out.dicts())
    expect(shown == ['Anna Svensson', 'Bo Ek', 'Help desk', 'Project Kestrel', 'Weekly sync'],
           'the SELECT showed %r' % shown)
    expect(all(PIN6.match(row['pin']) for row in out.dicts()), 'the SELECT showed %r' % out.rows)
    expect(not db.in_transaction, 'the transaction is left open')


def unsafe_names_before(db):
    """Names that a version 2 database may hold: the upgrade copies rows before the guards come back."""
    guards = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                        " AND name IN ('conference_checks_name_insert', 'attendee_checks_insert')").fetchall()
    expect(len(guards) == 2, 'the name guards are not both there')
    db.execute('DROP TRIGGER conference_checks_name_insert')
    db.execute('DROP TRIGGER attendee_checks_insert')
    kept = db.execute("INSERT INTO conference(name) VALUES ('Old' || char(0x9b) || '2J sync')").lastrowid
    db.execute("INSERT INTO attendee(conference_id, name) VALUES (?, 'Bo' || char(0x202e) || ' Ek'),"
               " (?, 'Nul' || char(0) || 'ly')", (kept, kept))
    for (sql,) in guards:
        db.execute(sql)


def check_unsafe_names(db, out):
    hexed = lambda text: text.encode().hex().upper()
    want = [('conference', conference(db, 'Old\u009b2J sync')['id'], hexed('Old\u009b2J sync')),
            ('attendee', attendee(db, 'Bo\u202e Ek')['id'], hexed('Bo\u202e Ek')),
            ('attendee', attendee(db, 'Nul\0ly')['id'], hexed('Nul\0ly'))]
    expect(sorted(out.rows) == sorted(want), 'the SELECT showed %r, want %r' % (out.rows, want))
    expect(out.columns == ['kind', 'id', 'name_in_hex'], 'columns %r' % out.columns)


# (name, what it does, check, run before it)
def owners_before(db):
    db.executescript("""
        INSERT INTO owner(email, confirmed, last_login) VALUES ('ann@example.com', 1, '2025-03-01T10:00:00Z');
        INSERT INTO owner(email) VALUES ('bo@example.com');
        INSERT INTO owner_session(token_hash, owner_id) VALUES ('a1', 1), ('b1', 2), ('b2', 2);
        INSERT INTO owner_token(token_hash, owner_id, kind, expires) VALUES ('t1', 1, 'reset', '2099-01-01T00:00:00Z');
        UPDATE conference SET owner_id = 1 WHERE name = 'Weekly sync';
    """)


def check_owner_list(db, out):
    expect(out.rows == [('ann@example.com', 1, 0, '2025-03-01T10:00:00Z'), ('bo@example.com', 0, 0, None)],
           'owner list shows ann and bo: %r' % out.rows)


def check_owner_admin(db, out):
    expect(one(db, "SELECT admin FROM owner WHERE email = 'ann@example.com'") == 1, 'ann is not admin')
    expect(one(db, "SELECT admin FROM owner WHERE email = 'bo@example.com'") == 0, 'bo became admin')


def check_owner_remove(db, out):
    expect(one(db, "SELECT count(*) FROM owner WHERE email = 'ann@example.com'") == 0, 'ann is still there')
    expect(one(db, 'SELECT count(*) FROM owner_session WHERE owner_id = 1') == 0, "ann's sessions stay")
    expect(one(db, 'SELECT count(*) FROM owner_token WHERE owner_id = 1') == 0, "ann's tokens stay")
    expect(one(db, 'SELECT count(*) FROM owner_session WHERE owner_id = 2') == 2, "bo's sessions went")
    expect(one(db, "SELECT count(*) FROM conference WHERE name = 'Weekly sync' AND owner_id IS NULL") >= 1,
           "ann's conference did not become the admin's")


def check_owner_logout(db, out):
    expect(one(db, 'SELECT count(*) FROM owner_session WHERE owner_id = 2') == 0, 'bo is still logged in')


RECIPES = [
    ('create-with-pin', 'creates a conference with a chosen PIN and dates', check_create_with_pin, None),
    ('create-forever', 'creates a conference from today with no end', check_create_forever, None),
    ('create-random-pin', 'assigns a free PIN and shows it', check_create_random_pin, None),
    ('create-date-range', 'creates a conference for a date range with a free PIN',
     check_create_date_range, None),
    ('change-pin', 'changes a PIN', check_change_pin, None),
    ('new-random-pin', 'gives a conference a new random PIN', check_new_random_pin, None),
    ('extend', 'moves the end date and keeps the PIN', check_extend, None),
    ('end-today', 'ends a conference today', check_end_today, None),
    ('forever', 'makes a conference valid for ever', check_forever, None),
    ('attendee-pin', 'adds an attendee with a chosen personal PIN', check_attendee_pin, None),
    ('attendee-add', 'adds attendees with free PINs and lists them', check_attendee_add, None),
    ('attendee-new-pin', 'gives an attendee a new free PIN', check_attendee_new_pin, None),
    ('attendee-remove', 'removes an attendee', check_attendee_remove, None),
    ('cap', 'caps a conference at 10 callers', check_cap, None),
    ('lock', 'locks a conference', check_lock, None),
    ('unlock', 'unlocks it', check_unlock, None),
    ('announce-count', 'makes a conference announce the count', check_announce_count, None),
    ('delete', 'deletes a conference with its attendees and keeps its calls', check_delete, seed),
    ('list-active', 'lists the conferences active today with participants', check_list_active, None),
    ('how-full', 'shows participants against caps and locks', check_how_full, None),
    ('participants-now', 'shows who is in a conference now', check_participants_now, None),
    ('attendance', "shows attendees' attendance", check_attendance, None),
    ('call-log-day', "shows one day's calls, newest first", check_call_log_day, None),
    ('call-log-conference', "shows one conference's calls", check_call_log_conference, None),
    ('failed-pins-calls', 'shows the calls that gave wrong PINs', check_failed_pins_calls, None),
    ('identities', 'shows the unexpired identities issued to browsers', check_identities, None),
    ('failed-pins-sources', 'counts wrong guesses by source', check_failed_pins_sources, None),
    ('locked-out', 'shows the locked-out source and until when', check_locked_out, None),
    ('guess-budget', 'shows the guess budget spent', check_guess_budget, None),
    ('lift-lockout', "lifts one source's lockout", check_lift_lockout, None),
    ('known-source-add', 'makes a number known and lists known sources', check_known_source_add, None),
    ('raise-budget', 'raises the guess budget', check_raise_budget, None),
    ('dial-in-add', 'adds dial-in numbers', check_dial_in_add, None),
    ('dial-in-list', 'lists dial-in numbers by label', check_dial_in_list, None),
    ('dial-in-remove', 'removes a dial-in number', check_dial_in_remove, None),
    ('prune-calls', 'deletes old call records and no others', check_prune_calls, None),
    ('prune-identities-guesses', 'deletes expired identities, old guesses and old known sources',
     check_prune_identities_guesses, None),
    ('pin-length', 'makes PINs 6 digits and renumbers conferences not over and their attendees',
     check_pin_length, None),
    ('unsafe-names', 'lists names with characters the guards now refuse, in hex',
     check_unsafe_names, unsafe_names_before),
    ('owner-list', 'lists owners, confirmed, admin, last log in', check_owner_list, owners_before),
    ('owner-admin', 'makes an owner admin', check_owner_admin, None),
    ('owner-remove', "removes an account, its sessions and links; its conferences stay",
     check_owner_remove, None),
    ('owner-logout', 'logs an owner out everywhere', check_owner_logout, None),
]


def main():
    tap = Tap()
    try:
        with open(MANUAL) as manual:
            section = examples_section(manual.read())
        blocks = read_blocks(section) if section is not None else []
        problem = None if section is not None else 'no EXAMPLES section'
    except (OSError, ValueError) as error:
        blocks, problem = [], str(error)
    tap.ok(problem is None and blocks, 'pinconf-db(5) has literal blocks in EXAMPLES',
           [problem or 'no .Bd -literal block in EXAMPLES', MANUAL])
    if problem is not None:
        return tap.done()

    names = [name for name, _, _ in blocks if name != '$']
    known = [name for name, _, _, _ in RECIPES]
    untagged = [first for name, _, first in blocks if name is None]
    tap.ok(names == known, 'every SQL block in EXAMPLES is a known recipe, in the known order',
           ['untagged block starting %r (give it a first line .\\" recipe: NAME and a check here)'
            % first for first in untagged]
           + ['unknown recipe %r' % name for name in names if name is not None and name not in known]
           + ['recipe %r is missing from the manual' % name for name in known if name not in names]
           + ['manual order: %s' % ' '.join(n or '(untagged)' for n in names)])
    sql_by_name = {}
    for name, sql, _ in blocks:
        if name not in (None, '$'):
            sql_by_name.setdefault(name, sql)
    db = open_scratch()
    shell = [first for name, _, first in blocks if name == '$' and 'sqlite3' in first]
    tap.ok(len(shell) > 0, 'EXAMPLES shows how to open the database in sqlite3(1)')
    for line in shell:
        passed, why = try_shell_line(line)
        title = 'its shell line works with this sqlite3: %s' % line[2:]
        if passed is None:
            tap.skip(title, why[0])
        else:
            tap.ok(passed, title, why)
    for name, does, check, before in RECIPES:
        title = 'recipe %s %s' % (name, does)
        if name not in sql_by_name:
            tap.ok(False, title, ['not in the manual'])
            continue
        try:
            if before is not None:
                before(db)
            output = run_recipe(db, sql_by_name[name])
            check(db, output)
        except (sqlite3.Error, ValueError, Failure) as error:
            if db.in_transaction:
                db.execute('ROLLBACK')
            tap.ok(False, title, ['%s: %s' % (type(error).__name__, error), 'SQL:', sql_by_name[name]])
            continue
        tap.ok(True, title)
    db.close()
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
