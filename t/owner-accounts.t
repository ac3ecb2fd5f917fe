#!/usr/bin/env python3
# owner-accounts.t: owner.cgi's accounts end to end, with a test sendmail:
# sign up -> mail -> confirm -> log in -> log out -> forgot -> reset -> log
# in, and the attacks on each step (issue 17).
import hashlib
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
import mailbox  # noqa: E402
from owner_client import Browser, OWNER  # noqa: E402

PASSWORD = 'correct horse battery'
NEW_PASSWORD = 'tr\u00e8s s\u00fbr, vraiment'
WRONG = 'The e-mail or the password is wrong'


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def rows(scratch, sql, parameters=()):
    """Rows as tuples (the harness gives dicts)."""
    return [tuple(row.values()) if isinstance(row, dict) else tuple(row)
            for row in scratch.query(sql, parameters)]


def owners(scratch):
    return rows(scratch, 'SELECT email, confirmed, password FROM owner ORDER BY id')


def check_page_rules(t, page, name):
    csp = page.headers.get('content-security-policy', '')
    t.ok("default-src 'none'" in csp and "frame-ancestors 'none'" in csp and
         "form-action 'self'" in csp and 'script-src' not in csp,
         '%s: a strict CSP without scripts' % name, diag=csp)
    t.is_(page.headers.get('cache-control'), 'no-store', '%s: Cache-Control no-store' % name)
    t.ok('<script' not in page.body and 'style=' not in page.body,
         '%s: no inline script or style' % name)


def test_sign_up(t, scratch, server, box):
    b = Browser(server)
    page = b.get('/signup')
    t.is_(page.status, 200, 'sign-up page: 200')
    for words in ('E-mail', 'Password', 'Repeat password', 'Create account'):
        t.ok(words in page.text(), 'sign-up page: shows %s' % words)
    t.like(page.body, r'<label for="email">E-mail</label>', 'sign-up page: fields have labels')
    check_page_rules(t, page, 'sign-up page')
    cookie = b.set_cookies[-1] if b.set_cookies else ''
    t.ok('HttpOnly' in cookie and 'SameSite=Lax' in cookie and 'Path=/cgi-bin/owner.cgi' in cookie
         and 'Secure' not in cookie, 'over HTTP the cookie is HttpOnly, SameSite=Lax, for owner.cgi only',
         diag=cookie)

    page = b.post('/signup', {'email': 'eve@evil.example', 'password': PASSWORD, 'password2': PASSWORD})
    t.is_(page.status, 400, 'sign-up with another domain: 400')
    t.like(page.body, r'aria-invalid="true" aria-describedby="email-error"',
           'sign-up with another domain: the error is tied to the E-mail field')
    page = b.post('/signup', {'email': 'eve@example.com.evil.example', 'password': PASSWORD,
                              'password2': PASSWORD})
    t.is_(page.status, 400, 'sign-up with a look-alike domain: 400')
    page = b.post('/signup', {'email': 'ann@example.com', 'password': 'short', 'password2': 'short'})
    t.ok(page.status == 400 and 'at least 10 characters' in page.text(),
         'sign-up with a 5-character password: 400, says the rule')
    page = b.post('/signup', {'email': 'ann@example.com', 'password': PASSWORD, 'password2': PASSWORD + 'x'})
    t.ok(page.status == 400 and 'not the same' in page.text(), 'sign-up with two different passwords: 400')
    t.ok('ann@example.com' in page.body and PASSWORD not in page.body,
         'a refused form keeps the e-mail, never the password')
    t.is_(owners(scratch), [], 'refused sign-ups made no account')
    t.is_(box.new(), [], 'and sent no mail')

    page = b.post('/signup', {'email': 'ann@example.com', 'password': PASSWORD, 'password2': PASSWORD})
    t.ok(page.status == 200 and 'We sent a mail to ann@example.com' in page.text(),
         'sign-up: 200, check your mail', diag=page.text()[:300])
    rows = owners(scratch)
    t.ok(len(rows) == 1 and rows[0][1] == 0 and rows[0][2].startswith('$argon2id$v=19$m=19456,t=2,p=1$'),
         'an unconfirmed account, its password as an Argon2id PHC string', diag=repr(rows))
    return b, page


def test_taken_address(t, scratch, server, box, first_page):
    b = Browser(server)
    page = b.submit('/signup', {'email': 'ANN@example.com', 'password': 'another password', 'password2': 'another password'})
    t.is_(page.status, 200, 'sign-up with a taken address: 200')
    t.is_(page.text().replace('ANN@', 'ann@'), first_page.text(), 'and the very page a new address gets')
    t.is_(len(owners(scratch)), 1, 'no second account')
    mail = box.wait_for('ANN@example.com') or box.wait_for('ann@example.com')
    t.ok(mail is not None and 'already has one' in mailbox.text(mail) and '/reset?token=' in (mailbox.link(mail) or ''),
         "the address's owner is mailed a note with a reset link instead")


def test_confirm(t, scratch, server, box, b):
    mail = box.wait_for('ann@example.com')
    t.ok(mail is not None, 'sign-up sent a mail')
    if mail is None:
        return None
    t.is_(str(mail['From']), 'pinconf@example.com', 'from mail_from')
    t.ok(mail['Message-ID'] and mail['Date'] and mail.get_content_type() == 'text/plain' and
         mail.get_content_charset() == 'utf-8', 'a plain-text UTF-8 mail with Date and Message-ID')
    link = mailbox.link(mail)
    t.ok(link is not None and link.startswith(server.url(OWNER + '/confirm?token=')),
         'its link is built from public_url', diag=link)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)['token'][0]
    t.ok(len(token) >= 22, 'the token has at least 128 bits')
    stored = rows(scratch, 'SELECT token_hash, kind FROM owner_token')
    t.ok((sha256(token), 'confirm') in stored and not any(token in h for h, _ in stored),
         'the token is stored only as its SHA-256')

    page = b.submit('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.ok(page.status == 403 and WRONG in page.text(), 'no log in before the address is confirmed')

    page = b.follow(link)
    t.ok(page.status == 200 and 'Confirm address' in page.text(), 'the link opens a page with a Confirm button')
    t.is_(owners(scratch)[0][1], 0, 'opening the link (a GET) changes nothing')
    page = b.post('/confirm', {'token': page.hidden('token')})
    t.ok(page.status == 200 and 'confirmed' in page.text(), 'Confirm address confirms')
    t.is_(owners(scratch)[0][1], 1, 'the account is confirmed')
    page = b.follow(link)
    page = b.post('/confirm', {'token': token})
    t.ok(page.status == 400 and 'does not work' in page.text(), 'a used confirmation link does not work again')
    return link


def test_login(t, scratch, server, b):
    page = b.get('/login')
    for words in ('E-mail', 'Password', 'Log in', 'Create an account', 'Forgot your password?'):
        t.ok(words in page.text(), 'login page: shows %s' % words)
    check_page_rules(t, page, 'login page')
    planted = b.session()
    wrong = b.post('/login', {'email': 'ann@example.com', 'password': 'wrong password'})
    unknown = b.post('/login', {'email': 'nobody@example.com', 'password': 'wrong password'})
    t.ok(wrong.status == unknown.status == 403 and WRONG in wrong.text() and
         wrong.text().replace('ann@', 'X') == unknown.text().replace('nobody@', 'X'),
         'a wrong password and an unknown e-mail get the same answer')
    page = b.post('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.ok(page.status == 303 and page.location == OWNER + '/', 'log in: 303 to the home page',
         diag='%s %s' % (page.status, page.location))
    t.ok(b.session() and b.session() != planted, 'log in: a new token, not the one the browser had')
    t.ok(any(sha256(b.session()) == h for (h,) in rows(scratch, 'SELECT token_hash FROM owner_session')) and
         not rows(scratch, 'SELECT 1 FROM owner_session WHERE token_hash = ?', (b.session(),)),
         'the session is stored only as its hash')
    t.ok(rows(scratch, 'SELECT last_login IS NOT NULL FROM owner')[0][0] == 1, 'last_login is written')
    page = b.get('/')
    t.ok(page.status == 200 and 'ann@example.com' in page.text() and 'Log out' in page.text() and
         'Change password' in page.text(), 'the home page shows the owner, Log out and Change password')
    check_page_rules(t, page, 'home page')


def test_fixation(t, server):
    attacker = Browser(server)
    attacker.get('/login')
    planted = attacker.session()
    victim = Browser(server)
    victim.cookies['pinconf_owner'] = planted
    victim.get('/login')
    victim.post('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.ok(victim.session() != planted, 'fixation: the log in replaced the planted cookie')
    page = attacker.get('/')
    t.is_(page.status, 303, 'fixation: the planted cookie is not a session')
    return victim


def test_cross_site(t, scratch, server, b):
    sessions = len(rows(scratch, 'SELECT 1 FROM owner_session'))
    page = b.post('/logout', {}, headers=[('Origin', 'http://evil.example')])
    t.is_(page.status, 403, 'a POST with a foreign Origin is refused')
    page = b.post('/logout', {}, headers=[('Origin', 'http://127.0.0.2:%d' % server.port)])
    t.is_(page.status, 403, 'an Origin other than public_url is refused, even a local one')
    page = b.post('/logout', {}, headers=[('Sec-Fetch-Site', 'cross-site')])
    t.is_(page.status, 403, 'a POST with Sec-Fetch-Site cross-site is refused')
    page = b.post('/logout', {'confirm': 'yes'}, token=False)
    t.ok(page.status == 403 and 'expired' in page.text(), 'a POST without the form token is refused')
    page = b.post('/logout', {'form_token': 'A' * 43})
    t.is_(page.status, 403, 'a POST with a wrong form token is refused')
    t.is_(len(rows(scratch, 'SELECT 1 FROM owner_session')), sessions, 'none of them logged anyone out')
    page = b.get('/logout')
    t.is_(page.status, 405, 'GET /logout changes nothing: 405')
    page = b.post('/logout', {}, headers=[('Origin', server.url('').rstrip('/'))])
    t.ok(page.status == 303 and page.location == OWNER + '/login', 'Log out from our own page: 303 to log in')
    t.is_(len(rows(scratch, 'SELECT 1 FROM owner_session')), sessions - 1, 'log out deletes the session')
    t.is_(b.get('/').status, 303, 'after log out the home page asks for a log in')


def test_forgot_reset(t, scratch, server, box):
    before = Browser(server)
    before.submit('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.is_(before.get('/').status, 200, 'a session from before the reset works')
    b = Browser(server)
    page = b.get('/forgot')
    t.ok('Send reset link' in page.text() and 'E-mail' in page.text(), 'forgot page: E-mail, Send reset link')
    known = b.post('/forgot', {'email': 'ann@example.com'})
    unknown = b.post('/forgot', {'email': 'nobody@example.com'})
    t.ok(known.status == unknown.status == 200 and
         known.text().replace('ann@', 'X') == unknown.text().replace('nobody@', 'X'),
         'forgot: the same page whether or not the address has an account')
    mail = box.wait_for('ann@example.com')
    t.ok(mail is not None and '/reset?token=' in (mailbox.link(mail) or ''), 'forgot: a reset link is mailed')
    t.is_(box.wait_for('nobody@example.com', timeout=0.2), None, 'no mail for an address without an account')
    link = mailbox.link(mail)
    page = b.follow(link)
    t.ok(page.status == 200 and 'New password' in page.text() and 'Repeat password' in page.text() and
         'Set password' in page.text(), 'the reset link opens New password, Repeat password, Set password')
    token = page.hidden('token')
    page = b.post('/reset', {'token': token, 'password': 'short', 'password2': 'short'})
    t.is_(page.status, 400, 'reset: a too-short password is refused, the link not used up')
    page = b.post('/reset', {'token': token, 'password': NEW_PASSWORD, 'password2': NEW_PASSWORD})
    t.ok(page.status == 200 and 'new password is set' in page.text(), 'reset: the new password is set')
    t.is_(before.get('/').status, 303, 'a session cookie from before the reset no longer works')
    page = b.post('/reset', {'token': token, 'password': 'yet another one', 'password2': 'yet another one'})
    t.ok(page.status == 400 and 'does not work' in page.text(), 'a used reset link does not work again')

    # An expired link: a row put in place, no waiting.
    expired = 'E' * 43
    scratch.execute("INSERT INTO owner_token(token_hash, owner_id, kind, expires)"
                    " VALUES (?, 1, 'reset', '2000-01-01T00:00:00Z')", (sha256(expired),))
    page = b.post('/reset', {'token': expired, 'password': 'yet another one', 'password2': 'yet another one'})
    t.is_(page.status, 400, 'an expired reset link does not work')
    page = b.submit('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.is_(page.status, 403, 'the old password no longer logs in')
    page = b.submit('/login', {'email': 'ann@example.com', 'password': NEW_PASSWORD})
    t.is_(page.status, 303, 'the new password does')
    return b


def test_reset_mail_limit(t, scratch, server, box):
    """Forgot, again and again, and sign-ups with the address: at most 3 reset links
    mailed to one account within the hour a link works; beyond, the same page and no mail."""
    scratch.execute("DELETE FROM owner_token WHERE kind = 'reset'")
    box.new()
    mark = server.log_mark()
    b = Browser(server)
    pages = [b.submit('/forgot', {'email': 'ann@example.com'}) for _ in range(4)]
    pages.append(b.submit('/signup', {'email': 'ann@example.com', 'password': 'one more password',
                                      'password2': 'one more password'}))
    t.ok(all(page.status == 200 for page in pages) and pages[3].text() == pages[0].text(),
         'reset mail limit: the 4th Forgot and a sign-up with the address get the pages the 1st got')
    mailed = [m for m in box.new() if 'ann@example.com' in str(m['To']).lower()]
    t.is_(len(mailed), 3, 'reset mail limit: 3 reset links mailed, not 5')
    limited = [line for line in server.log_since(mark) if 'no reset link mailed' in line]
    t.is_(len(limited), 2, 'reset mail limit: one log line for each mail not sent')
    page = b.follow(mailbox.link(mailed[0]))
    t.ok(page.status == 200 and 'New password' in page.text(),
         'reset mail limit: the links mailed still work, so the limit keeps nobody from a reset')
    # An hour later (the links expired) Forgot mails again.
    scratch.execute("UPDATE owner_token SET expires = '2000-01-01T00:00:00Z' WHERE kind = 'reset'")
    b.submit('/forgot', {'email': 'ann@example.com'})
    t.ok(box.wait_for('ann@example.com', timeout=2) is not None, 'reset mail limit: once the links expired, Forgot mails again')


def test_change_password(t, scratch, server, b):
    other = Browser(server)
    other.submit('/login', {'email': 'ann@example.com', 'password': NEW_PASSWORD})
    page = b.get('/password')
    for words in ('Current password', 'New password', 'Repeat password', 'Set password'):
        t.ok(words in page.text(), 'change password page: shows %s' % words)
    page = b.post('/password', {'current': 'not it at all', 'password': PASSWORD, 'password2': PASSWORD})
    t.ok(page.status == 400 and 'aria-describedby="current-error"' in page.body,
         'change password: a wrong current password is refused, next to its field')
    page = b.post('/password', {'current': NEW_PASSWORD, 'password': PASSWORD, 'password2': PASSWORD})
    t.ok(page.status == 200 and 'changed' in page.text(), 'change password: changed')
    t.is_(b.get('/').status, 200, 'this session goes on')
    t.is_(other.get('/').status, 303, 'the other sessions ended')


def forwarded(server, scratch):
    """A browser behind the trusted proxy (the test itself) with its own address."""
    return lambda address: Browser(server, address=address)


def test_limits(t, scratch, server):
    via = forwarded(server, scratch)
    now = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
    # Per account: 10 failures in 15 minutes, from 10 addresses, then it waits.
    for i in range(10):
        b = via('198.51.100.%d' % (i + 1))
        page = b.submit('/login', {'email': 'bob@example.com', 'password': 'guess %d' % i})
    t.is_(page.status, 403, 'per account: the 10th wrong password is still just wrong')
    b = via('198.51.100.200')
    page = b.submit('/login', {'email': 'bob@example.com', 'password': 'guess 11'})
    t.ok(page.status == 429 and 'Wait 15 minutes' in page.text() and page.headers.get('retry-after'),
         'per account: after 10 failures from 10 IPv4 addresses the account waits, and is told how long',
         diag=page.text()[:200])
    t.is_(rows(scratch, "SELECT count(*) FROM owner_login_failure WHERE key = 'email:bob@example.com'")[0][0],
          10, 'an address without an account is counted the same way')
    # Per account, an existing one: the right password waits too.
    scratch.execute("INSERT INTO owner_login_failure(key, at) SELECT 'email:ann@example.com', %s"
                    " FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL"
                    " SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL"
                    " SELECT 9 UNION ALL SELECT 10)" % now)
    page = via('198.51.100.201').submit('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.is_(page.status, 429, 'per account: while it waits, not even the right password logs in')
    scratch.execute("UPDATE owner_login_failure SET at = '2000-01-01T00:00:00Z' WHERE key = 'email:ann@example.com'")
    page = via('198.51.100.201').submit('/login', {'email': 'ann@example.com', 'password': PASSWORD})
    t.is_(page.status, 303, 'failures older than 15 minutes no longer count: never locked for good')

    # Per source: 20 failures from one address, whatever the accounts.
    for i in range(19):
        scratch.execute("INSERT INTO owner_login_failure(key, at) VALUES ('ip:192.0.2.50', %s)" % now)
    page = via('192.0.2.50').submit('/login', {'email': 'carl@example.com', 'password': 'guess'})
    t.is_(page.status, 403, 'per address: the 20th failure is answered as wrong')
    page = via('192.0.2.50').submit('/login', {'email': 'dora@example.com', 'password': 'guess'})
    t.is_(page.status, 429, 'per address: after 20 failures that address waits, for any account')
    page = via('192.0.2.51').submit('/login', {'email': 'dora@example.com', 'password': 'guess'})
    t.is_(page.status, 403, 'per address: its neighbour does not')

    # Per /64: IPv6 addresses of one /64 count together.
    for i in range(19):
        scratch.execute("INSERT INTO owner_login_failure(key, at) VALUES ('net:2001:db8:1:2::/64', %s)" % now)
    page = via('2001:db8:1:2::1').submit('/login', {'email': 'erin@example.com', 'password': 'guess'})
    t.is_(page.status, 403, 'per /64: the 20th failure is answered as wrong')
    page = via('2001:db8:1:2:ffff::9').submit('/login', {'email': 'fay@example.com', 'password': 'guess'})
    t.is_(page.status, 429, 'per /64: another address of the same /64 waits')
    page = via('2001:db8:1:3::1').submit('/login', {'email': 'fay@example.com', 'password': 'guess'})
    t.is_(page.status, 403, 'per /64: the next /64 does not')


def test_mail_failure(t, scratch, server, sendmail, url):
    scratch.write_config(owner_domains='example.com', mail_from='pinconf@example.com',
                         public_url=url, sendmail='/bin/false', trusted_proxies='127.0.0.1')
    mark = server.log_mark()
    b = Browser(server)
    page = b.submit('/signup', {'email': 'gus@example.com', 'password': PASSWORD, 'password2': PASSWORD})
    t.ok(page.status == 503 and 'could not send you a mail' in page.text(),
         'a mail sendmail does not take: 503, says nothing was saved', diag=page.text()[:200])
    t.is_(rows(scratch, "SELECT count(*) FROM owner WHERE email = 'gus@example.com'")[0][0], 0,
          'and no account was made')
    t.ok(any('sendmail /bin/false: exit status 1' in line for line in server.log_since(mark)),
         'a log line names sendmail and its exit status', diag=server.log_since(mark))
    scratch.write_config(owner_domains='', mail_from='pinconf@example.com', public_url=url,
                         sendmail=sendmail, trusted_proxies='127.0.0.1')
    page = b.get('/signup')
    t.ok('Sign-up is closed' in page.text() and 'Create account' not in page.text(),
         'with owner_domains empty the sign-up page says it is closed')
    page = b.post('/signup', {'email': 'gus@example.com', 'password': PASSWORD, 'password2': PASSWORD})
    t.is_(page.status, 403, 'and a sign-up is refused')


def test_no_secrets(t, scratch, server, box, browsers):
    lines = server.log_all()
    secrets = [PASSWORD, NEW_PASSWORD, 'wrong password']
    secrets += [b.session() for b in browsers if b.session()]
    for mail in box.all():
        link = mailbox.link(mail)
        if link:
            secrets.append(urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)['token'][0])
    leaked = [s for s in secrets if any(s in line for line in lines)]
    t.ok(lines and not leaked, 'no password, token or session id in any log line of owner.cgi',
         diag=leaked)
    locations = [c for b in browsers for c in b.set_cookies]
    t.ok(not any(PASSWORD in c for c in locations), 'no password in a cookie')


def test_direct(t, scratch):
    """The cheap cases, without a server: HTTPS cookies, REMOTE_USER, getticket's Origin."""
    config = scratch.path('direct.conf')
    scratch.write_config(config, owner_domains='example.com', mail_from='pinconf@example.com',
                         public_url='https://conf.example.com')
    status, headers, body, log = pinconf.run_cgi('owner.cgi', config, path=OWNER + '/login',
                                                 environment={'HTTPS': 'on', 'PATH_INFO': '/login'})
    cookie = headers.get('set-cookie', '')
    t.ok(status == 200 and cookie.startswith('__Host-pinconf_owner=') and 'Secure' in cookie and
         'Path=/;' in cookie, 'over HTTPS the cookie is __Host-, Secure, Path=/', diag=cookie)
    status, headers, body, log = pinconf.run_cgi(
        'getticket.cgi', config, method='POST', body=b'name=Ann&pin=1234',
        headers={'Content-Type': 'application/x-www-form-urlencoded', 'Origin': 'http://127.0.0.1',
                 'Host': '127.0.0.1'})
    t.ok(status == 403 and any('Origin is not public_url' in line for line in log),
         "with public_url set, getticket refuses an Origin equal to the Host but not public_url")

    scratch.write_config(config, owner_domains='example.com', trust_remote_user='yes')
    status, headers, body, log = pinconf.run_cgi('owner.cgi', config, path=OWNER + '/',
                                                 environment={'REMOTE_USER': 'zoe@example.com'})
    t.ok(status == 200 and b'zoe@example.com' in body and b'Log out' not in body,
         'trust_remote_user: REMOTE_USER is the owner, no Log out', diag=str(status))
    t.is_(rows(scratch, "SELECT confirmed, password FROM owner WHERE email = 'zoe@example.com'"),
          [(1, None)], 'trust_remote_user: the owner is made at the first visit, without a password')
    status, headers, body, log = pinconf.run_cgi('owner.cgi', config, path=OWNER + '/login',
                                                 environment={'REMOTE_USER': 'zoe@example.com'})
    t.is_(status, 404, 'trust_remote_user: the password pages are not offered')
    status, headers, body, log = pinconf.run_cgi('owner.cgi', config, path=OWNER + '/',
                                                 environment={'REMOTE_USER': 'eve@evil.example'})
    t.is_(status, 403, 'trust_remote_user: a user of another domain is refused')


def pinconf_command(scratch, *arguments):
    import subprocess
    done = subprocess.run([os.path.join(os.environ['PINCONF_BINDIR'], 'pinconf')] + list(arguments),
                          env=dict(os.environ, PINCONF_CONFIG=scratch.config), capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def test_pinconf_owner(t, scratch, server, box):
    rc, out, err = pinconf_command(scratch, 'owner', 'add', 'hal@example.com')
    t.ok(rc == 0 and 'hal@example.com' in out, 'pinconf owner add makes an account', diag=err)
    mail = box.wait_for('hal@example.com')
    link = mailbox.link(mail) if mail else None
    t.ok(link is not None and '/reset?token=' in link, 'and mails a link to set the password')
    b = Browser(server)
    b.follow(link)
    page = b.post('/reset', {'token': b.get(urllib.parse.urlsplit(link).path + '?' +
                                           urllib.parse.urlsplit(link).query).hidden('token'),
                             'password': PASSWORD, 'password2': PASSWORD})
    t.is_(page.status, 200, 'its owner sets a password with the link')
    t.is_(b.submit('/login', {'email': 'hal@example.com', 'password': PASSWORD}).status, 303,
          'and logs in with it')
    rc, out, err = pinconf_command(scratch, 'owner', 'add', 'hal@example.com')
    t.ok(rc == 1 and 'already has an account' in err, 'pinconf owner add of a taken address fails')
    rc, out, err = pinconf_command(scratch, 'owner', 'admin', 'hal@example.com')
    t.ok(rc == 0 and rows(scratch, "SELECT admin FROM owner WHERE email = 'hal@example.com'") == [(1,)],
         'pinconf owner admin makes an admin')
    rc, out, err = pinconf_command(scratch, '--json', 'owner', 'list')
    t.ok(rc == 0 and '"email":\t"hal@example.com"' in out and '"admin":\ttrue' in out,
         'pinconf owner list lists owners', diag=out[:300])
    rc, out, err = pinconf_command(scratch, 'owner', 'remove', 'hal@example.com')
    t.ok(rc == 0 and rows(scratch, "SELECT count(*) FROM owner WHERE email = 'hal@example.com'") == [(0,)],
         'pinconf owner remove removes the account')
    t.is_(b.get('/').status, 303, "and its sessions")
    rc, out, err = pinconf_command(scratch, 'owner', 'remove', 'hal@example.com')
    t.is_(rc, 1, 'removing an unknown owner fails')


def main(t):
    scratch = pinconf.Scratch('owner-accounts')
    box = mailbox.Mailbox(scratch.path('mail'))
    sendmail = box.install(scratch)
    server = pinconf.start_server(scratch)
    url = server.url('').rstrip('/')
    scratch.write_config(owner_domains='example.com', mail_from='pinconf@example.com',
                         public_url=url, sendmail=sendmail, trusted_proxies='127.0.0.1')
    b, first_page = test_sign_up(t, scratch, server, box)
    link = test_confirm(t, scratch, server, box, b)
    test_taken_address(t, scratch, server, box, first_page)
    test_login(t, scratch, server, b)
    victim = test_fixation(t, server)
    test_cross_site(t, scratch, server, b)
    c = test_forgot_reset(t, scratch, server, box)
    test_change_password(t, scratch, server, c)
    test_reset_mail_limit(t, scratch, server, box)
    test_limits(t, scratch, server)
    test_pinconf_owner(t, scratch, server, box)
    test_no_secrets(t, scratch, server, box, [b, c, victim])
    test_mail_failure(t, scratch, server, sendmail, url)
    test_direct(t, scratch)


pinconf.run(main)
