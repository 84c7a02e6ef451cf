"""What imports without what: the car's core needs neither torch nor rclpy; the demo no torch."""

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

OFFLINE_MODULES = [
    "ncp_driver.bags.cli",
    "ncp_driver.synth",
    "ncp_driver.replay.cli",
    "ncp_driver.audit.analyses",
    "ncp_driver.report.audit",
    "ncp_driver.demo",
    "ncp_driver.fleet.cli",
]


def import_blocking(
    modules: list[str], blocked: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    """Import ``modules`` in a fresh interpreter where the ``blocked`` packages cannot load."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "print('ok')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_core_imports_without_torch_or_rclpy() -> None:
    out = import_blocking(CORE_MODULES, ("torch", "rclpy", "h5py", "rosbags", "onnx"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_demo_and_the_offline_tools_import_without_torch() -> None:
    """`scripts/demo.sh` installs the bags extra only: no torch, no ncps."""
    out = import_blocking(OFFLINE_MODULES, ("torch", "ncps", "onnxscript", "rclpy"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_a_blocked_package_is_really_blocked() -> None:
    """The check itself can fail: importing torch with torch blocked does."""
    out = import_blocking(["ncp_driver.training.networks"], ("torch",))
    assert out.returncode != 0 and "blocked: torch" in out.stderr
