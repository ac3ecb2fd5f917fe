"""mailbox.py: the mail owner.cgi sent, as t/sendmail stored it, read as a person would.

    box = mailbox.Mailbox(scratch.path('mail'))
    box.install(scratch)            # a sendmail wrapper for the config's sendmail key
    mail = box.wait_for('ann@example.com')
    link = mailbox.link(mail)
"""
import email
import email.policy
import os
import re
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Mailbox:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.seen = set()

    def install(self, scratch):
        """A sendmail for scratch's server: t/sendmail with this folder baked in.

        Copied into the scratch dir, so that the web server's user can run it
        wherever the source tree is.  Returns its path, for config key sendmail.
        """
        program = scratch.path('sendmail.py')
        shutil.copy(os.path.join(HERE, 'sendmail'), program)
        wrapper = scratch.path('sendmail')
        with open(wrapper, 'w') as out:
            out.write('#!/bin/sh\nexec /usr/bin/env python3 %s %s "$@"\n' % (program, self.folder))
        os.chmod(program, 0o755)
        os.chmod(wrapper, 0o755)
        scratch.chown()
        return wrapper

    def names(self):
        return sorted(n for n in os.listdir(self.folder) if n.endswith('.eml'))

    def read(self, name):
        with open(os.path.join(self.folder, name), 'rb') as f:
            return email.message_from_bytes(f.read(), policy=email.policy.default)

    def new(self):
        """Messages that arrived since the last call, oldest first."""
        fresh = [n for n in self.names() if n not in self.seen]
        self.seen.update(fresh)
        return [self.read(n) for n in fresh]

    def wait_for(self, to, timeout=10):
        """The next new message to address to (None if none came); others stay unseen."""
        deadline = time.monotonic() + timeout
        while True:
            for name in self.names():
                if name in self.seen:
                    continue
                message = self.read(name)
                if to.lower() in str(message['To']).lower():
                    self.seen.add(name)
                    return message
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def all(self):
        return [self.read(n) for n in self.names()]


def text(message):
    body = message.get_body(('plain',))
    return body.get_content() if body is not None else ''


def link(message):
    """The first link in the mail's text."""
    found = re.search(r'https?://\S+', text(message))
    return found.group(0) if found else None
