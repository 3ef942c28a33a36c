"""Running bridge handlers locally: the ``invoke`` and ``serve`` commands and their parts."""
