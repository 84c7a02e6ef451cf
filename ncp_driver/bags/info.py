"""``info``: what a recording holds: format, time span, topics with types, counts and rates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ncp_driver.bags.reader import Recording
from ncp_driver.bags.series import stamp_text
from ncp_driver.bags.takeovers import utc_text

__all__ = ["info_document", "info_table"]


def info_document(
    recording: Recording,
    exact: bool = False,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document of ``info``.

    Rates are a topic's count over the recording's duration, or with ``exact`` (which reads
    every record time, not the data) ``(count - 1)`` over the topic's own first-to-last span.
    """
    count = recording.message_count
    start, end = recording.start_ns, recording.end_ns
    duration = (end - start) * 1e-9 if count else 0.0
    firsts: dict[str, int] = {}
    lasts: dict[str, int] = {}
    if exact:
        names = list(recording.topics)
        stream: Iterable[Any] = recording.raw(names)
        if progress is not None:
            stream = progress(stream, recording.count(names))
        for raw in stream:
            firsts.setdefault(raw.topic, raw.stamp_ns)
            lasts[raw.topic] = raw.stamp_ns
    topics: list[dict[str, Any]] = []
    for info in recording.topics.values():
        rate: float | None
        if exact and info.msgcount > 1:
            span = (lasts[info.name] - firsts[info.name]) * 1e-9
            rate = (info.msgcount - 1) / span if span > 0 else None
        else:
            rate = info.msgcount / duration if duration > 0 else None
        entry: dict[str, Any] = {
            "name": info.name,
            "type": info.msgtype,
            "count": info.msgcount,
            "rate_hz": rate,
        }
        if exact and info.name in firsts:
            entry["first"] = stamp_text(firsts[info.name])
            entry["last"] = stamp_text(lasts[info.name])
        topics.append(entry)
    return {
        "bags": [str(p) for p in recording.paths],
        "files": [str(p) for p in recording.files],
        "formats": recording.formats,
        "messages": count,
        "start": stamp_text(start) if count else None,
        "end": stamp_text(end) if count else None,
        "start_utc": utc_text(start * 1e-9) if count else None,
        "end_utc": utc_text(end * 1e-9) if count else None,
        "duration_s": duration,
        "rates": "per topic over its own first-to-last span" if exact else "count / duration",
        "topics": topics,
    }


def info_table(doc: dict[str, Any]) -> str:
    """The human-readable form of :func:`info_document`."""
    topics = doc["topics"]
    exact = any("first" in t for t in topics)
    width = max([len(t["name"]) for t in topics] + [5])
    twidth = max([len(str(t["type"])) for t in topics] + [4])
    lines = [
        f"bags:      {', '.join(doc['bags'])}",
        f"format:    {', '.join(sorted(set(doc['formats'])))}",
        f"start:     {doc['start'] or '-'} ({doc['start_utc'] or 'empty'})",
        f"end:       {doc['end'] or '-'} ({doc['end_utc'] or 'empty'})",
        f"duration:  {doc['duration_s']:.3f} s",
        f"messages:  {doc['messages']}",
        "",
        f"{'topic':<{width}}  {'type':<{twidth}}  {'count':>8}  {'rate (Hz)':>9}"
        + ("  first record time       last record time" if exact else ""),
    ]
    for t in topics:
        rate = "-" if t["rate_hz"] is None else f"{t['rate_hz']:.2f}"
        line = f"{t['name']:<{width}}  {t['type']!s:<{twidth}}  {t['count']:>8}  {rate:>9}"
        if exact:
            line += f"  {t.get('first', '-'):<23}  {t.get('last', '-')}"
        lines.append(line)
    return "\n".join(lines)
