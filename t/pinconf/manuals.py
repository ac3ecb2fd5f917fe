"""manuals.py: the EXAMPLES of an mdoc manual as a reader sees them, for the tests
that run them (t/man-examples.t, t/db-recipes.t)."""

import re

ROFF_ESCAPES = {'\\e': '\\', '\\&': '', '\\(aq': "'", '\\(dq': '"', '\\-': '-',
                '\\(:a': '\u00e4', '\\(:o': '\u00f6', '\\(:u': '\u00fc'}


def unescape(line):
    """The text a reader sees for one line of a literal block."""
    out, i = [], 0
    while i < len(line):
        if line[i] != '\\':
            out.append(line[i])
            i += 1
            continue
        for escape, text in ROFF_ESCAPES.items():
            if line.startswith(escape, i):
                out.append(text)
                i += len(escape)
                break
        else:
            raise ValueError('unknown roff escape in %r' % line)
    return ''.join(out)


def examples_section(text):
    """The source of a manual's EXAMPLES section, up to the next .Sh; None if it has none."""
    match = re.search(r'^\.Sh EXAMPLES\n(.*?)(?=^\.Sh |\Z)', text, re.M | re.S)
    return match.group(1) if match else None
