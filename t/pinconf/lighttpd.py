"""lighttpd.py: the lighttpd driver: a main config that includes the shipped
lighttpd-pinconf[-fastcgi].conf, as pinconf(7) says, and lighttpd in the foreground."""

import os
import shutil

from .environment import WEB_GROUP, WEB_USER, _running_as_root, _sanitizer_environment, cgis_are_sanitized
from .webserver import Server


def _conf_string(text):
    """A lighttpd string literal."""
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


# Where Debian's lighttpd.conf gets its MIME types (contrib/serve-demo does the same).
LIGHTTPD_MIME_SCRIPT = '/usr/share/lighttpd/create-mime.conf.pl'
# Without that script: what the web client needs, or browsers refuse pinconf.css.
LIGHTTPD_MIME_TYPES = '''mimetype.assign = (
	".html" => "text/html; charset=utf-8",
	".css" => "text/css; charset=utf-8",
	".js" => "text/javascript; charset=utf-8",
)'''


class LighttpdServer(Server):
    """lighttpd in the foreground, with the installed lighttpd-pinconf.conf."""

    kind = 'lighttpd'

    @classmethod
    def missing(cls):
        if not os.environ.get('LIGHTTPD'):
            return 'lighttpd not found (LIGHTTPD is empty: configure did not find it)'
        return None

    def configure(self):
        snippet = 'lighttpd-pinconf-fastcgi.conf' if self.mode == 'fastcgi' else 'lighttpd-pinconf.conf'
        shipped = os.path.join(self.scratch.pkgdatadir, 'examples', snippet)
        lines = [
            '# main.conf written by t/pinconf/lighttpd.py',
            'server.port = %d' % self.port,
            'server.bind = "%s"' % (('[%s]' if ':' in self.host else '%s') % self.host),
            'server.errorlog = %s' % _conf_string(self.error_log),
            # CGI stderr: without breakagelog lighttpd 1.4.69 relays it to the
            # errorlog late, and lines can go missing there.
            'server.breakagelog = %s' % _conf_string(self.cgi_log),
            'server.pid-file = %s' % _conf_string(os.path.join(self.dir, 'lighttpd.pid')),
        ]
        if _running_as_root():
            lines += ['server.username = "%s"' % WEB_USER, 'server.groupname = "%s"' % WEB_GROUP]
        if os.path.isfile(LIGHTTPD_MIME_SCRIPT):
            lines.append('include_shell %s' % _conf_string(LIGHTTPD_MIME_SCRIPT))
        else:
            lines.append(LIGHTTPD_MIME_TYPES)
        environment = _sanitizer_environment()
        if environment:
            # set-environment, not add-environment: the snippet's add-environment
            # in its $HTTP["url"] block would replace a global one.
            lines += ['server.modules += ( "mod_setenv" )',
                      'setenv.set-environment = ( %s )' % ', '.join(
                          '%s => %s' % (_conf_string(name), _conf_string(value))
                          for name, value in environment)]
        lines += [
            'var.pinconf_cgibin = %s' % _conf_string(os.environ['PINCONF_CGIBINDIR']),
            'var.pinconf_htdocs = %s' % _conf_string(self.scratch.path('htdocs')),
            'var.pinconf_config = %s' % _conf_string(self.config),
        ]
        if self.mode == 'fastcgi':
            sockets = self.short_dir(os.path.join(self.dir, 'sockets'), 'pinconf-fcgi-')
            self.scratch.chown(sockets)
            lines.append('var.pinconf_sockets = %s' % _conf_string(sockets))
        lines.append('include %s' % _conf_string(shipped))
        if cgis_are_sanitized() and self.mode == 'cgi':
            lines += self.sigterm_proof_cgis()
        lines.append(self.extra_conf)
        self.main_conf = os.path.join(self.dir, 'main.conf')
        with open(self.main_conf, 'w') as out:
            out.write('\n'.join(lines) + '\n')

    def sigterm_proof_cgis(self):
        """Config lines that run each CGI with SIGTERM ignored (ASan builds only).

        lighttpd sends a CGI SIGTERM as soon as its response is complete
        (mod_cgi's cgi_connection_close), and the CGIs flush their response
        before exit(), where LeakSanitizer's check runs: the check was cut
        short every time (0 of 19 finished in callback-ace-dice.t), and a
        leak went unreported.  An ignored signal stays ignored
        across exec, so a two-line wrapper, named as the handler for .cgi
        after the shipped snippet's cgi.assign, lets every check finish.
        """
        wrapper = os.path.join(self.dir, 'ignore-sigterm')
        with open(wrapper, 'w') as out:
            out.write('#!/bin/sh\n# written by t/pinconf/lighttpd.py: see LighttpdServer.sigterm_proof_cgis\n'
                      "trap '' TERM\nexec \"$@\"\n")
        os.chmod(wrapper, 0o755)
        return ['$HTTP["url"] =~ "^/cgi-bin/.*\\.cgi$" {',
                '\tcgi.assign = ( ".cgi" => %s )' % _conf_string(wrapper),
                '}']

    def started(self):
        try:
            with open(self.error_log, errors='replace') as f:
                return 'server started' in f.read()
        except OSError:
            return False

    def command(self):
        return [os.environ['LIGHTTPD'], '-D', '-f', self.main_conf]

    def stop(self):
        super().stop()
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
