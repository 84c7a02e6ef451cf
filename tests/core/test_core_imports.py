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


OFFLINE_MODULES = [
    "ncp_driver.bags.cli",
    "ncp_driver.synth",
    "ncp_driver.replay.cli",
    "ncp_driver.audit.analyses",
    "ncp_driver.report.audit",
    "ncp_driver.demo",
]


def test_the_demo_and_the_offline_tools_import_without_torch() -> None:
    """`scripts/demo.sh` installs the bags extra only: no torch, no ncps."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'ncps', 'onnxscript', 'rclpy'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {OFFLINE_MODULES!r}:\n"
        "    __import__(m)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
