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
    'conference_assigns_pin_on_insert', 'conference_assigns_pin_on_update',
}
CHECKS = {'setting': 3, 'conference': 4, 'dial_in': 2, 'call': 1, 'ticket': 0, 'pin_guess': 0}

PIN_FORMAT = ('pin must be digits only', 'pin_length')
NO_FREE_PIN = ('no free PIN left', 'raise pin_length')


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
    tap.ok(one(db, 'PRAGMA user_version') == 1 and one(db, 'PRAGMA journal_mode') == 'wal',
           'the schema sets user_version 1 and WAL mode')


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
            ('CHECK', 'pin_length', 'guess_limit', 'guess_window'))
    refused(db, 'renaming a setting to an unknown name is refused',
            "UPDATE setting SET name = 'guesses' WHERE name = 'guess_limit'", (), ('setting name must be',))
    rows = db.execute('SELECT name, value FROM setting ORDER BY name').fetchall()
    tap.ok(rows == [('guess_limit', 10), ('guess_window', 900), ('pin_length', 4)],
           'the refused changes left the settings as they were', ['settings: %r' % rows])
    accepted(db, 'guess_limit 20 is accepted', "UPDATE setting SET value = 20 WHERE name = 'guess_limit'")
    accepted(db, "pin_length '5' (text of a number) is accepted as the number 5",
             "UPDATE setting SET value = '5' WHERE name = 'pin_length'")
    refused(db, 'INSERT OR REPLACE cannot set pin_length outside 4 to 8',
            "INSERT OR REPLACE INTO setting(name, value) VALUES ('pin_length', 20)", (),
            ('pin_length', '8'))


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
    started = time.monotonic()
    eight = add_conference(db, 'Eight')
    elapsed = time.monotonic() - started
    pin = one(db, 'SELECT pin FROM conference WHERE id = ?', eight)
    tap.ok(re.fullmatch(r'[0-9]{8}', pin or '') is not None and elapsed < 2,
           'with pin_length 8 a PIN is assigned at once, not after listing 10^8',
           ['PIN %r in %.3f s' % (pin, elapsed)])


def test_nearly_full():
    db = fresh()
    free = ['0000', '0001', '0999', '1000', '4711', '5000', '8642', '9000', '9998', '9999']
    taken = [('%04d' % n,) for n in range(10000) if '%04d' % n not in free]
    started = time.monotonic()
    db.execute('BEGIN')
    db.executemany("INSERT INTO conference(name, pin, starts_on) VALUES ('Taken ' || ?1, ?1, '2026-01-01')",
                   taken)
    db.execute('COMMIT')
    tap.note('nearly full: %d forever-valid conferences inserted in %.3f s'
             % (len(taken), time.monotonic() - started))
    got, times = [], []
    for i in range(10):
        started = time.monotonic()
        try:
            conference = add_conference(db, 'Late %d' % i)
        except sqlite3.Error as error:
            got.append('refused: %s' % error)
            continue
        finally:
            times.append(time.monotonic() - started)
        got.append(one(db, 'SELECT pin FROM conference WHERE id = ?', conference))
    tap.ok(sorted(got) == free, 'with 9,990 of 10,000 PINs taken, 10 more conferences get the 10 free PINs',
           ['got %r' % got])
    tap.note('nearly full: the 10 inserts took %s ms (%.1f ms in all)'
             % (' '.join('%.1f' % (t * 1000) for t in times), sum(times) * 1000))
    started = time.monotonic()
    refused(db, 'the 11th conference is refused: no free PIN left',
            "INSERT INTO conference(name, starts_on) VALUES ('One too many', '2026-01-01')", (), NO_FREE_PIN)
    elapsed = time.monotonic() - started
    tap.note('nearly full: the refused 11th insert took %.1f ms' % (elapsed * 1000))
    tap.ok(max(times + [elapsed]) < 2, 'each insert into a nearly full PIN space takes under 2 s',
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


def main():
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    for test in (test_inventory, test_settings, test_pin_format, test_dates_and_names,
                 test_pin_clash, test_dial_in_and_call, test_pin_assignment, test_nearly_full):
        try:
            test()
        except (sqlite3.Error, OSError) as error:
            tap.ok(False, '%s runs to the end' % test.__name__, ['%s: %s' % (type(error).__name__, error)])
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
