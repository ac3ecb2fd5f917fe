#!/usr/bin/env python3
# apache-htaccess.t: the shared-hosting set-up of pinconf(7) under Apache 2.4,
# with nothing but the installed htaccess-pinconf as public_html/.htaccess:
# the CGIs copied into public_html/cgi-bin/, the web client into public_html/,
# and (against the advice, to test the second line of defence) pinconf.conf,
# the database and schema.sql inside the web tree too.  The main config grants
# what the .htaccess says it needs and no more: AllowOverride Options FileInfo
# AuthConfig Limit, and no <Files ".ht*"> of its own.
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import ice_phone, pie, new_callid, SECRET  # noqa: E402

PIN = '4321'
# PINCONF_MODE=fastcgi (t/apache-htaccess-fastcgi.fastcgi): the mod_fcgid variant.
SHIPPED = 'htaccess-pinconf-fcgid' if pinconf.server_mode() == 'fastcgi' else 'htaccess-pinconf'
SHIPPED_SETENV = re.compile(r'^SetEnv PINCONF_CONFIG .*$', re.M)


class HtaccessServer(pinconf.ApacheServer):
    """Apache whose site is a document root that only its .htaccess configures."""

    def site_conf(self):
        root = pinconf._apache_word(self.scratch.path('public_html'))
        return [
            'DocumentRoot %s' % root,
            '<Directory %s>' % root,
            '\t# What htaccess-pinconf says it needs, "which most hosts give".',
            '\tAllowOverride Options FileInfo AuthConfig Limit',
            '\tRequire all granted',
            '</Directory>',
        ]


def make_site(t, scratch):
    """public_html as pinconf(7)'s shared-hosting steps leave it; returns (config, database)."""
    web = scratch.path('public_html')
    os.makedirs(os.path.join(web, 'cgi-bin'))
    for program in ('callback.cgi', 'getticket.cgi', 'join.cgi', 'roster.cgi'):
        target = os.path.join(web, 'cgi-bin', program)
        shutil.copy(os.path.join(os.environ['PINCONF_CGIBINDIR'], program), target)
        os.chmod(target, 0o755)
    htdocs = os.environ.get('PINCONF_HTDOCSDIR') or os.path.join(scratch.pkgdatadir, 'htdocs')
    for name in os.listdir(htdocs):
        shutil.copy(os.path.join(htdocs, name), web)
    shutil.copy(scratch.schema, web)
    with open(os.path.join(web, 'x~'), 'w') as out:
        out.write('an editor backup with the secret ' + SECRET + '\n')

    config = os.path.join(web, 'pinconf.conf')
    database = scratch.make_db(os.path.join(web, 'pinconf.db'))
    with open(os.path.join(scratch.pkgdatadir, 'examples', SHIPPED)) as f:
        shipped = f.read()
    t.is_(len(SHIPPED_SETENV.findall(shipped)), 1, 'the installed %s has one SetEnv' % SHIPPED + ' PINCONF_CONFIG line to edit')
    with open(os.path.join(web, '.htaccess'), 'w') as out:
        out.write(SHIPPED_SETENV.sub(lambda m: 'SetEnv PINCONF_CONFIG ' + config, shipped))
    scratch.write_config(path=config, database=database)
    scratch.db, scratch.config = database, config
    scratch.add_conference('Weekly sync', PIN)
    scratch.chown(web)
    return config, database


def get(server, path, method='GET'):
    return server.request(method, path, None, [('Host', '127.0.0.1:%d' % server.port)])


def main(t):
    scratch = pinconf.Scratch('apache-htaccess')
    config, database = make_site(t, scratch)
    server = pinconf.start_server(scratch, kind=HtaccessServer, config=config)

    # The web client is served, with its MIME types: the refusals below mean something.
    for path, content_type in (('/', 'text/html'), ('/index.html', 'text/html'),
                               ('/pinconf.css', 'text/css'), ('/pinconf.js', 'text/javascript')):
        r = get(server, path)
        t.is_(r.status, 200, 'GET %s is served (200)' % path)
        t.like(r.headers.get('content-type', ''), '^' + re.escape(content_type) + r'\b',
               'GET %s is served as %s' % (path, content_type))

    # The CGIs work through the .htaccess alone: ExecCGI, the handler, SetEnv, CGIPassAuth.
    call = new_callid()
    r = server.post(ice_phone(call))
    t.is_(r.status, 200, 'a signed phone ICE is answered 200 (CGIPassAuth On passes Authorization)')
    t.is_(pinconf.action_name(r.json), 'runMenu', 'a signed phone ICE gets the PIN menu')
    r = server.post(pie(call, PIN))
    t.is_(pinconf.action_name(r.json), 'connectConf', 'a PIE with the right PIN connects to the conference')
    t.is_((scratch.call(call) or {}).get('conference_name'), 'Weekly sync',
          'the call is recorded in the database inside public_html that SetEnv PINCONF_CONFIG leads to')
    mark = server.log_mark()
    r = server.post(ice_phone(new_callid()), sign=False)
    lines = server.log_since(mark)
    t.is_(r.status, 401, 'an unsigned ICE is refused with 401')
    t.ok(len(lines) == 1 and lines[0].startswith('callback.cgi: ') and '401' in lines[0],
         'the refusal is one log line of callback.cgi in the ErrorLog', diag='  log: %r' % lines)

    r = pinconf.getticket(server, 'Ann', PIN)
    t.is_(r.status, 200, 'a POST to getticket with the right PIN is answered 200')
    t.like((r.json or {}).get('userTicket') if isinstance(r.json, dict) else None,
           r'^[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]{43}=$', 'getticket gives a userTicket')
    t.like((r.json or {}).get('jwt') if isinstance(r.json, dict) else None,
           r'^[\w-]+\.[\w-]+\.[\w-]{43}$', 'getticket gives a registration JWT')
    t.is_(r.headers.get('cache-control'), 'no-store', 'the credentials are sent with Cache-Control: no-store')
    user_id = (r.json or {}).get('userId') if isinstance(r.json, dict) else None
    call = new_callid()
    r = server.post(pinconf.ice_browser(call, PIN, user=user_id))
    t.is_(pinconf.action_name(r.json), 'connectConf', 'a browser ICE with the issued id connects')
    r = pinconf.roster(server, user_id)
    participants = (r.json or {}).get('participants') if isinstance(r.json, dict) else None
    t.ok(isinstance(participants, list) and {'name': 'Ann', 'via': 'browser'} in participants and
         len(participants) == 2 and b'\xe2\x80\xa6' in r.body,
         'roster.cgi behind .htaccess lists the browser participant and the masked phone caller',
         diag=r.body[:300])
    r = get(server, '/cgi-bin/getticket.cgi?name=Ann&pin=' + PIN)
    t.is_((r.status, r.headers.get('allow')), (405, 'POST'), 'a GET of getticket is answered 405 with Allow: POST')

    r = get(server, '/cgi-bin/join.cgi')
    t.is_(r.status, 200, 'the join page is answered 200')
    t.like(r.headers.get('content-type', ''), r'^text/html\b', 'the join page is text/html')
    t.like(r.headers.get('content-security-policy', ''), r"default-src 'none'",
           "the join page comes with its Content-Security-Policy (default-src 'none')")
    t.ok(b'<form' in r.body, 'the join page has its form', diag='  body: %r' % r.body[:200])

    # The database in use, so that its -wal and -shm exist while we look.
    held = scratch.connect()
    try:
        held.execute('SELECT count(*) FROM call').fetchall()
        for name in ('pinconf.db-wal', 'pinconf.db-shm'):
            t.ok(os.path.exists(os.path.join(scratch.path('public_html'), name)),
                 '%s exists in public_html while the database is in use' % name)
        for name in ('pinconf.conf', 'pinconf.db', 'pinconf.db-wal', 'pinconf.db-shm', '.htaccess',
                     'schema.sql', 'x~', 'cgi-bin/.htaccess-missing~'):
            r = get(server, '/' + name)
            if name.endswith('-missing~'):
                t.is_(r.status, 403, 'a backup file name is refused even where no such file exists (403)')
                continue
            t.ok(r.status == 403 and SECRET.encode() not in r.body and b'application_secret' not in r.body,
                 'GET /%s is refused with 403, nothing of it sent' % name,
                 diag='  got %r %r' % (r.status, r.body[:80]))
        r = get(server, '/pinconf.db', method='HEAD')
        t.is_(r.status, 403, 'HEAD /pinconf.db is refused with 403 too')
        r = get(server, '/cgi-bin/')
        t.isnt(r.status, 200, 'the cgi-bin folder is not listed (Options -Indexes)')
    finally:
        held.close()


pinconf.run(main, kinds=('apache',))
