"""Runs Autobahn's `wstest` from a `pip install --target` folder (Python 2.7).

`--target` installs do not process the `.pth` files that make `zope` a namespace package, so
the folder is added with site.addsitedir() instead of PYTHONPATH.

    AUTOBAHN_SITE=.tools/autobahn python2.7 tests/autobahn/wstest.py -m fuzzingserver -s CONFIG
"""
import os
import site
import sys

site.addsitedir(os.environ["AUTOBAHN_SITE"])
from autobahntestsuite.wstest import run  # noqa: E402

sys.argv[0] = "wstest"
sys.exit(run())
