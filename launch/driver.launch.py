"""Start the ncp_driver node.

From the checkout (workspace built and sourced)::

    ros2 launch launch/driver.launch.py model:=/path/to/model.onnx

Installed with the package::

    ros2 launch ncp_driver_ros driver.launch.py model:=/path/to/model.onnx

This is the only copy of the file: ros2_ws/src/ncp_driver_ros/launch is a symlink to this
folder and the package's setup.py installs it from there.

Arguments: ``model``, ``params_file`` (default: the package's config/driver.yaml),
``camera_topic``, ``camera_transport``, ``namespace``, ``use_sim_time``, ``log_level``. An
empty ``model``/``camera_topic``/``camera_transport`` leaves the parameter file's value. The
launch shuts down when the driver exits (e.g. its model did not load).

The helpers above ``generate_launch_description`` are plain Python (tested without ROS); the
launch modules are imported inside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PACKAGE = "ncp_driver_ros"
EXECUTABLE = "driver"
NODE_NAME = "ncp_driver"
PARAMS_FILE = "driver.yaml"

ARGUMENTS: dict[str, tuple[str, str]] = {
    "model": ("", "Exported ONNX model (sets model_path; '' = the parameter file's)."),
    "params_file": ("", "Parameter file ('' = the package's config/driver.yaml)."),
    "camera_topic": ("", "Camera topic ('' = the parameter file's)."),
    "camera_transport": ("", "raw or compressed ('' = the parameter file's)."),
    "namespace": ("", "Namespace of the node and its relative topics."),
    "use_sim_time": ("false", "Follow /clock (true when replaying a bag)."),
    "log_level": ("info", "Log level of the node: debug, info, warn, error, fatal."),
}


def default_params_file(launch_file: str | os.PathLike[str] = __file__) -> Path:
    """The config/driver.yaml that belongs with this launch file.

    Installed, the file sits in ``<share>/ncp_driver_ros/launch/`` (a copy or a symlink: the path
    is not resolved) and the parameters in ``<share>/ncp_driver_ros/config/``. In the checkout it
    sits in ``launch/`` and the parameters in ``ros2_ws/src/ncp_driver_ros/config/``. Failing
    both, the installed package's share directory.
    """
    here = Path(os.path.abspath(launch_file)).parent
    candidates = [
        here.parent / "config" / PARAMS_FILE,
        here.parent / "ros2_ws" / "src" / PACKAGE / "config" / PARAMS_FILE,
    ]
    if here.parent.name != PACKAGE:
        candidates.pop(0)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE)) / "config" / PARAMS_FILE
    except Exception as exc:  # PackageNotFoundError or no ament_index_python
        raise FileNotFoundError(
            f"cannot find {PARAMS_FILE} next to {launch_file} nor an installed {PACKAGE}: "
            "build and source the workspace, or pass params_file:=/path/to/driver.yaml"
        ) from exc


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
    from launch.actions import EmitEvent, RegisterEventHandler
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

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
        OnProcessExit(
            target_action=driver,
            on_exit=[EmitEvent(event=Shutdown(reason="the ncp_driver node exited"))],
        )
    )
    return [driver, stop_with_driver]


def generate_launch_description() -> Any:
    from launch.actions import DeclareLaunchArgument, OpaqueFunction

    from launch import LaunchDescription

    arguments = [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, (default, description) in ARGUMENTS.items()
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=_launch_setup)])
