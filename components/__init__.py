"""Pulumi ComponentResources of the reliability stack, one module per concern.

`platform.Platform` composes them; `program.program()` is what `__main__.py` and
`sre render` run. Nothing here does anything at import time.
"""
