"""The exceptions of the aspace client.

A failed *system call* is not an exception: it is a
:class:`aspace.results.SyscallError` result, as a trace prints
``= -ENOMEM``.  Exceptions are for what stops the conversation or the
request itself: the connection, authentication, a refused request.
"""

from typing import Optional


class AspaceError(Exception):
    """The base of every exception the client raises."""


class TransportError(AspaceError):
    """The connection failed: connect, TLS handshake, read or write."""


class ProtocolError(AspaceError):
    """The daemon sent something that breaks the protocol (a bad frame)."""


class StatusError(AspaceError):
    """The daemon refused a request: a status other than OK and ERRNO.

    ``code`` is the status code's name (``"NO_SUCH_SESSION"``,
    ``"BAD_REQUEST"``...), ``message`` the daemon's explanation, for
    people.  ``result`` holds a partial result where the protocol gives
    one (a trace stopped by its budget: ``QUOTA``).
    """

    def __init__(self, code: str, message: str = "",
                 result: Optional[object] = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.result = result


class AuthError(StatusError):
    """The daemon refused the credentials (``UNAUTHENTICATED``)."""
