"""Replay a bag through the ncp_driver node inside ROS 2 and record what it publishes.

    ros2 launch launch/replay.launch.py bag:=/data/drive_0001 model:=/path/to/model.onnx
    ros2 launch ncp_driver_ros replay.launch.py bag:=... model:=... output:=/data/replay_0001

``ros2 bag play`` plays only the driver's inputs (the camera, the auto-mode flag, and the speed
topic when one is given), so outputs recorded on the car do not mix with the new ones. It
publishes /clock from the bag; the driver (driver.launch.py, included) runs on that sim time.
``ros2 bag record --use-sim-time`` records the driver's outputs and the auto-mode flag into
``output``. When the bag has played, the launch waits ``linger_s`` for the last outputs and
shuts everything down; the recorder closes its bag on the way.

The ROS-free replay (``ncp-replay``) runs the same pipeline without ROS, frame by frame; this
one checks the node in ROS timing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ARGUMENTS: dict[str, tuple[str | None, str]] = {
    "bag": (None, "The bag (folder or file) to play. Required."),
    "model": ("", "Exported ONNX model (sets model_path; '' = the parameter file's)."),
    "params_file": ("", "Parameter file ('' = the package's config/driver.yaml)."),
    "camera_topic": ("", "Camera topic in the bag ('' = the transport's default)."),
    "camera_transport": ("raw", "raw or compressed."),
    "speed_topic": ("", "Speed topic to play too, for max_lateral_accel ('' = none)."),
    "output": ("", "Bag to write ('' = the input's name + '_ncp_replay', beside it)."),
    "storage": ("", "Storage plugin of the output: sqlite3 or mcap ('' = the distro default)."),
    "rate": ("1.0", "Playback rate."),
    "delay_s": ("2.0", "Seconds before playback starts (the driver loads and subscribes)."),
    "linger_s": ("2.0", "Seconds to keep recording after the bag has played."),
}


def _topics() -> Any:
    try:
        from ncp_driver import topics
    except ImportError as exc:  # the core is not in ROS's Python
        raise ImportError(
            "replay.launch.py needs the ncp_driver package in the Python that ROS uses: "
            "pip install it (docs/ros2.md)"
        ) from exc
    return topics


def absolute(name: str) -> str:
    return name if name.startswith("/") else "/" + name


def camera_topic(topic: str, transport: str) -> str:
    """The camera topic the driver listens to (the argument, or the transport's default)."""
    topics = _topics()
    if topic:
        return absolute(topic)
    return absolute(topics.CAMERA_COMPRESSED if transport == "compressed" else topics.CAMERA_RAW)


def play_topics(camera: str, speed_topic: str = "") -> list[str]:
    """What ``ros2 bag play`` publishes: the driver's inputs only."""
    topics = _topics()
    played = [absolute(camera), absolute(topics.AUTO_MODE)]
    if speed_topic:
        played.append(absolute(speed_topic))
    return played


def record_topics() -> list[str]:
    """What ``ros2 bag record`` writes: the driver's outputs and the auto-mode flag."""
    topics = _topics()
    names = (topics.COMMAND, topics.CURVATURE, topics.NEURONS, topics.DIAGNOSTICS, topics.AUTO_MODE)
    return [absolute(name) for name in names]


def output_path(bag: str, output: str = "") -> str:
    """The output bag: the argument, or ``<bag>_ncp_replay`` beside the input."""
    if output:
        return os.path.abspath(os.path.expanduser(output))
    base = os.path.abspath(os.path.expanduser(bag)).rstrip("/")
    stem = base[: -len(Path(base).suffix)] if Path(base).suffix in (".db3", ".mcap") else base
    return stem + "_ncp_replay"


def play_command(bag: str, played: list[str], rate: str, delay_s: str) -> list[str]:
    """``ros2 bag play`` with /clock, on Humble and Jazzy alike."""
    return [
        "ros2", "bag", "play", os.path.abspath(os.path.expanduser(bag)),
        "--clock", "--rate", rate, "--delay", delay_s, "--topics", *played,
    ]  # fmt: skip


def record_command(output: str, recorded: list[str], storage: str = "") -> list[str]:
    """``ros2 bag record`` on sim time (topics as positional arguments: Humble and Jazzy)."""
    command = ["ros2", "bag", "record", "--use-sim-time", "-o", output]
    if storage:
        command += ["-s", storage]
    return command + recorded


def _launch_setup(context: Any, *args: Any, **kwargs: Any) -> list[Any]:
    from launch.actions import (
        EmitEvent,
        ExecuteProcess,
        IncludeLaunchDescription,
        RegisterEventHandler,
        TimerAction,
    )
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown
    from launch.launch_description_sources import PythonLaunchDescriptionSource
    from launch.substitutions import LaunchConfiguration

    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    camera = camera_topic(value("camera_topic"), value("camera_transport"))
    driver = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(Path(__file__).with_name("driver.launch.py"))),
        launch_arguments={
            "model": value("model"),
            "params_file": value("params_file"),
            "camera_topic": camera,
            "camera_transport": value("camera_transport"),
            "use_sim_time": "true",
        }.items(),
    )
    output = output_path(value("bag"), value("output"))
    recorder = ExecuteProcess(
        cmd=record_command(output, record_topics(), value("storage")), output="screen"
    )
    player = ExecuteProcess(
        cmd=play_command(
            value("bag"), play_topics(camera, value("speed_topic")), value("rate"), value("delay_s")
        ),
        output="screen",
    )
    finish = RegisterEventHandler(
        OnProcessExit(
            target_action=player,
            on_exit=[
                TimerAction(
                    period=float(value("linger_s")),
                    actions=[EmitEvent(event=Shutdown(reason="the bag has played"))],
                )
            ],
        )
    )
    print(f"[replay.launch.py] recording to {output}", file=sys.stderr)
    return [driver, recorder, player, finish]


def generate_launch_description() -> Any:
    from launch.actions import DeclareLaunchArgument, OpaqueFunction

    from launch import LaunchDescription

    arguments = []
    for name, (default, description) in ARGUMENTS.items():
        if default is None:
            arguments.append(DeclareLaunchArgument(name, description=description))
        else:
            arguments.append(
                DeclareLaunchArgument(name, default_value=default, description=description)
            )
    return LaunchDescription([*arguments, OpaqueFunction(function=_launch_setup)])
