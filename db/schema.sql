-- schema.sql: the pinconf database; its tables and views are the admin interface.
-- Create a database:   sqlite3 /var/lib/pinconf/pinconf.db < schema.sql
-- Manual:              man pinconf-db
--
-- Dates are text 'YYYY-MM-DD'; times are ISO 8601 UTC text 'YYYY-MM-DDTHH:MM:SSZ'.
-- SQLite 3.40 cannot put a computed message into RAISE(), so the guards that
-- must name a value (which conference holds a PIN) fail through json_extract()
-- with a path that is the message: the error reads "JSON path error near '...'".

-- 1 KiB pages, before anything creates the file: each callback commits a row
-- or two, and SQLite writes (and checksums) every page it touched whole to
-- the WAL, so small pages write a quarter of the bytes a commit.
PRAGMA page_size = 1024;
PRAGMA journal_mode = WAL;	-- readers never wait for writers; kept in the file

BEGIN;

-- Settings of the database itself, read by its guards and by the CGIs.
--   pin_length     digits in a PIN, 4 to 8; callers are asked for this many, so
--                  give conferences that are not over new PINs when changing it
--   guess_limit    failed PIN guesses one source (a browser's address or /64,
--                  a phone number) may make ...
--   guess_window   ... in this many seconds before it is locked out
--   guess_budget   failed guesses per hour from all sources together, 2 or
--                  more; one source may make half of it (rounded down) in an
--                  hour; past it a source may only enter a PIN it was
--                  connected with in the last 30 days (pinconf-db(5), GUESS LIMITS)
--   identity_limit browser identities getticket.cgi issues to one source (an
--                  address, a /64) in an hour
--   call_max_hours a joined call with no DiCE after this many hours counts as
--                  gone (its DiCE was lost): the views and the CGIs read it
CREATE TABLE setting (
	name	TEXT PRIMARY KEY
		CONSTRAINT "setting name must be pin_length, guess_limit, guess_window, guess_budget, identity_limit or call_max_hours"
		CHECK (name IN ('pin_length', 'guess_limit', 'guess_window', 'guess_budget',
			'identity_limit', 'call_max_hours')),
	value	INTEGER NOT NULL,
	-- Named constraints are the admin's error messages; the first that fails is shown.
	CONSTRAINT "pin_length must be a whole number from 4 to 8"
		CHECK (name <> 'pin_length' OR (typeof(value) = 'integer' AND value BETWEEN 4 AND 8)),
	CONSTRAINT "setting value must be a whole number above 0"
		CHECK (typeof(value) = 'integer' AND value > 0),
	-- One source may spend half the budget in an hour, so it never spends it alone.
	CONSTRAINT "guess_budget must be 2 or more: one source may make half of it in an hour"
		CHECK (name <> 'guess_budget' OR value >= 2)
) WITHOUT ROWID;
INSERT INTO setting(name, value) VALUES ('pin_length', 4), ('guess_limit', 10), ('guess_window', 900),
	('guess_budget', 20), ('identity_limit', 100), ('call_max_hours', 12);

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
			DEFAULT ('pinconf-' || lower(hex(randomblob(8))))
			CONSTRAINT "sinch_id must be 1 to 64 letters, digits, - or _"
			CHECK (length(sinch_id) BETWEEN 1 AND 64 AND sinch_id NOT GLOB '*[^A-Za-z0-9_-]*'),
	-- Rules callers meet; NULL max_participants: no limit.
	max_participants INTEGER
			CONSTRAINT "max_participants must be NULL (no limit) or a whole number from 2 to 1000"
			CHECK (max_participants IS NULL
				OR (typeof(max_participants) = 'integer' AND max_participants BETWEEN 2 AND 1000)),
	locked		INTEGER NOT NULL DEFAULT 0		-- 1: nobody new gets in
			CONSTRAINT "locked must be 0 or 1" CHECK (locked IN (0, 1)),
	announce_count	INTEGER NOT NULL DEFAULT 0		-- 1: tell callers how many are in
			CONSTRAINT "announce_count must be 0 or 1" CHECK (announce_count IN (0, 1)),
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	-- The owner account that made it (owner.cgi); NULL: made by an admin.
	owner_id	INTEGER,
	-- Hosts (attendees with host = 1): with wait_for_host callers wait until
	-- a host is in; with end_with_host the conference ends when the last leaves.
	wait_for_host	INTEGER NOT NULL DEFAULT 0
			CONSTRAINT "wait_for_host must be 0 or 1" CHECK (wait_for_host IN (0, 1)),
	end_with_host	INTEGER NOT NULL DEFAULT 0
			CONSTRAINT "end_with_host must be 0 or 1" CHECK (end_with_host IN (0, 1)),
	CONSTRAINT "ends_on must not be before starts_on"
	CHECK (ends_on IS NULL OR starts_on <= ends_on)
);
CREATE INDEX conference_by_pin ON conference(pin);

-- People with a personal PIN: it admits them to their conference only, greets
-- them by name and shows that name in the conference.  Leave the PIN out and
-- a free random one is assigned.  Deleting a conference deletes its attendees.
CREATE TABLE attendee (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	conference_id	INTEGER NOT NULL REFERENCES conference(id) ON DELETE CASCADE,
	name		TEXT NOT NULL
			CONSTRAINT "attendee name must be 1 to 200 characters"
			CHECK (length(trim(name)) BETWEEN 1 AND 200),
	pin		TEXT,					-- digits, see setting pin_length
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	host		INTEGER NOT NULL DEFAULT 0		-- 1: a host of the conference
			CONSTRAINT "host must be 0 or 1" CHECK (host IN (0, 1)),
	email		TEXT					-- where invitations go; NULL: none
			CONSTRAINT "attendee email must be an address with an @, at most 254 bytes"
			CHECK (email IS NULL OR (email LIKE '_%@_%' AND length(CAST(email AS BLOB)) <= 254)),
	phone		TEXT					-- E.164, for the owner's reference
			CONSTRAINT "attendee phone must be E.164: + then 7 to 15 digits"
			CHECK (phone IS NULL OR (phone GLOB '+[1-9]*' AND phone NOT GLOB '+*[^0-9]*'
				AND length(phone) BETWEEN 8 AND 16)),
	invited		TEXT					-- last invitation mailed; NULL: never
);
CREATE INDEX attendee_by_pin ON attendee(pin);
CREATE INDEX attendee_by_conference ON attendee(conference_id);

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
	user_id		TEXT,			-- browser: the Sinch user id getticket issued
	attendee_id	INTEGER,		-- joined with an attendee's personal PIN
	pin_attempts	INTEGER NOT NULL DEFAULT 0,	-- wrong or missing PINs entered
	conference_id	INTEGER,		-- the conference joined, NULL if none
	conference_name	TEXT,			-- its name then, kept if it is deleted
	started		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),	-- ICE
	joined		TEXT,			-- connected to the conference
	ended		TEXT,			-- DiCE
	end_reason	TEXT,			-- DiCE reason: CALLERHANGUP, TIMEOUT, ...
	end_result	TEXT,			-- DiCE result: ANSWERED, FAILED, ...
	duration	INTEGER,		-- seconds, as Sinch reports
	muted		INTEGER NOT NULL DEFAULT 0	-- 1: muted through pinconf (keypad, owner page)
			CONSTRAINT "muted must be 0 or 1" CHECK (muted IN (0, 1)),
	waiting_for	INTEGER,		-- a right PIN, held until a host of this conference is in
	waiting_since	TEXT			-- when it began to wait (wait_for_host)
);
CREATE INDEX call_by_conference ON call(conference_id, ended);
CREATE INDEX call_by_started ON call(started);
CREATE INDEX call_by_ended ON call(ended);
CREATE INDEX call_by_user ON call(user_id) WHERE user_id IS NOT NULL;

-- Sinch user ids getticket.cgi issued to browsers: a browser's call is
-- connected only with an id from here, unexpired, to the PIN it was issued
-- for.  source is where it was fetched from, which its wrong PINs count against.
CREATE TABLE identity (
	user_id		TEXT PRIMARY KEY,		-- 'u-' and base64url of 16 random bytes
	display_name	TEXT NOT NULL,			-- the caller id others see
	conference_id	INTEGER NOT NULL,
	attendee_id	INTEGER,			-- issued for an attendee's personal PIN
	pin		TEXT NOT NULL,			-- the PIN it was issued for
	source		TEXT NOT NULL,			-- 'ip:192.0.2.7' or 'net:2001:db8:1:2::/64'
	issued		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	expires		TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX identity_by_expires ON identity(expires);
CREATE INDEX identity_by_source ON identity(source, issued);	-- setting identity_limit

-- Failed PIN guesses, by source: 'ip:ADDRESS' (IPv4 browser), 'net:PREFIX/64'
-- (IPv6 browser), 'tel:NUMBER' (phone), 'withheld' (every phone caller without
-- a number, together one source).  Delete a source's rows to lift its lockout.
CREATE TABLE pin_guess (
	source		TEXT NOT NULL,
	at		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX pin_guess_by_source ON pin_guess(source, at);
CREATE INDEX pin_guess_by_at ON pin_guess(at);

-- Sources that were connected to a conference with a right PIN (a call that
-- joined, not credentials fetched), per PIN holder, and when they last were
-- (to the hour: the CGIs rewrite last_joined only once it is an hour old):
-- while guess_budget is spent a source may still enter the PIN of a holder
-- it was connected with in the last 30 days, and no other.
CREATE TABLE known_source (
	source		TEXT NOT NULL,
	conference_id	INTEGER NOT NULL,
	attendee_id	INTEGER NOT NULL DEFAULT 0,	-- 0: the conference's own PIN
	last_joined	TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	PRIMARY KEY (source, conference_id, attendee_id)
) WITHOUT ROWID;

-- Every PIN in use, with the dates it admits callers: conference PINs and
-- attendees' personal PINs share one space.
CREATE VIEW pin_holder AS
SELECT 'conference' AS kind, id AS holder_id, id AS conference_id,
	'conference ' || id || ' (' || name || ')' AS holder, pin, starts_on, ends_on
FROM conference WHERE pin IS NOT NULL
UNION ALL
SELECT 'attendee', attendee.id, attendee.conference_id,
	'attendee ' || attendee.id || ' (' || attendee.name || ') of conference '
		|| conference.id || ' (' || conference.name || ')',
	attendee.pin, conference.starts_on, conference.ends_on
FROM attendee JOIN conference ON conference.id = attendee.conference_id
WHERE attendee.pin IS NOT NULL;

-- Names are shown on pages, to other callers and in the admin's terminal, so
-- they hold no control, bidirectional or invisible format characters: the set
-- of cgi_code_point_unsafe() in cgi-bin/cgi.c and of UNSAFE_IN_NAME in
-- htdocs/pinconf.js (t/db-guards.t holds all three to one).  GLOB compares
-- code points.  NUL would end the pattern, so the guards look for it apart.
CREATE VIEW unsafe_in_name AS
SELECT '*['
	|| char(0x0001) || '-' || char(0x001f)		-- C0 controls
	|| char(0x007f) || '-' || char(0x009f)		-- DEL, C1 controls (CSI 0x9b)
	|| char(0x00ad)					-- soft hyphen
	|| char(0x061c)					-- Arabic letter mark
	|| char(0x180e)					-- Mongolian vowel separator
	|| char(0x200b) || '-' || char(0x200f)		-- zero widths, LRM, RLM
	|| char(0x2028) || '-' || char(0x202e)		-- line breaks, embeddings, overrides
	|| char(0x2060) || '-' || char(0x206f)		-- word joiner, isolates, invisibles
	|| char(0xfeff)					-- zero width no-break space
	|| char(0xfff9) || '-' || char(0xfffb)		-- interlinear annotation
	|| char(0xe0001)				-- language tag
	|| char(0xe0020) || '-' || char(0xe007f)	-- tag characters
	|| ']*' AS pattern;

-- Guards.  A PIN is pin_length digits, and no PIN belongs to two holders
-- whose dates overlap; the error names the other holder.
CREATE TRIGGER conference_checks_pin_insert
BEFORE INSERT ON conference WHEN NEW.pin IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length');
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by ' || other.holder
		|| ' on overlapping dates; choose another PIN')
	FROM pin_holder AS other
	WHERE other.pin = NEW.pin
	  AND other.starts_on <= coalesce(NEW.ends_on, '9999-12-31')
	  AND NEW.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

CREATE TRIGGER conference_checks_pin_update
BEFORE UPDATE OF pin, starts_on, ends_on ON conference
BEGIN
	-- Only a new PIN must have today's pin_length: old ones may still change dates.
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin IS NOT NULL AND NEW.pin IS NOT OLD.pin AND (NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length'));
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by ' || other.holder
		|| ' on overlapping dates; choose another PIN')
	FROM pin_holder AS other
	WHERE NEW.pin IS NOT NULL AND other.pin = NEW.pin
	  AND NOT (other.kind = 'conference' AND other.holder_id = NEW.id)
	  -- Its own attendees still show the old dates here, but move with it.
	  AND (other.conference_id = NEW.id
	   OR (other.starts_on <= coalesce(NEW.ends_on, '9999-12-31')
	  AND NEW.starts_on <= coalesce(other.ends_on, '9999-12-31')));
	-- New dates move the attendees' PINs too.
	SELECT json_extract('{}', 'PIN ' || mine.pin || ' of attendee ' || mine.id || ' ('
		|| mine.name || ') is already used by ' || other.holder
		|| ' on overlapping dates; change one of the PINs first')
	FROM attendee AS mine JOIN pin_holder AS other ON other.pin = mine.pin
	WHERE mine.conference_id = NEW.id AND other.conference_id <> NEW.id
	  AND other.starts_on <= coalesce(NEW.ends_on, '9999-12-31')
	  AND NEW.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

-- Names kept from before version 3 may stay as they are until changed.
CREATE TRIGGER conference_checks_name_insert
BEFORE INSERT ON conference
WHEN NEW.name GLOB (SELECT pattern FROM unsafe_in_name) OR instr(NEW.name, char(0))
BEGIN
	SELECT RAISE(ABORT, 'name must not contain control, bidirectional or invisible format characters');
END;

CREATE TRIGGER conference_checks_name_update
BEFORE UPDATE OF name ON conference
WHEN NEW.name IS NOT OLD.name
 AND (NEW.name GLOB (SELECT pattern FROM unsafe_in_name) OR instr(NEW.name, char(0)))
BEGIN
	SELECT RAISE(ABORT, 'name must not contain control, bidirectional or invisible format characters');
END;

CREATE TRIGGER attendee_checks_insert
BEFORE INSERT ON attendee
BEGIN
	SELECT RAISE(ABORT, 'conference_id must be the id of an existing conference')
	WHERE NOT EXISTS (SELECT 1 FROM conference WHERE id = NEW.conference_id);
	SELECT RAISE(ABORT, 'attendee name must not contain control, bidirectional or invisible format characters')
	WHERE NEW.name GLOB (SELECT pattern FROM unsafe_in_name) OR instr(NEW.name, char(0));
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin IS NOT NULL AND (NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length'));
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by ' || other.holder
		|| ' on overlapping dates; choose another PIN')
	FROM conference AS mine JOIN pin_holder AS other ON other.pin = NEW.pin
	WHERE mine.id = NEW.conference_id
	  AND other.starts_on <= coalesce(mine.ends_on, '9999-12-31')
	  AND mine.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

CREATE TRIGGER attendee_checks_update
BEFORE UPDATE OF pin, conference_id, name ON attendee
BEGIN
	SELECT RAISE(ABORT, 'conference_id must be the id of an existing conference')
	WHERE NOT EXISTS (SELECT 1 FROM conference WHERE id = NEW.conference_id);
	SELECT RAISE(ABORT, 'attendee name must not contain control, bidirectional or invisible format characters')
	WHERE NEW.name IS NOT OLD.name
	  AND (NEW.name GLOB (SELECT pattern FROM unsafe_in_name) OR instr(NEW.name, char(0)));
	SELECT RAISE(ABORT, 'pin must be digits only, as many as setting pin_length (4 unless changed)')
	WHERE NEW.pin IS NOT NULL AND NEW.pin IS NOT OLD.pin AND (NEW.pin GLOB '*[^0-9]*'
	   OR length(NEW.pin) <> (SELECT value FROM setting WHERE name = 'pin_length'));
	SELECT json_extract('{}', 'PIN ' || NEW.pin || ' is already used by ' || other.holder
		|| ' on overlapping dates; choose another PIN')
	FROM conference AS mine JOIN pin_holder AS other ON other.pin = NEW.pin
	WHERE mine.id = NEW.conference_id
	  AND NOT (other.kind = 'attendee' AND other.holder_id = NEW.id)
	  AND other.starts_on <= coalesce(mine.ends_on, '9999-12-31')
	  AND mine.starts_on <= coalesce(other.ends_on, '9999-12-31');
END;

-- Foreign keys are off in a plain sqlite3 shell, so the cascade is a trigger too.
CREATE TRIGGER conference_deletes_attendees
AFTER DELETE ON conference
BEGIN
	DELETE FROM attendee WHERE conference_id = OLD.id;
END;

-- A free PIN for each conference or attendee that has none: 64 random tries,
-- then every PIN in turn from a random start, so the last free PIN is still
-- found when nearly all are taken, and is still hard to predict.
CREATE VIEW free_pin AS
WITH wanted(kind, holder_id, starts_on, ends_on) AS (
	SELECT 'conference', id, starts_on, ends_on FROM conference WHERE pin IS NULL
	UNION ALL
	SELECT 'attendee', attendee.id, conference.starts_on, conference.ends_on
	FROM attendee JOIN conference ON conference.id = attendee.conference_id
	WHERE attendee.pin IS NULL)
SELECT wanted.kind, wanted.holder_id, (
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
		SELECT 1 FROM pin_holder AS other
		WHERE other.pin = candidate.pin
		  AND other.starts_on <= coalesce(wanted.ends_on, '9999-12-31')
		  AND wanted.starts_on <= coalesce(other.ends_on, '9999-12-31'))
	LIMIT 1) AS pin
FROM wanted;

CREATE TRIGGER conference_assigns_pin_on_insert
AFTER INSERT ON conference WHEN NEW.pin IS NULL
BEGIN
	UPDATE conference SET pin = (SELECT pin FROM free_pin
		WHERE kind = 'conference' AND holder_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM conference WHERE id = NEW.id) IS NULL;
END;

CREATE TRIGGER conference_assigns_pin_on_update
AFTER UPDATE OF pin ON conference WHEN NEW.pin IS NULL
BEGIN
	UPDATE conference SET pin = (SELECT pin FROM free_pin
		WHERE kind = 'conference' AND holder_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM conference WHERE id = NEW.id) IS NULL;
END;

CREATE TRIGGER attendee_assigns_pin_on_insert
AFTER INSERT ON attendee WHEN NEW.pin IS NULL
BEGIN
	UPDATE attendee SET pin = (SELECT pin FROM free_pin
		WHERE kind = 'attendee' AND holder_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM attendee WHERE id = NEW.id) IS NULL;
END;

CREATE TRIGGER attendee_assigns_pin_on_update
AFTER UPDATE OF pin ON attendee WHEN NEW.pin IS NULL
BEGIN
	UPDATE attendee SET pin = (SELECT pin FROM free_pin
		WHERE kind = 'attendee' AND holder_id = NEW.id)
	WHERE id = NEW.id;
	SELECT RAISE(ABORT, 'no free PIN left for these dates: raise pin_length in setting or end old conferences')
	WHERE (SELECT pin FROM attendee WHERE id = NEW.id) IS NULL;
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

-- Who is in a conference now: joined, no DiCE yet, within the last
-- call_max_hours (setting; a call whose DiCE was lost does not fill a
-- conference for ever); host 1 for a host, muted 1 for one muted by pinconf.
CREATE VIEW participant_now AS
SELECT call.conference_id, call.conference_name AS conference, call.caller,
	CASE call.origin WHEN 'pstn' THEN 'phone' WHEN 'mxp' THEN 'browser' END AS via,
	call.joined AS since, call.attendee_id,
	coalesce((SELECT host FROM attendee WHERE attendee.id = call.attendee_id), 0) AS host,
	call.muted, call.callid
FROM call
WHERE call.joined IS NOT NULL AND call.ended IS NULL
  AND call.joined >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
	'-' || (SELECT value FROM setting WHERE name = 'call_max_hours') || ' hours')
ORDER BY call.conference_id, call.joined;

-- Callers with a right PIN held until a host is in (wait_for_host): who
-- waits for which conference, and since when.
CREATE VIEW waiting_for_host AS
SELECT call.waiting_for AS conference_id, conference.name AS conference, call.caller,
	CASE call.origin WHEN 'pstn' THEN 'phone' WHEN 'mxp' THEN 'browser' END AS via,
	call.waiting_since AS since, call.attendee_id, call.callid
FROM call JOIN conference ON conference.id = call.waiting_for
WHERE call.waiting_since IS NOT NULL AND call.joined IS NULL AND call.ended IS NULL
  AND call.waiting_since >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
	'-' || (SELECT value FROM setting WHERE name = 'call_max_hours') || ' hours')
ORDER BY call.waiting_for, call.waiting_since;

-- Per attendee: whether and when they first joined, how long they stayed in
-- all (seconds, ended calls by Sinch's duration, open ones until now), and
-- how many times they called.
CREATE VIEW attendance AS
SELECT attendee.id AS attendee_id, attendee.name, attendee.conference_id,
	conference.name AS conference,
	count(call.joined) > 0 AS joined, min(call.joined) AS first_joined,
	coalesce(sum(CASE WHEN call.joined IS NULL THEN 0
		WHEN call.ended IS NOT NULL THEN coalesce(call.duration,
			CAST(strftime('%s', call.ended) - strftime('%s', call.joined) AS INTEGER))
		ELSE CAST(strftime('%s', 'now') - strftime('%s', call.joined) AS INTEGER) END), 0)
		AS seconds_in,
	count(call.callid) AS calls
FROM attendee JOIN conference ON conference.id = attendee.conference_id
LEFT JOIN call ON call.attendee_id = attendee.id
GROUP BY attendee.id
ORDER BY attendee.conference_id, attendee.name;

-- Every call, newest first; filter by date(started) or conference_id.
CREATE VIEW call_log AS
SELECT call.started, call.conference_id, call.conference_name AS conference, call.caller,
	CASE call.origin WHEN 'pstn' THEN 'phone' WHEN 'mxp' THEN 'browser' END AS via,
	call.joined, call.ended, call.duration, call.end_reason, call.pin_attempts, call.callid
FROM call
ORDER BY call.started DESC;

-- Sources locked out for guessing PINs now, and until when: guess_limit
-- failures within guess_window, or half of guess_budget (rounded down) within
-- the hour, so that no one source spends the budget alone.  'withheld' is
-- one source like any other.  guesses counts the last hour or guess_window,
-- whichever is longer.  The CGIs state the same rule in one statement (db.c,
-- db_guess_check); t/guess-limits.t checks that the two agree.  Lift a
-- lockout with DELETE FROM pin_guess WHERE source = '...';
CREATE VIEW locked_out AS
WITH lock(source, window_nth, hour_nth) AS (
	SELECT sources.source,
		(SELECT older.at FROM pin_guess AS older WHERE older.source = sources.source
		  AND older.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now',
			'-' || (SELECT value FROM setting WHERE name = 'guess_window') || ' seconds')
		 ORDER BY older.at DESC
		 LIMIT 1 OFFSET (SELECT value FROM setting WHERE name = 'guess_limit') - 1),
		(SELECT older.at FROM pin_guess AS older WHERE older.source = sources.source
		  AND older.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3600 seconds')
		 ORDER BY older.at DESC
		 LIMIT 1 OFFSET (SELECT value / 2 FROM setting WHERE name = 'guess_budget') - 1)
	FROM (SELECT DISTINCT source FROM pin_guess) AS sources)
SELECT lock.source,
	(SELECT count(*) FROM pin_guess WHERE pin_guess.source = lock.source
	  AND pin_guess.at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || max(3600,
		(SELECT value FROM setting WHERE name = 'guess_window')) || ' seconds')) AS guesses,
	(SELECT max(pin_guess.at) FROM pin_guess WHERE pin_guess.source = lock.source) AS last_guess,
	max(coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', lock.window_nth,
		'+' || (SELECT value FROM setting WHERE name = 'guess_window') || ' seconds'), ''),
	    coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', lock.hour_nth, '+3600 seconds'), '')) AS until
FROM lock
WHERE lock.window_nth IS NOT NULL OR lock.hour_nth IS NOT NULL
ORDER BY lock.source;

-- Failed guesses of the last hour from all sources against guess_budget, and
-- the most one source may make in an hour (per_source, half the budget).
-- When spent is at least budget, a source may only enter the PIN of a holder
-- it was connected with (known_source), until the oldest of those guesses is
-- an hour old.
CREATE VIEW guess_budget AS
SELECT (SELECT value FROM setting WHERE name = 'guess_budget') AS budget,
	count(*) AS spent,
	strftime('%Y-%m-%dT%H:%M:%SZ', min(at), '+1 hour') AS oldest_expires,
	(SELECT value / 2 FROM setting WHERE name = 'guess_budget') AS per_source
FROM pin_guess
WHERE at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-3600 seconds');

-- Call records older than a cutoff: DELETE FROM call WHERE callid IN
-- (SELECT callid FROM old_call WHERE started < '2026-01-01');
CREATE VIEW old_call AS
SELECT callid, started, ended FROM call WHERE ended IS NOT NULL OR started < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day');

-- Owner accounts (issue 17): people who make and run their own conferences
-- on the web (owner.cgi).  Secrets are kept only as hashes: a password as an
-- Argon2id PHC string, session and mail tokens as SHA-256 in hex.  Make
-- someone admin: UPDATE owner SET admin = 1 WHERE email = '...'; remove an
-- account: DELETE FROM owner WHERE email = '...' (its sessions and tokens go
-- with it; its conferences stay, as the admin's).
CREATE TABLE owner (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused: old sessions name ids
	email		TEXT NOT NULL UNIQUE COLLATE NOCASE
			CONSTRAINT "email must be an address with an @, at most 254 bytes"
			CHECK (email LIKE '_%@_%' AND length(CAST(email AS BLOB)) <= 254),
	password	TEXT,			-- '$argon2id$v=19$...'; NULL: none set yet
	confirmed	INTEGER NOT NULL DEFAULT 0	-- 1: opened the link mailed to email
			CONSTRAINT "confirmed must be 0 or 1" CHECK (confirmed IN (0, 1)),
	admin		INTEGER NOT NULL DEFAULT 0	-- 1: sees and runs every conference
			CONSTRAINT "admin must be 0 or 1" CHECK (admin IN (0, 1)),
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	last_login	TEXT
);

-- Logged-in browsers: the cookie's token only as its hash.  A session ends
-- after session_idle_hours without a request, session_max_days after login,
-- at log out, and when its owner's password is reset or changed.
CREATE TABLE owner_session (
	token_hash	TEXT PRIMARY KEY,
	owner_id	INTEGER NOT NULL,
	created		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	last_seen	TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) WITHOUT ROWID;
CREATE INDEX owner_session_by_owner ON owner_session(owner_id);

-- Links mailed to owners, single use: kind 'confirm' (24 hours) confirms
-- the address, 'reset' (1 hour) sets a new password.
CREATE TABLE owner_token (
	token_hash	TEXT PRIMARY KEY,
	owner_id	INTEGER NOT NULL,
	kind		TEXT NOT NULL CONSTRAINT "kind must be confirm or reset"
			CHECK (kind IN ('confirm', 'reset')),
	expires		TEXT NOT NULL,
	used		TEXT			-- when the link was opened; NULL: not yet
) WITHOUT ROWID;

-- Failed log ins of the last 15 minutes, each counted twice: against its
-- source ('ip:ADDRESS', 'net:PREFIX/64', as for PIN guesses) and against the
-- e-mail typed ('email:ADDRESS', whether or not it has an account).  Delete
-- the rows of a key to let it try again at once.
CREATE TABLE owner_login_failure (
	key		TEXT NOT NULL,
	at		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX owner_login_failure_by_key ON owner_login_failure(key, at);
CREATE INDEX conference_by_owner ON conference(owner_id) WHERE owner_id IS NOT NULL;

-- Removing an account ends its sessions and links; its conferences stay.
CREATE TRIGGER owner_deletes_sessions
AFTER DELETE ON owner
BEGIN
	DELETE FROM owner_session WHERE owner_id = OLD.id;
	DELETE FROM owner_token WHERE owner_id = OLD.id;
	UPDATE conference SET owner_id = NULL WHERE owner_id = OLD.id;
END;

-- Who has an account, who confirmed it, who is admin, who logged in when.
CREATE VIEW owner_account AS
SELECT owner.id, owner.email, owner.confirmed, owner.admin,
	owner.password IS NOT NULL AS has_password, owner.created, owner.last_login,
	(SELECT count(*) FROM owner_session WHERE owner_session.owner_id = owner.id) AS sessions,
	(SELECT count(*) FROM conference WHERE conference.owner_id = owner.id) AS conferences
FROM owner ORDER BY owner.email;

-- Conference pages (issue 18): calls an owner asked Sinch to place from
-- owner.cgi, counted against callout_limit an hour (pinconf.conf(5)); rows
-- older than an hour are deleted as new ones come.  Delete an owner's rows to
-- let them call again at once.
CREATE TABLE owner_callout (
	owner_id	INTEGER NOT NULL,
	at		TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX owner_callout_by_owner ON owner_callout(owner_id, at);

PRAGMA user_version = 3;	-- schema version: the CGIs refuse one they do not know
COMMIT;
