"""tap.py: TAP output (Tap: ok, is_, like, ...) and run(main), which runs a test file's
main, skips it when a prerequisite is missing and ends with the sanitizer check."""

import re
import sys
import traceback

from .servers import missing_prerequisite
from .webserver import _started_servers, stop_all_servers


class Tap:
    """The Test Anything Protocol, as automake's tap-driver.sh reads it."""

    def __init__(self):
        self.count = 0
        self.failed = 0
        self.todo_failed = 0
        self.todo_passed = 0

    @staticmethod
    def _escape(name):
        # A bare '#' could start a directive: escape it (TAP's '\#').
        return ' '.join(str(name).split()).replace('#', '\\#')

    def diag(self, message):
        for line in str(message).splitlines() or ['']:
            print('# ' + line)
        sys.stdout.flush()

    def ok(self, cond, name, todo=None, diag=None):
        """One assertion.  todo: a reason; the assertion is a known bug (TODO)."""
        self.count += 1
        cond = bool(cond)
        line = '%sok %d - %s' % ('' if cond else 'not ', self.count, self._escape(name))
        if todo:
            line += ' # TODO ' + self._escape(todo)
            if cond:
                self.todo_passed += 1
            else:
                self.todo_failed += 1
        elif not cond:
            self.failed += 1
        print(line)
        if not cond and diag is not None:
            self.diag(diag)
        sys.stdout.flush()
        return cond

    def skip(self, name, reason):
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, self._escape(name), self._escape(reason)))
        sys.stdout.flush()

    def is_(self, got, want, name, todo=None):
        cond = got == want
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want: %r' % (got, want))

    def isnt(self, got, unwanted, name, todo=None):
        return self.ok(got != unwanted, name, todo=todo,
                       diag='  got:  %r\n  expected anything else' % (got,))

    def like(self, got, pattern, name, todo=None):
        cond = isinstance(got, str) and re.search(pattern, got) is not None
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want match of: %r' % (got, pattern))

    def unlike(self, got, pattern, name, todo=None):
        cond = isinstance(got, str) and re.search(pattern, got) is None
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  must not match: %r' % (got, pattern))

    def between(self, got, low, high, name, todo=None):
        cond = isinstance(got, (int, float)) and low <= got <= high
        return self.ok(cond, name, todo=todo,
                       diag='  got:  %r\n  want: %r to %r' % (got, low, high))

    def done(self):
        print('1..%d' % self.count)
        if self.failed:
            self.diag('%d of %d assertions failed' % (self.failed, self.count))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def run(main, kinds=None):
    """Run main(tap); an exception is a failed assertion, the plan is always printed.

    kinds: the web servers the test needs, when not just the one PINCONF_SERVER
    picks; without one of them the test is skipped.
    After main's own assertions comes one more: no CGI reported a sanitizer
    error in the log of any server the test started.
    """
    tap = Tap()
    why = missing_prerequisite(kinds)
    if why:
        print('1..0 # SKIP ' + why)
        sys.exit(0)
    try:
        main(tap)
    except Exception:
        tap.ok(False, 'the test script ran to completion',
               diag=traceback.format_exc())
    finally:
        stop_all_servers()
    check_sanitizers(tap)
    tap.done()


# What the sanitizers print: ASan and LSan reports, UBSan's "file:line:col: runtime error: ...".
SANITIZER_PATTERN = re.compile(r'AddressSanitizer|LeakSanitizer|runtime error:')


def sanitizer_reports():
    """[(server, line)]: the CGI stderr lines of every server started so far that a sanitizer wrote."""
    found = []
    for server in _started_servers:
        try:
            lines = server.log_all()
        except OSError as e:
            lines = ['(cannot read the log of %s: %s)' % (server.kind, e)]
        found += [(server, line) for line in lines if SANITIZER_PATTERN.search(line)]
    return found


def check_sanitizers(t):
    """One assertion: no CGI reported an AddressSanitizer, LeakSanitizer or UBSan error."""
    found = sanitizer_reports()
    return t.ok(not found, 'no CGI reported a sanitizer error',
                diag='\n'.join('  %s %s: %s' % (server.kind, server.dir, line)
                               for server, line in found[:40]))
