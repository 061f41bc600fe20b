"""tradewire's Python API as tw_client.py, with busy_poll=1.0: the thread waiting in
recv_batch polls the socket without sleeping while the feed is active (a CPU kept busy)."""

import os
import runpy
from pathlib import Path

os.environ["TW_BUSY_POLL"] = "1.0"
runpy.run_path(str(Path(__file__).with_name("tw_client.py")), run_name="__main__")
