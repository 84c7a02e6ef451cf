"""The ament_python package: package.xml, what setup.py installs, the parameter file, the docs.

No XSD of package format 3 ships in a package reachable here (PyPI's catkin_pkg and
ament_xmllint, Debian's python3-catkin-pkg, catkin and catkin-lint were checked), so package.xml
is checked by catkin_pkg's parser (what rosdep, colcon and bloom read it with) where installed,
and always by a test of the format-3 elements and order.
"""

from __future__ import annotations

import ast
import configparser
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ncp_driver_ros.settings import parameter_specs, parameter_table
from ros2_rig import ROS_PACKAGE
from ruamel.yaml import YAML

REPO = ROS_PACKAGE.parents[2]
PACKAGE_XML = ROS_PACKAGE / "package.xml"
NODE_DEPENDENCIES = (
    "rclpy",
    "rcl_interfaces",
    "builtin_interfaces",
    "sensor_msgs",
    "std_msgs",
    "ackermann_msgs",
    "diagnostic_msgs",
    "std_srvs",
)
LAUNCH_DEPENDENCIES = ("launch", "launch_ros", "ament_index_python", "ros2bag")
PYTHON_KEYS = ("python3-numpy", "python3-opencv", "python3-onnxruntime-pip")
TEST_DEPENDENCIES = ("launch_testing", "launch_testing_ros", "python3-pytest")
# The rosdep key (or ROS package) each imported top-level module needs.
IMPORT_KEYS = {
    "numpy": "python3-numpy",
    "cv2": "python3-opencv",
    "onnxruntime": "python3-onnxruntime-pip",
}
NOT_A_DEPENDENCY = {"ncp_driver", "ncp_driver_ros", "pytest", "__future__"}


def _dependencies(kind: str) -> set[str]:
    root = ET.parse(PACKAGE_XML).getroot()
    names = {e.text.strip() for e in root.findall(kind) if e.text}
    return names | {e.text.strip() for e in root.findall("depend") if e.text}


def test_package_xml_has_the_format_3_elements_in_order():
    text = PACKAGE_XML.read_text(encoding="utf-8")
    assert 'href="http://download.ros.org/schema/package_format3.xsd"' in text
    root = ET.fromstring(text)
    assert root.tag == "package" and root.get("format") == "3"
    tags = [child.tag for child in root if isinstance(child.tag, str)]
    head = [t for t in tags if t in ("name", "version", "description", "maintainer", "license")]
    assert head[:3] == ["name", "version", "description"]
    assert tags.index("license") > tags.index("maintainer") > tags.index("description")
    assert tags[-1] == "export"
    assert root.findtext("name") == "ncp_driver_ros" == ROS_PACKAGE.name
    assert root.find("maintainer").get("email")
    assert root.find("export").findtext("build_type") == "ament_python"
    version = root.findtext("version")
    assert f'version="{version}"' in (ROS_PACKAGE / "setup.py").read_text(encoding="utf-8")


def test_package_xml_names_every_dependency():
    exec_deps = _dependencies("exec_depend")
    for name in (*NODE_DEPENDENCIES, *LAUNCH_DEPENDENCIES, *PYTHON_KEYS):
        assert name in exec_deps, f"package.xml lacks <exec_depend>{name}</exec_depend>"
    assert set(TEST_DEPENDENCIES) <= _dependencies("test_depend")


def _imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_of_the_package_and_launch_files_is_a_dependency():
    stdlib = set(sys.stdlib_module_names)
    sources = [*(ROS_PACKAGE / "ncp_driver_ros").glob("*.py"), *(REPO / "launch").glob("*.py")]
    tests = list((ROS_PACKAGE / "test").glob("*.py"))
    exec_deps = _dependencies("exec_depend")
    test_deps = _dependencies("test_depend") | exec_deps
    for paths, deps in ((sources, exec_deps), (tests, test_deps)):
        for path in paths:
            for module in _imported_top_modules(path) - stdlib - NOT_A_DEPENDENCY:
                key = IMPORT_KEYS.get(module, module)
                assert key in deps, f"{path.name} imports {module}: package.xml needs {key}"


def test_catkin_pkg_parses_and_validates_package_xml():
    package_module = pytest.importorskip(
        "catkin_pkg.package", reason="catkin_pkg (PyPI) parses package.xml as rosdep does"
    )
    package = package_module.parse_package(str(PACKAGE_XML))
    package.validate()
    assert package.package_format == 3
    assert package.get_build_type() == "ament_python"

    def onnxruntime_keys(env: dict[str, str]) -> set[str]:
        package.evaluate_conditions(env)
        return {
            d.name
            for d in package.exec_depends
            if "onnxruntime" in d.name and d.evaluated_condition
        }

    assert onnxruntime_keys({}) == {"python3-onnxruntime-pip"}
    assert onnxruntime_keys({"NCP_DRIVER_ONNXRUNTIME": "gpu"}) == {"python3-onnxruntime-gpu-pip"}


def test_the_launch_folder_is_one_copy_linked_into_the_package():
    link = ROS_PACKAGE / "launch"
    assert link.is_symlink(), "ros2_ws/src/ncp_driver_ros/launch must be a symlink"
    assert os.readlink(link) == "../../../launch", "a relative link, so any checkout works"
    assert link.resolve() == (REPO / "launch").resolve()
    assert {p.name for p in link.glob("*.launch.py")} == {"driver.launch.py", "replay.launch.py"}


def test_setup_cfg_puts_the_executable_where_ros2_run_looks():
    config = configparser.ConfigParser()
    config.read(ROS_PACKAGE / "setup.cfg")
    assert config["install"]["install_scripts"] == "$base/lib/ncp_driver_ros"
    assert config["develop"]["script_dir"] == "$base/lib/ncp_driver_ros"


def test_setup_py_installs_node_launch_files_and_parameters(tmp_path):
    """What a plain `colcon build` runs (setup.py egg_info build install), into a temp prefix."""
    build, prefix = tmp_path / "build", tmp_path / "install"
    build.mkdir()  # colcon creates it too
    command = [
        sys.executable, "setup.py", "-q",
        "egg_info", "--egg-base", str(build),
        "build", "--build-base", str(build / "build"),
        "install", "--prefix", str(prefix), "--single-version-externally-managed",
        "--record", str(build / "install.log"),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROS_PACKAGE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    share = prefix / "share" / "ncp_driver_ros"
    assert (prefix / "lib" / "ncp_driver_ros" / "driver").is_file()
    assert (
        prefix / "share" / "ament_index" / "resource_index" / "packages" / "ncp_driver_ros"
    ).is_file()
    assert (share / "package.xml").read_bytes() == PACKAGE_XML.read_bytes()
    assert (share / "config" / "driver.yaml").is_file()
    assert (share / "config" / "cyclonedds_large_images.xml").is_file()
    for name in ("driver.launch.py", "replay.launch.py"):
        assert (share / "launch" / name).read_bytes() == (REPO / "launch" / name).read_bytes()
    (entry_points,) = build.glob("*.egg-info/entry_points.txt")
    assert "driver = ncp_driver_ros.entry:main" in entry_points.read_text(encoding="utf-8")
    assert not list(ROS_PACKAGE.glob("*.egg-info")), "the build left files in the source tree"


@pytest.mark.slow
@pytest.mark.parametrize("symlink", [False, True], ids=["copy", "symlink-install"])
def test_colcon_build_installs_the_launch_files(tmp_path, symlink):
    """The real `colcon build` (colcon-core + colcon-ros from PyPI), when installed."""
    colcon = shutil.which("colcon")
    if colcon is None:
        pytest.skip("colcon is not installed (pip install colcon-core colcon-ros)")
    command = [
        colcon, "--log-base", str(tmp_path / "log"), "build",
        "--build-base", str(tmp_path / "build"), "--install-base", str(tmp_path / "install"),
    ] + (["--symlink-install"] if symlink else [])  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO / "ros2_ws", capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    launch = tmp_path / "install" / "ncp_driver_ros" / "share" / "ncp_driver_ros" / "launch"
    installed = launch / "driver.launch.py"
    assert installed.is_symlink() == symlink
    if symlink:
        assert installed.resolve() == (REPO / "launch" / "driver.launch.py").resolve()
    assert installed.read_bytes() == (REPO / "launch" / "driver.launch.py").read_bytes()


def _yaml_parameters() -> dict:
    data = YAML(typ="safe", pure=True).load(
        (ROS_PACKAGE / "config" / "driver.yaml").read_text(encoding="utf-8")
    )
    assert list(data) == ["/**"], "one section for any node name and namespace"
    return data["/**"]["ros__parameters"]


def test_the_parameter_file_holds_every_parameter_with_its_default_and_type():
    values = _yaml_parameters()
    specs = {spec.name: spec for spec in parameter_specs()}
    assert set(values) == set(specs)
    for name, value in values.items():
        default = specs[name].ros_default
        assert type(value) is type(default), f"{name}: {value!r} is not a {type(default).__name__}"
        if isinstance(default, float):
            assert math.isclose(value, default, rel_tol=1e-12), name
        else:
            assert value == default, name


def test_the_rclpy_stand_in_leaves_no_trace():
    from rclpy_standin import installed

    assert "rclpy" not in sys.modules
    with installed(purge=("ncp_driver_ros.driver_node",)):
        import ncp_driver_ros.driver_node  # noqa: F401

        assert "rclpy" in sys.modules and "sensor_msgs.msg" in sys.modules
    assert "rclpy" not in sys.modules and "sensor_msgs.msg" not in sys.modules
    assert "ncp_driver_ros.driver_node" not in sys.modules


def test_the_docs_hold_the_parameter_table():
    docs = (REPO / "docs" / "ros2.md").read_text(encoding="utf-8")
    begin, end = "<!-- parameters:begin -->\n", "<!-- parameters:end -->"
    assert begin in docs and end in docs
    table = docs.split(begin, 1)[1].split(end, 1)[0]
    assert table == parameter_table(), (
        "docs/ros2.md's parameter table is out of date: regenerate it with "
        "`python -c 'from ncp_driver_ros.settings import parameter_table; print(parameter_table())'`"
    )
