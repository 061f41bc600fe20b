"""tradewire's Python API as tw_client.py, reading each event's timestamp as ev.data["ts"]:
the whole payload converted to a dict (what json.loads gives), not one member."""

import os
import runpy
from pathlib import Path

os.environ["TW_ACCESS"] = "dict"
runpy.run_path(str(Path(__file__).with_name("tw_client.py")), run_name="__main__")
