"""pinconf: the shared harness of pinconf's end-to-end tests (Python 3 stdlib only).

A test file is the behaviour it checks, and nothing else:

    import os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pinconf
    from pinconf import ice_phone, pie, new_callid, action_name

    def main(t):
        scratch = pinconf.Scratch('callback-phone')
        scratch.add_conference('Weekly sync', '1234')
        server = pinconf.start_server(scratch)
        call = new_callid()
        r = server.post(ice_phone(call))
        t.is_(r.status, 200, 'a phone ICE is answered with 200')
        r = server.post(pie(call, '1234'))
        t.is_(action_name(r.json), 'connectConf', 'the right PIN joins the conference')
        t.is_(scratch.call(call)['conference_name'], 'Weekly sync', 'its call row names it')

    pinconf.run(main)

Writing a test:
  - One Scratch and one start_server() a file, not a check: a server costs a
    second to start and every server test runs in four modes (lighttpd and
    Apache, CGI and FastCGI; make check's twins set PINCONF_SERVER and
    PINCONF_MODE) and again under the sanitizers.  Where a server adds nothing,
    run the CGI directly with run_cgi().
  - Wait for a condition, never sleep: server.log_since() already waits until
    the CGIs' stderr of every answered request is in the log.
  - Import only the names below (they are the harness's interface and are kept
    stable); put new helpers of a feature in a module of their own beside this
    package (t/mailbox.py, t/owner_client.py, t/sinchfake.py do so).
  - run() prints the plan, turns an exception into a failed assertion, stops
    the servers and adds the last assertion: no CGI reported a sanitizer error.

Modules, one concern each:
  tap          Tap (ok, is_, isnt, like, unlike, between, skip, diag; todo=),
               run(main), the sanitizer check.
  signing      Sinch's signer (sign, signature, basic, content_md5, iso_now), the
               documented vectors, KEY/SECRET/CALLBACK_PATH/CONTENT_TYPE.
  events       ice_phone, ice_browser, pie, ace, dice, notify, encode, new_callid,
               phone_number; SVAML readers action_name, instructions, says; the
               texts APOLOGY, WELCOME, INVALID, PROMPT.
  scratch      Scratch: t/tmp/<name>[-apache][-fastcgi]/ with a fresh database from
               the installed schema.sql, a pinconf.conf, query/execute/counts;
               LockHolder: a sqlite3 CLI holding the write lock.
  environment  server_kind(), server_mode(), the web server's user, the sanitizer
               settings passed on to the CGIs.
  webserver    Server: start/stop, request(), post() signed as Sinch signs,
               log_mark()/log_since() (the CGIs' stderr as they wrote it),
               fastcgi_pids(); Response; the registry of running servers.
  lighttpd     LighttpdServer, with the shipped lighttpd-pinconf[-fastcgi].conf.
  apache       ApacheServer, with the shipped apache-pinconf.conf (-fcgid).
  servers      start_server(), the server kinds, missing_prerequisite().
  client       the browser's requests: post_form, getticket, roster,
               issue_identity; check_refusal (the shape of every refusal).
  cgi_direct   run_cgi (a CGI run as a server would, without one),
               signed_callback_headers.
  waiting      wait_for(condition, timeout): poll, never sleep a fixed time.
  manuals      examples_section, unescape: a manual's EXAMPLES as a reader sees them.
"""

# The interface: every name a test may use, from the module that holds it.
from .tap import Tap, run, SANITIZER_PATTERN, sanitizer_reports, check_sanitizers  # noqa: F401
from .signing import (KEY, SECRET, CALLBACK_PATH, CONTENT_TYPE, DOC_VECTOR, ICE_VECTOR,  # noqa: F401
                      content_md5, string_to_sign, signature, sign, _authorization, basic, iso_now,
                      signer_self_check)
from .events import (APOLOGY, WELCOME, INVALID, PROMPT, new_callid, _event, phone_number,  # noqa: F401
                     ice_phone, ice_browser, pie, ace, dice, notify, encode,
                     action_name, instructions, says)
from .environment import (alone, WEB_USER, WEB_GROUP, _running_as_root, _web_ids, server_kind, MODES,  # noqa: F401
                          server_mode, SANITIZER_VARIABLES, _sanitizer_environment, cgis_are_sanitized)
from .scratch import Scratch, LockHolder  # noqa: F401
from .webserver import (Response, Server, _servers, _started_servers, stop_all_servers, free_port,  # noqa: F401
                        ipv6_loopback_usable, _die_with_parent)
from .lighttpd import LighttpdServer, LIGHTTPD_MIME_SCRIPT, LIGHTTPD_MIME_TYPES, _conf_string  # noqa: F401
from .apache import ApacheServer, apache_cgi_lines, _apache_word, _which  # noqa: F401
from .servers import _SERVER_KINDS, start_server, missing_prerequisite  # noqa: F401
from .client import (GETTICKET_PATH, ROSTER_PATH, FORM_TYPE, post_form, getticket, roster,  # noqa: F401
                     issue_identity, check_refusal)
from .cgi_direct import run_cgi, signed_callback_headers  # noqa: F401
from .waiting import wait_for  # noqa: F401
from .manuals import examples_section, unescape  # noqa: F401

