"""The import rules of docs/architecture.md, checked on every module of the package.

Three kinds of check, so that nothing escapes through a lazy import:

- statically, on every module's source (imports inside functions included): where torch and
  rclpy may be imported, and that the packages' dependencies have no cycle;
- by importing every module in a fresh interpreter with the packages its rule forbids made
  unimportable (the car's core: everything outside numpy, OpenCV and onnxruntime);
- by running every console script's ``--help``, and the offline tools' main paths on a small
  synthetic drive, with torch and rclpy unimportable.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ncp_driver

PACKAGE = Path(ncp_driver.__file__).parent
REPO = PACKAGE.parent
ROS_PACKAGE = REPO / "ros2_ws" / "src" / "ncp_driver_ros" / "ncp_driver_ros"

# What the car installs: numpy, OpenCV, onnxruntime. Every other dependency of the project (the
# bags, train and dev extras) and ROS must stay out of the core.
NOT_ON_THE_CAR = (
    "torch", "ncps", "onnxscript", "onnx", "rosbags", "h5py", "matplotlib", "tqdm", "pyarrow",
    "rclpy", "ackermann_msgs", "std_msgs", "sensor_msgs", "diagnostic_msgs", "builtin_interfaces",
)  # fmt: skip
TRAINING_ONLY = ("torch", "ncps", "onnxscript")
ROS = ("rclpy", "ackermann_msgs", "std_msgs", "sensor_msgs", "diagnostic_msgs", "std_srvs")
CORE_PACKAGES = ("images", "runtime")  # with the top-level modules
TORCH_PACKAGES = ("training", "export")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(module_name(p) for p in PACKAGE.rglob("*.py"))
SUBPACKAGES = {d.name for d in PACKAGE.iterdir() if (d / "__init__.py").is_file()}


def layer(module: str) -> str:
    """``core`` (top-level modules, images, runtime), ``torch`` (training, export) or
    ``offline`` (the rest)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] not in SUBPACKAGES or parts[1] in CORE_PACKAGES:
        return "core"
    return "torch" if parts[1] in TORCH_PACKAGES else "offline"


def node(module: str) -> str:
    """A module's place in the dependency graph: its subpackage, or itself if top-level."""
    parts = module.split(".")
    return ".".join(parts[:2])


def imports(path: Path, top_level_only: bool = False) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in a file (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body if top_level_only else list(ast.walk(tree))
    here = module_name(path) if path.is_relative_to(REPO) else ""
    for item in body:
        if isinstance(item, ast.Import):
            for alias in item.names:
                yield alias.name, item.lineno
        elif isinstance(item, ast.ImportFrom):
            if item.level:
                base = here.split(".")[: -item.level if path.name != "__init__.py" else None]
                if path.name == "__init__.py" and item.level > 1:
                    base = base[: -(item.level - 1)]
                name = ".".join([*base, item.module] if item.module else base)
            else:
                name = item.module or ""
            yield name, item.lineno
            for alias in item.names:  # ``from ncp_driver import topics`` imports a module
                yield f"{name}.{alias.name}", item.lineno


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_walk_sees_every_module_and_its_lazy_imports() -> None:
    """The checks below cover the whole package, and a lazy import is seen (the check can fail)."""
    assert len(MODULES) > 100
    assert "ncp_driver.modelcard" in MODULES and "ncp_driver.replay.cli" in MODULES
    lazy = dict(imports(PACKAGE / "drives.py"))
    assert "h5py" in lazy and "h5py" not in dict(imports(PACKAGE / "drives.py", True))


def test_torch_only_under_training_and_export_and_rclpy_never() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for name, line in imports(path):
            if top(name) in ROS:
                wrong.append(f"{module}:{line} imports {name} (rclpy only in ros2_ws)")
            if top(name) in TRAINING_ONLY and layer(module) != "torch":
                wrong.append(f"{module}:{line} imports {name} (torch only in training, export)")
    assert not wrong, "\n".join(wrong)


def test_the_core_imports_only_the_core_at_module_level() -> None:
    """A top-level module, images or runtime imports neither another package of the project
    nor a dependency the car lacks when it is imported (its commands may, lazily)."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        if layer(module) != "core":
            continue
        for name, line in imports(path, top_level_only=True):
            if top(name) in NOT_ON_THE_CAR:
                wrong.append(f"{module}:{line} imports {name}")
            elif top(name) == "ncp_driver" and name in MODULES and layer(name) != "core":
                wrong.append(f"{module}:{line} imports {name}, outside the core")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_the_packages() -> None:
    """Subpackages and top-level modules form an acyclic graph, lazy imports included."""
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = node(module_name(path))
        for name, _ in imports(path):
            if top(name) != "ncp_driver" or name.count(".") < 1:
                continue
            target = node(name)
            if target in {node(m) for m in MODULES} and target != source:
                edges.setdefault(source, set()).add(target)

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                cycle = [*stack[stack.index(m) :], m]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n)
    assert "ncp_driver.audit" in edges.get("ncp_driver.report", set())  # the graph is real


def test_the_ros_package_imports_rclpy_in_the_node_module_only() -> None:
    wrong = [
        f"{path.name}:{line} imports {name}"
        for path in sorted(ROS_PACKAGE.glob("*.py"))
        if path.name != "driver_node.py"
        for name, line in imports(path, top_level_only=True)
        if top(name) in ROS
    ]
    assert not wrong, "\n".join(wrong)


BLOCKER = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in BLOCKED:\n"
    "            raise ImportError('blocked: ' + name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


def run_blocking(
    code: str, blocked: tuple[str, ...], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where the ``blocked`` packages cannot load."""
    program = f"BLOCKED = {blocked!r}\n" + BLOCKER + code
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=timeout,
    )


def import_blocking(
    modules: list[str], blocked: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    """Import ``modules`` in a fresh interpreter where the ``blocked`` packages cannot load."""
    return run_blocking(f"for m in {modules!r}:\n    __import__(m)\nprint('ok')\n", blocked)


def test_every_core_module_imports_with_only_the_cars_packages() -> None:
    core = [m for m in MODULES if layer(m) == "core"]
    assert "ncp_driver.runtime.pipeline" in core and "ncp_driver.demo" in core
    out = import_blocking(core, NOT_ON_THE_CAR)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_every_offline_module_imports_without_torch_or_rclpy() -> None:
    """`scripts/demo.sh` installs the bags extra only: no torch, no ncps."""
    offline = [m for m in MODULES if layer(m) != "torch"]
    out = import_blocking(offline, TRAINING_ONLY + ROS)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_every_module_imports_without_rclpy() -> None:
    out = import_blocking(MODULES, ROS)
    assert out.returncode == 0, out.stderr


def test_a_blocked_package_is_really_blocked() -> None:
    """The check itself can fail: importing torch with torch blocked does."""
    out = import_blocking(["ncp_driver.training.networks"], ("torch",))
    assert out.returncode != 0 and "blocked: torch" in out.stderr


def console_scripts() -> dict[str, str]:
    """``name -> module:function`` from pyproject.toml, plus ``python -m ncp_driver.modelcard``."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    return {**scripts, "modelcard": "ncp_driver.modelcard:main"}


def test_every_console_script_answers_help_with_what_its_rule_forbids_blocked() -> None:
    scripts = console_scripts()
    assert {"ncp-bag", "ncp-replay", "ncp-synth", "ncp-demo", "ncp-train", "ncp-export"} <= set(
        scripts
    )
    for name, target in sorted(scripts.items()):
        module, function = target.split(":")
        blocked = ROS if layer(module) == "torch" else TRAINING_ONLY + ROS
        code = (
            f"import {module} as m\n"
            f"try:\n    m.{function}(['--help'])\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        )
        out = run_blocking(code, blocked)
        assert out.returncode == 0, f"{name}: {out.stderr[-2000:]}"
        assert "Exit status: 0 ok; 1" in " ".join(out.stdout.split()), name


MAIN_PATHS = """
import json, tempfile
from pathlib import Path
from ncp_driver.bags.cli import main as bag
from ncp_driver.replay.cli import main as replay
from ncp_driver.synth.cli import main as synth
from ncp_driver.models import default_model_path
from ncp_driver.report.audit import write_audit_report
work = Path(tempfile.mkdtemp())
bag_dir = work / 'drive'
common = ['--duration', '26', '--size', '151x240', '--camera-hz', '10', '--no-progress']
assert synth(['--out', str(bag_dir), '--format', 'ros2-sqlite3', '--compressed', *common]) == 0
assert synth(['--out', str(work / 'd.h5'), '--format', 'h5', *common]) == 0
for command in (['info'], ['takeovers', '--map', str(work / 'map.png')],
                ['discomfort', '--plot', str(work / 'd.png')],
                ['trainset', '-o', str(work / 't.h5'), '--wheelbase', '2.7'],
                ['extract', '-o', str(work / 'x'), '--only', 'gps', '--only', 'steering']):
    assert bag([command[0], str(bag_dir), *command[1:], '--json', '--no-progress']) == 0, command
out = work / 'replay'
assert replay([str(bag_dir), '--out', str(out), '--no-progress']) == 0
write_audit_report(out, work / 'report.html', model=default_model_path())
assert (work / 'report.html').stat().st_size > 1000
print('ok')
"""


def test_the_offline_tools_main_paths_run_without_torch_or_rclpy() -> None:
    """The lazy imports of a whole offline run: synthesise, the bag commands, replay, report."""
    out = run_blocking(MAIN_PATHS, TRAINING_ONLY + ROS)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
