"""payfix: drafts safe, grounded replies for buyers stuck at payment."""

__version__ = "0.1.0"
