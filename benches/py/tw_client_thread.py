"""tradewire's Python API as tw_client.py, with inline_reads=False: only the I/O thread
reads the socket, and the thread waiting in recv_batch is woken with the events."""

import os
import runpy
from pathlib import Path

os.environ["TW_INLINE_READS"] = "0"
runpy.run_path(str(Path(__file__).with_name("tw_client.py")), run_name="__main__")
