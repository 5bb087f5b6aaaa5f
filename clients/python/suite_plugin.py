"""pytest plugin for running rocketchat_API's own test suite against Liftoff.

The suite's clients default to http://127.0.0.1:3000; this points that default at the server
named by LIFTOFF_URL, so the tests themselves run unchanged.
"""
import os

from rocketchat_API.APISections import base

_url = os.environ["LIFTOFF_URL"]
_defaults = list(base.RocketChatBase.__init__.__defaults__)
_defaults[_defaults.index("http://127.0.0.1:3000")] = _url
base.RocketChatBase.__init__.__defaults__ = tuple(_defaults)
