#!/usr/bin/env python3
# guess-limits.t: wrong PINs at getticket.cgi count per source (an IPv4
# address, an IPv6 /64, the client behind a trusted proxy); a source with
# guess_limit failures in guess_window is locked out (429 with Retry-After);
# one source makes at most half of guess_budget wrong PINs an hour; past the
# budget a source may only enter a PIN it was connected with (issue 20).
import datetime
import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import action_name, getticket, ice_browser, new_callid  # noqa: E402

RIGHT = '4321'
OTHER = '8642'
TOO_MANY = 'Too many wrong PINs from your network. Please try again later.'


def ago(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def agrees(t, stamp, r, what):
    """r's Retry-After against a time the database states (stamp): the program
    counted it from a moment between sending r and its answer, however long
    the test took then or since."""
    when = datetime.datetime.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()
    t.between(retry_after(r), math.floor(when - r.answered) - 1, math.ceil(when - r.answered + r.elapsed) + 1, what)


def retry_after(r):
    value = r.headers.get('retry-after', '')
    return int(value) if re.fullmatch(r'[0-9]+', value) else None


def from_(address):
    return {'X-Forwarded-For': address}


def count(scratch, source=None):
    if source is None:
        return scratch.query('SELECT count(*) AS n FROM pin_guess')[0]['n']
    return scratch.query('SELECT count(*) AS n FROM pin_guess WHERE source = ?', (source,))[0]['n']


def check_locked(t, server, scratch, r, mark, before, what, retry=None):
    """A 429 refusal: JSON, one log line, nothing written, Retry-After."""
    t.is_(r.status, 429, '%s is refused with 429' % what)
    t.is_((r.json or {}).get('error') if isinstance(r.json, dict) else None, TOO_MANY,
          '%s: the error says to try again later' % what)
    t.is_(scratch.counts(), before, '%s: nothing is written (no guess, no identity)' % what)
    t.is_(len(server.log_since(mark)), 1, '%s: exactly one log line' % what)
    got = retry_after(r)
    if retry is None:
        t.ok(got is not None and got >= 1, '%s: Retry-After is a whole number of seconds' % what,
             diag=r.headers.get('retry-after'))
    else:
        t.between(got, retry[0], retry[1], '%s: Retry-After is %d to %d s' % (what, retry[0], retry[1]))


def test_ipv4(t):
    scratch = pinconf.Scratch('guess-limits-ipv4', settings={'guess_limit': 3, 'guess_window': 900})
    scratch.add_conference('Weekly sync', RIGHT)
    server = pinconf.start_server(scratch)
    source = 'ip:127.0.0.1'
    first = time.time()
    for n in range(1, 4):
        r = getticket(server, 'Eve', '000%d' % n)
        t.is_(r.status, 404, 'IPv4: wrong PIN %d of guess_limit 3 gets 404' % n)
    t.is_(count(scratch, source), 3, 'IPv4: the three wrong PINs count against ip:127.0.0.1')
    t.is_([row['source'] for row in scratch.query('SELECT source FROM locked_out')], [source],
          'IPv4: locked_out lists ip:127.0.0.1')
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', RIGHT)
    check_locked(t, server, scratch, r, mark, before, 'IPv4: the right PIN after 3 wrong ones',
                 (899 - math.ceil(time.time() - first), 900))
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', '0009')
    check_locked(t, server, scratch, r, mark, before, 'IPv4: another wrong PIN while locked out')

    # Retry-After: until the oldest of the last guess_limit guesses leaves the window.
    moved = time.time()		# the rows' ages grow while the test runs: a loaded machine's seconds count too
    scratch.execute('DELETE FROM pin_guess')
    for seconds in (400, 200, 100, 50):
        scratch.execute('INSERT INTO pin_guess(source, at) VALUES (?, ?)', (source, ago(seconds)))
    r = getticket(server, 'Eve', RIGHT)
    t.is_(r.status, 429, 'IPv4: four guesses 400, 200, 100 and 50 s old lock the address out')
    t.between(retry_after(r), 698 - math.ceil(time.time() - moved), 701, 'IPv4: Retry-After is 900 - 200 = 700 s: the oldest of the last 3 guesses'
              ' (200 s old) leaves the window then, not the 400 s old one')
    until = scratch.query('SELECT until FROM locked_out WHERE source = ?', (source,))
    agrees(t, until[0]['until'] if until else '', r,
           "IPv4: the locked_out view's until (the admins' statement of the rule) agrees with Retry-After")
    moved = time.time()
    scratch.execute('DELETE FROM pin_guess')
    for seconds in (950, 920, 10):
        scratch.execute('INSERT INTO pin_guess(source, at) VALUES (?, ?)', (source, ago(seconds)))
    r = getticket(server, 'Eve', RIGHT)
    t.is_(r.status, 200, 'IPv4: guesses older than guess_window do not count: 1 in the window, the right PIN gets in')
    scratch.execute("UPDATE setting SET value = 1000 WHERE name = 'guess_window'")
    r = getticket(server, 'Eve', RIGHT)
    t.is_(r.status, 429, 'IPv4: with guess_window raised to 1000 s the same three guesses lock the address out')
    t.between(retry_after(r), 48 - math.ceil(time.time() - moved), 51, 'IPv4: Retry-After is then 1000 - 950 = 50 s')
    scratch.execute('DELETE FROM pin_guess WHERE source = ?', (source,))
    r = getticket(server, 'Eve', RIGHT)
    t.is_(r.status, 200, "IPv4: an admin's DELETE FROM pin_guess lifts the lockout")


def test_ipv6(t):
    if not pinconf.ipv6_loopback_usable():
        t.skip('IPv6: guesses from ::1 count against its /64', 'cannot listen on [::1] here')
        return
    scratch = pinconf.Scratch('guess-limits-ipv6', settings={'guess_limit': 2})
    scratch.add_conference('Weekly sync', RIGHT)
    server = pinconf.start_server(scratch, host='::1')
    r = getticket(server, 'Ann', RIGHT)
    t.is_(r.status, 200, 'IPv6: a server on [::1] issues credentials')
    t.is_(scratch.query('SELECT source FROM identity'), [{'source': 'net:::/64'}],
          'IPv6: the identity records the /64 of ::1 (net:::/64)')
    for n in (1, 2):
        r = getticket(server, 'Eve', '000%d' % n)
        t.is_(r.status, 404, 'IPv6: wrong PIN %d from ::1 gets 404' % n)
    t.is_(count(scratch, 'net:::/64'), 2, 'IPv6: the wrong PINs count against net:::/64, not one address')
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', RIGHT)
    check_locked(t, server, scratch, r, mark, before, 'IPv6: the right PIN from ::1 after guess_limit wrong ones')


def test_proxy(t):
    scratch = pinconf.Scratch('guess-limits-proxy', settings={'guess_limit': 3})
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.write_config(trusted_proxies='127.0.0.1')
    server = pinconf.start_server(scratch)

    r = getticket(server, 'Ann', RIGHT, headers=from_('198.51.100.7'))
    t.is_((r.status, scratch.query('SELECT source FROM identity')), (200, [{'source': 'ip:198.51.100.7'}]),
          'proxy: behind a trusted proxy the source is the X-Forwarded-For address')
    r = getticket(server, 'Ann', '0001', headers=from_('198.51.100.8, 127.0.0.1'))
    t.is_(count(scratch, 'ip:198.51.100.8'), 1,
          'proxy: a chain through trusted hops counts against the first untrusted address')
    r = getticket(server, 'Ann', '0001', headers=from_('203.0.113.66, 198.51.100.9'))
    t.is_(count(scratch, 'ip:198.51.100.9'), 1,
          'proxy: a chain counts against the rightmost untrusted hop, not what the client claims before it')

    # Many IPv6 addresses of one /64 share one count.
    net = 'net:2001:db8:1:2::/64'
    for n, address in enumerate(('2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:abcd::7'), 1):
        r = getticket(server, 'Eve', '000%d' % n, headers=from_(address))
        t.is_(r.status, 404, 'proxy: wrong PIN %d from %s gets 404' % (n, address))
    t.is_(count(scratch, net), 3, 'proxy: three addresses of 2001:db8:1:2::/64 count as one source')
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', RIGHT, headers=from_('2001:db8:1:2::99'))
    check_locked(t, server, scratch, r, mark, before, 'proxy: a fourth address of the locked /64 with the right PIN')
    r = getticket(server, 'Eve', RIGHT, headers=from_('2001:db8:1:3::1'))
    t.is_(r.status, 200, 'proxy: another /64 (2001:db8:1:3::/64) is not locked out')
    r = getticket(server, 'Eve', RIGHT, headers=from_('::ffff:198.51.100.7'))
    t.is_(scratch.query('SELECT source FROM identity WHERE user_id = ?', ((r.json or {}).get('userId'),)),
          [{'source': 'ip:198.51.100.7'}], 'proxy: an IPv4-mapped IPv6 address counts as the IPv4 address')
    t.is_(count(scratch, 'ip:127.0.0.1'), 0, 'proxy: nothing counted against the proxy itself')

    # Fail closed: a trusted proxy that sends what is not an address.
    for value, what in (('not-an-address', 'a word'), ('198.51.100.300', 'an IPv4 address out of range'),
                        ('2001:db8::1::2', 'a malformed IPv6 address'), ('198.51.100.7/24', 'a CIDR range'),
                        ('198.51.100.7, junk', 'a chain with junk at the end')):
        before, mark = scratch.counts(), server.log_mark()
        r = getticket(server, 'Eve', RIGHT, headers=from_(value))
        pinconf.check_refusal(t, server, scratch, r, mark, before,
                              'proxy: X-Forwarded-For with %s from a trusted proxy' % what, 403)

    # Ranges: the proxy may be named by a CIDR range among others.
    scratch.write_config(trusted_proxies='10.0.0.0/8, 127.0.0.0/8 2001:db8:ffff::/48')
    r = getticket(server, 'Eve', '0007', headers=from_('198.51.100.77'))
    t.is_(count(scratch, 'ip:198.51.100.77'), 1, 'proxy: trusted_proxies may name the proxy by a CIDR range')
    for value, what in (('not-a-range', 'a word'), ('127.0.0.1/33', 'an IPv4 prefix over 32'),
                        ('::1/129', 'an IPv6 prefix over 128')):
        scratch.write_config(trusted_proxies=value)
        before, mark = scratch.counts(), server.log_mark()
        r = getticket(server, 'Eve', RIGHT, headers=from_('198.51.100.78'))
        pinconf.check_refusal(t, server, scratch, r, mark, before,
                              'proxy: trusted_proxies = %s (%s) in the config' % (value, what), 500)

    # An X-Forwarded-For from an address we do not trust is ignored.
    scratch.write_config(trusted_proxies='10.0.0.1')
    r = getticket(server, 'Eve', '0005', headers=from_('198.51.100.50'))
    t.is_((count(scratch, 'ip:127.0.0.1'), count(scratch, 'ip:198.51.100.50')), (1, 0),
          'untrusted: X-Forwarded-For from an untrusted REMOTE_ADDR is ignored: the guess counts against it')
    r = getticket(server, 'Eve', RIGHT, headers=from_('garbage'))
    t.is_(r.status, 200, 'untrusted: a garbage X-Forwarded-For from an untrusted client is ignored, not refused')
    scratch.write_config()
    r = getticket(server, 'Eve', '0006', headers=from_('198.51.100.51'))
    t.is_((count(scratch, 'ip:127.0.0.1'), count(scratch, 'ip:198.51.100.51')), (2, 0),
          'untrusted: without trusted_proxies X-Forwarded-For is ignored')


def join_call(t, server, name, address, what):
    """Credentials, then a browser call that joins: what makes a source known."""
    r = getticket(server, name, RIGHT, headers=from_(address))
    user = (r.json or {}).get('userId') if isinstance(r.json, dict) else None
    call = server.post(ice_browser(new_callid(), RIGHT, user=user))
    t.is_((r.status, action_name(call.json)), (200, 'connectConf'), what)
    return user


def test_budget(t):
    scratch = pinconf.Scratch('guess-limits-budget', settings={'guess_budget': 5, 'guess_limit': 3})
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.add_conference('Board', OTHER)
    scratch.write_config(trusted_proxies='127.0.0.1')
    server = pinconf.start_server(scratch)

    r = getticket(server, 'Ann', RIGHT, headers=from_('192.0.2.1'))
    t.is_((r.status, scratch.query('SELECT source FROM known_source')), (200, []),
          'budget: credentials alone do not make 192.0.2.1 a known source')
    join_call(t, server, 'Ann', '192.0.2.1', 'budget: a regular participant joins a call from 192.0.2.1')
    t.is_(scratch.query('SELECT source, attendee_id FROM known_source'), [{'source': 'ip:192.0.2.1', 'attendee_id': 0}],
          'budget: the call that joined makes 192.0.2.1 known, for the PIN it joined with')

    # An attacker with many addresses, one guess each.
    first = time.time()
    statuses = []
    for n in range(1, 31):
        r = getticket(server, 'Eve', '%04d' % (9000 + n), headers=from_('203.0.113.%d' % n))
        statuses.append(r.status)
    t.is_(statuses[:5], [404] * 5, 'budget: the first 5 wrong PINs (guess_budget 5) get 404')
    t.is_(statuses[5:], [429] * 25, 'budget: every later guess from a new address gets 429')
    t.is_(count(scratch), 5, 'budget: 30 addresses made only guess_budget (5) failures in the hour')
    t.is_(scratch.query('SELECT budget, spent, per_source FROM guess_budget'),
          [{'budget': 5, 'spent': 5, 'per_source': 2}],
          'budget: the guess_budget view shows it spent, and 2 (half of 5) a source an hour')

    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', RIGHT, headers=from_('203.0.113.200'))
    check_locked(t, server, scratch, r, mark, before,
                 'budget: the right PIN from a new address while the budget is spent',
                 (3599 - math.ceil(time.time() - first), 3600))
    expires = scratch.query('SELECT oldest_expires FROM guess_budget')[0]['oldest_expires']
    agrees(t, expires, r, "budget: the guess_budget view's oldest_expires agrees with Retry-After")
    r = getticket(server, 'Ann', RIGHT, headers=from_('192.0.2.1'))
    t.is_(r.status, 200, 'budget: the known source still gets credentials for the PIN it joined with')
    # A join rewrites last_joined only when it is over an hour old: most joins write nothing.
    half_hour_ago = ago(1800)
    scratch.execute('UPDATE known_source SET last_joined = ?', (half_hour_ago,))
    join_call(t, server, 'Ann', '192.0.2.1', 'budget: the known source joins a call while the budget is spent')
    t.is_(scratch.query('SELECT last_joined FROM known_source'), [{'last_joined': half_hour_ago}],
          'budget: a join half an hour after the last one leaves last_joined as it was')
    scratch.execute('UPDATE known_source SET last_joined = ?', (ago(3700),))
    join_call(t, server, 'Ann', '192.0.2.1', 'budget: the known source joins again')
    t.ok(scratch.query('SELECT last_joined FROM known_source')[0]['last_joined'] >= ago(5),
         'budget: a join over an hour after the last one moves last_joined to now')

    # Knowing one PIN buys no guesses at any other while the budget is spent.
    for pin, what in (('0001', 'a wrong PIN'), ('0002', 'another wrong PIN'), (OTHER, "another conference's PIN")):
        before, mark = scratch.counts(), server.log_mark()
        r = getticket(server, 'Ann', pin, headers=from_('192.0.2.1'))
        check_locked(t, server, scratch, r, mark, before,
                     'budget: the known source, %s (refused like anyone, not looked up)' % what,
                     (3599 - math.ceil(time.time() - first), 3600))

    # Known means connected within 30 days.
    scratch.execute('UPDATE known_source SET last_joined = ?', (ago(31 * 86400),))
    r = getticket(server, 'Ann', RIGHT, headers=from_('192.0.2.1'))
    t.is_(r.status, 429, 'budget: a source that last joined 31 days ago is no longer known: 429')

    # The budget is per hour.
    scratch.execute('UPDATE pin_guess SET at = ?', (ago(3601),))
    r = getticket(server, 'Eve', RIGHT, headers=from_('203.0.113.201'))
    t.is_(r.status, 200, 'budget: once the failures are over an hour old a new address gets in again')


def test_one_source(t):
    """Issue 20: one address could make 40 wrong PINs an hour, twice the budget."""
    scratch = pinconf.Scratch('guess-limits-one-source', settings={'guess_budget': 20})  # schema.sql's defaults
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.write_config(trusted_proxies='127.0.0.1')
    server = pinconf.start_server(scratch)
    attacker = from_('198.51.100.66')
    statuses = [getticket(server, 'Eve', '%04d' % (5000 + n), headers=attacker).status for n in range(10)]
    t.is_(statuses, [404] * 10, 'one source: 10 wrong PINs (guess_limit) get 404')
    # A quarter of an hour later the window has passed; the hour has not.
    moved = time.time()
    scratch.execute('UPDATE pin_guess SET at = ?', (ago(16 * 60),))
    before, mark = scratch.counts(), server.log_mark()
    r = getticket(server, 'Eve', '5010', headers=attacker)
    check_locked(t, server, scratch, r, mark, before,
                 'one source: after guess_window its 11th wrong PIN of the hour is refused (half of guess_budget 20)',
                 (44 * 60 - 2 - math.ceil(time.time() - moved), 44 * 60 + 1))
    until = scratch.query("SELECT until FROM locked_out WHERE source = 'ip:198.51.100.66'")
    agrees(t, until[0]['until'] if until else '', r, "one source: the locked_out view's until agrees with Retry-After")
    r = getticket(server, 'Ann', RIGHT, headers=from_('192.0.2.50'))
    t.is_((r.status, count(scratch)), (200, 10),
          'one source: the budget is not spent (10 of 20): a newcomer gets in with the right PIN')

    # Whatever guess_limit and guess_window say, a source makes at most half the budget.
    scratch.execute('DELETE FROM pin_guess')
    scratch.execute("UPDATE setting SET value = 1000 WHERE name = 'guess_limit'")
    scratch.execute("UPDATE setting SET value = 60 WHERE name = 'guess_window'")
    statuses = [getticket(server, 'Eve', '%04d' % (6000 + n), headers=attacker).status for n in range(12)]
    t.is_(statuses, [404] * 10 + [429] * 2,
          'one source: with guess_limit 1000 a minute it still makes only 10 (per_source) wrong PINs an hour')
    r = getticket(server, 'Ann', RIGHT, headers=from_('192.0.2.51'))
    t.is_(r.status, 200, 'one source: and a newcomer still gets in')


def test_known_elsewhere(t):
    """Issue 20: one PIN made any /64 known, and known sources guessed on past the budget."""
    scratch = pinconf.Scratch('guess-limits-known', settings={'guess_budget': 6, 'guess_limit': 10})
    scratch.add_conference('Weekly sync', RIGHT)
    scratch.add_conference('Board', OTHER)
    scratch.write_config(trusted_proxies='127.0.0.1')
    server = pinconf.start_server(scratch)
    nets = ['2001:db8:%x::1' % n for n in range(1, 4)]
    for address in nets:
        join_call(t, server, 'Eve', address, 'known elsewhere: the attacker joins Weekly sync from %s' % address)
    t.is_(len(scratch.query('SELECT * FROM known_source')), 3, 'known elsewhere: three /64s are known, for PIN %s' % RIGHT)
    statuses = []
    for n in range(12):
        statuses.append(getticket(server, 'Eve', '%04d' % (7000 + n), headers=from_(nets[n % 3])).status)
    t.is_(statuses, [404] * 6 + [429] * 6,
          'known elsewhere: their wrong PINs spend the budget (6), then every other PIN they try is refused')
    r = getticket(server, 'Eve', OTHER, headers=from_(nets[0]))
    t.is_(r.status, 429, "known elsewhere: another conference's right PIN is refused like a wrong one")
    t.is_(count(scratch), 6, 'known elsewhere: nothing past the budget was counted or looked up')
    r = getticket(server, 'Eve', RIGHT, headers=from_(nets[1]))
    t.is_(r.status, 200, 'known elsewhere: the PIN they were connected with still gets them in')
    user = r.json.get('userId') if isinstance(r.json, dict) else None
    call = server.post(ice_browser(new_callid(), OTHER, user=user))
    t.is_(action_name(call.json), 'hangup', 'known elsewhere: a call with those credentials to another PIN is refused')
    t.is_(count(scratch), 6, 'known elsewhere: and not counted past the budget')


def main(t):
    test_ipv4(t)
    test_ipv6(t)
    test_proxy(t)
    test_budget(t)
    test_one_source(t)
    test_known_elsewhere(t)


pinconf.run(main)
