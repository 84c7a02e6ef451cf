"""Full-resolution frames through the driver node on a real ROS 2: frames lost and latency.

Needs a sourced ROS 2 with rmw_cyclonedds_cpp or rmw_fastrtps_cpp (``RMW_IMPLEMENTATION``;
not a test, nothing here runs in the suite)::

    python benchmarks/ros2_benchmark.py                 # 1920 x 1208 rgb8, 30 Hz, 8 s a case
    python benchmarks/ros2_benchmark.py --seconds 4 --json out.json

Each case starts the driver node (the default model, CPU) and a camera process, each in its
own process, on a DDS domain of their own. The camera publishes raw rgb8 frames stamped at
publish time; the camera process also listens to the commands, so "latency" is publish to
command received (the camera's serialisation and send, the node's receive, read,
preprocessing, model, limits and publish, plus both DDS hops). Frames published in the first
second (discovery) are not counted.

Cases, in one run:

- ``before``: the middleware's defaults (the DDS profile variables as found) and the node's
  old typed subscription (rclpy builds an Image message, the pipeline reads its
  ``array.array`` data), glibc's malloc as it comes;
- ``profile``: the shipped DDS profile for the selected middleware, applied by the launch
  file's own code (``dds_settings`` in launch/driver.launch.py: Cyclone DDS
  config/cyclonedds_large_images.xml through ``CYCLONEDDS_URI``, Fast DDS
  config/fastdds_large_images.xml through ``FASTRTPS_DEFAULT_PROFILES_FILE``, both processes),
  typed subscription;
- ``raw``: the profile and the raw subscription (CDR bytes, pixels viewed in place);
- ``after``: as ``raw``, with the node's malloc settings (``ncp_driver_ros.allocator``, what
  the node's ``main`` applies): the node as shipped;
- ``small``: as ``after`` with a 64 x 48 frame: what this machine's scheduling and DDS cost
  without the size, the floor the full-size figures are to be read against;
- ``dds only``: as ``after``, but the node replaced by a raw reader that sends each frame's
  stamp straight back (no pipeline): the transport's share of the latency.

each of the first four with a BEST_EFFORT camera writer (sensor-data QoS, as camera drivers
publish) and a RELIABLE one. The node's camera reader is best effort with depth 1: at 30 Hz and
a few ms per frame nothing is ever replaced in that queue, so every lost frame is lost beyond
the depth-1 semantics. ``faults/frame``: the node process's minor page faults per command while
the camera ran. Targets (after, best effort): no frame lost, median <= 5 ms, p99 <= 10 ms.

The kernel caps socket buffers at ``net.core.rmem_max`` / ``wmem_max`` (printed); raise them
with ``sysctl -w net.core.rmem_max=16777216 net.core.wmem_max=16777216`` where allowed (Cyclone
DDS). Fast DDS's profile needs ``ROS_AUTOMATIC_DISCOVERY_RANGE`` other than LOCALHOST (with
LOCALHOST rmw_fastrtps adds its own transports beside the profile's): a LOCALHOST found in the
environment is replaced by SUBNET for every Fast DDS case (printed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ROS_PACKAGE = REPO / "ros2_ws" / "src" / "ncp_driver_ros"
MODEL = REPO / "models" / "ncp_synthetic.onnx"  # the default model (CPU, onnxruntime)
LAUNCH_FILE = REPO / "launch" / "driver.launch.py"
# (name, DDS profile, raw subscription, the node's malloc settings)
CASES = (
    ("before", False, False, False),
    ("profile", True, False, False),
    ("raw", True, True, False),
    ("after", True, True, True),
)
FASTDDS_RMWS = ("rmw_fastrtps_cpp", "rmw_fastrtps_dynamic_cpp")
WARMUP_S = 1.0


def _launch_module() -> Any:
    """launch/driver.launch.py's plain-Python helpers (its launch imports are inside functions)."""
    spec = importlib.util.spec_from_file_location("ncp_driver_launch_driver", LAUNCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile_environment(env: dict[str, str]) -> dict[str, str]:
    """The variables the launch file sets for ``dds_profile:=large_images`` in ``env``."""
    settings = _launch_module().dds_settings(env, "large_images", LAUNCH_FILE)
    return dict(settings.variables)


# --- the driver (child process) ------------------------------------------------------------


def serve_driver(raw: bool, tuned: bool) -> int:
    """The node; with ``raw`` False, with the typed camera subscription it had before; with
    ``tuned``, after the malloc settings its ``main`` applies."""
    sys.path.insert(0, str(ROS_PACKAGE))
    if tuned:
        from ncp_driver_ros.allocator import keep_freed_memory

        print(keep_freed_memory(), file=sys.stderr)
    import rclpy
    from ncp_driver_ros import driver_node
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import Image

    class TypedDriver(driver_node.DriverNode):
        """The node as it was: rclpy deserialises an Image, the pipeline reads its fields."""

        def __init__(self) -> None:
            super().__init__()
            self.destroy_subscription(self._camera_sub)
            self._camera_sub = self.create_subscription(
                Image,
                self._settings.camera,
                lambda msg: self._on_frame(msg, self._now()),
                driver_node.CAMERA_QOS,
            )

    args = ["driver", "--ros-args", "-p", f"model_path:={MODEL}", "-p", "warmup_runs:=5"]
    rclpy.init(args=args)
    node = driver_node.DriverNode() if raw else TypedDriver()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def serve_echo() -> int:
    """DDS alone: a raw camera reader that sends each frame's stamp straight back as a command
    (no pipeline): the transport's share of the node's latency (with the node's malloc
    settings)."""
    sys.path.insert(0, str(ROS_PACKAGE))
    from ncp_driver_ros.allocator import keep_freed_memory

    keep_freed_memory()
    import rclpy
    from ackermann_msgs.msg import AckermannDriveStamped
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from ncp_driver.images import read_image

    rclpy.init()
    node = rclpy.create_node("bench_echo")
    reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    out = node.create_publisher(AckermannDriveStamped, "ncp/steering_cmd", reliable)
    camera_qos = QoSProfile(depth=1, reliability=qos_profile_sensor_data.reliability)

    def echo(data: bytes) -> None:
        msg = AckermannDriveStamped()
        stamp = read_image(data, "sensor_msgs/msg/Image").header.stamp
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp.sec, stamp.nanosec
        out.publish(msg)

    node.create_subscription(Image, "camera/image_raw", echo, camera_qos, raw=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


# --- the camera and listener (child process) -----------------------------------------------


def serve_camera(seconds: float, rate: float, height: int, width: int, reliable: bool) -> int:
    """Publish frames for ``seconds`` and print one JSON line of what came back."""
    import numpy as np
    import rclpy
    from ackermann_msgs.msg import AckermannDriveStamped
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import Image
    from std_msgs.msg import Bool

    rclpy.init()
    camera_node = rclpy.create_node("bench_camera")
    listen_node = rclpy.create_node("bench_listener")
    qos = (
        QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        if reliable
        else qos_profile_sensor_data
    )
    camera = camera_node.create_publisher(Image, "camera/image_raw", qos)
    auto = camera_node.create_publisher(Bool, "vehicle/autonomous", 10)
    received: list[tuple[int, float]] = []
    diagnostics: dict[str, str] = {}

    def on_command(msg: Any) -> None:
        received.append(
            (msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec, time.time())
        )

    def on_diagnostics(msg: Any) -> None:
        for status in msg.status:
            if status.name.endswith(": steering"):
                diagnostics.update({kv.key: kv.value for kv in status.values})

    listen_node.create_subscription(AckermannDriveStamped, "ncp/steering_cmd", on_command, 100)
    listen_node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    executor = SingleThreadedExecutor()
    executor.add_node(listen_node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()

    deadline = time.monotonic() + 60.0
    while camera.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    print("publishing", flush=True)  # (the orchestrator reads the node's page faults now)
    ramp = np.linspace(40, 200, width, dtype=np.float32)[None, :, None]
    pixels = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    frame = bytearray(
        serialize_message(
            Image(
                height=height, width=width, encoding="rgb8", step=width * 3, data=pixels.tobytes()
            )
        )
    )
    sent: list[int] = []
    period = 1.0 / rate
    start = time.monotonic()
    next_at = start
    count = round(seconds * rate)
    for _ in range(count):
        auto.publish(Bool(data=True))
        stamp_ns = time.time_ns()
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        struct.pack_into("<iI", frame, 4, sec, nanosec)
        camera.publish(bytes(frame))
        sent.append(stamp_ns)
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
    time.sleep(1.0)  # the last commands and a diagnostics period
    executor.shutdown(timeout_sec=1.0)
    spinner.join(timeout=5.0)
    counted = set(sent[round(WARMUP_S * rate) :])
    latencies = [(recv - stamp * 1e-9) * 1000.0 for stamp, recv in received if stamp in counted]
    print(
        json.dumps(
            {
                "sent": len(counted),
                "commands": len(latencies),
                "latencies_ms": latencies,
                "node_processing_median_ms": diagnostics.get("latency_processing_median_ms"),
                "node_processing_p99_ms": diagnostics.get("latency_processing_p99_ms"),
                "publish_rate_hz": count / (time.monotonic() - start - 1.0),
            }
        ),
        flush=True,
    )
    camera_node.destroy_node()
    listen_node.destroy_node()
    rclpy.try_shutdown()
    return 0


# --- the orchestrator ----------------------------------------------------------------------


def conversion_cost(height: int, width: int, repeats: int = 20) -> tuple[float, float]:
    """Median ms to get a frame's pixels from its CDR bytes: rclpy's typed message (what a
    typed subscription does, then the pipeline's view of ``data``) vs ``read_image``."""
    import numpy as np
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    from ncp_driver.images import read_image

    pixels = np.zeros(height * width * 3, np.uint8)
    data = serialize_message(
        Image(height=height, width=width, encoding="rgb8", step=width * 3, data=pixels.tobytes())
    )

    def typed() -> None:
        np.frombuffer(deserialize_message(data, Image).data, np.uint8)

    def raw() -> None:
        read_image(data, "sensor_msgs/msg/Image")

    def median_ms(fn: Any) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000.0)
        return statistics.median(times)

    return median_ms(typed), median_ms(raw)


def _sysctl(name: str) -> str:
    try:
        return Path("/proc/sys/net/core", name).read_text().strip()
    except OSError:
        return "?"


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = q * (len(ordered) - 1)
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def _minor_faults(pid: int) -> int:
    """A process's minor page faults so far (/proc/PID/stat, field 10)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[7])


def case_environment(profile: bool, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of one case's processes: a domain of its own, the profile if asked."""
    env = dict(os.environ if base is None else base)
    env["ROS_DOMAIN_ID"] = str(random.randint(201, 230))
    env["PYTHONPATH"] = f"{ROS_PACKAGE}{os.pathsep}{env.get('PYTHONPATH', '')}"
    fastdds = env.get("RMW_IMPLEMENTATION", "") in FASTDDS_RMWS
    if fastdds and env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "").upper() == "LOCALHOST":
        env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SUBNET"
    if profile:
        env.update(profile_environment(env))
    return env


def run_case(
    name: str,
    profile: bool,
    raw: bool,
    tuned: bool,
    reliable: bool,
    args: argparse.Namespace,
    size: tuple[int, int] | None = None,
    serve: str = "",
) -> dict[str, Any]:
    env = case_environment(profile)
    me = [sys.executable, str(Path(__file__).resolve())]
    serve_args = ["--serve-echo"] if serve == "echo" else [
        "--serve-driver", "raw" if raw else "typed", *(["--tuned"] if tuned else []),
    ]  # fmt: skip
    driver = subprocess.Popen(
        [*me, *serve_args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    height, width = size or (args.height, args.width)
    faults_at_start = -1
    try:
        camera = subprocess.Popen(
            [
                *me, "--serve-camera", "--seconds", str(args.seconds), "--rate", str(args.rate),
                "--height", str(height), "--width", str(width),
            ]
            + (["--reliable"] if reliable else []),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert camera.stdout is not None
        first = camera.stdout.readline()
        if first.strip() == "publishing":
            faults_at_start = _minor_faults(driver.pid)
        try:
            rest, errors = camera.communicate(timeout=args.seconds + 120)
        except subprocess.TimeoutExpired:
            camera.kill()
            rest, errors = camera.communicate()
        faults = _minor_faults(driver.pid) - faults_at_start if faults_at_start >= 0 else None
    finally:
        driver.send_signal(signal.SIGINT)
        try:
            driver.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.communicate()
    lines = [line for line in (first + rest).splitlines() if line.startswith("{")]
    if not lines:  # (the figures count even if the process then failed to tear down)
        raise RuntimeError(f"camera process failed ({camera.returncode}): {errors[-2000:]}")
    result = json.loads(lines[-1])
    latencies = result.pop("latencies_ms")
    result.update(
        case=name,
        writer="reliable" if reliable else "best_effort",
        lost=result["sent"] - result["commands"],
        lost_share=1.0 - result["commands"] / result["sent"] if result["sent"] else float("nan"),
        median_ms=statistics.median(latencies) if latencies else float("nan"),
        p99_ms=_quantile(latencies, 0.99),
        node_faults_per_frame=(
            faults / result["commands"] if faults is not None and result["commands"] else None
        ),
    )
    return result


def _row(r: dict[str, Any], note: str = "") -> str:
    node = (
        f"{r['node_processing_median_ms']}/{r['node_processing_p99_ms']}"
        if r.get("node_processing_median_ms") is not None
        else "-"
    )
    faults = r.get("node_faults_per_frame")
    faults_text = f"{faults:.0f}" if faults is not None else "?"
    return (
        f"{r['case']:8} {r['writer']:12} {r['sent']:5d} {r['commands']:5d} "
        f"{r['lost']:5d} {100 * r['lost_share']:5.1f}% {r['median_ms']:9.2f} "
        f"{r['p99_ms']:7.2f} {node:>21} {faults_text:>12}" + (f"   {note}" if note else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="frames published per case")
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second")
    parser.add_argument("--height", type=int, default=1208)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--serve-driver", choices=("raw", "typed"), help=argparse.SUPPRESS)
    parser.add_argument("--tuned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-camera", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reliable", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_driver:
        return serve_driver(args.serve_driver == "raw", args.tuned)
    if args.serve_echo:
        return serve_echo()
    if args.serve_camera:
        return serve_camera(args.seconds, args.rate, args.height, args.width, args.reliable)
    if not os.environ.get("AMENT_PREFIX_PATH"):
        print("ros2_benchmark: source a ROS 2 installation first", file=sys.stderr)
        return 2
    rmw = os.environ.get("RMW_IMPLEMENTATION", "(default)")
    frame_mb = args.height * args.width * 3 / 1e6
    print(
        f"ros2_benchmark: {args.width} x {args.height} rgb8 ({frame_mb:.1f} MB) at "
        f"{args.rate:g} Hz, {args.seconds:g} s a case; RMW {rmw}; "
        f"rmem_max {_sysctl('rmem_max')} B, wmem_max {_sysctl('wmem_max')} B; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    found = os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "(unset)")
    used = case_environment(False).get("ROS_AUTOMATIC_DISCOVERY_RANGE", "(unset)")
    profile_vars = profile_environment(case_environment(False))
    print(
        "profile: "
        + (", ".join(f"{k}={v}" for k, v in profile_vars.items()) or "(none for this RMW)")
        + f"; ROS_AUTOMATIC_DISCOVERY_RANGE {found}"
        + (f" -> {used}" if used != found else "")
    )
    typed_ms, raw_ms = conversion_cost(args.height, args.width)
    print(
        f"message to pixels in the node, one frame: typed (rclpy Image) {typed_ms:.2f} ms, raw "
        f"(read_image on the CDR bytes) {raw_ms:.3f} ms ({typed_ms / raw_ms:.0f}x)"
    )
    print(
        f"{'case':8} {'writer':12} {'sent':>5} {'cmds':>5} {'lost':>5} {'lost%':>6} "
        f"{'median ms':>9} {'p99 ms':>7} {'node proc med/p99 ms':>21} {'faults/frame':>12}"
    )
    results = []
    for reliable in (False, True):
        for name, profile, raw, tuned in CASES:
            r = run_case(name, profile, raw, tuned, reliable, args)
            results.append(r)
            print(_row(r), flush=True)
    # The machine's own floor: the same path with a 64 x 48 frame (30 kB less than one datagram).
    small = run_case("small", True, True, True, False, args, size=(48, 64))
    print(_row(small, "(64 x 48 rgb8, the after settings: the floor)"), flush=True)
    results.append(small)
    echo = run_case("dds only", True, True, True, False, args, serve="echo")
    print(_row(echo, "(full size, the after settings, no pipeline: the transport)"), flush=True)
    results.append(echo)
    by = {(r["case"], r["writer"]): r for r in results}
    before, after = by[("before", "best_effort")], by[("after", "best_effort")]
    ok = after["lost"] == 0 and after["median_ms"] <= 5.0 and after["p99_ms"] <= 10.0
    print(
        f"after vs before (best effort): lost {after['lost']} vs {before['lost']} of "
        f"{after['sent']}; median {after['median_ms']:.2f} vs {before['median_ms']:.2f} ms "
        f"({before['median_ms'] / after['median_ms']:.1f}x); p99 {after['p99_ms']:.2f} vs "
        f"{before['p99_ms']:.2f} ms; targets (0 lost, median <= 5 ms, p99 <= 10 ms): "
        + ("met" if ok else "NOT met")
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
