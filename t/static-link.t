#!/usr/bin/env python3
"""static-link.t: a --enable-static-cgi build needs no shared library, so three files upload and run."""
import os, subprocess, sys

if os.environ.get('PINCONF_STATIC_CGI') != 'yes':
    print('1..0 # SKIP not configured with --enable-static-cgi')
    sys.exit(0)

cgibindir = os.environ['PINCONF_CGIBINDIR']
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pinconf

tap = pinconf.Tap()

def ok(condition, name, diagnostic=None):
    return tap.ok(condition, name, diag=diagnostic)

for program in ('callback.cgi', 'getticket.cgi', 'join.cgi'):
    path = os.path.join(cgibindir, program)
    dynamic = subprocess.run(['readelf', '--dynamic', path], capture_output=True, text=True)
    needed = [line for line in dynamic.stdout.splitlines() if '(NEEDED)' in line]
    ok(not needed, '%s needs no shared library (readelf)' % program, '\n'.join(needed))
    for library in ('sqlite3', 'cjson', 'gcrypt', 'gpg-error'):
        ok(library not in dynamic.stdout, '%s does not load lib%s' % (program, library))
    ldd = subprocess.run(['ldd', path], capture_output=True, text=True)
    ok('not a dynamic executable' in ldd.stdout + ldd.stderr,
       'ldd calls %s not a dynamic executable' % program, ldd.stdout + ldd.stderr)
    run = subprocess.run([path], capture_output=True, text=True,
                         env={'REQUEST_METHOD': 'DELETE', 'PATH': '/usr/bin:/bin'})
    ok(run.stdout.startswith('Status: 405'), '%s runs with an empty environment' % program,
       run.stdout + run.stderr)

tap.done()
