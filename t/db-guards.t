#!/usr/bin/env python3
# db-guards.t: every guard of db/schema.sql refuses what it must, with a
# message an admin understands, and lets the right thing through; PINs are
# assigned free and without clashes, even when nearly all are taken.
#
# Admins meet these guards in sqlite3(1); pinconf-db(5) lists the messages.

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get('PINCONF_SRCDIR') or os.path.join(HERE, '..')
SCHEMA = os.path.join(SRCDIR, 'db', 'schema.sql')
SCRATCH = os.path.join('t', 'tmp', 'db-guards')

# Every trigger and CHECK in the schema, so that a new guard without a test
# here fails the test.
TRIGGERS = {
    'setting_is_never_deleted',
    'conference_checks_pin_insert', 'conference_checks_pin_update',
    'conference_checks_name_insert', 'conference_checks_name_update',
    'conference_assigns_pin_on_insert', 'conference_assigns_pin_on_update',
    'attendee_checks_insert', 'attendee_checks_update',
    'attendee_assigns_pin_on_insert', 'attendee_assigns_pin_on_update',
    'conference_deletes_attendees',
    'owner_deletes_sessions',
}
CHECKS = {'setting': 4, 'conference': 10, 'attendee': 4, 'dial_in': 2, 'call': 2,
          'identity': 0, 'pin_guess': 0, 'known_source': 0,
          'owner': 3, 'owner_session': 0, 'owner_token': 1, 'owner_login_failure': 0, 'owner_callout': 0}

PIN_FORMAT = ('pin must be digits only', 'pin_length')
NO_CONFERENCE = ('conference_id must be the id of an existing conference',)
NO_FREE_PIN = ('no free PIN left', 'raise pin_length')
UNSAFE_NAME = ('name must not contain control, bidirectional or invisible format characters',)


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, passed, name, diagnostics=(), todo=None):
        self.count += 1
        directive = ' # TODO %s' % todo if todo else ''
        print('%sok %d - %s%s' % ('' if passed else 'not ', self.count, name, directive))
        if not passed and not todo:
            self.failed += 1
        if not passed:
            for line in diagnostics:
                for part in str(line).splitlines() or ['']:
                    print('#   ' + part)
        sys.stdout.flush()

    def note(self, text):
        print('# ' + text)

    def done(self):
        print('1..%d' % self.count)
        return 1 if self.failed else 0


tap = Tap()
databases = 0


def fresh():
    """A new scratch database made from the schema, in autocommit mode like sqlite3(1)."""
    global databases
    databases += 1
    path = os.path.join(SCRATCH, 'guards-%02d.db' % databases)
    db = sqlite3.connect(path, isolation_level=None)
    with open(SCHEMA) as schema:
        db.executescript(schema.read())
    return db


def refused(db, name, sql, parameters=(), words=(), todo=None):
    """The statement fails, changes nothing, and its message holds every word."""
    before = db.total_changes
    try:
        db.execute(sql, parameters)
    except sqlite3.Error as error:
        message = str(error)
        missing = [w for w in words if w.lower() not in message.lower()]
        tap.ok(not missing, name,
               ['SQL:     %s %r' % (sql, parameters), 'message: %s' % message,
                'missing: %s' % ', '.join(repr(w) for w in missing)], todo)
        return message
    tap.ok(False, name, ['SQL: %s %r' % (sql, parameters),
                         'was accepted (%d rows changed)' % (db.total_changes - before)], todo)
    return None


def accepted(db, name, sql, parameters=()):
    try:
        db.execute(sql, parameters)
    except sqlite3.Error as error:
        tap.ok(False, name, ['SQL: %s %r' % (sql, parameters), 'refused: %s' % error])
        return False
    tap.ok(True, name)
    return True


def one(db, sql, *parameters):
    row = db.execute(sql, parameters).fetchone()
    return row[0] if row is not None else None


def add_conference(db, name, pin=None, starts_on='2026-01-01', ends_on=None):
    cursor = db.execute('INSERT INTO conference(name, pin, starts_on, ends_on) VALUES (?, ?, ?, ?)',
                        (name, pin, starts_on, ends_on))
    return cursor.lastrowid


def clashes(db):
    """Pairs of conferences that share a PIN on overlapping dates."""
    return db.execute(
        "SELECT a.id, b.id, a.pin FROM conference a JOIN conference b"
        " ON a.pin = b.pin AND a.id < b.id"
        " AND a.starts_on <= coalesce(b.ends_on, '9999-12-31')"
        " AND b.starts_on <= coalesce(a.ends_on, '9999-12-31')").fetchall()


def test_inventory():
    db = fresh()
    triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    tap.ok(triggers == TRIGGERS, 'every trigger in schema.sql is one this test covers',
           ['untested: %s' % sorted(triggers - TRIGGERS), 'gone: %s' % sorted(TRIGGERS - triggers)])
    checks = {}
    for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite_%'"):
        checks[name] = len(re.findall(r'\bCHECK\s*\(', sql))
    tap.ok(checks == CHECKS, 'every CHECK constraint in schema.sql is one this test covers',
           ['schema: %r' % checks, 'tested: %r' % CHECKS])
    tap.ok(one(db, 'PRAGMA user_version') == 3 and one(db, 'PRAGMA journal_mode') == 'wal',
           'the schema sets user_version 3 and WAL mode')
    tap.ok(one(db, 'PRAGMA page_size') == 1024, 'the schema makes 1 KiB pages, so a commit writes little WAL',
           ['page_size: %r' % one(db, 'PRAGMA page_size')])


def test_settings():
    db = fresh()
    for value in (3, 9, 0, -4):
        refused(db, 'pin_length %d is refused: must be from 4 to 8' % value,
                "UPDATE setting SET value = ? WHERE name = 'pin_length'", (value,),
                ('pin_length', 'from 4 to 8'))
    refused(db, "pin_length 'six' is refused: must be a whole number",
            "UPDATE setting SET value = 'six' WHERE name = 'pin_length'", (), ('whole number',))
    refused(db, "a non-integer setting (guess_limit 'ten') is refused: value must be an integer",
            "UPDATE setting SET value = 'ten' WHERE name = 'guess_limit'", (), ('whole number',))
    refused(db, 'a fractional setting (guess_limit 4.5) is refused: value must be an integer',
            "UPDATE setting SET value = 4.5 WHERE name = 'guess_limit'", (), ('whole number',))
    refused(db, 'a setting of 0 (guess_window) is refused: value must be > 0',
            "UPDATE setting SET value = 0 WHERE name = 'guess_window'", (), ('whole number', 'above 0'))
    refused(db, 'a NULL setting is refused',
            "UPDATE setting SET value = NULL WHERE name = 'guess_limit'", (), ('NOT NULL', 'value'))
    refused(db, 'deleting a setting is refused: UPDATE its value instead',
            "DELETE FROM setting WHERE name = 'guess_limit'", (), ('cannot be deleted', 'UPDATE'))
    refused(db, 'an unknown setting name is refused, and the message lists the known ones',
            "INSERT INTO setting(name, value) VALUES ('pin_lenght', 6)", (),
            ('CHECK', 'pin_length', 'guess_limit', 'guess_window', 'guess_budget'))
    refused(db, 'renaming a setting to an unknown name is refused',
            "UPDATE setting SET name = 'guesses' WHERE name = 'guess_limit'", (), ('setting name must be',))
    rows = db.execute('SELECT name, value FROM setting ORDER BY name').fetchall()
    tap.ok(rows == [('call_max_hours', 12), ('guess_budget', 20), ('guess_limit', 10),
                    ('guess_window', 900), ('identity_limit', 100), ('pin_length', 4)],
           'the refused changes left the settings as they were', ['settings: %r' % rows])
    accepted(db, 'guess_limit 20 is accepted', "UPDATE setting SET value = 20 WHERE name = 'guess_limit'")
    accepted(db, "pin_length '5' (text of a number) is accepted as the number 5",
             "UPDATE setting SET value = '5' WHERE name = 'pin_length'")
    refused(db, 'INSERT OR REPLACE cannot set pin_length outside 4 to 8',
            "INSERT OR REPLACE INTO setting(name, value) VALUES ('pin_length', 20)", (),
            ('pin_length', '8'))
    for value, why in ((0, '0'), (-20, 'negative'), (2.5, 'fractional'), ('many', 'text'),
                       ('20 per hour', 'text with a number')):
        refused(db, 'guess_budget %r is refused (%s): must be a positive whole number' % (value, why),
                "UPDATE setting SET value = ? WHERE name = 'guess_budget'", (value,),
                ('setting value must be a whole number above 0',))
    refused(db, 'guess_budget NULL is refused',
            "UPDATE setting SET value = NULL WHERE name = 'guess_budget'", (), ('NOT NULL', 'value'))
    refused(db, 'guess_budget cannot be deleted',
            "DELETE FROM setting WHERE name = 'guess_budget'", (), ('cannot be deleted',))
    tap.ok(one(db, "SELECT value FROM setting WHERE name = 'guess_budget'") == 20,
           'guess_budget is 20 at first, and the refused changes kept it')
    accepted(db, 'guess_budget 100 is accepted',
             "UPDATE setting SET value = 100 WHERE name = 'guess_budget'")
    refused(db, 'guess_budget 1 is refused: one source may make half of it, so it must be 2 or more',
            "UPDATE setting SET value = 1 WHERE name = 'guess_budget'", (),
            ('guess_budget must be 2 or more', 'half of it'))
    accepted(db, 'guess_budget 2 is accepted', "UPDATE setting SET value = 2 WHERE name = 'guess_budget'")
    tap.ok(db.execute('SELECT budget, spent, per_source FROM guess_budget').fetchone() == (2, 0, 1),
           'the guess_budget view shows the setting, no guesses spent, and 1 a source an hour')
    accepted(db, 'guess_limit 1 is accepted (the limit on one source is not tied to the budget)',
             "UPDATE setting SET value = 1 WHERE name = 'guess_limit'")


def test_pin_format():
    db = fresh()
    for pin, why in (('12a4', 'a letter'), ('12 4', 'a space'), ('-123', 'a sign'),
                     ('１２３４', 'full-width digits')):
        refused(db, 'a PIN with %s (%s) is refused: digits only' % (why, pin),
                "INSERT INTO conference(name, pin) VALUES ('Weekly sync', ?)", (pin,), PIN_FORMAT)
    for pin in ('123', '12345', ''):
        refused(db, 'a PIN of %d digits is refused: must have pin_length digits' % len(pin),
                "INSERT INTO conference(name, pin) VALUES ('Weekly sync', ?)", (pin,), PIN_FORMAT)
    refused(db, 'a PIN given as the number 0123 is refused (it is 123)',
            "INSERT INTO conference(name, pin) VALUES ('Weekly sync', 0123)", (), PIN_FORMAT)
    conference = add_conference(db, 'Weekly sync', '4711')
    refused(db, 'changing a PIN to one with a letter is refused',
            'UPDATE conference SET pin = ? WHERE id = ?', ('47x1', conference), PIN_FORMAT)
    tap.ok(one(db, 'SELECT pin FROM conference WHERE id = ?', conference) == '4711',
           'a refused PIN change keeps the old PIN')

    accepted(db, 'pin_length can be changed to 6',
             "UPDATE setting SET value = 6 WHERE name = 'pin_length'")
    accepted(db, 'with pin_length 6 a 6-digit PIN is accepted',
             "INSERT INTO conference(name, pin) VALUES ('Six', '123456')")
    refused(db, 'with pin_length 6 a 4-digit PIN is refused',
            "INSERT INTO conference(name, pin) VALUES ('Four', '1234')", (), PIN_FORMAT)
    accepted(db, 'with pin_length 6 an old 4-digit conference can still change its dates',
             "UPDATE conference SET ends_on = '2027-03-31' WHERE id = ?", (conference,))
    refused(db, 'with pin_length 6 an old conference cannot be given a new 4-digit PIN',
            "UPDATE conference SET pin = '4712' WHERE id = ?", (conference,), PIN_FORMAT)
    accepted(db, 'with pin_length 6 it can change dates with a new PIN (SET pin = NULL)',
             "UPDATE conference SET pin = NULL, ends_on = '2027-06-30' WHERE id = ?", (conference,))
    pin = one(db, 'SELECT pin FROM conference WHERE id = ?', conference)
    tap.ok(pin is not None and re.fullmatch(r'[0-9]{6}', pin) is not None,
           'with pin_length 6 an assigned PIN has 6 digits', ['assigned %r' % pin])


def test_dates_and_names():
    db = fresh()
    for value in ('2026-13-01', '31/12/2026', '2026-12-1', '2026-12-01 ', 'tomorrow', '20261231'):
        refused(db, 'ends_on %r is refused: not a date' % value,
                "INSERT INTO conference(name, pin, starts_on, ends_on)"
                " VALUES ('Weekly sync', '4711', '2026-01-01', ?)",
                (value,), ('ends_on must be a date',))
    refused(db, "starts_on '2026-13-01' is refused: not a date",
            "INSERT INTO conference(name, pin, starts_on) VALUES ('Weekly sync', '4711', '2026-13-01')",
            (), ('starts_on must be a date',))
    refused(db, 'starts_on NULL is refused',
            "INSERT INTO conference(name, pin, starts_on) VALUES ('Weekly sync', '4711', NULL)",
            (), ('NOT NULL', 'starts_on'))
    refused(db, 'a conference starting after it ends is refused',
            "INSERT INTO conference(name, pin, starts_on, ends_on)"
            " VALUES ('Weekly sync', '4711', '2026-12-31', '2026-12-01')",
            (), ('must not be before starts_on',))
    conference = add_conference(db, 'Weekly sync', '4711', '2026-12-01', '2026-12-31')
    refused(db, 'moving ends_on before starts_on is refused',
            "UPDATE conference SET ends_on = '2026-11-30' WHERE id = ?", (conference,),
            ('must not be before starts_on',))
    accepted(db, 'a conference of one day (starts_on = ends_on) is accepted',
             "INSERT INTO conference(name, pin, starts_on, ends_on)"
             " VALUES ('One day', '1111', '2026-12-24', '2026-12-24')")
    refused(db, "ends_on '2026-02-30' is refused: February has no 30th",
            "INSERT INTO conference(name, pin, starts_on, ends_on)"
            " VALUES ('Weekly sync', '2222', '2026-02-01', '2026-02-30')",
            (), ('ends_on must be a date',))
    for name, why in (('', 'an empty name'), ('   ', 'a blank name'), ('x' * 201, 'a 201-character name')):
        refused(db, '%s is refused' % why,
                "INSERT INTO conference(name, pin) VALUES (?, '3333')", (name,), ('CHECK', 'name'))
    refused(db, 'a missing name is refused', "INSERT INTO conference(pin) VALUES ('3333')",
            (), ('NOT NULL', 'conference.name'))
    accepted(db, 'a 200-character name is accepted',
             "INSERT INTO conference(name, pin) VALUES (?, '3333')", ('x' * 200,))
    refused(db, "two conferences with one sinch_id are refused",
            "UPDATE conference SET sinch_id = (SELECT sinch_id FROM conference WHERE id = ?)"
            " WHERE name = 'One day'", (conference,), ('UNIQUE', 'sinch_id'))


def test_pin_clash():
    db = fresh()
    first = add_conference(db, 'Weekly sync', '4711', '2026-12-01', '2026-12-31')
    message = refused(db, 'one PIN on overlapping dates is refused, naming the other conference',
                      "INSERT INTO conference(name, pin, starts_on, ends_on)"
                      " VALUES ('Board', '4711', '2026-12-20', '2027-01-10')", (),
                      ('PIN 4711', 'already used by conference %d (Weekly sync)' % first,
                       'overlapping dates', 'choose another PIN'))
    tap.note('the admin sees: %s' % message)
    refused(db, 'a conference without an end clashes with a dated one that shares its PIN',
            "INSERT INTO conference(name, pin, starts_on) VALUES ('Help desk', '4711', '2026-06-01')",
            (), ('PIN 4711', 'conference %d (Weekly sync)' % first))
    refused(db, 'sharing one day (one ends as the other starts) counts as overlapping',
            "INSERT INTO conference(name, pin, starts_on, ends_on)"
            " VALUES ('Board', '4711', '2026-12-31', '2027-01-31')", (),
            ('PIN 4711', 'conference %d (Weekly sync)' % first))
    accepted(db, 'the same PIN on dates that do not overlap is accepted',
             "INSERT INTO conference(name, pin, starts_on, ends_on)"
             " VALUES ('January', '4711', '2027-01-01', '2027-01-31')")
    january = one(db, "SELECT id FROM conference WHERE name = 'January'")
    refused(db, 'moving dates into an overlap with the same PIN is refused, naming the other',
            "UPDATE conference SET starts_on = '2026-12-15' WHERE id = ?", (january,),
            ('PIN 4711', 'conference %d (Weekly sync)' % first))
    refused(db, 'removing the end date into an overlap is refused',
            "UPDATE conference SET ends_on = NULL WHERE id = ?", (first,),
            ('PIN 4711', 'conference %d (January)' % january))
    other = add_conference(db, 'Help desk', '2580')
    refused(db, 'changing a PIN to one in use on overlapping dates is refused',
            "UPDATE conference SET pin = '4711' WHERE id = ?", (other,),
            ('PIN 4711', 'conference %d (Weekly sync)' % first))
    accepted(db, "changing a conference's own dates, keeping its PIN, is accepted",
             "UPDATE conference SET ends_on = '2026-12-30' WHERE id = ?", (first,))
    tap.ok(clashes(db) == [], 'no two conferences share a PIN on overlapping dates', clashes(db))


def test_dial_in_and_call():
    db = fresh()
    for number, why in (('0046850512345', 'starts with 00'), ('+46 70', 'has a space'),
                        ('+046850512345', 'has a 0 after +'), ('+4685051234567890', 'has 16 digits'),
                        ('+123456', 'has 6 digits'), ('46850512345', 'has no +'),
                        ('+46-8-505', 'has dashes')):
        refused(db, 'dial-in number %s is refused: %s, not E.164' % (number, why),
                "INSERT INTO dial_in(label, number) VALUES ('Sweden', ?)", (number,),
                ('E.164',))
    accepted(db, 'dial-in number +46850512345 is accepted',
             "INSERT INTO dial_in(label, number) VALUES ('Sweden', '+46850512345')")
    accepted(db, 'a 15-digit dial-in number is accepted',
             "INSERT INTO dial_in(label, number) VALUES ('Long', '+123456789012345')")
    refused(db, 'a dial-in number listed twice is refused',
            "INSERT INTO dial_in(label, number) VALUES ('Stockholm', '+46850512345')", (),
            ('UNIQUE', 'dial_in.number'))
    refused(db, 'a dial-in number with a blank label is refused',
            "INSERT INTO dial_in(label, number) VALUES (' ', '+4631123456')", (), ('CHECK', 'label'))
    refused(db, "a call's origin other than pstn or mxp is refused",
            "INSERT INTO call(callid, origin) VALUES ('c1', 'sip')", (), ('CHECK', 'origin', 'pstn', 'mxp'))
    refused(db, "a call's origin in capitals is refused",
            "INSERT INTO call(callid, origin) VALUES ('c2', 'PSTN')", (), ('CHECK', 'origin'))
    accepted(db, 'a call without an origin (no ICE seen) is accepted',
             "INSERT INTO call(callid, pin_attempts) VALUES ('c3', 1)")


def test_pin_assignment():
    db = fresh()
    for i in range(300):
        add_conference(db, 'Auto %d' % i)
    pins = [pin for (pin,) in db.execute('SELECT pin FROM conference')]
    tap.ok(all(pin is not None and re.fullmatch(r'[0-9]{4}', pin) for pin in pins),
           'assigned PINs are 4 digits', [p for p in pins if not re.fullmatch(r'[0-9]{4}', p or '')])
    tap.ok(len(set(pins)) == 300 and clashes(db) == [],
           '300 overlapping conferences get 300 different PINs', clashes(db)[:5])
    explicit = add_conference(db, 'Explicit NULL', None)
    tap.ok(one(db, 'SELECT pin FROM conference WHERE id = ?', explicit) is not None,
           'a PIN given as NULL is assigned too')

    first = next('%04d' % n for n in range(10000) if '%04d' % n not in pins)
    target = add_conference(db, 'Renumbered', first, '2030-01-01', '2030-01-31')
    seen = set()
    for _ in range(5):
        db.execute('UPDATE conference SET pin = NULL WHERE id = ?', (target,))
        seen.add(one(db, 'SELECT pin FROM conference WHERE id = ?', target))
    tap.ok(None not in seen and all(re.fullmatch(r'[0-9]{4}', p) for p in seen) and seen != {first}
           and clashes(db) == [], 'SET pin = NULL assigns a new free PIN',
           ['PINs after five renumberings of %s: %r' % (first, seen)])

    db.execute("UPDATE setting SET value = 8 WHERE name = 'pin_length'")
    started = time.process_time()	# CPU seconds, as below: not what a loaded machine adds
    eight = add_conference(db, 'Eight')
    elapsed = time.process_time() - started
    pin = one(db, 'SELECT pin FROM conference WHERE id = ?', eight)
    tap.ok(re.fullmatch(r'[0-9]{8}', pin or '') is not None and elapsed < 2,
           'with pin_length 8 a PIN is assigned at once (under 2 s of CPU), not after listing 10^8',
           ['PIN %r in %.3f s' % (pin, elapsed)])


def test_nearly_full():
    # CPU seconds: the work SQLite does, not what a loaded machine adds.
    db = fresh()
    free = ['0000', '0001', '0999', '1000', '4711', '5000', '8642', '9000', '9998', '9999']
    taken = [('%04d' % n,) for n in range(10000) if '%04d' % n not in free]
    started = time.process_time()
    db.execute('BEGIN')
    db.executemany("INSERT INTO conference(name, pin, starts_on) VALUES ('Taken ' || ?1, ?1, '2026-01-01')",
                   taken)
    db.execute('COMMIT')
    tap.note('nearly full: %d forever-valid conferences inserted in %.3f s'
             % (len(taken), time.process_time() - started))
    got, times = [], []
    for i in range(10):
        started = time.process_time()
        try:
            conference = add_conference(db, 'Late %d' % i)
        except sqlite3.Error as error:
            got.append('refused: %s' % error)
            continue
        finally:
            times.append(time.process_time() - started)
        got.append(one(db, 'SELECT pin FROM conference WHERE id = ?', conference))
    tap.ok(sorted(got) == free, 'with 9,990 of 10,000 PINs taken, 10 more conferences get the 10 free PINs',
           ['got %r' % got])
    tap.note('nearly full: the 10 inserts took %s ms (%.1f ms in all)'
             % (' '.join('%.1f' % (t * 1000) for t in times), sum(times) * 1000))
    started = time.process_time()
    refused(db, 'the 11th conference is refused: no free PIN left',
            "INSERT INTO conference(name, starts_on) VALUES ('One too many', '2026-01-01')", (), NO_FREE_PIN)
    elapsed = time.process_time() - started
    tap.note('nearly full: the refused 11th insert took %.1f ms' % (elapsed * 1000))
    tap.ok(max(times + [elapsed]) < 2, 'each insert into a nearly full PIN space takes under 2 s of CPU',
           ['slowest %.3f s' % max(times + [elapsed])])
    tap.ok(one(db, "SELECT count(*) FROM conference WHERE name = 'One too many'") == 0,
           'the refused conference was not stored')

    past = add_conference(db, 'Last year', '1234', '2025-01-01', '2025-01-31')
    refused(db, 'SET pin = NULL with new dates on which every PIN is taken is refused: no free PIN left',
            'UPDATE conference SET pin = NULL, ends_on = NULL WHERE id = ?', (past,), NO_FREE_PIN)
    tap.ok(one(db, 'SELECT pin FROM conference WHERE id = ?', past) == '1234',
           'the refused renumbering kept the old PIN')

    db.execute("DELETE FROM conference WHERE pin = '0042'")
    holder = one(db, "SELECT id FROM conference WHERE pin = '7777'")
    db.execute('UPDATE conference SET pin = NULL WHERE id = ?', (holder,))
    pin = one(db, 'SELECT pin FROM conference WHERE id = ?', holder)
    tap.ok(pin in ('0042', '7777') and clashes(db) == [],
           'with one PIN free, SET pin = NULL takes a free one', ['got %r' % pin])


def holder_clashes(db):
    """Pairs of PIN holders (conferences and attendees) sharing a PIN on overlapping dates."""
    return db.execute(
        "SELECT a.holder, b.holder, a.pin FROM pin_holder a JOIN pin_holder b"
        " ON a.pin = b.pin AND (a.kind, a.holder_id) < (b.kind, b.holder_id)"
        " AND a.starts_on <= coalesce(b.ends_on, '9999-12-31')"
        " AND b.starts_on <= coalesce(a.ends_on, '9999-12-31')").fetchall()


def add_attendee(db, conference, name, pin=None):
    return db.execute('INSERT INTO attendee(conference_id, name, pin) VALUES (?, ?, ?)',
                      (conference, name, pin)).lastrowid


def test_conference_rules():
    db = fresh()
    conference = add_conference(db, 'Weekly sync', '4711')
    tap.ok(db.execute('SELECT max_participants, locked, announce_count FROM conference WHERE id = ?',
                      (conference,)).fetchone() == (None, 0, 0),
           'a new conference has no participant limit, is unlocked and does not announce the count')
    for value, why in ((1, 'one'), (0, 'zero'), (-5, 'negative'), (1001, 'over 1000'),
                       (2.5, 'fractional'), ('ten', 'text'), ('', 'empty text')):
        refused(db, 'max_participants %r is refused (%s)' % (value, why),
                'UPDATE conference SET max_participants = ? WHERE id = ?', (value, conference),
                ('max_participants must be NULL (no limit) or a whole number from 2 to 1000',))
    refused(db, 'a new conference with max_participants 1 is refused',
            "INSERT INTO conference(name, max_participants) VALUES ('Solo', 1)", (),
            ('max_participants must be',))
    for value in (2, 1000, '25', None):
        accepted(db, 'max_participants %r is accepted' % (value,),
                 'UPDATE conference SET max_participants = ? WHERE id = ?', (value, conference))
    for column in ('locked', 'announce_count'):
        for value, why in ((2, 'two'), (-1, 'negative'), ('yes', 'a word'), (0.5, 'a fraction')):
            refused(db, '%s %r is refused (%s): must be 0 or 1' % (column, value, why),
                    'UPDATE conference SET %s = ? WHERE id = ?' % column, (value, conference),
                    ('%s must be 0 or 1' % column,))
        refused(db, '%s NULL is refused' % column,
                'UPDATE conference SET %s = NULL WHERE id = ?' % column, (conference,),
                ('NOT NULL', 'conference.%s' % column))
        for value in (1, 0):
            accepted(db, '%s %d is accepted' % (column, value),
                     'UPDATE conference SET %s = ? WHERE id = ?' % column, (value, conference))
    flags = (('conference', 'wait_for_host', conference), ('conference', 'end_with_host', conference),
             ('attendee', 'host', add_attendee(db, conference, 'Host')),
             ('call', 'muted', db.execute("INSERT INTO call(callid) VALUES ('c-flag')").lastrowid))
    for table, column, row in flags:
        key = 'rowid'
        refused(db, '%s.%s 2 is refused: must be 0 or 1' % (table, column),
                'UPDATE %s SET %s = 2 WHERE %s = ?' % (table, column, key), (row,),
                ('%s must be 0 or 1' % column,))
        refused(db, '%s.%s NULL is refused' % (table, column),
                'UPDATE %s SET %s = NULL WHERE %s = ?' % (table, column, key), (row,),
                ('NOT NULL', '%s.%s' % (table, column)))
        tap.ok(one(db, 'SELECT %s FROM %s WHERE %s = ?' % (column, table, key), row) == 0,
               '%s.%s is 0 unless set' % (table, column))
        accepted(db, '%s.%s 1 is accepted' % (table, column),
                 'UPDATE %s SET %s = 1 WHERE %s = ?' % (table, column, key), (row,))
    accepted(db, 'a conference can be created capped, locked and announcing',
             "INSERT INTO conference(name, max_participants, locked, announce_count)"
             " VALUES ('Board', 12, 1, 1)")


def test_sinch_id():
    db = fresh()
    conference = add_conference(db, 'Weekly sync', '4711')
    generated = one(db, 'SELECT sinch_id FROM conference WHERE id = ?', conference)
    tap.ok(re.fullmatch(r'pinconf-[0-9a-f]{16}', generated or '') is not None,
           'a generated sinch_id passes its own CHECK', ['sinch_id %r' % generated])
    for value, why in (('', 'empty'), ('team room', 'a space'), ('x' * 65, '65 characters'),
                       ('räd', 'a non-ASCII letter'), ('a.b', 'a dot'), ('a/b', 'a slash'),
                       ("a'b", 'a quote'), (None, 'NULL')):
        refused(db, 'sinch_id %r is refused (%s)' % (value if value is None or len(value) < 10
                                                      else value[:8] + '...', why),
                'UPDATE conference SET sinch_id = ? WHERE id = ?', (value, conference),
                ('sinch_id',))
    refused(db, 'a new conference with a sinch_id with a space is refused, saying what is allowed',
            "INSERT INTO conference(name, sinch_id) VALUES ('Board', 'board room')", (),
            ('sinch_id must be 1 to 64 letters, digits, - or _',))
    for value in ('x' * 64, 'Team_room-1', '7'):
        accepted(db, 'sinch_id %r is accepted' % (value if len(value) < 10 else 'x * 64'),
                 'UPDATE conference SET sinch_id = ? WHERE id = ?', (value, conference))


def test_attendee_rows():
    db = fresh()
    conference = add_conference(db, 'Weekly sync', '4711')
    for name, why in (('', 'an empty name'), ('   ', 'a blank name'), ('x' * 201, 'a 201-character name')):
        refused(db, 'an attendee with %s is refused' % why,
                'INSERT INTO attendee(conference_id, name) VALUES (?, ?)', (conference, name),
                ('attendee name must be 1 to 200 characters',))
    refused(db, 'an attendee without a name is refused',
            'INSERT INTO attendee(conference_id) VALUES (?)', (conference,), ('NOT NULL', 'attendee.name'))
    accepted(db, 'an attendee with a 200-character name is accepted',
             'INSERT INTO attendee(conference_id, name) VALUES (?, ?)', (conference, 'x' * 200))
    accepted(db, 'an attendee with a name in another script is accepted',
             'INSERT INTO attendee(conference_id, name) VALUES (?, ?)', (conference, 'Анна Свенссон'))
    for pin, why in (('12a4', 'a letter'), ('123', '3 digits'), ('12345', '5 digits'), ('', 'nothing'),
                     ('１２３４', 'full-width digits')):
        refused(db, 'an attendee PIN with %s (%r) is refused' % (why, pin),
                "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna', ?)", (conference, pin),
                PIN_FORMAT)
    refused(db, 'an attendee PIN given as the number 0123 is refused',
            "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna', 0123)", (conference,),
            PIN_FORMAT)
    for email in ('anna', '@example.com', 'anna@', 'a' * 250 + '@x.se'):
        refused(db, 'an attendee e-mail %r is refused' % email[:20],
                "INSERT INTO attendee(conference_id, name, email) VALUES (?, 'Anna', ?)", (conference, email),
                ('attendee email must be an address with an @, at most 254 bytes',))
    for phone in ('0701234567', '+0701234567', '+46 70 123', '+123456', '+1234567890123456'):
        refused(db, 'an attendee phone %r is refused' % phone,
                "INSERT INTO attendee(conference_id, name, phone) VALUES (?, 'Anna', ?)", (conference, phone),
                ('attendee phone must be E.164: + then 7 to 15 digits',))
    accepted(db, 'an attendee with an e-mail and an E.164 phone is accepted',
             "INSERT INTO attendee(conference_id, name, email, phone) VALUES (?, 'Eva', 'eva@example.com',"
             " '+46701234567')", (conference,))
    anna = add_attendee(db, conference, 'Anna', '1234')
    refused(db, "changing an attendee's PIN to one with a letter is refused",
            "UPDATE attendee SET pin = '12x4' WHERE id = ?", (anna,), PIN_FORMAT)
    for target, why in ((999, 'a conference that does not exist'), (None, 'no conference')):
        refused(db, 'an attendee of %s is refused' % why,
                "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Bo', '5678')", (target,),
                NO_CONFERENCE)
    refused(db, 'moving an attendee to a conference that does not exist is refused',
            'UPDATE attendee SET conference_id = 999 WHERE id = ?', (anna,), NO_CONFERENCE)
    tap.ok(db.execute('SELECT conference_id, pin FROM attendee WHERE id = ?', (anna,)).fetchone()
           == (conference, '1234'), 'the refused changes kept the attendee as it was')
    accepted(db, "renaming an attendee is accepted", "UPDATE attendee SET name = 'Anna S.' WHERE id = ?",
             (anna,))
    db.execute("UPDATE setting SET value = 6 WHERE name = 'pin_length'")
    accepted(db, 'with pin_length 6 an attendee keeps its 4-digit PIN when renamed',
             "UPDATE attendee SET name = 'Anna Svensson' WHERE id = ?", (anna,))
    refused(db, 'with pin_length 6 an attendee cannot be given a new 4-digit PIN',
            "UPDATE attendee SET pin = '4321' WHERE id = ?", (anna,), PIN_FORMAT)
    accepted(db, 'with pin_length 6 SET pin = NULL gives an attendee a new PIN',
             'UPDATE attendee SET pin = NULL WHERE id = ?', (anna,))
    pin = one(db, 'SELECT pin FROM attendee WHERE id = ?', anna)
    tap.ok(re.fullmatch(r'[0-9]{6}', pin or '') is not None, 'the new attendee PIN has 6 digits',
           ['got %r' % pin])


def test_attendee_clash():
    db = fresh()
    weekly = add_conference(db, 'Weekly sync', '4711', '2026-12-01', '2026-12-31')
    board = add_conference(db, 'Board', '2580', '2026-12-07', '2026-12-11')
    later = add_conference(db, 'Spring', '5555', '2027-03-01', '2027-03-31')
    message = refused(db, "an attendee PIN that another conference holds is refused, naming it",
                      "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna', '2580')", (weekly,),
                      ('PIN 2580 is already used by conference %d (Board)' % board,
                       'overlapping dates', 'choose another PIN'))
    tap.note('the admin sees: %s' % message)
    refused(db, "an attendee PIN equal to its own conference's PIN is refused",
            "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Anna', '4711')", (weekly,),
            ('PIN 4711 is already used by conference %d (Weekly sync)' % weekly,))
    anna = add_attendee(db, weekly, 'Anna Svensson', '1234')
    message = refused(db, "an attendee PIN that another attendee holds is refused, naming the holder",
                      "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Bo', '1234')", (board,),
                      ('PIN 1234 is already used by attendee %d (Anna Svensson) of conference %d (Weekly sync)'
                       % (anna, weekly),))
    tap.note('the admin sees: %s' % message)
    refused(db, 'two attendees of one conference cannot share a PIN',
            "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Bo', '1234')", (weekly,),
            ('attendee %d (Anna Svensson)' % anna,))
    refused(db, "a new conference cannot take an attendee's PIN on overlapping dates",
            "INSERT INTO conference(name, pin, starts_on) VALUES ('Help desk', '1234', '2026-06-01')", (),
            ('PIN 1234 is already used by attendee %d (Anna Svensson) of conference %d (Weekly sync)'
             % (anna, weekly),))
    refused(db, "a conference's PIN cannot change to an attendee's",
            "UPDATE conference SET pin = '1234' WHERE id = ?", (board,), ('attendee %d (Anna Svensson)' % anna,))
    refused(db, "a conference's PIN cannot change to its own attendee's",
            "UPDATE conference SET pin = '1234' WHERE id = ?", (weekly,), ('attendee %d (Anna Svensson)' % anna,))
    refused(db, "nor when its dates move in the same statement",
            "UPDATE conference SET pin = '1234', starts_on = '2030-01-01', ends_on = '2030-01-31'"
            " WHERE id = ?", (weekly,), ('attendee %d (Anna Svensson)' % anna,))
    accepted(db, 'an attendee PIN that a conference holds on other dates is accepted',
             "INSERT INTO attendee(conference_id, name, pin) VALUES (?, 'Carl', '5555')", (weekly,))
    carl = one(db, "SELECT id FROM attendee WHERE name = 'Carl'")
    accepted(db, 'a conference on other dates may take an attendee PIN',
             "INSERT INTO conference(name, pin, starts_on, ends_on)"
             " VALUES ('Summer', '1234', '2027-06-01', '2027-06-30')")
    message = refused(db, "a conference whose dates move onto another's attendee PIN is refused, naming it",
                      "UPDATE conference SET starts_on = '2026-12-20' WHERE id = ?", (later,),
                      ('PIN 5555 is already used by attendee %d (Carl) of conference %d (Weekly sync)'
                       % (carl, weekly),))
    tap.note('the admin sees: %s' % message)
    message = refused(db, "a conference whose dates move its attendee's PIN onto another holder is refused",
                      "UPDATE conference SET ends_on = '2027-03-15' WHERE id = ?", (weekly,),
                      ('PIN 5555 of attendee %d (Carl)' % carl,
                       'already used by conference %d (Spring)' % later, 'change one of the PINs first'))
    tap.note('the admin sees: %s' % message)
    refused(db, "an attendee's PIN cannot change to another holder's",
            "UPDATE attendee SET pin = '2580' WHERE id = ?", (anna,),
            ('PIN 2580 is already used by conference %d (Board)' % board,))
    refused(db, 'an attendee cannot move to a conference where its PIN is taken',
            'UPDATE attendee SET conference_id = ? WHERE id = ?', (later, carl),
            ('PIN 5555 is already used by conference %d (Spring)' % later,))
    accepted(db, "an attendee keeping its PIN may be updated (its own PIN is no clash)",
             "UPDATE attendee SET pin = '1234', name = 'Anna S.' WHERE id = ?", (anna,))
    accepted(db, "a conference may change its dates when no PIN clashes",
             "UPDATE conference SET ends_on = '2027-01-31' WHERE id = ?", (weekly,))
    tap.ok(holder_clashes(db) == [], 'no two PIN holders share a PIN on overlapping dates',
           holder_clashes(db))


def test_attendee_pin_assignment():
    db = fresh()
    conferences = [add_conference(db, 'Conference %d' % i) for i in range(50)]
    for i in range(300):
        add_attendee(db, conferences[i % 50], 'Attendee %d' % i)
    pins = [pin for (pin,) in db.execute('SELECT pin FROM pin_holder')]
    tap.ok(len(pins) == 350 and all(re.fullmatch(r'[0-9]{4}', p or '') for p in pins),
           '50 conferences and 300 attendees all get 4-digit PINs', ['%d PINs' % len(pins)])
    tap.ok(len(set(pins)) == 350 and holder_clashes(db) == [],
           'assigned attendee PINs avoid every conference and every other attendee', holder_clashes(db)[:5])
    anna = add_attendee(db, conferences[0], 'Anna', None)
    tap.ok(one(db, 'SELECT pin FROM attendee WHERE id = ?', anna) is not None,
           'an attendee PIN given as NULL is assigned too')


def test_attendee_nearly_full():
    db = fresh()
    free = ['0000', '0042', '4711', '9999']
    taken = ['%04d' % n for n in range(10000) if '%04d' % n not in free]
    db.execute('BEGIN')
    db.execute("INSERT INTO conference(name, pin, starts_on) VALUES ('Host', '0001', '2026-01-01')")
    host = one(db, "SELECT id FROM conference WHERE pin = '0001'")
    # Half the space held by conferences, half by the host's attendees.
    db.executemany("INSERT INTO conference(name, pin, starts_on) VALUES ('Taken ' || ?1, ?1, '2026-01-01')",
                   [(p,) for p in taken[1:5000]])
    db.executemany("INSERT INTO attendee(conference_id, name, pin) VALUES (?1, 'Taken ' || ?2, ?2)",
                   [(host, p) for p in taken[5000:]])
    db.execute('COMMIT')
    got = []
    for i in range(4):
        try:
            got.append(one(db, 'SELECT pin FROM attendee WHERE id = ?', add_attendee(db, host, 'Late %d' % i)))
        except sqlite3.Error as error:
            got.append('refused: %s' % error)
    tap.ok(sorted(got) == free, 'with 9,996 PINs held by conferences and attendees, 4 attendees get the 4 free',
           ['got %r' % got])
    refused(db, 'the next attendee is refused: no free PIN left',
            "INSERT INTO attendee(conference_id, name) VALUES (?, 'One too many')", (host,), NO_FREE_PIN)
    refused(db, 'and so is the next conference',
            "INSERT INTO conference(name, starts_on) VALUES ('One too many', '2026-01-01')", (), NO_FREE_PIN)
    accepted(db, "a conference on dates before every holder's still gets a PIN",
             "INSERT INTO conference(name, starts_on, ends_on) VALUES ('Past', '2020-01-01', '2020-01-31')")


def test_attendee_cascade():
    db = fresh()
    weekly = add_conference(db, 'Weekly sync', '4711')
    board = add_conference(db, 'Board', '2580')
    for name in ('Anna', 'Bo'):
        add_attendee(db, weekly, name)
    add_attendee(db, board, 'Carl')
    db.execute("INSERT INTO call(callid, origin, caller, attendee_id, conference_id, conference_name,"
               " joined) VALUES ('c1', 'pstn', 'Anna', 1, ?, 'Weekly sync', '2026-11-24T10:00:00Z')",
               (weekly,))
    db.close()
    path = os.path.join(SCRATCH, 'guards-%02d.db' % databases)
    program = os.environ.get('SQLITE3') or 'sqlite3'
    result = subprocess.run([program, '-bail', path],
                            input='PRAGMA foreign_keys;\nDELETE FROM conference WHERE id = %d;\n' % weekly,
                            capture_output=True, text=True)
    db = sqlite3.connect(path, isolation_level=None)
    left = db.execute('SELECT name FROM attendee ORDER BY name').fetchall()
    tap.ok(result.returncode == 0 and result.stdout.strip() == '0' and left == [('Carl',)],
           "deleting a conference in a plain sqlite3 shell (foreign keys off) deletes its attendees only",
           ['foreign_keys %r, exit %d, %s' % (result.stdout.strip(), result.returncode, result.stderr),
            'attendees left %r' % left])
    tap.ok(one(db, "SELECT count(*) FROM call WHERE callid = 'c1'") == 1,
           "the deleted conference's calls are kept")
    db.execute('PRAGMA foreign_keys = ON')
    accepted(db, 'with foreign keys on, deleting a conference with attendees works too',
             'DELETE FROM conference WHERE id = ?', (board,))
    tap.ok(one(db, 'SELECT count(*) FROM attendee') == 0, 'and its attendees are gone')


def test_owner_rows():
    db = fresh()
    accepted(db, 'an owner with an address', "INSERT INTO owner(email) VALUES ('ann@example.com')")
    refused(db, 'a second owner with the same address in other case',
            "INSERT INTO owner(email) VALUES ('ANN@example.com')", words=('UNIQUE',))
    refused(db, 'an owner without an @', "INSERT INTO owner(email) VALUES ('ann.example.com')",
            words=('email must be an address',))
    refused(db, 'an owner with a 255-byte address', "INSERT INTO owner(email) VALUES (?)",
            ('a' * 243 + '@example.com',), words=('at most 254 bytes',))
    refused(db, 'confirmed other than 0 or 1', "UPDATE owner SET confirmed = 2",
            words=('confirmed must be 0 or 1',))
    refused(db, 'admin other than 0 or 1', "UPDATE owner SET admin = 'yes'",
            words=('admin must be 0 or 1',))
    accepted(db, 'make someone admin (the recipe)',
             "UPDATE owner SET admin = 1 WHERE email = 'ann@example.com'")
    refused(db, 'a mailed token of another kind',
            "INSERT INTO owner_token(token_hash, owner_id, kind, expires) VALUES ('h', 1, 'login', 'x')",
            words=('kind must be confirm or reset',))
    tap.ok(one(db, "SELECT admin FROM owner_account WHERE email = 'ann@example.com'") == 1,
           'the owner_account view shows who is admin')


def test_owner_removal():
    db = fresh()
    db.execute("INSERT INTO owner(email) VALUES ('ann@example.com')")
    db.execute("INSERT INTO owner(email) VALUES ('bo@example.com')")
    weekly = add_conference(db, 'Weekly sync', '4711')
    db.execute('UPDATE conference SET owner_id = 1 WHERE id = ?', (weekly,))
    for owner in (1, 2):
        db.execute("INSERT INTO owner_session(token_hash, owner_id) VALUES (?, ?)", ('s%d' % owner, owner))
        db.execute("INSERT INTO owner_token(token_hash, owner_id, kind, expires)"
                   " VALUES (?, ?, 'reset', '2099-01-01T00:00:00Z')", ('t%d' % owner, owner))
    accepted(db, 'remove an account (the recipe)', "DELETE FROM owner WHERE email = 'ann@example.com'")
    tap.ok(db.execute('SELECT owner_id FROM owner_session UNION ALL SELECT owner_id FROM owner_token')
           .fetchall() == [(2,), (2,)], "its sessions and mailed links go with it, no one else's")
    tap.ok(one(db, 'SELECT owner_id IS NULL FROM conference WHERE id = ?', weekly) == 1,
           'its conferences stay, as the admin\'s')
    db.execute("INSERT INTO owner(email) VALUES ('cy@example.com')")
    tap.ok(one(db, "SELECT id FROM owner WHERE email = 'cy@example.com'") == 3,
           'a removed owner\'s id is never given again')


# --- names: one rule for the page, the programs and the shell ------------

def c_unsafe_ranges():
    """The ranges of cgi_code_point_unsafe() in cgi-bin/cgi.c, the rule the programs apply."""
    with open(os.path.join(SRCDIR, 'cgi-bin', 'cgi.c')) as source:
        text = source.read()
    body = re.search(r'\ncgi_code_point_unsafe\(long code\)\n\{(.*?)\n\}', text, re.S).group(1)
    table = re.search(r'ranges\[\]\[2\] = \{(.*?)\};', body, re.S).group(1)
    pairs = re.findall(r'\{\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\}', table)
    if not pairs or re.sub(r'\{\s*0x[0-9a-fA-F]+\s*,\s*0x[0-9a-fA-F]+\s*\}|[\s,]', '', table):
        raise ValueError('cgi.c: cannot read the ranges of cgi_code_point_unsafe(): %r' % table)
    return [(int(low, 16), int(high, 16)) for low, high in pairs]


def js_unsafe_ranges():
    """The ranges of UNSAFE_IN_NAME in htdocs/pinconf.js, the rule the join page applies."""
    with open(os.path.join(SRCDIR, 'htdocs', 'pinconf.js')) as source:
        text = source.read()
    found = re.search(r'const UNSAFE_IN_NAME = /\[(.*?)\]/u;', text)
    if found is None:
        raise ValueError('pinconf.js: no "const UNSAFE_IN_NAME = /[...]/u;"')
    item = re.compile(r'\\u(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{4}))(?:-\\u(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{4})))?')
    ranges, at, text = [], 0, found.group(1)
    while at < len(text):
        match = item.match(text, at)
        if match is None:
            raise ValueError('pinconf.js: UNSAFE_IN_NAME has %r, not \\uXXXX or \\u{X} ranges' % text[at:])
        low = int(match.group(1) or match.group(2), 16)
        high = int(match.group(3) or match.group(4), 16) if (match.group(3) or match.group(4)) else low
        ranges.append((low, high))
        at = match.end()
    return ranges


def code_points(ranges):
    return {code for low, high in ranges for code in range(low, high + 1)}


def test_name_rule_is_one():
    c_ranges, js_ranges = c_unsafe_ranges(), js_unsafe_ranges()
    tap.ok(code_points(c_ranges) == code_points(js_ranges),
           "the join page's UNSAFE_IN_NAME refuses exactly cgi_code_point_unsafe()'s characters",
           ['only in cgi.c: %s' % ['U+%04X' % c for c in sorted(code_points(c_ranges) - code_points(js_ranges))],
            'only in pinconf.js: %s' % ['U+%04X' % c
                                        for c in sorted(code_points(js_ranges) - code_points(c_ranges))]])
    tap.ok(code_points(c_ranges) >= {0x0000, 0x009b, 0x200b, 0x202e, 0x2066, 0xfeff, 0xe0041},
           'the rule holds NUL, CSI, a zero width space, RLO, LRI, the BOM and a tag character')


def walk(db, sql, parameters, names, want_refused):
    """Run sql for each name; return what went against want_refused (at most 10 lines)."""
    wrong = []
    db.execute('BEGIN')	# one commit, not thousands
    for name in names:
        try:
            db.execute(sql, parameters(name))
            if want_refused:
                wrong.append('accepted: %s' % ' '.join('U+%04X' % ord(c) for c in name if ord(c) > 0x7e
                                                         or ord(c) < 0x20))
        except sqlite3.Error as error:
            if not want_refused:
                culprits = [c for c in name if one(db, 'SELECT ? GLOB pattern FROM unsafe_in_name', 'x' + c)]
                wrong.append('refused (%s): %s' % (' '.join('U+%04X' % ord(c) for c in culprits), error))
            elif UNSAFE_NAME[0] not in str(error):
                wrong.append('wrong message for U+%04X: %s' % (ord(name[len('Weekly')]), error))
        if len(wrong) >= 10:
            break
    db.execute('COMMIT')
    return wrong


def test_unsafe_names():
    """The schema's name guards refuse exactly the programs' set, in every name an admin types."""
    db = fresh()
    unsafe = sorted(code_points(c_unsafe_ranges()))
    conference = add_conference(db, 'Weekly sync', '4711')
    anna = add_attendee(db, conference, 'Anna', '1234')
    ways = (
        ('a new conference name', "INSERT INTO conference(name, pin) VALUES (?, '5555')", lambda n: (n,)),
        ('a changed conference name', 'UPDATE conference SET name = ? WHERE id = ?', lambda n: (n, conference)),
        ('a new attendee name', "INSERT INTO attendee(conference_id, name, pin) VALUES (?, ?, '6666')",
         lambda n: (conference, n)),
        ('a changed attendee name', 'UPDATE attendee SET name = ? WHERE id = ?', lambda n: (n, anna)),
    )
    hidden = ['Weekly%ssync' % chr(code) for code in unsafe]
    for where, sql, parameters in ways:
        wrong = walk(db, sql, parameters, hidden, True)
        tap.ok(not wrong, 'each of the %d characters of cgi_code_point_unsafe() is refused in %s'
               % (len(unsafe), where), wrong)
    # Every other code point (surrogates are no characters), 200 to a name.
    unsafe_set = set(unsafe)
    safe = [code for code in range(0x110000) if code not in unsafe_set and not 0xd800 <= code <= 0xdfff]
    chunks = [''.join(chr(code) for code in safe[i:i + 200]) for i in range(0, len(safe), 200)]
    for where, sql, parameters in (ways[1], ways[3]):
        wrong = walk(db, sql, parameters, chunks, False)
        tap.ok(not wrong, 'each of the other %d code points is accepted in %s' % (len(safe), where), wrong)
    for name, why in (('Åsa Öberg', 'Swedish letters'), ('Анна Свенссон', 'Cyrillic'), ('王小明', 'Chinese'),
                      ('محمد علي', 'Arabic'), ('Zoe\u0308', 'a combining diaeresis'),
                      ('Launch \U0001f680', 'an emoji'), ('\U0001f44d\U0001f3fd team', 'an emoji with a skin tone'),
                      ('\u2764\ufe0f sync', 'a variation selector')):
        accepted(db, 'a conference name with %s is accepted' % why,
                 "INSERT INTO conference(name) VALUES (?)", (name,))
        accepted(db, 'an attendee name with %s is accepted' % why,
                 'INSERT INTO attendee(conference_id, name) VALUES (?, ?)', (conference, name))
    for name, why in (('Weekly\u009b2J sync', 'an 8-bit CSI'), ('Invoice \u202egpj.exe', 'a right-to-left override'),
                      ('Ann\u200ba', 'a zero width space'), ('Ann\u2066a', 'a left-to-right isolate'),
                      ('Nul\0led', 'a NUL'), ('Anna\x1b[2J', 'an ESC'),
                      ('Anna\U000e0041', 'a tag character'), ('\ufeffAnna', 'a byte order mark')):
        refused(db, 'a conference name with %s is refused, saying why' % why,
                "INSERT INTO conference(name) VALUES (?)", (name,), UNSAFE_NAME)
        refused(db, 'an attendee name with %s is refused, saying why' % why,
                'INSERT INTO attendee(conference_id, name) VALUES (?, ?)', (conference, name),
                ('attendee ' + UNSAFE_NAME[0],))
    # A name kept from before version 3 (the upgrade copies rows before the
    # guards come back) does not stop other changes to its row.
    guard = one(db, "SELECT sql FROM sqlite_master WHERE name = 'attendee_checks_insert'")
    db.execute('DROP TRIGGER attendee_checks_insert')
    kept = add_attendee(db, conference, 'Bo\u202e Ek', '2222')
    db.execute(guard)
    accepted(db, 'an attendee with a kept name may get a new PIN',
             "UPDATE attendee SET pin = '3333' WHERE id = ?", (kept,))
    accepted(db, 'an attendee with a kept name may keep it in an UPDATE that names it',
             'UPDATE attendee SET name = name, host = 1 WHERE id = ?', (kept,))
    refused(db, 'but not be given another unsafe name', 'UPDATE attendee SET name = ? WHERE id = ?',
            ('Bo\u2067 Ek', kept), UNSAFE_NAME)


def main():
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    for test in (test_inventory, test_settings, test_pin_format, test_dates_and_names,
                 test_pin_clash, test_dial_in_and_call, test_pin_assignment, test_nearly_full,
                 test_conference_rules, test_sinch_id, test_attendee_rows, test_attendee_clash,
                 test_attendee_pin_assignment, test_attendee_nearly_full, test_attendee_cascade,
                 test_owner_rows, test_owner_removal, test_name_rule_is_one, test_unsafe_names):
        try:
            test()
        except (sqlite3.Error, OSError, ValueError, AttributeError) as error:
            tap.ok(False, '%s runs to the end' % test.__name__, ['%s: %s' % (type(error).__name__, error)])
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
