"""Which browser pages may call the REST API: the server's own page, and the origins --cors_allowed_origins lists.

A browser sends the page's origin in an `Origin` header with every POST (and `Sec-Fetch-Site`), and a
"simple" cross-origin POST (Content-Type text/plain, form data) runs without asking first, so a page
anywhere could make the server run inferences. Requests whose Origin is neither the server's own
(the Host they were sent to) nor listed are refused with 403 before their body is read. Clients that
send no Origin, curl and the gRPC and REST client libraries, are served as TF Serving serves them,
whatever their Content-Type. Listed origins get CORS headers and answers to their preflight requests.
Every answer of `ser serve` and `ser app` carries SECURITY_HEADERS.
"""
import typing
import urllib.parse

from speech_emotion.serving import errors

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PREFLIGHT_MAX_AGE_SECONDS = 600
# Sec-Fetch-Site values of requests made by another site's page.
_FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})
# Browsers must not guess content types, and a page loads only its own server's files, in no frame.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
}


def _host_and_port(netloc: str, scheme: str) -> typing.Optional[typing.Tuple[str, int]]:
    try:
        split = urllib.parse.urlsplit(f"//{netloc}")
        port = split.port
    except ValueError:
        return None
    if not split.hostname:
        return None
    return split.hostname.lower(), port if port is not None else _DEFAULT_PORTS.get(scheme, 0)


def _is_same_origin(origin: str, host: str) -> bool:
    """Whether `origin` names the host and port the request was sent to (its Host header)."""
    split = urllib.parse.urlsplit(origin)
    origin_host = _host_and_port(split.netloc, split.scheme)
    return origin_host is not None and origin_host == _host_and_port(host, split.scheme)


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]` lower-cased, as browsers send it; ValueError for anything else."""
    split = urllib.parse.urlsplit(origin.strip())
    if split.scheme not in _DEFAULT_PORTS or not split.netloc or split.path not in ("", "/") or split.query or split.fragment:
        raise ValueError(f"an allowed origin must look like https://host[:port], got {origin!r}")
    if _host_and_port(split.netloc, split.scheme) is None:
        raise ValueError(f"an allowed origin must look like https://host[:port], got {origin!r}")
    return f"{split.scheme}://{split.netloc.lower()}"


def parse_allowed_origins(text: str) -> typing.FrozenSet[str]:
    """--cors_allowed_origins: comma-separated origins, or * for any; empty allows none."""
    origins = [origin.strip() for origin in text.split(",") if origin.strip()]
    if ANY_ORIGIN in origins:
        if len(origins) > 1:
            raise ValueError(f"--cors_allowed_origins: {ANY_ORIGIN} allows every origin; list nothing beside it")
        return frozenset({ANY_ORIGIN})
    return frozenset(normalize_origin(origin) for origin in origins)


class OriginPolicy:
    """Decides whether a request may run and which CORS headers its answer carries."""

    def __init__(self, allowed_origins: typing.AbstractSet[str] = frozenset()):
        self._allowed = frozenset(allowed_origins)

    def _is_allowed(self, origin: str) -> bool:
        if ANY_ORIGIN in self._allowed:
            return True
        try:
            return normalize_origin(origin) in self._allowed
        except ValueError:  # "null" (sandboxed frames, file:// pages) and junk
            return False

    def check(self, headers: typing.Mapping[str, str], host: str) -> None:
        """Raises PERMISSION_DENIED for a request a page of another, unlisted origin made."""
        origin = headers.get("Origin")
        if origin is None:
            if headers.get("Sec-Fetch-Site", "").lower() in _FOREIGN_FETCH_SITES and ANY_ORIGIN not in self._allowed:
                raise errors.permission_denied("Cross-site request without an Origin header refused")
            return
        if not _is_same_origin(origin, host) and not self._is_allowed(origin):
            raise errors.permission_denied(f"Cross-origin request from {origin} refused: start the server with "
                                           f"--cors_allowed_origins={origin} to allow that page")

    def response_headers(self, headers: typing.Mapping[str, str], host: str) -> typing.Dict[str, str]:
        """CORS headers for the answer to an allowed cross-origin request; none otherwise."""
        origin = headers.get("Origin")
        if origin is None or _is_same_origin(origin, host) or not self._is_allowed(origin):
            return {}
        if ANY_ORIGIN in self._allowed:
            return {"Access-Control-Allow-Origin": ANY_ORIGIN}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight_headers(self, headers: typing.Mapping[str, str], host: str) -> typing.Dict[str, str]:
        """The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method); PERMISSION_DENIED when refused."""
        self.check(headers, host)
        return {
            **self.response_headers(headers, host),
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": headers.get("Access-Control-Request-Headers", "Content-Type"),
            "Access-Control-Max-Age": str(_PREFLIGHT_MAX_AGE_SECONDS),
        }


def is_preflight(method: str, headers: typing.Mapping[str, str]) -> bool:
    return method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers


async def add_security_headers(request, response) -> None:
    """An aiohttp on_response_prepare hook adding SECURITY_HEADERS to every answer."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
