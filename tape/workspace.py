"""Scratch arrays an op reuses from one call to the next, one small cache per thread.

Some of the convolution's buffers live only while the op runs: the channels-last copy of
x, the blocks of X̂, the spread-out adjoint of the input gradient. A training step asks
for the same ones, of the same shapes, every time. Made with `np.empty` they are freed
at the end of each call, and a large array's memory may go back to the system and come
back as fresh pages, each of them a page fault when first written (how often depends on
the C library's malloc, not on the tape). Borrowed from here they are the same arrays
from step to step:

    with borrowed(shape, dtype) as room:       # the plain form: room = np.empty(shape, dtype)
        ...                                    # room is this call's alone until the block ends

The rules that keep it correct:

* Only buffers that never escape the op are borrowed. An op's output, what it saves for
  its backward pass and every gradient it returns are fresh arrays, always: a borrowed
  buffer is handed out again after the `with` block, and its numbers change.
* A buffer is out of the cache while borrowed, so two borrowers, even nested ones, never
  share one.
* Each thread has its own cache (`threading.local`): threads never share a buffer.
* Bounded: per thread at most KEEP_PER_SHAPE free buffers of each (shape, dtype) and at
  most KEEP_BYTES in all; when more would be kept, the shapes used least recently are
  dropped first (a new batch size, a new network, replaces the old shapes' buffers).
  A buffer larger than KEEP_BYTES is never kept.

`clear()` drops this thread's buffers; `held_bytes()` says how much they hold.
"""

import threading
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

KEEP_PER_SHAPE = 2          # free buffers kept per (shape, dtype), per thread
KEEP_BYTES = 64 * 2 ** 20   # at most this much kept per thread, in all

_local = threading.local()


def _cache():
    """This thread's free buffers: (shape, dtype) -> list of arrays, least recently used first."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
    return cache


@contextmanager
def borrowed(shape, dtype):
    """An uninitialised array of `shape` and `dtype`, this thread's alone inside the block,
    kept for the next borrower of the same shape and dtype afterwards."""
    key = (tuple(int(n) for n in shape), np.dtype(dtype))
    free = _cache().get(key)
    room = free.pop() if free else np.empty(key[0], key[1])
    try:
        yield room
    finally:
        _give_back(key, room)


def _give_back(key, room):
    if room.nbytes > KEEP_BYTES:
        return
    cache = _cache()
    free = cache.setdefault(key, [])
    cache.move_to_end(key)                      # the most recently used shape
    if len(free) < KEEP_PER_SHAPE:
        free.append(room)
    while held_bytes() > KEEP_BYTES and len(cache) > 1:
        cache.popitem(last=False)               # drop the least recently used shapes
    while held_bytes() > KEEP_BYTES:
        free.pop()                              # this shape's buffers alone are too many


def held_bytes():
    """The bytes this thread's cache holds (its free buffers)."""
    return sum(a.nbytes for free in _cache().values() for a in free)


def clear():
    """Drop this thread's buffers."""
    _cache().clear()
