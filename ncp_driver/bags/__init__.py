"""Bag tools (rosbags): inspect, extract, build training sets, count takeovers, lateral discomfort."""

from __future__ import annotations
