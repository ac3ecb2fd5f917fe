#!/usr/bin/env python3
"""man-examples.t: the EXAMPLES of the manuals run against the installed programs.

Every example block in an EXAMPLES section is marked by a roff comment on the
line before it, '.\\" example: NAME' (readers do not see it), followed by a
'.Bd -literal' block or a '.Dl' line.  EXAMPLES below knows every name in each
manual: a block that is removed, renamed or added without a mark fails, and so
does an example that no longer works or no longer prints what the manual shows
(values that change from run to run, dates and random ids, are compared by
their shape).  The SQL recipes of pinconf-db(5) have their own test,
t/db-recipes.t.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf  # noqa: E402
from pinconf import examples_section, unescape  # noqa: E402
from sinchfake import FakeSinch  # noqa: E402

SRCDIR = os.environ.get('PINCONF_SRCDIR') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

# Every marked example, in the order of its manual.
EXAMPLES = {
    'callback.cgi.8': ['apache-pass-auth', 'signed-test-call', 'pin-menu-answer', 'call-log', 'pie-body'],
    'getticket.cgi.8': ['getticket'],
    'roster.cgi.8': ['roster'],
    'pinconf.conf.5': ['minimal-config', 'swedish-config', 'install-config'],
    'owner.cgi.8': ['owner-sign-up'],
    'pinconf.1': ['list', 'who', 'mute', 'unmute', 'kick', 'call', 'end', 'json-who'],
}

# The database path the manuals use, replaced by the scratch database.
MANUAL_DATABASE = '/var/lib/pinconf/pinconf.db'
MANUAL_HOST = '127.0.0.1:8080'
CALLOUT_CLI = '+46101234567'

# Values that differ from run to run, compared by shape.
TIMESTAMP = re.compile(r'\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b')
DATE = re.compile(r'\b\d{4}-\d\d-\d\d\b')


# --- reading a manual -------------------------------------------------------

def read_examples(manual):
    """({name: [lines]}, [names in order], [first lines of unmarked blocks]) of EXAMPLES."""
    with open(os.path.join(SRCDIR, 'man', manual)) as f:
        section = examples_section(f.read())
    if section is None:
        raise ValueError('%s has no EXAMPLES section' % manual)
    lines = section.split('\n')
    blocks, order, unmarked, name, i = {}, [], [], None, 0
    while i < len(lines):
        line = lines[i]
        mark = re.match(r'^\.\\" example: ([a-z0-9-]+)\s*$', line)
        if mark:
            name = mark.group(1)
        elif line.startswith('.Bd -literal') or line.startswith('.Dl '):
            if line.startswith('.Dl '):
                body = [line[4:]]
            else:
                end = lines.index('.Ed', i)
                body, i = lines[i + 1:end], end
            if name is None:
                unmarked.append(body[0] if body else line)
            else:
                blocks[name] = [unescape(l) for l in body]
                order.append(name)
            name = None
        elif not line.startswith('.\\"'):
            name = None
        i += 1
    return blocks, order, unmarked


def commands(block):
    """[(command, [output lines])]: a command starts with a '$ ' or '# ' prompt and
    goes on over indented lines and after a trailing backslash."""
    result = []
    for line in block:
        if line.startswith('$ ') or line.startswith('# '):
            result.append([line[2:], []])
        elif result and not result[-1][1] and (line[:1].isspace() or result[-1][0].endswith('\\')):
            result[-1][0] += '\n' + line
        elif result:
            result[-1][1].append(line)
    return [(command, output) for command, output in result]


def only_command(block):
    """(command, [output lines]) of a block that shows one command; a block that
    shows none or several is a command that fails, so that its check fails."""
    found = commands(block)
    return found[0] if len(found) == 1 else ('echo "not one command: %d" >&2; false' % len(found), [''])


def normalised(text):
    return DATE.sub('YYYY-MM-DD', TIMESTAMP.sub('YYYY-MM-DDTHH:MM:SSZ', text))


# --- running what the manual shows ------------------------------------------

class Shell:
    """bash, with the installed programs first on PATH and sanitizer reports collected."""

    def __init__(self, config=None):
        self.config = config
        self.sanitizer_lines = []

    def __call__(self, script, cwd=None):
        environment = dict(os.environ, PATH=os.environ['PINCONF_BINDIR'] + os.pathsep + os.environ.get('PATH', ''))
        if self.config:
            environment['PINCONF_CONFIG'] = self.config
        done = subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', script], env=environment, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        done.out = done.stdout.decode('utf-8', errors='replace')
        done.err = done.stderr.decode('utf-8', errors='replace')
        self.sanitizer_lines += [l for l in done.err.splitlines() if pinconf.SANITIZER_PATTERN.search(l)]
        return done


def http_answer(text):
    """(status, body) of curl -i output."""
    head, _, body = text.replace('\r\n', '\n').partition('\n\n')
    match = re.match(r'HTTP/[\d.]+ (\d{3})', head)
    return (int(match.group(1)) if match else None), body


def is_(t, got, want, name, diag=None):
    t.ok(got == want, name, diag='  got:  %r\n  want: %r%s' % (got, want, '\n' + diag if diag else ''))


def json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def diag(done):
    return 'exit %s\nstdout: %s\nstderr: %s' % (done.returncode, done.out[-1500:], done.err[-1500:])


def config_from(block, scratch, name, extra=()):
    """The config block written to the scratch dir, its database the scratch database."""
    lines = [l.replace(MANUAL_DATABASE, scratch.db) for l in block] + list(extra)
    return scratch.write_config(path=scratch.path(name), text='\n'.join(lines) + '\n')


def signed_ice(config):
    """A phone call's ICE, signed with the test key, straight into callback.cgi with config."""
    body = pinconf.encode(pinconf.ice_phone(pinconf.new_callid()))
    return pinconf.run_cgi('callback.cgi', config, method='POST', body=body,
                           headers=pinconf.signed_callback_headers(body))


# --- callback.cgi(8) ----------------------------------------------------------

def callback_examples(t, blocks, server, scratch, sh):
    shipped = open(os.path.join(SRCDIR, 'contrib', 'apache-pinconf.conf')).read()
    directives = [l.split()[0] for l in blocks.get('apache-pass-auth', []) if l.strip() and not l.startswith('<')]
    t.ok(directives and all(re.search(r'^\s*%s\b' % d, shipped, re.M) for d in directives)
         and re.search(r'^\s*CGIPassAuth On$', shipped, re.M),
         'callback.cgi(8): the shipped apache-pinconf.conf has every directive of the Apache example',
         diag='  directives: %r' % directives)

    script = commands(blocks.get('signed-test-call', []))
    variables = dict(re.match(r'^([A-Z]+)=(.*)$', c, re.S).groups() for c, _ in script if re.match(r'^[A-Z]+=', c))
    is_(t, (variables.get('KEY'), variables.get('SECRET')), (pinconf.KEY, pinconf.SECRET),
        "callback.cgi(8): the test call signs with pinconf.conf(5)'s example key and secret")
    is_(t, variables.get('URI'), re.sub(r'^https?://[^/]+', '', variables.get('URL', '')),
        'callback.cgi(8): URI is the path of URL')

    def run(body_command=None):
        lines = []
        for command, _ in script:
            if command.startswith('URL='):
                command = 'URL=' + server.url()
            elif command.startswith('BODY=') and body_command:
                command = body_command
            lines.append(command)
        done = sh('\n'.join(lines))
        status, body = http_answer(done.out)
        return done, status, json_or_none(body)

    done, status, answer = run()
    is_(t, (done.returncode, status), (0, 200), 'callback.cgi(8): the signed test call from the shell gets 200',
        diag=diag(done))
    shown = json_or_none(''.join(blocks.get('pin-menu-answer', [])))
    t.ok(shown is not None, 'callback.cgi(8): the answer it shows is JSON')
    is_(t, answer, shown, 'callback.cgi(8): the answer is the PIN menu the manual shows')

    call_log = commands(blocks.get('call-log', []))
    command = call_log[0][0].replace(MANUAL_DATABASE, scratch.db) if call_log else 'false'
    command = re.sub(r'^sqlite3\b', os.environ['SQLITE3'], command)
    done = sh(command)
    t.ok(done.returncode == 0 and not done.err and len(done.out.splitlines()) == 1 and 'test-1' in done.out,
         'callback.cgi(8): the call log shows the test call', diag=diag(done))

    pie = commands(blocks.get('pie-body', []))
    done, status, answer = run(pie[0][0] if pie else 'false')
    is_(t, (status, pinconf.action_name(answer)), (200, 'connectConf'),
        "callback.cgi(8): the pie with the conference's PIN, posted the same way, joins the call to it",
        diag=diag(done))


# --- getticket.cgi(8), roster.cgi(8) ------------------------------------------

def shown_members(line):
    """[(key, shown value)] of a one-line JSON object as the manual abbreviates it, and
    whether it ends in ',...' (more members)."""
    return re.findall(r'"(\w+)":"([^"]*)"', line), line.rstrip().endswith(',...}')


def ticket_and_roster_examples(t, getticket_block, roster_block, server, sh):
    command, output = only_command(getticket_block)
    done = sh(command.replace(MANUAL_HOST, server.authority()))
    answer = json_or_none(done.out)
    t.ok(done.returncode == 0 and isinstance(answer, dict), 'getticket.cgi(8): the curl example gets a JSON ticket',
         diag=diag(done))
    answer = answer if isinstance(answer, dict) else {}
    members, more = shown_members(output[0] if output else '')
    is_(t, list(answer)[:len(members)], [key for key, _ in members],
        'getticket.cgi(8): the ticket starts with the members the manual shows, in its order')
    is_(t, len(answer) > len(members), more, "getticket.cgi(8): the ticket has more members where it shows '...'")
    shown = dict(members)
    t.like(answer.get('userId', ''), r'^u-[A-Za-z0-9_-]{22}$', 'getticket.cgi(8): userId has the shape shown')
    t.like(shown.get('userId', ''), r'^u-[A-Za-z0-9_-]+\.\.\.$', 'getticket.cgi(8): the manual shows that shape')
    header = shown.get('jwt', '').rstrip('.')
    t.ok(header and answer.get('jwt', '').startswith(header),
         "getticket.cgi(8): the jwt starts as the manual shows (its header)", diag='  %r' % answer.get('jwt'))

    user = answer.get('userId', '')
    joined = server.post(pinconf.ice_browser(pinconf.new_callid(), '1234', user=user))
    is_(t, pinconf.action_name(joined.json), 'connectConf', 'Ann joins with her ticket')
    command, output = only_command(roster_block)
    example_user = re.search(r'userId=(u-[A-Za-z0-9_-]+)', command)
    is_(t, len(example_user.group(1)) if example_user else None, len(user),
        "roster.cgi(8): the example's userId is as long as a real one")
    if example_user:
        command = command.replace(example_user.group(1), user)
    done = sh(command.replace(MANUAL_HOST, server.authority()))
    is_(t, json_or_none(done.out), json_or_none(''.join(output)),
        'roster.cgi(8): the curl example answers what the manual shows', diag=diag(done))


# --- pinconf.conf(5), owner.cgi(8) --------------------------------------------

def config_examples(t, conf_blocks, owner_blocks, scratch, sh):
    minimal = config_from(conf_blocks.get('minimal-config', []), scratch, 'minimal.conf')
    status, _, body, log = signed_ice(minimal)
    is_(t, (status, pinconf.action_name(json_or_none(body)), log), (200, 'runMenu', []),
        "pinconf.conf(5): the minimal file works: a signed call gets the PIN menu, nothing logged")

    swedish = config_from(conf_blocks.get('swedish-config', []), scratch, 'swedish.conf')
    status, _, body, log = signed_ice(swedish)
    answer = json_or_none(body) or {}
    menu = ((answer.get('action') or {}).get('menus') or [{}])[0]
    is_(t, (status, log), (200, []), 'pinconf.conf(5): the Swedish file loads without a config error',
        diag='  %r' % log)
    is_(t, ((answer.get('action') or {}).get('locale'), menu.get('mainPrompt')),
        ('sv-SE', '#tts[Ange din fyrsiffriga kod]'), 'pinconf.conf(5): with it, callers are asked in Swedish')

    command, _ = only_command(conf_blocks.get('install-config', []))
    installed = scratch.path('etc', 'pinconf.conf')
    try:
        import grp
        group = grp.getgrnam(pinconf.WEB_GROUP).gr_gid
    except (ImportError, KeyError):
        group = None
    if os.geteuid() != 0 or group is None:
        t.skip('pinconf.conf(5): the install command installs the file for the web server group only',
               'needs root and a www-data group')
    else:
        os.makedirs(os.path.dirname(installed), exist_ok=True)
        workdir = scratch.path('install')
        os.makedirs(workdir, exist_ok=True)
        shutil.copy(minimal, os.path.join(workdir, 'pinconf.conf'))
        done = sh(command.replace('/usr/local/etc/pinconf.conf', installed), cwd=workdir)
        info = os.stat(installed) if os.path.exists(installed) else None
        is_(t, (done.returncode, info and stat.S_IMODE(info.st_mode), info and info.st_uid, info and info.st_gid),
            (0, 0o640, 0, group),
            'pinconf.conf(5): the install command installs the file for the web server group only',
            diag=diag(done))

    owner = config_from(conf_blocks.get('minimal-config', []), scratch, 'owner.conf',
                        owner_blocks.get('owner-sign-up', []))
    status, _, body, log = pinconf.run_cgi('owner.cgi', owner, path='/cgi-bin/owner.cgi/signup')
    is_(t, (status, log), (200, []), 'owner.cgi(8): the keys that open sign-up load without a config error',
        diag='  %r' % log)
    t.like(body.decode('utf-8', errors='replace'), r'example\.com',
           'owner.cgi(8): with them, the sign-up page names the domain')


# --- pinconf(1) ----------------------------------------------------------------

def pinconf_examples(t, blocks, server, scratch, weekly, has_jq):
    fake = FakeSinch(server.url())
    try:
        config = scratch.write_config(path=scratch.path('command.conf'), api_url=fake.url, callout_cli=CALLOUT_CLI)
        sh = Shell(config)
        sid = weekly['sinch_id']
        now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())	# as callback.cgi writes it
        calls = {'c1a2b3': ('pstn', '+46700000001', 14, '+46700000001'),
                 'c4d5e6': ('mxp', 'Alice Example', 7, 'alice')}
        for callid, (origin, caller, seconds, cli) in calls.items():
            scratch.execute('INSERT INTO call(callid, origin, caller, conference_id, conference_name, started, joined)'
                            ' VALUES (?, ?, ?, ?, ?, ?, ?)', (callid, origin, caller, weekly['id'], weekly['name'],
                                                              now, now))
            fake.control('participants', {'conference': sid, 'id': callid, 'cli': cli, 'duration': seconds})

        def run(name):
            found = commands(blocks.get(name, []))
            if len(found) != 1:
                t.ok(False, 'pinconf(1): example %s is one command' % name, diag='  %r' % found)
                return None, []
            command, output = found[0]
            return sh(command), output

        for name in ('list', 'who'):
            done, output = run(name)
            if done is None:
                continue
            is_(t, done.returncode, 0, 'pinconf(1): %s exits 0' % name, diag=diag(done))
            got = normalised(done.out).splitlines()
            want = [normalised(l) for l in output]
            if name == 'list':	# this test's other conferences are listed too
                got = got[:1] + [l for l in got[1:] if re.match(r'^1\s', l)]
            else:	# SECONDS is Sinch's count, which goes on while the test runs
                got, want = ([re.sub(r'(Z\s+)\d+(\s)', r'\1N\2', l) for l in lines] for lines in (got, want))
            is_(t, got, want,
                'pinconf(1): %s prints what the manual shows (dates and seconds by their shape)' % name)

        done, _ = run('json-who')
        if done is not None:
            if has_jq:
                is_(t, (done.returncode, done.out.splitlines()), (0, ['+46700000001', 'Alice Example']),
                    "pinconf(1): --json who piped into jq prints the participants' names", diag=diag(done))
            else:
                t.skip("pinconf(1): --json who piped into jq prints the participants' names", 'jq is not installed')
        command = commands(blocks.get('json-who', []))[0][0].partition('|')[0] if blocks.get('json-who') else 'false'
        done = sh(command)
        names = [p.get('name') for p in (json_or_none(done.out) or {}).get('participants', [])]
        is_(t, names, ['+46700000001', 'Alice Example'], 'pinconf(1): --json who has each participant with a name')

        done, _ = run('mute')
        is_(t, (done and done.returncode, (fake.participant(sid, 'c1a2b3') or {}).get('muted')), (0, True),
            'pinconf(1): mute mutes the phone caller at Sinch', diag=done and diag(done))
        done, _ = run('unmute')
        is_(t, (done and done.returncode, (fake.participant(sid, 'c1a2b3') or {}).get('muted')), (0, False),
            'pinconf(1): unmute lets them speak again', diag=done and diag(done))
        done, _ = run('kick')
        is_(t, (done and done.returncode, fake.participant(sid, 'c4d5e6'), fake.participant(sid, 'c1a2b3') is None),
            (0, None, False), 'pinconf(1): kick removes the browser participant only', diag=done and diag(done))
        done, _ = run('call')
        posted = [json_or_none(q.get('body') or '') or {} for q in fake.requests() if q['path'] == '/calling/v1/callouts']
        destination = ((posted[-1:] or [{}])[0].get('conferenceCallout') or {}).get('destination')
        is_(t, (done and done.returncode, destination), (0, {'type': 'number', 'endpoint': '+46709999999'}),
            'pinconf(1): call dials the number into the conference', diag=done and diag(done))
        # The callee joins when the fake's ACE is answered: let that happen before the end.
        t.ok(fake.wait_for(lambda: any(p.get('cli') == '+46709999999' for p in
                                       (fake.state()['conferences'].get(sid) or {}).values())),
             'pinconf(1): the number called comes into the conference')
        done, _ = run('end')
        is_(t, (done and done.returncode, fake.state()['conferences'].get(sid) or {}), (0, {}),
            'pinconf(1): end removes everyone', diag=done and diag(done))
        is_(t, sh.sanitizer_lines[:20], [], 'the pinconf command reported no sanitizer error')
    finally:
        fake.stop()


# --- the test ------------------------------------------------------------------

def main(t):
    manuals = {}
    for manual, names in EXAMPLES.items():
        try:
            blocks, order, unmarked = read_examples(manual)
        except (OSError, ValueError) as error:
            blocks, order, unmarked = {}, [], [str(error)]
        is_(t, order, names, '%s: every example in EXAMPLES is marked and known, in order' % manual)
        is_(t, unmarked, [], '%s: no example block without an .\\" example: NAME mark' % manual)
        manuals[manual] = blocks

    has_jq = shutil.which('jq') is not None
    missing = [tool for tool in ('curl', 'openssl', 'bash') if shutil.which(tool) is None]
    is_(t, missing, [], 'curl, openssl and bash are installed')
    if missing:
        return

    scratch = pinconf.Scratch('man-examples')
    weekly = scratch.add_conference('Weekly sync', '4321')	# id 1, as pinconf(1) shows
    # Names no longer than 'Weekly sync', so that pinconf list aligns its columns as shown.
    scratch.add_conference('Kestrel', '4711')	# callback.cgi(8)'s pie
    scratch.add_conference('Coffee', '1234')	# getticket.cgi(8)
    server = pinconf.start_server(scratch)
    sh = Shell()
    callback_examples(t, manuals['callback.cgi.8'], server, scratch, sh)
    ticket_and_roster_examples(t, manuals['getticket.cgi.8'].get('getticket', []),
                               manuals['roster.cgi.8'].get('roster', []), server, sh)
    config_examples(t, manuals['pinconf.conf.5'], manuals['owner.cgi.8'], scratch, sh)
    pinconf_examples(t, manuals['pinconf.1'], server, scratch, weekly, has_jq)
    is_(t, sh.sanitizer_lines[:20], [], 'the programs the examples ran reported no sanitizer error')


pinconf.run(main)
