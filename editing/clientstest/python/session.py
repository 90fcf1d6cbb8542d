"""What the python3-osmapi session scripts share: the client, the step
that failed, and their JSON output. The scripts import it from their own
directory (Python puts a script's directory first on its path)."""

import datetime
import json
import sys

import osmapi


def client(url, username=None, password=None):
    api = osmapi.OsmApi(api=url, username=username, password=password)
    # osmapi retries failed calls five times, 5 s apart: one try each here,
    # so that a refusal is reported at once.
    api._session.MAX_RETRY_LIMIT = 1
    return api


class Stop(Exception):
    """A step failed (or the test went away): what came before is reported."""


def emit(obj):
    sys.stdout.write(json.dumps(obj, default=json_default) + "\n")
    sys.stdout.flush()


def text(payload):
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return str(payload)


def json_default(v):
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    raise TypeError("not JSON: %r" % (v,))
