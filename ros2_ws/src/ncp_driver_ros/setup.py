"""ament_python build of ncp_driver_ros: `colcon build` installs the node, launch and config files.

The launch files live once, in the repository's top-level launch/ folder; this package's
`launch` entry is a relative symlink to it (../../../launch), so a plain `colcon build` copies
them and `colcon build --symlink-install` links them, on Humble and Jazzy alike.
"""

from glob import glob

from setuptools import find_packages, setup

package_name = "ncp_driver_ros"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", sorted(glob("launch/*.launch.py"))),
        ("share/" + package_name + "/config", sorted(glob("config/*.yaml") + glob("config/*.xml"))),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="ncp_driver maintainers",
    maintainer_email="ncp-driver@users.noreply.github.com",
    description="ROS 2 driver node for Neural Circuit Policy steering models (ncp_driver).",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "driver = ncp_driver_ros.entry:main",
        ],
    },
)
