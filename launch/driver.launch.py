"""Start the ncp_driver node.

From the checkout (workspace built and sourced)::

    ros2 launch launch/driver.launch.py model:=/path/to/model.onnx

Installed with the package::

    ros2 launch ncp_driver_ros driver.launch.py model:=/path/to/model.onnx

This is the only copy of the file: ros2_ws/src/ncp_driver_ros/launch is a symlink to this
folder and the package's setup.py installs it from there.

Arguments: ``model``, ``params_file`` (default: the package's config/driver.yaml),
``camera_topic``, ``camera_transport``, ``namespace``, ``use_sim_time``, ``log_level``,
``dds_profile``. An empty ``model``/``camera_topic``/``camera_transport`` leaves the parameter
file's value. ``dds_profile`` (default ``large_images``; ``none``: leave the environment; or a
path to an XML file) is applied to the middleware that ``RMW_IMPLEMENTATION`` selects (unset:
the distribution's default, Fast DDS, and Cyclone DDS too, each reads only its own variable):

- Cyclone DDS (``rmw_cyclonedds_cpp``): config/cyclonedds_large_images.xml is added to
  ``CYCLONEDDS_URI``, after what it already names (Cyclone DDS merges the list);
- Fast DDS (``rmw_fastrtps_cpp``, ``rmw_fastrtps_dynamic_cpp``):
  ``FASTRTPS_DEFAULT_PROFILES_FILE`` is set to config/fastdds_large_images.xml. Fast DDS reads
  one file: one the environment already names is kept for ``large_images`` (with a note) and
  replaced by an explicit path.

A path is applied by its root element (``CycloneDDS``: Cyclone DDS; ``dds`` or ``profiles``:
Fast DDS). Another middleware gets nothing for ``large_images`` (a note says so) and an error
for a path. What was set is logged.

The launch shuts down when the driver exits; if the driver exited with a non-zero code (it
could not start: a bad parameter or model, its FATAL line says which), the launch raises, so
``ros2 launch`` itself ends with exit code 1 (launch returns non-zero only for an exception).

The helpers above ``generate_launch_description`` are plain Python (tested without ROS); the
launch modules are imported inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

PACKAGE = "ncp_driver_ros"
EXECUTABLE = "driver"
NODE_NAME = "ncp_driver"
PARAMS_FILE = "driver.yaml"
CYCLONEDDS = "cyclonedds"
FASTDDS = "fastdds"
DDS_PROFILES = {
    "large_images": {
        CYCLONEDDS: "cyclonedds_large_images.xml",
        FASTDDS: "fastdds_large_images.xml",
    }
}
# RMW_IMPLEMENTATION -> the DDS whose profile it reads.
MIDDLEWARES = {
    "rmw_cyclonedds_cpp": CYCLONEDDS,
    "rmw_fastrtps_cpp": FASTDDS,
    "rmw_fastrtps_dynamic_cpp": FASTDDS,
}
# The variable each DDS reads its profile from (Fast DDS 2.x, as in Humble and Jazzy).
PROFILE_VARIABLES = {CYCLONEDDS: "CYCLONEDDS_URI", FASTDDS: "FASTRTPS_DEFAULT_PROFILES_FILE"}
# A profile file's root element -> its DDS.
PROFILE_ROOTS = {"CycloneDDS": CYCLONEDDS, "dds": FASTDDS, "profiles": FASTDDS}

ARGUMENTS: dict[str, tuple[str, str]] = {
    "model": ("", "Exported ONNX model (sets model_path; '' = the parameter file's)."),
    "params_file": ("", "Parameter file ('' = the package's config/driver.yaml)."),
    "camera_topic": ("", "Camera topic ('' = the parameter file's)."),
    "camera_transport": ("", "raw or compressed ('' = the parameter file's)."),
    "namespace": ("", "Namespace of the node and its relative topics."),
    "use_sim_time": ("false", "Follow /clock (true when replaying a bag)."),
    "log_level": ("info", "Log level of the node: debug, info, warn, error, fatal."),
    "dds_profile": (
        "large_images",
        "DDS profile for the middleware RMW_IMPLEMENTATION selects (Cyclone DDS: added to "
        "CYCLONEDDS_URI; Fast DDS: FASTRTPS_DEFAULT_PROFILES_FILE): large_images (the "
        "package's), none, or a path to an XML file.",
    ),
}


class DriverExitError(RuntimeError):
    """The driver exited with a non-zero code: launch reports it and ends non-zero."""


def _installed_share() -> Path:
    """The installed package's share directory (ament index); raises if it is not installed."""
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory(PACKAGE))


def config_file(
    name: str,
    launch_file: str | os.PathLike[str] = __file__,
    installed_share: Callable[[], Path] = _installed_share,
) -> Path:
    """A file of the package's config/ folder that belongs with this launch file.

    Installed, the launch file sits in ``<share>/ncp_driver_ros/launch/`` (a copy or a symlink:
    the path is not resolved) and the config in ``<share>/ncp_driver_ros/config/``. In the
    checkout it sits in ``launch/`` and the config in ``ros2_ws/src/ncp_driver_ros/config/``.
    Failing both, ``installed_share()`` (the ament index).
    """
    here = Path(os.path.abspath(launch_file)).parent
    candidates = [
        here.parent / "config" / name,
        here.parent / "ros2_ws" / "src" / PACKAGE / "config" / name,
    ]
    if here.parent.name != PACKAGE:
        candidates.pop(0)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    try:
        return installed_share() / "config" / name
    except Exception as exc:  # PackageNotFoundError or no ament_index_python
        raise FileNotFoundError(
            f"cannot find {name} next to {launch_file} nor an installed {PACKAGE}: "
            "build and source the workspace, or pass params_file:=/path/to/driver.yaml"
        ) from exc


def default_params_file(
    launch_file: str | os.PathLike[str] = __file__,
    installed_share: Callable[[], Path] = _installed_share,
) -> Path:
    """The config/driver.yaml that belongs with this launch file (see :func:`config_file`)."""
    return config_file(PARAMS_FILE, launch_file, installed_share)


class DdsSettings(NamedTuple):
    """What applying a ``dds_profile`` sets (variable -> value) and what it says about it."""

    variables: dict[str, str]
    notes: list[str]


def profile_middleware(path: Path) -> str:
    """The DDS a profile file is for, from its root element (raises ValueError if neither)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot().tag
    except ET.ParseError as exc:
        raise ValueError(f"dds_profile {str(path)!r} is not an XML file: {exc}") from exc
    local = root.rsplit("}", 1)[-1]
    if local not in PROFILE_ROOTS:
        raise ValueError(
            f"dds_profile {str(path)!r} is neither a Cyclone DDS (<CycloneDDS>) nor a Fast DDS "
            f"(<dds> or <profiles>) profile: its root element is <{local}>"
        )
    return PROFILE_ROOTS[local]


def cyclonedds_uri(current: str | None, path: Path) -> str:
    """``CYCLONEDDS_URI`` with ``path`` appended (once), after what it already names."""
    uri = path.as_uri()
    current = (current or "").strip()
    if uri in current.split(","):
        return current
    return f"{current},{uri}" if current else uri


def dds_settings(
    environ: Mapping[str, str],
    profile: str,
    launch_file: str | os.PathLike[str] = __file__,
    installed_share: Callable[[], Path] = _installed_share,
) -> DdsSettings:
    """The environment variables that apply ``profile`` to the middleware ``environ`` selects.

    ``profile``: ``none`` or empty (nothing), a name of :data:`DDS_PROFILES`, or a path to an
    XML file. ``RMW_IMPLEMENTATION`` unset: Fast DDS (the default of Humble and Jazzy) and
    Cyclone DDS both get theirs. Raises FileNotFoundError or ValueError for a path that is not
    a profile of the selected middleware.
    """
    profile = profile.strip()
    if not profile or profile.lower() == "none":
        return DdsSettings({}, [])
    rmw = environ.get("RMW_IMPLEMENTATION", "").strip()
    if rmw:
        middlewares = [MIDDLEWARES[rmw]] if rmw in MIDDLEWARES else []
    else:
        middlewares = [FASTDDS, CYCLONEDDS]
    selected = rmw or "RMW_IMPLEMENTATION unset"
    if profile in DDS_PROFILES:
        named = True
        files = {
            m: config_file(DDS_PROFILES[profile][m], launch_file, installed_share)
            for m in middlewares
        }
        if not middlewares:
            note = (
                f"dds_profile {profile}: none for {rmw} (only {sorted(MIDDLEWARES)}): nothing set"
            )
            return DdsSettings({}, [note])
    else:
        named = False
        path = Path(os.path.abspath(os.path.expanduser(profile)))
        if not path.is_file():
            raise FileNotFoundError(
                f"dds_profile {profile!r} is neither one of {sorted(DDS_PROFILES)} nor a file"
            )
        kind = profile_middleware(path)
        if kind not in middlewares:
            raise ValueError(
                f"dds_profile {profile!r} is a {kind} profile but the middleware is {selected}: "
                f"pass a profile for it, or dds_profile:=none"
            )
        files = {kind: path}
    variables: dict[str, str] = {}
    notes: list[str] = []
    for middleware, path in files.items():
        variable = PROFILE_VARIABLES[middleware]
        current = environ.get(variable, "").strip()
        if middleware == CYCLONEDDS:
            value = cyclonedds_uri(current, path)
        elif named and current and Path(os.path.abspath(current)) != path:
            notes.append(
                f"dds_profile {profile}: {variable} already names {current} (Fast DDS reads one "
                f"file): kept; the settings of {path} are not applied"
            )
            continue
        else:
            value = str(path)
        if value != current:
            variables[variable] = value
    localhost = (
        environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "").strip().upper() == "LOCALHOST"
        or environ.get("ROS_LOCALHOST_ONLY", "").strip() == "1"
    )
    if localhost and FASTDDS in files:
        notes.append(
            "ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (or ROS_LOCALHOST_ONLY=1): rmw_fastrtps then "
            "adds its own default transports beside the Fast DDS profile's (two shared-memory "
            "segments, full frames slower); leave the range unset (SUBNET) or SYSTEM_DEFAULT "
            "(docs/ros2.md, Large images)"
        )
    return DdsSettings(variables, notes)


def driver_exit_error(returncode: int | None) -> DriverExitError | None:
    """The error to raise when the driver exited with ``returncode`` (None for a clean exit)."""
    if not returncode:
        return None
    return DriverExitError(
        f"the {NODE_NAME} node exited with code {returncode}: it could not start or it failed "
        "(its FATAL line above says why)"
    )


def is_true(text: str) -> bool:
    """A launch argument as a bool ('true', '1', 'yes', 'on')."""
    return text.strip().lower() in ("true", "1", "yes", "on")


def node_parameters(
    params_file: str | os.PathLike[str],
    model: str = "",
    camera_topic: str = "",
    camera_transport: str = "",
    use_sim_time: bool = False,
) -> list[Any]:
    """The node's ``parameters``: the file, then the overrides the arguments give."""
    overrides: dict[str, Any] = {"use_sim_time": use_sim_time}
    if model:
        overrides["model_path"] = os.path.abspath(os.path.expanduser(model))
    if camera_topic:
        overrides["camera_topic"] = camera_topic
    if camera_transport:
        overrides["camera_transport"] = camera_transport
    return [str(params_file), overrides]


def _launch_setup(context: Any, *args: Any, **kwargs: Any) -> list[Any]:
    from launch.actions import EmitEvent, LogInfo, RegisterEventHandler, SetEnvironmentVariable
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    def on_driver_exit(event: Any, _context: Any) -> list[Any]:
        error = driver_exit_error(event.returncode)
        if error is not None:
            raise error  # launch logs it, shuts down and returns 1
        return [EmitEvent(event=Shutdown(reason=f"the {NODE_NAME} node exited"))]

    actions: list[Any] = []
    dds = dds_settings(os.environ, value("dds_profile"))
    for name, setting in dds.variables.items():
        actions.append(SetEnvironmentVariable(name, setting))
        actions.append(LogInfo(msg=f"dds_profile: {name}={setting}"))
    actions += [LogInfo(msg=note) for note in dds.notes]
    params_file = value("params_file") or str(default_params_file())
    driver = Node(
        package=PACKAGE,
        executable=EXECUTABLE,
        name=NODE_NAME,
        namespace=value("namespace"),
        parameters=node_parameters(
            params_file,
            model=value("model"),
            camera_topic=value("camera_topic"),
            camera_transport=value("camera_transport"),
            use_sim_time=is_true(value("use_sim_time")),
        ),
        arguments=["--ros-args", "--log-level", value("log_level")],
        output="screen",
        emulate_tty=True,
    )
    stop_with_driver = RegisterEventHandler(
        OnProcessExit(target_action=driver, on_exit=on_driver_exit)
    )
    return [*actions, driver, stop_with_driver]


def generate_launch_description() -> Any:
    from launch.actions import DeclareLaunchArgument, OpaqueFunction

    from launch import LaunchDescription

    arguments = [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, (default, description) in ARGUMENTS.items()
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=_launch_setup)])
