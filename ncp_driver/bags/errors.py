"""The bag tools' exception types. Messages name the file, the problem and what to do next."""

from __future__ import annotations

from ncp_driver.errors import MissingInputError, NcpDriverError, UsageError

__all__ = [
    "BagError",
    "IncompleteBagError",
    "MessageTypeError",
    "MissingBagError",
    "OutputExistsError",
    "TopicError",
]


class BagError(NcpDriverError):
    """A bag that cannot be read, or a request it cannot answer."""


class MessageTypeError(BagError):
    """A message definition that cannot be found or parsed."""


class MissingBagError(BagError, MissingInputError):
    """A bag (or a message folder) that is not there."""


class TopicError(BagError, UsageError):
    """A topic that is missing, ambiguous or of the wrong type; the message lists what the bag
    has and the flag that names one (a usage error)."""


class OutputExistsError(BagError, UsageError):
    """An output that exists already and would be overwritten without ``--force``."""


class IncompleteBagError(BagError):
    """A bag that gave fewer (or more) messages than it declares: damaged or cut short."""
