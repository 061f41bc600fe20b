"""tradewire's Python API as tw_client.py, with inline_reads=True: the thread waiting in
recv_batch reads the socket itself instead of being woken by the I/O thread."""

import os
import runpy
from pathlib import Path

os.environ["TW_INLINE"] = "1"
runpy.run_path(str(Path(__file__).with_name("tw_client.py")), run_name="__main__")
