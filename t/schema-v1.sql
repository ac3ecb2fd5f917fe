-- t/schema-v1.sql: db/schema.sql version 1 as released, the starting point of
-- t/db-upgrade.t.  A fixture: never change it.
-- schema.sql: the pinconf database; its tables and views are the admin interface.
-- Create a database:   sqlite3 /var/lib/pinconf/pinconf.db < schema.sql
-- Manual:              man pinconf-db
--
-- Dates are text 'YYYY-MM-DD'; times are ISO 8601 UTC text 'YYYY-MM-DDTHH:MM:SSZ'.
-- SQLite 3.40 cannot put a computed message into RAISE(), so the guards that
-- must name a value (which conference holds a PIN) fail through json_extract()
-- with a path that is the message: the error reads "JSON path error near '...'".

PRAGMA journal_mode = WAL;	-- readers never wait for writers; kept in the file

BEGIN;

-- Settings of the database itself, read by its guards and by the CGIs.
--   pin_length     digits in a PIN, 4 to 8; callers are asked for this many, so
--                  give conferences that are not over new PINs when changing it
--   guess_limit    failed PIN guesses a browser address may make ...
--   guess_window   ... in this many seconds before it is locked out
CREATE TABLE setting (
	name	TEXT PRIMARY KEY
		CONSTRAINT "setting name must be pin_length, guess_limit or guess_window"
		CHECK (name IN ('pin_length', 'guess_limit', 'guess_window')),
	value	INTEGER NOT NULL,
	-- Named constraints are the admin's error messages; the first that fails is shown.
	CONSTRAINT "pin_length must be a whole number from 4 to 8"
		CHECK (name <> 'pin_length' OR (typeof(value) = 'integer' AND value BETWEEN 4 AND 8)),
	CONSTRAINT "setting value must be a whole number above 0"
		CHECK (typeof(value) = 'integer' AND value > 0)
) WITHOUT ROWID;
INSERT INTO setting(name, value) VALUES ('pin_length', 4), ('guess_limit', 10), ('guess_window', 900);

CREATE TRIGGER setting_is_never_deleted
BEFORE DELETE ON setting
BEGIN
	SELECT RAISE(ABORT, 'settings cannot be deleted; UPDATE their value instead');
END;

-- One row a conference.  Give a name, dates and a PIN; leave the PIN out (or
-- set it to NULL) and a free random one is assigned.  Active from starts_on to
-- ends_on, both inclusive, in the time zone of pinconf.conf; ends_on NULL:
-- forever.  Deleting a conference keeps its calls, with its name, in call.
CREATE TABLE conference (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	name		TEXT NOT NULL
			CONSTRAINT "name must be 1 to 200 characters"
			CHECK (length(trim(name)) BETWEEN 1 AND 200),
	pin		TEXT,					-- digits, see setting pin_length
	-- date(d, '+0 days') normalises 2026-02-30 to 2026-03-02, so it catches impossible days.
	starts_on	TEXT NOT NULL DEFAULT (date('now'))
			CONSTRAINT "starts_on must be a date YYYY-MM-DD"
			CHECK (date(starts_on, '+0 days') IS starts_on),
	ends_on		TEXT
			CONSTRAINT "ends_on must be a date YYYY-MM-DD, or NULL for ever"
			CHECK (ends_on IS NULL OR date(ends_on, '+0 days') IS ends_on),
	sinch_id	TEXT NOT NULL UNIQUE			-- conferenceId given to Sinch
			DEFAULT ('pinconf-' || lower(hex(randomblob(8)))),
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	CONSTRAINT "ends_on must not be before starts_on"
	CHECK (ends_on IS NULL OR starts_on <= ends_on)
);
CREATE INDEX conference_by_pin ON conference(pin);

-- Dial-in numbers the join page lists.
CREATE TABLE dial_in (
	id	INTEGER PRIMARY KEY,
	label	TEXT NOT NULL					-- e.g. 'Sweden'
		CONSTRAINT "label must be 1 to 100 characters"
		CHECK (length(trim(label)) BETWEEN 1 AND 100),
	number	TEXT NOT NULL UNIQUE				-- E.164: '+46...'
		CONSTRAINT "number must be E.164: + then 7 to 15 digits, no spaces, not +0"
		CHECK (number GLOB '+[1-9]*' AND number NOT GLOB '+*[^0-9]*'
			AND length(number) BETWEEN 8 AND 16)
);

-- One row a call, keyed by Sinch's callid: written by ICE, PIE and DiCE.
CREATE TABLE call (
	callid		TEXT PRIMARY KEY,
	origin		TEXT					-- phone or browser; NULL: no ICE seen
			CONSTRAINT "origin must be pstn or mxp"
			CHECK (origin IN ('pstn', 'mxp')),
	caller		TEXT,			-- phone number, or the browser user's name
	pin_attempts	INTEGER NOT NULL DEFAULT 0,	-- wrong or missing PINs entered
	conference_id	INTEGER,		-- the conference joined, NULL if none
	conference_name	TEXT,			-- its name then, kept if it is deleted
	started		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),	-- ICE
	joined		TEXT,			-- connected to the conference
	ended		TEXT,			-- DiCE
	end_reason	TEXT,			-- DiCE reason: CALLERHANGUP, TIMEOUT, ...
	end_result	TEXT,			-- DiCE result: ANSWERED, FAILED, ...
	duration	INTEGER			-- seconds, as Sinch reports
);
CREATE INDEX call_by_conference ON call(conference_id, ended);
CREATE INDEX call_by_started ON call(started);
CREATE INDEX call_by_ended ON call(ended);

-- Tickets getticket.cgi signed: which address asked for which name, so that
-- PIN guesses made from a browser count against that address.
CREATE TABLE ticket (
	identity	TEXT NOT NULL,
	address		TEXT NOT NULL,
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX ticket_by_identity ON ticket(identity, created);

-- Failed PIN guesses by browser clients; past guess_limit in guess_window an
-- address is locked out.  Delete an address's rows to lift its lockout.
CREATE TABLE pin_guess (
	address		TEXT NOT NULL,
	at		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX pin_guess_by_address ON pin_guess(address, at);

-- Guards on conference.  A PIN is pin_length digits; two conferences whose
-- dates overlap never share a PIN.
CREATE TRIGGER conference_checks_pin_insert
BEFORE INSERT ON conference WHEN NEW.pin IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length');
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by conference '
		|| other.id || ' (' || other.name || ') on overlapping dates; choose another PIN')
	FROM conference AS other
	WHERE other.pin = NEW.pin
	  AND other.starts_on <= coalesce(NEW.ends_on, '9999-12-31')
	  AND NEW.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

CREATE TRIGGER conference_checks_pin_update
BEFORE UPDATE OF pin, starts_on, ends_on ON conference WHEN NEW.pin IS NOT NULL
BEGIN
	-- Only a new PIN must have today's pin_length: old ones may still change dates.
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin IS NOT OLD.pin AND (NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length'));
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by conference '
		|| other.id || ' (' || other.name || ') on overlapping dates; choose another PIN')
	FROM conference AS other
	WHERE other.pin = NEW.pin AND other.id <> NEW.id
	  AND other.starts_on <= coalesce(NEW.ends_on, '9999-12-31')
	  AND NEW.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

-- A free PIN for each conference that has none: 64 random tries, then every
-- PIN in turn from a random start, so the last free PIN is still found when
-- nearly all are taken, and is still hard to predict.
CREATE VIEW conference_free_pin AS
SELECT conference.id AS conference_id, (
	WITH RECURSIVE
	space(digits, size, start) AS MATERIALIZED (
		SELECT value, CAST(substr('1000000000', 1, value + 1) AS INTEGER),
			abs(random() % CAST(substr('1000000000', 1, value + 1) AS INTEGER))
		FROM setting WHERE name = 'pin_length'),
	candidate(n, pin) AS (
		SELECT 0, NULL
		UNION ALL
		SELECT n + 1, printf('%0*d', digits,
			CASE WHEN n < 64 THEN abs(random() % size) ELSE (start + n - 64) % size END)
		FROM candidate, space WHERE n < size + 64)
	SELECT candidate.pin FROM candidate
	WHERE candidate.pin IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM conference AS other
		WHERE other.pin = candidate.pin AND other.id <> conference.id
		  AND other.starts_on <= coalesce(conference.ends_on, '9999-12-31')
		  AND conference.starts_on <= coalesce(other.ends_on, '9999-12-31'))
	LIMIT 1) AS pin
FROM conference WHERE conference.pin IS NULL;

CREATE TRIGGER conference_assigns_pin_on_insert
AFTER INSERT ON conference WHEN NEW.pin IS NULL
BEGIN
	UPDATE conference SET pin = (SELECT pin FROM conference_free_pin WHERE conference_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM conference WHERE id = NEW.id) IS NULL;
END;

CREATE TRIGGER conference_assigns_pin_on_update
AFTER UPDATE OF pin ON conference WHEN NEW.pin IS NULL
BEGIN
	UPDATE conference SET pin = (SELECT pin FROM conference_free_pin WHERE conference_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM conference WHERE id = NEW.id) IS NULL;
END;

-- Views for reading.  "Today" here is UTC; the CGIs use the timezone key of
-- pinconf.conf, which matters only around midnight.

-- Conferences a caller can join today.
CREATE VIEW active_conference AS
SELECT id, name, pin, starts_on, ends_on,
	(SELECT count(*) FROM participant_now AS p WHERE p.conference_id = conference.id) AS participants
FROM conference
WHERE starts_on <= date('now') AND (ends_on IS NULL OR ends_on >= date('now'))
ORDER BY name;

-- Who is in a conference now: joined, no DiCE yet, within the last day
-- (a call whose DiCE was lost does not linger for ever).
CREATE VIEW participant_now AS
SELECT call.conference_id, call.conference_name AS conference, call.caller,
	CASE call.origin WHEN 'pstn' THEN 'phone' WHEN 'mxp' THEN 'browser' END AS via,
	call.joined AS since, call.callid
FROM call
WHERE call.joined IS NOT NULL AND call.ended IS NULL
  AND call.joined >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')
ORDER BY call.conference_id, call.joined;

-- Every call, newest first; filter by date(started) or conference_id.
CREATE VIEW call_log AS
SELECT call.started, call.conference_id, call.conference_name AS conference, call.caller,
	CASE call.origin WHEN 'pstn' THEN 'phone' WHEN 'mxp' THEN 'browser' END AS via,
	call.joined, call.ended, call.duration, call.end_reason, call.pin_attempts, call.callid
FROM call
ORDER BY call.started DESC;

-- Browser addresses locked out for guessing PINs now.  Lift a lockout with
-- DELETE FROM pin_guess WHERE address = '...';
CREATE VIEW locked_out AS
SELECT pin_guess.address, count(*) AS guesses, max(pin_guess.at) AS last_guess,
	strftime('%Y-%m-%dT%H:%M:%SZ', (
		SELECT older.at FROM pin_guess AS older WHERE older.address = pin_guess.address
		ORDER BY older.at DESC
		LIMIT 1 OFFSET (SELECT value FROM setting WHERE name = 'guess_limit') - 1),
		'+' || (SELECT value FROM setting WHERE name = 'guess_window') || ' seconds') AS until
FROM pin_guess
WHERE pin_guess.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
	'-' || (SELECT value FROM setting WHERE name = 'guess_window') || ' seconds')
GROUP BY pin_guess.address
HAVING count(*) >= (SELECT value FROM setting WHERE name = 'guess_limit');

-- Call records older than a cutoff: DELETE FROM call WHERE callid IN
-- (SELECT callid FROM old_call WHERE started < '2026-01-01');
CREATE VIEW old_call AS
SELECT callid, started, ended FROM call WHERE ended IS NOT NULL OR started < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day');

PRAGMA user_version = 1;	-- schema version: the CGIs refuse one they do not know
COMMIT;
