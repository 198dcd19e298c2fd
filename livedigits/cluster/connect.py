"""Joining a Ray cluster: ``--ray ADDRESS`` as a user gives it, into ``ray.init``, with one-line errors.

ADDRESS is a cluster's ``host:port`` (its GCS, port 6379 after ``ray start --head``), ``auto``
(``RAY_ADDRESS``, or the cluster last started on this machine: what a Ray job is given) or ``local`` (start
Ray on this machine for this run, bound to 127.0.0.1). Ray Client (``ray://``) is refused: it has no
streaming generators, which bring a video's records back as they are read.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from contextlib import contextmanager

from livedigits.errors import UsageError
from livedigits.util.extras import require_ray

#: Ray's switch for "is this machine part of a cluster?": off, Ray keeps a loopback address as it is
#: instead of swapping it for the machine's network address (which a cluster bound to 127.0.0.1, or a
#: run of ``local``, does not listen on). Read by Ray when it is imported.
RAY_LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def check_address(address: str) -> str:
    """``address`` checked for its form (not reached yet): a UsageError names what is wrong."""
    text = (address or "").strip()
    if text in ("auto", "local"):
        return text
    if text.startswith("ray://"):
        raise UsageError("--ray ray://... is Ray Client, which cannot stream results back; give the cluster's "
                         "host:port (port 6379), or run livedigits on the cluster with `ray job submit -- "
                         "livedigits run ... --ray auto`")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray expects host:port (e.g. 10.0.0.5:6379), auto or local; got {address!r}")
    return text


def _loopback(address: str) -> bool:
    if address == "local":
        return True
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def connected(address: str, *, verbose: bool = False):
    """Connect to the cluster at ``address`` for the ``with`` block (yields ``ray``), and disconnect after
    (a ``local`` cluster is stopped). A process already connected (``ray.init`` done by the caller) keeps
    its connection, before and after."""
    require_ray()
    address = check_address(address)
    if _loopback(address):
        os.environ.setdefault(RAY_LOOPBACK_SWITCH, "0")
    _check_reachable(address)
    import ray

    if ray.is_initialized():
        yield ray
        return
    options = dict(log_to_driver=verbose, logging_level=logging.INFO if verbose else logging.ERROR,
                   configure_logging=True)
    if address == "local":
        options.update(include_dashboard=False)
    elif not verbose:
        # Ray's own start-up warnings (token authentication on by default...) are for -v.
        logging.getLogger("ray").setLevel(logging.ERROR)
    try:
        ray.init(address=address, **options)
    except ray.exceptions.AuthenticationError as exc:
        raise UsageError(f"the Ray cluster at {address} refused this program's token: {_one_line(exc)}") from None
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
        raise UsageError(f"cannot reach a Ray cluster at {address}: {_one_line(exc)}; start one with "
                         "`ray start --head` there, or give --ray local") from None
    try:
        yield ray
    finally:
        ray.shutdown()


#: How long a cluster's address may take to answer a TCP connection before it is called unreachable (Ray
#: itself retries for minutes).
REACH_TIMEOUT_S = 5.0


def _check_reachable(address: str) -> None:
    """Fail at once, in one line, when ``host:port`` does not accept a connection."""
    import socket

    if address in ("auto", "local"):
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as exc:
        raise UsageError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}; start one with "
                         "`ray start --head` there (it prints the address), or give --ray local") from None


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2]) if lines else type(exc).__name__
