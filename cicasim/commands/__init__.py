"""Sub-commands of the ``cicasim`` command line, one module each (discovered by ``cli``)."""
