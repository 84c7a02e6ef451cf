"""The car's core imports with neither torch nor rclpy."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "ncp_driver",
    "ncp_driver.preprocessing",
    "ncp_driver.contract",
    "ncp_driver.topics",
    "ncp_driver.takeover",
    "ncp_driver.runtime",
]


def test_core_imports_without_torch_or_rclpy() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'rclpy', 'h5py', 'rosbags', 'onnx'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {CORE_MODULES!r}:\n"
        "    __import__(m)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
