"""What the plan classes (ct.Reconstructor, mri.SliceReconstructor, ptycho.Reconstructor) share:
the progress callable handed to C++, and the exception it raised given back to the caller.

The C++ plan holds the callback for as long as it lives. An exception inside the callable stops
the run (the callback returns False) and is raised again from ``reconstruct()``. It is kept in a
box the callback holds, not on the plan object: a callback holding the plan would make a cycle
through C++ that Python's garbage collector cannot see.
"""

from __future__ import annotations

from typing import Callable, Optional


class Plan:
    """Base of the plan classes: ``self._impl`` is the bound C++ plan, made by the subclass from
    ``self._progress_callback(progress)``."""

    def _progress_callback(self, progress: Optional[Callable]):
        self._raised = raised = []
        if progress is None:
            return None

        def guarded(info):
            try:
                return progress(info)
            except BaseException as e:  # noqa: BLE001 - raised again from reconstruct()
                raised.append(e)
                return False

        return guarded

    def _call(self, method: str, *args):
        result = getattr(self._impl, method)(*args)
        if self._raised:
            error = self._raised.pop()
            self._raised.clear()
            raise error
        return result

    @property
    def options(self):
        return self._impl.options
