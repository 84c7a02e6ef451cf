"""The message type store shared by every bag reader and writer in this project.

rosbags ships the standard ROS 2 messages; ``ackermann_msgs`` and a vehicle's own messages are
not built in. They are registered here from ``.msg`` files: the ones bundled under ``msg/`` and
any the user names (``--msg-dir``), in the ``<package>/msg/<Name>.msg`` layout of a ROS package.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from ncp_driver.bags.errors import MessageTypeError

__all__ = ["BUNDLED_MSG_DIR", "MessageTypeError", "make_typestore", "register_msg_dir"]

BUNDLED_MSG_DIR = Path(__file__).parent / "msg"


def register_msg_dir(store: Typestore, root: Path) -> list[str]:
    """Register every ``<pkg>/msg/<Name>.msg`` below ``root``; returns the type names added."""
    root = Path(root)
    if not root.is_dir():
        raise MessageTypeError(
            f"message directory {root} does not exist: give a folder holding <pkg>/msg/*.msg"
        )
    types = {}
    for path in sorted(root.rglob("*.msg")):
        if path.parent.name != "msg":
            raise MessageTypeError(
                f"{path}: .msg files must sit in <package>/msg/ to get a type name"
            )
        name = f"{path.parent.parent.name}/msg/{path.stem}"
        try:
            types.update(get_types_from_msg(path.read_text(encoding="utf-8"), name))
        except Exception as exc:  # rosbags raises its own parser errors
            raise MessageTypeError(f"{path}: cannot parse message definition: {exc}") from exc
    new = {k: v for k, v in types.items() if k not in store.types}
    store.register(new)
    return sorted(new)


def make_typestore(
    extra_msg_dirs: Iterable[Path] = (), store: Stores = Stores.ROS2_HUMBLE
) -> Typestore:
    """A type store with ROS 2's standard messages, ackermann_msgs, and the given ``.msg`` dirs."""
    typestore = get_typestore(store)
    register_msg_dir(typestore, BUNDLED_MSG_DIR)
    for root in extra_msg_dirs:
        register_msg_dir(typestore, Path(root))
    return typestore
