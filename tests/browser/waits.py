"""Waiting on what the page does, never on a fixed delay: the waits every browser test shares.

- :func:`rerun`: around an action (a click, a choice, Enter in a text input, an upload), wait until the
  Streamlit rerun that the action asked for has finished and been drawn.
- :func:`wait_idle`: no script run going on (after a ``goto`` or a ``reload``, or before a picture).
- :func:`wait_still`: the page has stopped moving (scroll position and layout unchanged over several
  animation frames), before a bounding box is read or a screenshot taken.
- :func:`poll`: a value computed in the page (a canvas's drawn pixels, say) once it meets a condition.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Frame, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

TIMEOUT_MS = 60_000

# Counts, in the page, the reruns the browser asks for and the script runs the server reports finished.
# Streamlit's frontend talks to the server over one WebSocket of protobuf messages: a ``BackMsg`` with
# ``rerun_script`` (field 11) asks for a run; a ``ForwardMsg`` with ``script_finished`` (field 6) ends one,
# unless its status is FINISHED_EARLY_FOR_RERUN (2), when another run follows. ``WebSocket.prototype.send``
# is wrapped (it works on the already open socket), and the first send adds a listener to that socket.
# ``applied`` follows ``finished`` one task later, once Streamlit's own handler has taken the message.
_INSTALL_RERUN_COUNTER_JS = """
() => {
  if (window.__jmReruns) return window.__jmReruns.requested;
  const state = { requested: 0, finished: 0, applied: 0, finishedAtRequest: 0 };
  window.__jmReruns = state;
  const fields = (bytes) => {
    const out = [];
    let i = 0;
    const varint = () => {
      let value = 0, scale = 1, b;
      do { b = bytes[i++]; value += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80 && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint();
      const field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) { out.push([field, varint()]); continue; }
      out.push([field, null]);
      if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else if (wire === 2) { const length = varint(); i += length; }
      else break;
    }
    return out;
  };
  const bytesOf = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
    : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
  const sockets = new WeakSet();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!sockets.has(this)) {
      sockets.add(this);
      this.addEventListener('message', (event) => {
        const bytes = bytesOf(event.data);
        if (!bytes || !fields(bytes).some(([field, value]) => field === 6 && value !== 2)) return;
        state.finished += 1;
        const channel = new MessageChannel();
        channel.port1.onmessage = () => { state.applied += 1; channel.port1.close(); };
        channel.port2.postMessage(null);
      });
    }
    const bytes = bytesOf(data);
    if (bytes && fields(bytes).some(([field]) => field === 11)) {
      state.requested += 1;
      state.finishedAtRequest = state.finished;
    }
    return send.call(this, data);
  };
  return 0;
}
"""

# A rerun was asked for since ``mark``, a run finished after the last request, Streamlit has taken that
# message, and the page shows no run going on.
_RERUN_DONE_JS = """
(mark) => {
  const s = window.__jmReruns;
  if (!s || s.requested <= mark || s.finished <= s.finishedAtRequest || s.applied < s.finished) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]');
}
"""

_STILL_JS = """
([token, frames]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const signature = JSON.stringify([
    main ? [main.scrollTop, main.scrollLeft, main.scrollHeight, main.clientHeight, main.clientWidth,
            main.getElementsByTagName('*').length] : null,
    window.scrollX, window.scrollY, window.innerWidth, window.innerHeight, document.fonts.status,
  ]);
  const seen = (window.__jmStill ||= {});
  const last = seen[token];
  seen[token] = { signature, frames: last && last.signature === signature ? last.frames + 1 : 0 };
  return seen[token].frames >= frames;
}
"""

_tokens = itertools.count()


def wait_idle(page: Page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until no script run is going on: the app says ``notRunning`` and its status widget is gone.

    Right after an action the rerun may not have started yet: wrap the action in :func:`rerun` instead.
    """
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)


@contextmanager
def rerun(page: Page, timeout: float = TIMEOUT_MS) -> Iterator[None]:
    """Around an action that makes Streamlit rerun: after the block, wait until that rerun has finished.

    The page must be idle first (it is waited for) and stay on the same document (no ``goto`` in the block).
    Fails when the block asked for no rerun, or none finished within ``timeout``.
    """
    wait_idle(page, timeout)
    mark = page.evaluate(_INSTALL_RERUN_COUNTER_JS)
    yield
    try:
        page.wait_for_function(_RERUN_DONE_JS, arg=mark, timeout=timeout)
    except PlaywrightTimeoutError as exc:
        counts = page.evaluate("() => window.__jmReruns || null")
        raise AssertionError(
            f"no Streamlit rerun finished after the action within {timeout / 1000:.0f} s: {counts}"
        ) from exc


def wait_still(page: Page, frames: int = 10, timeout: float = TIMEOUT_MS) -> None:
    """Wait until the page stops moving: scroll position, size and layout of the main area unchanged for
    ``frames`` animation frames in a row (fonts loaded), e.g. before a screenshot or reading a bounding box."""
    page.wait_for_function(_STILL_JS, arg=[next(_tokens), frames], polling="raf", timeout=timeout)


def poll(target: Page | Frame, fn: str, until: str, arg: Any = None, timeout: float = TIMEOUT_MS) -> Any:
    """``fn(arg)`` (JavaScript, evaluated in ``target``) once ``until(value)`` holds.

    A throw of ``fn`` counts as not yet. On timeout, returns the last value, for the caller's assertion to
    report.
    """
    predicate = f"""(arg) => {{
      let value;
      try {{ value = ({fn})(arg); }} catch (error) {{ return null; }}
      return ({until})(value) ? {{ value }} : null;
    }}"""
    try:
        return target.wait_for_function(predicate, arg=arg, timeout=timeout).json_value()["value"]
    except PlaywrightTimeoutError:
        return target.evaluate(fn, arg)
