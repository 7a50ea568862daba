"""The grade op: a trace, a student's answers, and the verdicts."""

from typing import Any, Dict, Optional, Union

from ._pb import pb
from .session import _as_bytes, create_params


def _text(value: bytes) -> str:
    """A bytes field as text (invalid UTF-8 replaced)."""
    return value.decode("utf-8", "replace")


def grade_request(trace_text: Union[str, bytes],
                  answers_text: Union[str, bytes], seed: Optional[int],
                  kernel: Optional[Dict[str, Any]]) -> Any:
    """The GradeRequest for a trace and answers."""
    msg = pb.GradeRequest(trace=_as_bytes(trace_text),
                          answers=_as_bytes(answers_text))
    if seed is not None or kernel:
        msg.params.CopyFrom(create_params(seed, kernel, {}))
    return msg


def _item(item: Any) -> Dict[str, Any]:
    """One GradeItem as a dict."""
    return {
        "line": item.line,
        "command": _text(item.command),
        "verdict": pb.GradeItem.Verdict.Name(item.verdict).lower(),
        "points": item.points,
        "max_points": item.max_points,
        "expected": _text(item.expected),
        "given": _text(item.given),
        "why": _text(item.why),
    }


def grade_result(res: Any) -> Dict[str, Any]:
    """A GradeResult as a dict: score, max_score, extra_lines, items."""
    return {
        "score": res.score,
        "max_score": res.max_score,
        "extra_lines": res.extra_lines,
        "items": [_item(i) for i in res.items],
    }
